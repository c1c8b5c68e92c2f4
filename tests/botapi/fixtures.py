"""pytest fixtures and PTB helpers for the fake Bot API (re-exported by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio
from telegram.ext import Application, ApplicationBuilder

from .server import FakeBotApi
from .spec import BotApiSpec, require_spec

__all__ = [
    "TEST_TOKEN",
    "application_builder",
    "botapi_spec",
    "fake_botapi",
    "polling",
]

TEST_TOKEN = "123456789:AAFakeFootnoteTestTokenAbCdEfGhIjKlMn"


@pytest.fixture(scope="session")
def botapi_spec() -> BotApiSpec:
    """The Bot API spec; skips the test if ../shared/botapi-spec is absent."""
    return require_spec()


@pytest_asyncio.fixture
async def fake_botapi(botapi_spec: BotApiSpec) -> AsyncIterator[FakeBotApi]:
    """A running FakeBotApi for TEST_TOKEN, stopped after the test."""
    async with FakeBotApi(TEST_TOKEN, botapi_spec) as server:
        yield server


def application_builder(
    server: FakeBotApi, token: str = TEST_TOKEN
) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """An ApplicationBuilder pointed at ``server`` (add handlers/options, then .build())."""
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
    )


@asynccontextmanager
async def polling(
    application: Application[Any, Any, Any, Any, Any, Any], timeout: int = 1
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run ``application`` with real long polling for the duration of the block."""
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=timeout)
    try:
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
