"""The widgets in every script the shops sell in: right-to-left answers, product cards and
search results for Persian and Hebrew (with prices and Latin names kept readable inside
them), input methods that compose a word before committing it, and fonts that draw
Devanagari, Arabic script and Hebrew rather than empty boxes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit


from tests.support.requirements import missing_playwright, need, need_at_import
from tests.support.server import AppServer
from tests.web.conftest import PageProbe, screenshot

need_at_import(missing_playwright())
from playwright.sync_api import Locator, Page, expect  # noqa: E402

from tests.web.test_storefront import (  # noqa: E402
    CHAT_STREAM, SEARCH_STREAM, ask, chat_widget, fake_stream, stream_requests, wait_done,
)

END = [("complete", {"duration": 1}), ("close", {"message": "Stream ended"})]
PRICE = "₹60,499"  # what the widget shows for 60499 INR (Intl en-IN)

# Where an element's text sits in its content box: "right", "left" or "both" (it fills it).
SIDE_JS = """el => {
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    const range = document.createRange(); range.selectNodeContents(el);
    const ink = range.getBoundingClientRect();
    const left = Math.abs(ink.left - (box.left + parseFloat(style.paddingLeft) + parseFloat(style.borderLeftWidth))) < 2;
    const right = Math.abs(ink.right - (box.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth))) < 2;
    return left && right ? 'both' : right ? 'right' : left ? 'left' : 'neither';
}"""

# For the first element matching `text` exactly: is its first character drawn left of its
# second? ("₹" before "6": the price reads as written, whatever the text around it.)
READS_LTR_JS = """(root, text) => {
    const el = [...root.querySelectorAll('bdi')].find(e => e.textContent === text);
    if (!el) return null;
    const node = el.firstChild, at = i => {
        const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
        return r.getBoundingClientRect().left; };
    return at(0) < at(1);
}"""


def card(sku: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "title": title, "brand": "House of Meher", "price": 60499, "currency": "INR",
            "colors": ["قرمز", "red"], "sizes": ["M", "XL"], "rating": 4.5, "in_stock": True,
            "image_url": "/static/products/generic.svg", **extra}


def direction(locator: Locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).direction")


def side(locator: Locator) -> str:
    return locator.evaluate(SIDE_JS)


def reads_ltr(locator: Locator, text: str) -> bool | None:
    return locator.evaluate(READS_LTR_JS, text)


def chat_turn(page: Page, frames: list[tuple[str, dict[str, Any]]], question: str) -> Locator:
    """Asks the demo page's chat `question` and answers it with `frames`; the answer's bubble."""
    page.route(f"**{CHAT_STREAM}", fake_stream(frames))
    chat = chat_widget(page, CHAT_STREAM)
    ask(chat, question)
    wait_done(chat)
    return chat.locator(".ss-msg-bot").last


def connected(dir_: str) -> tuple[str, dict[str, Any]]:
    return ("connected", {"stream_id": "f", "stream": "chat", "message": "Stream started", "dir": dir_})


def test_persian_answer_lays_out_its_cards_suggestions_and_sources_right_to_left(
    web_app: AppServer, storefront: PageProbe
) -> None:
    page = storefront.page
    answer = f"لهنگای قرمز House of Meher به قیمت {PRICE} موجود است."
    bot = chat_turn(page, [
        connected("rtl"),
        ("text", {"token": answer, "fullText": answer}),
        ("results", {"type": "product_cards", "products": [card("SKU-FA-1", "لهنگای ابریشمی قرمز")], "total": 1}),
        ("results", {"type": "suggestions", "suggestions": ["زیر ۲۰۰۰۰", "رنگ آبی"]}),
        ("results", {"type": "sources", "sources": [{"file_name": "size-guide.pdf"}, {"file_name": "راهنما.txt"}]}),
        *END,
    ], "لهنگا قرمز")
    assert direction(bot) == "rtl"
    # Latin names and prices inside the Persian text are isolated, and read as written.
    text = bot.locator(".ss-answer")
    assert text.locator("bdi").all_text_contents() == ["House of Meher", PRICE]
    assert reads_ltr(text, PRICE) is True
    assert side(text.locator("p")) in ("right", "both")

    shown = bot.locator(".ss-card")
    expect(shown).to_have_count(1)
    assert direction(shown) == "rtl"
    for part in (".ss-card-title", ".ss-card-brand", ".ss-card-price", ".ss-card-colours"):
        assert side(shown.locator(part)) == "right", part
    assert shown.locator(".ss-card-brand bdi").text_content() == "House of Meher"
    assert reads_ltr(shown, PRICE) is True
    assert shown.locator(".ss-card-colours bdi").all_text_contents() == ["قرمز", "red"]
    assert shown.locator(".ss-card-sizes bdi").all_text_contents() == ["M", "XL"]
    # The card's own words are in the answer's language.
    assert shown.locator(".ss-label").all_text_contents() == ["رنگ‌ها: ", "سایزها: "]

    # Suggestions flow from the right: the first chip is right of the second.
    chips = bot.locator(".ss-suggestion")
    first, second = (chips.nth(i).bounding_box() for i in (0, 1))
    assert first and second and first["x"] > second["x"]
    sources = bot.locator(".ss-sources")
    assert direction(sources) == "rtl" and side(sources) == "right"
    assert sources.locator("bdi").all_text_contents() == ["size-guide.pdf", "راهنما.txt"]
    assert sources.text_content() == "منابع: size-guide.pdf, راهنما.txt"
    screenshot(page, "storefront-chat-persian-cards")
    box = page.locator("storestream-chat").get_by_role("textbox", name="Your message")
    box.fill("لهنگا آبی")
    assert direction(box) == "rtl"  # the question being typed, too


def test_english_answer_stays_left_to_right_with_a_persian_title_in_its_own_direction(
    web_app: AppServer, storefront: PageProbe
) -> None:
    page = storefront.page
    bot = chat_turn(page, [
        connected("ltr"),
        ("text", {"token": "Here is a lehenga.", "fullText": "Here is a lehenga."}),
        ("results", {"type": "product_cards", "products": [card("SKU-FA-2", "لهنگای ابریشمی قرمز")], "total": 1}),
        *END,
    ], "red lehenga")
    assert direction(bot) == "ltr"
    assert bot.locator(".ss-answer bdi").count() == 0  # nothing to isolate in an LTR answer
    shown = bot.locator(".ss-card")
    assert direction(shown) == "ltr"
    title = shown.locator(".ss-card-title")
    assert title.get_attribute("dir") == "auto" and direction(title) == "rtl" and side(title) == "right"
    assert side(shown.locator(".ss-card-price")) == "left"


def fake_search(page: Page, products: list[dict[str, Any]]) -> None:
    frames = [("connected", {"stream_id": "s", "stream": "search", "message": "Stream started"}),
              ("results", {"type": "product_cards", "stage": "final", "products": products, "total": len(products),
                           "facets": {"color": [{"value": "قرمز", "count": 1}]}}),
              *END]
    page.route(f"**{SEARCH_STREAM}?**", fake_stream(frames))


def test_search_results_follow_the_direction_of_the_query(web_app: AppServer, storefront: PageProbe) -> None:
    page = storefront.page
    fake_search(page, [card("SKU-HE-1", "שמלת ערב אדומה"), card("SKU-EN-1", "Red evening dress")])
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox")
    box.fill("שמלה אדומה")
    box.press("Enter")
    wait_done(search)
    assert direction(box) == "rtl"
    cards = search.locator(".ss-card")
    expect(cards).to_have_count(2)
    assert direction(search.locator(".ss-cards")) == "rtl"
    first, second = (cards.nth(i).bounding_box() for i in (0, 1))
    assert first and second and first["x"] > second["x"]  # the grid fills from the right
    assert side(cards.nth(0).locator(".ss-card-title")) == "right"
    assert side(cards.nth(1).locator(".ss-card-title")) == "left"  # an English title, dir="auto"
    assert reads_ltr(cards.nth(0), PRICE) is True
    assert direction(search.locator(".ss-chips")) == "rtl"
    assert search.locator(".ss-chip-title").all_text_contents() == ["צבע"]
    status = search.locator(".ss-status")
    assert status.text_content() == "2 מוצרים" and direction(status) == "rtl"
    label, chip = search.locator(".ss-chip-title").bounding_box(), search.locator(".ss-chip").first.bounding_box()
    assert label and chip and label["x"] > chip["x"]  # the group's title on the right, its chips after it
    assert cards.nth(0).locator(".ss-label").all_text_contents() == ["צבעים: ", "מידות: "]
    screenshot(page, "storefront-search-hebrew")

    box.fill("red dress")
    box.press("Enter")
    expect(search).to_have_attribute("data-query", "red dress")
    assert direction(box) == "ltr" and direction(search.locator(".ss-cards")) == "ltr"
    first, second = (cards.nth(i).bounding_box() for i in (0, 1))
    assert first and second and first["x"] < second["x"]
    assert search.locator(".ss-chip-title").all_text_contents() == ["Colour"]
    assert status.text_content() == "2 products" and direction(status) == "ltr"
    assert cards.nth(0).locator(".ss-label").all_text_contents() == ["Colours: ", "Sizes: "]


# -- input methods ------------------------------------------------------------------------------

DEBOUNCE_MS = 500  # storestream.js


def test_no_search_while_an_input_method_composes(web_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    """An IME (Devanagari phonetic, Persian, Japanese...) shows a half-built word while the
    shopper composes it; the search waits for the committed word (compositionend), then runs
    once through the usual debounce. Real composition events from chromium's input pipeline
    (CDP Input.imeSetComposition / Input.insertText); page timers on Playwright's clock, so the
    debounce is passed deterministically."""
    probe = new_page()
    page = probe.page
    page.clock.install()
    page.goto(f"{web_app.url}/")
    requests = stream_requests(page, SEARCH_STREAM)
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox")
    box.focus()
    box.evaluate("""el => { window.__events = [];
        for (const type of ['compositionstart', 'compositionend'])
            el.addEventListener(type, () => window.__events.push(type));
        el.addEventListener('input', (e) => window.__events.push(e.isComposing ? 'input:composing' : 'input')); }""")
    cdp = page.context.new_cdp_session(page)
    for partial in ("स", "सा", "साड़", "साड़ी"):
        cdp.send("Input.imeSetComposition", {"text": partial, "selectionStart": len(partial), "selectionEnd": len(partial)})
        expect(box).to_have_value(partial)
        page.clock.run_for(DEBOUNCE_MS * 3)  # long past the debounce: a half-typed word would be searched
    events = page.evaluate("window.__events")
    assert events[0] == "compositionstart" and "input:composing" in events and "compositionend" not in events
    assert search.get_attribute("data-requests") is None and requests == []

    cdp.send("Input.insertText", {"text": "साड़ी"})  # the shopper commits the word
    expect(box).to_have_value("साड़ी")
    assert "compositionend" in page.evaluate("window.__events")
    assert search.get_attribute("data-requests") is None  # the debounce still runs after the commit
    page.clock.run_for(DEBOUNCE_MS + 100)
    expect(search).to_have_attribute("data-requests", "1")
    wait_done(search)
    page.clock.run_for(DEBOUNCE_MS * 3)
    assert search.get_attribute("data-requests") == "1"
    assert [parse_qs(urlsplit(r.url).query)["q"] for r in requests] == [["साड़ी"]]

    # Enter pressed to pick a candidate while composing does not search the half-built word.
    box.fill("")
    cdp.send("Input.imeSetComposition", {"text": "लह", "selectionStart": 2, "selectionEnd": 2})
    box.evaluate("el => el.form.requestSubmit()")
    page.clock.run_for(DEBOUNCE_MS * 3)
    assert search.get_attribute("data-requests") == "1"
    cdp.send("Input.insertText", {"text": "लहंगा"})

    # The chat sends nothing while a word is composed (Enter then picks a candidate), and the
    # committed question once.
    asked = stream_requests(page, CHAT_STREAM)
    page.route(f"**{CHAT_STREAM}", fake_stream([connected("ltr"), ("text", {"token": "OK", "fullText": "OK"}), *END]))
    chat = chat_widget(page, CHAT_STREAM)
    message = chat.get_by_role("textbox", name="Your message")
    message.focus()
    cdp.send("Input.imeSetComposition", {"text": "लाल", "selectionStart": 3, "selectionEnd": 3})
    message.evaluate("el => el.form.requestSubmit()")
    assert chat.locator(".ss-msg-user").count() == 0 and message.input_value() == "लाल"
    cdp.send("Input.insertText", {"text": "लाल साड़ी"})
    message.press("Enter")
    expect(chat.locator(".ss-msg-user")).to_have_text(["लाल साड़ी"])
    wait_done(chat)
    assert len(asked) == 1
    assert probe.errors == []


# -- fonts --------------------------------------------------------------------------------------

TITLES = {"hi": "लाल बनारसी सिल्क साड़ी", "fa": "پیراهن مجلسی قرمز", "he": "שמלת ערב אדומה"}


def fonts_for(lang: str) -> set[str]:
    """The families fontconfig says cover `lang` on this machine."""
    listed = subprocess.run(["fc-list", f":lang={lang}", "family"], capture_output=True, text=True, check=True).stdout
    return {name.strip() for line in listed.splitlines() for name in line.split(",") if name.strip()}


def test_titles_in_every_script_are_drawn_with_a_font_that_has_their_letters(
    web_app: AppServer, storefront: PageProbe
) -> None:
    """Each title is drawn only with fonts that cover its language (chromium reports the
    fonts it used, per node, over CDP): an uncovered letter would be drawn as an empty box
    (tofu) from a font without it."""
    uncovered = [lang for lang in TITLES if not fonts_for(lang)]
    need(f"no installed font covers {uncovered} (make install adds fonts-lohit-deva)" if uncovered else None)
    page = storefront.page
    fake_search(page, [card(f"SKU-{lang}", title) for lang, title in TITLES.items()])
    search = page.locator("storestream-search")
    box = search.get_by_role("combobox")
    box.fill("پیراهن قرمز")
    box.press("Enter")
    wait_done(search)
    expect(search.locator(".ss-card")).to_have_count(3)
    expect(search.locator(".ss-status")).to_have_text("۳ کالا")  # Persian words, Persian digits
    assert direction(search.locator(".ss-card").nth(1)) == "rtl"
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    drawn: dict[str, dict[str, int]] = {}
    for lang in TITLES:
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f'.ss-card[data-sku="SKU-{lang}"] .ss-card-title'})
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
        drawn[lang] = {font["familyName"]: font["glyphCount"] for font in fonts}
    screenshot(page, "storefront-search-scripts")
    for lang, title in TITLES.items():
        covering = fonts_for(lang)
        # Spaces may come from the first font of the stack; every letter from one that has it.
        elsewhere = sum(count for family, count in drawn[lang].items() if family not in covering)
        assert any(family in covering for family in drawn[lang]), (lang, drawn[lang])
        assert elsewhere <= title.count(" "), f"{lang}: {elsewhere} glyphs from fonts without its letters: {drawn[lang]}"
