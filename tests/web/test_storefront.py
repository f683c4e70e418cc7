"""The demo storefront (`/`) in a real browser: search as you type with filter chips, the chat
embed streaming an answer, audio, right-to-left answers, resume after a dropped connection,
keyboard-only use, and catalog text that must never become markup.

What the page shows is checked against what the server says for the same question (the JSON
twins), so a widget that renders the wrong stage, order or price fails.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.llm.phrases import inr
from tests.support.requirements import missing_espeak, missing_playwright, need_at_import, requires
from tests.support.server import AppServer
from tests.web.conftest import ADMIN_TOKEN, TIMEOUT_MS, PageProbe, ask, chat_widget, screenshot

need_at_import(missing_playwright())
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Locator, Page, Request, Route, expect  # noqa: E402

SEARCH_STREAM = "/api/products/search/stream"
CHAT_STREAM = "/api/chat/query/stream"
TROIKA_STREAM = "/api/troika/intelligent-chat/stream"
WIDGET_LIMIT = 24  # the demo page's <storestream-search limit="24">

CARDS_JS = """el => [...el.querySelectorAll('.ss-card')].map(card => ({
    sku: card.dataset.sku,
    title: card.querySelector('.ss-card-title').textContent,
    price: card.querySelector('.ss-card-price').textContent,
    colours: [...card.querySelectorAll('.ss-colour')].map(e => e.textContent),
    sizes: [...card.querySelectorAll('.ss-size')].map(e => e.textContent),
}))"""


def twin_search(app: AppServer, q: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{app.url}/api/products/search", params={"q": q, "limit": WIDGET_LIMIT, **params},
                         timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def twin_chat(app: AppServer, endpoint: str, text: str, **extra: Any) -> dict[str, Any]:
    """The same question through the endpoint's JSON twin (a new conversation)."""
    field = "query" if endpoint == CHAT_STREAM else "message"
    response = httpx.post(f"{app.url}{endpoint.removesuffix('/stream')}", json={field: text, **extra}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def shown_cards(widget: Locator) -> list[dict[str, Any]]:
    return widget.evaluate(CARDS_JS)


def wait_done(widget: Locator) -> None:
    expect(widget).to_have_attribute("data-state", "done")


def flat(text: str) -> str:
    """Markdown source or rendered text, compared without markup and whitespace."""
    lines = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line) for line in text.splitlines()]
    return re.sub(r"\s+", "", "".join(lines).replace("**", ""))


def stream_requests(page: Page, path: str) -> list[Request]:
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request) if urlsplit(request.url).path == path else None)
    return seen


# -- search -------------------------------------------------------------------------------------


def test_typing_shows_cards_and_filter_chips_narrow_them(web_app: AppServer, storefront: PageProbe) -> None:
    page = storefront.page
    requests = stream_requests(page, SEARCH_STREAM)
    search = page.locator("storestream-search")
    search.evaluate("""el => { window.__stages = [];
        new MutationObserver(() => window.__stages.push(el.dataset.stage))
            .observe(el, {attributes: true, attributeFilter: ['data-stage']}); }""")
    box = search.get_by_role("combobox", name="Search products")
    box.press_sequentially("kurta", delay=30)  # keystrokes faster than the debounce
    wait_done(search)
    expect(search).to_have_attribute("data-stage", "final")
    # Early cards (as soon as words match), then the final ranking.
    assert [st for st in page.evaluate("window.__stages") if st] == ["text", "final"]

    # Debounced: five keystrokes, not five searches (one, unless the machine stalled between
    # two keystrokes for longer than the debounce), the last for the whole word.
    queries = [parse_qs(urlsplit(r.url).query)["q"][0] for r in requests]
    assert len(queries) < 5 and queries[-1] == "kurta", queries
    expect(search.locator(".ss-step")).to_have_count(3)  # text_search, vector_search, filters

    twin = twin_search(web_app, "kurta")
    cards = shown_cards(search)
    assert [c["sku"] for c in cards] == [p["sku"] for p in twin["products"]] and cards
    for card, product in zip(cards, twin["products"], strict=True):
        assert card["title"] == product["title"]
        assert card["price"] == inr(product["price"])  # Intl en-IN: ₹1,29,999 grouping
        assert card["colours"] == product["colors"] and card["sizes"] == product["sizes"]
    # No broken images: every placeholder loaded.
    search.locator(".ss-card img").last.scroll_into_view_if_needed()  # lazy images load near the viewport
    broken = page.wait_for_function(
        """el => { const imgs = [...el.querySelectorAll('.ss-card img')];
                   return imgs.every(i => i.complete) && imgs.filter(i => i.naturalWidth === 0).length + 1; }""",
        arg=search.element_handle(), timeout=TIMEOUT_MS,
    ).json_value()
    assert broken == 1, f"{broken - 1} product images failed to load"

    # A colour chip carried by some cards but not all, so narrowing is visible.
    colour = next(
        value for value in search.locator('.ss-chip[data-field="color"]').evaluate_all("cs => cs.map(c => c.dataset.value)")
        if any(value not in c["colours"] for c in cards) and any(value in c["colours"] for c in cards)
    )
    search.locator(f'.ss-chip[data-field="color"][data-value="{colour}"]').click()
    wait_done(search)
    expect(search.locator(f'.ss-chip[data-field="color"][data-value="{colour}"]')).to_have_attribute("aria-pressed", "true")
    narrowed = shown_cards(search)
    assert narrowed and all(colour in c["colours"] for c in narrowed)
    assert parse_qs(urlsplit(requests[-1].url).query)["color"] == [colour]
    assert [c["sku"] for c in narrowed] == [p["sku"] for p in twin_search(web_app, "kurta", color=colour)["products"]]

    # Then a size, on top of the colour.
    size = next(
        value for value in search.locator('.ss-chip[data-field="size"]').evaluate_all("cs => cs.map(c => c.dataset.value)")
        if any(value not in c["sizes"] for c in narrowed) and any(value in c["sizes"] for c in narrowed)
    )
    search.locator(f'.ss-chip[data-field="size"][data-value="{size}"]').click()
    wait_done(search)
    both = shown_cards(search)
    assert both and all(colour in c["colours"] and size in c["sizes"] for c in both)
    assert len(both) < len(cards)
    screenshot(page, "storefront-search-filtered")


def test_price_chip_narrows_to_its_band_and_toggles_off(web_app: AppServer, storefront: PageProbe) -> None:
    page = storefront.page
    requests = stream_requests(page, SEARCH_STREAM)
    search = page.locator("storestream-search")
    search.get_by_role("combobox").fill("silk")
    wait_done(search)
    before = shown_cards(search)

    def rupees(text: str) -> int:
        return int(re.sub(r"[^\d]", "", text))

    bands = twin_search(web_app, "silk")["facets"]["price"]
    band = next(b for b in bands if any(not (b["min"] <= rupees(c["price"]) < (b["max"] or 1e12)) for c in before))
    chip = search.locator(f'.ss-chip[data-field="price"][data-value="{band["value"]}"]')
    chip.click()
    wait_done(search)
    expect(chip).to_have_attribute("aria-pressed", "true")
    query = parse_qs(urlsplit(requests[-1].url).query)
    assert float(query["min_price"][0]) == band["min"]
    assert ("max_price" not in query) if band["max"] is None else float(query["max_price"][0]) == band["max"]
    inside = shown_cards(search)
    assert inside and all(band["min"] <= rupees(c["price"]) <= (band["max"] or 1e12) for c in inside)

    sent = len(requests)
    chip.click()  # pressed again: the filter goes, and "silk" alone is shown from the cache
    wait_done(search)
    expect(search.locator('.ss-chip[data-field="price"][aria-pressed="true"]')).to_have_count(0)
    expect(search).to_have_attribute("data-source", "cache")
    assert len(requests) == sent
    assert [c["sku"] for c in shown_cards(search)] == [c["sku"] for c in before]


def test_search_ends_its_stream_at_close_and_never_searches_again(web_app: AppServer, storefront: PageProbe) -> None:
    """One query, one request: nothing reconnects or searches again after the stream's `close`
    (the server's `retry:` is 500 ms here; an EventSource left open would have reconnected)."""
    page = storefront.page
    requests = stream_requests(page, SEARCH_STREAM)
    search = page.locator("storestream-search")
    search.get_by_role("combobox").fill("silk saree")
    wait_done(search)
    page.wait_for_timeout(1500)
    assert len(requests) == 1
    assert search.evaluate("el => el.run") is None  # nothing in flight
    assert search.get_attribute("data-requests") == "1"


def test_search_error_event_is_shown_and_ends_the_search(web_app: AppServer, storefront: PageProbe) -> None:
    """A stream that fails on the server (`error`, then `close`) says so in words, and the
    widget does not reconnect to run it again."""
    page = storefront.page
    frames = [
        ("connected", {"stream_id": "e", "stream": "search", "message": "Stream started"}),
        ("progress", {"step": "text_search", "message": "12 products match the words", "count": 12}),
        ("error", {"message": "The stream ran longer than 30000 ms", "error": "timeout", "code": "STREAM_TIMEOUT",
                   "retryable": True, "fatal": True}),
        ("close", {"message": "Stream ended"}),
    ]
    body = "retry: 500\n\n" + "".join(
        f"id: e-{i}\nevent: {kind}\ndata: {json.dumps(data)}\n\n" for i, (kind, data) in enumerate(frames, 1))
    calls: list[str] = []

    def fail(route: Route) -> None:
        calls.append(route.request.url)
        route.fulfill(status=200, content_type="text/event-stream", body=body)

    page.route(f"**{SEARCH_STREAM}?**", fail)
    search = page.locator("storestream-search")
    search.get_by_role("combobox").fill("kurta")
    expect(search).to_have_attribute("data-state", "error")
    expect(search.locator(".ss-status")).to_have_text("The stream ran longer than 30000 ms")
    expect(search.locator(".ss-step")).to_have_text(["12 products match the words"])
    page.wait_for_timeout(1000)  # `retry: 500`: a reconnect would show by now
    assert len(calls) == 1


def hold_search(page: Page, q: str) -> list[Route]:
    """Holds the first search request for `q` unanswered (the test answers it later, or never);
    every other search goes to the server."""
    held: list[Route] = []

    def route(route: Route) -> None:
        if not held and parse_qs(urlsplit(route.request.url).query).get("q") == [q]:
            held.append(route)
        else:
            route.continue_()

    page.route(f"**{SEARCH_STREAM}?**", route)
    return held


def network_log(page: Page) -> list[tuple[str, str]]:
    """("start" | "end", q) for every search request, as the browser's network layer reports
    them (a cancelled request's end may be reported after the next one's start)."""
    log: list[tuple[str, str]] = []

    def q_of(request: Request) -> str | None:
        if urlsplit(request.url).path != SEARCH_STREAM:
            return None
        return parse_qs(urlsplit(request.url).query)["q"][0]

    page.on("request", lambda r: log.append(("start", q_of(r))) if q_of(r) else None)
    page.on("requestfinished", lambda r: log.append(("end", q_of(r))) if q_of(r) else None)
    page.on("requestfailed", lambda r: log.append(("end", q_of(r))) if q_of(r) else None)
    return log


# The page's own view of the searches in flight: from the widget's fetch() call until that
# request's AbortSignal fires (the widget aborts every search when it is over, for whatever
# reason, which also closes its connection; a search it forgot to end stays in flight here).
PAGE_LOG_JS = """() => {
    window.__searchLog = [];
    const native = window.fetch;
    window.fetch = function (input, init) {
        const url = new URL(typeof input === 'string' ? input : input.url, location.href);
        if (url.pathname === '/api/products/search/stream') {
            const q = url.searchParams.get('q');
            window.__searchLog.push(['start', q]);
            if (init && init.signal) init.signal.addEventListener('abort', () => window.__searchLog.push(['end', q]), { once: true });
        }
        return native.apply(this, arguments);
    };
}"""


def most_in_flight(log: list[tuple[str, str]]) -> int:
    open_now = peak = 0
    for kind, _ in log:
        open_now += 1 if kind == "start" else -1
        peak = max(peak, open_now)
    return peak


def wait_held(page: Page, held: list[Route]) -> Route:
    for _ in range(150):
        if held:
            return held[0]
        page.wait_for_timeout(100)
    raise AssertionError("the search was never sent")


LATE_BODY = "".join(f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in [
    ("connected", {"stream_id": "late", "stream": "search", "message": "Stream started"}),
    ("results", {"type": "product_cards", "stage": "final", "total": 1, "facets": {},
                 "products": [{"sku": "LATE-1", "title": "A late answer for an old query", "price": 1}]}),
    ("complete", {"duration": 1}),
    ("close", {"message": "Stream ended"}),
])


def test_a_newer_query_ends_the_running_search_first(web_app: AppServer, storefront: PageProbe) -> None:
    """The search for "sa" hangs (held unanswered by the test); the shopper types on to
    "saree". The widget aborts "sa" before it sends "saree" (never two in flight), and an
    answer for "sa" arriving after that (a canned one, from the test) is never shown."""
    page = storefront.page
    held = hold_search(page, "sa")
    network = network_log(page)
    page.evaluate(PAGE_LOG_JS)
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox")
    box.fill("sa")
    stuck = wait_held(page, held)
    box.press_sequentially("ree")
    expect(search).to_have_attribute("data-query", "saree")
    wait_done(search)
    try:  # the late answer: the browser has given up on this request, so it goes nowhere
        stuck.fulfill(status=200, content_type="text/event-stream", body=LATE_BODY)
    except PlaywrightError:
        pass
    page.wait_for_timeout(300)  # a late answer that got through would be on screen by now
    expected = [p["sku"] for p in twin_search(web_app, "saree")["products"]]
    assert [c["sku"] for c in shown_cards(search)] == expected and expected
    log = [tuple(entry) for entry in page.evaluate("window.__searchLog")]
    assert log == [("start", "sa"), ("end", "sa"), ("start", "saree"), ("end", "saree")], log
    assert most_in_flight(log) == 1
    assert ("end", "sa") in network, network  # the browser did cancel the request


def test_typing_during_a_finishing_search_still_searches_the_new_text(
    web_app: AppServer, storefront: PageProbe
) -> None:
    """The end of an older search arriving while newer keystrokes wait out the debounce must
    not cancel the newer search."""
    page = storefront.page
    held = hold_search(page, "sa")
    requests = stream_requests(page, SEARCH_STREAM)
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox")
    box.fill("sa")
    stuck = wait_held(page, held)
    box.press_sequentially("ree")  # the debounce timer is now pending for "saree"
    with page.expect_request(lambda r: urlsplit(r.url).path == SEARCH_STREAM and "q=saree" in r.url):
        stuck.continue_()  # "sa" answers and finishes (complete, close) while "saree" waits
    expect(search).to_have_attribute("data-query", "saree")
    wait_done(search)
    assert [parse_qs(urlsplit(r.url).query)["q"] for r in requests] == [["sa"], ["saree"]]
    expected = [p["sku"] for p in twin_search(web_app, "saree")["products"]]
    expect(search.locator(".ss-card")).to_have_count(len(expected))
    assert [c["sku"] for c in shown_cards(search)] == expected and expected


def test_retyped_query_and_filters_come_from_the_cache(web_app: AppServer, storefront: PageProbe) -> None:
    """Results already received are reused for the same request (query + filters + limit):
    back to an earlier query, no request; a different limit is a different request."""
    page = storefront.page
    requests = stream_requests(page, SEARCH_STREAM)
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox")
    for q in ["kurta", "silk saree"]:
        box.fill(q)
        expect(search).to_have_attribute("data-query", q)
        wait_done(search)
    assert len(requests) == 2
    box.fill("  kurta ")  # the same request: spaces around a query change nothing
    expect(search).to_have_attribute("data-query", "kurta")
    wait_done(search)
    expect(search).to_have_attribute("data-source", "cache")
    page.wait_for_timeout(800)  # longer than the debounce
    assert len(requests) == 2
    expected = [p["sku"] for p in twin_search(web_app, "kurta")["products"]]
    assert [c["sku"] for c in shown_cards(search)] == expected and expected

    search.evaluate("el => el.setAttribute('limit', '5')")
    search.get_by_role("button", name="Search").click()
    expect(search).to_have_attribute("data-source", "network")
    wait_done(search)
    assert len(requests) == 3 and parse_qs(urlsplit(requests[-1].url).query)["limit"] == ["5"]
    expect(search.locator(".ss-card")).to_have_count(5)


def test_query_parameter_opens_the_page_with_that_search(web_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    probe = new_page()
    page = probe.page
    page.goto(f"{web_app.url}/?q=lehenga")
    search = page.locator("storestream-search")
    wait_done(search)
    expect(search.get_by_role("combobox")).to_have_value("lehenga")
    expected = [p["sku"] for p in twin_search(web_app, "lehenga")["products"]]
    assert [c["sku"] for c in shown_cards(search)] == expected and expected

    # The query is the visitor's text: it goes into the attribute escaped, never as markup.
    hostile = '"><b id=injected>x</b>'
    page.goto(f"{web_app.url}/?q={httpx.QueryParams({'x': hostile}).get('x')}")
    expect(page.locator("storestream-search").get_by_role("combobox")).to_have_value(hostile)
    assert page.locator("#injected").count() == 0
    assert probe.errors == []


def test_catalog_markup_renders_as_text(web_app: AppServer, storefront: PageProbe) -> None:
    """A product whose title and brand are HTML: shown as text, no element made, no dialog."""
    sku = f"XSS-{uuid.uuid4().hex[:6]}"
    title = "<img src=x onerror=alert(1)> Zanzibarian kurta"
    product = {"sku": sku, "title": title, "brand": "<b id=bold>Bold</b>", "category": "kurta",
               "price": 999, "colors": ["red"], "sizes": ["M"], "image_url": "javascript:alert(2)"}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    put = httpx.put(f"{web_app.url}/api/catalog/products", json={"products": [product]}, headers=admin, timeout=15)
    assert put.status_code == 200 and put.json()["upserted"] == 1, put.text
    try:
        page = storefront.page
        search = page.locator("storestream-search")
        search.get_by_role("combobox").fill("zanzibarian onerror")
        wait_done(search)
        card = search.locator(f'.ss-card[data-sku="{sku}"]')
        expect(card.locator(".ss-card-title")).to_have_text(title)
        expect(card.locator(".ss-card-brand")).to_have_text(product["brand"])
        assert page.locator('img[src="x"]').count() == 0 and page.locator("#bold").count() == 0
        # A javascript: image URL is not used; the placeholder is.
        assert card.locator("img").get_attribute("src").endswith("/static/products/generic.svg")

        # The chat's answer names the product in **bold** Markdown: still text.
        chat = chat_widget(page, CHAT_STREAM)
        chat.get_by_role("textbox", name="Your message").fill("zanzibarian kurta")
        chat.get_by_role("textbox", name="Your message").press("Enter")
        wait_done(chat)
        expect(chat.locator(f'.ss-card[data-sku="{sku}"] .ss-card-title')).to_have_text(title)
        expect(chat.locator(".ss-answer strong").filter(has_text="onerror").first).to_have_text(title)
        assert page.locator('img[src="x"]').count() == 0
        page.wait_for_timeout(200)  # a dialog from a late onerror would be recorded by now
    finally:
        httpx.delete(f"{web_app.url}/api/catalog/products/{sku}", headers=admin, timeout=15)


# -- chat ---------------------------------------------------------------------------------------

# Records the newest answer's text length at every DOM change, and the typing indicator's
# `hidden` at every change (an answer can finish faster than a test could poll for it).
RECORD_JS = """() => {
    window.__lengths = [];
    window.__typingHidden = [];
    const log = document.querySelector('storestream-chat .ss-log');
    new MutationObserver(() => {
        const answers = log.querySelectorAll('.ss-answer');
        if (answers.length) window.__lengths.push(answers[answers.length - 1].textContent.length);
    }).observe(log, {subtree: true, childList: true, characterData: true});
    const typing = document.querySelector('storestream-chat .ss-typing');
    new MutationObserver(() => window.__typingHidden.push(typing.hidden)).observe(typing, {attributes: true});
}"""

# Both chat endpoints the embed speaks to.
ENDPOINTS = [CHAT_STREAM, TROIKA_STREAM]


def assert_served(app: AppServer, endpoint: str) -> None:
    """A route missing from /openapi.json is a regression: the test fails, it does not skip."""
    paths = httpx.get(f"{app.url}/openapi.json", timeout=15).json()["paths"]
    assert endpoint in paths, f"{endpoint} is missing from /openapi.json"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_chat_streams_the_answer_with_cards_and_suggestions(
    web_app: AppServer, storefront: PageProbe, endpoint: str
) -> None:
    assert_served(web_app, endpoint)
    page = storefront.page
    posts = stream_requests(page, endpoint)
    chat = chat_widget(page, endpoint)
    page.evaluate(RECORD_JS)
    question = "red silk lehenga for a wedding"
    ask(chat, question)
    wait_done(chat)
    expect(chat.locator(".ss-typing")).to_be_hidden()
    assert page.evaluate("window.__typingHidden")[:1] == [False]  # shown while the answer streamed

    answer = chat.locator(".ss-answer").last
    final = answer.evaluate("el => el.textContent.length")
    lengths = page.evaluate("window.__lengths")
    growing = sorted({n for n in lengths if 0 < n < final})
    assert len(growing) >= 2, f"the answer did not grow token by token: {lengths}"
    assert answer.get_attribute("aria-live") == "polite" and answer.get_attribute("aria-busy") == "false"
    assert answer.evaluate("el => getComputedStyle(el).direction") == "ltr"

    twin = twin_chat(web_app, endpoint, question)
    assert flat(answer.inner_text()) == flat(twin["text"])  # same words; Markdown became elements
    assert answer.locator("strong").count() > 0
    products = twin["results"]["product_cards"]["products"]
    bot = chat.locator(".ss-msg-bot").last
    assert [c["sku"] for c in shown_cards(bot)] == [p["sku"] for p in products] and products
    suggestions = twin["results"]["suggestions"]["suggestions"]
    expect(bot.locator(".ss-suggestion")).to_have_text(suggestions)

    # A suggestion chip asks it, in the same conversation.
    bot.locator(".ss-suggestion").first.click()
    expect(chat.locator(".ss-msg-user").last).to_have_text(suggestions[0])
    expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(2)
    wait_done(chat)
    field = "query" if endpoint == CHAT_STREAM else "message"
    first, second = (json.loads(r.post_data or "{}") for r in posts)
    assert first[field] == question and second[field] == suggestions[0]
    assert first["sessionId"] and first["sessionId"] == second["sessionId"]
    screenshot(page, f"storefront-chat-{endpoint.split('/')[2]}")


def test_demo_page_embeds_the_agent(web_app: AppServer, storefront: PageProbe) -> None:
    assert_served(web_app, TROIKA_STREAM)
    assert storefront.page.locator("storestream-chat").get_attribute("endpoint") == TROIKA_STREAM


def test_keyboard_alone_reaches_every_control_and_sends(web_app: AppServer, storefront: PageProbe) -> None:
    page = storefront.page
    chat = page.locator("storestream-chat")  # whichever endpoint the page embeds
    describe = """() => { const el = document.activeElement;
        return el && el.closest('storestream-chat, storestream-search')
            ? (el.getAttribute('aria-label') || el.className || el.tagName) + '|' + (el.textContent || el.type || '')
            : ''; }"""
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(describe))
        if reached[-1].startswith("ss-button ss-secondary ss-mute"):
            break
    assert "Search products|search" in reached and "Your message|text" in reached
    assert "ss-button|Send" in reached and "ss-tts|checkbox" in reached
    assert reached[-1] == "ss-button ss-secondary ss-mute|Mute"

    # Back to the message box with Shift+Tab, type, Enter.
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        if page.evaluate(describe).startswith("Your message|"):
            break
    assert page.evaluate(describe).startswith("Your message|")
    page.keyboard.type("blue cotton kurta")
    page.keyboard.press("Enter")
    wait_done(chat)
    # The suggestion chips sit before the message box: Shift+Tab reaches them; Enter sends one.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if "ss-suggestion" in page.evaluate(describe):
            break
    assert "ss-suggestion" in page.evaluate(describe)
    chip = page.evaluate("() => document.activeElement.textContent")
    page.keyboard.press("Enter")
    expect(chat.locator(".ss-msg-user").last).to_have_text(chip)
    expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(2)


@requires(missing_espeak())
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_spoken_answer_queues_audio_in_order(web_app: AppServer, storefront: PageProbe, endpoint: str) -> None:
    assert_served(web_app, endpoint)
    page = storefront.page
    chat = chat_widget(page, endpoint)
    chat.locator(".ss-tts").focus()
    page.keyboard.press("Space")  # "Speak answers", by keyboard (also the gesture autoplay wants)
    expect(chat.locator(".ss-tts")).to_be_checked()
    question = "blue cotton kurta"
    ask(chat, question)
    wait_done(chat)

    twin = twin_chat(web_app, endpoint, question, enableTTS=True)
    expected = [a["seq"] for a in twin["audio"]]
    assert len(expected) >= 2
    received = [int(s) for s in chat.get_attribute("data-audio-received").split(",")]
    assert received == expected
    # Played one after another, in seq order (each sentence plays in real time).
    page.wait_for_function("el => el.audioState.played.length >= 2", arg=chat.element_handle(), timeout=TIMEOUT_MS)
    played = chat.evaluate("el => el.audioState.played")
    assert played == received[: len(played)]

    mute = chat.get_by_role("button", name="Mute")
    mute.press("Enter")
    expect(chat.locator(".ss-mute")).to_have_attribute("aria-pressed", "true")
    assert chat.evaluate("el => el.audioState.muted") is True


def test_persian_answer_is_right_to_left(web_app: AppServer, storefront: PageProbe) -> None:
    page = storefront.page
    chat = chat_widget(page, CHAT_STREAM)
    ask(chat, "یک لهنگا قرمز می‌خواهم")
    wait_done(chat)
    bot = chat.locator(".ss-msg-bot").last
    answer = bot.locator(".ss-answer")
    expect(answer).not_to_be_empty()
    assert bot.get_attribute("lang") == "fa"
    assert answer.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert chat.locator(".ss-msg-user").last.evaluate("el => getComputedStyle(el).direction") == "rtl"
    screenshot(page, "storefront-chat-persian")


def fake_stream(frames: list[tuple[str, dict[str, Any]]]) -> Callable[[Route], None]:
    body = "".join(f"id: f-{i}\nevent: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
                   for i, (kind, data) in enumerate(frames, 1))

    def fulfill(route: Route) -> None:
        route.fulfill(status=200, content_type="text/event-stream; charset=utf-8", body=body)

    return fulfill


def test_direction_from_the_script_unless_the_server_says_rtl(web_app: AppServer, storefront: PageProbe) -> None:
    """An endpoint that always sends `dir: "ltr"` (the Troika agent does) still gets a Hebrew
    answer laid out right to left; a mostly Latin one stays left to right; `rtl` from the
    server wins over the script."""
    page = storefront.page
    connected = ("connected", {"stream_id": "f", "stream": "x", "message": "Stream started", "dir": "ltr"})
    end = [("complete", {"duration": 1}), ("close", {"message": "Stream ended"})]
    page.route(f"**{CHAT_STREAM}", fake_stream([
        connected,
        ("text", {"token": "שלום", "fullText": "שלום"}),
        ("text", {"token": " עולם, hello", "fullText": "שלום עולם, hello"}),
        *end,
    ]))
    chat = chat_widget(page, CHAT_STREAM)
    ask(chat, "hello")
    wait_done(chat)
    answer = chat.locator(".ss-answer").last
    expect(answer).to_have_text("שלום עולם, hello")
    assert answer.evaluate("el => getComputedStyle(el).direction") == "rtl"

    page.unroute(f"**{CHAT_STREAM}")
    latin = ("text", {"token": "Lehenga", "fullText": "Lehenga by House of Meher: ₹60,499 שלום"})
    page.route(f"**{CHAT_STREAM}", fake_stream([connected, latin, *end]))
    ask(chat, "again")
    expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(2)
    assert chat.locator(".ss-answer").last.evaluate("el => getComputedStyle(el).direction") == "ltr"

    # A server that says `rtl` is believed, even when product names make most letters Latin.
    page.unroute(f"**{CHAT_STREAM}")
    page.route(f"**{CHAT_STREAM}", fake_stream([("connected", {**connected[1], "dir": "rtl"}), latin, *end]))
    ask(chat, "once more")
    expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(3)
    assert chat.locator(".ss-answer").last.evaluate("el => getComputedStyle(el).direction") == "rtl"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_dropped_answer_resumes_with_last_event_id(web_app: AppServer, storefront: PageProbe, endpoint: str) -> None:
    """The first response is cut after a few text events (as a dropped connection would);
    the widget asks again with Last-Event-ID and the server replays the rest."""
    assert_served(web_app, endpoint)
    page = storefront.page
    seen: list[dict[str, str]] = []
    full: dict[str, str] = {}

    def cut_first(route: Route) -> None:
        seen.append(route.request.headers)
        if len(seen) > 1:
            route.continue_()
            return
        response = route.fetch(timeout=TIMEOUT_MS)
        full["body"] = response.text()
        frames = full["body"].split("\n\n")
        first_text = next(i for i, f in enumerate(frames) if "event: text" in f)
        kept = frames[: first_text + 3]
        full["last_id"] = re.search(r"^id: (\S+)$", kept[-1], re.M).group(1)
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream; charset=utf-8"},
                      body="\n\n".join(kept) + "\n\n")

    page.route(f"**{endpoint}", cut_first)
    chat = chat_widget(page, endpoint)
    ask(chat, "green silk saree")
    wait_done(chat)
    assert len(seen) == 2
    assert "last-event-id" not in seen[0] and seen[1]["last-event-id"] == full["last_id"]
    assert chat.get_attribute("data-resumes") == "1"
    texts = [json.loads(line[6:])["fullText"] for line in full["body"].splitlines()
             if line.startswith("data: ") and '"fullText"' in line]
    answer = chat.locator(".ss-answer").last
    assert flat(answer.inner_text()) == flat(texts[-1])
    expect(chat.locator(".ss-msg-bot .ss-error")).to_be_hidden()
    expect(chat.locator(".ss-msg-bot").last).to_have_attribute("data-complete", "true")
