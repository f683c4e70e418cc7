"""Real-browser tests of the web front ends: Debian's chromium driven by Playwright (sync API)
against the real app (`app.main:create_app` under uvicorn) and the session's nx-27017 MongoDB.

One app server and one browser serve the whole package (start-up is most of the cost); each
test gets a fresh browser context (its own cookies and sessionStorage). Tests that need other
settings (the rate limit) start their own server.

Screenshots go to `tests/artifacts/screenshots/` (already ignored by git), or to the folder
named by `WEB_SCREENSHOTS_DIR`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.requirements import chromium_path, missing_browser, need
from tests.support.server import ROOT, AppServer, isolated_env, wait_for_search

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

# Debian's chromium headless as root (see ../shared/FIELD-NOTES.md, "Browser tests"). Playwright
# adds --headless and its own fresh --user-data-dir for every launch.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 15_000  # every Playwright wait; nothing may hang
ADMIN_TOKEN = "web-admin-token"
SCREENSHOTS = Path(os.environ.get("WEB_SCREENSHOTS_DIR") or ROOT / "tests" / "artifacts" / "screenshots")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Skips the browser tests, saying why, when chromium or Playwright is missing (fails
    them under CI=true)."""
    need(missing_browser())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=CHROMIUM_ARGS,
            timeout=30_000,
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class PageProbe:
    """A page plus what it reported: uncaught exceptions and dialogs (alert, confirm...)."""

    page: Page
    errors: list[str]
    dialogs: list[str]


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., PageProbe]]:
    """`new_page()` opens a page in a fresh context; all are closed at test end."""
    contexts: list[BrowserContext] = []

    def open_page(**options: Any) -> PageProbe:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        probe = PageProbe(page, [], [])
        page.on("pageerror", lambda error: probe.errors.append(str(error)))

        def on_dialog(dialog: Any) -> None:
            probe.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return probe

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def storefront(web_app: AppServer, new_page: Callable[..., PageProbe]) -> Iterator[PageProbe]:
    """The demo storefront (`/`) in a fresh page; the test fails on any uncaught exception or
    dialog in it."""
    probe = new_page()
    probe.page.goto(f"{web_app.url}/")
    yield probe
    assert probe.errors == [], f"uncaught exceptions in the page: {probe.errors}"
    assert probe.dialogs == [], f"dialogs opened: {probe.dialogs}"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """The whole page, or (`full_page=False`) the window as the shopper sees it: what a
    fixed sheet or button covers."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def chat_widget(page: Page, endpoint: str) -> Locator:
    """The page's chat element, pointed at `endpoint`."""
    chat = page.locator("storestream-chat")
    chat.evaluate("(el, endpoint) => el.setAttribute('endpoint', endpoint)", endpoint)
    return chat


def ask(chat: Locator, text: str) -> None:
    """Type `text` into the chat widget and send it, as a shopper does."""
    box = chat.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


# -- a storefront on other origins ------------------------------------------------------------


class Storefront:
    """A stdlib HTTP server on its own loopback port: another origin serving one HTML page."""

    def __init__(self) -> None:
        self.html = "<!doctype html><title>empty</title>"
        storefront = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = storefront.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Storefront:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="package")
def storefronts() -> Iterator[tuple[Storefront, Storefront]]:
    """(allowed, stranger): two storefront origins; the app lists only the first in
    CORS_ALLOWED_ORIGINS."""
    allowed, stranger = Storefront().start(), Storefront().start()
    try:
        yield allowed, stranger
    finally:
        allowed.stop()
        stranger.stop()


# -- the app ----------------------------------------------------------------------------------


def start_app(mongo_url: str, folder: Path, name: str, **settings: str) -> AppServer:
    """The real app factory, a small demo catalog and no sentence model (fast start), until
    its search index is ready."""
    env = isolated_env(
        mongo_url, folder, name, DEMO_CATALOG_SIZE="300", SEARCH_EMBEDDINGS="false",
        ADMIN_TOKEN=ADMIN_TOKEN, TTS_ENGINE="espeak", **settings,
    )
    app = AppServer(env, log_dir=folder, factory="app.main:create_app").start()
    try:
        wait_for_search(app, min_vectors=0, timeout=60)
    except BaseException:
        app.stop()
        raise
    return app


def serving(tmp_path_factory: pytest.TempPathFactory, mongo_url: str, name: str, **settings: str) -> Iterator[AppServer]:
    """`start_app` in a folder of its own, stopped when the fixture that yields from it ends:
    `yield from serving(...)`."""
    app = start_app(mongo_url, tmp_path_factory.mktemp(name), name, **settings)
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="package")
def web_app(
    mongo_url: str, tmp_path_factory: pytest.TempPathFactory, storefronts: tuple[Storefront, Storefront]
) -> Iterator[AppServer]:
    allowed, _ = storefronts
    app = start_app(
        mongo_url, tmp_path_factory.mktemp("web"), "web",
        STREAMING_RATE_LIMIT="100000", STREAMING_RETRY_MS="500",
        CORS_ALLOWED_ORIGINS=allowed.origin,
    )
    try:
        yield app
    finally:
        app.stop()
