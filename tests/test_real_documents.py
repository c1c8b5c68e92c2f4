"""Real documents read as a person reads them (tests/data/real, sources in its README)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.corpus import Document, read_corpus, read_document

REAL = Path(__file__).resolve().parent / "data" / "real"


@dataclass(frozen=True)
class Expected:
    title: str
    sections: tuple[str, ...]  # section titles (as citations show them) that must be there
    present: tuple[str, ...]  # text some paragraph must contain
    absent: tuple[str, ...]  # text no paragraph and no section title may contain


EXPECTED = {
    "html/python-glossary.html": Expected(
        "Glossary",
        ("decorator", "abstract base class", "type hint"),
        ("A function returning another function, usually applied as a function transformation",),
        ("¶", "Glossary¶", ">>> sys.float_info"),
    ),
    "html/python-faq-programming.html": Expected(
        "Programming FAQ",
        (
            "Core Language › How do I share global variables across modules?",
            "General Questions › Are there tools to help find bugs or perform static analysis?",
        ),
        ("The canonical way to share information across modules within a single program",),
        ("¶", "Previous topic", "x = 10 def bar():"),
    ),
    "html/python-tutorial-introduction.html": Expected(
        "3. An Informal Introduction to Python",
        (
            "3.1. Using Python as a Calculator › 3.1.1. Numbers",
            "3.2. First Steps Towards Programming",
        ),
        ("The interpreter acts as a simple calculator: you can type an expression at it",),
        (">>> 2 + 2", ">>> 50 - 5*6", "¶"),
    ),
    "html/python-json.html": Expected(
        "json — JSON encoder and decoder",
        (
            "Basic Usage › json.dump(…)",
            "Encoders and Decoders › class json.JSONDecoder(…) › decode(s)",
        ),
        (
            "Note: JSON is a subset of YAML 1.2.",
            "Serialize obj as a JSON formatted stream to fp",
        ),
        ("¶", "import json", "Table of Contents"),
    ),
    "html/node-assert.html": Expected(
        "Assert",
        ("Strict assertion mode", "Class: assert.AssertionError"),
        ("The node:assert module provides a set of assertion functions for verifying invariants.",),
        ("About this documentation", "[src]", "Index | View on single page", "#"),
    ),
    "markdown/pyenv-README.md": Expected(
        "Simple Python Version Management: pyenv",
        ("What pyenv does...", "Installation › A. Getting Pyenv › Linux/Unix"),
        ("pyenv lets you easily switch between multiple versions of Python.",),
        ("](", "[![", "Table of Contents", "git clone"),
    ),
    "markdown/clippy-README.md": Expected(
        "Clippy",
        ("Usage", "Configuration › Allowing/denying lints", "License"),
        ("<LICENSE-APACHE or https://www.apache.org/licenses/LICENSE-2.0>",),
        ("](", "[![", "cargo clippy --fix\n"),
    ),
    "text/GPL-3.txt": Expected(
        "GNU GENERAL PUBLIC LICENSE",
        (
            "Preamble",
            "TERMS AND CONDITIONS › 0. Definitions.",
            "TERMS AND CONDITIONS › 1. Source Code.",
        ),
        ("Version 3, 29 June 2007", '"This License" refers to version 3 of the GNU General'),
        (),
    ),
    "text/Apache-2.0.txt": Expected(
        "Apache License",
        (
            "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION › 1. Definitions.",
            "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION › 4. Redistribution.",
        ),
        ("Subject to the terms and conditions of this License, each Contributor hereby grants",),
        (),
    ),
    "text/Artistic.txt": Expected(
        'The "Artistic License"',
        ("Preamble", "Definitions"),
        ('"Package" refers to the collection of files distributed by the Copyright Holder',),
        (),
    ),
    "text/GPL-2-crlf.txt": Expected(
        "GNU GENERAL PUBLIC LICENSE",
        ("Preamble", "NO WARRANTY"),
        ("Version 2, June 1991",),
        ("\r",),
    ),
    "text/LGPL-2.1.txt": Expected(
        "GNU LESSER GENERAL PUBLIC LICENSE",
        ("Preamble", "NO WARRANTY"),
        ("Version 2.1, February 1999",),
        ("\f",),
    ),
    "pdf/fhs-3.0.pdf": Expected(
        "Filesystem Hierarchy Standard",
        (
            "Chapter 1. Introduction › 1.1. Purpose",
            "Chapter 4. The /usr Hierarchy › 4.11. /usr/share : Architecture-independent data"
            " › 4.11.1. Purpose",
        ),
        ("This standard enables:",),
        ("....", "Table of Contents"),
    ),
}

# Titles and section kinds that are never sections (title-page lines, shouts, list items).
NEVER_SECTIONS = (
    "Version 2, June 1991",
    "Version 3, 29 June 2007",
    "ACCEPT",
    "All Rights Reserved",
)


@pytest.fixture(scope="module")
def corpus() -> dict[str, Document]:
    documents, problems = read_corpus(REAL)
    assert problems == []
    # README.md says where the files came from; it is read too, but it is not a fixture.
    return {document.path: document for document in documents if document.path != "README.md"}


def test_every_real_document_is_read(corpus: dict[str, Document]) -> None:
    assert set(corpus) == set(EXPECTED)


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_real_document(corpus: dict[str, Document], path: str) -> None:
    document = corpus[path]
    expected = EXPECTED[path]
    assert document.title == expected.title
    titles = [section.title for section in document.sections]
    for title in expected.sections:
        assert title in titles
    texts = [p.text for section in document.sections for p in section.paragraphs]
    for text in expected.present:
        assert any(text in paragraph for paragraph in texts), text
    for text in expected.absent:
        assert not any(text in paragraph for paragraph in texts), text
        assert not any(text in title for title in titles), text
    assert not any(title in NEVER_SECTIONS for title in titles)
    # Quotes stay verbatim: every paragraph is its span of the document's text.
    for section in document.sections:
        for paragraph in section.paragraphs:
            span = document.text[paragraph.start : paragraph.end]
            assert " ".join(span.split()) == paragraph.text


def test_parents_with_only_subsections_are_not_sections_without_text(
    corpus: dict[str, Document],
) -> None:
    # "Basic Usage" holds only API entries: it is named in their paths, not listed empty.
    json_page = corpus["html/python-json.html"]
    assert not any(s.path == ("Basic Usage",) for s in json_page.sections)
    assert any(s.path[:1] == ("Basic Usage",) and s.paragraphs for s in json_page.sections)


def test_what_was_left_out_is_counted(corpus: dict[str, Document]) -> None:
    tutorial = corpus["html/python-tutorial-introduction.html"]
    assert tutorial.dropped["code"] >= 30  # the >>> examples
    assert corpus["markdown/pyenv-README.md"].dropped["boilerplate"] >= 2  # badges, contents
    assert corpus["pdf/fhs-3.0.pdf"].dropped["boilerplate"] >= 40  # headers, footers, contents


def test_pdf_paragraphs_carry_their_page(corpus: dict[str, Document]) -> None:
    fhs = corpus["pdf/fhs-3.0.pdf"]
    share = next(s for s in fhs.sections if s.title.endswith("4.11.1. Purpose"))
    assert share.paragraphs[0].page == 29
    pages = [p.page for s in fhs.sections for p in s.paragraphs]
    assert None not in pages and pages == sorted(pages)


def test_glossary_terms_are_subsections_with_their_definitions(corpus: dict[str, Document]) -> None:
    glossary = corpus["html/python-glossary.html"]
    decorator = next(s for s in glossary.sections if s.path == ("decorator",))
    assert decorator.paragraphs[0].text.startswith("A function returning another function")


def test_read_document_on_one_real_file() -> None:
    document = read_document(REAL / "text" / "GPL-3.txt", REAL)
    assert document.doc_id == "text/GPL-3"
