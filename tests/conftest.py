"""Shared pytest fixtures.

The fake Telegram Bot API fixtures live in tests/botapi/fixtures.py; importing them here
makes ``botapi_spec`` and ``fake_botapi`` available to every test.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `tests.botapi` must be importable even under a bare `pytest` (python -m pytest already
# puts the repo root on sys.path; setting pythonpath = ["."] in pyproject would too).
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.botapi.fixtures import botapi_spec, fake_botapi  # noqa: E402

__all__ = ["botapi_spec", "fake_botapi"]
