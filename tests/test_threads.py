"""Serving threads: FOOTNOTE_TORCH_THREADS (bot/config.py), applied by bot/index/threads.py."""

from __future__ import annotations

import os

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from tests.helpers.essay import REPO
from tests.helpers.probe import python_output


def test_the_setting_defaults_to_one_thread() -> None:
    assert load_settings({}, dotenv=None).serving_threads == 1
    assert load_settings({"FOOTNOTE_TORCH_THREADS": "2"}, dotenv=None).serving_threads == 2
    assert load_settings({"FOOTNOTE_TORCH_THREADS": "0"}, dotenv=None).serving_threads == 0
    with pytest.raises(ConfigError, match="FOOTNOTE_TORCH_THREADS"):
        load_settings({"FOOTNOTE_TORCH_THREADS": "-1"}, dotenv=None)
    with pytest.raises(ConfigError, match="FOOTNOTE_TORCH_THREADS must be a whole number"):
        load_settings({"FOOTNOTE_TORCH_THREADS": "many"}, dotenv=None)


def test_limit_threads_reaches_torch_and_faiss_loaded_later() -> None:
    script = (
        "from bot.index.threads import limit_threads; limit_threads(1);"
        "import torch, faiss; print(torch.get_num_threads(), faiss.omp_get_max_threads())"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OMP_NUM_THREADS", None)
    assert python_output(script, env).split() == ["1", "1"]
