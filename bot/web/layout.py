"""The frame every reader page shares, and the small pieces pages are built from.

Every string that comes from the corpus, the index or a request goes through `esc` (or
`attr` for attribute values) before it reaches the HTML; links are built from ids and
document ids the library knows, percent-encoded.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from bot.web.assets import CSS_VERSION, JS_VERSION

SITE = "Footnote"
# Longest question or phrase the reader searches for (the form and the server both cap it).
MAX_QUERY = 1000


def esc(text: str) -> str:
    """Text content and attribute values alike (quotes escaped too)."""
    return html.escape(text, quote=True)


def document_href(doc_id: str) -> str:
    return "/d/" + quote(doc_id, safe="/")


def section_href(doc_id: str, section_no: int) -> str:
    return f"{document_href(doc_id)}#s{section_no}"


def passage_href(passage_id: str) -> str:
    return "/p/" + quote(passage_id, safe="")


def safe_link(url: str | None) -> str | None:
    """A corpus-given URL (a document's source) as a link target only if it is http(s):
    never `javascript:` or `data:`."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def page(title: str, body: str, *, query: str = "", status_note: str = "") -> str:
    """A whole HTML document: landmarks (banner, search, main, contentinfo), one stylesheet
    and one script from this origin, nothing else."""
    full_title = f"{title} · {SITE}" if title != SITE else SITE
    note = f'<p class="note" role="status">{esc(status_note)}</p>' if status_note else ""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(full_title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f'<link rel="stylesheet" href="/static/reader.css?v={CSS_VERSION}">\n'
        f'<script src="/static/reader.js?v={JS_VERSION}" defer></script>\n'
        "</head>\n<body>\n"
        '<a class="skip" href="#main">Skip to the text</a>\n'
        '<header class="site">\n'
        f'<a class="home" href="/">{SITE}</a>\n'
        '<form class="search" role="search" action="/ask" method="get">\n'
        '<label class="skip" for="q">Question or phrase</label>\n'
        f'<input type="search" id="q" name="q" maxlength="{MAX_QUERY}" required '
        f'placeholder="Ask the essays, or paste a phrase" value="{esc(query)}">\n'
        '<button type="submit">Ask</button>\n'
        '<button type="submit" formaction="/cite">Find phrase</button>\n'
        "</form>\n</header>\n"
        f'<main id="main" tabindex="-1">\n{note}{body}\n</main>\n'
        '<footer class="site"><p>Footnote quotes the essays verbatim, with where each quote '
        'stands. <a href="/">Library</a></p></footer>\n'
        "</body>\n</html>\n"
    )


def message_page(title: str, text: str, *, query: str = "") -> str:
    """A page that only says something (not found, too long, too many requests)."""
    body = f'<h1>{esc(title)}</h1>\n<p>{esc(text)}</p>\n<p><a href="/">Back to the library</a></p>'
    return page(title, body, query=query)
