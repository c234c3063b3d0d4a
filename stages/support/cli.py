"""The ``skinbench`` entry point: the library's commands plus those that read MLflow.

``benchmark.cli`` never imports mlflow (the library's rule); commands that read a tracking
store (``runs``) or run DVC (``verify``) live beside the stages and join the group here.
"""

from __future__ import annotations

from benchmark.cli import main
from stages.support.runs import runs_cmd
from stages.support.verify import verify_cmd

main.add_command(runs_cmd)
main.add_command(verify_cmd)

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    main()
