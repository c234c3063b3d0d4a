"""DVC stages: one thin click command per stage of ``dvc.yaml``.

A stage loads its typed params (``stages.support.params``), opens its MLflow run
(``stages.support.tracking``), calls one library function, writes the outputs that dvc.yaml declares
and ``metrics/<stage>.json``, and logs the same metrics dict.
"""
