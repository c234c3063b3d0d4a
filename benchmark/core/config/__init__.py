"""Typed, frozen configuration: one dataclass per stage, in one module per pipeline branch.

``base`` holds :class:`~benchmark.core.config.base.ConfigError` and
:func:`~benchmark.core.config.base.from_mapping`; ``data`` the data stages (phantoms, ingest, skin
tone, split); ``generative`` the LoRA branch; ``downstream`` preprocessing, segmentation and
classification. Import from the submodule: each DVC stage depends only on the modules it
uses, so adding a downstream option does not rerun ingest. The library defines and validates
these; reading the params file is the stages' job (``stages/support/params.py``).
"""
