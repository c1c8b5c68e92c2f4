"""How fast the web reader answers (docs/performance.md, "The web reader").

    .venv/bin/python scripts/web_latency.py [--words 10000] [--rounds 200] [--model M]

In one run, over a synthetic essay of --words words (its paragraphs are the shipped essay's
sentences, shuffled into sections) indexed with the real bundled model:

* `/p/<id>`: p50/p95 of GET over HTTP (client-measured, the whole request) for --rounds
  random passages, and of rendering the page alone;
* `/api/ask` against the CLI's answer path, side by side: for each evaluation question, in
  alternating order, the CLI path (`Retriever.ask` with the question's embedding, then the
  JSON line `footnote ask --json` prints) and a GET of /api/ask with the engine's query cache
  emptied first (every question is cold, as for the CLI).  Reports p50/p95 of each and the
  ratios.

Nothing is written to the repository; the essay and its index live in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from bot.evals import KOREAN_CRISIS_QUESTIONS  # noqa: E402
from bot.evals.evaluation import load_eval_set  # noqa: E402
from bot.render.contract import answer_json  # noqa: E402
from bot.search.engine import Engine  # noqa: E402
from bot.search.retriever import open_retriever  # noqa: E402
from bot.web.pages import document_page  # noqa: E402
from bot.web.serve import ReaderServer  # noqa: E402
from bot.web.server import Reader  # noqa: E402

ESSAY = REPO / "corpus" / "4-ways-out-of-the-korean-crisis.txt"


def synthetic_essay(words: int, seed: int = 7) -> str:
    """A plain-text essay of about `words` words: the shipped essay's sentences, shuffled into
    paragraphs of 3-7 sentences under a heading every 6 paragraphs."""
    text = ESSAY.read_text(encoding="utf-8")
    sentences = [s for s in re.split(r"(?<=[.!?”])\s+", text) if len(s.split()) >= 6]
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(name: str, seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    row = {
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "n": len(ms),
    }
    print(f"  {name:<34} p50 {row['p50_ms']:8.2f} ms   p95 {row['p95_ms']:8.2f} ms   n={len(ms)}")
    return row


async def measure(args: argparse.Namespace, root: Path) -> dict[str, object]:
    import aiohttp

    corpus = root / "corpus"
    corpus.mkdir()
    essay = synthetic_essay(args.words)
    (corpus / "long-essay.txt").write_text(essay, encoding="utf-8")
    retriever, report = open_retriever(corpus, root / "index", args.model)
    library = retriever.library
    words = len(essay.split())
    print(
        f"essay: {words} words, {len(library.sections())} sections, "
        f"{report.passages} passages; model {args.model}"
    )
    engine = Engine(retriever)
    server = ReaderServer(Reader(lambda: engine, Settings(user_rate_limit=0)), "127.0.0.1", 0)
    await server.start()
    base = server.url.rstrip("/")
    rng = random.Random(11)
    ids = [p.id for p in retriever.store.passages]
    questions = [q.question for q in load_eval_set(KOREAN_CRISIS_QUESTIONS).questions]
    results: dict[str, object] = {"words": words, "passages": report.passages}
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(10):  # warm up the connection, the model and the page code
                async with http.get(f"{base}/p/{rng.choice(ids)}") as response:
                    await response.read()
            retriever.ask(questions[0], 3)
            page, render = [], []
            for _ in range(args.rounds):
                passage = rng.choice(ids)
                start = time.perf_counter()
                async with http.get(f"{base}/p/{passage}") as response:
                    body = await response.read()
                    assert response.status == 200 and b'id="quote"' in body
                page.append(time.perf_counter() - start)
                hit = library.passage(passage)
                assert hit is not None
                start = time.perf_counter()
                document_page(library, hit.document, hit)
                render.append(time.perf_counter() - start)
            print("/p/<id>:")
            results["passage_page"] = summary("GET /p/<id> (HTTP, whole request)", page)
            results["passage_render"] = summary("render only", render)

            cli, api = [], []
            for round_no in range(args.ask_rounds):
                for number, question in enumerate(questions):

                    def cli_path(question: str = question) -> None:
                        vector = retriever.embed([question])[0]
                        answer = retriever.ask(question, 3, vector)
                        json.dumps(answer_json(answer), ensure_ascii=False)

                    async def api_path(question: str = question) -> None:
                        engine.clear_cache()
                        async with http.get(f"{base}/api/ask", params={"q": question}) as r:
                            assert r.status == 200
                            await r.read()

                    # Alternate which goes first, so neither always runs on a warmer cache.
                    first_cli = (number + round_no) % 2 == 0
                    for which in ("cli", "api") if first_cli else ("api", "cli"):
                        start = time.perf_counter()
                        if which == "cli":
                            cli_path()
                        else:
                            await api_path()
                        (cli if which == "cli" else api).append(time.perf_counter() - start)
            print("/api/ask vs the CLI's answer path (cold questions, side by side):")
            cli_row = summary("CLI answer path (ask + JSON line)", cli)
            api_row = summary("GET /api/ask (HTTP, engine)", api)
            ratio = {
                "p50": round(api_row["p50_ms"] / cli_row["p50_ms"], 3),
                "p95": round(api_row["p95_ms"] / cli_row["p95_ms"], 3),
            }
            print(f"  ratio /api/ask : CLI{'':14}p50 {ratio['p50']:.3f}x   p95 {ratio['p95']:.3f}x")
            results.update(cli_answer_path=cli_row, api_ask=api_row, ratio=ratio)
    finally:
        await server.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200, help="/p/<id> requests")
    parser.add_argument("--ask-rounds", type=int, default=2, help="passes over the questions")
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--torch-threads", type=int, metavar="N", help="torch intra-op threads")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(measure(args, Path(folder)))
    results["load_average_after"] = list(os.getloadavg())
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
