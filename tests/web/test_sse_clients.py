"""Real SSE client libraries in Chromium against a real server: the browser's own EventSource
and @microsoft/fetch-event-source (installed by `make install` from package-lock.json).

The server is the engine's test app (tests/support/stream_app.py, real create_app, uvicorn) with
STREAMING_PING_S=0.2, so several keep-alives (`: ping`) arrive between the slow stream's
progress events, and STREAMING_TIMEOUT=3000, so that stream ends (error STREAM_TIMEOUT, close)
after a few of them. What must hold, for both libraries, on both streams:

- every event delivered is one of our eight types, its data parses as JSON (never empty);
- the events delivered are exactly the frames the server sent: ids `<token>-<seq>` with seq
  1, 2, ... without a gap or a repeat, ending with `close` (every frame has an id, keep-alives
  have none, so a keep-alive taken for an event would show as a repeat or an empty message);
- the number of `progress` events equals the number of progress frames the server sent: for
  fetch-event-source read from the very bytes it parsed (its fetch gets a teed body); for
  EventSource, whose bytes a page cannot see, it follows from the complete run of ids above
  (and the ticks' counts 0, 1, 2, ...); a raw read of the same URL at the same time shows the
  keep-alives were flowing;
- fetch-event-source's documented `onopen` sample accepts our streams: one open, no retry.

How the library gets into the page, offline and without a bundler: its published ESM build
(lib/esm) is served from node_modules at the app's origin by Playwright's page.route. Its
modules import each other without the `.js` extension ("./fetch", "./parse"), which a
browser does not add, so the route adds it, as Node's resolver would. That is the library's
own unmodified code, and it needs nothing beyond the one npm package (esbuild would add a
native binary package for the same result).

`test_the_checks_catch_what_they_are_for` feeds the same checks, through page.route (a test
double, said so there), the keep-alive and Content-Type forms we replaced, and shows they fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.requirements import missing_fetch_event_source, missing_playwright, need, need_at_import
from tests.support.server import ROOT, AppServer, isolated_env
from tests.web.conftest import PageProbe

need_at_import(missing_playwright())
from playwright.sync_api import Page, Route  # noqa: E402

FES = ROOT / "node_modules" / "@microsoft" / "fetch-event-source"
FES_ESM = FES / "lib" / "esm"
EIGHT = ["connected", "progress", "results", "text", "audio", "complete", "error", "close"]
SLOW = "/t/slow/stream?every=0.7"  # a progress event every 0.7 s, keep-alives every 0.2 s of quiet
ECHO = "/t/echo/stream?n=7"  # connected, progress, 7 text events (tricky payloads), results, complete, close
STREAMS = [SLOW, ECHO]
PAGE = "/__sse_clients__/page.html"
MODULES = "/__sse_clients__/fetch-event-source/"

FES_SCRIPT = f"""<script type="module">
import {{ fetchEventSource, EventStreamContentType }} from '{MODULES}index.js';

class RetriableError extends Error {{}}
class FatalError extends Error {{}}

/* fetch-event-source, with the README's onopen sample verbatim; the body is teed so the test
   also gets the exact bytes the library parsed. */
window.runFetchEventSource = async (url, options = {{}}) => {{
  const ctrl = new AbortController();
  const events = [];
  const errors = [];
  let opens = 0;
  let raw = Promise.resolve('');
  const teeFetch = async (input, init) => {{
    // Not the library's abort signal: aborting at `close` must not discard bytes the test's
    // branch has not read yet. The server ends the body right after `close` anyway.
    const {{ signal, ...rest }} = init || {{}};
    const response = await fetch(input, rest);
    if (!response.body) return response;
    const [forLibrary, forTest] = response.body.tee();
    raw = new Response(forTest).text();
    return new Response(forLibrary, {{ status: response.status, statusText: response.statusText, headers: response.headers }});
  }};
  const timer = setTimeout(() => ctrl.abort(), 12000);
  let outcome = 'aborted-at-close';
  try {{
    await fetchEventSource(url, {{
      signal: ctrl.signal,
      openWhenHidden: true,
      fetch: options.plainFetch ? undefined : teeFetch,
      async onopen(response) {{
        opens += 1;
        if (response.ok && response.headers.get('content-type') === EventStreamContentType) {{
          return; // everything's good
        }} else if (response.status >= 400 && response.status < 500 && response.status !== 429) {{
          // client-side errors are usually non-retriable:
          throw new FatalError();
        }} else {{
          throw new RetriableError();
        }}
      }},
      onmessage(msg) {{
        events.push({{ type: msg.event, data: msg.data, id: msg.id }});
        if (msg.event === 'close') ctrl.abort(); // our stream is over: stop here
      }},
      onclose() {{
        // if the server closes the connection unexpectedly, retry:
        throw new RetriableError();
      }},
      onerror(err) {{
        errors.push(String(err && err.constructor && err.constructor.name));
        if (err instanceof FatalError || opens >= 4) throw err; // rethrow to stop the operation
        // otherwise: retry (the library waits its retry interval)
      }},
    }});
  }} catch (err) {{
    outcome = 'gave-up';
  }} finally {{
    clearTimeout(timer);
  }}
  if (outcome !== 'gave-up' && !events.some((e) => e.type === 'close')) outcome = 'timed-out';
  return {{ events, errors, opens, outcome, raw: await raw }};
}};
window.fesReady = true;
</script>"""

CLASSIC_SCRIPT = """<script>
/* The browser's EventSource: a listener for each of our eight types and for unnamed
   `message` events (a keep-alive taken for an event would arrive there). */
window.runEventSource = (url, types) => new Promise((resolve) => {
  const events = [];
  let connectionErrors = 0;
  const source = new EventSource(url);
  const done = (outcome) => { source.close(); resolve({ events, connectionErrors, outcome }); };
  const timer = setTimeout(() => done('timed-out'), 12000);
  for (const type of [...types, 'message']) {
    source.addEventListener(type, (event) => {
      if (type === 'error' && !(event instanceof MessageEvent)) return; // a connection error, not ours
      events.push({ type: event.type, data: event.data, id: event.lastEventId });
      if (type === 'close') { clearTimeout(timer); done('closed'); }
    });
  }
  source.addEventListener('error', (event) => {
    if (event instanceof MessageEvent) return;
    connectionErrors += 1;
  });
});

window.rawStream = async (url) => {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
};
window.clientsReady = true;
</script>"""


def page_html(with_fes: bool) -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SSE clients</title>'
            + CLASSIC_SCRIPT + (FES_SCRIPT if with_fes else "") + "</head><body><h1>SSE clients</h1></body></html>")


@pytest.fixture(scope="module")
def sse_app(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    folder = tmp_path_factory.mktemp("sse-clients")
    env = isolated_env(mongo_url, folder, "sseclients", STREAMING_PING_S="0.2", STREAMING_TIMEOUT="3000",
                       STREAMING_RATE_LIMIT="100000")
    with AppServer(env, log_dir=folder, factory="tests.support.stream_app:build") as app:
        yield app


def serve_module(route: Route) -> None:
    """A file of the library's ESM build; an import without extension gets `.js` added."""
    name = route.request.url.split(MODULES, 1)[1].split("?", 1)[0]
    path = (FES_ESM / name).resolve()
    if path.suffix != ".js":
        path = path.with_name(path.name + ".js")
    if FES_ESM.resolve() not in path.parents or not path.is_file():
        route.fulfill(status=404, body="not found")
        return
    route.fulfill(status=200, content_type="text/javascript; charset=utf-8", body=path.read_text(encoding="utf-8"))


def open_clients_page(app: AppServer, new_page: Callable[..., PageProbe], with_fes: bool) -> tuple[PageProbe, Page]:
    probe = new_page()
    page = probe.page
    html = page_html(with_fes)
    page.route(f"{app.url}{PAGE}", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=html))
    page.route(f"{app.url}{MODULES}**", serve_module)
    page.goto(f"{app.url}{PAGE}")
    page.wait_for_function("() => window.clientsReady === true")
    if with_fes:
        page.wait_for_function("() => window.fesReady === true")
    return probe, page


@pytest.fixture
def clients_page(sse_app: AppServer, new_page: Callable[..., PageProbe]) -> Iterator[Page]:
    """The page with EventSource and raw reads only (no npm package needed)."""
    probe, page = open_clients_page(sse_app, new_page, with_fes=False)
    yield page
    assert probe.errors == [], f"uncaught exceptions in the page: {probe.errors}"


@pytest.fixture
def fes_page(sse_app: AppServer, new_page: Callable[..., PageProbe]) -> Iterator[Page]:
    """The page with fetch-event-source too; skips, saying why, when npm has not installed it
    (fails under CI=true)."""
    need(missing_fetch_event_source())
    probe, page = open_clients_page(sse_app, new_page, with_fes=True)
    yield page
    assert probe.errors == [], f"uncaught exceptions in the page: {probe.errors}"


# -- checks -------------------------------------------------------------------------------------


def frames_in(raw: str) -> list[tuple[str, str]]:
    """(event type, id) of every frame in raw SSE bytes, and the keep-alive count as ('ping', '')."""
    found: list[tuple[str, str]] = []
    for block in re.split(r"\n\n", raw):
        lines = block.split("\n")
        found += [("ping", "") for line in lines if line == ": ping"]
        kind = next((line[7:] for line in lines if line.startswith("event: ")), None)
        ident = next((line[4:] for line in lines if line.startswith("id: ")), "")
        if kind:
            found.append((kind, ident))
    return found


def check_delivered(events: list[dict[str, Any]]) -> list[int]:
    """Every event is ours and valid; returns the seqs of their ids."""
    assert events, "nothing delivered"
    seqs = []
    for event in events:
        assert event["type"] in EIGHT, f"an event that is not ours: {event}"
        assert event["data"] != "", f"an empty-data message: {event}"
        json.loads(event["data"])  # raises on anything that is not JSON
        token, _, seq = event["id"].rpartition("-")
        assert token and seq.isdigit(), f"an id that is not <token>-<seq>: {event}"
        seqs.append(int(seq))
    assert len({e["id"].rpartition("-")[0] for e in events}) == 1, "ids of two streams"
    return seqs


def check_complete(events: list[dict[str, Any]]) -> None:
    seqs = check_delivered(events)
    assert seqs == list(range(1, len(seqs) + 1)), f"frames missing or repeated: {seqs}"
    assert events[0]["type"] == "connected" and events[-1]["type"] == "close"


def count(events: list[dict[str, Any]], kind: str) -> int:
    return sum(1 for e in events if e["type"] == kind)


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", STREAMS)
def test_fetch_event_source_sees_only_our_events(sse_app: AppServer, fes_page: Page, path: str) -> None:
    run = fes_page.evaluate("url => window.runFetchEventSource(url)", f"{sse_app.url}{path}")
    assert run["outcome"] == "aborted-at-close", run
    assert run["opens"] == 1 and run["errors"] == [], f"the README's onopen refused our stream: {run}"
    check_complete(run["events"])
    sent = frames_in(run["raw"])  # the very bytes the library parsed
    assert [(e["type"], e["id"]) for e in run["events"]] == [f for f in sent if f[0] != "ping"]
    assert count(run["events"], "progress") == sum(1 for kind, _ in sent if kind == "progress")
    if path == SLOW:
        assert sum(1 for kind, _ in sent if kind == "ping") >= 4, "no keep-alives between events: the test proves nothing"
        assert count(run["events"], "progress") >= 3
        assert json.loads(run["events"][-2]["data"])["code"] == "STREAM_TIMEOUT"
    else:
        assert count(run["events"], "text") == 7


@pytest.mark.parametrize("path", STREAMS)
def test_event_source_sees_only_our_events(sse_app: AppServer, clients_page: Page, path: str) -> None:
    url = f"{sse_app.url}{path}"
    run, raw = clients_page.evaluate(
        "([url, types]) => Promise.all([window.runEventSource(url, types), window.rawStream(url)])", [url, EIGHT])
    assert run["outcome"] == "closed", run
    assert run["connectionErrors"] == 0, run
    check_complete(run["events"])
    assert not any(e["type"] == "message" for e in run["events"])
    # Every frame of this stream arrived (ids 1..N, `close` last), so its progress frames did.
    progress = [json.loads(e["data"])["count"] for e in run["events"] if e["type"] == "progress"]
    # The same URL read raw, at the same time: keep-alives flowed between events.
    assert raw["status"] == 200 and raw["type"] == "text/event-stream"
    sent = frames_in(raw["text"])
    if path == SLOW:
        assert progress == list(range(len(progress))) and len(progress) >= 3, progress
        assert sum(1 for kind, _ in sent if kind == "ping") >= 4, "no keep-alives between events: the test proves nothing"
        assert json.loads(run["events"][-2]["data"])["code"] == "STREAM_TIMEOUT"
    else:
        assert progress == [7] and count(run["events"], "text") == 7
        assert [e["type"] for e in run["events"]] == [kind for kind, _ in sent if kind != "ping"]


def test_the_checks_catch_what_they_are_for(sse_app: AppServer, fes_page: Page) -> None:
    """A TEST DOUBLE (page.route) answers with a real slow stream's bytes, changed to the forms
    we no longer send: keep-alives ended by a blank line (`: ping\\n\\n`), and a Content-Type
    with a charset. fetch-event-source then delivers empty messages, and the README's onopen
    refuses the stream and reopens it: the checks above would fail on either."""
    page = fes_page
    real = page.evaluate("url => window.rawStream(url)", f"{sse_app.url}{SLOW}")
    assert ": ping\n" in real["text"]
    old_pings = real["text"].replace(": ping\n", ": ping\n\n")

    page.route(f"{sse_app.url}/double/old-pings", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"}, body=old_pings))
    run = page.evaluate("url => window.runFetchEventSource(url, {plainFetch: true})", f"{sse_app.url}/double/old-pings")
    assert run["opens"] == 1
    empty = [e for e in run["events"] if e["data"] == ""]
    assert empty, "fetch-event-source did not deliver the old keep-alives: the check would be vacuous"
    with pytest.raises(AssertionError, match="an event that is not ours|an empty-data message"):
        check_delivered(run["events"])

    page.route(f"{sse_app.url}/double/charset", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream; charset=utf-8"}, body=real["text"]))
    run = page.evaluate("url => window.runFetchEventSource(url, {plainFetch: true})", f"{sse_app.url}/double/charset")
    assert run["opens"] > 1 and run["outcome"] == "gave-up" and run["events"] == [], run
