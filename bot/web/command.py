"""`footnote web [--host H] [--port P]`: the reader on its own, no bot token needed.

Anyone with a corpus can browse and search it.  The command's body lives here so that
bot/cli.py only wires it in (add_web_parser); aiohttp and the engine load only when it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.config import Settings

if TYPE_CHECKING:
    from bot.search.retriever import Retriever

DEFAULT_PORT = 8080
OpenIndex = Callable[[Settings], "tuple[Retriever, Any]"]


def cmd_web(open_index: OpenIndex, args: argparse.Namespace, settings: Settings) -> int:
    from bot.index.threads import limit_threads
    from bot.search.engine import Engine
    from bot.web.serve import ReaderServer, require_reader, serve_until_stopped
    from bot.web.server import Reader

    require_reader(settings)
    settings = settings.with_overrides(web_listen=args.web_host or None, web_port=args.web_port)
    limit_threads(settings.serving_threads)  # a serving process, like the bot
    retriever, _ = open_index(settings)
    retriever.warm_up()  # the model and word list before the first request, as the bot does
    engine = Engine(retriever)
    port = DEFAULT_PORT if settings.web_port is None else settings.web_port
    server = ReaderServer(Reader(lambda: engine, settings), settings.web_listen, port)

    def announce(url: str) -> None:
        public = f" (public at {settings.public_url}/)" if settings.public_url else ""
        print(f"Footnote reader on {url}{public}; Ctrl-C stops it.", file=sys.stderr, flush=True)

    asyncio.run(serve_until_stopped(server, announce))
    return 0


def add_web_parser(sub: Any, common: argparse.ArgumentParser, open_index: OpenIndex) -> None:
    """`footnote web`; `open_index` opens the index as the other commands do."""
    parser = sub.add_parser(
        "web",
        parents=[common],
        help="serve the web reader and search (no bot token needed)",
        description="Serve the reader: the library, documents, passages in place, search, "
        "and /api/ask, /api/cite (the --json objects).",
    )
    parser.add_argument(
        "--host",
        dest="web_host",
        metavar="ADDR",
        help="listen address (default $FOOTNOTE_WEB_LISTEN or 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        dest="web_port",
        type=int,
        metavar="N",
        help=f"port (default $FOOTNOTE_WEB_PORT or {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.set_defaults(func=partial(cmd_web, open_index))
