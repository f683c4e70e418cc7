"""examples/ai-sdk-chat/index.html in Chromium against the real app: a shopper types a question
and the page, built on the `ai` package's own browser modules (AbstractChat and
DefaultChatTransport, loaded by an import map from node_modules, no bundler), shows the sales
agent's answer, its tool calls and the product cards, rebuilt from POST /api/ai-sdk/chat's UI
message stream: the same text the stream carried and the agent stored, the same cards in the
same order.

The page and the modules are the repository's files, unmodified, served at the app's own origin
by Playwright's page.route (as examples/README.md serves them with `python -m http.server`), and
at another origin the app lists in CORS_ALLOWED_ORIGINS, the page then given the store's address
in `?api=` (examples/README.md's way to run it). There the page itself comes from that origin's
real server (a page Playwright made up has no address, and Chromium refuses it a loopback one)
and its modules from page.route.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.requirements import missing_ai_sdk, missing_playwright, need, need_at_import
from tests.support.server import ROOT, AppServer
from tests.web.conftest import PageProbe, Storefront

need_at_import(missing_playwright())
from playwright.sync_api import Route, expect  # noqa: E402

PAGE = "/examples/ai-sdk-chat/index.html"
SERVED = ("examples", "node_modules")  # what the page loads: itself, its shim, the `ai` package's modules
TIMEOUT_MS = 30_000
# Keeps the bytes of every chat stream the page reads (a tee of its fetch: the page's own code is
# untouched, and Playwright's response body of a stream without a charset is not its UTF-8).
TEE = """(() => {
  const fetched = window.fetch.bind(window);
  window.chatStreams = [];
  window.fetch = async (input, init) => {
    const response = await fetched(input, init);
    if (!String(input).includes("/api/ai-sdk/chat") || !response.body) return response;
    const [forPage, forTest] = response.body.tee();
    window.chatStreams.push(new Response(forTest).text());
    return new Response(forPage, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
})();"""


def serve_file(route: Route) -> None:
    """A file of the repository under examples/ or node_modules/, as a static server sends it."""
    relative = route.request.url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
    parts = relative.split("/")
    path = ROOT.joinpath(*parts)  # node_modules may be a link: not resolved, `..` refused instead
    if parts[0] not in SERVED or ".." in parts or not path.is_file():
        route.fulfill(status=404, body="not found")
        return
    kind = "text/javascript" if path.suffix in {".js", ".mjs"} else mimetypes.guess_type(path.name)[0]
    route.fulfill(status=200, content_type=f"{kind}; charset=utf-8", body=path.read_bytes())


def parts_of(stream: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in stream.splitlines()
            if line.startswith("data: ") and line != "data: [DONE]"]


@pytest.mark.parametrize("where", ["the store's origin", "an allowed storefront's origin"])
def test_a_question_typed_into_the_page_gets_the_agents_answer_and_cards(
        where: str, web_app: AppServer, storefronts: tuple[Storefront, Storefront],
        new_page: Callable[..., PageProbe]) -> None:
    need(missing_ai_sdk(in_node=False))
    probe = new_page()
    page = probe.page
    page.add_init_script(TEE)
    own = where == "the store's origin"
    storefront = storefronts[0]
    origin = web_app.url if own else storefront.origin
    for top in SERVED:
        page.route(f"{origin}/{top}/**", serve_file)
    if not own:
        storefront.html = (ROOT / PAGE.lstrip("/")).read_text()
        page.route(f"{origin}{PAGE}?**", lambda route: route.continue_())  # the real server's answer
    page.goto(f"{origin}{PAGE}" if own else f"{origin}{PAGE}?api={web_app.url}/api/ai-sdk/chat")
    expect(page.locator("body")).to_have_attribute("data-status", "ready")  # the modules loaded

    box = page.get_by_role("textbox", name="Your question")
    with page.expect_response(f"{web_app.url}/api/ai-sdk/chat", timeout=TIMEOUT_MS) as answered:
        box.fill("red silk lehenga under 20000")
        box.press("Enter")
    response = answered.value
    assert response.status == 200 and response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    expect(page.locator("body")).to_have_attribute("data-status", "ready", timeout=TIMEOUT_MS)
    streams = page.evaluate("() => Promise.all(window.chatStreams)")
    assert len(streams) == 1
    parts = parts_of(streams[0])  # the whole stream, now that the turn is over

    assistant = page.locator('article[data-role="assistant"]')
    expect(assistant).to_have_count(1)
    streamed = "".join(p["delta"] for p in parts if p["type"] == "text-delta")
    shown = " ".join(assistant.locator("p.text").all_inner_texts())
    assert streamed.strip() and shown.split() == streamed.split()

    cards = [p["data"]["products"] for p in parts if p["type"] == "data-product_cards"][-1]
    assert cards, "the agent showed no products"
    shown_cards = assistant.locator(".cards li")
    expect(shown_cards).to_have_count(len(cards))
    assert [shown_cards.nth(i).get_attribute("data-sku") for i in range(len(cards))] == [c["sku"] for c in cards]
    assert shown_cards.first.locator(".title").inner_text() == cards[0]["title"]
    calls = [p["toolName"] for p in parts if p["type"] == "tool-input-available"]
    assert calls and assistant.locator(".tool").first.inner_text().startswith(f"{calls[0]} ")
    assert assistant.locator(".tool").first.inner_text().endswith("✓")  # its output arrived too

    # the chat's id is the agent's session: what the page shows is what the agent said
    chat_id = page.evaluate("() => window.storeChat.id")
    session = httpx.get(f"{web_app.url}/api/troika/sessions/{chat_id}", timeout=10).json()
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
    assert session["messages"][1]["content"].split() == shown.split()
    assert page.locator("#status").inner_text() == ""
    assert probe.errors == [], probe.errors
