"""`/docs` in a real browser: Swagger UI renders the app's OpenAPI document from files the app
serves itself (nothing is fetched from elsewhere), a product search runs from it (Try it out,
Execute: the stream's events are shown), and the admin bearer scheme works (Authorize, then an
admin route answers 200 where it answered 401)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from tests.support.requirements import missing_playwright, need_at_import
from tests.support.server import AppServer
from tests.web.conftest import ADMIN_TOKEN, TIMEOUT_MS, PageProbe, screenshot

need_at_import(missing_playwright())
from playwright.sync_api import ConsoleMessage, Locator, Page, expect  # noqa: E402

SEARCH = "#operations-streams-get_api_products_search_stream"
FILES = "#operations-context_files-get_api_context_files"


def open_docs(new_page: Callable[..., PageProbe], app: AppServer) -> tuple[PageProbe, list[str]]:
    """The page, with what it requested; console errors (a refusal by the page's
    Content-Security-Policy is one) are counted with its uncaught exceptions, but not the
    browser's note of a 4xx response (the tests check those statuses themselves)."""
    probe = new_page()
    requested: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            probe.errors.append(message.text)

    probe.page.on("request", lambda request: requested.append(request.url))
    probe.page.on("console", on_console)
    probe.page.goto(f"{app.url}/docs")
    expect(probe.page.locator(SEARCH)).to_be_visible(timeout=TIMEOUT_MS)
    return probe, requested


def status_of(op: Locator) -> Locator:
    """The status of the response "Execute" got (the live response, not the documented ones)."""
    return op.locator(".live-responses-table .response .response-col_status").first


def body_of(op: Locator) -> Locator:
    return op.locator(".live-responses-table .response-col_description pre").first


def execute(page: Page, operation: str) -> Locator:
    """Open the operation, Try it out, Execute, until the response is shown."""
    op = page.locator(operation)
    op.locator(".opblock-summary").click()
    op.get_by_role("button", name="Try it out").click()
    op.get_by_role("button", name="Execute").click()
    expect(status_of(op)).to_be_visible(timeout=TIMEOUT_MS)
    return op


def test_a_product_search_runs_from_the_explorer(new_page: Callable[..., PageProbe], web_app: AppServer) -> None:
    probe, requested = open_docs(new_page, web_app)
    page = probe.page
    op = execute(page, SEARCH)
    expect(status_of(op)).to_have_text("200", timeout=TIMEOUT_MS)
    body = body_of(op)
    expect(body).to_contain_text("event: close", timeout=TIMEOUT_MS)
    text = body.inner_text()
    assert text.index("event: connected") < text.index('"stage":"final"') < text.index("event: close")
    assert '"type":"product_cards"' in text and '"query":"red lehenga"' in text
    assert "event: error" not in text
    # The 200's description lists the stream's events with their payload schemas.
    expect(op.locator(".response[data-code='200']")).to_contain_text("ProductCardsResult")
    screenshot(page, "docs_search")
    assert probe.errors == [] and probe.dialogs == []
    assert requested and all(url.startswith(web_app.url + "/") for url in requested), requested
    searches = [parse_qs(urlsplit(url).query) for url in requested if "/api/products/search/stream?" in url]
    assert len(searches) == 1 and searches[0]["q"] == ["red lehenga"] and searches[0]["limit"] == ["5"]


def test_the_admin_token_is_usable_from_the_explorer(new_page: Callable[..., PageProbe],
                                                    web_app: AppServer) -> None:
    probe, _ = open_docs(new_page, web_app)
    page = probe.page
    op = execute(page, FILES)
    expect(status_of(op)).to_have_text("401", timeout=TIMEOUT_MS)

    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".dialog-ux")
    dialog.locator("input").fill(ADMIN_TOKEN)
    dialog.locator("button.modal-btn.authorize").click()
    dialog.locator("button.btn-done").click()
    op.get_by_role("button", name="Execute").click()
    expect(status_of(op)).to_have_text("200", timeout=TIMEOUT_MS)
    expect(body_of(op)).to_contain_text('"files"', timeout=TIMEOUT_MS)
    # Kept in the page's memory only: nothing written to storage a later visitor could read.
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert probe.errors == []
