"""Rules for web pages: what is furniture, which element holds the text, the page's metadata.

Kept apart from the walk in bot/corpus/html.py so each rule can be read (and tested) alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.text import collapse_whitespace

if TYPE_CHECKING:
    from lxml.html import HtmlElement


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_DROP_TAGS = _words(
    """script style noscript nav footer form figcaption svg iframe button template select
    textarea input canvas object embed dialog head title"""
)
_DROP_ROLES = _words("navigation banner contentinfo search menu menubar dialog alert doc-toc")
# A class or id is furniture when every word of it is one of these ("site-footer", "sidebar",
# "share-buttons") and at least one is a noise word. Whole names are judged, never single
# words: Sphinx derives ids from headings, and "related-to-type-hints" is a section.
_NOISE_WORDS = _words(
    """nav navbar navigation menu menubar sidebar sphinxsidebar footer comment comments share
    sharing social ad ads advert advertisement adsbygoogle sponsor sponsored banner breadcrumb
    breadcrumbs cookie cookies newsletter subscribe popup promo related toc skip skiplink
    masthead"""
)
_GENERIC_WORDS = _words(
    """site page main top bottom left right global wrapper wrap container area box widget
    links link bar header inner outer block section buttons button list primary secondary
    slot unit to content"""
)
_MAIN_MARKERS = "h1|article|main"
_PERMALINK_TEXTS = frozenset({"¶", "#", "§", "🔗", "∞", "link", "permalink", "anchor"})
_SOURCE_LINK_TEXTS = frozenset({"[src]", "[source]", "source", "[edit]", "edit"})
_SKIP_LINK = re.compile(r"(?i)^\s*(skip|jump) to (the )?(main )?(content|navigation|main)\b")
_LINK_LIST_SHARE = 0.8
_LINK_LIST_MIN_ITEMS = 3
_LAYOUT_CELL_CHARS = 400
_DEFINITION_WORDS = 6  # a last cell this long is a definition, not a datum
_PROSE_MIN_WORDS = 20
_PROSE_MAX_CODE_SHARE = 0.01
_CODE_CHARS = "{}[]();=<>#$\\|`_*"
_PROMPT = re.compile(r"^\s*(?:>>>|\$ |# |\.\.\. )", re.M)
_TITLE_SEPARATORS = re.compile(r"\s+(?:\||—|–|-|::|·|»)\s+")


def classes(element: HtmlElement) -> frozenset[str]:
    return frozenset(element.get("class", "").lower().split())


def _is_noise_name(name: str) -> bool:
    words = [word for word in re.split(r"[-_\s]+", name.lower()) if word]
    return (
        bool(words)
        and any(word in _NOISE_WORDS for word in words)
        and all(word in _NOISE_WORDS or word in _GENERIC_WORDS for word in words)
    )


def is_furniture(element: HtmlElement, keep_header: bool = True) -> bool:
    """Navigation, banners, forms, hidden and decorative parts of a page."""
    tag = element.tag
    if tag in _DROP_TAGS or (tag == "header" and not keep_header):
        return True
    get = element.get
    if tag == "aside":  # asides are pull quotes and sidebars, except notes and footnotes
        kinds = f"{get('role', '')} {get('class', '')}".lower()
        return not any(word in kinds for word in ("footnote", "endnote", "note", "admonition"))
    if get("hidden") is not None or get("aria-hidden", "").lower() == "true":
        return True
    if "display:none" in get("style", "").replace(" ", "").lower():
        return True
    if get("role", "").lower() in _DROP_ROLES:
        return True
    names = [*get("class", "").split(), get("id", "")]
    if any(_is_noise_name(name) for name in names if name):
        # A layout wrapper such as <div class="with-sidebar"> may hold the essay itself.
        return not element.xpath(f".//*[self::{' or self::'.join(_MAIN_MARKERS.split('|'))}]")
    return False


def is_permalink(element: HtmlElement) -> bool:
    """The "¶" / "#" anchors and "[src]" links that pages put after headings, and "skip to
    content" links."""
    if element.tag != "a":
        return False
    if "headerlink" in classes(element):
        return True
    text = element.text_content().strip()
    if element.get("href", "").startswith("#") and text.lower() in _PERMALINK_TEXTS:
        return True
    if text.lower() in _SOURCE_LINK_TEXTS and element.getparent() is not None:
        return element.getparent().tag in HEADINGS  # "[src]" links beside API headings
    return bool(_SKIP_LINK.match(text))


def text_of(element: HtmlElement) -> str:
    """An element's visible text (furniture and permalink marks left out), whitespace folded."""
    parts: list[str] = []
    _collect(element, parts)
    return collapse_whitespace("".join(parts))


def _collect(element: HtmlElement, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        if isinstance(child.tag, str) and not (is_furniture(child) or is_permalink(child)):
            spaced = child.tag in ("br", "p", "div", "li", "dd", "dt", "td", "th", "tr")
            if spaced:
                parts.append(" ")
            _collect(child, parts)
            if spaced:
                parts.append(" ")
        if child.tail:
            parts.append(child.tail)


def is_link_list(element: HtmlElement) -> bool:
    """A list (or, on pages without a <main>, a block) that is (nearly) all links: a menu or
    a table of contents."""
    items = element.findall("li") if element.tag in ("ul", "ol") else list(element.iter("a"))
    if len(items) < _LINK_LIST_MIN_ITEMS:
        return False
    text = len("".join(element.text_content().split()))
    linked = sum(len("".join(a.text_content().split())) for a in element.iter("a"))
    return text > 0 and linked >= _LINK_LIST_SHARE * text


def is_layout_table(element: HtmlElement) -> bool:
    """A table used to lay out a page (one column, headings or long prose in cells)."""
    rows = list(element.iter("tr"))
    if not rows or max(len(row.findall("td")) + len(row.findall("th")) for row in rows) <= 1:
        return True
    if any(isinstance(e.tag, str) and e.tag in HEADINGS for e in element.iter()):
        return True
    return any(len(cell.text_content()) > _LAYOUT_CELL_CHARS for cell in element.iter("td"))


def prose_in_pre(element: HtmlElement) -> list[str] | None:
    """The paragraphs of a <pre> that holds prose (a licence text, a quoted letter), or None
    for code: few code characters, sentences, no prompts."""
    text = element.text_content()
    words = text.split()
    if len(words) < _PROSE_MIN_WORDS or _PROMPT.search(text):
        return None
    code_chars = sum(text.count(char) for char in _CODE_CHARS)
    if code_chars > _PROSE_MAX_CODE_SHARE * len(text) or ". " not in text:
        return None
    return [block for block in re.split(r"\n[ \t]*\n", text) if block.strip()]


def definition_rows(element: HtmlElement) -> list[list[str]] | None:
    """The rows of a table that defines things (a name, then a sentence or more about it),
    as lists of cell texts; None for a data table.

    Python's docs list warning categories, keyword arguments and operations this way; a
    reader quotes such a row as "SyntaxWarning: Base category for warnings about …".
    """
    rows = []
    for row in element.iter("tr"):
        cells = [text_of(cell) for cell in row if cell.tag in ("td", "th")]
        if cells and not all(cell.tag == "th" for cell in row if isinstance(cell.tag, str)):
            rows.append(cells)
    if not rows or any(len(cells) < 2 for cells in rows):
        return None
    prose = sum(len(cells[-1].split()) >= _DEFINITION_WORDS for cells in rows)
    return rows if prose * 2 > len(rows) else None


def main_content(tree: HtmlElement) -> tuple[HtmlElement, bool]:
    """The element holding the page's text, and whether its <header> is part of it."""
    for query in ("//*[@role='main']", "//main", "//article"):
        found = tree.xpath(query)
        if found:
            return max(found, key=lambda e: len(e.text_content())), True
    body = tree.find("body")
    return (body if body is not None else tree), False


@dataclass(frozen=True)
class PageMetadata:
    title: str
    author: str | None
    source_url: str | None
    date: str | None


def page_metadata(tree: HtmlElement, root: HtmlElement) -> PageMetadata:
    meta: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop") or ""
        content = (element.get("content") or "").strip()
        if key and content:
            meta.setdefault(key.lower(), content)
    for element in tree.iter("link"):
        if "canonical" in (element.get("rel") or "").lower().split() and element.get("href"):
            meta.setdefault("canonical", element.get("href", "").strip())
    for element in tree.iter("time"):
        if (element.get("datetime") or "").strip():
            meta.setdefault("time", element.get("datetime", "").strip())
    return PageMetadata(
        _page_title(tree, root, meta),
        meta.get("author"),
        meta.get("og:url") or meta.get("canonical") or None,
        meta.get("article:published_time") or meta.get("time") or meta.get("datepublished"),
    )


def _page_title(tree: HtmlElement, root: HtmlElement, meta: dict[str, str]) -> str:
    """og:title; else <title> without the site name ("Assert | Node.js" -> "Assert") unless the
    first <h1> is in it; else the first <h1>; else <title>."""
    if collapse_whitespace(meta.get("og:title", "")):
        return collapse_whitespace(meta["og:title"])
    first_h1 = next((text_of(h) for h in root.iter("h1") if text_of(h)), "")
    title_element = tree.find(".//title")
    page_title = text_of(title_element) if title_element is not None else ""
    if not page_title:
        return first_h1
    separators = list(_TITLE_SEPARATORS.finditer(page_title))
    own = page_title[: separators[-1].start()] if separators else page_title
    if first_h1 and (not separators or first_h1.casefold() in own.casefold()):
        return first_h1
    return own
