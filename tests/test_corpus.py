from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

import bot.corpus.read as read_module
from bot.corpus import (
    SUPPORTED_SUFFIXES,
    CorpusProblem,
    Document,
    Paragraph,
    read_corpus,
    read_document,
)
from bot.errors import CorpusError
from bot.index.sentences import split_sentences

REPO = Path(__file__).resolve().parent.parent
ESSAY = REPO / "corpus" / "4-ways-out-of-the-korean-crisis.txt"
SAMPLES = Path(__file__).resolve().parent / "data" / "corpus_samples"


def folded(text: str) -> str:
    return " ".join(text.split())


def paragraphs(document: Document) -> list[Paragraph]:
    return [p for section in document.sections for p in section.paragraphs]


def assert_offsets_hold(document: Document) -> None:
    """The span of every paragraph is its text (whitespace folded), trimmed, one line."""
    for paragraph in paragraphs(document):
        span = document.text[paragraph.start : paragraph.end]
        assert folded(span) == folded(paragraph.text)
        assert span == span.strip()
        assert "\n" not in paragraph.text
        assert paragraph.text == folded(paragraph.text)


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


# ------------------------------------------------------------------ the shipped essay


@pytest.fixture(scope="module")
def essay() -> Document:
    return read_document(ESSAY, ESSAY.parent)


def test_essay_identity(essay: Document) -> None:
    assert essay.doc_id == "4-ways-out-of-the-korean-crisis"
    assert essay.path == "4-ways-out-of-the-korean-crisis.txt"
    assert essay.title == "4 Ways out of the Korean Crisis"
    assert essay.content_hash == hashlib.sha256(ESSAY.read_bytes()).hexdigest()
    assert essay.text == ESSAY.read_text(encoding="utf-8")
    assert (essay.author, essay.source_url, essay.date) == (None, None, None)


def test_essay_structure(essay: Document) -> None:
    assert [(s.title, len(s.paragraphs)) for s in essay.sections] == [
        ("", 3),
        ("China’s Dual Track Solution", 1),
        ("Cooperation Spiral Solution", 0),
    ]
    caption, lead, myths = essay.sections[0].paragraphs
    assert caption.text.startswith("A soldier salutes")
    assert caption.text.endswith("Pyongyang")
    assert lead.text.startswith("Washington cannot neglect deterrence")
    assert myths.text.startswith("Before elaborating these proposals")
    assert essay.sections[1].paragraphs[0].text.startswith("Chinese diplomats have been active")
    assert_offsets_hold(essay)


def test_essay_sentence_counts(essay: Document) -> None:
    # Counted by hand: caption 1, lead 1, the two myths 11, the Dual Track 10.
    counts = [len(split_sentences(p.text)) for p in paragraphs(essay)]
    assert counts == [1, 1, 11, 10]


def test_essay_dual_track_sentences(essay: Document) -> None:
    found = sentences(essay.sections[1].paragraphs[0].text)
    assert found[1] == (
        "Foreign Minister Wang Yi outlined a double suspension (双暂停) in March 2017 under "
        "which Pyongyang would freeze both nuclear and missile tests in exchange for a "
        "suspension of the large, annual U.S.-ROK military exercise."
    )
    assert found[2] == (
        "Regrettably, the proposal has not received adequate discussion, analysis or "
        "debate by experts in U.S. media."
    )
    assert found[4].endswith("“cessation of hostilities—peace treaty mechanism” (停和机制).")
    assert found[6].endswith("“sort of ‘compensation’” (定的补偿).")
    assert found[9].endswith("(国家利益的重心由军事向经济的大转移).")


def test_essay_myths_sentences(essay: Document) -> None:
    found = sentences(essay.sections[0].paragraphs[2].text)
    assert found[2] == (
        "That conclusion is primarily derived from the experience of the 1994 Agreed "
        "Framework, and recent analyses of that episode show more than a little blame also "
        "belongs with the U.S. side regarding haphazard implementation."
    )
    assert found[9].startswith("In short, the sanctions logic")
    assert found[9].endswith("may be called “normal.”")
    assert found[10].startswith("With a healthy respect")


# ------------------------------------------------------------------------ plain text


def test_txt_headings_paragraphs_and_wraps() -> None:
    document = read_document(SAMPLES / "sample-notes.txt", SAMPLES)
    assert document.title == "Notes on Lighthouses"
    assert [(s.title, [p.text for p in s.paragraphs]) for s in document.sections] == [
        (
            "",
            [
                "Lighthouses were once kept by families who lived beside the lamp and "
                "trimmed its wick at night."
            ],
        ),
        ("Keepers and Their Lamps", ["Keepers wrote logs. Mr. Hale kept his for forty years."]),
        ("Fog Signals", []),
        ("Horns and Bells", ["The horn was loud. The bell was older."]),
    ]
    assert_offsets_hold(document)


@pytest.mark.parametrize(
    ("line", "is_heading"),
    [
        ("China’s Dual Track Solution", True),
        ("Part 2 (1994)", True),
        ("Twelve words are still fine for a heading in this sample text", True),
        ("This line has thirteen words and so it is too long for a heading", False),
        ("Ends with a full stop.", False),
        ("Asks a question?", False),
        ("Ends with a colon:", False),
        ("Ends with a comma,", False),
        ("Quoted ending.”", False),
        ("Trailing ellipsis…", False),
        ("lowercase start is prose", False),
        ("A" * 101, False),
    ],
)
def test_txt_heading_rule(tmp_path: Path, line: str, is_heading: bool) -> None:
    path = write(tmp_path, "doc.txt", f"Title\n\nFirst paragraph here.\n\n{line}\n\nBody text.\n")
    titles = [s.title for s in read_document(path).sections]
    assert (line in titles) is is_heading


def test_txt_crlf_and_bom(tmp_path: Path) -> None:
    content = "Title Line\r\n\r\nFirst paragraph\r\nwraps here.\r\n\r\nA Heading\r\n\r\nMore.\r\n"
    path = write(tmp_path, "crlf.txt", b"\xef\xbb\xbf" + content.encode("utf-8"))
    document = read_document(path)
    assert document.title == "Title Line"
    assert "\r" not in document.text and not document.text.startswith("\ufeff")
    assert [(s.title, [p.text for p in s.paragraphs]) for s in document.sections] == [
        ("", ["First paragraph wraps here."]),
        ("A Heading", ["More."]),
    ]
    assert_offsets_hold(document)


def test_txt_long_first_line_is_not_a_title(tmp_path: Path) -> None:
    prose = "This essay starts with prose right away and never bothers with a title. " * 4
    document = read_document(write(tmp_path, "no-title.txt", prose + "\n\nSecond.\n"))
    assert document.title == "no-title"
    assert [p.text for p in paragraphs(document)] == [prose.strip(), "Second."]


def test_txt_separator_lines_are_skipped(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, "sep.txt", "T\n\nOne.\n\n* * *\n\nTwo.\n"))
    assert [p.text for p in paragraphs(document)] == ["One.", "Two."]


# -------------------------------------------------------------------------- markdown


@pytest.fixture(scope="module")
def markdown() -> Document:
    return read_document(SAMPLES / "sample-essay.md", SAMPLES)


def test_markdown_front_matter(markdown: Document) -> None:
    assert markdown.title == "Rivers of Memory"
    assert markdown.author == "Ada Example"
    assert markdown.source_url == "https://example.org/rivers"
    assert markdown.date == "2021-04-05"


def test_markdown_structure(markdown: Document) -> None:
    assert [(s.title, [p.text for p in s.paragraphs]) for s in markdown.sections] == [
        (
            "",
            [
                "Rivers carry silt and stories alike. Dr. Lee counted 3.5 million visitors "
                "along the banks, e.g. at the old mill."
            ],
        ),
        (
            "Why rivers matter",
            [
                "Rivers feed the fields.",
                "They move goods: see the ledger.",
                "Towns grew where ford crossings were shallow.",
                "First, the water rose.",
                "Then it fell again.",
                "A river is a road that moves, as the old saying goes.",
            ],
        ),
        ("Setext Heading", ["The delta widened each spring."]),
        ("Setext Heading › Empty heading at the end", []),
    ]


def test_markdown_skips_code_images_and_comments(markdown: Document) -> None:
    shown = " ".join(p.text for p in paragraphs(markdown))
    for hidden in ("print", "code is skipped", "map of the delta", "editor's note", "https://"):
        assert hidden not in shown


def test_markdown_spans_render_to_paragraph_text(markdown: Document) -> None:
    # Markdown relaxes the offsets invariant: the span holds the markup, p.text its rendering.
    for paragraph in paragraphs(markdown):
        span = markdown.text[paragraph.start : paragraph.end]
        assert span == span.strip() and "\n" not in paragraph.text
        for word in paragraph.text.replace(".", " ").replace(",", " ").split():
            assert word in span
    plain = [p for p in paragraphs(markdown) if p.text.startswith(("Rivers feed", "First,"))]
    assert plain and all(markdown.text[p.start : p.end] == p.text for p in plain)


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("**bold** and __strong__", "bold and strong"),
        ("*em* and _em_ but snake_case_name stays", "em and em but snake_case_name stays"),
        ("2 * 3 * 4 stays", "2 * 3 * 4 stays"),
        ("`code` span", "code span"),
        ("a [link](https://x.org/a_(b)) here", "a link here"),
        ("a [ref link][1] here\n\n[1]: https://e.org", "a ref link here"),
        ("an [undefined][x] reference", "an [undefined][x] reference"),
        ("an ![image](i.png) gone", "an gone"),
        ("auto <https://x.org> link", "auto https://x.org link"),
        ("~~struck~~ text", "struck text"),
        ("escaped \\*stars\\* stay", "escaped *stars* stay"),
        ("fish &amp; chips", "fish & chips"),
        ("inline <span>html</span> tags", "inline html tags"),
    ],
)
def test_markdown_inline_rendering(tmp_path: Path, source: str, rendered: str) -> None:
    document = read_document(write(tmp_path, "inline.md", f"# T\n\n{source}\n"))
    assert [p.text for p in paragraphs(document)] == [rendered]


def test_markdown_title_from_first_h1_or_stem(tmp_path: Path) -> None:
    with_h1 = read_document(write(tmp_path, "a.md", "# The Title\n\nText.\n\n## Part\n\nMore.\n"))
    assert with_h1.title == "The Title"
    assert [s.title for s in with_h1.sections] == ["", "Part"]
    without = read_document(write(tmp_path, "b-essay.md", "Intro.\n\n## Part\n\nMore.\n"))
    assert without.title == "b-essay"
    assert [s.title for s in without.sections] == ["", "Part"]


def test_markdown_h1_differing_from_front_matter_is_a_section(tmp_path: Path) -> None:
    content = "---\ntitle: Real Title\n---\n\n# Chapter One\n\nText.\n"
    document = read_document(write(tmp_path, "c.md", content))
    assert document.title == "Real Title"
    assert [(s.title, len(s.paragraphs)) for s in document.sections] == [("Chapter One", 1)]


def test_markdown_list_continuation_and_numbers_in_prose(tmp_path: Path) -> None:
    content = "# T\n\n- item one\n  continues here\n- item two\n\nIt began in\n2017. That year.\n"
    document = read_document(write(tmp_path, "d.md", content))
    assert [p.text for p in paragraphs(document)] == [
        "item one continues here",
        "item two",
        "It began in 2017. That year.",
    ]


def test_markdown_unclosed_front_matter_is_text(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, "e.md", "---\ntitle: x\n\nBody text.\n"))
    assert "Body text." in [p.text for p in paragraphs(document)]


def test_markdown_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "f.md", "# Title\r\n\r\nOne line\r\ntwo line.\r\n")
    assert [p.text for p in paragraphs(read_document(path))] == ["One line two line."]


# ------------------------------------------------------------------------------ html


@pytest.fixture(scope="module")
def page() -> Document:
    return read_document(SAMPLES / "sample-page.html", SAMPLES)


def test_html_metadata(page: Document) -> None:
    assert page.title == "Salt Roads"
    assert page.author == "Bea Writer"
    assert page.source_url == "https://example.com/salt-roads"
    assert page.date == "2019-11-02T08:00:00Z"


def test_html_structure(page: Document) -> None:
    assert [(s.title, [p.text for p in s.paragraphs]) for s in page.sections] == [
        ("", ["Salt moved on mules & men across the high passes. Traders called it white gold."]),
        (
            "The Northern Route",
            [
                "The northern route crossed three rivers.",
                "Bridges were rare.",
                "Ferries were slow.",
                "Salt is the only rock we eat.",
            ],
        ),
        ("The Southern Route", ["The southern route was longer but safer."]),
        ("The Southern Route › Unfinished", []),
    ]
    for paragraph in paragraphs(page):
        assert page.text[paragraph.start : paragraph.end] == paragraph.text


def test_html_noise_removed(page: Document) -> None:
    for noise in (
        "tracking",
        "color: red",
        "Home",
        "masthead",
        "Share on social",
        "A salt caravan",
        "Buy salt",
        "pepper roads",
        "First comment",
        "Copyright",
        "console.log",
    ):
        assert noise not in page.text


@pytest.mark.parametrize(
    ("head", "body", "title", "sections"),
    [
        ("<title>Page</title>", "<h1>Big</h1><p>x</p>", "Big", [""]),
        ("<title>Page</title>", "<p>x</p><h2>Part</h2><p>y</p>", "Page", ["", "Part"]),
        ("", "<p>x</p>", "stem", [""]),
        ('<meta property="og:title" content="OG">', "<h1>Other</h1><p>x</p>", "OG", ["Other"]),
        ("<title>Big | Site</title>", "<h1>Big</h1><p>x</p><h1>Two</h1>", "Big", ["", "Two"]),
    ],
)
def test_html_title_rule(
    tmp_path: Path, head: str, body: str, title: str, sections: list[str]
) -> None:
    path = write(tmp_path, "stem.html", f"<html><head>{head}</head><body>{body}</body></html>")
    document = read_document(path)
    assert document.title == title
    assert [s.title for s in document.sections] == sections


def test_html_main_without_article_and_direct_div_text(tmp_path: Path) -> None:
    content = """<body><div class="sidebar"><p>Side</p></div>
    <main><div>Direct text <b>bold</b> here<p>Nested para.</p>tail text</div>
    <pre>keep   this
    code</pre><h4>Minor heading</h4><table><tr><td>Cell one</td><td>Cell two</td></tr></table>
    </main><div>Outside main</div></body>"""
    document = read_document(write(tmp_path, "m.htm", content))
    assert [p.text for p in paragraphs(document)] == [
        "Direct text bold here",
        "Nested para.",
        "tail text",
    ]
    # Code and data tables are left out of quotes and counted; h4 is a section like h2.
    assert [s.title for s in document.sections] == ["", "Minor heading"]
    assert dict(document.dropped) == {"code": 1, "table": 1}
    assert_offsets_hold(document)


def test_html_canonical_and_time(tmp_path: Path) -> None:
    content = (
        '<html><head><link rel="canonical" href="https://e.org/c"></head><body><article>'
        '<time datetime="2020-01-02">Jan 2</time><p>Text &mdash; with &#8220;entities&#8221;.</p>'
        "</article></body></html>"
    )
    document = read_document(write(tmp_path, "t.html", content))
    assert document.source_url == "https://e.org/c"
    assert document.date == "2020-01-02"
    assert paragraphs(document)[-1].text == "Text — with “entities”."


def test_html_unclosed_tags(tmp_path: Path) -> None:
    content = "<body><p>One<p>Two<ul><li>A<li>B</ul><div>C</span></div></body>"
    document = read_document(write(tmp_path, "u.html", content))
    assert [p.text for p in paragraphs(document)] == ["One", "Two", "A", "B", "C"]


# ------------------------------------------------------------------------ bad files


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n\t \r\n", "empty file (only whitespace)"),
        ("nul.txt", b"Title\n\nText\x00with a NUL byte.\n", "binary file"),
        ("noise.html", bytes(range(1, 32)) * 20, "binary file"),
        ("latin1.txt", "Title\n\nCaf\xe9 au lait.\n".encode("latin-1"), "not UTF-8 text"),
        ("utf16.txt", "Title\n\nText.\n".encode("utf-16"), "not UTF-8 text (UTF-16"),
        ("title-only.txt", b"Only a Title\n", "no paragraphs"),
        ("headings.md", b"# Title\n\n## Part\n\n## Other\n", "no paragraphs"),
        ("nothing.html", b"<html><body><nav><p>menu</p></nav></body></html>", "no paragraphs"),
        ("slides.pdf", b"%PDF-1.4", "could not read the PDF"),
        ("deck.pptx", b"PK", "unsupported file type .pptx"),
        ("README", b"Read me", "unsupported file type (no extension)"),
    ],
)
def test_bad_file_raises_clear_error(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(CorpusError) as caught:
        read_document(path, tmp_path)
    assert caught.value.path == name
    assert caught.value.reason.startswith(reason)
    message = str(caught.value)
    assert name in message and "\n" not in message


def test_latin1_names_the_bad_byte(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.txt", "Title\n\nCaf\xe9.\n".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"invalid byte at position 10"):
        read_document(path)


def test_read_corpus_samples_reports_bad_files_and_reads_good_ones() -> None:
    documents, problems = read_corpus(SAMPLES)
    assert [d.path for d in documents] == [
        "sample-essay.md",
        "sample-notes.txt",
        "sample-page.html",
    ]
    assert problems == [
        CorpusProblem("blank.md", "empty file (only whitespace)"),
        CorpusProblem("empty.txt", "empty file"),
        CorpusProblem(
            "slides.pdf", "could not read the PDF (No /Root object! - Is this really a PDF?)"
        ),
        CorpusProblem(
            "title-only.txt", "no paragraphs (nothing to quote besides a title or headings)"
        ),
    ]
    for document in documents:
        if not document.path.endswith(".md"):
            assert_offsets_hold(document)


def test_read_corpus_mixed_directory(tmp_path: Path) -> None:
    shutil.copy(ESSAY, tmp_path / ESSAY.name)
    write(tmp_path, "binary.txt", b"\x00\x01\x02\x03" * 50)
    write(tmp_path, "latin1.md", "# T\n\nna\xefve\n".encode("latin-1"))
    write(tmp_path, ".hidden.txt", "Hidden\n\nIgnored.\n")
    write(tmp_path, "b.md", "# B\n\nBee.\n")
    write(tmp_path, "b.txt", "B\n\nDuplicate id.\n")
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".git", "notes.txt", "T\n\nInside a hidden folder.\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "nested.txt", "Nested\n\nA nested essay.\n")
    documents, problems = read_corpus(tmp_path)
    assert [(d.doc_id, d.path) for d in documents] == [
        ("4-ways-out-of-the-korean-crisis", "4-ways-out-of-the-korean-crisis.txt"),
        ("b", "b.md"),
        ("sub/nested", "sub/nested.txt"),
    ]
    assert [(p.path, p.reason.split(" (")[0]) for p in problems] == [
        ("b.txt", "duplicate document id 'b'"),
        ("binary.txt", "binary file"),
        ("latin1.md", "not UTF-8 text"),
    ]


def test_read_corpus_turns_unexpected_errors_into_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "good.txt", "Good\n\nFine text.\n")
    write(tmp_path, "boom.md", "# Boom\n\nText.\n")

    def explode(text: str, stem: str) -> None:
        raise RuntimeError("parser\nfell over")

    monkeypatch.setitem(read_module._TEXT_READERS, ".md", explode)
    documents, problems = read_corpus(tmp_path)
    assert [d.path for d in documents] == ["good.txt"]
    assert problems == [
        CorpusProblem("boom.md", "unexpected error while reading: RuntimeError: parser fell over")
    ]


def test_read_corpus_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="not a folder"):
        read_corpus(write(tmp_path, "file.txt", "x"))


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


@pytest.mark.parametrize("suffix", [s for s in SUPPORTED_SUFFIXES if s != ".pdf"])
def test_every_reader_keeps_paragraphs_single_line(tmp_path: Path, suffix: str) -> None:
    body = "Title\n\nFirst line\nsecond line.\n\nAnother paragraph\nwrapped twice\nhere.\n"
    if suffix in (".html", ".htm"):
        body = "<p>First line\nsecond line.</p><p>Another paragraph\nwrapped twice\nhere.</p>"
    document = read_document(write(tmp_path, f"doc{suffix}", body))
    texts = [p.text for p in paragraphs(document)]
    assert texts[-2:] == ["First line second line.", "Another paragraph wrapped twice here."]
    assert_offsets_hold(document)


def test_html_layout_wrapper_named_like_noise_is_kept(tmp_path: Path) -> None:
    content = (
        '<body><div class="layout-with-sidebar"><h1>Essay</h1><p>Body text.</p>'
        '<div class="sidebar">Side links</div></div></body>'
    )
    document = read_document(write(tmp_path, "w.html", content))
    assert [p.text for p in paragraphs(document)] == ["Body text."]


def test_html_odd_markup_does_not_crash(tmp_path: Path) -> None:
    content = "<body><p>Word <![if !vml]>pasted<![endif]> text <![oops and more.</p></body>"
    document = read_document(write(tmp_path, "word.html", content))
    assert paragraphs(document)[0].text.startswith("Word")
