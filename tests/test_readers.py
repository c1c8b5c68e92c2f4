"""Reader rules one at a time: web pages, Markdown, plain text and PDF as a person reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.corpus import Document, read_document
from bot.errors import CorpusError
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.passages import cut_document
from bot.index.sentences import split_sentences
from bot.render.reply import citation
from tests.helpers.pdf import make_pdf


def read(tmp_path: Path, name: str, content: str | bytes) -> Document:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return read_document(path, tmp_path)


def outline(document: Document) -> list[tuple[str, list[str]]]:
    return [(s.title, [p.text for p in s.paragraphs]) for s in document.sections]


def texts(document: Document) -> list[str]:
    return [p.text for s in document.sections for p in s.paragraphs]


# -- web pages ------------------------------------------------------------------------------


def test_html_sections_named_with_noise_words_are_kept(tmp_path: Path) -> None:
    page = """<html><body><div role="main"><h1>FAQ</h1>
    <section id="sharing-state-between-processes"><h2>Sharing state between processes</h2>
    <p>Use a Manager.</p></section>
    <section id="questions-related-to-type-hints"><h2>Type hints</h2><p>Use them.</p></section>
    <div class="sidebar-menu"><p>menu</p></div></div></body></html>"""
    document = read(tmp_path, "faq.html", page)
    assert outline(document) == [
        ("Sharing state between processes", ["Use a Manager."]),
        ("Type hints", ["Use them."]),
    ]


def test_html_permalinks_skip_links_and_furniture_go(tmp_path: Path) -> None:
    page = """<html><head><title>Path | Site</title></head><body>
    <a href="#main">Skip to content</a>
    <main id="main"><h1>Path<a class="headerlink" href="#path">¶</a></h1>
    <h2>Usage<a href="#usage">#</a></h2><p>Call it.</p>
    <nav class="contents"><ul><li><a href="#a">A</a></li><li><a href="#b">B</a></li>
    <li><a href="#c">C</a></li></ul></nav></main></body></html>"""
    document = read(tmp_path, "p.html", page)
    assert document.title == "Path"
    assert outline(document) == [("Usage", ["Call it."])]
    assert "¶" not in document.text and "Skip" not in document.text


def test_html_definition_lists_notes_and_footnotes(tmp_path: Path) -> None:
    page = """<html><body><main><h1>Glossary</h1>
    <dl class="glossary"><dt id="term-decorator">decorator<a class="headerlink" href="#t">¶</a>
    </dt><dd><p>A function returning another function.</p><p>See also the PEP.</p></dd></dl>
    <dl class="field-list"><dt>Author<span>:</span></dt><dd><p>A. Writer</p></dd></dl>
    <div class="admonition note"><p class="admonition-title">Note</p><p>Mind the gap.</p></div>
    <p>Text with a note.<a href="#f1">1</a></p>
    <aside class="footnote" id="f1"><p>The footnote itself.</p></aside>
    <pre>&gt;&gt;&gt; 2 + 2
4</pre>
    <table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>
    </main></body></html>"""
    document = read(tmp_path, "g.html", page)
    assert outline(document) == [
        (
            "",
            [
                "Author: A. Writer",
                "Note: Mind the gap.",
                "Text with a note.1",
                "The footnote itself.",
            ],
        ),
        ("decorator", ["A function returning another function.", "See also the PEP."]),
    ]
    assert "Author: A. Writer" in texts(document)
    assert "Note: Mind the gap." in texts(document)
    assert "The footnote itself." in texts(document)
    assert not any(">>>" in text for text in texts(document))
    assert document.dropped == {"code": 1, "table": 1}


def test_html_text_after_a_definition_list_returns_to_its_section(tmp_path: Path) -> None:
    page = """<html><body><main><h1>json</h1><h2>Basic Usage</h2><p>Intro.</p>
    <dl><dt id="json.dump">json.dump(obj, fp)</dt><dd><p>Serialize obj.</p></dd></dl>
    <p>After the entries.</p></main></body></html>"""
    document = read(tmp_path, "j.html", page)
    assert outline(document) == [
        ("Basic Usage", ["Intro.", "After the entries."]),
        ("Basic Usage › json.dump(obj, fp)", ["Serialize obj."]),
    ]


# -- Markdown -------------------------------------------------------------------------------


def test_markdown_badges_links_around_code_references_and_footnotes(tmp_path: Path) -> None:
    source = """[![CI](https://ci/badge.svg)](https://ci) [![pypi](https://p.svg)](https://p)

Git - fast, scalable, distributed revision control system
=========================================================

Use [`git log`][log] and [**bold `code`**](https://x) to read history.[^name]
Licensed under <LICENSE-APACHE or [https://apache.org]> at your option.
Call {py:func}`open` to read.

#### A fourth-level heading

Deep text.

[log]: https://git-scm.com/docs/git-log
[^name]: Linus named it after himself.
"""
    document = read(tmp_path, "README.md", source)
    assert document.title == "Git - fast, scalable, distributed revision control system"
    assert outline(document) == [
        (
            "",
            [
                "Use git log and bold code to read history.[name] Licensed under "
                "<LICENSE-APACHE or [https://apache.org]> at your option. Call open to read.",
                "[name] Linus named it after himself.",
            ],
        ),
        ("A fourth-level heading", ["Deep text."]),
    ]
    assert document.dropped == {"boilerplate": 1}  # the badges


# -- plain text -----------------------------------------------------------------------------


def test_text_title_skips_blank_and_decorative_lines(tmp_path: Path) -> None:
    document = read(tmp_path, "t.txt", "\n\n   ==========\n   The Report\n\nBody text here.\n")
    assert document.title == "The Report"


def test_text_wrapped_first_paragraph_is_not_a_title(tmp_path: Path) -> None:
    source = (
        "This is the first line of a paragraph that wraps onto the next\n"
        "line, as plain text files often do.\n\nSecond paragraph.\n"
    )
    document = read(tmp_path, "wrapped.txt", source)
    assert document.title == "wrapped"
    assert texts(document)[0].startswith("This is the first line of a paragraph that wraps")


def test_text_underlined_numbered_and_two_line_headings(tmp_path: Path) -> None:
    source = """Handbook

Getting Started
===============

Start here.

1. Definitions.

A word means what it says.

TERMS AND CONDITIONS FOR COPYING,
DISTRIBUTION AND MODIFICATION

Copy freely.

ACCEPT

All Rights Reserved
"""
    document = read(tmp_path, "h.txt", source)
    assert [s.title for s in document.sections] == [
        "Getting Started",
        "Getting Started › 1. Definitions.",
        "TERMS AND CONDITIONS FOR COPYING, DISTRIBUTION AND MODIFICATION",
    ]
    assert texts(document)[-2:] == ["ACCEPT", "All Rights Reserved"]


def test_text_list_items_are_paragraphs(tmp_path: Path) -> None:
    source = "Title\n\nThings to bring:\n- a lamp\n- a map that\n  folds\n* water\n"
    document = read(tmp_path, "l.txt", source)
    assert texts(document) == ["Things to bring:", "- a lamp", "- a map that folds", "* water"]


# -- PDF ------------------------------------------------------------------------------------


def _report_pdf() -> bytes:
    def page(number: int, lines: list[tuple[float, float, float, str]]) -> list:
        return [(72, 750, 9, "Salt Report 2024"), (300, 40, 9, str(number)), *lines]

    return make_pdf(
        [
            page(
                1,
                [
                    (72, 680, 20, "Salt Roads"),
                    (72, 640, 16, "Origins"),
                    (72, 610, 10, "Salt moved on mules across the high passes, and the bin-"),
                    (72, 597, 10, "aries of trade were simple."),
                ],
            ),
            page(
                2,
                [
                    (72, 680, 16, "Routes"),
                    (72, 650, 10, "The northern route crossed three rivers and took a month"),
                    (72, 637, 10, "for a full caravan"),
                ],
            ),
            page(
                3,
                [
                    (72, 700, 10, "to complete in good weather."),
                    (72, 660, 10, "The southern route was longer but safer."),
                ],
            ),
        ]
    )


def test_pdf_headings_pages_hyphens_and_page_furniture(tmp_path: Path) -> None:
    document = read(tmp_path, "salt.pdf", _report_pdf())
    assert document.title == "Salt Roads"
    assert outline(document) == [
        (
            "Origins",
            ["Salt moved on mules across the high passes, and the binaries of trade were simple."],
        ),
        (
            "Routes",
            [
                "The northern route crossed three rivers and took a month for a full caravan "
                "to complete in good weather.",
                "The southern route was longer but safer.",
            ],
        ),
    ]
    assert [p.page for s in document.sections for p in s.paragraphs] == [1, 2, 3]
    assert document.dropped == {"boilerplate": 6}  # 3 running headers, 3 page numbers
    assert "Salt Report 2024" not in document.text


def test_a_pdf_is_parsed_once_for_its_pages_and_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pdfminer.pdfdocument import PDFDocument

    parses: list[object] = []
    parse = PDFDocument.__init__

    def counted(self: PDFDocument, *args: Any, **kwargs: Any) -> None:
        parses.append(self)
        parse(self, *args, **kwargs)

    monkeypatch.setattr(PDFDocument, "__init__", counted)
    assert read(tmp_path, "salt.pdf", _report_pdf()).title == "Salt Roads"
    assert len(parses) == 1


def test_pdf_pages_reach_passages_and_citations(tmp_path: Path) -> None:
    document = read(tmp_path, "salt.pdf", _report_pdf())
    _, passages = cut_document(document)
    assert {p.page for p in passages} == {1, 2, 3}
    assert citation("Salt Roads", "Routes", 2, 3) == "Salt Roads › Routes · p. 3 · ¶2"
    assert citation("Essay", "Part", 2) == "Essay › Part · ¶2"


def test_scanned_pdf_is_named_and_skipped(tmp_path: Path) -> None:
    with pytest.raises(CorpusError) as caught:
        read(tmp_path, "scan.pdf", make_pdf([[], []], image_only=True))
    assert caught.value.reason.startswith("no text in the PDF (2 pages of images")


# -- the index report -----------------------------------------------------------------------


def test_index_reports_what_was_left_out_per_document(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text(
        "# A\n\nText.\n\n```\ncode\n```\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"
    )
    (corpus / "b.txt").write_text("B\n\nPlain text.\n")
    report = build_index(corpus, tmp_path / "index", HashingEmbedder(dimension=32))
    assert report.dropped == {"a.md": {"code": 1, "table": 1}, "b.txt": {}}
    assert report.dropped_lines() == [
        "Left out of a.md: 1 code block, 1 table",
        "Left out in all: 1 code block, 1 table",
    ]
    again = build_index(corpus, tmp_path / "index", HashingEmbedder(dimension=32))
    assert not again.rebuilt and again.dropped == report.dropped


# -- sentences of technical prose -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "It becomes a float. x is converted first.",
            ["It becomes a float.", "x is converted first."],
        ),
        ("Use it. sys.argv holds them.", ["Use it.", "sys.argv holds them."]),
        ("Call f(). len() counts.", ["Call f().", "len() counts."]),
        ("See e.g. x here.", ["See e.g. x here."]),
        ("It is a cat. a dog is not.", ["It is a cat. a dog is not."]),
        ("In the U.S. x marks it.", ["In the U.S. x marks it."]),
        ("0. This License applies. It is long.", ["0. This License applies.", "It is long."]),
        ("2.1. Grants. Each grants.", ["2.1. Grants.", "Each grants."]),
        ("I came. I saw.", ["I came.", "I saw."]),
    ],
)
def test_sentences_may_start_with_a_lowercase_identifier(text: str, sentences: list[str]) -> None:
    assert [text[a:b] for a, b in split_sentences(text)] == sentences
