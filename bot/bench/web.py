"""`footnote bench --web`: the web reader (bot/web/), over real HTTP on 127.0.0.1.

* `/p/<id>` for a 10,000-word essay: a synthetic essay (the shipped essay's sentences shuffled
  into paragraphs under headings) indexed with the fake embedder in a temporary folder -- a
  page never touches the model -- and GET /p/<id> timed by the client for random passages,
  beside rendering the page alone.
* `/api/ask` against the CLI's answer path, side by side in one run, on the bench's index and
  questions: for each question, in alternating order, the CLI path (the question embedded,
  `Retriever.ask`, the JSON line `footnote ask --json` prints) and a GET of /api/ask with the
  engine's query cache emptied first, so every question is cold for both.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.bench.stats import ratio, summarize, table

if TYPE_CHECKING:
    from bot.search.retriever import Retriever

ESSAY_WORDS = 10_000
PAGE_REQUESTS = 200
SHIPPED_ESSAY = "4-ways-out-of-the-korean-crisis.txt"


def synthetic_essay(source: str, words: int, seed: int = 7) -> str:
    """A plain-text essay of about `words` words: `source`'s sentences shuffled into
    paragraphs of 3-7 sentences, under a heading every 6 paragraphs."""
    sentences = [s for s in re.split(r"(?<=[.!?”])\s+", source) if len(s.split()) >= 6]
    rng = random.Random(seed)
    lines = ["A Long Essay on the Korean Crisis", ""]
    count = paragraph = 0
    while count < words:
        if paragraph % 6 == 0:
            lines += [f"Part {paragraph // 6 + 1} of the Argument", ""]
        chosen = [rng.choice(sentences) for _ in range(rng.randint(3, 7))]
        lines += [" ".join(chosen), ""]
        count += sum(len(s.split()) for s in chosen)
        paragraph += 1
    return "\n".join(lines)


def _source_text(corpus_dir: Path) -> str:
    shipped = corpus_dir / SHIPPED_ESSAY
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    texts = sorted(corpus_dir.rglob("*.txt"))
    if not texts:
        raise FileNotFoundError(f"no .txt essay in {corpus_dir} to build the 10k-word essay from")
    return texts[0].read_text(encoding="utf-8")


async def _pages(source: str, log: TextIO) -> dict[str, Any]:
    import aiohttp

    from bot.config import Settings
    from bot.search.engine import Engine
    from bot.search.retriever import open_retriever
    from bot.web.pages import document_page
    from bot.web.serve import ReaderServer
    from bot.web.server import Reader

    with tempfile.TemporaryDirectory(prefix="footnote-bench-web-") as folder:
        root = Path(folder)
        (root / "corpus").mkdir()
        essay = synthetic_essay(source, ESSAY_WORDS)
        (root / "corpus" / "long-essay.txt").write_text(essay, encoding="utf-8")
        retriever, _ = open_retriever(root / "corpus", root / "index", "fake:hashing")
        library = retriever.library
        engine = Engine(retriever)
        server = ReaderServer(Reader(lambda: engine, Settings(user_rate_limit=0)), "127.0.0.1", 0)
        await server.start()
        base = server.url.rstrip("/")
        ids = [p.id for p in retriever.store.passages]
        log.write(f"web: GET /p/<id> x {PAGE_REQUESTS} on a {len(essay.split())}-word essay ...\n")
        rng = random.Random(11)
        page: list[float] = []
        render: list[float] = []
        try:
            async with aiohttp.ClientSession() as http:
                for number in range(PAGE_REQUESTS + 10):  # the first 10 warm up
                    passage = rng.choice(ids)
                    start = time.perf_counter()
                    async with http.get(f"{base}/p/{passage}") as response:
                        body = await response.read()
                    elapsed = time.perf_counter() - start
                    if response.status != 200 or b'id="quote"' not in body:
                        raise RuntimeError(f"GET /p/{passage} answered {response.status}")
                    hit = library.passage(passage)
                    assert hit is not None
                    start = time.perf_counter()
                    document_page(library, hit.document, hit)
                    if number >= 10:
                        page.append(elapsed)
                        render.append(time.perf_counter() - start)
        finally:
            await server.stop()
        return {
            "words": len(essay.split()),
            "passages": len(ids),
            "get_passage_page": summarize(page),
            "render_passage_page": summarize(render),
        }


async def _api_vs_cli(
    retriever: Retriever, questions: Sequence[str], rounds: int, log: TextIO
) -> dict[str, Any]:
    import aiohttp

    from bot.config import Settings
    from bot.render.contract import answer_json
    from bot.search.engine import Engine
    from bot.web.serve import ReaderServer
    from bot.web.server import Reader

    engine = Engine(retriever)
    server = ReaderServer(Reader(lambda: engine, Settings(user_rate_limit=0)), "127.0.0.1", 0)
    await server.start()
    base = server.url.rstrip("/")
    log.write(f"web: /api/ask vs the CLI path, {len(questions)} questions x {rounds} rounds ...\n")
    cli: list[float] = []
    api: list[float] = []

    def cli_path(question: str) -> None:
        # As the web API's path: one forward pass gives the vector and the tokens.
        answer = retriever.ask(question, 3)
        json.dumps(answer_json(answer), ensure_ascii=False)

    try:
        async with aiohttp.ClientSession() as http:

            async def api_path(question: str) -> None:
                engine.clear_cache()
                async with http.get(f"{base}/api/ask", params={"q": question}) as response:
                    await response.read()
                if response.status != 200:
                    raise RuntimeError(f"/api/ask answered {response.status}")

            await api_path(questions[0])  # warm up the connection and the engine's threads
            cli_path(questions[0])
            for round_no in range(rounds):
                for number, question in enumerate(questions):
                    # Alternate which goes first, so neither always follows the other.
                    order = ("cli", "api") if (number + round_no) % 2 == 0 else ("api", "cli")
                    for which in order:
                        start = time.perf_counter()
                        if which == "cli":
                            cli_path(question)
                        else:
                            await api_path(question)
                        (cli if which == "cli" else api).append(time.perf_counter() - start)
    finally:
        await server.stop()
    cli_row, api_row = summarize(cli), summarize(api)
    return {
        "cli_answer_path": cli_row,
        "api_ask": api_row,
        "ratio": {
            "p50": ratio(api_row["p50_ms"], cli_row["p50_ms"]),
            "p95": ratio(api_row["p95_ms"], cli_row["p95_ms"]),
        },
    }


async def bench_web(
    retriever: Retriever,
    questions: Sequence[str],
    rounds: int,
    corpus_dir: Path,
    log: TextIO,
) -> dict[str, Any]:
    results = await _pages(_source_text(corpus_dir), log)
    results.update(await _api_vs_cli(retriever, questions, rounds, log))
    return results


def format_web(web: dict[str, Any]) -> str:
    rows = [
        [f"GET /p/<id>, {web['words']}-word essay", web["get_passage_page"]],
        ["  rendering the page alone", web["render_passage_page"]],
        ["CLI answer path (embed, rank, JSON line)", web["cli_answer_path"]],
        ["GET /api/ask (cold, over HTTP)", web["api_ask"]],
    ]
    body = table(
        [[name, row["p50_ms"], row["p95_ms"], row["n"]] for name, row in rows],
        ["", "p50 ms", "p95 ms", "n"],
    )
    return (
        "\nWeb reader (footnote bench --web):\n"
        + body
        + f"\n/api/ask : CLI answer path  p50 {web['ratio']['p50']}x  p95 {web['ratio']['p95']}x"
    )
