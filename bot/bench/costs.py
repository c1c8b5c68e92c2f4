"""`footnote bench --costs`: what the largest inputs cost, with the hashing embedder (no model).

* huge paragraph -- a 5 MB text file that is one paragraph, indexed by `build_index` (seconds),
  then `cite` of a phrase from its end, each run in a fresh Retriever, so that folding the
  paragraphs for lookup is paid every time (median ms).
* huge section -- a section of 1,000,000 paragraphs (an index made directly from records:
  one one-sentence passage per paragraph, zero vectors); a press on its section button,
  bot.render.presses.render_press(ShowSection), median ms.
* health under presses (costs_webhook.py) -- /healthz p99 while 100 presses on that section
  and a /sections arrive at once through the webhook server.

`--costs-scale F` multiplies the sizes (the test suite runs 0.01).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.bench.options import BenchOptions
from bot.bench.stats import summarize, table

if TYPE_CHECKING:
    from bot.search.retriever import Retriever

PARAGRAPH_BYTES = 5_000_000
SECTION_PARAGRAPHS = 1_000_000
CITE_RUNS = 5
PRESS_RUNS = 20
VECTOR_DIMENSION = 8  # the section's vectors are never searched: keep them small
_WORDS = (
    "the",
    "crisis",
    "talks",
    "sanctions",
    "treaty",
    "envoy",
    "north",
    "south",
    "summit",
    "freeze",
    "dual",
    "track",
    "proposal",
    "missile",
    "test",
    "allies",
    "pressure",
    "dialogue",
    "verification",
    "reactor",
    "border",
    "trade",
    "aid",
    "regime",
)


def huge_paragraph(size: int, seed: int = 0) -> str:
    """One paragraph of about `size` characters: sentences, no blank line."""
    rng = random.Random(seed)
    sentences: list[str] = []
    length = 0
    number = 0
    while length < size:
        number += 1
        words = rng.choices(_WORDS, k=rng.randint(8, 20))
        sentence = f"{words[0].capitalize()} {' '.join(words[1:])} {number}."
        sentences.append(sentence)
        length += len(sentence) + 1
    return " ".join(sentences)


def bench_huge_paragraph(size: int, runs: int = CITE_RUNS) -> dict[str, Any]:
    from bot.index.build import build_index
    from bot.index.embedding import HashingEmbedder
    from bot.index.store import load_index
    from bot.search.retriever import Retriever

    text = huge_paragraph(size)
    phrase = " ".join(text.split()[-12:-4])  # from the end: every earlier piece is scanned
    embedder = HashingEmbedder()
    with tempfile.TemporaryDirectory(prefix="footnote-costs-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / "huge.txt").write_text("Huge\n\n" + text + "\n", encoding="utf-8")
        started = time.perf_counter()
        report = build_index(corpus, Path(tmp) / "index", embedder)
        indexed = time.perf_counter() - started
        store = load_index(Path(tmp) / "index")
    seconds: list[float] = []
    found = True
    for _ in range(runs):
        retriever = Retriever(store, embedder)  # nothing folded yet
        started = time.perf_counter()
        answer = retriever.cite(phrase)
        seconds.append(time.perf_counter() - started)
        found = found and answer.found
    return {
        "bytes": len(text.encode("utf-8")),
        "index_seconds": round(indexed, 2),
        "passages": report.passages,
        "paragraphs": len(store.paragraphs),
        "cite": summarize(seconds),
        "cite_found": found,
    }


def huge_section_retriever(paragraphs: int) -> Retriever:
    """An index whose one document has one section of `paragraphs` paragraphs, each one
    sentence with one passage; made from records, with zero vectors."""
    import numpy as np

    from bot.corpus import Document, Paragraph, Section
    from bot.index.embedding import HashingEmbedder
    from bot.index.manifest import Manifest, describe_documents
    from bot.index.passages import ParagraphRecord, Passage
    from bot.index.store import IndexStore
    from bot.search.retriever import Retriever

    doc_id, title, heading = "huge-section", "Huge section", "Everything"
    records: list[ParagraphRecord] = []
    passages: list[Passage] = []
    spans: list[Paragraph] = []
    offset = len(title) + len(heading) + 4
    for row in range(paragraphs):
        # A handful of distinct texts: BM25, built with the store, stays a few terms.
        text = f"{_WORDS[row % len(_WORDS)].capitalize()} comes up in this paragraph."
        end = offset + len(text)
        records.append(
            ParagraphRecord(row, doc_id, 0, heading, row + 1, text, offset, end, ((0, len(text)),))
        )
        passages.append(
            Passage(f"{row:012x}", row, doc_id, 0, heading, row + 1, 0, 0, offset, end, text)
        )
        spans.append(Paragraph(text, offset, end))
        offset = end + 2
    document = Document(doc_id, f"{doc_id}.txt", title, (Section(heading, tuple(spans)),), "", "")
    manifest = Manifest(
        model="fake:hashing",
        dimension=VECTOR_DIMENSION,
        passage_count=len(passages),
        paragraph_count=len(records),
        corpus_hash="synthetic",
        built_at="",
        faiss_type="flat",
        faiss_params={},
        files={},
        documents=describe_documents([document], passages),
    )
    vectors = np.zeros((len(passages), VECTOR_DIMENSION), dtype=np.float32)
    store = IndexStore(manifest, passages, records, vectors)
    return Retriever(store, HashingEmbedder(VECTOR_DIMENSION))


def bench_section_press(retriever: Retriever, runs: int = PRESS_RUNS) -> dict[str, Any]:
    from bot.render.callbacks import ShowSection, doc_key
    from bot.render.presses import render_press

    library = retriever.library
    section = library.sections()[0]
    press = ShowSection(doc_key(section.doc_id), section.section_no)
    seconds: list[float] = []
    chars = 0
    for _ in range(runs + 1):  # the first run warms up
        started = time.perf_counter()
        reply = render_press(library, press)
        seconds.append(time.perf_counter() - started)
        assert reply is not None
        chars = len(reply.html)
    return {"paragraphs": section.paragraphs, "press": summarize(seconds[1:]), "reply_chars": chars}


def run_costs(options: BenchOptions, log: TextIO) -> dict[str, Any]:
    from bot.bench.costs_webhook import run_health_under_presses

    scale = options.costs_scale
    size = max(10_000, int(PARAGRAPH_BYTES * scale))
    paragraphs = max(100, int(SECTION_PARAGRAPHS * scale))
    results: dict[str, Any] = {"scale": scale}
    log.write(f"costs: a {size:,}-character paragraph, indexed and cited ...\n")
    results["huge_paragraph"] = bench_huge_paragraph(size)
    log.write(f"costs: a section of {paragraphs:,} paragraphs ...\n")
    started = time.perf_counter()
    retriever = huge_section_retriever(paragraphs)
    built = time.perf_counter() - started
    results["huge_section"] = {**bench_section_press(retriever), "build_seconds": round(built, 2)}
    log.write("costs: /healthz while 100 presses and /sections arrive at once ...\n")
    results["health"] = run_health_under_presses(retriever)
    return results


def format_costs(costs: dict[str, Any]) -> str:
    paragraph, section, health = costs["huge_paragraph"], costs["huge_section"], costs["health"]
    rows = [
        [
            f"index a {paragraph['bytes'] / 1e6:.2f} MB one-paragraph file (s)",
            f"{paragraph['index_seconds']:.2f}",
            "",
        ],
        [
            f"cite on it, fresh Retriever ({paragraph['paragraphs']} pieces; ms)",
            f"{paragraph['cite']['p50_ms']:.1f}",
            f"{paragraph['cite']['max_ms']:.1f}",
        ],
        [
            f"open an index of one {section['paragraphs']:,}-paragraph section (s)",
            f"{section['build_seconds']:.2f}",
            "",
        ],
        [
            f"section press, {section['paragraphs']:,} paragraphs (ms)",
            f"{section['press']['p50_ms']:.3f}",
            f"{section['press']['max_ms']:.3f}",
        ],
    ]
    idle, busy = health["idle"], health["during_burst"]
    rows.append(
        [
            f"/healthz, idle (ms; {idle['n']} probes)",
            f"{idle['p50_ms']:.1f}",
            f"{health['idle_p99_ms']:.1f}",
        ]
    )
    rows.append(
        [
            f"/healthz, {health['presses']} presses + /sections at once (ms; {busy['n']} probes)",
            f"{busy['p50_ms']:.1f}",
            f"{health['during_burst_p99_ms']:.1f}",
        ]
    )
    out = [f"\nCosts (fake embedder, scale {costs['scale']}):"]
    out.append(table(rows, ["", "median", "max / p99"]))
    failed = health["probe_failures"]["during_burst"]
    if failed:
        out.append(f"/healthz failed during the burst: {failed[:10]}")
    out.append(
        f"(all {health['presses'] + 1} answered {health['all_answered_ms']:.0f} ms after the "
        "burst; Telegram's 30 messages/s pace the edits)"
    )
    return "\n".join(out)
