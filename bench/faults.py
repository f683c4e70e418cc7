"""Faults under load: does the service stay free of 5xx, lose nothing, and recover by itself?

One app (real uvicorn, `python -m app serve`, the embedded nx-27017 as its database child)
serves a steady load of chat streams and product searches from several clients, while, one
after another:

1. the database child is killed (`kill -9`): time until a store route answers 200 again,
   and how the requests meanwhile were answered (503 with `Retry-After`, never 5xx else);
2. 100 clients send request headers and part of a JSON body, then stall: the server must
   let them go (`REQUEST_BODY_TIMEOUT_S`) and go on serving everybody else;
3. 1,000 streams are opened and dropped at once (the socket closed after the headers);
4. SIGTERM while streams are open and some clients stall mid-body: the process must exit
   within `SHUTDOWN_GRACE_S` plus a margin.

Reported: responses by status over the whole run (target: no 5xx but the documented 503s),
503s with `Retry-After`, recovery time, RSS and open file descriptors of the app before the
faults and after the stalls and aborts (leaks would show there), the exit time, and
acknowledged messages lost: every chat question whose `connected` event (which names the
stored message) reached the client is looked up after the app is started again on the same
data (target 0).

    .venv/bin/python -m bench.faults            # about 2 minutes
    .venv/bin/python -m bench.faults --quick

Results: bench/results/faults.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from httpx_sse import EventSource

from app.store.embedded import free_port
from bench.common import machine

ROOT = Path(__file__).resolve().parents[1]

RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
QUESTIONS = ["blue kurta under 2000", "red silk saree", "what is your return policy", "black shoes for men",
             "green anarkali", "pink lehenga under 30k"]
SEARCHES = ["lehenga", "red saree", "kurta under 2000", "sherwani", "blue jeans", "silk dupatta"]


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    with_retry_after: int = 0
    transport_errors: int = 0
    refused_connections: int = 0  # the process had stopped listening (after SIGTERM)
    stream_errors: Counter[str] = field(default_factory=Counter)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)  # (conversation, message)

    def add(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code == 503 and "retry-after" in response.headers:
            self.with_retry_after += 1


class App:
    """`python -m app serve` on a free port with its own data folder."""

    def __init__(self, data: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.data = data
        self.log = log
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "HOST": HOST,
                    "PORT": str(self.port), "DATA_DIR": str(data), "DEMO_CATALOG_SIZE": "1000",
                    "SEARCH_EMBEDDINGS": "false", "TTS_ENGINE": "off", "STREAMING_RATE_LIMIT": "1000000",
                    "STREAMING_MAX_CONCURRENT_PER_IP": "2000", "LOG_LEVEL": "WARNING", **env}
        self.env.pop("MONGODB_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> App:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "app", "serve"], cwd=ROOT, env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                checks = httpx.get(f"{self.url}/healthz", timeout=2).json()["checks"]
                if checks["search"]["ready"] and checks["db"]["ready"]:
                    return self
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise RuntimeError("the app did not become ready:\n" + self.log.read_text()[-3000:])

    def process(self) -> psutil.Process:
        assert self.proc is not None
        return psutil.Process(self.proc.pid)

    def usage(self) -> dict[str, Any]:
        proc = self.process()
        kinds = Counter(("clients" if c.laddr and c.laddr.port == self.port else "outgoing") + " " + c.status
                        for c in proc.net_connections(kind="inet"))
        return {"rss_mb": round(proc.memory_info().rss / 2**20, 1), "open_fds": proc.num_fds(),
                "sockets": dict(kinds)}

    def db_pid(self) -> int:
        return int(json.loads((self.data / "mongo" / "server.json").read_text())["pid"])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


async def chat(client: httpx.AsyncClient, url: str, question: str, tally: Tally) -> None:
    try:
        async with client.stream("POST", f"{url}/api/chat/query/stream", json={"query": question}) as response:
            tally.add(response)
            if response.status_code != 200:
                await response.aread()
                return
            async for sse in EventSource(response).aiter_sse():
                data = sse.json()
                if sse.event == "connected":
                    tally.acknowledged.append((data["conversation_id"], data["message_id"]))
                elif sse.event == "error":
                    tally.stream_errors[data.get("code", "")] += 1
    except httpx.ConnectError:
        tally.refused_connections += 1
    except (httpx.HTTPError, OSError):
        tally.transport_errors += 1


async def search(client: httpx.AsyncClient, url: str, query: str, tally: Tally) -> None:
    try:
        response = await client.get(f"{url}/api/products/search", params={"q": query})
        tally.add(response)
    except httpx.ConnectError:
        tally.refused_connections += 1
    except (httpx.HTTPError, OSError):
        tally.transport_errors += 1


async def load(url: str, tally: Tally, stop: asyncio.Event, workers: int = 6) -> None:
    """Steady load: each worker alternates a chat question and a search, one at a time."""

    async def worker(w: int) -> None:
        i = w
        async with httpx.AsyncClient(timeout=30) as client:
            while not stop.is_set():
                await chat(client, url, QUESTIONS[i % len(QUESTIONS)], tally)
                await search(client, url, SEARCHES[i % len(SEARCHES)], tally)
                i += 1
                await asyncio.sleep(0.05)

    await asyncio.gather(*(worker(w) for w in range(workers)))


async def kill_database(app: App, tally: Tally) -> dict[str, Any]:
    """kill -9 of the database child; seconds until a store route answers 200 again."""
    async with httpx.AsyncClient(timeout=30) as client:
        first = await client.post(f"{app.url}/api/chat/query", json={"query": "hello"})
        conversation = first.json().get("complete", {}).get("conversation_id") or first.json().get("conversation_id")
        old = app.db_pid()
        os.kill(old, signal.SIGKILL)
        killed = time.monotonic()
        answers: Counter[int] = Counter()
        while time.monotonic() - killed < 60:
            response = await client.get(f"{app.url}/api/chat/conversations/{conversation}")
            answers[response.status_code] += 1
            tally.add(response)
            if response.status_code == 200 and app.db_pid() != old:
                return {"recovered_s": round(time.monotonic() - killed, 2), "probe_statuses": dict(answers)}
            await asyncio.sleep(0.02)
    return {"recovered_s": None, "probe_statuses": dict(answers)}


async def stall_bodies(count: int, port: int) -> list[socket.socket]:
    """Clients that send headers and a third of a JSON body, then nothing."""
    body = json.dumps({"query": "a stalled question " + "x" * 200}).encode()
    head = (f"POST /api/chat/query HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    held = []
    for _ in range(count):
        sock = socket.create_connection((HOST, port), timeout=5)
        sock.sendall(head + body[: len(body) // 3])
        held.append(sock)
    return held


def answered(sock: socket.socket, wait_s: float) -> str:
    """What a stalled client got: the status line, or 'nothing' (still held), or 'closed'."""
    sock.settimeout(wait_s)
    try:
        data = sock.recv(200)
    except TimeoutError:
        return "nothing"
    except OSError:
        return "closed"
    if not data:
        return "closed"
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


async def abort_streams(count: int, port: int) -> int:
    """Open `count` streams (chat and search) and drop each right after its headers."""
    done = 0

    async def one(i: int) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(HOST, port)
        if i % 2:
            body = json.dumps({"query": QUESTIONS[i % len(QUESTIONS)]}).encode()
            writer.write((f"POST /api/chat/query/stream HTTP/1.1\r\nHost: {HOST}\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
        else:
            writer.write(f"GET /api/products/search/stream?q=saree HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            done += 1
        finally:
            writer.transport.abort()

    gate = asyncio.Semaphore(100)

    async def gated(i: int) -> None:
        async with gate:
            await one(i)

    await asyncio.gather(*(gated(i) for i in range(count)), return_exceptions=True)
    return done


async def lost_messages(url: str, acknowledged: list[tuple[str, str]]) -> int:
    lost = 0
    async with httpx.AsyncClient(timeout=30) as client:
        by_conversation: dict[str, set[str]] = {}
        for conversation, message in acknowledged:
            by_conversation.setdefault(conversation, set()).add(message)
        for conversation, messages in by_conversation.items():
            response = await client.get(f"{url}/api/chat/conversations/{conversation}")
            stored = {m["id"] for m in response.json().get("messages", [])} if response.status_code == 200 else set()
            lost += len(messages - stored)
    return lost


async def run(quick: bool, folder: Path) -> dict[str, Any]:
    settings = {"REQUEST_BODY_TIMEOUT_S": "5", "SHUTDOWN_GRACE_S": "3", "ADMIN_TOKEN": "faults"}
    app = App(folder / "data", folder / "app.log", **settings).start()
    tally = Tally()
    stop = asyncio.Event()
    report: dict[str, Any] = {"settings": settings}
    background = asyncio.create_task(load(app.url, tally, stop))
    try:
        await asyncio.sleep(3 if quick else 8)
        report["before"] = app.usage()
        report["database_kill"] = await kill_database(app, tally)
        await asyncio.sleep(2)
        stalled = await stall_bodies(20 if quick else 100, app.port)
        await asyncio.sleep(1)
        async with httpx.AsyncClient(timeout=10) as client:  # others are still served meanwhile
            during = await client.get(f"{app.url}/api/products/search", params={"q": "saree"})
        report["stalled_bodies"] = {"count": len(stalled), "search_meanwhile": during.status_code}
        outcomes = Counter(answered(sock, 10) for sock in stalled)
        report["stalled_bodies"]["answers"] = dict(outcomes)
        for sock in stalled:
            sock.close()
        report["aborted_streams"] = {"opened_then_dropped": await abort_streams(200 if quick else 1000, app.port)}
        await asyncio.sleep(3)
        report["after"] = app.usage()
        stop.set()
        await background
        await asyncio.sleep(5)
        report["settled"] = app.usage()  # the load stopped too: what is left open
        if not quick:  # past the database pool's idle time (maxIdleTimeMS, app/store/mongo.py)
            await asyncio.sleep(62)
            report["idle_minute"] = app.usage()
        report["transport_errors_before_sigterm"] = tally.transport_errors
        # SIGTERM with streams open and clients stalled mid-body.
        stop_again = asyncio.Event()
        background = asyncio.create_task(load(app.url, tally, stop_again, workers=4))
        stalled = await stall_bodies(10, app.port)
        await asyncio.sleep(1)
        assert app.proc is not None
        app.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        stop_again.set()  # no new requests from here: what fails below was in flight at SIGTERM
        try:
            await asyncio.to_thread(app.proc.wait, 60)
            report["sigterm"] = {"exit_s": round(time.monotonic() - sent, 2), "code": app.proc.returncode}
        except subprocess.TimeoutExpired:
            report["sigterm"] = {"exit_s": None, "note": "still running after 60 s"}
        stop_again.set()
        await background
        for sock in stalled:
            sock.close()
    finally:
        stop.set()
        app.stop()
    # The same data again: is every acknowledged question there?
    again = App(folder / "data", folder / "app2.log", **settings).start()
    try:
        report["acknowledged_messages"] = len(tally.acknowledged)
        report["acknowledged_lost"] = await lost_messages(again.url, tally.acknowledged)
    finally:
        again.stop()
    report["statuses"] = dict(sorted(tally.statuses.items()))
    report["5xx_other_than_503"] = sum(n for s, n in tally.statuses.items() if s >= 500 and s != 503)
    report["503_with_retry_after"] = tally.with_retry_after
    report["503_total"] = tally.statuses.get(503, 0)
    report["transport_errors"] = tally.transport_errors
    report["refused_connections"] = tally.refused_connections
    report["stream_errors"] = dict(tally.stream_errors)
    return report


def markdown(report: dict[str, Any], info: dict[str, Any]) -> str:
    kill = report["database_kill"]
    stall = report["stalled_bodies"]
    term = report["sigterm"]
    lines = [
        "| measure | value |",
        "|---|---:|",
        f"| responses (all phases), by status | {', '.join(f'{s}: {n}' for s, n in report['statuses'].items())} |",
        f"| 5xx other than 503 | {report['5xx_other_than_503']} |",
        f"| 503, of them with Retry-After | {report['503_total']}, {report['503_with_retry_after']} |",
        f"| requests cut off without an answer: before SIGTERM / at SIGTERM | "
        f"{report['transport_errors_before_sigterm']} / {report['transport_errors'] - report['transport_errors_before_sigterm']} |",
        f"| requests refused at connect (sent as the process was exiting) | {report['refused_connections']} |",
        f"| kill -9 of the database: a store route answers 200 again after (s) | {kill['recovered_s']} |",
        f"| {stall['count']} clients stalled mid-body: what they got | {', '.join(f'{k}: {v}' for k, v in stall['answers'].items())} |",
        f"| a search meanwhile | {stall['search_meanwhile']} |",
        f"| streams opened and dropped at once | {report['aborted_streams']['opened_then_dropped']} |",
        f"| RSS before the faults / after the stalls and aborts (MB) | {report['before']['rss_mb']} / {report['after']['rss_mb']} |",
        f"| open file descriptors before / after / with the load stopped | {report['before']['open_fds']} / "
        f"{report['after']['open_fds']} / {report['settled']['open_fds']} |",
        f"| open file descriptors a minute later (the database pool's idle connections closed) | "
        f"{report.get('idle_minute', {}).get('open_fds', 'not measured (--quick)')} |",
        f"| SIGTERM with streams open and 10 stalled bodies: exit after (s) | {term.get('exit_s')} |",
        f"| acknowledged questions / lost | {report['acknowledged_messages']} / {report['acknowledged_lost']} |",
        f"| error events inside streams | {', '.join(f'{k}: {v}' for k, v in report['stream_errors'].items()) or 'none'} |",
        "",
        f"{info['date']}, {info['cpu_count']} CPUs, load average at start {info['loadavg_at_start'][0]}; "
        f"settings {report['settings']}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    info = machine(("uvicorn", "starlette", "pymongo", "nx-27017"))
    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        report = asyncio.run(run(args.quick, Path(tmp)))
    RESULTS.mkdir(exist_ok=True)
    suffix = "_quick" if args.quick else ""
    (RESULTS / f"faults{suffix}.json").write_text(json.dumps({"machine": info, "report": report}, indent=2))
    md = markdown(report, info)
    (RESULTS / f"faults{suffix}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
