"""/healthz while a burst of button presses arrives, through the real webhook server.

The application is the one `footnote run --webhook` serves (build_application over an Engine),
started the way bot/telegram/webhook.py's run_webhook starts it (initialize, post_init, start,
then the WebhookServer on 127.0.0.1), with the bench's Bot API server standing in for Telegram.
A thread probes /healthz over HTTP the whole time, as a load balancer would; 100 presses on
the huge section's button (100 chats) and one /sections are POSTed to the webhook at once.
Reported: /healthz latency idle and during the burst (p50, p99), and when all were answered.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

from bot.bench.botapi import BenchBotApi, Recorder
from bot.bench.stats import percentile, summarize

if TYPE_CHECKING:
    from bot.search.retriever import Retriever

TOKEN = "123456789:AAFakeFootnoteBenchTokenAbCdEfGhIjKlMn"
SECRET = "footnote-bench-webhook-secret"
PRESSES = 100
IDLE_SECONDS = 0.5
ANSWER_TIMEOUT = 60.0
PROBE_GAP = 0.002


class HealthProber:
    """Probes /healthz from its own thread until stopped; each probe's start and latency."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.samples: list[tuple[float, float]] = []
        self.failures: list[tuple[float, str]] = []  # when, and the status or the error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz-prober", daemon=True)

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=10.0) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    status = str(client.get(self.url).status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                if status == "200":
                    self.samples.append((started, time.perf_counter() - started))
                else:
                    self.failures.append((started, status))
                self._stop.wait(PROBE_GAP)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)

    def between(self, begin: float, end: float) -> list[float]:
        return [seconds for started, seconds in self.samples if begin <= started <= end]


async def _health_under_presses(retriever: Retriever) -> dict[str, Any]:
    import aiohttp

    from bot.config import Settings
    from bot.render.callbacks import encode_section
    from bot.search.engine import Engine
    from bot.telegram.app import build_application
    from bot.telegram.webhook import HEALTH_PATH, SECRET_HEADER, WebhookServer

    section = retriever.library.sections()[0]
    data = encode_section(section.doc_id, section.section_no)
    async with BenchBotApi(TOKEN) as api:
        recorder = Recorder(api)
        settings = Settings(
            telegram_token=TOKEN,
            telegram_base_url=api.base_url,
            webhook_listen="127.0.0.1",
            webhook_port=0,
            webhook_secret=SECRET,
            user_rate_limit=0,
        )
        application = build_application(settings, Engine(retriever))
        server = WebhookServer(application, secret=SECRET, listen="127.0.0.1", port=0)
        await application.initialize()
        try:
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
            await server.start()
            base = f"http://127.0.0.1:{server.port}"
            prober = HealthProber(base + HEALTH_PATH)
            prober.start()
            try:
                await asyncio.sleep(IDLE_SECONDS)
                chats = list(range(20_001, 20_001 + PRESSES + 1))
                updates = [
                    api.update(api.callback_query(api.bot_message(chat, "Sections"), data))
                    for chat in chats[:PRESSES]
                ]
                updates.append(api.update(api.private_message(chats[-1], "/sections")))
                headers = {SECRET_HEADER: SECRET}
                timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    burst = time.perf_counter()

                    async def post(update: dict[str, Any]) -> int:
                        url = base + server.path
                        async with session.post(url, json=update, headers=headers) as response:
                            return response.status

                    statuses = await asyncio.gather(*(post(u) for u in updates))
                    await recorder.until(
                        lambda: all(c in recorder.answered for c in chats),
                        ANSWER_TIMEOUT,
                        f"costs: {len(chats)} answers through the webhook",
                    )
                    done = max(recorder.answered[c] for c in chats)
            finally:
                await asyncio.to_thread(prober.stop)  # the loop keeps serving its last probe
        finally:
            await server.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
    idle = prober.between(0.0, burst)
    busy = prober.between(burst, done)
    return {
        "presses": PRESSES,
        "section_paragraphs": section.paragraphs,
        "webhook_statuses": sorted(set(statuses)),
        "idle": summarize(idle),
        "idle_p99_ms": round(percentile(idle, 99) * 1000, 3),
        "during_burst": summarize(busy),
        "during_burst_p99_ms": round(percentile(busy, 99) * 1000, 3),
        "probe_failures": {
            "idle": [status for started, status in prober.failures if started < burst],
            "during_burst": [s for started, s in prober.failures if burst <= started <= done],
            "after": [status for started, status in prober.failures if started > done],
        },
        "all_answered_ms": round((done - burst) * 1000, 1),
        "unsupported_calls": api.unsupported[:20],
    }


def run_health_under_presses(retriever: Retriever) -> dict[str, Any]:
    return asyncio.run(_health_under_presses(retriever))
