"""The Markdown reader: CommonMark (markdown-it-py) rendered to the text a reader sees.

`Document.text` is the rendered text (markup, badges and link targets gone), one block per
heading or paragraph, so every quote is findable in it verbatim. Headings of every level
nest into section paths; list items, block quotes and footnotes are paragraphs of their own
(a footnote right after the paragraph that refers to it); definition lists join term and
definition; code blocks, tables and raw HTML blocks are left out and counted.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bot.corpus.sections import Outline, Parsed, RenderedText, is_contents_heading, same_title
from bot.text import collapse_whitespace

if TYPE_CHECKING:
    from markdown_it.token import Token

_FRONT_KEY = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)")
_MYST_ROLE = re.compile(r"\{[\w:.+-]+\}$")  # MyST "{py:func}`open`": the role name is markup
_END_MARKS = ":.?!—–-"

_PARSER: Any = None


def _parser() -> Any:
    """The CommonMark parser with tables, strikethrough, front matter, footnotes, deflists."""
    global _PARSER
    if _PARSER is None:
        from markdown_it import MarkdownIt
        from mdit_py_plugins.deflist import deflist_plugin
        from mdit_py_plugins.footnote import footnote_plugin
        from mdit_py_plugins.front_matter import front_matter_plugin

        _PARSER = (
            MarkdownIt("commonmark")
            .use(front_matter_plugin)
            .use(footnote_plugin)
            .use(deflist_plugin)
            .enable(["table", "strikethrough"])
        )
    return _PARSER


def render_inline(children: list[Token]) -> tuple[str, list[str]]:
    """Inline tokens to visible text, and the labels of the footnotes they refer to."""
    out: list[str] = []
    footnotes: list[str] = []
    for index, child in enumerate(children):
        kind = child.type
        if kind == "text":
            content = child.content
            following = children[index + 1].type if index + 1 < len(children) else ""
            if following == "code_inline":
                content = _MYST_ROLE.sub("", content)
            out.append(content)
        elif kind == "code_inline":
            out.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append(" ")
        elif kind == "footnote_ref":
            label = str(child.meta.get("label", ""))
            footnotes.append(label)
            out.append(f"[{label}]")
        # images (badges), raw inline HTML and link/emphasis markers show no text
    return collapse_whitespace("".join(out)), footnotes


def _front_matter(content: str) -> dict[str, str]:
    """Simple `key: value` fields of YAML front matter."""
    fields: dict[str, str] = {}
    for line in content.splitlines():
        match = _FRONT_KEY.fullmatch(line.strip())
        if match:
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            if value:
                fields.setdefault(match.group(1).lower(), value)
    return fields


def _footnote_texts(tokens: list[Token]) -> dict[str, list[str]]:
    """Each footnote's paragraphs, by label."""
    notes: dict[str, list[str]] = {}
    label = ""
    for token in tokens:
        if token.type == "footnote_open":
            label = str(token.meta.get("label", ""))
            notes[label] = []
        elif token.type == "footnote_close":
            label = ""
        elif label and token.type == "inline":
            notes[label].append(render_inline(token.children or [])[0])
    return notes


class _MarkdownWalker:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.outline = Outline()
        self.rendered = RenderedText()
        self.notes = _footnote_texts(tokens)
        self.placed_notes: set[str] = set()
        self.fields: dict[str, str] = {}
        self.title_heading: str | None = None
        self.seen_text = False
        self.seen_heading = False
        self.term = ""  # a definition-list term waiting for its definition

    def paragraph(self, text: str) -> None:
        if self.term:
            joiner = " " if self.term[-1:] in _END_MARKS else ": "
            text, self.term = f"{self.term}{joiner}{text}" if text else self.term, ""
        paragraph = self.rendered.block(text)
        if paragraph is not None:
            self.outline.add(paragraph)
            self.seen_text = True

    def heading(self, level: int, text: str) -> None:
        if not text:
            self.outline.drop("empty")
            return
        if is_contents_heading(text):
            self.outline.drop("boilerplate")  # the list under it goes too (a link list)
            return
        front_title = self.fields.get("title")
        is_title = (
            level == 1
            and not self.seen_heading
            and not self.seen_text
            # A first "# " heading that differs from the front-matter title is a section.
            and (front_title is None or same_title(front_title, text))
        )
        self.seen_heading = True
        self.rendered.block(text)
        if is_title:
            self.title_heading = text
        else:
            self.outline.heading(level, text)

    def walk(self) -> None:
        tokens = self.tokens
        index = 0
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            if kind == "front_matter":
                self.fields = _front_matter(token.content)
            elif kind == "heading_open":
                self.heading(int(token.tag[1]), render_inline(tokens[index + 1].children or [])[0])
                index += 2
            elif kind == "dt_open":
                self.term = render_inline(tokens[index + 1].children or [])[0]
                index += 2
            elif kind == "inline":
                self.inline_paragraph(token)
            elif kind in ("fence", "code_block"):
                self.outline.drop("code")
            elif kind == "table_open":
                self.outline.drop("table")
                index = _skip_to(tokens, index, "table_close")
            elif kind in ("bullet_list_open", "ordered_list_open"):
                end = _list_end(tokens, index)
                if _is_link_list(tokens, index, end):
                    self.outline.drop("boilerplate")
                    index = end
            elif kind == "html_block":
                self.outline.drop("boilerplate")
            elif kind == "footnote_block_open":
                index = _skip_to(tokens, index, "footnote_block_close")
            index += 1
        for label, texts in self.notes.items():  # footnotes no paragraph referred to
            if label not in self.placed_notes:
                self.place_note(label, texts)

    def inline_paragraph(self, token: Token) -> None:
        children = token.children or []
        text, referred = render_inline(children)
        if not text and not self.term:
            has_images = any(c.type in ("image", "link_open") for c in children)
            self.outline.drop("boilerplate" if has_images else "empty")  # badges
            return
        self.paragraph(text)
        for label in referred:
            if label in self.notes and label not in self.placed_notes:
                self.place_note(label, self.notes[label])

    def place_note(self, label: str, texts: list[str]) -> None:
        self.placed_notes.add(label)
        for number, text in enumerate(texts):
            self.paragraph(f"[{label}] {text}" if number == 0 else text)


def _skip_to(tokens: list[Token], index: int, closing: str) -> int:
    while index < len(tokens) and tokens[index].type != closing:
        index += 1
    return index


def _list_end(tokens: list[Token], index: int) -> int:
    """The index of the token that closes the list opened at `index`."""
    closing = tokens[index].type.replace("_open", "_close")
    depth = 0
    for position in range(index, len(tokens)):
        if tokens[position].type == tokens[index].type:
            depth += 1
        elif tokens[position].type == closing:
            depth -= 1
            if depth == 0:
                return position
    return len(tokens) - 1


def _is_link_list(tokens: list[Token], start: int, end: int) -> bool:
    """A list whose every item is a link and nothing else: a table of contents or a menu."""
    items = [t for t in tokens[start:end] if t.type == "inline"]
    return len(items) >= 3 and all(_only_a_link(t.children or []) for t in items)


def _only_a_link(children: list[Token]) -> bool:
    markup = ("strong_open", "strong_close", "em_open", "em_close")
    kinds = [
        c.type
        for c in children
        if c.type not in markup and not (c.type == "text" and not c.content.strip())
    ]
    return len(kinds) >= 2 and kinds[0] == "link_open" and kinds[-1] == "link_close"


def read_markdown(text: str, stem: str) -> Parsed:
    walker = _MarkdownWalker(_parser().parse(text))
    walker.walk()
    fields = walker.fields
    outline = walker.outline
    title = fields.get("title") or walker.title_heading or stem
    source_url = fields.get("source_url") or fields.get("source") or fields.get("url")
    return Parsed(
        title,
        outline.build(),
        walker.rendered.text,
        fields.get("author"),
        source_url,
        fields.get("date"),
        dict(outline.dropped),
    )
