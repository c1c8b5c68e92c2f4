"""Helpers for the load, fault, restart and operations tests: the real application
(build_application) against the fake Bot API, in-process or as a `footnote run` process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram.ext import Application, ApplicationBuilder

from bot.search.engine import Engine
from bot.search.retriever import Retriever, open_retriever
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.state import bot_state
from tests.botapi.fixtures import TEST_TOKEN
from tests.botapi.server import FakeBotApi
from tests.helpers.essay import REPO, copy_essay
from tests.helpers.footnote_bot import settings_for

App = Application[Any, Any, Any, Any, Any, Any]
# Questions the fake hashing embedder answers from the essay.
QUESTIONS = (
    "What is the double suspension?",
    "What is China's dual track proposal?",
    "Why is a freeze for freeze hard?",
    "What would the regime collapse mean?",
    "What is the core problem with collapsing a regime?",
)


def essay_index(root: Path) -> Retriever:
    """A copy of the shipped essay in root/corpus, indexed (fake embedder) in root/index."""
    retriever, _ = open_retriever(copy_essay(root / "corpus"), root / "index", "fake:hashing")
    return retriever


def build(
    server: FakeBotApi,
    retriever: Retriever,
    root: Path,
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] | None = None,
    **overrides: Any,
) -> App:
    """The real application, as serve() builds it, pointed at ``server``."""
    application = build_application(
        settings_for(server, root, **overrides), Engine(retriever), builder
    )
    bot_state(application).inline.delay = 0.0
    return application


@asynccontextmanager
async def running(application: App, poll_timeout: int = 1) -> AsyncIterator[App]:
    """Start ``application`` as run_polling does (post_init included) and stop it likewise:
    updater first (confirming the offset), then the application (handling what it took)."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        yield application
    finally:
        await stop(application)


async def stop(application: App) -> None:
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


async def handled(server: FakeBotApi, application: App, timeout: float = 20.0) -> None:
    """Wait until every update pushed so far has been fetched and completely handled."""
    await server.wait_for(lambda s: not s.pending_updates, timeout=timeout)
    await asyncio.wait_for(application.update_queue.join(), timeout)


def duplicates(server: FakeBotApi) -> list[tuple[int, int]]:
    """(chat, message) pairs answered more than once in group chats (answers quote them)."""
    replies = Counter(
        (m.chat_id, m.reply_to_message_id)
        for m in server.sent_messages()
        if m.reply_to_message_id is not None
    )
    return [key for key, count in replies.items() if count > 1]


# -- `footnote run` as a process ------------------------------------------------------------


def footnote_env(server: FakeBotApi, root: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url.removesuffix("/bot"),
        "FOOTNOTE_CORPUS": str(root / "corpus"),
        "FOOTNOTE_INDEX": str(root / "index"),
        "FOOTNOTE_MODEL": "fake:hashing",
    }
    env.update(extra)
    return env


class Process:
    """A subprocess whose stderr (the log) is collected as it runs."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, argv: list[str], env: Mapping[str, str], cwd: Path | None = None
    ) -> Process:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            cwd=str(cwd or REPO),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    @classmethod
    async def footnote(cls, env: Mapping[str, str], *args: str) -> Process:
        return await cls.start([sys.executable, "-m", "bot", "run", *args], env)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode("utf-8", "replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log:
            if self.process.returncode is not None:
                code = self.process.returncode
                raise AssertionError(f"exited {code} before {text!r}:\n{self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not logged within {timeout}s:\n{self.log}")
            await asyncio.sleep(0.05)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        return code

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def still_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


__all__ = [
    "QUESTIONS",
    "App",
    "Process",
    "build",
    "duplicates",
    "essay_index",
    "footnote_env",
    "handled",
    "running",
    "settings_for",
    "signal",
    "still_running",
    "stop",
]
