"""Stop and Try again in the chat widget.

- Stop is shown only while an answer streams. Pressed, it POSTs
  `/api/streams/{stream_id}/stop` with the last event id seen; the server ends the stream with
  error{STREAM_STOPPED} and `close` and keeps the answer so far as `interrupted`. The answer
  must stop growing, and "Try again" asks the same question as a new request (no
  Last-Event-ID). A running answer long enough to stop by hand comes from a real model:
  SmolLM2-135M behind llama.cpp's server (tests/support/llama_server.py, about 30 tokens/s, up
  to 400 tokens), through the real chat stream.
- When the server does not take the stop, or the answer has not even started, the widget
  stops its side at once.
- After an answer cut short (STREAM_INTERRUPTED, a resume refused with 410 STREAM_EXPIRED),
  "Try again" asks the question again as a new request; nothing is asked on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.llama_server import MODEL
from tests.support.requirements import missing_playwright, need_at_import
from tests.support.server import AppServer
from tests.web.conftest import TIMEOUT_MS, PageProbe, ask, chat_widget, screenshot, start_app

need_at_import(missing_playwright())
from playwright.sync_api import Locator, Page, Request, Route, expect  # noqa: E402

CHAT_STREAM = "/api/chat/query/stream"
STOP_PATH = re.compile(r"^/api/streams/([^/]+)/stop$")
STOP_ROUTE = "/api/streams/{stream_id}/stop"


@pytest.fixture(scope="module")
def model_app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory, llama_url: str) -> Iterator[AppServer]:
    """The real app answering chat with a real (small, slow) model."""
    app = start_app(mongo_url, tmp_path_factory.mktemp("web-model"), "webmodel",
                    LLM_PROVIDER="openai", LLM_BASE_URL=llama_url, LLM_MODEL=MODEL, LLM_READ_TIMEOUT_S="60",
                    STREAMING_RATE_LIMIT="100000", STREAMING_TIMEOUT="120000")
    try:
        yield app
    finally:
        app.stop()


def chat_on(page: Page) -> Locator:
    return chat_widget(page, CHAT_STREAM)


def ask_until_interrupted(page: Page, handler: Callable[[Route], None], text: str) -> tuple[Locator, Locator]:
    """Chat requests go to `handler` (a test double); ask `text` and wait until the first
    answer ends interrupted. Returns (the chat, that answer)."""
    page.route(f"**{CHAT_STREAM}", handler)
    chat = chat_on(page)
    ask(chat, text)
    first = chat.locator(".ss-msg-bot").first
    expect(first).to_have_attribute("data-outcome", "interrupted", timeout=TIMEOUT_MS)
    return chat, first


def record(page: Page, path: str | re.Pattern[str]) -> list[Request]:
    seen: list[Request] = []

    def on_request(request: Request) -> None:
        current = urlsplit(request.url).path
        if (current == path) if isinstance(path, str) else path.match(current):
            seen.append(request)

    page.on("request", on_request)
    return seen


def answer_length(turn: Locator) -> int:
    return turn.locator(".ss-answer").evaluate("el => el.textContent.length")


def ids_received(page: Page) -> list[str]:
    return page.evaluate("window.__ids")


# Records every event id the chat's responses carried (read from a clone of each stream body,
# as the widget reads the original), so the test knows which ids the page had seen.
RECORD_IDS_JS = """(() => {
    window.__ids = [];
    const native = window.fetch;
    window.fetch = async (...args) => {
        const response = await native(...args);
        if (response.ok && (response.headers.get('content-type') || '').startsWith('text/event-stream')) {
            const reader = response.clone().body.getReader();
            const decoder = new TextDecoder();
            let buffer = '';
            (async () => { for (;;) {
                const { value, done } = await reader.read().catch(() => ({ done: true }));
                if (done) break;
                buffer += decoder.decode(value, { stream: true });
                const lines = buffer.split('\\n'); buffer = lines.pop();
                for (const line of lines) if (line.startsWith('id: ')) window.__ids.push(line.slice(4));
            } })();
        }
        return response;
    };
})();"""


def test_stop_ends_a_running_answer_and_try_again_asks_again(
    model_app: AppServer, new_page: Callable[..., PageProbe]
) -> None:
    assert STOP_ROUTE in httpx.get(f"{model_app.url}/openapi.json", timeout=15).json()["paths"]
    probe = new_page()
    page = probe.page
    page.add_init_script(RECORD_IDS_JS)
    page.goto(f"{model_app.url}/")
    chat = chat_on(page)
    posts = record(page, CHAT_STREAM)
    stops = record(page, STOP_PATH)
    stop = chat.get_by_role("button", name="Stop the answer")
    expect(stop).to_be_hidden()  # nothing streams yet

    question = "Describe in detail five silk sarees for a wedding: colours, fabrics, prices and why."
    ask(chat, question)
    turn = chat.locator(".ss-msg-bot").last
    expect(turn.locator(".ss-answer")).not_to_be_empty(timeout=TIMEOUT_MS)  # the model is talking
    expect(stop).to_be_visible()
    with page.expect_response(lambda r: STOP_PATH.match(urlsplit(r.url).path) is not None) as stopped:
        stop.click()
    response = stopped.value
    assert response.status == 200, response.text()
    body = response.json()
    assert body["stopped"] is True and body["stream_id"] == turn.get_attribute("data-stream-id")
    assert len(stops) == 1 and stops[0].method == "POST"
    assert stops[0].headers.get("last-event-id") in ids_received(page)  # an id this page received

    expect(turn).to_have_attribute("data-outcome", "stopped")
    expect(turn).to_have_attribute("data-stopped-by", "server")  # its STREAM_STOPPED arrived
    expect(chat).to_have_attribute("data-state", "done")
    expect(stop).to_be_hidden()
    expect(turn.locator(".ss-error-text")).to_have_text("Stopped.")
    kept = answer_length(turn)
    assert kept > 0
    page.wait_for_timeout(1500)  # the model would have added several words by now
    assert answer_length(turn) == kept

    # The server kept the answer so far as interrupted.
    conversation = httpx.get(
        f"{model_app.url}/api/chat/conversations/{turn.get_attribute('data-conversation-id')}", timeout=15).json()
    said = [m for m in conversation["messages"] if m["role"] == "assistant"]
    assert said and said[-1]["status"] == "interrupted", said
    screenshot(page, "chat-stopped")

    # Try again: the same question as a new request (not a resume), answered anew.
    chat.get_by_role("button", name="Try again").click()
    expect(chat.locator(".ss-msg-user")).to_have_text([question, question])
    assert len(posts) == 2
    assert "last-event-id" not in posts[1].headers
    assert json.loads(posts[1].post_data or "{}")["query"] == question
    again = chat.locator(".ss-msg-bot").last
    expect(again.locator(".ss-answer")).not_to_be_empty(timeout=TIMEOUT_MS)  # a new answer streams
    # Then end it, stopped or complete (a model's answer may be short): the test's end, not a check.
    chat.evaluate("el => el.stop()")
    expect(chat).to_have_attribute("data-state", "done", timeout=TIMEOUT_MS)
    expect(again).to_have_attribute("data-outcome", re.compile(r"^(stopped|complete)$"))
    expect(stop).to_be_hidden()
    assert probe.errors == [] and probe.dialogs == []


def test_stop_not_taken_by_the_server_stops_this_side_at_once(
    model_app: AppServer, new_page: Callable[..., PageProbe]
) -> None:
    """The stop request is refused (a TEST DOUBLE answers it, page.route: 404 NOT_FOUND, as for a
    stream the server no longer knows): the widget aborts its stream at once, keeps the answer
    so far and offers Try again."""
    probe = new_page()
    page = probe.page
    page.add_init_script(RECORD_IDS_JS)
    page.goto(f"{model_app.url}/")
    page.route(re.compile(r".*/api/streams/[^/]+/stop$"), lambda route: route.fulfill(
        status=404, content_type="application/json", body=json.dumps({"code": "NOT_FOUND", "error": "no such stream"})))
    chat = chat_on(page)
    ask(chat, "Describe in detail five cotton kurtas for summer: colours, fabrics, prices and why.")
    turn = chat.locator(".ss-msg-bot").last
    expect(turn.locator(".ss-answer")).not_to_be_empty(timeout=TIMEOUT_MS)
    chat.get_by_role("button", name="Stop the answer").click()
    expect(turn).to_have_attribute("data-outcome", "stopped")
    expect(turn).to_have_attribute("data-stopped-by", "client")
    expect(turn).to_have_attribute("data-stop-status", "404")
    expect(chat).to_have_attribute("data-state", "done")
    kept = answer_length(turn)
    page.wait_for_timeout(1000)
    assert answer_length(turn) == kept > 0
    expect(chat.get_by_role("button", name="Try again")).to_be_visible()
    assert probe.errors == [] and probe.dialogs == []
    # Clean-up, not a check: the server runs a dropped answer on for STREAM_DETACH_S; stop it
    # for real so the model is free for the next test.
    stream_id, last = turn.get_attribute("data-stream-id"), ids_received(page)[-1]
    httpx.post(f"{model_app.url}/api/streams/{stream_id}/stop", headers={"Last-Event-ID": last}, timeout=15)


def test_stop_before_the_answer_starts(web_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    """No `connected` yet (the request is held unanswered by the test: a TEST DOUBLE via
    page.route), so there is no stream to name: Stop aborts the request at once and sends no
    stop request."""
    probe = new_page()
    page = probe.page
    page.goto(f"{web_app.url}/")
    held: list[Route] = []
    page.route(f"**{CHAT_STREAM}", lambda route: held.append(route))
    stops = record(page, STOP_PATH)
    chat = chat_on(page)
    ask(chat, "blue cotton kurta")
    stop = chat.get_by_role("button", name="Stop the answer")
    expect(stop).to_be_visible()
    stop.click()
    turn = chat.locator(".ss-msg-bot").last
    expect(turn).to_have_attribute("data-outcome", "stopped")
    expect(stop).to_be_hidden()
    expect(chat).to_have_attribute("data-state", "done")
    assert stops == []
    assert probe.errors == [] and probe.dialogs == []


def frames(*events: tuple[str, dict[str, Any]], prefix: str = "f") -> str:
    return "".join(f"id: {prefix}-{i}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"
                   for i, (kind, data) in enumerate(events, 1))


CONNECTED = ("connected", {"stream_id": "f", "stream": "chat", "message": "Stream started"})


def test_interrupted_answer_offers_try_again_as_a_new_request(
    web_app: AppServer, new_page: Callable[..., PageProbe]
) -> None:
    """The first answer ends with error{STREAM_INTERRUPTED} (a TEST DOUBLE stream via
    page.route); nothing is asked on its own; Try again asks the same question as a new
    request (no Last-Event-ID), which the real server answers."""
    probe = new_page()
    page = probe.page
    page.goto(f"{web_app.url}/")
    posts: list[Request] = []
    body = frames(CONNECTED, ("text", {"token": "Half an", "fullText": "Half an"}),
                  ("error", {"message": "The stream was interrupted before it finished", "code": "STREAM_INTERRUPTED",
                             "error": "interrupted", "retryable": True, "fatal": True}),
                  ("close", {"message": "Stream ended"}))

    def first_fake_then_real(route: Route) -> None:
        posts.append(route.request)
        if len(posts) == 1:
            route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)
        else:
            route.continue_()

    chat, first = ask_until_interrupted(page, first_fake_then_real, "blue cotton kurta")
    expect(first.locator(".ss-answer")).to_have_text("Half an")
    expect(chat).to_have_attribute("data-state", "error")
    page.wait_for_timeout(1000)
    assert len(posts) == 1  # nothing asked on its own
    first.get_by_role("button", name="Try again").click()
    expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(1)
    expect(chat).to_have_attribute("data-state", "done")
    assert len(posts) == 2 and "last-event-id" not in posts[1].headers
    assert json.loads(posts[1].post_data or "{}")["query"] == "blue cotton kurta"
    expect(first.get_by_role("button", name="Try again")).to_have_count(0)  # used
    assert probe.errors == [] and probe.dialogs == []


def test_resume_refused_as_expired_offers_try_again(web_app: AppServer, new_page: Callable[..., PageProbe]) -> None:
    """The connection drops mid-answer (a TEST DOUBLE cuts the body, page.route); the resume
    (Last-Event-ID) is refused with 410 STREAM_EXPIRED (the double again): the widget says so
    and offers Try again, a new request the real server answers."""
    probe = new_page()
    page = probe.page
    page.goto(f"{web_app.url}/")
    posts: list[Request] = []
    cut = frames(CONNECTED, ("text", {"token": "Half", "fullText": "Half"}))  # no close: the connection dropped

    def handle(route: Route) -> None:
        posts.append(route.request)
        if len(posts) == 1:
            route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=cut)
        elif len(posts) == 2:
            route.fulfill(status=410, content_type="application/json", body=json.dumps(
                {"status": 410, "code": "STREAM_EXPIRED", "error": "The stream can no longer be resumed"}))
        else:
            route.continue_()

    chat, first = ask_until_interrupted(page, handle, "green silk saree")  # after one resume (retry: 3 s)
    expect(first.locator(".ss-error-text")).to_have_text("The stream can no longer be resumed")
    assert posts[1].headers.get("last-event-id") == "f-2"
    first.get_by_role("button", name="Try again").click()
    expect(chat.locator('.ss-msg-bot[data-complete="true"]')).to_have_count(1)
    assert len(posts) == 3 and "last-event-id" not in posts[2].headers
    assert probe.errors == [] and probe.dialogs == []
