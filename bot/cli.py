"""The `footnote` command line. Heavy modules (torch, faiss, telegram) load only when needed."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot import __version__
from bot.config import Settings, load_settings
from bot.errors import ConfigError, FootnoteError, UsageError

if TYPE_CHECKING:
    from bot.index.build import BuildReport
    from bot.render.reply import Reply
    from bot.search.answer import Answer
    from bot.search.retriever import Retriever

EXIT_ERROR = 1


def _progress_bar(enabled: bool) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    if not enabled:
        return None, lambda: None
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="passage", desc="Embedding", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    def close() -> None:
        if bar is not None:
            bar.close()

    return update, close


def _open(settings: Settings, quiet: bool = False) -> tuple[Retriever, BuildReport]:
    from bot.search.retriever import open_retriever

    progress, close = _progress_bar(not quiet and sys.stderr.isatty())
    try:
        retriever, report = open_retriever(
            settings.corpus_dir, settings.index_dir, settings.model, progress
        )
    finally:
        close()
    if report.rebuilt and not quiet:
        print(_build_summary(report), file=sys.stderr)
    return retriever, report


def _build_summary(report: BuildReport) -> str:
    documents = f"{report.documents} document" + ("s" if report.documents != 1 else "")
    lines = [
        f"Indexed {documents}, {report.passages} passages in {report.seconds:.1f} s "
        f"({report.reason})."
    ]
    lines += [f"Skipped {p.path}: {p.reason}" for p in report.problems]
    lines += report.dropped_lines()
    return "\n".join(lines)


# -- commands -------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.index.build import build_index
    from bot.index.embedding import make_embedder

    progress, close = _progress_bar(not args.quiet)
    try:
        report = build_index(
            settings.corpus_dir,
            settings.index_dir,
            make_embedder(settings.model),
            progress,
            force=args.force,
        )
    finally:
        close()
    if report.rebuilt:
        print(_build_summary(report))
    else:
        print(f"Index is up to date: {report.documents} documents, {report.passages} passages.")
        for problem in report.problems:
            print(f"Skipped {problem.path}: {problem.reason}")
    return 0


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "query": answer.query,
        "found": answer.found,
        "results": [
            {
                "document": hit.document.title,
                "section": hit.passage.section_title,
                "paragraph": hit.passage.paragraph_no,
                "quote": hit.quote,
                "context": hit.context,
                "score": round(hit.score, 4),
                "id": hit.passage.id,
            }
            for hit in answer.hits
        ],
    }


def _print_answer(answer: Answer, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(answer_json(answer), ensure_ascii=False) + "\n")
        return
    from bot.render.reply import answer_reply, format_hit

    out.write(f"Q: {answer.query}\n")
    shown = answer.hits if answer.found else ()
    if not shown:
        out.write(render_terminal(answer_reply(answer), out) + "\n\n")
        return
    for number, hit in enumerate(shown):
        out.write(render_terminal(format_hit(hit), out))
        out.write(f"   (score {hit.score:.3f}, id {hit.passage.id}, result {number + 1})\n\n")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    retriever, _ = _open(settings, quiet=args.json)
    vectors = retriever.embed(args.questions) if retriever.config.uses_dense else None
    for number, question in enumerate(args.questions):
        vector = vectors[number] if vectors is not None else None
        _print_answer(retriever.ask(question, args.k, vector), args.json, sys.stdout)
    return 0


def cmd_cite(args: argparse.Namespace, settings: Settings) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    retriever, _ = _open(settings, quiet=args.json)
    _print_answer(retriever.cite(" ".join(args.phrase), args.k), args.json, sys.stdout)
    return 0


def cmd_sections(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render.reply import section_label

    retriever, _ = _open(settings, quiet=args.json)
    manifest = retriever.library.manifest
    if args.json:
        toc = [
            {
                "document": doc.title,
                "path": doc.path,
                "dropped": doc.dropped,
                "sections": [
                    {
                        "title": s.title,
                        "paragraphs": s.paragraphs,
                        "passages": s.passages,
                        "has_text": not s.empty,
                    }
                    for s in doc.sections
                ],
            }
            for doc in manifest.documents
        ]
        print(json.dumps(toc, ensure_ascii=False))
        return 0
    for doc in manifest.documents:
        print(f"{doc.title}  ({doc.path})")
        width = max((len(section_label(s.title)) for s in doc.sections), default=0)
        for section in doc.sections:
            label = section_label(section.title).ljust(width)
            if section.empty:
                print(f"  {label}  — no text in this copy")
            else:
                print(f"  {label}  {section.paragraphs:>3} ¶  {section.passages:>5} passages")
    for problem in manifest.problems:
        print(f"Skipped {problem.path}: {problem.reason}")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evals import KOREAN_CRISIS_QUESTIONS
    from bot.evals.evaluation import calibrate_threshold, evaluate, load_eval_set
    from bot.search.ranking import RetrievalConfig

    retriever, _ = _open(settings, quiet=True)
    eval_set = load_eval_set(Path(args.questions) if args.questions else KOREAN_CRISIS_QUESTIONS)
    modes = ["hybrid", "dense", "lexical"] if args.mode == "all" else [args.mode]
    for mode in modes:
        config = RetrievalConfig(mode=mode)
        report = evaluate(retriever.with_config(config), eval_set)
        summary = report.summary()
        summary["threshold"] = config.threshold
        if args.calibrate:
            summary["calibrated_threshold"] = round(
                calibrate_threshold(report.on_topic_scores, report.off_topic_scores), 4
            )
        if args.json:
            print(json.dumps(summary))
            continue
        print(
            f"{mode:8} top-1 accuracy {report.top1_accuracy:6.1%} "
            f"({report.top1_correct}/{report.questions}), off-topic refusal "
            f"{report.refusal_rate:6.1%} ({report.refused}/{report.off_topic}), "
            f"threshold {config.threshold:.4f}"
            + (f", calibrated {summary['calibrated_threshold']}" if args.calibrate else "")
        )
        if args.verbose:
            for failure in report.failures:
                print(f"    miss: {failure}")
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    retriever, _ = _open(settings)
    return chat_loop(retriever, sys.stdin, sys.stdout)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if args.listen:
        settings = replace(settings, webhook_listen=args.listen)
    if args.port is not None:
        settings = replace(settings, webhook_port=args.port)
    if args.secret:
        settings = replace(settings, webhook_secret=args.secret)
    settings.require_token()
    if args.webhook and not settings.webhook_secret:
        raise ConfigError(
            "webhook mode needs a secret token: set FOOTNOTE_WEBHOOK_SECRET or pass --secret"
        )
    from bot.telegram.serve import serve

    serve(settings, webhook_url=args.webhook)
    return 0


def cmd_start(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_token:
        args.webhook, args.listen, args.port, args.secret = None, None, None, None
        return cmd_run(args, settings)
    print(
        "TELEGRAM_BOT_TOKEN is not set: starting the terminal chat instead of the bot.",
        file=sys.stderr,
    )
    return cmd_chat(args, settings)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench.core import main, options_from_args
    from bot.errors import BenchError

    try:
        options = options_from_args(args, settings.corpus_dir, settings.index_dir, settings.model)
        return main(options, settings.model, sys.stdout, sys.stderr)
    except BenchError as exc:
        raise UsageError(str(exc)) from None


def _add_bench_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    bench = sub.add_parser(
        "bench",
        parents=[common],
        help="measure speed: floor vs answer path vs BM25, batching, start-up, e2e, scale",
        description="Measure Footnote's speed (docs/performance.md explains every figure).",
    )
    bench.add_argument("--json", action="store_true", help="print one JSON summary")
    bench.add_argument("--out", metavar="FILE", help="also write the JSON summary to FILE")
    bench.add_argument("--model", help="embedding model (default $FOOTNOTE_MODEL); fake:hashing")
    bench.add_argument("--questions", default=None, metavar="FILE")
    bench.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    bench.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    bench.add_argument("--burst", type=int, default=20, help="questions at once (default 20)")
    bench.add_argument("--burst-trials", type=int, default=5, metavar="N")
    bench.add_argument(
        "--keystroke-ms",
        default="120,250",
        metavar="MS,...",
        help="inline typing speeds to simulate ('' to skip)",
    )
    bench.add_argument("--inline-text", default="What is the dual track proposal?")
    bench.add_argument("--startup", action="store_true", help="time CLI start-up (subprocesses)")
    bench.add_argument("--startup-runs", type=int, default=5, metavar="N")
    bench.add_argument(
        "--e2e",
        action="store_true",
        help="end to end through the fake Bot API server (needs the repo's tests/)",
    )
    bench.add_argument("--chats", default="1,20,100", metavar="N,...")
    bench.add_argument("--e2e-rounds", type=int, default=5, metavar="N")
    bench.add_argument("--first-answer-runs", type=int, default=3, metavar="N")
    bench.add_argument(
        "--scale",
        nargs="?",
        const="1000,10000",
        metavar="N,...",
        help="synthetic corpora of these sizes (default 1000,10000; e.g. 10000,100000,1000000)",
    )
    bench.add_argument(
        "--embed-sample",
        type=int,
        default=2000,
        metavar="N",
        help="passages of the 10k corpus to embed with the model (0 = all, -1 = skip)",
    )
    bench.add_argument("--scale-queries", type=int, default=200, metavar="N")
    bench.add_argument(
        "--torch-threads", type=int, metavar="N", help="torch intra-op threads (default: torch's)"
    )
    bench.set_defaults(func=cmd_bench)


# -- terminal chat ---------------------------------------------------------------------------

CHAT_HELP = """Type a question, or paste a phrase to find where it stands.
  /cite PHRASE   find where a phrase stands
  /sections      the table of contents
  /about         the documents
  1, 2, ...      press the numbered button under the last answer
  /quit          leave (or Ctrl-D)"""


def render_terminal(html_text: str | Reply, out: TextIO, buttons: bool = True) -> str:
    """Show a Telegram reply in a terminal: quotes indented, bold kept when the terminal can."""
    from bot.render.reply import Reply

    reply = html_text if isinstance(html_text, Reply) else Reply(html_text)
    color = getattr(out, "isatty", lambda: False)() and not os.environ.get("NO_COLOR")
    text = reply.html
    text = re.sub(r"<blockquote[^>]*>(.*?)</blockquote>", _indent_quote, text, flags=re.S)
    bold_on, bold_off = ("\033[1m", "\033[0m") if color else ("", "")
    text = re.sub(
        r"</?(b|strong)>", lambda m: bold_off if m.group().startswith("</") else bold_on, text
    )
    from bot.render.reply import plain_text

    text = plain_text(text)
    if buttons and reply.buttons:
        labels = [b.text for row in reply.buttons for b in row]
        text += "\n" + "  ".join(f"[{n}] {label}" for n, label in enumerate(labels, start=1))
    return text


def _indent_quote(match: re.Match[str]) -> str:
    return "\n".join("│ " + line for line in match.group(1).split("\n"))


def chat_loop(retriever: Retriever, stdin: TextIO, out: TextIO) -> int:
    from bot.errors import CallbackDataError
    from bot.render.callbacks import decode
    from bot.render.presses import render_press
    from bot.render.reply import about_reply, answer_reply, toc_reply

    interactive = stdin.isatty()
    out.write("Footnote — ask about the essay. /help for commands, /quit to leave.\n")
    last: Reply | None = None
    while True:
        if interactive:
            out.write("› ")
            out.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        reply: Reply | None
        if text in {"/quit", "/exit", "quit", "exit"}:
            break
        if text == "/help":
            out.write(CHAT_HELP + "\n")
            continue
        if text == "/sections":
            reply = toc_reply(retriever.library.sections())
        elif text == "/about":
            reply = about_reply(retriever.library)
        elif text.startswith("/cite"):
            phrase = text[len("/cite") :].strip()
            if not phrase:
                out.write("Usage: /cite PHRASE\n")
                continue
            reply = answer_reply(retriever.cite(phrase, 4))
        elif text.isdigit() and last is not None:
            labels = [b for row in last.buttons for b in row]
            number = int(text)
            if not 1 <= number <= len(labels):
                out.write(f"There is no button {number}.\n")
                continue
            try:
                reply = render_press(retriever.library, decode(labels[number - 1].callback_data))
            except CallbackDataError:
                reply = None
            if reply is None:
                out.write("That passage is no longer in the index.\n")
                continue
        else:
            reply = answer_reply(retriever.ask(text, 4))
        last = reply
        out.write(render_terminal(reply, out) + "\n\n")
        out.flush()
    return 0


# -- wiring ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--corpus", metavar="DIR", help="essays to quote (default: $FOOTNOTE_CORPUS or ./corpus)"
    )
    common.add_argument(
        "--index", metavar="DIR", help="where the index lives (default: $FOOTNOTE_INDEX or ./index)"
    )

    parser = argparse.ArgumentParser(
        prog="footnote",
        description="Answer questions about essays by quoting the passage verbatim, "
        "with its section.",
    )
    parser.add_argument("--version", action="version", version=f"footnote {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    index = sub.add_parser("index", parents=[common], help="build or refresh the index")
    index.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    index.add_argument("--quiet", action="store_true", help="no progress bar")
    index.set_defaults(func=cmd_index)

    ask = sub.add_parser("ask", parents=[common], help="answer one or more questions")
    ask.add_argument("questions", nargs="+", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="one JSON object per question, per line")
    ask.add_argument(
        "-k", type=int, default=3, metavar="N", help="results per question (default 3)"
    )
    ask.set_defaults(func=cmd_ask)

    cite = sub.add_parser("cite", parents=[common], help="find where a pasted phrase stands")
    cite.add_argument("phrase", nargs="+", metavar="PHRASE")
    cite.add_argument("--json", action="store_true", help="print one JSON object")
    cite.add_argument("-k", type=int, default=3, metavar="N", help="places to show (default 3)")
    cite.set_defaults(func=cmd_cite)

    sections = sub.add_parser("sections", parents=[common], help="the table of contents")
    sections.add_argument("--json", action="store_true", help="print JSON")
    sections.set_defaults(func=cmd_sections)

    chat = sub.add_parser("chat", parents=[common], help="interactive terminal session")
    chat.set_defaults(func=cmd_chat)

    run = sub.add_parser("run", parents=[common], help="run the Telegram bot")
    run.add_argument(
        "--webhook", metavar="URL", help="public HTTPS URL for webhook mode (default: long polling)"
    )
    run.add_argument(
        "--listen",
        metavar="ADDR",
        help="webhook listen address (default $FOOTNOTE_WEBHOOK_LISTEN or 0.0.0.0)",
    )
    run.add_argument(
        "--port", type=int, help="webhook port (default $FOOTNOTE_WEBHOOK_PORT or 8443)"
    )
    run.add_argument("--secret", help="webhook secret token (default $FOOTNOTE_WEBHOOK_SECRET)")
    run.set_defaults(func=cmd_run)

    start = sub.add_parser(
        "start", parents=[common], help="run the bot if a token is set, else the terminal chat"
    )
    start.set_defaults(func=cmd_start)

    evaluate = sub.add_parser(
        "eval", parents=[common], help="measure retrieval quality on a question file"
    )
    evaluate.add_argument(
        "--questions", default=None, metavar="FILE"
    )
    evaluate.add_argument("--mode", choices=["hybrid", "dense", "lexical", "all"], default="all")
    evaluate.add_argument("--json", action="store_true", help="one JSON summary per mode")
    evaluate.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    evaluate.add_argument(
        "--calibrate",
        action="store_true",
        help="also print the threshold that best separates on- from off-topic on this file",
    )
    evaluate.set_defaults(func=cmd_eval)
    _add_bench_parser(sub, common)
    return parser


def configure_logging(token: str | None) -> None:
    logging.basicConfig(
        level=os.environ.get("FOOTNOTE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if token:
        redactor = TokenRedactor(token)
        for handler in logging.getLogger().handlers:
            handler.addFilter(redactor)


class TokenRedactor(logging.Filter):
    """Replaces the bot token wherever it would appear in a log line."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "<redacted-token>")
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if self.token in text:
                record.exc_text = text.replace(self.token, "<redacted-token>")
                record.exc_info = None
        return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if getattr(args, "corpus", None):
            settings = replace(settings, corpus_dir=Path(args.corpus))
        if getattr(args, "index", None):
            settings = replace(settings, index_dir=Path(args.index))
        if args.command in {"run", "start"}:
            configure_logging(settings.telegram_token)
        result: int = args.func(args, settings)
        return result
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if isinstance(exc, FootnoteError):
            print(f"footnote: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if os.environ.get("FOOTNOTE_DEBUG"):
            raise
        print(
            f"footnote: unexpected error: {type(exc).__name__}: {exc} "
            "(set FOOTNOTE_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
