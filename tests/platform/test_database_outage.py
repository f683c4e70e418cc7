"""The database goes away while the app runs: real app processes, real nx-27017 servers,
real `kill -9`.

- Embedded (no MONGODB_URL): the supervisor restarts the killed child on the same data (and
  port); every route that needs the store answers 503 `DB_UNAVAILABLE` with `Retry-After`
  meanwhile (never a 500), search answers from memory, `/healthz` says not ready and why.
  To hold an outage open long enough to look at every route, a `CrashLoop` kills each new
  nx-27017 on the app's data folder as soon as it appears (a database that keeps crashing).
- External MONGODB_URL (a second nx-27017 this test runs): the same 503s while it is down,
  and recovery when it returns on the same address.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.store.embedded import EmbeddedMongo
from tests.support.process import alive
from tests.support.sampling import Sampler
from tests.support.server import AppServer, wait_for_search
from tests.support.sse import read_stream

ADMIN = "outage-admin"
RECOVERY_S = 20.0  # a behaviour bound, not a performance figure
FACTORY = "app.main:create_app"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {"MONGODB_URL": "", "DATA_DIR": str(data_dir), "DEMO_CATALOG_SIZE": "200",
            "STREAMING_RATE_LIMIT": "100000", "TTS_ENGINE": "off", "ADMIN_TOKEN": ADMIN,
            "MONGODB_TIMEOUT_MS": "500", **extra}


def _servers_on(folder: Path) -> list[int]:
    """Pids of nx-27017 processes serving `folder` (started by the app under test)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "nx_27017" in cmdline and str(folder) in cmdline:
            pids.append(int(entry))
    return pids


class CrashLoop(Sampler):
    """While active: every nx-27017 serving `folder` is killed (SIGKILL) within milliseconds of
    appearing, before it can accept a connection."""

    def __init__(self, folder: Path) -> None:
        super().__init__(interval=0.005)
        self.folder = folder
        self.kills = 0

    def step(self) -> None:
        for pid in _servers_on(self.folder):
            try:
                os.kill(pid, signal.SIGKILL)
                self.kills += 1
            except ProcessLookupError:
                pass


def _kill_9(pid: int) -> None:
    """SIGKILL, and wait until the process is gone (a zombie counts as gone): a request
    answered meanwhile by the dying server would look like a recovery."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.005)
    raise AssertionError(f"pid {pid} still alive 10 s after SIGKILL")


def _db_pid(data_dir: Path) -> tuple[int, int]:
    state = json.loads((data_dir / "mongo" / "server.json").read_text())
    return state["pid"], state["port"]


async def _wait_health(client: httpx.AsyncClient, url: str, ready: bool, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"{url}/healthz")
        db = response.json()["checks"]["db"]
        if db["ready"] is ready or time.monotonic() > deadline:
            return {**response.json(), "http": response.status_code}
        await asyncio.sleep(0.05)


async def _seed(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    """A conversation, an agent session and a context file, made while the database is up."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    chat = (await client.post(f"{url}/api/chat/query", json={"query": "red silk saree"})).json()
    agent = (await client.post(f"{url}/api/troika/intelligent-chat", json={"message": "blue kurta"})).json()
    upload = await client.post(f"{url}/api/context/upload-file", headers=auth,
                               files={"file": ("policy.txt", b"Returns within 14 days.", "text/plain")})
    assert upload.status_code == 200, upload.text
    assert chat["status"] == "ok" and agent["status"] == "ok", (chat, agent)
    return {"conversation": chat["complete"]["conversation_id"], "session": agent["complete"]["session_id"],
            "file": upload.json()["file_id"]}


def _store_requests(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every route family that needs the store: (method, path, httpx options)."""
    auth = {"Authorization": f"Bearer {ADMIN}"}
    product = {"sku": "OUTAGE-1", "title": "Outage test kurta", "price": 999, "category": "kurta"}
    upload = {"files": {"file": ("more.txt", b"Exchanges within 30 days.", "text/plain")}, "headers": auth}
    return [
        ("POST", "/api/chat/query/stream", {"json": {"query": "green lehenga"}}),
        ("GET", "/api/chat/stream?message=green+lehenga", {}),
        ("POST", "/api/chat/query", {"json": {"query": "green lehenga"}}),
        ("POST", "/api/chat/query", {"json": {"query": "and in blue?", "sessionId": ids["conversation"]}}),
        ("GET", f"/api/chat/conversations/{ids['conversation']}", {}),
        ("POST", "/api/troika/intelligent-chat/stream", {"json": {"message": "red saree"}}),
        ("POST", "/api/troika/intelligent-chat", {"json": {"message": "cheaper", "sessionId": ids["session"]}}),
        ("GET", f"/api/troika/sessions/{ids['session']}", {}),
        ("GET", "/api/context/files", {"headers": auth}),
        ("GET", f"/api/context/files/{ids['file']}", {"headers": auth}),
        ("POST", "/api/context/upload-file", upload),
        ("POST", "/api/context/upload-file/stream", upload),
        ("PUT", "/api/catalog/products", {"json": {"products": [product]}, "headers": auth}),
        ("DELETE", "/api/catalog/products/NO-SUCH-SKU", {"headers": auth}),
        ("GET", "/api/catalog/stats", {}),
    ]


async def _all_refused(client: httpx.AsyncClient, url: str, ids: dict[str, str]) -> None:
    for method, path, options in _store_requests(ids):
        response = await client.request(method, f"{url}{path}", **options)
        assert response.status_code == 503, (method, path, response.status_code, response.text)
        assert response.json()["code"] == "DB_UNAVAILABLE", (method, path, response.text)
        assert int(response.headers["retry-after"]) >= 1, (method, path)
        assert "Traceback" not in response.text


async def _search_answers(client: httpx.AsyncClient, url: str) -> None:
    found = await client.get(f"{url}/api/products/search", params={"q": "saree"})
    assert found.status_code == 200 and found.json()["total"] > 0, found.text
    aza = await client.post(f"{url}/aza/search", json={"query": "red saree"})
    assert aza.status_code == 200, aza.text
    streamed = await read_stream(f"{url}/api/products/search/stream?q=kurta", timeout=10)
    assert streamed.types()[-2:] == ["complete", "close"]


@pytest.fixture
def embedded_app(tmp_path: Path) -> Iterator[tuple[AppServer, Path]]:
    data_dir = tmp_path / "data"
    app = AppServer(_env(data_dir), log_dir=tmp_path, factory=FACTORY).start()
    try:
        wait_for_search(app, min_vectors=0)
        yield app, data_dir
    finally:
        app.stop()
        for pid in _servers_on(data_dir / "mongo"):  # nothing outlives the test
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
async def seeded_app(embedded_app: tuple[AppServer, Path]) -> tuple[AppServer, Path, dict[str, str], int]:
    """(app, data folder, what `_seed` made, the pid of its nx-27017) while the database is up."""
    app, data_dir = embedded_app
    async with httpx.AsyncClient(timeout=10) as client:
        ids = await _seed(client, app.url)
    return app, data_dir, ids, _db_pid(data_dir)[0]


async def test_kill_9_of_the_embedded_server_is_restarted_on_the_same_data(
    seeded_app: tuple[AppServer, Path, dict[str, str], int],
) -> None:
    app, data_dir, ids, pid = seeded_app
    port = _db_pid(data_dir)[1]
    async with httpx.AsyncClient(timeout=10) as client:
        history = f"{app.url}/api/chat/conversations/{ids['conversation']}"
        before = (await client.get(history)).json()

        killed = time.monotonic()
        _kill_9(pid)
        seen: list[int] = []
        while True:  # one store route, polled: 503 DB_UNAVAILABLE (never a 500) until back
            response = await client.get(history)
            seen.append(response.status_code)
            if response.status_code == 200:
                break
            assert response.status_code == 503 and response.json()["code"] == "DB_UNAVAILABLE", response.text
            assert response.headers["retry-after"]
            assert time.monotonic() - killed < RECOVERY_S, f"not back within {RECOVERY_S} s\n{app.log()}"
            await asyncio.sleep(0.02)
        recovered_s = time.monotonic() - killed
        print(f"kill -9 -> first 200 on a store route: {recovered_s:.2f} s ({len(seen)} requests, "
              f"{seen.count(503)} answered 503)")

        new_pid, new_port = _db_pid(data_dir)
        assert new_pid != pid and new_port == port, "a new server, on the same port"
        assert response.json() == before, "the same data"
        health = await _wait_health(client, app.url, True, 5)
        assert health["http"] == 200 and health["checks"]["db"]["restarts"] == 1
        again = (await client.post(f"{app.url}/api/chat/query",
                                   json={"query": "and in blue?", "sessionId": ids["conversation"]})).json()
        assert again["status"] == "ok"
        assert len((await client.get(history)).json()["messages"]) == len(before["messages"]) + 2
    log = app.log()
    assert log.count("database unavailable (") == 1, log
    assert log.count("database available again") == 1, log
    assert "unhandled error" not in log and "Traceback" not in log, log


async def test_every_store_route_answers_503_while_the_embedded_server_is_down(
    seeded_app: tuple[AppServer, Path, dict[str, str], int],
) -> None:
    app, data_dir, ids, pid = seeded_app
    async with httpx.AsyncClient(timeout=10) as client:
        with CrashLoop(data_dir / "mongo") as loop:
            health = await _wait_health(client, app.url, False, 10)
            assert health["http"] == 503 and health["status"] == "degraded"
            await _all_refused(client, app.url, ids)
            await _all_refused(client, app.url, ids)  # twice: no per-request log lines below
            await _search_answers(client, app.url)
            health = await _wait_health(client, app.url, False, 10)
            db = health["checks"]["db"]
            assert health["http"] == 503 and db["ready"] is False, health
            assert "embedded server" in db["reason"] and db["down_s"] > 0, db
            assert loop.kills >= 2, "the supervisor kept trying to restart it"
        stopped = time.monotonic()
        health = await _wait_health(client, app.url, True, RECOVERY_S)
        assert health["checks"]["db"]["ready"] is True, f"not back within {RECOVERY_S} s: {health}\n{app.log()}"
        print(f"crash loop ended -> database ready again: {time.monotonic() - stopped:.2f} s")
        assert _db_pid(data_dir)[0] != pid

        # Back: every route works, writes refused meanwhile were not applied, new ones are.
        auth = {"Authorization": f"Bearer {ADMIN}"}
        refused = (await client.get(f"{app.url}/api/products/search", params={"q": "outage test kurta"})).json()
        assert "OUTAGE-1" not in [p["sku"] for p in refused["products"]], "a refused write is not indexed"
        for method, path, options in _store_requests(ids):
            response = await client.request(method, f"{app.url}{path}", **options)
            if path.startswith("/api/catalog/products/"):
                assert response.status_code == 404, response.text  # the sku that does not exist
            elif path.endswith("/stream"):
                assert response.status_code == 200, (path, response.text)
            else:
                assert response.status_code == 200, (method, path, response.status_code, response.text)
        found = (await client.get(f"{app.url}/api/products/search", params={"q": "outage test kurta"})).json()
        assert found["products"][0]["sku"] == "OUTAGE-1"
        files = (await client.get(f"{app.url}/api/context/files", headers=auth)).json()
        assert files["total"] == 2  # the seeded file and the one uploaded after recovery
    log = app.log()
    assert log.count("database unavailable (") == 1, log
    assert log.count("database available again") == 1, log
    assert "unhandled error" not in log and "Traceback" not in log, log


async def test_an_external_database_that_goes_away_and_comes_back(tmp_path: Path) -> None:
    server = EmbeddedMongo(tmp_path / "external")
    url = server.start()
    app = AppServer(
        {**_env(tmp_path / "data"), "MONGODB_URL": url, "MONGODB_DB": "outage"},
        log_dir=tmp_path, factory=FACTORY,
    ).start()
    try:
        wait_for_search(app, min_vectors=0)
        async with httpx.AsyncClient(timeout=10) as client:
            ids = await _seed(client, app.url)
            assert server.pid is not None
            os.kill(server.pid, signal.SIGKILL)
            killed = time.monotonic()
            # The first requests find out (each within MONGODB_TIMEOUT_MS), never a 500.
            for method, path, options in _store_requests(ids)[:5]:
                response = await client.request(method, f"{app.url}{path}", **options)
                assert response.status_code == 503, (path, response.status_code, response.text)
                assert response.json()["code"] == "DB_UNAVAILABLE" and response.headers["retry-after"]
            health = await _wait_health(client, app.url, False, 10)
            assert health["http"] == 503 and health["checks"]["db"]["ready"] is False
            await _all_refused(client, app.url, ids)
            await _search_answers(client, app.url)
            print(f"outage noticed and every route refused within {time.monotonic() - killed:.2f} s")

            assert server.restart() == url  # the same address, the same data
            back = time.monotonic()
            health = await _wait_health(client, app.url, True, RECOVERY_S)
            assert health["checks"]["db"]["ready"] is True, f"not back: {health}\n{app.log()}"
            print(f"server back -> app ready: {time.monotonic() - back:.2f} s")
            history = await client.get(f"{app.url}/api/chat/conversations/{ids['conversation']}")
            assert history.status_code == 200 and len(history.json()["messages"]) == 2
            chat = (await client.post(f"{app.url}/api/chat/query", json={"query": "gold jhumkas"})).json()
            assert chat["status"] == "ok"
        log = app.log()
        assert log.count("database unavailable (") == 1, log
        assert log.count("database available again") == 1, log
        assert "unhandled error" not in log and "Traceback" not in log, log
    finally:
        app.stop()
        server.stop()


async def test_an_answer_that_ends_during_the_outage_is_stored_when_the_database_is_back(tmp_path: Path) -> None:
    """The answer streams from a (slow) model while the database dies under it: its end cannot
    be written, the client learns so (`error{DB_UNAVAILABLE}`), and the record is written as
    it ended, with the whole text, once the database is back: not left `streaming`."""
    llm = AppServer({"SLOW_LLM_WORDS": "20", "SLOW_LLM_EVERY_S": "0.05"}, log_dir=tmp_path,
                    factory="tests.support.slow_llm:build").start()
    data_dir = tmp_path / "data"
    app = AppServer(_env(data_dir, LLM_PROVIDER="openai", LLM_BASE_URL=f"{llm.url}/v1", LLM_MODEL="slow"),
                    log_dir=tmp_path, factory=FACTORY).start()
    loop = CrashLoop(data_dir / "mongo")
    try:
        wait_for_search(app, min_vectors=0)
        events: list[tuple[str, dict[str, Any]]] = []
        async with asyncio.timeout(30), httpx.AsyncClient(timeout=30) as client:
            async with client.stream("POST", f"{app.url}/api/chat/query/stream",
                                     json={"query": "red silk saree"}) as response:
                kind = ""
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        events.append((kind, json.loads(line[5:])))
                        if kind == "text" and not loop.kills:
                            loop.__enter__()  # the database dies mid-answer, and stays down
                            while not loop.kills:
                                await asyncio.sleep(0.01)
            kinds = [k for k, _ in events]
            assert kinds[-2:] == ["error", "close"], kinds
            assert events[-2][1]["code"] == "DB_UNAVAILABLE" and events[-2][1]["retryable"] is True
            said = [d for k, d in events if k == "text"][-1]["fullText"]
            conversation_id = events[0][1]["conversation_id"]
            loop.__exit__()
            health = await _wait_health(client, app.url, True, RECOVERY_S)
            assert health["checks"]["db"]["ready"] is True, f"not back: {health}\n{app.log()}"
            history = (await client.get(f"{app.url}/api/chat/conversations/{conversation_id}")).json()
        answer = history["messages"][-1]
        assert answer["role"] == "assistant" and answer["status"] == "failed", answer
        assert answer["content"] == said and said.startswith("word0 word1 "), (answer, said)
        assert "1 answer ends written after the outage" in app.log()
    finally:
        loop.__exit__()
        app.stop()
        llm.stop()
        for pid in _servers_on(data_dir / "mongo"):
            os.kill(pid, signal.SIGKILL)


async def _until_200(client: httpx.AsyncClient, url: str, app: AppServer) -> float:
    """Poll a store route until it answers 200 (every other answer must be 503 DB_UNAVAILABLE);
    seconds it took."""
    started = time.monotonic()
    while True:
        response = await client.get(url)
        if response.status_code == 200:
            return time.monotonic() - started
        assert response.status_code == 503 and response.json()["code"] == "DB_UNAVAILABLE", response.text
        assert time.monotonic() - started < RECOVERY_S, f"not back within {RECOVERY_S} s\n{app.log()}"
        await asyncio.sleep(0.02)


async def test_an_adopted_server_that_dies_is_restarted_too(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = AppServer(_env(data_dir), log_dir=tmp_path, factory=FACTORY).start()
    try:
        wait_for_search(first, min_vectors=0)
        async with httpx.AsyncClient(timeout=10) as client:
            ids = await _seed(client, first.url)
        pid, port = _db_pid(data_dir)
    finally:
        first.kill()  # the app dies; its database server lives on, to be adopted
    second = AppServer(_env(data_dir), log_dir=tmp_path, factory=FACTORY).start()
    try:
        assert _db_pid(data_dir) == (pid, port), "adopted"
        _kill_9(pid)  # not the second app's child: it notices all the same
        async with httpx.AsyncClient(timeout=10) as client:
            await _until_200(client, f"{second.url}/api/chat/conversations/{ids['conversation']}", second)
            new_pid, new_port = _db_pid(data_dir)
            assert new_pid != pid and new_port == port
            # Every request after the first 200 is not promised one: a pooled connection to the
            # killed server can still fail one request (503 DB_UNAVAILABLE, retryable) after the
            # new server answered (seen once in a suite run). The data is there all the same.
            await _until_200(client, f"{second.url}/api/troika/sessions/{ids['session']}", second)
    finally:
        second.stop()
        for leftover in _servers_on(data_dir / "mongo"):
            os.kill(leftover, signal.SIGKILL)


async def test_a_taken_port_moves_every_holder_of_the_store_to_the_new_server(
    embedded_app: tuple[AppServer, Path],
) -> None:
    """Someone else listens on the dead server's port before it is restarted: the new server
    gets another port and the app's client follows it (`Store.rebind`), for every route."""
    app, data_dir = embedded_app
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the dead server's TIME_WAITs
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            ids = await _seed(client, app.url)
            pid, port = _db_pid(data_dir)
            assert app.process is not None
            # The app is frozen meanwhile, so its supervisor cannot take the port back first.
            os.kill(app.process.pid, signal.SIGSTOP)
            try:
                os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + 5.0
                while True:  # the kernel frees the port as the process dies
                    try:
                        squatter.bind(("127.0.0.1", port))
                        squatter.listen()
                        break
                    except OSError:
                        assert time.monotonic() < deadline, "could not take the port"
                        time.sleep(0.002)
            finally:
                os.kill(app.process.pid, signal.SIGCONT)
            await _until_200(client, f"{app.url}/api/chat/conversations/{ids['conversation']}", app)
            new_pid, new_port = _db_pid(data_dir)
            assert new_pid != pid and new_port != port
            assert (await client.get(f"{app.url}/api/troika/sessions/{ids['session']}")).status_code == 200
            chat = (await client.post(f"{app.url}/api/chat/query",
                                      json={"query": "and in blue?", "sessionId": ids["conversation"]})).json()
            assert chat["status"] == "ok", chat
            product = {"sku": "MOVED-1", "title": "Moved server dupatta", "price": 500, "category": "dupatta"}
            put = await client.put(f"{app.url}/api/catalog/products", json={"products": [product]},
                                   headers={"Authorization": f"Bearer {ADMIN}"})
            assert put.status_code == 200, put.text
            health = await _wait_health(client, app.url, True, 5)
            assert health["http"] == 200
    finally:
        squatter.close()
    log = app.log(tail=10**7)  # all of it: a request that met the dead server may log a traceback after
    assert f"port {port} was taken" in log and "database client moved" in log, log


async def test_a_hung_external_database_is_noticed_without_waiting_for_the_socket_timeout(tmp_path: Path) -> None:
    """SIGSTOP: connections stay open and nothing answers. The outage is known within seconds,
    not the 120 s socket timeout (PyMongo 4.20 interrupts operations in use when its monitor's
    check times out, and the app's ping is bounded by MONGODB_TIMEOUT_MS besides), and store
    routes are refused at once until the server answers again."""
    server = EmbeddedMongo(tmp_path / "external")
    url = server.start()
    app = AppServer({**_env(tmp_path / "data"), "MONGODB_URL": url, "MONGODB_DB": "hung"},
                    log_dir=tmp_path, factory=FACTORY).start()
    assert server.pid is not None
    try:
        wait_for_search(app, min_vectors=0)
        async with httpx.AsyncClient(timeout=10) as client:
            ids = await _seed(client, app.url)
            os.kill(server.pid, signal.SIGSTOP)
            asked = time.monotonic()
            health = await client.get(f"{app.url}/healthz")
            assert health.status_code == 503 and health.json()["checks"]["db"]["ready"] is False
            assert time.monotonic() - asked < 5.0, "the health check waited for the socket timeout"
            await _all_refused(client, app.url, ids)
            os.kill(server.pid, signal.SIGCONT)
            health = await _wait_health(client, app.url, True, RECOVERY_S)
            assert health["checks"]["db"]["ready"] is True, f"not back: {health}\n{app.log()}"
            assert (await client.get(f"{app.url}/api/chat/conversations/{ids['conversation']}")).status_code == 200
    finally:
        os.kill(server.pid, signal.SIGCONT)
        app.stop()
        server.stop()
