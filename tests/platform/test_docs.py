"""`/openapi.json` is valid OpenAPI 3.1, built from the typed contracts, and `/docs` renders
it. Before the contracts (each route wrote its own dicts): five path templates declared no
path parameters, admin routes had no security scheme, the upload and catalog bodies were
undocumented, and 400/404/413/415 were missing from several operations."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from app.streams.schema import EVENT_MODELS, RESULT_BY_TYPE
from tests.support.server import AppServer


@pytest.fixture(scope="module")
def spec(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    log_dir = tmp_path_factory.mktemp("docs")
    env = {"MONGODB_URL": mongo_url, "DATA_DIR": str(log_dir / "data"), "ADMIN_TOKEN": "docs-admin"}
    with AppServer(env, log_dir=log_dir) as server:
        with httpx.Client(timeout=15) as client:
            document = client.get(f"{server.url}/openapi.json").json()
            page = client.get(f"{server.url}/docs")
        assert page.status_code == 200 and "/openapi.json" in page.text
        yield document


def test_the_document_is_valid_openapi(spec: dict) -> None:
    errors = [str(e).splitlines()[0] for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert errors == []
    assert spec["openapi"] == "3.1.0"


def test_every_path_template_declares_its_parameters(spec: dict) -> None:
    for path, item in spec["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, op in item.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)


def test_admin_routes_name_the_bearer_scheme(spec: dict) -> None:
    scheme = spec["components"]["securitySchemes"]["adminToken"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    admin = [(m, p) for p, item in spec["paths"].items() for m, op in item.items() if op.get("security")]
    assert ("put", "/api/catalog/products") in admin and ("delete", "/api/catalog/products/{sku}") in admin
    assert ("post", "/api/context/upload-file/stream") in admin and ("get", "/api/context/files") in admin
    for method, path in admin:
        responses = spec["paths"][path][method]["responses"]
        assert {"401", "403", "503"} <= set(responses), (method, path)
    assert not spec["paths"]["/api/catalog/stats"]["get"].get("security")


def test_bodies_are_documented(spec: dict) -> None:
    upload = spec["paths"]["/api/context/upload-file/stream"]["post"]["requestBody"]["content"]
    form = spec["components"]["schemas"]["UploadForm"]
    assert "multipart/form-data" in upload and form["required"] == ["file"]
    assert form["properties"]["file"]["format"] == "binary"
    put = spec["paths"]["/api/catalog/products"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CatalogPut"}
    row = spec["components"]["schemas"]["ProductRow"]
    assert row["required"] == ["sku", "title"]
    assert spec["components"]["schemas"]["CatalogPut"]["properties"]["products"]["maxItems"] == 1000
    aza = spec["components"]["schemas"]["AzaBody"]
    assert aza["properties"]["limit"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/aza/search/stream", {"200", "204", "400", "404", "408", "410", "413", "415", "429", "503"}),
        ("post", "/aza/search", {"200", "400", "408", "413", "415", "429", "502", "503", "504"}),
        ("get", "/api/products/search/stream", {"200", "204", "400", "404", "410", "429", "503"}),
        ("post", "/api/context/upload-file/stream", {"200", "400", "401", "403", "408", "413", "415", "422",
                                                     "429", "503"}),
        ("put", "/api/catalog/products", {"200", "400", "401", "403", "408", "413", "415", "503"}),
        ("delete", "/api/catalog/products/{sku}", {"204", "401", "403", "404", "503"}),
        ("get", "/api/context/files/{file_id}", {"200", "400", "401", "403", "404", "503"}),
        ("get", "/api/chat/conversations/{conversation_id}", {"200", "404", "503"}),
        ("post", "/api/streams/{stream_id}/stop", {"200", "400", "401", "404", "503"}),
    ],
)
def test_operations_list_the_statuses_they_answer(spec: dict, method: str, path: str, statuses: set) -> None:
    assert statuses <= set(spec["paths"][path][method]["responses"])


def test_streams_document_each_event(spec: dict) -> None:
    stream = spec["paths"]["/t/echo/stream"]["get"]
    assert stream["summary"] == "Echo tricky payloads"
    assert [p["name"] for p in stream["parameters"]] == ["n", "Last-Event-ID"]
    assert stream["parameters"][0]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 3}
    assert stream["x-events"][0] == "connected" and stream["x-events"][-1] == "close"
    items = stream["responses"]["200"]["content"]["text/event-stream"]["schema"]["oneOf"]
    kinds = {item["properties"]["event"]["const"]: item["properties"]["data"] for item in items}
    assert set(kinds) == {"connected", "progress", "text", "results", "complete", "error", "close"}  # no audio
    assert kinds["results"]["contentSchema"] == {"$ref": "#/components/schemas/SuggestionsResult"}
    assert all(d["contentMediaType"] == "application/json" for d in kinds.values())
    chat = spec["paths"]["/api/chat/query/stream"]["post"]["responses"]["200"]["content"]["text/event-stream"]
    assert {i["properties"]["event"]["const"] for i in chat["schema"]["oneOf"]} == set(EVENT_MODELS)
    schemas = spec["components"]["schemas"]
    for model in [*EVENT_MODELS.values(), *RESULT_BY_TYPE.values()]:
        assert model.__name__ in schemas


def test_stream_responses_show_their_events_in_order(spec: dict) -> None:
    """Explorers do not read the per-event schema as a sequence: the 200's description lists the
    events in order with their payload schemas, and its example is a stream on the wire."""
    stream = spec["paths"]["/api/chat/query/stream"]["post"]
    ok = stream["responses"]["200"]
    lines = [line for line in ok["description"].splitlines() if line.startswith("1. ")]
    assert lines[0] == "1. `connected`: `ConnectedEvent`" and lines[-1] == "1. `close`: `CloseEvent`"
    assert "1. `results` `product_cards` (when there is one): `ProductCardsResult`" in lines
    assert "1. `text` (any number): `TextEvent`" in lines
    assert len(lines) == len(stream["x-events"]) and "`ErrorEvent`" in ok["description"]
    example = ok["content"]["text/event-stream"]["example"]
    kinds = re.findall(r"^event: (\w+)$", example, flags=re.MULTILINE)
    assert kinds == [entry.rstrip("*?").split(":")[0] for entry in stream["x-events"]]
    assert '"type":"sources"' in example and "retry: 3000" in example


def test_tags_are_described_streams_first(spec: dict) -> None:
    names = [tag["name"] for tag in spec["tags"]]
    assert names[0] == "streams" and all(tag["description"] for tag in spec["tags"])
    used = {tag for item in spec["paths"].values() for op in item.values() for tag in op.get("tags", ())}
    assert used - {"test"} <= set(names)


def test_query_lists_are_comma_separated(spec: dict) -> None:
    params = {p["name"]: p for p in spec["paths"]["/api/products/search"]["get"]["parameters"]}
    assert params["color"]["style"] == "form" and params["color"]["explode"] is False
    assert params["q"]["required"] is True and params["limit"]["required"] is False


def test_docs_page_works_offline(app_server: Callable[..., AppServer]) -> None:
    server = app_server()
    page = httpx.get(f"{server.url}/docs", timeout=10)
    assert page.status_code == 200
    assert "https://" not in page.text and "http://" not in page.text.replace("http://www.w3.org", "")
