"""No input makes a 500: every hostile input the issue lists gets a 400/413/415 JSON refusal
naming the field, before any stream starts (real uvicorn, real nx-27017, the demo catalog).

Each of these answered 500 (or worse) before the typed contracts (app/contracts/): Unicode
digits and integers of thousands of digits in numbers, lone surrogates in strings (the Aza
stream answered 200 and then hung), JSON nested thousands deep (`RecursionError`), NaN,
Infinity, 1e400 and 2^63 in catalog attributes (a 500 after storing the good rows),
`Content-Type: text/plain` accepted on JSON routes, bidi controls in upload file names.
Every request here is made on a fresh connection: after a 500 uvicorn drops the connection,
which would hide the next answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.server import AppServer, isolated_env, wait_for_search
from tests.support.sse import read_stream

ADMIN = {"Authorization": "Bearer hostile-admin"}
JSON = {"Content-Type": "application/json"}
JSON_ROUTES = ("/aza/search", "/aza/search/stream", "/api/chat/query", "/api/chat/query/stream",
               "/api/troika/intelligent-chat", "/api/troika/intelligent-chat/stream")
# A valid body for each JSON route (the field the text goes into).
VALID = {"/aza/search": "query", "/api/chat/query": "query", "/api/troika/intelligent-chat": "message"}


def _body_field(path: str) -> str:
    return VALID[path.removesuffix("/stream")]


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("hostile")
    env = isolated_env(mongo_url, log_dir, "hostile", DEMO_CATALOG_SIZE="60", ADMIN_TOKEN="hostile-admin",
                       STREAMING_RATE_LIMIT="100000", TTS_ENGINE="off")
    with AppServer(env, log_dir=log_dir) as app:
        wait_for_search(app, min_vectors=0)
        yield app


def call(server: AppServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request on its own connection, under a timeout."""
    with httpx.Client(base_url=server.url, timeout=20) as client:
        return client.request(method, path, **kwargs)


def refused(response: httpx.Response, status: int, field: str, code: str = "INVALID_PARAMETERS") -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["field"] == field, body
    assert isinstance(body["error"], str) and body["error"]
    return body


# -- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/products/search", "/api/products/search/stream"])
@pytest.mark.parametrize(
    ("name", "value"),
    [("limit", "\u00b2"), ("limit", "\u0663"), ("limit", "1" * 4400), ("limit", "-" + "9" * 5000),
     ("min_price", "\u0663\u0660\u0660"), ("max_price", "1" * 4400), ("limit", "10.0"), ("limit", " 7 ")],
)
def test_query_integers_are_ascii_digits(server: AppServer, path: str, name: str, value: str) -> None:
    params = {"q": "saree", name: value}
    if value == " 7 ":  # surrounding spaces are trimmed, as before
        assert call(server, "GET", path, params=params).status_code == 200
        return
    refused(call(server, "GET", path, params=params), 400, name)


def test_context_file_paging_numbers(server: AppServer) -> None:
    for value in ("\u00b2", "1" * 4400):
        response = call(server, "GET", "/api/context/files/" + "0" * 32, params={"limit": value}, headers=ADMIN)
        assert response.status_code in (400, 404), response.text  # 404: no such file, read first
        if response.status_code == 400:
            refused(response, 400, "limit")


@pytest.mark.parametrize("seq", [b"\xc2\xb2", b"\xb2", b"\xd9\xa3", b"1" * 5000])
def test_last_event_id_numbers(server: AppServer, seq: bytes) -> None:
    response = call(server, "GET", "/api/products/search/stream", params={"q": "saree"},
                    headers={"Last-Event-ID": b"0" * 32 + b"-" + seq})
    refused(response, 400, "Last-Event-ID")


@pytest.mark.parametrize("budget", ["\u00b2", "\u0663\u0660\u0660\u0660", "1" * 5000, "1e400", 1e300, -1, True])
def test_customer_budget(server: AppServer, budget: Any) -> None:
    body = {"message": "red saree", "customer": {"budget": budget}}
    for path in ("/api/troika/intelligent-chat", "/api/troika/intelligent-chat/stream"):
        refused(call(server, "POST", path, json=body), 400, "customer.budget")


def test_customer_budget_in_digits_and_commas_still_reads(server: AppServer) -> None:
    body = {"message": "red saree", "customer": {"budget": "20,000"}}
    response = call(server, "POST", "/api/troika/intelligent-chat", json=body)
    assert response.status_code == 200, response.text


def test_integers_of_thousands_of_digits_in_json(server: AppServer) -> None:
    content = b'{"query": "saree", "limit": ' + b"1" * 5000 + b"}"
    for path in ("/aza/search", "/aza/search/stream"):
        response = call(server, "POST", path, content=content, headers=JSON)
        assert response.status_code == 400, response.text
        assert response.json()["field"] in ("limit", "body")


# -- lone surrogates --------------------------------------------------------------------------


SURROGATE = b'"red \\ud800 kurta"'


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_lone_surrogate_in_the_text(server: AppServer, path: str) -> None:
    field = _body_field(path)
    content = b'{"' + field.encode() + b'": ' + SURROGATE + b"}"
    refused(call(server, "POST", path, content=content, headers=JSON), 400, field)


@pytest.mark.parametrize("path", ["/api/chat/query", "/api/troika/intelligent-chat/stream"])
def test_lone_surrogate_in_the_session_id(server: AppServer, path: str) -> None:
    field = _body_field(path)
    content = b'{"' + field.encode() + b'": "red kurta", "sessionId": "\\udc00abc"}'
    refused(call(server, "POST", path, content=content, headers=JSON), 400, "sessionId")


def test_lone_surrogate_deep_in_the_customer(server: AppServer) -> None:
    content = b'{"message": "hi", "customer": {"preferences": {"colors": ["red", "\\ud83d"]}}}'
    refused(call(server, "POST", "/api/troika/intelligent-chat", content=content, headers=JSON), 400,
            "customer.preferences.colors.1")


def test_surrogate_pairs_are_fine(server: AppServer) -> None:
    content = b'{"query": "red kurta \\ud83d\\udc57"}'  # a correct pair: the dress emoji
    assert call(server, "POST", "/aza/search", content=content, headers=JSON).status_code == 200


async def test_aza_stream_with_a_lone_surrogate_is_refused_before_the_stream(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/aza/search/stream", method="POST", timeout=10,
                            content=b'{"query": ' + SURROGATE + b"}", headers=JSON)
    assert got.status == 400 and not got.events
    # and the server still answers (it hung before)
    assert call(server, "GET", "/healthz").status_code in (200, 503)


# -- nesting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_deep_nesting(server: AppServer, path: str) -> None:
    content = b'{"' + _body_field(path).encode() + b'":' + b"[" * 3000 + b"]" * 3000 + b"}"
    refused(call(server, "POST", path, content=content, headers=JSON), 400, "body")


def test_deep_nesting_in_a_catalog_put(server: AppServer) -> None:
    content = b'{"products": [{"sku": "N-1", "title": "x", "attributes": ' + b"[" * 3000 + b"]" * 3000 + b"}]}"
    refused(call(server, "PUT", "/api/catalog/products", content=content, headers={**JSON, **ADMIN}), 400, "body")


# -- the catalog ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [(b'{"x": NaN}', "attributes.x"), (b'{"x": Infinity}', "attributes.x"), (b'{"x": -Infinity}', "attributes.x"),
     (b'{"x": 1e400}', "attributes.x"), (b'{"x": 9223372036854775808}', "attributes.x"),
     (b'{"x": -9223372036854775809}', "attributes.x"), (b'{"$set": 1}', "attributes.$set")],
)
def test_catalog_rows_with_unstorable_numbers_are_refused_per_row(server: AppServer, raw: bytes, field: str) -> None:
    tag = str(abs(hash(raw)) % 100000)
    content = (b'{"products": [{"sku": "GOOD-' + tag.encode() + b'", "title": "Good row"},'
               b' {"sku": "BAD-' + tag.encode() + b'", "title": "Bad row", "attributes": ' + raw + b"}]}")
    response = call(server, "PUT", "/api/catalog/products", content=content, headers={**JSON, **ADMIN})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["upserted"] == 1
    [error] = body["errors"]
    assert error["index"] == 1 and error["sku"] == f"BAD-{tag}" and error["field"] == f"products.1.{field}"
    assert error["message"]
    stats = call(server, "GET", "/api/products/search", params={"q": f"GOOD-{tag}"}).json()
    assert stats["status"] == "ok"


def test_catalog_price_nan_and_big_numbers(server: AppServer) -> None:
    content = (b'{"products": [{"sku": "P-1", "title": "ok", "price": 10},'
               b' {"sku": "P-2", "title": "nan", "price": NaN},'
               b' {"sku": "P-3", "title": "big", "rating": 1e400},'
               b' {"sku": "P-4", "title": "neg", "price": -1}]}')
    response = call(server, "PUT", "/api/catalog/products", content=content, headers={**JSON, **ADMIN})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["upserted"] == 1
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "products.1.price"), (2, "products.2.rating"), (3, "products.3.price")]


def test_catalog_lone_surrogates_in_title_and_sku(server: AppServer) -> None:
    content = (b'{"products": [{"sku": "S-OK", "title": "fine"}, {"sku": "S-1", "title": "bad \\ud800"},'
               b' {"sku": "S-\\udfff", "title": "bad sku"}]}')
    response = call(server, "PUT", "/api/catalog/products", content=content, headers={**JSON, **ADMIN})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["upserted"] == 1
    assert [(e["index"], e["field"], e.get("sku")) for e in body["errors"]] == [
        (1, "products.1.title", "S-1"), (2, "products.2.sku", None)]


def test_catalog_with_no_good_row_is_a_400_with_the_row_errors(server: AppServer) -> None:
    content = b'{"products": [{"sku": "", "title": "no sku"}, {"sku": "Z", "title": "z", "price": Infinity}]}'
    response = call(server, "PUT", "/api/catalog/products", content=content, headers={**JSON, **ADMIN})
    body = refused(response, 400, "products.0.sku")
    assert body["upserted"] == 0 and [e["index"] for e in body["errors"]] == [0, 1]


# -- media types ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_json_routes_take_json_only(server: AppServer, path: str, content_type: str | None) -> None:
    content = b'{"' + _body_field(path).encode() + b'": "red kurta"}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = call(server, "POST", path, content=content, headers=headers)
    refused(response, 415, "Content-Type", "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.storestream+json",
                                          "Application/JSON"])
def test_json_and_its_suffix_and_charset_are_fine(server: AppServer, content_type: str) -> None:
    response = call(server, "POST", "/aza/search", content=b'{"query": "red kurta"}',
                    headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text


def test_catalog_put_takes_json_only(server: AppServer) -> None:
    response = call(server, "PUT", "/api/catalog/products", content=b'{"products": [{"sku": "T", "title": "t"}]}',
                    headers={"Content-Type": "text/plain", **ADMIN})
    refused(response, 415, "Content-Type", "UNSUPPORTED_MEDIA_TYPE")


# -- upload file names ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["invoice\u202etxt.md", "a\u2066b.txt", "zero\u200bwidth.txt", "bom\ufeff.txt",
                                  "soft\u00adhyphen.txt", "line\u2028sep.txt", "rlm\u200f.txt"])
def test_upload_file_names_with_format_characters_are_refused(server: AppServer, name: str) -> None:
    files = {"file": (name, b"Returns are accepted within 30 days.", "text/plain")}
    for path in ("/api/context/upload-file", "/api/context/upload-file/stream"):
        refused(call(server, "POST", path, files=files, headers=ADMIN), 400, "file", "BAD_FILE_NAME")


def test_upload_title_with_bidi_controls_is_refused(server: AppServer) -> None:
    files = {"file": ("policy.txt", b"Returns are accepted within 30 days.", "text/plain")}
    response = call(server, "POST", "/api/context/upload-file", files=files, data={"title": "gnp.\u202eexe"},
                    headers=ADMIN)
    refused(response, 400, "title", "BAD_MULTIPART")


def test_persian_and_emoji_file_names_keep_their_joiners(server: AppServer) -> None:
    # ZWNJ (U+200C) is part of Persian spelling, ZWJ (U+200D) of emoji sequences: both are allowed.
    for name in ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt", "team \U0001f469\u200d\U0001f4bb.md"):
        files = {"file": (name, f"Notes for {name}: returns within 30 days.".encode(), "text/plain")}
        response = call(server, "POST", "/api/context/upload-file", files=files, headers=ADMIN)
        assert response.status_code == 200, response.text
        assert response.json()["file_name"] == name


# -- surrogates that are not JSON: query strings and multipart ---------------------------------


def test_a_surrogate_in_a_query_string_is_no_500(server: AppServer) -> None:
    # UTF-8 of U+D800 is invalid UTF-8: percent-decoding makes it U+FFFD, never a lone surrogate.
    for path in ("/api/products/search?q=red%ED%A0%80kurta", "/api/chat/stream?message=hi%ED%A0%80"):
        response = call(server, "GET", path)
        assert response.status_code == 200, response.text


def test_a_surrogate_in_multipart_fields_and_names_is_refused(server: AppServer) -> None:
    boundary = "b0undary"

    def body(name: bytes, title: bytes) -> bytes:
        return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n".encode() + title
                + f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"".encode() + name
                + b"\"\r\nContent-Type: text/plain\r\n\r\nReturns within 30 days.\r\n" + f"--{boundary}--\r\n".encode())
    headers = {**ADMIN, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = call(server, "POST", "/api/context/upload-file", content=body(b"a.txt", b"bad \xed\xa0\x80"),
                    headers=headers)
    refused(response, 400, "title", "BAD_MULTIPART")
    response = call(server, "POST", "/api/context/upload-file", content=body(b"a\xed\xa0\x80.txt", b"ok"),
                    headers=headers)
    refused(response, 400, "file", "BAD_FILE_NAME")
