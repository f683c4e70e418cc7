"""Search analytics in a real browser: the storefront's search widget, with insights.js,
reports the cards shown (`view`), the card opened (`click`) and the demo's add-to-cart button
(`add_to_cart`) under the search's `query_id`, stored in the database; so does the chat for
the cards of the sales agent's catalog search; the admin insights page shows the report built
from them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from pymongo import MongoClient

from app.store.repositories import one_per_event
from tests.support.server import AppServer
from tests.support.wait import wait_until
from tests.web.conftest import ADMIN_TOKEN, PageProbe, ask, chat_widget, screenshot


def stored_events(app: AppServer, query_id: str) -> list[dict[str, Any]]:
    with MongoClient(app.env["MONGODB_URL"], serverSelectionTimeoutMS=5000) as client:
        found = client[app.env["MONGODB_DB"]]["shopper_events"].find({"query_id": query_id}, {"_id": 0})
        return [event for doc in found for event in one_per_event(doc)]


def search_for(page: Any, words: str) -> tuple[Any, str]:
    from playwright.sync_api import expect

    search = page.locator("storestream-search")
    search.get_by_role("combobox", name="Search products").fill(words)
    expect(search).to_have_attribute("data-state", "done")
    expect(search).to_have_attribute("data-stage", "final")
    query_id = search.get_attribute("data-query-id")
    assert query_id and len(query_id) == 32
    return search, query_id


def test_a_search_then_a_click_stores_views_and_the_click(web_app: AppServer, storefront: PageProbe) -> None:
    page = storefront.page
    search, query_id = search_for(page, "kurta")
    cards = search.locator(".ss-card")
    shown = cards.count()
    assert shown > 2
    second = cards.nth(1)
    sku = second.get_attribute("data-sku")
    second.locator(".ss-card-title").click()

    def clicked() -> list[dict[str, Any]]:
        events = stored_events(web_app, query_id)
        kinds = [e["type"] for e in events]
        return events if "click" in kinds and kinds.count("view") == shown else []

    events = wait_until(clicked, timeout=15, what="the views and the click are stored")
    views = sorted((e["position"], e["sku"]) for e in events if e["type"] == "view")
    assert [p for p, _ in views] == list(range(1, shown + 1))
    click = next(e for e in events if e["type"] == "click")
    assert (click["sku"], click["position"]) == (sku, 2)


def test_the_chats_product_cards_report_views_and_a_click(web_app: AppServer, storefront: PageProbe) -> None:
    """The sales agent's catalog search is recorded with a `query_id` (on its product_cards
    event): the chat's cards are reported under it like the search widget's, and only the
    cards of the answer that showed them."""
    from playwright.sync_api import expect

    page = storefront.page
    chat = chat_widget(page, "/api/troika/intelligent-chat/stream")
    ask(chat, "show me kurtas")
    cards_list = chat.locator(".ss-cards-compact").last
    expect(cards_list).to_have_attribute("data-query-id", re.compile(r"^[0-9a-f]{32}$"))
    query_id = cards_list.get_attribute("data-query-id")
    cards = cards_list.locator(".ss-card")
    shown = cards.count()
    assert shown >= 1
    sku = cards.last.get_attribute("data-sku")
    cards.last.locator(".ss-card-title").click()

    def clicked() -> list[dict[str, Any]]:
        events = stored_events(web_app, query_id or "")
        kinds = [e["type"] for e in events]
        return events if "click" in kinds and kinds.count("view") == shown else []

    events = wait_until(clicked, timeout=15, what="the chat cards' views and click are stored")
    assert sorted(e["position"] for e in events if e["type"] == "view") == list(range(1, shown + 1))
    click = next(e for e in events if e["type"] == "click")
    assert (click["sku"], click["position"]) == (sku, shown)


def test_the_add_to_cart_button_sends_add_to_cart(web_app: AppServer, storefront: PageProbe) -> None:
    page = storefront.page
    search, query_id = search_for(page, "saree")
    third = search.locator(".ss-card").nth(2)
    button = third.get_by_role("button", name="Add to cart")
    button.click()

    def carted() -> list[dict[str, Any]]:
        return [e for e in stored_events(web_app, query_id) if e["type"] == "add_to_cart"]

    [event] = wait_until(carted, timeout=15, what="the add_to_cart is stored")
    assert (event["sku"], event["position"]) == (third.get_attribute("data-sku"), 3)
    assert not [e for e in stored_events(web_app, query_id) if e["type"] == "click"]  # the button is no open


def test_the_insights_page_shows_the_report(web_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    from playwright.sync_api import expect

    probe = new_page()
    page = probe.page
    page.goto(f"{web_app.url}/?q=lehenga")
    search, _ = search_for(page, "lehenga silk")

    def recorded() -> bool:
        """The search is written (the analytics writer holds it up to ANALYTICS_FLUSH_MS), so
        the page's one read of the report has it (it failed once without this wait)."""
        report = httpx.get(f"{web_app.url}/api/analytics/search", params={"days": 1, "top": 100},
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=15).json()
        return any(row["query"] == "lehenga silk" for row in report["top_queries"])

    wait_until(recorded, timeout=15, what="the search is in the report")
    page.goto(f"{web_app.url}/admin/insights")
    insights = page.locator("storestream-insights")
    insights.get_by_label("Admin token").fill(ADMIN_TOKEN)
    insights.get_by_role("button", name="Use token").click()
    expect(insights).to_have_attribute("data-state", "done")
    expect(insights.locator("table", has_text="Top queries")).to_contain_text("lehenga silk")
    assert insights.locator("svg.ins-chart").count() == 4
    expect(insights.locator("[data-figure=Searches]")).not_to_have_text("0")
    screenshot(page, "admin-insights")
    assert probe.errors == [] and probe.dialogs == []


def test_the_merchant_adds_and_removes_synonyms_and_rules_on_the_page(
        web_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    """On /admin/insights, with the token: a synonym and a pin are saved through the forms,
    listed, and take effect in the product search; Delete removes the pin again."""
    from playwright.sync_api import expect

    first_saree = httpx.get(f"{web_app.url}/api/products/search", params={"q": "saree", "limit": 1},
                            timeout=15).json()["products"][0]["sku"]
    probe = new_page()
    page = probe.page
    page.goto(f"{web_app.url}/admin/insights")
    page.locator("storestream-insights").get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.locator("storestream-insights").get_by_role("button", name="Use token").click()
    merch = page.locator("storestream-merchandising")
    expect(merch).to_have_attribute("data-state", "done")
    merch.get_by_label("Synonym id").fill("quokka")
    merch.get_by_label("Phrases, comma-separated").fill("quokka, saree")
    merch.get_by_role("button", name="Save synonym").click()
    expect(merch.get_by_role("table", name="Synonyms")).to_contain_text("quokka = saree")
    merch.get_by_label("Rule id").fill("lamp-pin")
    merch.get_by_label("When the query").fill("kurta")
    merch.get_by_label("Action").select_option("pin")
    merch.get_by_label("SKU").fill(first_saree)
    merch.get_by_role("button", name="Save rule").click()
    rules = merch.get_by_role("table", name="Rules")
    expect(rules).to_contain_text(f"pin {first_saree} at 1")
    screenshot(page, "admin-merchandising")

    def searched(q: str) -> dict[str, Any]:
        return httpx.get(f"{web_app.url}/api/products/search", params={"q": q, "limit": 5}, timeout=15).json()
    assert searched("quokka")["total"] > 0
    assert searched("kurta")["products"][0]["sku"] == first_saree
    rules.get_by_role("button", name="Delete lamp-pin").click()
    expect(rules).not_to_contain_text("lamp-pin")
    assert searched("kurta")["products"][0]["sku"] != first_saree
    merch.get_by_role("table", name="Synonyms").get_by_role("button", name="Delete quokka").click()
    expect(merch.get_by_role("table", name="Synonyms")).to_contain_text("None yet")
    assert probe.errors == [] and probe.dialogs == []
