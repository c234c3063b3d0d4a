"""Diagnosis vocabulary: source labels -> canonical code -> superclass (SPEC section 2).

Superclasses: ``melanocytic`` = melanoma, nevus; ``non_melanocytic`` = AK, BCC, BKL (incl.
seborrheic keratosis, solar lentigo, lichen-planus-like keratosis), DF, SCC, VASC.

Accepted vocabularies: HAM10000 ``dx`` codes, ISIC 2019 one-hot columns, the ISIC Archive's
flat ``diagnosis`` strings (ISIC 2020 included) and its hierarchical ``diagnosis_1..5``
(``isic-metadata`` vocabulary: known leaf names are looked up, most specific level first;
every leaf under "Malignant melanocytic proliferations (Melanoma)" is a melanoma, and a leaf
naming a nevus under "Benign melanocytic proliferations" is a nevus). Anything else --
``unknown``, ``lentigo NOS``, lentigo simplex, dermal melanocytoses, ``atypical melanocytic
proliferation``, indeterminate melanocytic proliferations, café-au-lait macules, nevus
sebaceus or anemicus -- is *not* guessed: :func:`classify` returns ``None`` and ingest
excludes the image with the reason.
"""

from __future__ import annotations

import re

SUPERCLASS_OF = {
    "mel": "melanocytic",
    "nv": "melanocytic",
    "ak": "non_melanocytic",
    "bcc": "non_melanocytic",
    "bkl": "non_melanocytic",
    "df": "non_melanocytic",
    "scc": "non_melanocytic",
    "vasc": "non_melanocytic",
}
CANONICAL_NAME = {
    "mel": "melanoma",
    "nv": "nevus",
    "ak": "actinic keratosis",
    "bcc": "basal cell carcinoma",
    "bkl": "pigmented benign keratosis",
    "df": "dermatofibroma",
    "scc": "squamous cell carcinoma",
    "vasc": "vascular lesion",
}
_EXACT = {
    # HAM10000 dx and ISIC 2019 one-hot column names
    "mel": "mel",
    "nv": "nv",
    "akiec": "ak",
    "ak": "ak",
    "bcc": "bcc",
    "bkl": "bkl",
    "df": "df",
    "vasc": "vasc",
    "scc": "scc",
    # ISIC Archive flat vocabulary (ISIC 2016-2020 exports)
    "melanoma": "mel",
    "melanoma metastasis": "mel",
    "nevus": "nv",
    "melanocytic nevus": "nv",
    "blue nevus": "nv",
    "spitz nevus": "nv",
    "reed nevus": "nv",
    "actinic keratosis": "ak",
    "solar or actinic keratosis": "ak",
    "basal cell carcinoma": "bcc",
    "pigmented benign keratosis": "bkl",
    "seborrheic keratosis": "bkl",
    "solar lentigo": "bkl",
    "lichenoid keratosis": "bkl",
    "lichen planus like keratosis": "bkl",
    "lichen planus-like keratosis": "bkl",
    "benign keratosis": "bkl",
    "dermatofibroma": "df",
    "vascular lesion": "vasc",
    "hemangioma": "vasc",
    "angioma": "vasc",
    "angiokeratoma": "vasc",
    "pyogenic granuloma": "vasc",
    "squamous cell carcinoma": "scc",
}
# Prefixes of hierarchical leaf names (``isic-metadata``), e.g. "Melanoma Invasive".
_PREFIX = (
    ("melanoma", "mel"),
    ("squamous cell carcinoma", "scc"),
    ("basal cell carcinoma", "bcc"),
    ("solar or actinic keratosis", "ak"),
    ("actinic keratosis", "ak"),
    ("seborrheic keratosis", "bkl"),
    ("dermatofibroma", "df"),
    ("hemangioma", "vasc"),
    ("angiokeratoma", "vasc"),
)
_MELANOMA_CATEGORY = "malignant melanocytic proliferations (melanoma)"
_BENIGN_MELANOCYTIC_CATEGORY = "benign melanocytic proliferations"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower().replace("_", " "))


def classify(*levels: str | None) -> str | None:
    """Return the canonical diagnosis code for a source diagnosis, or ``None`` if unknown.

    Args:
        *levels: The diagnosis text(s), most general first: a flat ``diagnosis`` alone, or
            ``diagnosis_1 .. diagnosis_5`` of a hierarchical ISIC export (missing levels
            ``None`` or empty).

    Returns:
        One of ``mel, nv, ak, bcc, bkl, df, scc, vasc``, or ``None``.
    """
    present = [_normalise(x) for x in levels if x is not None and str(x).strip()]
    for text in reversed(present):
        # A colon-joined full path ("Benign:Benign melanocytic proliferations:Nevus") too.
        for part in reversed(text.split(":")):
            part = part.strip()
            if part in _EXACT:
                return _EXACT[part]
            for prefix, code in _PREFIX:
                if part.startswith(prefix):
                    return code
    parts = [part.strip() for text in present for part in text.split(":")]
    if _MELANOMA_CATEGORY in parts:
        return "mel"
    if _BENIGN_MELANOCYTIC_CATEGORY in parts and "nevus" in parts[-1]:
        return "nv"
    return None
