"""Every bad upload gets its exact 4xx JSON body before any stream starts, and leaves nothing
in the upload directory. The bad files are made here, in a temp dir. Real uvicorn, real
nx-27017; no sentence model (refusals never reach it)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ingest import documents as d
from tests.ingest.documents import ADMIN
from tests.support.server import AppServer, isolated_env
from tests.support.sse import read_stream

LIMIT = 1_000_000
ACCEPTED = ".txt, .md, .html, .csv, .json, .pdf, .docx"


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("refusals")
    env = isolated_env(mongo_url, log_dir, "refusals", ADMIN_TOKEN=d.ADMIN_TOKEN,
                       UPLOAD_MAX_BYTES=str(LIMIT), STREAMING_RATE_LIMIT="100000")
    with AppServer(env, log_dir=log_dir) as app:
        app.uploads = log_dir / "data" / "uploads"  # type: ignore[attr-defined]
        yield app


def leftovers(server: AppServer) -> list[str]:
    folder: Path = server.uploads  # type: ignore[attr-defined]
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def body(status: int, code: str, error: str, field: str | None = "file") -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "error": error, "code": code}
    if field is not None:
        out["field"] = field
    return out


UTF8_PREFIX = "naïve café – déjà vu. ".encode() * 20  # real UTF-8, then broken sequences


def _pdf() -> bytes:
    return d.pdf_with_text([["Refund policy: 30 days.", "Exchanges within 7 days."]])


# name -> (upload file name, content factory, expected status, code, error text)
CORPUS: dict[str, tuple[str, Any, int, str, str]] = {
    "truncated pdf": ("cut.pdf", lambda tmp: _pdf()[: len(_pdf()) // 2], 422, "BROKEN_PDF",
                      "cut.pdf is truncated or damaged (no end-of-file marker)"),
    "encrypted pdf": ("locked.pdf", lambda tmp: d.encrypted_pdf(_pdf()), 422, "ENCRYPTED_PDF",
                      "locked.pdf is password-protected; upload an unprotected copy"),
    "pdf without pages": ("empty.pdf", lambda tmp: d.pdf_with_text([]), 422, "BROKEN_PDF",
                          "empty.pdf has no pages"),
    "zip bomb docx": ("bomb.docx", lambda tmp: d.zip_bomb_docx(tmp), 422, "ZIP_BOMB",
                      "bomb.docx: word/media/padding.bin inflates more than 100x (a zip bomb)"),
    "zip that is not a docx": ("notes.docx", lambda tmp: d.zip_without_document(), 422, "BROKEN_DOCX",
                               "notes.docx is a ZIP file but not a Word document"),
    "damaged docx": ("half.docx", lambda tmp: d.docx_with(["Hello"])[:3000], 422, "BROKEN_DOCX",
                     "half.docx is damaged and cannot be read"),
    "binary renamed .txt": ("photo.txt", lambda tmp: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, 415,
                            "UNSUPPORTED_FILE_TYPE",
                            f"photo.txt should be text but its content is a PNG image; accepted types: {ACCEPTED}"),
    "nul bytes in .md": ("notes.md", lambda tmp: b"# Title\x00\x00\x00 and more" * 10, 415, "UNSUPPORTED_FILE_TYPE",
                         f"notes.md should be text but its content is binary data; accepted types: {ACCEPTED}"),
    "pdf named .docx": ("policy.docx", lambda tmp: _pdf(), 415, "UNSUPPORTED_FILE_TYPE",
                        f"policy.docx should be a Word (.docx) document but its content is a PDF document; "
                        f"accepted types: {ACCEPTED}"),
    "text named .pdf": ("policy.pdf", lambda tmp: b"just text", 415, "UNSUPPORTED_FILE_TYPE",
                        f"policy.pdf should be a PDF document but its content is plain text; accepted types: {ACCEPTED}"),
    "invalid utf-8": ("broken.txt", lambda tmp: UTF8_PREFIX + b"\xc3\x28\xe2\x82 fin", 422, "UNDECODABLE_TEXT",
                      f"broken.txt is not valid UTF-8 (invalid byte sequence at byte {len(UTF8_PREFIX)}) "
                      "and no other encoding fits"),
    "empty file": ("empty.txt", lambda tmp: b"", 422, "EMPTY_FILE", "empty.txt is empty (0 bytes)"),
    "only whitespace": ("blank.csv", lambda tmp: b" \r\n\t \n" * 50, 422, "EMPTY_FILE", "blank.csv contains no text"),
    "json that is not json": ("data.json", lambda tmp: b"name,price\nsaree,100\n", 422, "INVALID_JSON",
                              "data.json is not a JSON document (it must be an object or array)"),
    "unaccepted type": ("setup.exe", lambda tmp: b"MZ\x90\x00", 415, "UNSUPPORTED_FILE_TYPE",
                        f".exe files are not accepted; accepted types: {ACCEPTED}"),
    "no extension": ("README", lambda tmp: b"hello", 415, "UNSUPPORTED_FILE_TYPE",
                     f"files without an extension are not accepted; accepted types: {ACCEPTED}"),
}


@pytest.mark.parametrize("case", list(CORPUS))
async def test_bad_file_is_refused_before_the_stream(server: AppServer, case: str, tmp_path: Path) -> None:
    name, make, status, code, error = CORPUS[case]
    content = make(tmp_path)
    got = await read_stream(f"{server.url}/api/context/upload-file/stream", method="POST", headers=ADMIN,
                            files={"file": (name, content, "application/octet-stream")}, timeout=30)
    assert got.status == status and got.events == []
    assert got.headers["content-type"] == "application/json"
    async with httpx.AsyncClient(timeout=30) as client:
        twin = await client.post(f"{server.url}/api/context/upload-file", headers=ADMIN,
                                 files={"file": (name, content, "application/octet-stream")})
    assert twin.status_code == status
    assert twin.json() == body(status, code, error)
    assert leftovers(server) == []


HOSTILE_NAMES = {
    b"../../etc/passwd": "the file name must not contain path parts (/, \\ or ..)",
    b"..\\..\\boot.ini.txt": "the file name must not contain path parts (/, \\ or ..)",
    b"/tmp/x.txt": "the file name must not contain path parts (/, \\ or ..)",
    b"a\x01b.txt": "the file name must not contain control characters",
    b"a%01b.txt": "the file name must not contain control characters",  # how httpx/browsers send \x01
    b"tab\there.txt": "the file name must not contain control characters",
    b"esc\x1b[31m.txt": "the file name must not contain control characters",
    b"\xff\xfe.txt": "the file name is not valid UTF-8",
    b"": "the file name is empty",
    b"x" * 300 + b".txt": "the file name is longer than 255 bytes",
}


@pytest.mark.parametrize("raw_name", list(HOSTILE_NAMES), ids=lambda n: repr(n[:20]))
async def test_hostile_file_names(server: AppServer, raw_name: bytes) -> None:
    content, content_type = d.multipart([("file", raw_name, b"harmless text")])
    async with httpx.AsyncClient(timeout=10) as client:
        got = await client.post(f"{server.url}/api/context/upload-file", headers={**ADMIN, "Content-Type": content_type},
                                content=content)
    assert got.status_code == 400
    assert got.json() == body(400, "BAD_FILE_NAME", HOSTILE_NAMES[raw_name])
    assert leftovers(server) == []


STRUCTURE = {
    "no file part": ([("title", None, b"Only a title")], "NO_FILE",
                     "no file: send it in a part named 'file' with a filename", "file"),
    "two files": ([("file", b"a.txt", b"one"), ("file", b"b.txt", b"two")], "TOO_MANY_FILES",
                  "send exactly one file per upload", "file"),
    "second file under another name": ([("file", b"a.txt", b"one"), ("extra", b"b.txt", b"two")],
                                       "TOO_MANY_FILES", "send exactly one file per upload", "file"),
    "file part without a file name": ([("file", None, b"text")], "BAD_MULTIPART",
                                      "the 'file' part must carry a file name (filename=...)", "file"),
    "unknown field": ([("file", b"a.txt", b"one"), ("owner", None, b"me")], "BAD_MULTIPART",
                      "unexpected form field 'owner'; fields: file, chatbotId, title", "owner"),
    "bad chatbotId": ([("file", b"a.txt", b"one"), ("chatbotId", None, b"bot 1; drop")], "BAD_MULTIPART",
                      "chatbotId takes 1-128 letters, digits, '_', '.', ':' or '-'", "chatbotId"),
}


@pytest.mark.parametrize("case", list(STRUCTURE))
async def test_malformed_requests(server: AppServer, case: str) -> None:
    parts, code, error, field = STRUCTURE[case]
    content, content_type = d.multipart(parts)
    async with httpx.AsyncClient(timeout=10) as client:
        got = await client.post(f"{server.url}/api/context/upload-file", headers={**ADMIN, "Content-Type": content_type},
                                content=content)
    assert (got.status_code, got.json()) == (400, body(400, code, error, field))
    assert leftovers(server) == []


async def test_body_cut_short_and_not_multipart(server: AppServer) -> None:
    content, content_type = d.multipart([("file", b"a.txt", b"some text " * 100)])
    async with httpx.AsyncClient(timeout=10) as client:
        cut = await client.post(f"{server.url}/api/context/upload-file",
                                headers={**ADMIN, "Content-Type": content_type}, content=content[:-40])
        json_body = await client.post(f"{server.url}/api/context/upload-file", headers=ADMIN, json={"file": "x"})
    assert (cut.status_code, cut.json()) == (400, body(400, "BAD_MULTIPART", "the multipart/form-data body ended early", None))
    assert (json_body.status_code, json_body.json()) == (
        415, body(415, "UNSUPPORTED_MEDIA_TYPE", "send the file as multipart/form-data", None))
    assert leftovers(server) == []


TOO_LARGE = body(413, "UPLOAD_TOO_LARGE", f"the file is larger than the {LIMIT} byte limit (UPLOAD_MAX_BYTES)")


def _raw_request(port: int, head: bytes, payload: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


async def test_declared_length_over_the_limit_is_refused_at_once(server: AppServer) -> None:
    """Only the headers are sent: the answer comes without the server waiting for a body."""
    _, content_type = d.multipart([])
    head = (f"POST /api/context/upload-file/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {d.ADMIN_TOKEN}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {50 * LIMIT}\r\nConnection: close\r\n\r\n").encode()
    raw = await asyncio.wait_for(asyncio.to_thread(_raw_request, server.port, head), 10)
    status_line, _, rest = raw.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    import json

    assert json.loads(rest.partition(b"\r\n\r\n")[2]) == TOO_LARGE
    assert leftovers(server) == []


async def test_body_growing_past_the_limit_without_length(server: AppServer) -> None:
    """Chunked transfer: no Content-Length to check, so the bytes are counted as they arrive;
    what was spooled is removed."""
    head, content_type = d.multipart([("file", b"big.txt", b"")])
    opening = head[: head.index(b"\r\n\r\n") + 4]  # the part headers, then an endless body

    async def endless() -> AsyncIterator[bytes]:
        yield opening
        for _ in range(3 * LIMIT // 65536):
            yield b"word " * 13107 + b"x"

    async with httpx.AsyncClient(timeout=20) as client:
        got = await client.post(f"{server.url}/api/context/upload-file",
                                headers={**ADMIN, "Content-Type": content_type}, content=endless())
    assert "content-length" not in got.request.headers
    assert (got.status_code, got.json()) == (413, TOO_LARGE)
    assert leftovers(server) == []


async def test_large_body_with_length_refused(server: AppServer) -> None:
    content, content_type = d.multipart([("file", b"big.txt", b"word " * (LIMIT // 4))])
    async with httpx.AsyncClient(timeout=20) as client:
        try:
            got = await client.post(f"{server.url}/api/context/upload-file",
                                    headers={**ADMIN, "Content-Type": content_type}, content=content)
        except httpx.TransportError:  # the server may close before reading a body it refused
            pytest.skip("connection closed before the response could be read")
    assert (got.status_code, got.json()) == (413, TOO_LARGE)
    assert leftovers(server) == []


async def test_admin_only(server: AppServer, app_server: Any) -> None:
    files = {"file": ("a.txt", b"hello world", "text/plain")}
    async with httpx.AsyncClient(timeout=10) as client:
        missing = await client.post(f"{server.url}/api/context/upload-file", files=files)
        wrong = await client.post(f"{server.url}/api/context/upload-file/stream", files=files,
                                  headers={"Authorization": "Bearer nope"})
        listing = await client.get(f"{server.url}/api/context/files")
        one = await client.get(f"{server.url}/api/context/files/{'0' * 32}", headers={"Authorization": "Bearer x"})
        gone = await client.delete(f"{server.url}/api/context/files/{'0' * 32}", headers=ADMIN)
    assert missing.status_code == 401 and missing.json()["code"] == "UNAUTHORIZED"
    assert missing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 403 and wrong.json()["code"] == "FORBIDDEN"
    assert listing.status_code == 401 and one.status_code == 403
    assert gone.status_code == 404 and gone.json()["code"] == "NOT_FOUND"
    closed = app_server(ADMIN_TOKEN="")
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await client.post(f"{closed.url}/api/context/upload-file", files=files, headers=ADMIN)
    assert refused.status_code == 503
    assert refused.json() == {"status": 503, "code": "ADMIN_DISABLED",
                              "error": "Admin routes are disabled: set ADMIN_TOKEN on the server"}
    assert leftovers(server) == []
