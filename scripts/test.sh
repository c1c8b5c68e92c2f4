#!/usr/bin/env bash
# Set up .venv, then run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
# The reader's browser tests drive Debian's chromium (tests/test_web_browser.py; they skip,
# saying why, when it is missing and cannot be installed).  Installed once, quietly.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo_cmd=""
        if [ "$(id -u)" != 0 ]; then
            sudo_cmd="$(command -v sudo || true)"
            [ -n "$sudo_cmd" ] && sudo_cmd="$sudo_cmd -n"
        fi
        if [ "$(id -u)" = 0 ] || [ -n "$sudo_cmd" ]; then
            {
                $sudo_cmd apt-get update -qq &&
                    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq \
                        --no-install-recommends chromium chromium-driver
            } >/dev/null 2>&1 || echo "test.sh: could not install chromium; browser tests will skip" >&2
        fi
    fi
fi
export HF_HUB_OFFLINE=1
.venv/bin/ruff check bot tests
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
