from __future__ import annotations

import pickle

import numpy as np
from PIL import Image

from benchmark.core.config.data import IngestConfig
from benchmark.core.imaging import MASK_THRESHOLD, ImageProblemError, to_mask
from tests.support.config import default


def test_image_problem_survives_pickling_out_of_a_worker() -> None:
    error = ImageProblemError("unreadable", "a.jpg: cannot identify image file")
    back = pickle.loads(pickle.dumps(error))
    assert isinstance(back, ImageProblemError)
    assert back.reason == "unreadable"
    assert str(back) == "a.jpg: cannot identify image file"


def test_mask_threshold_has_one_owner() -> None:
    assert default(IngestConfig).mask_threshold == MASK_THRESHOLD == 127
    grey = Image.fromarray(np.array([[0, 127, 128, 255]], np.uint8), "L")
    mask, thresholded = to_mask(grey, MASK_THRESHOLD)
    assert mask.tolist() == [[0, 0, 255, 255]]
    assert thresholded
