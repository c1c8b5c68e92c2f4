"""The corpus boundary and the index's integrity: what Footnote reads, what it never reads, and
one writer at a time (fast embedder; everything in temporary folders)."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.corpus import read_corpus
from bot.corpus.files import LINK_OUTSIDE, SECRET_LOOKING, looks_secret, scan_corpus
from bot.errors import ConfigError, IndexProblem
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.fingerprint import corpus_fingerprint
from bot.index.lock import LOCK_FILE, writer_lock
from bot.index.manifest import MANIFEST, read_manifest
from bot.index.store import load_index, open_index
from bot.search.retriever import Retriever
from tests.helpers.essay import copy_essay
from tests.helpers.essay import write_text as _write_text

MARKER = "daemon:x:1:1:MARKER-7f3a91:/usr/sbin:/usr/sbin/nologin"
SECRET = "TELEGRAM_BOT_TOKEN=123456:MARKER-SECRET-d41c"


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_text(path, text)


def quotable(corpus: Path, index: Path, phrase: str) -> bool:
    store, _ = open_index(corpus, index, HashingEmbedder())
    return Retriever(store, HashingEmbedder()).cite(phrase).found


def test_links_that_leave_the_corpus_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_text(outside / "passwd", f"System accounts\n\n{MARKER}\n")
    write_text(outside / "bot.env", f"Settings\n\n{SECRET}\n")
    (outside / "folder").mkdir()
    write_text(outside / "folder" / "more.txt", f"More\n\n{MARKER} again.\n")
    corpus = copy_essay(tmp_path / "corpus")
    (corpus / "passwd.txt").symlink_to(outside / "passwd")
    (corpus / "notes.txt").symlink_to(outside / "bot.env")
    (corpus / "linked").symlink_to(outside / "folder", target_is_directory=True)
    (corpus / "dangling.txt").symlink_to(tmp_path / "nowhere")
    scan = scan_corpus(corpus)
    assert [p.name for p in scan.files] == ["4-ways-out-of-the-korean-crisis.txt"]
    reasons = {problem.path: problem.reason for problem in scan.skipped}
    assert reasons == {
        "dangling.txt": "a broken link",
        "linked": LINK_OUTSIDE,
        "notes.txt": LINK_OUTSIDE,
        "passwd.txt": LINK_OUTSIDE,
    }
    assert not quotable(corpus, tmp_path / "index", "MARKER-7f3a91")
    assert not quotable(corpus, tmp_path / "index", "MARKER-SECRET-d41c")
    _, problems = read_corpus(corpus)
    assert {p.path for p in problems} >= {"passwd.txt", "notes.txt", "linked"}
    # The operator's explicit opt-in follows them.
    followed = scan_corpus(corpus, follow_links=True)
    assert {p.name for p in followed.files} >= {"passwd.txt", "more.txt"}


def test_links_inside_the_corpus_are_read(tmp_path: Path) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    write_text(corpus / "drafts" / "essay.txt", "A draft\n\nThe draft says something else.\n")
    (corpus / "alias.txt").symlink_to(corpus / "drafts" / "essay.txt")
    names = [p.relative_to(corpus).as_posix() for p in scan_corpus(corpus).files]
    assert "alias.txt" in names and "drafts/essay.txt" in names


def test_secret_looking_files_are_never_opened(tmp_path: Path) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    for name in ("id_rsa", "server.key", "prod.env", "credentials.json", "secrets.txt", "x.pem"):
        path = write_text(corpus / name, f"{SECRET}\n")
        path.chmod(0)  # even hashing it would fail loudly... if we tried
    scan = scan_corpus(corpus)
    assert [p.name for p in scan.files] == ["4-ways-out-of-the-korean-crisis.txt"]
    assert {p.reason for p in scan.skipped} == {SECRET_LOOKING}
    corpus_fingerprint(corpus)  # does not open them either
    assert not quotable(corpus, tmp_path / "index", "MARKER-SECRET-d41c")


def test_a_page_named_after_its_subject_is_a_document() -> None:
    # Python's documentation has library/secrets.html: the page of the `secrets` module.
    assert not looks_secret("secrets.html") and not looks_secret("Credentials.PDF")
    assert looks_secret("secrets.txt") and looks_secret("credentials.json")
    assert looks_secret("server.key") and looks_secret("prod.env") and looks_secret("id_rsa")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder whatever its mode")
def test_unreadable_folder_is_named_not_silently_dropped(tmp_path: Path) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    write_text(corpus / "locked" / "essay.txt", "Locked\n\nThis text is locked away.\n")
    (corpus / "locked").chmod(0)
    try:
        scan = scan_corpus(corpus)
    finally:
        (corpus / "locked").chmod(0o755)
    assert [p.path for p in scan.skipped] == ["locked/"]
    assert "cannot be read" in scan.skipped[0].reason


def test_unreadable_folder_is_named_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    write_text(corpus / "locked" / "essay.txt", "Locked\n\nThis text is locked away.\n")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if Path(str(path)).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    before = corpus_fingerprint(corpus)
    _, problems = read_corpus(corpus)
    assert [(p.path, p.reason) for p in problems] == [
        ("locked/", "folder cannot be read (Permission denied); its documents are left out")
    ]
    monkeypatch.setattr(os, "scandir", real_scandir)
    assert corpus_fingerprint(corpus) != before  # readable again: the index is rebuilt


def _write_forever(corpus: str, index: str, rounds: int) -> None:
    for _ in range(rounds):
        build_index(Path(corpus), Path(index), HashingEmbedder(), force=True)


def test_concurrent_writers_leave_a_loadable_index(tmp_path: Path) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    context = multiprocessing.get_context("fork")
    writers = [
        context.Process(target=_write_forever, args=(str(corpus), str(index), 8)) for _ in range(3)
    ]
    for writer in writers:
        writer.start()
    checks = 0
    while any(w.is_alive() for w in writers) and checks < 2000:  # bounded
        checks += 1
        try:
            manifest = read_manifest(index)
        except IndexProblem:
            continue  # a manifest mid-replace is never seen (os.replace), but be explicit
        missing = [n for n in manifest.files.values() if not (index / n).is_file()]
        if missing:  # only a reader that two newer generations overtook may see that
            assert read_manifest(index).files != manifest.files, missing
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    manifest = read_manifest(index)
    assert all((index / name).is_file() for name in manifest.files.values())
    load_index(index)
    generations = {p.name.split("-", 1)[1].split(".")[0] for p in index.iterdir() if "-" in p.name}
    assert len(generations) <= 3  # this one, the one before, and nothing piling up


def test_a_second_writer_waits_and_names_the_holder(tmp_path: Path) -> None:
    index = tmp_path / "index"
    heard: list[str] = []
    with (
        writer_lock(index),
        pytest.raises(IndexProblem, match=r"another build is writing the index .*pid"),
        writer_lock(index, timeout=0.3, on_wait=heard.append),
    ):
        pass
    assert heard and f"pid {os.getpid()}" in heard[0]
    with writer_lock(index, timeout=0.3):  # released: taken at once
        pass
    assert (index / LOCK_FILE).is_file()


@pytest.mark.parametrize(
    "files",
    [
        {"passages": "../../etc/passwd"},
        {"passages": "/etc/passwd"},
        {"passages": "passages-x/../../y.jsonl"},
        {"passages": 42},
        [],
    ],
)
def test_manifest_paths_are_confined_and_bad_manifests_rebuilt(
    tmp_path: Path, files: object
) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    data = json.loads((index / MANIFEST).read_text())
    data["files"] = files if not isinstance(files, dict) else {**data["files"], **files}
    (index / MANIFEST).write_text(json.dumps(data))
    with pytest.raises(IndexProblem, match="corrupt"):
        read_manifest(index)
    store, report = open_index(corpus, index, HashingEmbedder())
    assert report.rebuilt and store.passages


def test_deeply_nested_manifest_is_rebuilt(tmp_path: Path) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    index = tmp_path / "index"
    index.mkdir()
    (index / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(IndexProblem, match="corrupt"):
        read_manifest(index)
    _, report = open_index(corpus, index, HashingEmbedder())
    assert report.rebuilt


def test_unreadable_corpus_serves_the_previous_index_with_a_warning(tmp_path: Path) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    corpus.rename(tmp_path / "moved")  # the corpus is gone (unmounted volume, say)
    store, report = open_index(corpus, index, HashingEmbedder())
    assert store.passages and not report.rebuilt
    assert report.warning is not None and "could not be refreshed" in report.warning
    with pytest.raises(Exception, match="does not exist"):
        open_index(corpus, index, HashingEmbedder(), keep_previous=False)


def test_read_only_index_dir_serves_the_previous_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    write_text(corpus / "new.txt", "New\n\nA new essay arrives.\n")  # stale now
    real_open = os.open

    def read_only(path: object, flags: int, *args: object) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(30, "Read-only file system")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", read_only)
    store, report = open_index(corpus, index, HashingEmbedder())
    assert store.passages and report.warning and "Read-only file system" in report.warning


def test_webhook_secret_from_a_file(tmp_path: Path) -> None:
    secret = write_text(tmp_path / "secret", "s3cret-from-a-file\n")
    env = {"FOOTNOTE_WEBHOOK_SECRET_FILE": str(secret)}
    assert load_settings(env, dotenv=None).webhook_secret == "s3cret-from-a-file"
    with pytest.raises(ConfigError, match="FOOTNOTE_WEBHOOK_SECRET_FILE"):
        load_settings({"FOOTNOTE_WEBHOOK_SECRET_FILE": str(tmp_path / "nope")}, dotenv=None)
    assert load_settings({"FOOTNOTE_FOLLOW_LINKS": "1"}, dotenv=None).follow_links
    with pytest.raises(ConfigError, match="FOOTNOTE_FOLLOW_LINKS"):
        load_settings({"FOOTNOTE_FOLLOW_LINKS": "maybe"}, dotenv=None)
