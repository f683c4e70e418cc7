"""Every route that reads a request body bounds it: in size (a `Content-Length` over the
route's limit is refused before a byte is read; a body without one is counted as it arrives
and cut at the limit), in time (`REQUEST_BODY_TIMEOUT_S` without a byte: 408, and an upload's
spooled file is removed at once) and by a client leaving (no 5xx, nothing logged as an
error). Real uvicorn, raw sockets for the bodies no client library would send."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.routes.body import DRAIN_S
from tests.ingest import documents as d
from tests.support import raw_http as raw
from tests.support.sampling import PeakRss
from tests.support.server import AppServer, isolated_env

MB = 1024 * 1024
JSON_LIMIT = 64 * 1024
CATALOG_LIMIT = 16 * MB
BODY_TIMEOUT_S = 1.5
ADMIN = {"Authorization": f"Bearer {d.ADMIN_TOKEN}"}

# (method, path, limit, extra headers): every route that reads a JSON body.
ROUTES = [
    ("POST", "/api/chat/query/stream", JSON_LIMIT, {}),
    ("POST", "/api/chat/query", JSON_LIMIT, {}),
    ("POST", "/api/troika/intelligent-chat/stream", JSON_LIMIT, {}),
    ("POST", "/api/troika/intelligent-chat", JSON_LIMIT, {}),
    ("POST", "/aza/search/stream", JSON_LIMIT, {}),
    ("POST", "/aza/search", JSON_LIMIT, {}),
    ("PUT", "/api/catalog/products", CATALOG_LIMIT, ADMIN),
]
IDS = [f"{method} {path}" for method, path, _, _ in ROUTES]
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("bodies")
    env = isolated_env(mongo_url, log_dir, "bodies", ADMIN_TOKEN=d.ADMIN_TOKEN, STREAMING_RATE_LIMIT="100000",
                       REQUEST_BODY_TIMEOUT_S=str(BODY_TIMEOUT_S), STREAMING_MAX_CONCURRENT_PER_IP="2",
                       UPLOAD_MAX_BYTES=str(4 * MB), STREAM_DETACH_S="0")
    with AppServer(env, log_dir=log_dir) as app:
        app.uploads = log_dir / "data" / "uploads"  # type: ignore[attr-defined]
        yield app


def too_large(limit: int) -> dict[str, object]:
    return {"status": 413, "code": "BODY_TOO_LARGE", "field": "body",
            "error": f"the request body is larger than the {limit} byte limit of this route"}


def answer(port: int, request_head: bytes, body=(), *, timeout: float = 10.0, pause: float = 0.0) -> raw.RawResponse:
    try:
        return raw.exchange(port, request_head, body, timeout=timeout, pause=pause)
    except (TimeoutError, ConnectionError) as exc:
        pytest.fail(f"no answer from the server within {timeout} s ({exc})")


@pytest.mark.parametrize(("method", "path", "limit", "headers"), ROUTES, ids=IDS)
async def test_declared_length_over_the_limit_is_refused_before_reading(
    server: AppServer, method: str, path: str, limit: int, headers: dict[str, str]
) -> None:
    """Only the headers are sent (200 MB announced): the 413 comes without a byte of body, and
    without the server waiting out its drain (DRAIN_S, for a client still sending: this one
    waits for the answer and sends nothing, so it is answered once it has gone quiet)."""
    request_head = raw.head(method, path, {**JSON_HEADERS, **headers}, length=200 * MB)
    got = await asyncio.to_thread(answer, server.port, request_head)
    assert (got.status, got.json()) == (413, too_large(limit))
    assert got.headers["content-type"] == "application/json"
    assert got.headers.get("connection") == "close"
    assert got.elapsed < DRAIN_S, f"answered after {got.elapsed:.2f} s: the whole drain was waited out"


@pytest.mark.parametrize(("method", "path", "limit", "headers"), ROUTES, ids=IDS)
async def test_chunked_body_is_cut_at_the_limit(
    server: AppServer, method: str, path: str, limit: int, headers: dict[str, str]
) -> None:
    """No Content-Length: the bytes are counted as they arrive, and the 413 comes while the
    body is still open (it never ends: the old code waited for its end)."""
    piece = raw.chunk(b" " * 16384)
    pieces = (piece for _ in range(3 * limit // 2 // 16384))
    request_head = raw.head(method, path, {**JSON_HEADERS, **headers}, chunked=True)
    got = await asyncio.to_thread(answer, server.port, request_head, pieces, timeout=30)
    assert (got.status, got.json()) == (413, too_large(limit))


def _rss_peak(pid: int, work) -> tuple[float, float]:
    """(RSS before, peak RSS while `work()` runs), in MB."""
    with PeakRss(pid, interval=0.01) as rss:
        work()
    return rss.before / MB, rss.peak / MB


def _post_200_mb(port: int, *, chunked: bool) -> int:
    """An anonymous 200 MB JSON-ish body to the chat twin; returns the status (0: none read)."""
    block = b" " * MB
    if chunked:
        request_head = raw.head("POST", "/api/chat/query", JSON_HEADERS, chunked=True)
        body = (raw.chunk(block) for _ in range(200))
    else:
        request_head = raw.head("POST", "/api/chat/query", JSON_HEADERS, length=200 * MB)
        body = (block for _ in range(200))
    try:
        return raw.exchange(port, request_head, body, timeout=30).status
    except (TimeoutError, ConnectionError):
        return 0


async def test_three_200_mb_bodies_at_once_leave_rss_flat(server: AppServer) -> None:
    """Measured before: one 200 MB POST raised RSS by 226 MB, three at once by about 1 GB."""
    assert server.process is not None

    def three() -> list[int]:
        results: list[int] = []
        threads = [threading.Thread(target=lambda c=c: results.append(_post_200_mb(server.port, chunked=c)))
                   for c in (True, False, True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return results

    statuses: list[int] = []
    before, peak = await asyncio.to_thread(_rss_peak, server.process.pid, lambda: statuses.extend(three()))
    print(f"three 200 MB bodies at once: server RSS {before:.0f} MB -> peak {peak:.0f} MB (+{peak - before:.0f} MB); "
          f"statuses {statuses}")
    assert peak - before < 30


async def test_a_stalled_body_gets_408_and_no_stream(server: AppServer) -> None:
    """A client that stops sending: 408 JSON after REQUEST_BODY_TIMEOUT_S without a byte, never
    an event stream, and its concurrent-stream slot is free again (the cap here is 2)."""
    request_head = raw.head("POST", "/api/chat/query/stream", JSON_HEADERS, length=100)

    def stalled() -> raw.RawResponse:
        return answer(server.port, request_head, [b'{"query": "red'], timeout=BODY_TIMEOUT_S + 8)

    got = await asyncio.gather(asyncio.to_thread(stalled), asyncio.to_thread(stalled))
    for response in got:
        assert response.status == 408, response.body
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "status": 408, "code": "BODY_TIMEOUT", "field": "body",
            "error": f"the request body stopped arriving (nothing for {BODY_TIMEOUT_S:g} s)",
        }
        assert response.headers.get("connection") == "close"
        assert BODY_TIMEOUT_S - 0.2 <= response.elapsed < BODY_TIMEOUT_S + 5
    payload = json.dumps({"query": "hello"}).encode()
    ok = await asyncio.to_thread(
        answer, server.port, raw.head("POST", "/api/chat/query/stream", JSON_HEADERS, length=len(payload)), [payload]
    )
    assert ok.status == 200 and ok.headers["content-type"].startswith("text/event-stream")


async def test_a_slow_but_steady_body_is_read(server: AppServer) -> None:
    """The timeout is for silence, not for the whole body: a body that keeps arriving, over
    twice REQUEST_BODY_TIMEOUT_S in all, is read (a slow mobile link still works)."""
    payload = json.dumps({"query": "blue kurta " + "x" * 40}).encode()
    pieces = [payload[i : i + 8] for i in range(0, len(payload), 8)]
    pause = 2 * BODY_TIMEOUT_S / len(pieces) + 0.05
    request_head = raw.head("POST", "/aza/search", JSON_HEADERS, length=len(payload))
    got = await asyncio.to_thread(answer, server.port, request_head, pieces, pause=pause, timeout=30)
    assert got.elapsed > 2 * BODY_TIMEOUT_S
    assert got.status != 408, got.body


def leftovers(server: AppServer) -> list[str]:
    folder: Path = server.uploads  # type: ignore[attr-defined]
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("path", ["/api/context/upload-file/stream", "/api/context/upload-file"])
async def test_a_stalled_upload_is_refused_and_its_file_removed(server: AppServer, path: str) -> None:
    content, content_type = d.multipart([("file", b"notes.txt", b"Refunds within 30 days. " * 40000)])
    request_head = raw.head("POST", path, {**ADMIN, "Content-Type": content_type}, length=len(content))
    sent_part = content[: len(content) // 2]

    def stalled() -> tuple[raw.RawResponse, list[str], list[str]]:
        with raw.connect(server.port, timeout=BODY_TIMEOUT_S + 8) as sock:
            sock.sendall(request_head)
            raw.send_all(sock, [sent_part])
            time.sleep(BODY_TIMEOUT_S / 3)
            spooling = leftovers(server)  # the file is being spooled
            response = raw.read_response(sock, timeout=BODY_TIMEOUT_S + 8)
            return response, spooling, leftovers(server)

    try:
        got, spooling, after = await asyncio.to_thread(stalled)
    except (TimeoutError, ConnectionError) as exc:
        pytest.fail(f"no answer to a stalled upload ({exc})")
    assert spooling, "the part sent should be spooling"
    assert got.status == 408 and got.json()["code"] == "BODY_TIMEOUT"
    assert after == []  # removed when the timeout fired, before the answer


async def test_a_client_leaving_mid_body_is_no_server_error(server: AppServer) -> None:
    """Half a body, then the connection closes: nothing logged as an error, no 5xx."""
    for method, path, _, headers in ROUTES:
        with raw.connect(server.port) as sock:
            sock.sendall(raw.head(method, path, {**JSON_HEADERS, **headers}, length=1000) + b'{"query": "re')
            time.sleep(0.2)
    await asyncio.sleep(0.5)
    log = server.log()
    assert "unhandled error" not in log and "Traceback" not in log, log[-3000:]
