"""The API explorer over HTTP (no browser): `/docs` and the few files it loads are served by the
app with a Content-Security-Policy, nothing else of the explorer's package is; and every example
request in `/openapi.json` (what "Try it out" fills in) works against the demo catalog."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.support.server import AppServer
from tests.web.conftest import ADMIN_TOKEN

# Ids the server makes at run time: their examples show the form, and name nothing (404).
RUNTIME_IDS = {"conversation_id", "file_id", "stream_id"}
# Writes before the reads and deletes whose examples name what they wrote (the product
# `SS-EXAMPLE-1`, the session `demo-shopper`, the files of `demo-store`).
METHOD_ORDER = {"put": 0, "post": 1, "get": 2, "delete": 3}
UPLOAD = ("returns-policy.txt", b"Returns are accepted within 30 days of delivery, unworn and with tags.\n",
          "text/plain")


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = [(method, path, op) for path, item in spec["paths"].items() for method, op in item.items()]
    return sorted(ops, key=lambda o: (METHOD_ORDER[o[0]], o[1]))


def request_of(path: str, op: dict[str, Any]) -> dict[str, Any]:
    """The request "Try it out" sends as filled in: every parameter that has an example, the
    body's example (and, for an upload, a small text file)."""
    params, headers, url = {}, {}, path
    for p in op.get("parameters", []):
        if "example" not in p:
            continue
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", str(p["example"]))
        elif p["in"] == "query":
            params[p["name"]] = p["example"]
        else:
            headers[p["name"]] = p["example"]
    if op.get("security"):
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    request: dict[str, Any] = {"url": url, "params": params, "headers": headers}
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        request["json"] = content["application/json"]["example"]
    elif "multipart/form-data" in content:
        request["data"] = content["multipart/form-data"]["example"]
        request["files"] = {"file": UPLOAD}
    return request


def events(body: str) -> list[str]:
    return re.findall(r"^event: (\w+)$", body, flags=re.MULTILINE)


def test_every_request_has_an_example(web_app: AppServer) -> None:
    spec = httpx.get(f"{web_app.url}/openapi.json", timeout=15).json()
    missing = []
    for method, path, op in operations(spec):
        # Last-Event-ID is for resuming a stream this caller received: no example on purpose.
        params = [p for p in op.get("parameters", []) if not (p["name"] == "Last-Event-ID" and not p["required"])]
        missing += [f"{method} {path}: {p['name']}" for p in params if p["required"] and "example" not in p]
        if params and not any("example" in p for p in params):
            missing.append(f"{method} {path}: no parameter example")
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            if "example" not in content:
                missing.append(f"{method} {path}: {media} body")
    assert not missing


def test_every_example_works_against_the_demo(web_app: AppServer) -> None:
    spec = httpx.get(f"{web_app.url}/openapi.json", timeout=15).json()
    answers: dict[str, httpx.Response] = {}
    with httpx.Client(base_url=web_app.url, timeout=30) as client:
        for method, path, op in operations(spec):
            response = client.request(method.upper(), **request_of(path, op))
            answers[f"{method} {path}"] = response
            names = set(re.findall(r"{(\w+)}", path))
            if names & RUNTIME_IDS:
                assert response.status_code == 404, (method, path, response.text)
                continue
            assert 200 <= response.status_code < 300, (method, path, response.status_code, response.text[:500])
            if response.headers.get("content-type") == "text/event-stream" and path.startswith("/api/ai-sdk/"):
                parts = re.findall(r"^data: (.*)$", response.text, flags=re.MULTILINE)  # the AI SDK's parts
                assert parts[0].startswith('{"type":"start"') and parts[-1] == "[DONE]", (path, parts[:3])
                assert '"type":"error"' not in response.text and '"type":"text-delta"' in response.text, path
            elif response.headers.get("content-type") == "text/event-stream" and path.startswith("/api/ag-ui/"):
                runs = [json.loads(line)["type"] for line in re.findall(r"^data: (.*)$", response.text, flags=re.MULTILINE)]
                assert runs[0] == "RUN_STARTED" and runs[-1] == "RUN_FINISHED" and "RUN_ERROR" not in runs, (path, runs)
                assert "TEXT_MESSAGE_CONTENT" in runs, (path, runs)
            elif response.headers.get("content-type") == "text/event-stream":
                kinds = events(response.text)
                assert kinds[0] == "connected" and kinds[-1] == "close" and "error" not in kinds, (path, kinds)
        # The searches find something in the demo catalog (what a newcomer trying them sees).
        assert answers["get /api/products/search"].json()["products"]
        assert answers["post /aza/search"].json()["products"]
        assert '"type":"product_cards"' in answers["get /api/products/search/stream"].text
        # What the examples wrote is read back by the examples that name it, then removed.
        assert answers["get /api/troika/sessions/{session_id}"].json()["session_id"] == "demo-shopper"
        assert answers["get /api/ai-sdk/chat/{id}/stream"].status_code == 204  # its chat's stream has ended
        assert answers["delete /api/catalog/products/{sku}"].status_code == 204
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        listed = answers["get /api/context/files"].json()["files"]
        assert {f["title"] for f in listed} == {"Returns policy"}
        for file in listed:
            assert client.delete(f"/api/context/files/{file['id']}", headers=admin).status_code == 200


def test_the_explorer_is_served_by_the_app(web_app: AppServer) -> None:
    with httpx.Client(base_url=web_app.url, timeout=15) as client:
        page = client.get("/docs")
        assets = {name: client.get(f"/docs/static/{name}") for name in
                  ("swagger-ui-bundle.js", "swagger-ui.css", "docs.js", "favicon-32x32.png")}
        others = [client.get(f"/docs/static/{name}").status_code for name in
                  ("swagger-editor-bundle.js", "index.css", "../api_docs.py", "docs.html")]
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "swagger-ui-bundle.js" in page.text, "the explorer's package (swagger-ui-py) is not installed"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert src.startswith("/docs/static/"), src
    assert all(a.status_code == 200 for a in assets.values()), {n: a.status_code for n, a in assets.items()}
    assert assets["swagger-ui-bundle.js"].headers["content-type"] == "text/javascript; charset=utf-8"
    assert assets["swagger-ui.css"].headers["content-type"] == "text/css; charset=utf-8"
    assert "SwaggerUIBundle" in assets["swagger-ui-bundle.js"].text
    assert others == [404, 404, 404, 404]
