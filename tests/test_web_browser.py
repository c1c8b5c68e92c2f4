"""The web reader in a real browser: Debian's chromium, headless, driven by Selenium.

scripts/test.sh installs `chromium` and `chromium-driver` (apt) and the dev extra installs
selenium; without them these tests skip, saying why.  The reader runs in-process (a thread
with its own event loop) over the shipped essay indexed with the fake embedder.  Every test
saves a screenshot under test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.config import Settings
from bot.search.engine import Engine
from bot.web.serve import ReaderServer
from bot.web.server import Reader
from tests.helpers.essay import REPO
from tests.helpers.footnote_bot import DUAL_TRACK, QUESTION, Essay

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401

    SELENIUM = True
except ImportError:
    SELENIUM = False

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER and SELENIUM),
    reason="needs chromium, chromium-driver (apt) and selenium (pip, dev extra); "
    "scripts/test.sh installs them",
)

ARTIFACTS = REPO / "test-artifacts"
ESSAY_DOC = "4-ways-out-of-the-korean-crisis"
DESKTOP = (1280, 900)
PHONE = (390, 844)


class ReaderThread:
    """The reader on 127.0.0.1 (a free port), served by an event loop in its own thread."""

    def __init__(self, essay: Essay) -> None:
        engine = Engine(essay.retriever)
        self.server = ReaderServer(Reader(lambda: engine, Settings()), "127.0.0.1", 0)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ReaderThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        return self.server.url.rstrip("/")


@pytest.fixture(scope="module")
def reader(essay: Essay) -> Iterator[ReaderThread]:
    with ReaderThread(essay) as running:
        yield running


def _driver(tmp: Path, javascript: bool = True, size: tuple[int, int] = DESKTOP) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp}",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    if size[0] < 500:  # headless windows are at least 500 px wide: emulate a phone instead
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": size[0], "height": size[1], "deviceScaleFactor": 2, "mobile": True},
        )
    return driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = _driver(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()


def _shot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _in_viewport(driver: Any, selector: str) -> bool:
    return bool(
        driver.execute_script(
            "var r = document.querySelector(arguments[0]).getBoundingClientRect();"
            "return r.height > 0 && r.top >= -1 && r.bottom <= window.innerHeight + 1;",
            selector,
        )
    )


def _wait(driver: Any, condition: Any, timeout: float = 10) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _no_csp_violations(driver: Any) -> None:
    messages = [entry["message"] for entry in driver.get_log("browser")]
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages


def _last_passage(essay: Essay) -> str:
    """A passage of the essay's last paragraph: far below the fold on any screen."""
    library = essay.retriever.library
    row = library.window_row(3, 4, 5)
    assert row is not None
    return library.hit(row).passage.id


def test_a_passage_opens_scrolled_to_its_highlighted_sentences(
    browser: Any, reader: ReaderThread, essay: Essay
) -> None:
    passage = _last_passage(essay)
    browser.get(f"{reader.url}/p/{passage}")
    _wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    _wait(browser, lambda d: d.execute_script("return window.scrollY") > 0)
    assert _in_viewport(browser, "mark#quote")
    quote = essay.retriever.library.passage(passage)
    assert quote is not None
    assert browser.find_element("css selector", "mark#quote").text == quote.quote
    background = browser.execute_script(
        "return getComputedStyle(document.querySelector('mark#quote')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    copy = browser.find_element("css selector", "button[data-copy]")
    assert copy.is_displayed()  # JS shows the copy control
    _shot(browser, "passage-desktop")
    copy.click()
    _wait(browser, lambda d: copy.text != "Copy link")
    assert copy.text.startswith(("Link copied", "Copy failed"))
    _no_csp_violations(browser)


def test_the_table_of_contents_leads_to_each_section(browser: Any, reader: ReaderThread) -> None:
    browser.get(f"{reader.url}/")
    _shot(browser, "library")
    browser.find_element("link text", "4 Ways out of the Korean Crisis").click()
    _wait(browser, lambda d: f"/d/{ESSAY_DOC}" in d.current_url)
    _shot(browser, "document")
    toc = browser.find_element("css selector", "nav.toc")
    toc.find_element("link text", DUAL_TRACK).click()
    _wait(browser, lambda d: d.current_url.endswith("#s1"))
    _wait(browser, lambda d: _in_viewport(d, "#h-s1"))
    _shot(browser, "document-section")
    _no_csp_violations(browser)


def test_a_search_leads_to_the_answer_in_its_place(browser: Any, reader: ReaderThread) -> None:
    browser.get(f"{reader.url}/")
    box = browser.find_element("id", "q")
    box.send_keys(QUESTION)
    box.submit()
    _wait(browser, lambda d: "/ask?q=" in d.current_url)
    assert browser.find_element("css selector", "p.verdict").text == "The essays answer this."
    _shot(browser, "answers")
    first = browser.find_element("css selector", ".results li .cite a")
    target = first.get_attribute("href")
    first.click()
    _wait(browser, lambda d: d.current_url == target)
    _wait(browser, lambda d: _in_viewport(d, "mark#quote"))
    _shot(browser, "answer-in-place")
    browser.get(f"{reader.url}/cite?q={quote('nobody knows how to collapse a regime')}")
    assert "Where it stands" in browser.find_element("tag name", "h1").text
    _shot(browser, "cite")
    _no_csp_violations(browser)


def test_pages_work_without_javascript(tmp_path: Path, reader: ReaderThread, essay: Essay) -> None:
    driver = _driver(tmp_path, javascript=False)
    try:
        driver.get(f"{reader.url}/p/{_last_passage(essay)}")
        # The passage's card comes first; the copy control needs JS and stays hidden.
        assert _in_viewport(driver, ".here-card blockquote")
        assert not driver.find_element("css selector", "button[data-copy]").is_displayed()
        assert driver.find_element("css selector", "a.permalink").is_displayed()
        assert "js" not in (driver.find_element("tag name", "html").get_attribute("class") or "")
        _shot(driver, "passage-no-js")
        driver.find_element("link text", "Go to it in the text").click()
        _wait(driver, lambda d: _in_viewport(d, "mark#quote"))
        box = driver.find_element("id", "q")
        box.send_keys(QUESTION)
        box.submit()
        _wait(driver, lambda d: "/ask?q=" in d.current_url)
        assert driver.find_elements("css selector", ".results li")
        _shot(driver, "answers-no-js")
    finally:
        driver.quit()


def test_a_phone_sized_screen_reads_without_sideways_scrolling(
    tmp_path: Path, reader: ReaderThread, essay: Essay
) -> None:
    driver = _driver(tmp_path, size=PHONE)
    try:
        driver.get(f"{reader.url}/p/{_last_passage(essay)}")
        _wait(driver, lambda d: _in_viewport(d, "mark#quote"))
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= driver.execute_script("return window.innerWidth")
        _shot(driver, "passage-phone")
        driver.get(f"{reader.url}/")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
        _shot(driver, "library-phone")
    finally:
        driver.quit()


def test_dark_mode_and_telegram_colours(browser: Any, reader: ReaderThread, essay: Essay) -> None:
    passage = _last_passage(essay)
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        browser.get(f"{reader.url}/p/{passage}")
        script = "return getComputedStyle(document.body).backgroundColor"
        assert browser.execute_script(script) == "rgb(22, 23, 26)"
        _shot(browser, "passage-dark")
        # Printed: no header, search or navigation, only the text.
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        header = browser.find_element("css selector", "header.site")
        assert not header.is_displayed()
        assert not browser.find_element("css selector", "nav.passage").is_displayed()
        assert browser.find_element("css selector", "mark#quote").is_displayed()
        _shot(browser, "passage-print")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})
    # Inside Telegram, the Mini App's theme arrives in the fragment (a fresh load: from /).
    browser.get(f"{reader.url}/")
    theme = quote('{"bg_color":"#203040","text_color":"#fafafa","link_color":"#ffcc00"}')
    browser.get(f"{reader.url}/p/{passage}#tgWebAppData=x&tgWebAppThemeParams={theme}")
    _wait(
        browser,
        lambda d: (
            d.execute_script("return getComputedStyle(document.body).backgroundColor")
            == "rgb(32, 48, 64)"
        ),
    )
    # Without a secondary colour, panels take the background: light text stays readable.
    panel = "return getComputedStyle(document.querySelector('p.para.here')).backgroundColor"
    assert browser.execute_script(panel) == "rgb(32, 48, 64)"
    _shot(browser, "passage-telegram-theme")
    _no_csp_violations(browser)
