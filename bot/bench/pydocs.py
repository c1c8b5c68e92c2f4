"""`footnote bench --pydocs`: Python's own HTML documentation as a real large corpus.

The pages come from the Debian package python3.11-doc (/usr/share/doc/python3.11/html, about
530 pages), installed with apt-get when missing.  They are copied into a fresh corpus folder
and indexed by `footnote index` in a child process with the hashing embedder: the real model
would need about 1.6 hours for its ~124k passages (docs/performance.md 6.1: 21.5 passages/s),
and what is measured here is everything around the model.  Then:

* every page is accounted for: pages copied = documents read + pages named as skipped;
* a fresh process opens the index and answers its first question (the hashing embedder loads
  nothing, so no model load is in the figure), with its peak RSS;
* `footnote sections` and `footnote cite` are timed as subprocesses, and checked torch-free.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.bench.apt import AptError, apt_install
from bot.bench.options import PYDOCS_HTML, BenchOptions
from bot.bench.processes import footnote_command
from bot.bench.startup import heavy_imports, time_command
from bot.bench.stats import table
from bot.errors import BenchError

PYDOCS_PACKAGE = "python3.11-doc"
PYDOCS_MODEL = "fake:hashing"
# The first is the index's first question; the others give a warm median beside it.
PYDOCS_QUESTIONS = (
    "How do I read a JSON file into a dictionary?",
    "What does the with statement do?",
    "How can I sort a list of dictionaries by a key?",
    "What is a generator?",
    "How do I run a subprocess and capture its output?",
    "What does the global interpreter lock do?",
    "How are default argument values evaluated?",
    "What is the difference between a list and a tuple?",
)
INDEX_TIMEOUT = 3600

# Run in a fresh process, so that its peak RSS is the open's and the answer's own.
_ANSWER_CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
from bot.index.embedding import make_embedder
from bot.index.store import load_index
from bot.render.reply import answer_reply, hit_citation
from bot.search.retriever import Retriever
questions = json.loads(sys.argv[2])
started = time.perf_counter()
store = load_index(Path(sys.argv[1]))
retriever = Retriever(store, make_embedder(store.manifest.model))
opened = time.perf_counter()
first = retriever.ask(questions[0])
answer_reply(first)
answered = time.perf_counter()
warm = []
for question in questions[1:]:
    began = time.perf_counter()
    answer_reply(retriever.ask(question))
    warm.append(time.perf_counter() - began)
status = Path("/proc/self/status").read_text()
peak = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:"))
heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
top = first.hits[0] if first.hits else None
print(json.dumps({
    "passages": len(store.passages), "faiss": store.manifest.faiss_type,
    "open_seconds": opened - started, "first_answer_seconds": answered - opened,
    "warm_answer_p50_ms": 1000 * statistics.median(warm) if warm else None,
    "peak_rss_mb": peak * 1024 / 1e6, "heavy_imports": heavy,
    "question": questions[0], "verdict": first.verdict,
    "quote": top.quote if top else "", "citation": hit_citation(top) if top else "",
}))
"""


def ensure_pydocs(source: Path, log: TextIO) -> Path:
    """The folder of HTML pages; Python's documentation is installed with apt-get if missing."""
    if source.is_dir() and any(source.rglob("*.html")):
        return source
    if source != PYDOCS_HTML:
        raise BenchError(f"no HTML pages in {source}")
    log.write(f"pydocs: {source} is missing; installing {PYDOCS_PACKAGE} with apt-get ...\n")
    try:
        apt_install([PYDOCS_PACKAGE])
    except AptError as error:
        raise BenchError(f"could not install {PYDOCS_PACKAGE}: {error}") from None
    if not any(source.rglob("*.html")):
        raise BenchError(f"{PYDOCS_PACKAGE} is installed but {source} holds no HTML pages")
    return source


def copy_pages(source: Path, corpus: Path) -> list[str]:
    """Copy every HTML page (regular files only) under `source` into `corpus`; their names."""
    pages: list[str] = []
    for path in sorted(source.rglob("*.html")):
        if path.is_symlink() or not path.is_file():
            continue
        name = path.relative_to(source).as_posix()
        target = corpus / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        pages.append(name)
    return pages


def run_index(corpus: Path, index: Path, env: dict[str, str]) -> dict[str, Any]:
    """`footnote index` in a child process: wall seconds, peak RSS and what it printed."""
    command = [*footnote_command(), "index", "--quiet", "--corpus", str(corpus)]
    command += ["--index", str(index)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        # wait4 gives this child's own peak RSS (getrusage would mix in every child so far).
        deadline = time.monotonic() + INDEX_TIMEOUT
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        while not pid:
            if time.monotonic() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                raise BenchError(f"footnote index ran for more than {INDEX_TIMEOUT} s")
            time.sleep(0.05)
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        printed = out.read().decode(errors="replace") + err.read().decode(errors="replace")
    if process.returncode != 0:
        raise BenchError(f"footnote index exited {process.returncode}: {printed.strip()[-500:]}")
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss * 1024 / 1e6, "printed": printed}


def account_for_pages(pages: Sequence[str], index: Path, printed: str) -> dict[str, Any]:
    """Every page copied is a document read or a file named as skipped, and the build said so."""
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    read = {document["path"] for document in manifest["documents"]}
    skipped = {problem["path"]: problem["reason"] for problem in manifest["problems"]}
    unaccounted = sorted(set(pages) - read - set(skipped))
    unnamed = sorted(name for name in skipped if f"Skipped {name}:" not in printed)
    return {
        "pages": len(pages),
        "documents_read": len(read),
        "skipped_named": len(skipped),
        "accounted": not unaccounted and not unnamed and len(pages) == len(read) + len(skipped),
        "unaccounted": unaccounted[:20],
        "skipped_but_not_printed": unnamed[:20],
        "skipped": dict(sorted(skipped.items())),
        "passages": manifest["passage_count"],
        "paragraphs": manifest["paragraph_count"],
        "faiss": manifest["faiss_type"],
        "build_seconds": manifest.get("build_seconds"),
    }


def answer_in_child(index: Path, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _ANSWER_CHILD, str(index), json.dumps(PYDOCS_QUESTIONS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"answering on the Python docs failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def cite_phrase(quote: str) -> str:
    """A phrase that stands in the corpus: the first eight words of the first answer's quote."""
    return " ".join(quote.split()[:8]) or "Python"


def run_pydocs(options: BenchOptions, log: TextIO) -> dict[str, Any]:
    source = ensure_pydocs(options.pydocs or PYDOCS_HTML, log)
    with tempfile.TemporaryDirectory(prefix="footnote-pydocs-") as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        pages = copy_pages(source, corpus)
        env = {
            **os.environ,
            "FOOTNOTE_CORPUS": str(corpus),
            "FOOTNOTE_INDEX": str(index),
            "FOOTNOTE_MODEL": PYDOCS_MODEL,
            "HF_HUB_OFFLINE": "1",
        }
        log.write(f"pydocs: footnote index on {len(pages)} pages of {source} ...\n")
        built = run_index(corpus, index, env)
        accounting = account_for_pages(pages, index, built.pop("printed"))
        log.write("pydocs: opening the index in a fresh process, first question ...\n")
        first = answer_in_child(index, env)
        phrase = cite_phrase(first["quote"])
        footnote = footnote_command()
        commands = {
            "footnote sections": [*footnote, "sections"],
            "footnote cite": [*footnote, "cite", phrase],
        }
        log.write("pydocs: timing footnote sections and footnote cite ...\n")
        timings = {
            name: time_command(command, env, options.startup_runs)
            for name, command in commands.items()
        }
        imports = {
            name: heavy_imports(command[len(footnote) :], env) for name, command in commands.items()
        }
    return {
        "source": str(source),
        "model": PYDOCS_MODEL,
        "index": {key: round(value, 2) for key, value in built.items()},
        **accounting,
        "first": {k: round(v, 3) if isinstance(v, float) else v for k, v in first.items()},
        "cite_phrase": phrase,
        "commands": timings,
        "heavy_imports": imports,
    }


def format_pydocs(result: dict[str, Any]) -> str:
    first = result["first"]
    lines = [
        f"\nPython docs ({result['source']}, {result['model']}): {result['pages']} pages = "
        f"{result['documents_read']} read + {result['skipped_named']} skipped and named "
        f"({'all accounted for' if result['accounted'] else 'NOT ALL ACCOUNTED FOR'}); "
        f"{result['passages']} passages, {result['paragraphs']} paragraphs, {result['faiss']}",
        f"footnote index: {result['index']['seconds']} s, peak RSS "
        f"{result['index']['peak_rss_mb']:.0f} MB",
    ]
    rows: list[Sequence[object]] = [
        ["open (load_index + Retriever)", f"{first['open_seconds']:.3f} s"],
        ["first answer", f"{first['first_answer_seconds']:.3f} s"],
        ["later answers, p50", f"{first['warm_answer_p50_ms']:.1f} ms"],
        ["peak RSS (open + answers)", f"{first['peak_rss_mb']:.0f} MB"],
    ]
    for name, timing in result["commands"].items():
        rows.append([f"{name}, p50 / p95", f"{timing['p50_ms']:.0f} / {timing['p95_ms']:.0f} ms"])
    lines.append(table(rows, ["fresh process", "measured"]))
    lines.append(
        f"First question: {first['question']!r} -> {first['verdict']}: {first['citation']}"
    )
    for name, heavy in result["heavy_imports"].items():
        lines.append(f"{name} imported: {', '.join(heavy) or 'no torch/sentence_transformers'}")
    return "\n".join(lines)
