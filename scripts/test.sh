#!/usr/bin/env bash
# Set up .venv, then run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
export HF_HUB_OFFLINE=1
.venv/bin/ruff check bot tests
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
