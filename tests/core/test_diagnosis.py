from __future__ import annotations

import pytest

from benchmark.core.diagnosis import SUPERCLASS_OF, classify


@pytest.mark.parametrize(
    ("levels", "code"),
    [
        (("mel",), "mel"),
        (("NV",), "nv"),
        (("akiec",), "ak"),
        (("BKL",), "bkl"),
        (("seborrheic keratosis",), "bkl"),
        (("solar lentigo",), "bkl"),
        (("lichenoid keratosis",), "bkl"),
        (("Vascular lesion",), "vasc"),
        (
            ("Malignant", "Malignant melanocytic proliferations (Melanoma)", "Melanoma Invasive"),
            "mel",
        ),
        (("Benign", "Benign melanocytic proliferations", "Nevus", "Nevus, Spitz"), "nv"),
        (
            ("Malignant", "Malignant melanocytic proliferations (Melanoma)", "Lentigo maligna"),
            "mel",
        ),
        (
            (
                "Malignant",
                "Malignant adnexal epithelial proliferations - Follicular",
                "Basal cell carcinoma",
            ),
            "bcc",
        ),
        (
            (
                "Indeterminate",
                "Indeterminate epidermal proliferations",
                "Solar or actinic keratosis",
            ),
            "ak",
        ),
        (
            ("Malignant", "Malignant epidermal proliferations", "Squamous cell carcinoma in situ"),
            "scc",
        ),
        (("Benign", "Benign soft tissue proliferations - Vascular", "Pyogenic granuloma"), "vasc"),
        (("Benign:Benign soft tissue proliferations - Fibro-histiocytic:Dermatofibroma",), "df"),
    ],
)
def test_known_vocabulary(levels: tuple[str, ...], code: str) -> None:
    assert classify(*levels) == code


@pytest.mark.parametrize(
    "levels",
    [
        ("unknown",),
        ("lentigo NOS",),
        ("atypical melanocytic proliferation",),
        ("cafe-au-lait macule",),
        ("UNK",),
        ("",),
        (None,),
        (
            "Indeterminate",
            "Indeterminate melanocytic proliferations",
            "Atypical intraepithelial melanocytic proliferation",
        ),
        ("Benign", "Benign epidermal proliferations", "Clear cell acanthoma"),
        ("Benign", "Benign melanocytic proliferations", "Lentigo simplex"),
        ("Benign", "Benign melanocytic proliferations"),
        ("Benign", "Benign melanocytic proliferations", "Mongolian spot"),
        ("Benign", "Benign soft tissue proliferations - Vascular", "Nevus anemicus"),
        ("Benign", "Benign soft tissue proliferations - Vascular", "Telangiectasia"),
    ],
)
def test_unknown_is_not_guessed(levels: tuple[str | None, ...]) -> None:
    assert classify(*levels) is None


def test_superclasses_match_spec() -> None:
    assert {k for k, v in SUPERCLASS_OF.items() if v == "melanocytic"} == {"mel", "nv"}
    assert len(SUPERCLASS_OF) == 8
