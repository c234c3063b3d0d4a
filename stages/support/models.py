"""Models and datasets in MLflow: logged models that serve batches, the registry, inputs.

* :func:`log_image_model` logs a torch module that takes (B, S, S, 3) uint8 images as an
  exported graph (pt2) whose batch dimension is dynamic, with a tensor signature that states
  the real input and output, so ``mlflow.pyfunc`` and ``mlflow models serve`` score any batch.
* :func:`register_best` registers a variant's best seed (by validation AUC, never test) as
  ``skintone-bench-<profile>-classifier-<variant>`` with the alias ``best``. Registering
  again adds a version; nothing is overwritten, whatever the new version's schema.
* :func:`log_split_inputs` logs the rows a run used as MLflow datasets (context ``train``,
  ``val``, ``test``), so the UI's Dataset column says which data a run saw.

All are no-ops off the main process, like :mod:`stages.support.tracking`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from benchmark.core.processes import is_main_process

REGISTRY_PREFIX = "skintone-bench"
BEST_ALIAS = "best"
# Columns of a run's rows logged as its datasets: which images, whose, which class and tone.
DATASET_COLUMNS = ("image_id", "patient_id", "y_true", "fst", "source", "dataset")
# Run tags copied to a registered version, so it links back to its data and code.
LINKED_TAGS = ("data_digest", "git_commit", "params_digest", "profile", "variant", "seed")


def registered_name(profile: str, kind: str, variant: str) -> str:
    """``skintone-bench-<profile>-<kind>-<variant>``, e.g. ``...-embedded-classifier-baseline``."""
    return f"{REGISTRY_PREFIX}-{profile}-{kind}-{variant}"


def log_image_model(
    module: Any, example: np.ndarray, output_shape: Sequence[int], *, name: str = "model"
) -> str | None:
    """Log ``module`` (uint8 images in) as a pt2 MLflow model; returns its ``models:/`` URI.

    Args:
        module: A torch module mapping (B, S, S, 3) uint8 to float32 ``(B, *output_shape)``.
        example: Input example with more than one row (``torch.export`` fixes a batch
            dimension of one to a constant).
        output_shape: Output dimensions after the batch one, e.g. ``(2,)`` or ``(S, S)``.
        name: The logged model's name in the run.
    """
    if not is_main_process():
        return None
    import mlflow
    import torch
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    if len(example) < 2:
        raise ValueError(f"the input example needs two rows or more, got {example.shape}")
    signature = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.uint8), (-1, *example.shape[1:]))]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, *output_shape))]),
    )
    info = mlflow.pytorch.log_model(
        module.eval(),
        name=name,
        signature=signature,
        input_example=example,
        serialization_format="pt2",
        # Stated, not inferred: inference reloads the model in a subprocess (seconds each).
        pip_requirements=[f"torch=={torch.__version__.split('+')[0]}", "numpy"],
    )
    return str(info.model_uri)


def register_best(
    name: str, candidates: Sequence[tuple[float, str, str]], tags: Mapping[str, str]
) -> int | None:
    """Register the candidate with the highest validation score and alias it ``best``.

    Args:
        name: The registered model's name (:func:`registered_name`).
        candidates: ``(validation score, model URI, run id)`` per seed; NaN scores lose.
        tags: More version tags; the run id, its score and the run's :data:`LINKED_TAGS`
            (data digest, commit, profile, variant, seed) are added.

    Returns:
        The new version number (None off the main process or without candidates).
    """
    if not is_main_process() or not candidates:
        return None
    import mlflow
    from mlflow import MlflowClient

    score, uri, run_id = max(candidates, key=lambda c: -np.inf if np.isnan(c[0]) else c[0])
    client = MlflowClient()
    run_tags = client.get_run(run_id).data.tags
    linked = {k: run_tags[k] for k in LINKED_TAGS if k in run_tags}
    all_tags = {**linked, **tags, "run_id": run_id, "val_auc": f"{score:.6f}"}
    version = mlflow.register_model(uri, name, tags=all_tags)
    client.set_registered_model_alias(name, BEST_ALIAS, version.version)
    client.set_registered_model_tag(name, "selected_by", "validation AUC of the kept epoch")
    return int(version.version)


def log_split_inputs(frames: Mapping[str, pd.DataFrame], prefix: str, source: str) -> None:
    """Log each split's rows (``{context: frame}``) as a dataset of the active run."""
    if not is_main_process():
        return
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    for context, frame in frames.items():
        rows = frame[[c for c in DATASET_COLUMNS if c in frame.columns]].astype(str)
        dataset = from_pandas(rows, source=source, name=f"{prefix}-{context}")
        mlflow.log_input(dataset, context=context)
