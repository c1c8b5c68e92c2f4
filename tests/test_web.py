"""The web reader over HTTP (bot/web/): pages, the JSON API, 404s, escaping, headers, limits.

The reader runs in-process on aiohttp's test server over the shipped essay indexed with the
fake embedder; `/api/ask` is compared with what `footnote ask --json` prints for the
evaluation questions, in a real `footnote` process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from bot.search.engine import Engine
from bot.search.retriever import Retriever, open_retriever
from bot.web.pages import library_page
from bot.web.server import CSP, Reader
from tests.helpers.essay import EVAL_SET, REPO, write_text
from tests.helpers.footnote_bot import DOCUMENT, DUAL_TRACK, EMPTY_SECTION, QUESTION, Essay

ESSAY_DOC = "4-ways-out-of-the-korean-crisis"


async def _client(retriever: Retriever, **settings: Any) -> TestClient[Any, Any]:
    engine = Engine(retriever)
    reader = Reader(lambda: engine, Settings(**settings))
    client = TestClient(TestServer(reader.web_app()))
    await client.start_server()
    return client


@pytest_asyncio.fixture
async def client(essay: Essay) -> AsyncIterator[TestClient[Any, Any]]:
    client = await _client(essay.retriever, user_rate_limit=0)
    yield client
    await client.close()


async def _text(client: TestClient[Any, Any], path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, (path, response.status)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return await response.text()


async def test_the_library_lists_documents_sections_and_counts(
    client: TestClient[Any, Any],
) -> None:
    page = await _text(client, "/")
    assert f'<a href="/d/{ESSAY_DOC}">{DOCUMENT}</a>' in page
    assert f'href="/d/{ESSAY_DOC}#s1">{DUAL_TRACK}</a> <span class="count">(' in page
    assert f'#s2">{EMPTY_SECTION}</a> <span class="empty">no text in this copy</span>' in page
    assert "<main" in page and 'role="search"' in page and "<header" in page


async def test_the_library_page_is_made_once_per_loaded_index(
    essay: Essay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every GET / of one index generation is the same page, made on the first; a reload
    (the engine's index swapped) makes the new library's page, once."""
    import bot.web.server as server

    made: list[str] = []

    def counted(library: Any) -> str:
        made.append(library.documents[0].doc_id)
        return library_page(library)

    monkeypatch.setattr(server, "library_page", counted)
    engine = Engine(essay.retriever)
    reader = Reader(lambda: engine, Settings(user_rate_limit=0))
    client = TestClient(TestServer(reader.web_app()))
    await client.start_server()
    try:
        first = [await _text(client, "/") for _ in range(3)]
        assert made == [ESSAY_DOC] and first[0] == first[1] == first[2]
        (tmp_path / "corpus").mkdir()
        write_text(tmp_path / "corpus" / "salt.md", "# Salt\n\nSalt moved on mules.\n")
        reloaded, _ = open_retriever(tmp_path / "corpus", tmp_path / "index", "fake:hashing")
        engine.swap(reloaded)
        after = [await _text(client, "/") for _ in range(2)]
        assert made == [ESSAY_DOC, "salt"] and after[0] == after[1] != first[0]
        assert '<a href="/d/salt">Salt</a>' in after[0]
    finally:
        await client.close()


async def test_a_document_anchors_every_paragraph(
    client: TestClient[Any, Any], essay: Essay
) -> None:
    page = await _text(client, f"/d/{ESSAY_DOC}")
    library = essay.retriever.library
    anchors = re.findall(r'<p class="para" id="p-([0-9a-f]{12})">', page)
    expected = [
        library.paragraph_id(p) for s in library.sections() for p in library.section_paragraphs(s)
    ]
    assert anchors == expected and len(anchors) == 4
    assert page.count('<section id="s') == 3
    assert "No text under this heading in this copy." in page
    assert 'id="quote"' not in page


async def test_a_passage_is_marked_in_its_document_with_its_neighbours(
    client: TestClient[Any, Any], essay: Essay
) -> None:
    library = essay.retriever.library
    row = library.window_row(2, 1, 2)  # sentences 2-3 of the third paragraph
    assert row is not None
    hit = library.hit(row)
    page = await _text(client, f"/p/{hit.passage.id}")
    marked = re.search(r'<mark id="quote" tabindex="-1">(.*?)</mark>', page, re.S)
    assert marked is not None and marked.group(1) == hit.quote.replace("&", "&amp;")
    assert page.count("<mark") == 1
    previous = library.neighbour_id(hit.paragraph, -1)
    following = library.neighbour_id(hit.paragraph, +1)
    assert previous and following
    assert f'rel="prev" href="/p/{previous}"' in page
    assert f'rel="next" href="/p/{following}"' in page
    assert f'data-copy="/p/{hit.passage.id}" hidden>Copy link</button>' in page
    assert f'<p class="para here" id="p-{library.paragraph_id(hit.paragraph)}">' in page


async def test_unknown_ids_documents_and_paths_are_404_pages(client: TestClient[Any, Any]) -> None:
    for path in (
        "/p/000000000000",
        "/p/../../etc/passwd",
        "/p/E9AE80612EEE",
        "/d/nothing-here",
        "/d/../index/manifest.json",
        "/static/../bot/config.py",
        "/index/manifest.json",
        "/nowhere",
    ):
        page = await _text(client, path, 404)
        assert "<h1>Not found</h1>" in page, path
    response = await client.get("/api/nothing")
    assert response.status == 404 and await response.json() == {"error": "not found"}
    response = await client.post("/ask", data=b"q=x")
    assert response.status == 405 and response.headers["X-Content-Type-Options"] == "nosniff"


async def test_every_response_carries_the_security_headers(client: TestClient[Any, Any]) -> None:
    for path in ("/", "/static/reader.css", "/static/reader.js", "/api/ask?q=x", "/ask?q=x"):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP
    assert "default-src 'none'" in CSP
    css = await client.get("/static/reader.css")
    assert css.content_type == "text/css"
    script = await client.get("/static/reader.js")
    assert script.content_type == "text/javascript"


async def test_the_answer_page_links_each_quote_to_its_place(
    client: TestClient[Any, Any], essay: Essay
) -> None:
    page = await _text(client, "/ask?q=" + QUESTION.replace(" ", "+").replace("?", "%3F"))
    answer = essay.retriever.ask(QUESTION, 4)
    for hit in answer.hits:
        assert f'href="/p/{hit.passage.id}"' in page
    assert '<p class="verdict">The essays answer this.</p>' in page
    assert f'value="{QUESTION}"' in page
    off = await _text(client, "/ask?q=hello")
    assert "isn&#x27;t in the essays" in off
    empty = await _text(client, "/ask?q=What+is+the+cooperation+spiral%3F")
    assert f"“{EMPTY_SECTION}” is a section of" in empty and f'href="/d/{ESSAY_DOC}#s2"' in empty
    form = await _text(client, "/ask")
    assert "<h1>Search the essays</h1>" in form
    cite = await _text(client, "/cite?q=nobody+knows+how+to")
    assert "<h1>Where it stands" in cite and 'href="/p/' in cite
    assert "Found: the phrase stands here." in cite


def _cli_json(essay: Essay, *args: str, model: str = "fake:hashing") -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "FOOTNOTE_MODEL": model,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            *args,
            "--json",
            "--corpus",
            str(essay.root / "corpus"),
            "--index",
            str(essay.root / "index"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=essay.root,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


async def test_api_ask_is_footnote_ask_json_for_the_evaluation_questions(
    client: TestClient[Any, Any], essay: Essay
) -> None:
    data = json.loads(EVAL_SET.read_text(encoding="utf-8"))
    questions = [item["q"] for item in data["questions"]] + list(data["off_topic"])
    expected = _cli_json(essay, "ask", *questions)
    assert len(expected) == len(questions) == 66
    for question, printed in zip(questions, expected, strict=True):
        response = await client.get("/api/ask", params={"q": question})
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == printed, question
    two = await client.get("/api/ask", params={"q": QUESTION, "k": "2"})
    assert await two.json() == _cli_json(essay, "ask", QUESTION, "-k", "2")[0]
    phrase = "nobody knows how to collapse a regime"
    cited = await client.get("/api/cite", params={"q": phrase})
    assert await cited.json() == _cli_json(essay, "cite", phrase)[0]


async def test_queries_and_k_are_capped(client: TestClient[Any, Any]) -> None:
    long = "why " * 251
    assert (await client.get("/api/ask", params={"q": long})).status == 400
    assert (await client.get("/ask", params={"q": long})).status == 400
    assert (await client.get("/api/ask", params={"q": "x" * 1000})).status == 200
    for k in ("0", "11", "-1", "x", "２", "3.0"):
        response = await client.get("/api/ask", params={"q": "x", "k": k})
        assert response.status == 400, k
        assert "k must be" in (await response.json())["error"]
    assert (await client.get("/api/ask")).status == 400


async def test_searches_are_limited_per_client_address(essay: Essay) -> None:
    client = await _client(essay.retriever, user_rate_limit=2, user_rate_window=60.0)
    try:
        assert (await client.get("/api/ask", params={"q": "a"})).status == 200
        assert (await client.get("/ask", params={"q": "b"})).status == 200
        refused = await client.get("/api/cite", params={"q": "c"})
        assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
        assert await refused.json() == {"error": "too many requests"}
        page = await client.get("/ask", params={"q": "d"})
        assert page.status == 429 and "faster than I can quote" in await page.text()
        # Reading is not searching: pages and passages stay open.
        assert (await client.get("/")).status == 200
        assert (await client.get("/ask")).status == 200
    finally:
        await client.close()


HOSTILE_MARKDOWN = """---
title: Front <script>alert("matter")</script> & Co
author: Eve <img src=x onerror=alert(1)>
source: javascript:alert(document.cookie)
---

Plain words under a hostile front matter.
"""
HOSTILE_TEXT = """<script>alert("title")</script> & Sons

Before any heading, a <script>alert("text")</script> & an &amp; entity, "quoted".

Heading </h2><script>alert(2)</script> & more

Under the heading: <b>bold?</b> and a closing </mark></p> tag & so on.
"""


async def test_hostile_titles_and_text_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    write_text(tmp_path / "corpus" / "a&<script>.txt", HOSTILE_TEXT)
    write_text(tmp_path / "corpus" / "b.md", HOSTILE_MARKDOWN)
    retriever, _ = open_retriever(tmp_path / "corpus", tmp_path / "index", "fake:hashing")
    client = await _client(retriever)
    try:
        library = retriever.library
        assert [d.doc_id for d in library.documents] == ["a&<script>", "b"]
        last = [p for p in library.section_paragraphs(library.sections()[1])][-1]
        pages = [
            await _text(client, "/"),
            await _text(client, "/d/a%26%3Cscript%3E"),
            await _text(client, "/d/b"),
            await _text(client, f"/p/{library.paragraph_id(last)}"),
            await _text(client, "/ask?q=%3Cscript%3Ealert(1)%3C/script%3E+bold+heading"),
            await _text(client, "/cite?q=%3Cb%3Ebold%3F%3C/b%3E"),
        ]
        for page in pages:
            assert "<script>alert" not in page
            assert "<img" not in page and "</mark></p> tag" not in page and "<b>" not in page
            assert 'href="javascript' not in page
            assert page.count("<script") == 1  # the reader's own, from /static
        assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; &amp; Sons" in pages[0]
        assert 'href="/d/a%26%3Cscript%3E"' in pages[0]
        assert "Eve &lt;img src=x onerror=alert(1)&gt;" in pages[2]
        assert "javascript:alert(document.cookie)" in pages[2]  # shown as text, not a link
        assert "&lt;b&gt;bold?&lt;/b&gt;" in pages[3]
        assert "Heading &lt;/h2&gt;&lt;script&gt;alert(2)&lt;/script&gt; &amp; more" in pages[3]
        assert "&amp;amp; entity" in pages[1]
        assert "&lt;b&gt;bold?&lt;/b&gt;" in pages[5] or "bold?" in pages[5]
    finally:
        await client.close()


def test_reader_settings_fail_loudly_naming_the_key() -> None:
    env = {"FOOTNOTE_PUBLIC_URL": "https://reader.example.org/"}
    settings = load_settings(env, dotenv=None)
    assert settings.public_url == "https://reader.example.org"
    assert settings.reader_url == "https://reader.example.org"
    assert load_settings({**env, "FOOTNOTE_WEB_READER": "0"}, None).reader_url is None
    assert load_settings({}, None).reader_url is None
    assert load_settings({"FOOTNOTE_WEB_PORT": "8080"}, None).web_port == 8080
    for key, value in (
        ("FOOTNOTE_PUBLIC_URL", "reader.example.org"),
        ("FOOTNOTE_PUBLIC_URL", "javascript:alert(1)"),
        ("FOOTNOTE_PUBLIC_URL", "https://example.org/footnote"),
        ("FOOTNOTE_PUBLIC_URL", "https://user:pw@example.org"),
        ("FOOTNOTE_PUBLIC_URL", "https://example.org:port"),
        ("FOOTNOTE_WEB_PORT", "eighty"),
        ("FOOTNOTE_WEB_PORT", "70000"),
        ("FOOTNOTE_WEB_READER", "maybe"),
    ):
        with pytest.raises(ConfigError, match=key):
            load_settings({key: value}, None)


def _footnote(essay: Essay, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=essay.root,
        env={
            **os.environ,
            "FOOTNOTE_MODEL": "fake:hashing",
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_footnote_web_serves_until_stopped_and_can_be_turned_off(essay: Essay) -> None:
    import signal
    import urllib.request

    process = _footnote(essay, "web", "--port", "0")
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"Footnote reader on (http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        with urllib.request.urlopen(match.group(1), timeout=10) as response:
            assert response.status == 200 and b"<h1>Library</h1>" in response.read()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    off = _footnote(essay, "web", "--port", "0", FOOTNOTE_WEB_READER="0")
    _, err = off.communicate(timeout=60)
    assert off.returncode == 1
    assert "the web reader is turned off (FOOTNOTE_WEB_READER=0)" in err


def test_the_answer_page_says_the_verdict(essay: Essay) -> None:
    from bot.search.answer import Answer
    from bot.web.pages import answer_page

    hits = essay.retriever.ask(QUESTION, 2).hits
    closest = Answer(QUESTION, True, hits, verdict="closest", missing_terms=("Japan",))
    page = answer_page(closest, "ask")
    assert "No passage answers this exactly; these come closest." in page
    assert "The essays never mention Japan." in page
    absent = answer_page(Answer("Who is Lee?", False, missing_terms=("Lee",)), "ask")
    assert "isn&#x27;t in the essays" in absent and "never mention Lee" in absent


@pytest.mark.model
async def test_api_ask_is_footnote_ask_json_with_the_bundled_model(tmp_path: Path) -> None:
    """The same, with the real model (the CLI embeds its questions in one batch, the reader
    one at a time: the figures must agree all the same)."""
    from bot.config import DEFAULT_MODEL
    from tests.helpers.essay import copy_essay

    corpus = copy_essay(tmp_path / "corpus")
    retriever, _ = open_retriever(corpus, tmp_path / "index", DEFAULT_MODEL)
    essay = Essay(tmp_path, retriever)
    data = json.loads(EVAL_SET.read_text(encoding="utf-8"))
    questions = [item["q"] for item in data["questions"]] + list(data["off_topic"])
    expected = _cli_json(essay, "ask", *questions, model=DEFAULT_MODEL)
    client = await _client(retriever, user_rate_limit=0)
    try:
        for question, printed in zip(questions, expected, strict=True):
            response = await client.get("/api/ask", params={"q": question})
            assert await response.json() == printed, question
    finally:
        await client.close()


async def test_real_documents_open_in_the_reader(tmp_path: Path) -> None:
    """Web pages, READMEs, licences and a PDF (tests/data/real): every document and one passage
    of each open, and PDF paragraphs carry their page."""
    import shutil

    shutil.copytree(REPO / "tests" / "data" / "real", tmp_path / "corpus")
    (tmp_path / "corpus" / "README.md").unlink()
    retriever, _ = open_retriever(tmp_path / "corpus", tmp_path / "index", "fake:hashing")
    library = retriever.library
    client = await _client(retriever, user_rate_limit=0)
    try:
        library_page = await _text(client, "/")
        pdf_pages = 0
        for document in library.documents:
            assert f'href="/d/{document.doc_id}"' in library_page
            page = await _text(client, f"/d/{document.doc_id}")
            first = next(p for s in document.sections for p in library.section_paragraphs(s))
            passage = await _text(client, f"/p/{library.paragraph_id(first)}")
            assert '<mark id="quote"' in passage
            if document.path.endswith(".pdf"):
                pdf_pages += page.count(" · p. ")
        assert len(library.documents) >= 12 and pdf_pages > 0
    finally:
        await client.close()
