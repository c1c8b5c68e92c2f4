#!/usr/bin/env bash
# Set up .venv, then run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
# The reader's browser tests drive Debian's chromium (tests/test_web_browser.py; they skip,
# saying why, when it is missing and cannot be installed).  Installed once, quietly.
# apt-get as the bench runs it for Python's docs (bot/bench/apt.py: root or sudo -n).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    .venv/bin/python -m bot.bench.apt chromium chromium-driver >/dev/null 2>&1 ||
        echo "test.sh: could not install chromium; browser tests will skip" >&2
fi
export HF_HUB_OFFLINE=1
.venv/bin/ruff check bot tests
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
