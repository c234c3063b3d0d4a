"""The shared base every branch builds on: config, file formats, the skin-type vocabulary.

Nothing here imports a branch (``ingest``, ``skintone``, ``segmentation``...), so a stage's
DVC deps are its stage file, ``stages/support``, ``benchmark/core``, ``benchmark/metrics``
and its own branch folders.
"""
