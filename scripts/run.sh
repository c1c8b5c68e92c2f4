#!/usr/bin/env bash
# The main job: set up .venv, then run the Telegram bot if TELEGRAM_BOT_TOKEN is set
# (in the environment or in .env), else the interactive terminal chat on the shipped essay.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
exec .venv/bin/footnote start "$@"
