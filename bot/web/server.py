"""The reader over HTTP: routes, security headers, limits (aiohttp, server-rendered HTML).

Routes (all GET; HEAD too):

* ``/`` the library; ``/d/<document id>`` a document; ``/p/<passage id>`` a passage in place;
* ``/ask?q=`` and ``/cite?q=`` the bot's answers as a page, each linking to its ``/p/`` page;
* ``/api/ask?q=&k=`` and ``/api/cite?q=&k=``: exactly the ``footnote ask --json`` /
  ``cite --json`` objects (bot/render/contract.py);
* ``/static/reader.css`` and ``/static/reader.js``, held in memory (bot/web/assets.py).

Safe by construction: ids and document ids are looked up in the library, never turned into
a path; anything unknown is a 404 page; every response carries a strict
Content-Security-Policy, ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy``; queries
are capped at MAX_QUERY characters and ``k`` at MAX_K; searches (pages and API) are limited
per client address with the bot's own per-user setting (FOOTNOTE_RATE_LIMIT per
FOOTNOTE_RATE_WINDOW seconds).  The reader installs on any aiohttp application: its own
(``footnote web``, bot/web/command.py) or the bot's webhook server, whose routes it leaves
as they are.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from functools import cached_property, partial

from aiohttp import web

from bot.config import Settings
from bot.index.manifest import DocumentInfo
from bot.ratelimit import RateLimiter
from bot.render.callbacks import MAX_RESULTS
from bot.render.contract import answer_json
from bot.search.answer import DEFAULT_RESULTS, Answer
from bot.search.engine import Engine
from bot.search.library import Library
from bot.web.assets import CSS, JS
from bot.web.layout import MAX_QUERY, message_page
from bot.web.pages import answer_page, document_page, library_page, search_form_page

logger = logging.getLogger(__name__)

MAX_K = 10
# The answer pages show as many results as the bot offers per question (next/previous).
PAGE_RESULTS = MAX_RESULTS
PASSAGE_ID = re.compile(r"[0-9a-f]{12}")
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        # Telegram Web shows a Mini App in a frame; nothing else may frame the reader.
        "frame-ancestors 'self' https://web.telegram.org",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HTML = "text/html"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
dumps = partial(json.dumps, ensure_ascii=False)


async def secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response (pages, API, static files, errors): the security headers."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _page(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type=HTML, headers={"Cache-Control": "no-cache"}
    )


def _api_error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers, dumps=dumps)


class _Generation:
    """What the reader derives from one loaded index generation, each made once, when first
    asked for: a reload swaps the engine's Library, and the reader starts a new _Generation."""

    def __init__(self, library: Library) -> None:
        self.library = library

    @cached_property
    def documents(self) -> dict[str, DocumentInfo]:
        return {document.doc_id: document for document in self.library.documents}

    @cached_property
    def library_page(self) -> str:
        # The same for every visitor until the index changes: on a large library (Python's
        # docs: 500 documents, 15,000 sections) making it costs far more than sending it.
        return library_page(self.library)


class Reader:
    """The reader's handlers over whatever engine is in service (a reload swaps it)."""

    def __init__(self, engine: Callable[[], Engine], settings: Settings) -> None:
        self._engine = engine
        self.limiter = RateLimiter(settings.user_rate_limit, settings.user_rate_window)
        self._generation: _Generation | None = None

    def install(self, app: web.Application) -> None:
        """Add the reader's routes, its error pages and its headers to `app`."""
        app.middlewares.append(self._error_pages)
        app.on_response_prepare.append(secure_headers)
        get = app.router.add_get
        get("/", self.library)
        get("/d/{doc_id:.+}", self.document)
        get("/p/{passage_id}", self.passage)
        get("/ask", partial(self.search_page, "ask"))
        get("/cite", partial(self.search_page, "cite"))
        get("/api/ask", partial(self.search_api, "ask"))
        get("/api/cite", partial(self.search_api, "cite"))
        get("/static/reader.css", partial(self.asset, CSS, "text/css"))
        get("/static/reader.js", partial(self.asset, JS, "text/javascript"))

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)  # GET only: no body worth reading
        self.install(app)
        return app

    @property
    def _loaded(self) -> _Generation:
        """The generation in service: the Library object is the generation's identity."""
        library = self._engine().library
        if self._generation is None or self._generation.library is not library:
            self._generation = _Generation(library)
        return self._generation

    # -- pages -----------------------------------------------------------------------------

    async def library(self, request: web.Request) -> web.Response:
        return _page(self._loaded.library_page)

    async def document(self, request: web.Request) -> web.Response:
        loaded = self._loaded
        document = loaded.documents.get(request.match_info["doc_id"])
        if document is None:
            raise web.HTTPNotFound()
        return _page(document_page(loaded.library, document))

    async def passage(self, request: web.Request) -> web.Response:
        passage_id = request.match_info["passage_id"]
        library = self._loaded.library
        hit = library.passage(passage_id) if PASSAGE_ID.fullmatch(passage_id) else None
        if hit is None:
            raise web.HTTPNotFound()
        return _page(document_page(library, hit.document, hit))

    async def search_page(self, mode: str, request: web.Request) -> web.Response:
        query = request.query.get("q", "")
        if not query.strip():
            return _page(search_form_page(mode))
        if len(query) > MAX_QUERY:
            text = f"Ask in at most {MAX_QUERY} characters."
            return _page(message_page("Too long", text), 400)
        wait = self._over_limit(request)
        if wait is not None:
            text = "You're asking faster than I can quote. Give me a few seconds, then ask again."
            response = _page(message_page("Too many questions", text, query=query), 429)
            response.headers["Retry-After"] = wait
            return response
        answer = await self._answer(mode, query, PAGE_RESULTS)
        return _page(answer_page(answer, mode))

    # -- the JSON API ----------------------------------------------------------------------

    async def search_api(self, mode: str, request: web.Request) -> web.Response:
        query = request.query.get("q")
        if query is None:
            return _api_error(400, "missing parameter q")
        if len(query) > MAX_QUERY:
            return _api_error(400, f"q is longer than {MAX_QUERY} characters")
        raw_k = request.query.get("k", str(DEFAULT_RESULTS))
        if not (raw_k.isascii() and raw_k.isdigit() and 1 <= int(raw_k) <= MAX_K):
            return _api_error(400, f"k must be a whole number from 1 to {MAX_K}")
        wait = self._over_limit(request)
        if wait is not None:
            return _api_error(429, "too many requests", **{"Retry-After": wait})
        answer = await self._answer(mode, query, int(raw_k))
        return web.json_response(answer_json(answer), dumps=dumps)

    async def asset(self, text: str, content_type: str, request: web.Request) -> web.Response:
        return web.Response(
            text=text,
            content_type=content_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # -- shared ----------------------------------------------------------------------------

    async def _answer(self, mode: str, query: str, k: int) -> Answer:
        engine = self._engine()
        return await (engine.cite(query, k) if mode == "cite" else engine.ask(query, k))

    def _over_limit(self, request: web.Request) -> str | None:
        """None when the client may search now, else the Retry-After seconds."""
        client = request.remote or "unknown"
        if self.limiter.allow(client):
            return None
        return str(max(1, math.ceil(self.limiter.retry_after(client))))

    @web.middleware
    async def _error_pages(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Unknown paths, ids and methods get a page (JSON under /api), never a traceback."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            # Only the reader's own (GET) requests: anything else on a shared server -- the
            # webhook's POSTs -- keeps the answer its own handler or aiohttp gives.
            if exc.status < 400 or request.method not in ("GET", "HEAD"):
                raise
            if request.path.startswith("/api/"):
                return _api_error(exc.status, exc.reason.lower())
            if exc.status == 404:
                text = "There is no such page, document or passage here (it may have changed)."
                return _page(message_page("Not found", text), 404)
            response = _page(message_page(exc.reason, exc.reason), exc.status)
            response.headers.update({k: v for k, v in exc.headers.items() if k.lower() == "allow"})
            return response
