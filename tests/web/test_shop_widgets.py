"""What a shopper sees of the widgets in a real browser, at desktop and phone sizes: "Show
more" pages through the search's frozen ranking, product pictures that differ by colour (and
a catalog's own image URL on the card), and the chat as a docked panel / a phone's
full-screen sheet whose answer keeps its first line in view, with cards in a row that
scrolls sideways. Screenshots of each go to tests/artifacts/screenshots/."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from app.catalog.pictures import picture_url
from tests.support.requirements import missing_playwright, need_at_import
from tests.support.server import AppServer
from tests.web.conftest import ADMIN_TOKEN, PageProbe, ask, screenshot

need_at_import(missing_playwright())
from playwright.sync_api import Locator, Page, expect  # noqa: E402

SEARCH_STREAM = "/api/products/search/stream"
CHAT_STREAM = "/api/chat/query/stream"
WIDGET_LIMIT = 24  # the demo page's <storestream-search limit="24">
PHONE = {"width": 390, "height": 844}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
QUERY = "women"  # most of the demo catalog: several pages


def skus_of(widget: Locator) -> list[str]:
    return widget.evaluate("el => [...el.querySelectorAll('.ss-card')].map(c => c.dataset.sku)")


def ranked(app: AppServer, q: str, limit: int = 50) -> dict[str, Any]:
    response = httpx.get(f"{app.url}/api/products/search", params={"q": q, "limit": limit}, timeout=15)
    assert response.status_code == 200, response.text
    return response.json()


def open_storefront(new_page: Callable[..., PageProbe], app: AppServer, *, phone: bool = False) -> PageProbe:
    probe = new_page(is_mobile=True, has_touch=True) if phone else new_page()
    if phone:
        probe.page.set_viewport_size(PHONE)
    probe.page.goto(f"{app.url}/")
    return probe


def clean(probe: PageProbe) -> None:
    assert probe.errors == [], f"uncaught exceptions in the page: {probe.errors}"
    assert probe.dialogs == [], f"dialogs opened: {probe.dialogs}"


# -- search: more pages ---------------------------------------------------------------------------


def test_show_more_appends_the_next_pages_of_the_ranking(web_app: AppServer, storefront: PageProbe) -> None:
    """Two presses of "Show more": the cards are then the first 72 of the ranking, in order,
    none twice, each page one request carrying the cursor of the page before."""
    page = storefront.page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if urlsplit(r.url).path == SEARCH_STREAM else None)
    search = page.locator("storestream-search")
    search.get_by_role("combobox").fill(QUERY)
    expect(search).to_have_attribute("data-state", "done")
    whole = ranked(web_app, QUERY)
    assert whole["total"] > 2 * WIDGET_LIMIT, "the demo catalog must hold more than two pages"
    assert skus_of(search) == [p["sku"] for p in whole["products"][:WIDGET_LIMIT]]
    more = search.get_by_role("button", name="Show more")
    for pages in (2, 3):
        more.click()
        expect(search).to_have_attribute("data-pages", str(pages))
        expect(search).to_have_attribute("data-state", "done")
    shown = skus_of(search)
    assert len(shown) == len(set(shown)) == min(3 * WIDGET_LIMIT, whole["total"])
    assert shown[:50] == [p["sku"] for p in whole["products"]]
    assert len(requests) == 3
    cursors = [parse_qs(urlsplit(url).query).get("cursor", [None])[0] for url in requests]
    assert cursors[0] is None and cursors[1] and cursors[2] and cursors[1] != cursors[2]
    assert all(parse_qs(urlsplit(url).query)["q"] == [QUERY] for url in requests)
    screenshot(page, "storefront-search-more")

    # A new query starts again from its first page; its "more" is its own.
    search.get_by_role("combobox").fill("cotton kurta")
    expect(search).to_have_attribute("data-query", "cotton kurta")
    expect(search).to_have_attribute("data-state", "done")
    assert search.get_attribute("data-pages") is None
    assert skus_of(search) == [p["sku"] for p in ranked(web_app, "cotton kurta", WIDGET_LIMIT)["products"]]


# -- pictures ---------------------------------------------------------------------------------------


def test_cards_show_pictures_that_differ_by_colour_and_the_catalogs_own(web_app: AppServer, storefront: PageProbe) -> None:
    tag = uuid.uuid4().hex[:6]
    own = f"{web_app.url}/static/products/saree.svg"  # an absolute http URL, as a CDN's would be
    products = [
        {"sku": f"PIC-{tag}-1", "title": f"Quetzal {tag} kurta", "category": "kurta", "price": 999, "colors": ["pink"]},
        {"sku": f"PIC-{tag}-2", "title": f"Quetzal {tag} kurta", "category": "kurta", "price": 999, "colors": ["blue"]},
        {"sku": f"PIC-{tag}-3", "title": f"Quetzal {tag} saree", "category": "saree", "price": 999, "colors": ["red"],
         "image_url": own},
        {"sku": f"PIC-{tag}-4", "title": f"Quetzal {tag} dupatta", "category": "dupatta", "price": 999,
         "colors": ["red"], "image_url": "/pictures/product.svg?category=dupatta&color=red&pattern=stripes"},
    ]
    # The two kurtas get the demo catalog's pictures, as its generator makes them.
    for product in products[:2]:
        product["image_url"] = picture_url(product, "floral print")
    put = httpx.put(f"{web_app.url}/api/catalog/products", json={"products": products}, headers=ADMIN, timeout=15)
    assert put.status_code == 200 and put.json()["upserted"] == 4, put.text
    try:
        page = storefront.page
        search = page.locator("storestream-search")
        search.get_by_role("combobox").fill(f"quetzal {tag}")
        expect(search).to_have_attribute("data-state", "done")
        expect(search.locator(".ss-card")).to_have_count(4)
        src = {sku: search.locator(f'.ss-card[data-sku="{sku}"] img').get_attribute("src")
               for sku in (p["sku"] for p in products)}
        pink, blue, saree, dupatta = (src[p["sku"]] for p in products)
        assert pink != blue and "color=pink" in pink and "color=blue" in blue
        assert saree == own  # the catalog's URL, as it is
        assert dupatta == f"{web_app.url}/pictures/product.svg?category=dupatta&color=red&pattern=stripes"
        # Every picture loaded, and the two kurtas are drawn in different pixels.
        page.wait_for_function("el => [...el.querySelectorAll('.ss-card img')].every(i => i.complete && i.naturalWidth > 0)",
                               arg=search.element_handle())
        shots = [search.locator(f'.ss-card[data-sku="{p["sku"]}"] img').screenshot() for p in products[:2]]
        assert shots[0] != shots[1]
        screenshot(page, "storefront-pictures")
    finally:
        for product in products:
            httpx.delete(f"{web_app.url}/api/catalog/products/{product['sku']}", headers=ADMIN, timeout=15)


# -- the chat embed -----------------------------------------------------------------------------------

QUESTIONS = ("red silk lehenga for a wedding", "show me cotton kurtas under 3000")


def rect(locator: Locator) -> dict[str, float]:
    return locator.evaluate("el => { const r = el.getBoundingClientRect(); "
                            "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, "
                            "width: r.width, height: r.height}; }")


def first_line_in_view(page: Page, chat: Locator) -> None:
    """The newest answer's first line is inside both the window and the chat log's visible part."""
    answer = chat.locator(".ss-answer").last
    line = answer.evaluate("""el => { const range = document.createRange(); range.selectNodeContents(el);
        const first = range.getClientRects()[0]; return {top: first.top, bottom: first.bottom}; }""")
    log = rect(chat.locator(".ss-log"))
    height = page.evaluate("innerHeight")
    assert 0 <= line["top"] and line["bottom"] <= height, (line, height)
    assert log["top"] - 1 <= line["top"] and line["bottom"] <= log["bottom"] + 1, (line, log)


def cards_row_scrolls(chat: Locator) -> None:
    """The answer's cards: one row, wider than the bubble, that scrolls sideways."""
    row = chat.locator(".ss-msg-bot").last.locator(".ss-cards-compact")
    expect(row).to_be_visible()
    tops = row.evaluate("el => [...el.children].map(c => Math.round(c.getBoundingClientRect().top))")
    assert len(tops) >= 3 and len(set(tops)) == 1, tops
    width = row.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth, x: getComputedStyle(el).overflowX})")
    assert width["scroll"] > width["client"] and width["x"] == "auto", width
    moved = row.evaluate("el => { el.scrollBy({left: 200, behavior: 'instant'}); return el.scrollLeft; }")
    assert moved > 0
    assert rect(row)["height"] < 400  # one card tall, not a grid of them


def converse(page: Page, chat: Locator) -> None:
    """Two questions whose answers come with cards: after each, its first line is in view;
    then the last answer's cards are a row that scrolls."""
    for n, question in enumerate(QUESTIONS, start=1):
        ask(chat, question)
        expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(n)
        expect(chat).to_have_attribute("data-state", "done")
        first_line_in_view(page, chat)
    cards_row_scrolls(chat)


def test_desktop_chat_is_a_docked_panel_that_keeps_the_answer_in_view(
    web_app: AppServer, new_page: Callable[..., PageProbe],
) -> None:
    probe = open_storefront(new_page, web_app)
    page = probe.page
    chat = page.locator("storestream-chat")
    chat.evaluate("(el, endpoint) => el.setAttribute('endpoint', endpoint)", CHAT_STREAM)
    expect(chat.locator(".ss-chat-launcher")).to_be_hidden()
    panel = rect(chat)
    height = page.evaluate("innerHeight")
    assert panel["height"] > 0.8 * height and panel["bottom"] <= height, panel  # the window's height, all in view
    assert panel["width"] >= 340
    converse(page, chat)
    # Scrolled down the page, the panel stays docked in view.
    page.mouse.wheel(0, 1500)
    page.wait_for_function("() => scrollY > 0")
    docked = rect(chat)
    assert 0 <= docked["top"] and docked["bottom"] <= height, docked
    screenshot(page, "storefront-chat-docked")
    clean(probe)


def test_phone_chat_is_a_button_that_opens_a_full_screen_sheet(
    web_app: AppServer, new_page: Callable[..., PageProbe],
) -> None:
    probe = open_storefront(new_page, web_app, phone=True)
    page = probe.page
    search = page.locator("storestream-search")
    search.get_by_role("combobox").fill("kurta")
    expect(search).to_have_attribute("data-state", "done")
    chat = page.locator("storestream-chat")
    chat.evaluate("(el, endpoint) => el.setAttribute('endpoint', endpoint)", CHAT_STREAM)
    launcher = chat.locator(".ss-chat-launcher")
    expect(launcher).to_be_visible()
    expect(chat.locator(".ss-chat-panel")).to_be_hidden()
    # The button floats over the results, in the window, not below all the cards.
    button = rect(launcher)
    assert 0 < button["top"] and button["bottom"] <= PHONE["height"] and button["right"] <= PHONE["width"], button
    screenshot(page, "storefront-phone-launcher", full_page=False)

    launcher.tap()
    sheet = chat.locator(".ss-chat-panel")
    expect(sheet).to_be_visible()
    box = rect(sheet)
    assert (box["top"], box["left"], box["width"], box["height"]) == (0, 0, PHONE["width"], PHONE["height"]), box
    assert page.evaluate("document.activeElement === document.querySelector('storestream-chat .ss-input')")
    converse(page, chat)
    screenshot(page, "storefront-phone-sheet", full_page=False)

    chat.get_by_role("button", name="Close the chat").tap()
    expect(sheet).to_be_hidden()
    expect(launcher).to_be_focused()
    # Opened again, the conversation is still there; Escape closes it too.
    launcher.tap()
    expect(chat.locator(".ss-msg-bot")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    clean(probe)


# -- search: suggestions as the shopper types --------------------------------------------------------


def test_suggestions_follow_the_keys_and_a_choice_searches_at_once(web_app: AppServer,
                                                                   storefront: PageProbe) -> None:
    """Typing "cotton ku" key by key asks only the suggestions, and the pause one search, which
    closes them (its chips must be reachable); Down opens them again as a listbox the keys move
    through, and Enter takes one, which is searched at once."""
    page = storefront.page
    searches: list[str] = []
    suggests: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if SEARCH_STREAM in r.url else
            suggests.append(r.url) if "/api/products/suggest" in r.url else None)
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox")
    box.press_sequentially("cotton ku", delay=60)  # a fast typist: no pause of DEBOUNCE_MS between keys
    expect(search).to_have_attribute("data-state", "done")
    expect(search.get_by_role("listbox")).to_be_hidden()
    assert len(searches) == 1 and 0 < len(suggests) <= len("cotton ku")
    box.press("ArrowDown")
    options = search.get_by_role("option")
    expect(options.first).to_be_visible()
    assert box.get_attribute("aria-expanded") == "true"
    texts = options.all_text_contents()
    assert texts and all("cotton" in t and "ku" in t for t in texts), texts
    screenshot(page, "storefront-suggestions", full_page=False)
    box.press("ArrowDown")
    box.press("ArrowDown")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    box.press("Enter")
    expect(search).to_have_attribute("data-query", texts[1])
    expect(search).to_have_attribute("data-state", "done")
    expect(search.get_by_role("listbox")).to_be_hidden()
    assert box.input_value() == texts[1] and len(searches) == 2
