"""The ``skinbench`` entry point: the library's commands plus those that read MLflow or params.

``benchmark.cli`` never imports mlflow nor reads params.yaml (the library's rule); commands
that read a tracking store (``runs``, ``ui``), run DVC (``verify``) or rewrite params.yaml
(``profile``) live beside the stages and join the group here, and the params file the library
commands take their defaults from is given to them here.
"""

from __future__ import annotations

from benchmark.cli import main
from stages.support.params import ParamsFile
from stages.support.profile_cmd import profile_cmd
from stages.support.runs import runs_cmd
from stages.support.ui import ui_cmd
from stages.support.verify import verify_cmd

main.add_command(runs_cmd)
main.add_command(profile_cmd)
main.add_command(ui_cmd)
main.add_command(verify_cmd)
# The commands' defaults: the project's params.yaml (``--params`` names another).
main.context_settings["obj"] = ParamsFile()

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    main()
