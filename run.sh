#!/usr/bin/env bash
# skintone-bench entry point. Creates or reuses the virtual environment .venv, installs the
# suite with exactly the tested versions (requirements.lock), then runs one task:
#
#   ./run.sh repro   run the DVC pipeline on params.yaml (offline, CPU, phantom data)
#   ./run.sh test    ruff (lint + format check), mypy, the docs build, then the pytest suite
#   ./run.sh env     only create/update the environment
#   ./run.sh dvc ... any dvc command inside the environment (exp run, plots show, metrics show)
#
# The first run installs PyTorch and the rest: several minutes and about 7 GB on disk.
set -euo pipefail
cd "$(dirname "$0")"

VENV="${SKINBENCH_VENV:-.venv}"
PY="$(command -v python3.11 || command -v python3)"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "skintone-bench needs Python 3.11 (the pinned torch/torchvision wheels); found $("$PY" --version)" >&2
  exit 1
fi

ensure_env() {
  local want stamp="$VENV/.skinbench-installed"
  want="$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtual environment $VENV with $("$PY" --version)"
    "$PY" -m venv "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing skintone-bench and pinned dependencies into $VENV (torch: minutes, GBs)"
    # --no-compile: Python compiles only the modules it imports, on first import, instead of
    # every file of torch's 5 GB up front (141 s against 160 s for the install, measured).
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-compile \
      -c requirements.lock -e '.[test]'
    echo "$want" > "$stamp"
  fi
  export PATH="$PWD/$VENV/bin:$PATH"
  export DVC_NO_ANALYTICS=1
  export MLFLOW_TRACKING_URI="${MLFLOW_TRACKING_URI:-sqlite:///$PWD/mlflow.db}"
}

task="${1:-}"
shift || true
case "$task" in
  env)
    ensure_env ;;
  repro)
    ensure_env
    dvc repro "$@" ;;
  dvc)
    # Stages run `python -m stages...`: DVC must find the environment's python on PATH.
    ensure_env
    dvc "$@" ;;
  test)
    ensure_env
    ruff check .
    ruff format --check .
    mypy
    # The documentation site: broken links, missing pages and generation errors fail here.
    NO_MKDOCS_2_WARNING=1 mkdocs build --strict --quiet
    pytest "$@" ;;
  *)
    echo "usage: ./run.sh {repro|test|env|dvc} [extra args for dvc repro / pytest / dvc]" >&2
    exit 2 ;;
esac
