"""DVC stages: one thin click command per stage of ``dvc.yaml``.

A stage loads its typed params (``stages.support.params``), opens its MLflow run
(``stages.support.tracking``), calls one library function, writes the outputs that dvc.yaml declares
and ``metrics/<stage>.json``, and logs the same metrics dict. Importing the package pins the
CPU kernels (:mod:`stages.support.pins`) before NumPy or PyTorch load.
"""

from stages.support.pins import apply_pins

# Before any stage module loads NumPy or PyTorch: the kernels they pick read these.
apply_pins()
