"""Embedding on another origin (issue 8): a storefront served from a second loopback port loads
`storestream.js` from the app and points the widgets at it with `api`. From an origin listed in
CORS_ALLOWED_ORIGINS search and chat work; from one not listed, each widget says it cannot
reach the service, without an uncaught exception."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from tests.support.requirements import missing_playwright, need_at_import
from tests.support.server import AppServer
from tests.web.conftest import PageProbe, Storefront, screenshot

need_at_import(missing_playwright())
from playwright.sync_api import Locator, Page, expect  # noqa: E402

UNREACHABLE = "The service could not be reached (the network failed, or this site is not allowed to use it)."


def storefront_page(app: AppServer) -> str:
    api = escape(app.url, quote=True)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another shop</title>
<script src="{api}/static/storestream.js"></script></head>
<body>
  <h1>Another shop</h1>
  <storestream-search api="{api}" query="silk saree"></storestream-search>
  <storestream-chat api="{api}" endpoint="/api/chat/query/stream"></storestream-chat>
</body></html>"""


def open_shop(shop: Storefront, app: AppServer, new_page: Callable[..., PageProbe]) -> PageProbe:
    shop.html = storefront_page(app)
    probe = new_page()
    probe.page.goto(f"{shop.origin}/")
    return probe


def shop_search(
    shop: Storefront, app: AppServer, new_page: Callable[..., PageProbe], state: str
) -> tuple[PageProbe, Locator]:
    """The shop's page, once its search widget has reached `state` (done, error)."""
    probe = open_shop(shop, app, new_page)
    search = probe.page.locator("storestream-search")
    expect(search).to_have_attribute("data-state", state)
    return probe, search


def ask(page: Page, text: str) -> None:
    box = page.locator("storestream-chat").get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


def test_allowed_storefront_searches_and_chats(
    web_app: AppServer, storefronts: tuple[Storefront, Storefront], new_page: Callable[..., PageProbe]
) -> None:
    probe, search = shop_search(storefronts[0], web_app, new_page, "done")  # the allowed origin
    page = probe.page
    assert search.locator(".ss-card").count() > 0
    # Images come from the platform's origin, not the storefront's.
    src = search.locator(".ss-card img").first.get_attribute("src")
    assert src.startswith(f"{web_app.url}/pictures/product.svg?")
    assert search.locator(".ss-card img").first.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    # The stylesheet came along with the script.
    assert page.evaluate("getComputedStyle(document.querySelector('storestream-search')).display") == "block"

    chat = page.locator("storestream-chat")
    ask(page, "blue cotton kurta")
    expect(chat).to_have_attribute("data-state", "done")
    expect(chat.locator(".ss-answer").last).not_to_be_empty()
    assert chat.locator(".ss-msg-bot .ss-card").count() > 0
    assert probe.errors == []
    screenshot(page, "cross-origin-allowed")


def test_storefront_not_allowed_gets_a_clean_message(
    web_app: AppServer, storefronts: tuple[Storefront, Storefront], new_page: Callable[..., PageProbe]
) -> None:
    probe, search = shop_search(storefronts[1], web_app, new_page, "error")  # the stranger
    page = probe.page
    expect(search.locator(".ss-status")).to_have_text(UNREACHABLE)
    assert search.locator(".ss-card").count() == 0

    chat = page.locator("storestream-chat")
    ask(page, "blue cotton kurta")
    expect(chat).to_have_attribute("data-state", "error")
    expect(chat.locator(".ss-msg-bot .ss-error-text")).to_have_text(UNREACHABLE)
    # "Try again" asks the question again (a new request, a new answer in the log), and fails
    # just as cleanly.
    with page.expect_request(lambda r: r.url.endswith("/api/chat/query/stream")):
        chat.get_by_role("button", name="Try again").click()
    expect(chat.locator(".ss-msg-user")).to_have_text(["blue cotton kurta", "blue cotton kurta"])
    expect(chat.locator(".ss-msg-bot .ss-error-text")).to_have_text([UNREACHABLE, UNREACHABLE])
    expect(chat).to_have_attribute("data-state", "error")
    assert probe.errors == [], f"uncaught exceptions: {probe.errors}"
    screenshot(page, "cross-origin-refused")
