"""Exact sRGB <-> CIELAB (D65) conversion on float arrays.

OpenCV's uint8 Lab scales L* to 0..255 and offsets a*, b* by 128; ITA needs true CIELAB
(L* in 0..100, signed b*), so the conversion is written out here from the sRGB (IEC
61966-2-1) and CIE 1976 definitions.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

# D65 reference white, 2-degree observer (XYZ scaled so that Yn = 1).
_WHITE = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_EPS = 216 / 24389  # CIE epsilon (6/29)^3
_KAPPA = 24389 / 27


def srgb_to_lab(rgb: ArrayLike) -> NDArray[np.float64]:
    """Convert sRGB to CIELAB.

    Args:
        rgb: Array of shape ``(..., 3)``; ``uint8`` values are read as 0..255, floats as 0..1.

    Returns:
        Float64 array of shape ``(..., 3)``: L* in 0..100, a* and b* signed.
    """
    arr = np.asarray(rgb)
    if arr.shape[-1:] != (3,):
        raise ValueError(f"expected shape (..., 3), got {arr.shape}")
    x = arr.astype(np.float64) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float64)
    linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPS, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return np.asarray(lab, dtype=np.float64)


def lab_to_srgb(lab: ArrayLike) -> NDArray[np.float64]:
    """Convert CIELAB to sRGB in 0..1, clipped to the gamut.

    Args:
        lab: Array of shape ``(..., 3)`` (L*, a*, b*).

    Returns:
        Float64 array of shape ``(..., 3)`` with values in [0, 1].
    """
    lab_arr = np.asarray(lab, dtype=np.float64)
    if lab_arr.shape[-1:] != (3,):
        raise ValueError(f"expected shape (..., 3), got {lab_arr.shape}")
    fy = (lab_arr[..., 0] + 16) / 116
    fx = fy + lab_arr[..., 1] / 500
    fz = fy - lab_arr[..., 2] / 200
    f = np.stack([fx, fy, fz], axis=-1)
    xyz = np.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA) * _WHITE
    linear = np.clip(xyz @ _XYZ_TO_RGB.T, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.asarray(np.clip(srgb, 0.0, 1.0), dtype=np.float64)


def _srgb_lut() -> NDArray[np.float32]:
    x = np.arange(256, dtype=np.float64) / 255.0
    linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    return linear.astype(np.float32)


# Linear RGB of each 8-bit sRGB value: the one decoding table ITA and colour constancy share.
LINEAR_LUT = _srgb_lut()
_Y_ROW = _RGB_TO_XYZ[1].astype(np.float32)
_Z_ROW = (_RGB_TO_XYZ[2] / _WHITE[2]).astype(np.float32)


def _f(t: NDArray[np.float32]) -> NDArray[np.float32]:
    out = np.cbrt(t)
    small = t <= _EPS
    if small.any():
        out[small] = (_KAPPA * t[small] + 16) / 116
    return out


def lightness_and_b(rgb8: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """CIELAB L* and b* of 8-bit sRGB pixels, fast (float32, a lookup table, no a*).

    ITA needs only L* (from Y) and b* (from Y and Z), so X and a* are skipped. Agrees with
    :func:`srgb_to_lab` to about 1e-4.

    Args:
        rgb8: uint8 array of shape ``(..., 3)``.

    Returns:
        ``(L*, b*)``, float32 arrays of shape ``rgb8.shape[:-1]``.
    """
    if rgb8.dtype != np.uint8 or rgb8.shape[-1:] != (3,):
        raise ValueError(f"expected uint8 (..., 3), got {rgb8.dtype} {rgb8.shape}")
    r, g, b = (LINEAR_LUT[rgb8[..., i]] for i in range(3))
    fy = _f(_Y_ROW[0] * r + _Y_ROW[1] * g + _Y_ROW[2] * b)
    fz = _f(_Z_ROW[0] * r + _Z_ROW[1] * g + _Z_ROW[2] * b)
    return 116 * fy - 16, 200 * (fy - fz)
