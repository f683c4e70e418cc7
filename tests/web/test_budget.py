"""The storefront lives within the DEFAULT rate limit (30 streaming requests per 60 s, shared by
search and chat): a scripted shopper on the demo page types six queries key by key at human
speed, uses two filter chips (and presses one of them twice), and asks the chat five
questions, all within one minute, and is never refused.

The app here is started with STREAMING_RATE_LIMIT and STREAMING_WINDOW_MS unset (checked: the
widget's own responses carry `X-RateLimit-Limit: 30`). What each query should show is asked of
the same app's JSON twin by the test itself, as another client: the app trusts 127.0.0.1 as a
proxy (TRUSTED_PROXIES), the test's requests name the client 10.9.9.9 in X-Forwarded-For,
and the browser's (without that header) count as 127.0.0.1's: the checks cost the shopper's
budget nothing.

The number of requests the widgets made is printed (`-s` shows it) and written to
tests/artifacts/budget.json.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.requirements import missing_playwright, need_at_import
from tests.support.server import ROOT, AppServer
from tests.web.conftest import TIMEOUT_MS, PageProbe, screenshot, start_app

need_at_import(missing_playwright())
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Locator, Page, Request, Response, expect  # noqa: E402

SEARCH_STREAM = "/api/products/search/stream"
# Every route that draws on the shared streaming budget and that a page could call.
LIMITED = {
    SEARCH_STREAM, "/api/products/search", "/api/chat/query/stream", "/api/chat/query", "/api/chat/stream",
    "/api/troika/intelligent-chat/stream", "/api/troika/intelligent-chat", "/aza/search/stream", "/aza/search",
}
WIDGET_LIMIT = 24  # the demo page's <storestream-search limit="24">
QUERIES = ["silk lehenga", "cotton kurta", "denim jeans", "silk saree", "sherwani", "anarkali"]
QUESTIONS = [
    "red silk lehenga for a wedding",
    "show me cheaper ones",
    "blue cotton kurta under 2000",
    "compare the first two",
    "do you have a sherwani in size 40",
]
OTHER_CLIENT = "10.9.9.9"
SEED = int(os.environ.get("BUDGET_SEED", "20261122"))


@pytest.fixture(scope="module")
def default_limit_app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    for name in ("STREAMING_RATE_LIMIT", "STREAMING_WINDOW_MS", "RATE_LIMIT_WHITELIST"):
        if name in os.environ:
            pytest.skip(f"{name} is set in this environment; this test needs the default limit")
    app = start_app(mongo_url, tmp_path_factory.mktemp("web-budget"), "webbudget", TRUSTED_PROXIES="127.0.0.1/32")
    try:
        yield app
    finally:
        app.stop()


def expected_skus(app: AppServer, q: str, **filters: str) -> list[str]:
    """The twin's answer, asked as another client (see the module's docstring)."""
    response = httpx.get(f"{app.url}/api/products/search", params={"q": q, "limit": WIDGET_LIMIT, **filters},
                         headers={"X-Forwarded-For": OTHER_CLIENT}, timeout=15)
    assert response.status_code == 200, response.text
    return [p["sku"] for p in response.json()["products"]]


def shown_skus(search: Locator) -> list[str]:
    return search.evaluate("el => [...el.querySelectorAll('.ss-card')].map(c => c.dataset.sku)")


def wait_shown(page: Page, search: Locator, skus: list[str]) -> None:
    """Until the widget is done and shows exactly these cards, in this order."""
    try:
        page.wait_for_function(
            """([el, skus]) => el.dataset.state === 'done'
                && JSON.stringify([...el.querySelectorAll('.ss-card')].map(c => c.dataset.sku))
                   === JSON.stringify(skus)""",
            arg=[search.element_handle(), skus], timeout=TIMEOUT_MS,
        )
    except PlaywrightError as error:
        state = search.evaluate("""el => ({state: el.dataset.state, query: el.dataset.query,
            status: el.querySelector('.ss-status').textContent, input: el.querySelector('input').value,
            cards: [...el.querySelectorAll('.ss-card')].map(c => c.dataset.sku)})""")
        raise AssertionError(f"expected cards {skus}; the widget shows {state}") from error


def type_like_a_shopper(page: Page, box: Locator, text: str, rnd: random.Random) -> None:
    """Clear the box, then one key at a time, 120-300 ms apart (a pause never longer)."""
    box.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Backspace")
    for ch in text:
        page.wait_for_timeout(rnd.randint(120, 300))
        page.keyboard.type(ch)


def test_scripted_shopper_stays_within_the_default_budget(
    default_limit_app: AppServer, new_page: Callable[..., PageProbe]
) -> None:
    probe = new_page()
    page = probe.page
    requests: list[Request] = []
    refused: list[str] = []
    limits: set[str] = set()

    def on_request(request: Request) -> None:
        if urlsplit(request.url).path in LIMITED:
            requests.append(request)

    def on_response(response: Response) -> None:
        if response.status == 429:
            refused.append(response.url)
        if urlsplit(response.url).path in LIMITED and "x-ratelimit-limit" in response.headers:
            limits.add(response.headers["x-ratelimit-limit"])

    page.on("request", on_request)
    page.on("response", on_response)
    rnd = random.Random(SEED)
    page.goto(f"{default_limit_app.url}/")
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox", name="Search products")
    chat = page.locator("storestream-chat")
    checked: list[dict[str, Any]] = []

    started = time.monotonic()
    for i, q in enumerate(QUERIES):
        type_like_a_shopper(page, box, q, rnd)
        skus = expected_skus(default_limit_app, q)
        assert skus, f"no demo products for {q!r}: pick another query"
        wait_shown(page, search, skus)
        # Every card shown is the last query's; the widget says which query that is.
        expect(search).to_have_attribute("data-query", q)
        assert shown_skus(search) == skus
        checked.append({"query": q, "cards": len(skus)})

        if i == 2:  # two filter chips on "denim jeans": a colour (pressed twice: on, then off again), a size
            colour = search.locator('.ss-chip[data-field="color"]').first
            value = colour.get_attribute("data-value")
            colour.click()
            narrowed = expected_skus(default_limit_app, q, color=value)
            wait_shown(page, search, narrowed)
            expect(search.locator(f'.ss-chip[data-field="color"][data-value="{value}"]')).to_have_attribute(
                "aria-pressed", "true")
            before = len(requests)
            search.locator(f'.ss-chip[data-field="color"][data-value="{value}"]').click()  # off again: cached
            wait_shown(page, search, skus)
            assert len(requests) == before, "toggling a chip back must show the cached results"
            size = search.locator('.ss-chip[data-field="size"]').first
            size_value = size.get_attribute("data-value")
            size.click()
            wait_shown(page, search, expected_skus(default_limit_app, q, size=size_value))
            # Filters stay on for the next query until removed: "Clear filters" (cached again).
            before = len(requests)
            search.get_by_role("button", name="Clear filters").click()
            wait_shown(page, search, skus)
            assert len(requests) == before
            checked.append({"query": q, "chips": [value, size_value]})

    for n, question in enumerate(QUESTIONS, 1):
        message = chat.get_by_role("textbox", name="Your message")
        message.fill(question)
        message.press("Enter")
        expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(n)
        expect(chat).to_have_attribute("data-state", "done")
    elapsed = time.monotonic() - started

    # Back to an earlier query: shown from the cache, no request.
    before = len(requests)
    type_like_a_shopper(page, box, QUERIES[0], rnd)
    wait_shown(page, search, expected_skus(default_limit_app, QUERIES[0]))
    expect(search).to_have_attribute("data-query", QUERIES[0])
    page.wait_for_timeout(800)  # longer than the debounce: a late request would show now
    retyped = len(requests) - before
    elapsed_all = time.monotonic() - started

    searches = [parse_qs(urlsplit(r.url).query).get("q", [""])[0] for r in requests
                if urlsplit(r.url).path == SEARCH_STREAM]
    by_path: dict[str, int] = {}
    for request in requests:
        by_path[urlsplit(request.url).path] = by_path.get(urlsplit(request.url).path, 0) + 1
    report = {
        "seed": SEED, "elapsed_s": round(elapsed, 1), "elapsed_with_retype_s": round(elapsed_all, 1),
        "requests": len(requests), "by_path": by_path, "search_queries": searches,
        "requests_for_retyped_query": retyped, "refused_429": len(refused), "limit_header": sorted(limits),
    }
    print("\nbudget:", json.dumps(report, indent=1))
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "budget.json").write_text(json.dumps(report, indent=1))
    screenshot(page, "storefront-budget")

    assert limits == {"30"}, f"not the default limit: {limits}"
    assert refused == [], f"{len(refused)} refusals (429): {refused}"
    assert len(requests) <= 30, report
    assert retyped == 0, "a query typed again must come from the cache"
    assert "/api/products/search" not in by_path, "the widget must never probe the JSON twin"
    # The premise: everything above happened inside one rate-limit window.
    assert elapsed < 60, f"the scenario took {elapsed:.0f} s, longer than one window: too slow to be meaningful"
    assert probe.errors == [] and probe.dialogs == []
