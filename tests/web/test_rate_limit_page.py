"""Rate limiting shown to the shopper: with a budget of one stream a minute, the second search
and the chat say when to try again (the 429's Retry-After), instead of failing silently as a
bare EventSource would."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.server import AppServer
from tests.web.conftest import PageProbe, screenshot, start_app

pytest.importorskip("playwright", reason="playwright is not installed (requirements-dev.txt)")
from playwright.sync_api import expect  # noqa: E402

MESSAGE = re.compile(r"^Too many requests right now\. Please try again in (\d+) seconds? \(at [\d:]+\s*[AP]?M?\)\.$")


@pytest.fixture(scope="module")
def limited_app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    app = start_app(mongo_url, tmp_path_factory.mktemp("web-limited"), "weblimited",
                    STREAMING_RATE_LIMIT="1", STREAMING_WINDOW_MS="60000")
    try:
        yield app
    finally:
        app.stop()


def test_429_says_when_to_try_again(limited_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    probe = new_page()
    page = probe.page
    page.goto(f"{limited_app.url}/?q=kurta")  # the one stream this minute allows
    search = page.locator("storestream-search")
    expect(search).to_have_attribute("data-state", "done")
    assert search.locator(".ss-card").count() > 0

    search.get_by_role("searchbox").fill("silk saree")
    expect(search).to_have_attribute("data-state", "error")
    status = search.locator(".ss-status")
    expect(status).to_have_text(MESSAGE)
    shown = int(MESSAGE.match(status.inner_text()).group(1))
    assert int(search.get_attribute("data-retry-after")) == shown
    refused = httpx.get(f"{limited_app.url}/api/products/search", params={"q": "x"}, timeout=15)
    assert refused.status_code == 429
    assert abs(int(refused.headers["Retry-After"]) - shown) <= 2  # what the server says, not a guess
    assert 1 <= shown <= 61  # the 60 s window; the server rounds its reset time up to a whole second
    assert search.locator(".ss-card").count() == 0  # the earlier query's cards are not left as this one's

    chat = page.locator("storestream-chat")
    box = chat.get_by_role("textbox", name="Your message")
    box.fill("blue cotton kurta")
    box.press("Enter")
    expect(chat).to_have_attribute("data-state", "error")
    expect(chat.locator(".ss-msg-bot .ss-error-text")).to_have_text(MESSAGE)
    assert chat.get_by_role("button", name="Try again").count() == 0  # no retry before the time given
    expect(chat.get_by_role("button", name="Send")).to_be_disabled()  # until the wait is over
    assert probe.errors == [] and probe.dialogs == []
    screenshot(page, "storefront-rate-limited")
