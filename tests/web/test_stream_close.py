"""Both widgets close a stream as soon as its `close` event arrives, even when the connection
would stay open: a stream left open holds one of the browser's six connections per host and
a slot of the platform's concurrent-stream cap.

The platform here is a TEST DOUBLE: a stdlib HTTP server on its own loopback port that serves
a page (loading the real storestream.js from the app) and answers the search and chat
streams with a short valid stream, `close` included, and then keeps the connection open for
up to 10 s, watching for the browser to close it. The real app always ends the response after
`close`, so only a double can show whether the widget itself lets go.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.requirements import missing_playwright, need_at_import
from tests.support.server import AppServer
from tests.web.conftest import PageProbe

need_at_import(missing_playwright())
from playwright.sync_api import expect  # noqa: E402

HOLD_OPEN_S = 10.0
PRODUCT = {"sku": "DOUBLE-1", "title": "A product from the test double", "price": 999, "currency": "INR"}
FRAMES = {
    "/api/products/search/stream": [
        ("connected", {"stream_id": "s", "stream": "search", "message": "Stream started"}),
        ("results", {"type": "product_cards", "stage": "final", "total": 1, "facets": {}, "products": [PRODUCT]}),
        ("complete", {"total": 1, "duration": 1}),
        ("close", {"message": "Stream ended"}),
    ],
    "/api/chat/query/stream": [
        ("connected", {"stream_id": "c", "stream": "chat", "message": "Stream started"}),
        ("text", {"token": "Hello.", "fullText": "Hello."}),
        ("complete", {"duration": 1}),
        ("close", {"message": "Stream ended"}),
    ],
}


class HeldOpenPlatform:
    """Streams `FRAMES`, then holds each connection open, recording when the client closed it."""

    def __init__(self, app_url: str) -> None:
        self.app_url = app_url
        self.closed: dict[str, float | None] = {}  # path -> seconds from `close` sent to client gone
        self.lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = urlsplit(self.path).path
                if path == "/":
                    self.page()
                else:
                    self.stream(path)

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.stream(urlsplit(self.path).path)

            def page(self) -> None:
                app = escape(double.app_url, quote=True)
                body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>double</title>
<script src="{app}/static/storestream.js"></script></head><body>
<storestream-search></storestream-search>
<storestream-chat endpoint="/api/chat/query/stream"></storestream-chat></body></html>""".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def stream(self, path: str) -> None:
                frames = FRAMES.get(path)
                if frames is None:
                    self.send_error(404)
                    return
                # HTTP/1.0 without Content-Length: the body ends only when the connection does.
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for i, (kind, data) in enumerate(frames, 1):
                    self.wfile.write(f"id: {path[5:9]}-{i}\nevent: {kind}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
                sent = time.monotonic()
                gone = None
                while time.monotonic() - sent < HOLD_OPEN_S:
                    readable, _, _ = select.select([self.connection], [], [], 0.05)
                    if readable:
                        try:
                            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                                gone = time.monotonic() - sent
                                break
                        except OSError:
                            gone = time.monotonic() - sent
                            break
                with double.lock:
                    double.closed[path] = gone

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_closed(self, path: str, timeout: float = HOLD_OPEN_S + 2) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if path in self.closed:
                    return self.closed[path]
            time.sleep(0.05)
        raise AssertionError(f"the double never finished {path}")


@pytest.fixture
def double(web_app: AppServer) -> Iterator[HeldOpenPlatform]:
    platform = HeldOpenPlatform(web_app.url)
    platform.thread.start()
    try:
        yield platform
    finally:
        platform.server.shutdown()
        platform.server.server_close()


def test_both_widgets_close_the_connection_at_close(
    double: HeldOpenPlatform, new_page: Callable[..., PageProbe]
) -> None:
    probe = new_page()
    page = probe.page
    page.goto(f"{double.origin}/")
    search = page.locator("storestream-search")
    search.get_by_role("combobox").fill("anything")
    expect(search).to_have_attribute("data-state", "done")
    expect(search.locator(".ss-card-title")).to_have_text(PRODUCT["title"])
    gone = double.wait_closed("/api/products/search/stream")
    assert gone is not None, f"the search widget left its stream open for {HOLD_OPEN_S:.0f} s after `close`"

    chat = page.locator("storestream-chat")
    box = chat.get_by_role("textbox", name="Your message")
    box.fill("hello")
    box.press("Enter")
    expect(chat).to_have_attribute("data-state", "done")
    expect(chat.locator(".ss-answer").last).to_have_text("Hello.")
    gone = double.wait_closed("/api/chat/query/stream")
    assert gone is not None, f"the chat widget left its stream open for {HOLD_OPEN_S:.0f} s after `close`"
    assert probe.errors == [] and probe.dialogs == []
