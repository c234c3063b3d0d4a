from __future__ import annotations

import pickle

from benchmark.core.imaging import ImageProblemError


def test_image_problem_survives_pickling_out_of_a_worker() -> None:
    error = ImageProblemError("unreadable", "a.jpg: cannot identify image file")
    back = pickle.loads(pickle.dumps(error))
    assert isinstance(back, ImageProblemError)
    assert back.reason == "unreadable"
    assert str(back) == "a.jpg: cannot identify image file"
