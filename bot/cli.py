"""The `footnote` command line. Heavy modules (torch, faiss, telegram) load only when needed."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from bot import __version__
from bot.config import Settings, debug_requested, load_settings
from bot.errors import ConfigError, FootnoteError, UsageError
from bot.redaction import redact, redact_secrets
from bot.text import printable

if TYPE_CHECKING:
    from bot.index.build import BuildReport
    from bot.search.answer import Answer
    from bot.search.retriever import Retriever

Opened = TypeVar("Opened")  # what an opener gives: a Retriever, or a manifest alone

EXIT_ERROR = 1
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG


def _open(settings: Settings, quiet: bool = False) -> tuple[Retriever, BuildReport]:
    from bot.search.retriever import open_retriever

    opener = partial(open_retriever, settings.corpus_dir, settings.index_dir, settings.model)
    return _fresh(opener, settings, quiet)


def _fresh(
    opener: Callable[..., tuple[Opened, BuildReport]], settings: Settings, quiet: bool
) -> tuple[Opened, BuildReport]:
    """`opener`'s index, brought up to date first, with a progress bar, the build's summary
    and any warning on stderr."""
    from bot.render.terminal import build_summary, progress_bar

    progress, close = progress_bar(not quiet and sys.stderr.isatty())
    try:
        opened, report = opener(progress, follow_links=settings.follow_links, on_wait=_say_waiting)
    finally:
        close()
    if report.rebuilt and not quiet:
        print(build_summary(report), file=sys.stderr)
    if report.warning:
        _say(f"footnote: warning: {report.warning}")
    return opened, report


def _say_waiting(holder: str) -> None:
    _say(f"footnote: another build is writing the index ({holder}); waiting")


# -- commands -------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.index.build import build_index
    from bot.index.embedding import make_embedder
    from bot.render.terminal import build_summary, progress_bar
    from bot.search.calibration import calibrate

    progress, close = progress_bar(not args.quiet)
    try:
        report = build_index(
            settings.corpus_dir,
            settings.index_dir,
            make_embedder(settings.model),
            progress,
            force=args.force,
            follow_links=settings.follow_links,
            on_wait=_say_waiting,
            allow_large=args.allow_large,
            calibrate=calibrate,
            recalibrate=args.recalibrate,
        )
    finally:
        close()
    print(build_summary(report))
    return 0


def _print_answer(answer: Answer, as_json: bool, out: TextIO) -> None:
    if as_json:
        from bot.render.contract import answer_json

        out.write(json.dumps(answer_json(answer), ensure_ascii=False) + "\n")
    else:
        from bot.render.terminal import answer_text

        out.write(answer_text(answer, out))


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    retriever, _ = _open(settings, quiet=args.json)
    vectors, tokens = (
        retriever.encode(args.questions) if retriever.config.uses_dense else (None, None)
    )
    for number, question in enumerate(args.questions):
        vector = vectors[number] if vectors is not None else None
        answer = retriever.ask(question, args.k, vector, tokens[number] if tokens else None)
        _print_answer(answer, args.json, sys.stdout)
    return 0


def cmd_cite(args: argparse.Namespace, settings: Settings) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    retriever, _ = _open(settings, quiet=args.json)
    _print_answer(retriever.cite(" ".join(args.phrase), args.k), args.json, sys.stdout)
    return 0


def cmd_sections(args: argparse.Namespace, settings: Settings) -> int:
    from bot.index.embedding import make_embedder
    from bot.index.store import open_manifest
    from bot.search.calibration import calibrate

    # The contents are the manifest's: an up-to-date index opens nothing else (a stale one is
    # rebuilt as for a question, calibrated the same).
    embedder = make_embedder(settings.model)
    opener = partial(
        open_manifest, settings.corpus_dir, settings.index_dir, embedder, calibrate=calibrate
    )
    manifest, _ = _fresh(opener, settings, quiet=args.json)
    if args.json:
        from bot.render.contract import toc_json

        print(json.dumps(toc_json(manifest), ensure_ascii=False))
        return 0
    from bot.render.terminal import toc_lines

    for line in toc_lines(manifest):
        print(line)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evals.command import run_essay_command, run_squad_command

    if args.squad:
        return run_squad_command(args, settings.model, sys.stdout)
    retriever, _ = _open(settings, quiet=True)
    return run_essay_command(args, retriever, sys.stdout)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.chat import chat_loop
    from bot.index.threads import limit_threads

    limit_threads(settings.serving_threads)  # a serving process, like the bot
    retriever, _ = _open(settings)
    return chat_loop(retriever, sys.stdin, sys.stdout)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    return _serve(settings, webhook_url=args.webhook)


def cmd_start(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_token:
        return _serve(settings, webhook_url=None)
    print(
        "TELEGRAM_BOT_TOKEN is not set: starting the terminal chat instead of the bot.",
        file=sys.stderr,
    )
    logging.getLogger().setLevel(logging.WARNING)  # library INFO lines (FAISS) stay out of the chat
    return cmd_chat(args, settings)


def _serve(settings: Settings, webhook_url: str | None) -> int:
    settings.require_token()
    if webhook_url and not settings.webhook_secret:
        raise ConfigError(
            "webhook mode needs a secret token: set FOOTNOTE_WEBHOOK_SECRET or "
            "FOOTNOTE_WEBHOOK_SECRET_FILE (or pass --secret)"
        )
    from bot.telegram.serve import serve

    serve(settings, webhook_url=webhook_url)
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bench.options import options_from_args
    from bot.bench.run import main
    from bot.errors import BenchError

    try:
        options = options_from_args(args, settings.corpus_dir, settings.index_dir, settings.model)
        return main(options, settings.model, sys.stdout, sys.stderr)
    except BenchError as exc:
        raise UsageError(str(exc)) from None


def _add_bench_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    from bot.bench.options import add_bench_arguments

    bench = sub.add_parser(
        "bench",
        parents=[common],
        help="measure speed: floor vs answer path vs BM25, batching, start-up, e2e, scale, costs",
        description="Measure Footnote's speed (docs/performance.md explains every figure).",
    )
    add_bench_arguments(bench)
    bench.set_defaults(func=cmd_bench)


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
    index.add_argument(
        "--recalibrate",
        action="store_true",
        help="fit the verdict thresholds to the corpus again, even if it changed little",
    )
    index.add_argument(
        "--allow-large",
        action="store_true",
        help="build even when the index would need more memory to open than this machine has",
    )
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
    run.add_argument(
        "--secret",
        help="webhook secret token (default $FOOTNOTE_WEBHOOK_SECRET or the file "
        "$FOOTNOTE_WEBHOOK_SECRET_FILE names; prefer those: ps shows command lines)",
    )
    run.set_defaults(func=cmd_run)

    start = sub.add_parser(
        "start", parents=[common], help="run the bot if a token is set, else the terminal chat"
    )
    start.set_defaults(func=cmd_start)

    evaluate = sub.add_parser(
        "eval", parents=[common], help="measure retrieval quality on a question file"
    )
    from bot.evals.command import add_eval_options

    add_eval_options(evaluate)
    evaluate.set_defaults(func=cmd_eval)
    _add_bench_parser(sub, common)
    from bot.web.command import add_web_parser

    add_web_parser(sub, common, _open)
    return parser


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings from the environment (and .env), overridden by the options given.

    An empty option counts as not given, as an empty environment variable does.
    """

    def option(name: str) -> Any:
        value = getattr(args, name, None)
        return None if value == "" else value

    corpus, index = option("corpus"), option("index")
    return load_settings().with_overrides(
        corpus_dir=None if corpus is None else Path(corpus),
        index_dir=None if index is None else Path(index),
        webhook_listen=option("listen"),
        webhook_port=option("port"),
        webhook_secret=option("secret"),
    )


class PrintableFormatter(logging.Formatter):
    """Log lines whose message cannot fake other lines or drive the terminal: file names,
    titles and user text may hold newlines and escape sequences (tracebacks keep theirs)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


def configure_logging(settings: Settings) -> None:
    # Before anything logs: no record may hold the token or the webhook secret.
    redact_secrets(settings.telegram_token, settings.webhook_secret)
    handler = logging.StreamHandler()
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    # httpx logs every request URL, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    serving = args.command in {"run", "start"}
    settings: Settings | None = None
    try:
        settings = settings_for(args)
        # Every line printed below, and every log record, is redacted from here on.
        redact_secrets(settings.telegram_token, settings.webhook_secret)
        if serving:
            configure_logging(settings)
        result: int = args.func(args, settings)
        return result
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if isinstance(exc, FootnoteError):
            _say(f"footnote: error: {exc}")
            # A service manager restarting the bot cannot fix a setting, a corpus or an index
            # that does not fit: EX_CONFIG, which deploy/footnote.service does not restart on.
            return EXIT_CONFIG if serving else EXIT_ERROR
        # Settings that failed to load cannot say; the environment alone then decides.
        debug = settings.debug if settings is not None else debug_requested(os.environ)
        if debug:
            raise
        _say(
            f"footnote: unexpected error: {type(exc).__name__}: {exc} "
            "(set FOOTNOTE_DEBUG=1 to see the traceback)"
        )
        return EXIT_ERROR


def _say(line: str) -> None:
    """One line on stderr: secrets redacted (an API error may echo a URL with the token),
    control characters escaped."""
    print(printable(redact(line)), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
