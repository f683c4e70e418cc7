"""Rate limiting shown to the shopper, and respected: search and chat share one budget per
platform in the page. A refusal (429) or a response saying no request is left holds every
widget until the budget frees: each says when to try again (the server's Retry-After /
X-RateLimit-Reset), sends nothing meanwhile, and never asks a JSON twin why a stream failed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.requirements import missing_playwright, need_at_import
from tests.support.server import AppServer
from tests.web.conftest import TIMEOUT_MS, PageProbe, screenshot, serving

need_at_import(missing_playwright())
from playwright.sync_api import Locator, Page, Request, expect  # noqa: E402

MESSAGE = re.compile(r"^Too many requests right now\. Please try again in (\d+) seconds? \(at [\d:]+\s*[AP]?M?\)\.$")
SEARCH_STREAM = "/api/products/search/stream"
SEARCH_TWIN = "/api/products/search"
CHAT_STREAM = "/api/chat/query/stream"


@pytest.fixture(scope="module")
def limited_app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    yield from serving(tmp_path_factory, mongo_url, "weblimited", STREAMING_RATE_LIMIT="1", STREAMING_WINDOW_MS="60000")


@pytest.fixture(scope="module")
def short_window_app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """Two requests per 4 s: a hold short enough to wait out in a test."""
    yield from serving(tmp_path_factory, mongo_url, "webshort", STREAMING_RATE_LIMIT="2", STREAMING_WINDOW_MS="4000")


def record(page: Page) -> dict[str, list[Request]]:
    """Requests by path, for the budgeted routes."""
    seen: dict[str, list[Request]] = {SEARCH_STREAM: [], SEARCH_TWIN: [], CHAT_STREAM: []}

    def on_request(request: Request) -> None:
        path = urlsplit(request.url).path
        if path in seen:
            seen[path].append(request)

    page.on("request", on_request)
    return seen


def spend_budget(app: AppServer) -> httpx.Response:
    """Spend what is left of this client's budget (the test and the browser are both
    127.0.0.1); returns the first refusal."""
    for _ in range(10):
        response = httpx.get(f"{app.url}{SEARCH_TWIN}", params={"q": "x"}, timeout=15)
        if response.status_code == 429:
            return response
    raise AssertionError("the budget never ran out")


def test_no_request_left_holds_both_widgets_without_asking(
    limited_app: AppServer, new_page: Callable[..., PageProbe]
) -> None:
    """The page's first search spends the one request of the minute; its response says
    `X-RateLimit-Remaining: 0`, so neither widget sends anything until the reset, and both
    say when that is."""
    probe = new_page()
    page = probe.page
    seen = record(page)
    page.goto(f"{limited_app.url}/?q=kurta")  # the one stream this minute allows (if not spent yet)
    search = page.locator("storestream-search")
    expect(search).to_have_attribute("data-state", re.compile(r"^(done|error)$"))
    spent_before = search.get_attribute("data-state") == "error"  # an earlier test spent it
    search.get_by_role("combobox").fill("silk saree")
    expect(search).to_have_attribute("data-state", "error")
    status = search.locator(".ss-status")
    expect(status).to_have_text(MESSAGE)
    shown = int(MESSAGE.match(status.inner_text()).group(1))
    assert int(search.get_attribute("data-retry-after")) == shown
    refused = httpx.get(f"{limited_app.url}{SEARCH_TWIN}", params={"q": "x"}, timeout=15)
    assert refused.status_code == 429
    assert abs(int(refused.headers["Retry-After"]) - shown) <= 2  # what the server says, not a guess
    assert 1 <= shown <= 61  # the 60 s window; the server rounds its reset time up to a whole second
    assert search.locator(".ss-card").count() == 0  # the earlier query's cards are not left as this one's

    chat = page.locator("storestream-chat")
    expect(chat.locator(".ss-status")).to_have_text(MESSAGE)  # the chat knows too, before anyone asks
    expect(chat.get_by_role("button", name="Send")).to_be_disabled()
    box = chat.get_by_role("textbox", name="Your message")
    box.fill("blue cotton kurta")
    box.press("Enter")
    page.wait_for_timeout(500)
    expect(box).to_have_value("blue cotton kurta")  # kept for when the wait is over
    assert seen[CHAT_STREAM] == [] and seen[SEARCH_TWIN] == []
    assert len(seen[SEARCH_STREAM]) == (0 if spent_before else 1)
    assert probe.errors == [] and probe.dialogs == []
    screenshot(page, "storefront-rate-limited")


def test_429_is_understood_from_the_stream_request_alone(
    limited_app: AppServer, new_page: Callable[..., PageProbe]
) -> None:
    """A page that knew nothing of the spent budget: its search is refused (429). The widget
    reads the status and Retry-After from that response (no second request to the JSON twin,
    as the EventSource version had to make), shows when to try again, and sends nothing for
    the next query either."""
    probe = new_page()
    page = probe.page
    seen = record(page)
    page.goto(f"{limited_app.url}/")
    refusal = spend_budget(limited_app)
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox")
    box.fill("lehenga")
    expect(search).to_have_attribute("data-state", "error")
    expect(search.locator(".ss-status")).to_have_text(MESSAGE)
    shown = int(search.get_attribute("data-retry-after"))
    assert abs(int(refusal.headers["Retry-After"]) - shown) <= 2
    assert len(seen[SEARCH_STREAM]) == 1 and seen[SEARCH_STREAM][0].response().status == 429

    box.fill("anarkali")  # during the hold: shown the wait, nothing sent
    page.wait_for_timeout(1000)  # twice the debounce
    expect(search.locator(".ss-status")).to_have_text(MESSAGE)
    assert len(seen[SEARCH_STREAM]) == 1 and seen[SEARCH_TWIN] == []
    chat = page.locator("storestream-chat")
    expect(chat.get_by_role("button", name="Send")).to_be_disabled()
    assert probe.errors == [] and probe.dialogs == []


def ask_with_the_budget_spent(page: Page, app: AppServer, question: str) -> Locator:
    """The storefront's chat (on the chat stream) asks `question` once the budget is spent;
    returns the chat, refused."""
    page.goto(f"{app.url}/")
    chat = page.locator("storestream-chat")
    chat.evaluate("el => el.setAttribute('endpoint', '/api/chat/query/stream')")
    spend_budget(app)
    box = chat.get_by_role("textbox", name="Your message")
    box.fill(question)
    box.press("Enter")
    expect(chat).to_have_attribute("data-state", "error")
    return chat


def test_chat_refused_holds_sending_then_offers_try_again(
    short_window_app: AppServer, new_page: Callable[..., PageProbe]
) -> None:
    """A question refused with 429: the answer says when to try again, Send is disabled and
    "Try again" is not offered until Retry-After has passed; nothing is sent on its own.
    Then "Try again" (pressed by the shopper) asks the same question, and it is answered."""
    probe = new_page()
    page = probe.page
    seen = record(page)
    chat = ask_with_the_budget_spent(page, short_window_app, "blue cotton kurta")
    expect(chat.locator(".ss-msg-bot .ss-error-text")).to_have_text(MESSAGE)
    assert chat.get_by_role("button", name="Try again").count() == 0  # no retry before the time given
    expect(chat.get_by_role("button", name="Send")).to_be_disabled()  # until the wait is over
    assert len(seen[CHAT_STREAM]) == 1

    retry = chat.get_by_role("button", name="Try again")
    expect(retry).to_be_visible(timeout=TIMEOUT_MS)  # once Retry-After (at most 5 s here) has passed
    expect(chat.get_by_role("button", name="Send")).to_be_enabled()
    assert len(seen[CHAT_STREAM]) == 1  # offered, not sent
    retry.click()
    expect(chat.locator(".ss-msg-user")).to_have_text(["blue cotton kurta", "blue cotton kurta"])
    expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(1)
    expect(chat).to_have_attribute("data-state", "done")
    assert len(seen[CHAT_STREAM]) == 2 and seen[SEARCH_TWIN] == []
    assert probe.errors == [] and probe.dialogs == []


def test_a_persian_shopper_is_told_in_persian(
    short_window_app: AppServer, new_page: Callable[..., PageProbe]
) -> None:
    """The same refusal for a question in Persian: the wait and "Try again" are said in
    Persian, right to left. English shoppers keep the English words (the test above)."""
    probe = new_page()
    chat = ask_with_the_budget_spent(probe.page, short_window_app, "لباس قرمز")
    said = chat.locator(".ss-msg-bot .ss-error-text")
    expect(said).to_have_text(re.compile(r"^درخواست‌ها فعلاً زیاد است\. لطفاً [۰-۹]+ ثانیه دیگر"))
    assert said.evaluate("el => getComputedStyle(el).direction") == "rtl"
    # The chat's own line while the budget is held says it in Persian too.
    expect(chat.get_by_role("status")).to_have_text(re.compile(r"^درخواست‌ها فعلاً زیاد است"))
    retry = chat.get_by_role("button", name="دوباره امتحان کنید")
    expect(retry).to_be_visible(timeout=TIMEOUT_MS)  # once Retry-After has passed
    assert chat.get_by_role("button", name="Try again").count() == 0
    assert probe.errors == [] and probe.dialogs == []


def test_a_persian_query_refused_is_told_in_persian(limited_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    probe = new_page()
    page = probe.page
    page.goto(f"{limited_app.url}/")
    spend_budget(limited_app)  # one request a minute: spent, whatever came before
    search = page.locator("storestream-search")
    search.get_by_role("combobox", name="Search products").fill("کفش مشکی")
    expect(search).to_have_attribute("data-state", "error")
    status = search.locator(".ss-status.ss-error")
    expect(status).to_have_text(re.compile(r"^درخواست‌ها فعلاً زیاد است\. لطفاً [۰-۹]+ ثانیه دیگر"))
    assert status.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert probe.errors == [] and probe.dialogs == []
