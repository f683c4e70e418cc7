"""Context files: upload (streamed progress), list, inspect, delete. Admin only.

    POST   /api/context/upload-file/stream   multipart: file, chatbotId?, title?  (SSE)
    POST   /api/context/upload-file          the same, folded into one JSON document
    GET    /api/context/files                list (?chatbotId=)
    GET    /api/context/files/{id}           metadata and chunk previews (?limit=&offset=)
    DELETE /api/context/files/{id}           the file, its chunks and their vectors

Everything that can be wrong with an upload is refused in `parse_upload`, before a stream
starts, as a 4xx JSON body (mapping in docs/routes.md, "Context files"). The one exception is a
file that is valid but has no text at all, which only extraction can tell (a scanned PDF):
its stream ends with `error{code: INVALID_PARAMETERS}` (400 for the JSON twin).
"""

from __future__ import annotations

from datetime import datetime
import asyncio
import logging
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema
from pymongo.errors import DuplicateKeyError
from starlette.requests import Request
from starlette.routing import Route

from app.auth import ADMIN_REPLIES, Authorize
from app.contracts.fields import Contract, NeverNull, Payload, QInt, QueryContract, Text, example, fail, reword
from app.contracts.openapi import ApiRoute, Operation, Reply
from app.contracts.reading import read_path, read_query, validate
from app.errors import BadRequest, ErrorBody, not_found
from app.ingest import upload
from app.ingest.chunking import Chunker
from app.ingest.context_index import ContextIndex, FileEntry, Record, as_binary, chunk_id, public_chunk, record_of
from app.ingest.detect import ACCEPTED, Detected, detect, kind_of
from app.ingest.embed import embed_chunks
from app.ingest.pipeline import Prepared, in_thread, prepare, preview
from app.ingest.spool import ChunkSpool
from app.responses import JSONResponse
from app.routes.body import Bodies
from app.search.embedder import DIM, MODEL_ID, Embedder
from app.store.database import Database
from app.store.mongo import Store
from app.store.repositories import new_id
from app.streams import events as ev
from app.streams.endpoint import StreamEndpoint, stream_routes
from app.streams.engine import StreamContext
from app.streams.events import Code, Event, StreamError
from app.streams.fold import UploadAnswer, results_answer
from app.streams.services import StreamServices

log = logging.getLogger("storestream.ingest")

VALIDATE_TIMEOUT_S = 60.0  # pypdf on a hostile file must not hold a request forever
EMBED_BATCH = 32  # chunks per embedding call (and per progress step)
STORE_BATCH = 256  # chunks per insert when there is no model
PROGRESS_EVERY_S = 1.0
_CHATBOT_ID = r"^[A-Za-z0-9_.:-]{1,128}$"
_FILE_ID = re.compile(r"^[0-9a-f]{32}$")


# -- the contracts ------------------------------------------------------------------------------


def _visible(value: str) -> str:
    """A title is shown to admins as a file's name is: no control characters, nothing that
    reorders or hides text (app/ingest/upload.py, `invisible_character`)."""
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        raise fail("title", "must not contain control characters")
    if (hidden := upload.invisible_character(value)) is not None:
        raise fail("title", f"must not contain invisible or text-direction characters ({hidden})")
    return value


ChatbotId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=_CHATBOT_ID),
                      reword("chatbot_id", "takes 1-128 letters, digits, '_', '.', ':' or '-'")]


class UploadForm(NeverNull, Contract):
    """`multipart/form-data`: exactly one file part named `file` (with a file name), and
    optional text fields. Nothing else."""

    model_config = example(chatbotId="demo-store", title="Returns policy")  # and a file of yours

    file: Annotated[Any, WithJsonSchema({
        "type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
        "description": f"the document ({ACCEPTED}), at most UPLOAD_MAX_BYTES; its file name must be a plain "
                       "name: no path parts, control characters, or invisible and text-direction characters "
                       "(bidi controls, zero-width spaces...)"})]
    # Absent, never null: a form field has no null (and an explorer would send "null" for one).
    chatbotId: ChatbotId | None = Field(default=None, description="whose chats may quote it")  # noqa: N815
    title: Annotated[str, Text(200), AfterValidator(_visible)] | None = Field(
        default=None, description="shown instead of the file name")


class FilesQuery(QueryContract):
    model_config = example(chatbotId="demo-store")  # the files UploadForm's example stores

    chatbotId: Annotated[str, Text(128)] | None = None  # noqa: N815


class FilePath(QueryContract):
    model_config = example(file_id="3f2a9c4e8b1d4f6a9e0c7b5d2a1f8e6c")  # the form: an upload's `file_id`

    file_id: Annotated[str, Text(64, min_len=1, description="32 hex digits; any other value names no file (404)")]


class PageQuery(QueryContract):
    limit: Annotated[int, QInt(1, 500, description="chunk previews")] = 50
    offset: Annotated[int, QInt(0, 10_000_000)] = 0


class ContextFile(Payload):
    id: str
    name: str
    title: str
    chatbot_id: str | None
    type: str
    size: int
    sha256: str
    chunks: int
    tokens: int
    embedded: bool
    created_at: str | None = Field(default=None, description="ISO 8601")


class FileList(Payload):
    files: list[ContextFile]
    total: int


class ChunkInfo(Payload):
    id: str
    index: int
    tokens: int
    page: int | None = None
    preview: str


class ContextFileDetail(ContextFile):
    chunk_previews: list[ChunkInfo]
    offset: int
    limit: int


class FileDeleted(Payload):
    id: str
    deleted: bool
    chunks_deleted: int


@dataclass(frozen=True, slots=True)
class ContextDeps:
    """What the context-file routes use: the database, the retrieval index uploads join, the
    embedder (None: chunks are stored without vectors), the admin check, and the bounds of an
    upload (UPLOAD_MAX_BYTES, CHUNK_TOKENS, CHUNK_OVERLAP, its spool folder)."""

    database: Database
    index: ContextIndex
    embedder: Embedder | None
    admin: Authorize
    bodies: Bodies
    upload_dir: Path
    max_bytes: int
    chunk_tokens: int
    chunk_overlap: int


# -- upload: validation ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadParams:
    upload: upload.SpooledUpload
    detected: Detected
    chatbot_id: str | None
    title: str


def _fields(fields: dict[str, str], filename: str) -> tuple[str | None, str]:
    given = {k: v for k, v in fields.items() if v.strip()}
    try:
        form = validate(UploadForm, {"file": filename, **given}, root="form")
    except BadRequest as exc:
        exc.code = "BAD_MULTIPART"
        raise
    return form.chatbotId, form.title or filename


async def parse_upload(deps: ContextDeps, request: Request) -> UploadParams:
    """The body (limits, multipart, name), then the content (type, text, PDF, DOCX), after
    the admin check (the endpoint's `authorize`). Any refusal removes what was spooled."""
    deps.database.require()
    spooled = await upload.receive(
        request, bodies=deps.bodies, directory=deps.upload_dir, max_bytes=deps.max_bytes, check_name=kind_of
    )
    try:
        chatbot_id, title = _fields(spooled.fields, spooled.filename)
        detected = await asyncio.wait_for(
            asyncio.to_thread(detect, spooled.path, spooled.filename), VALIDATE_TIMEOUT_S
        )
    except TimeoutError:
        spooled.remove()
        raise BadRequest(f"{spooled.filename} could not be validated in {VALIDATE_TIMEOUT_S:.0f} s",
                         status=422, code="UNPROCESSABLE_FILE", field="file") from None
    except BaseException:
        spooled.remove()
        raise
    return UploadParams(spooled, detected, chatbot_id, title)


# -- upload: processing ----------------------------------------------------------------------


class _Throttle:
    """Progress at most every few percent or second, so a 10,000-chunk upload sends tens of
    events, not thousands (they all go through the replay buffer)."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.last_percent = -1e9
        self.last_time = 0.0

    def due(self, percent: float) -> bool:
        now = time.monotonic()
        if percent >= 100 or percent - self.last_percent >= self.step or now - self.last_time >= PROGRESS_EVERY_S:
            self.last_percent, self.last_time = percent, now
            return True
        return False


def _results(doc: dict[str, Any], previews: list[dict[str, Any]], *, duplicate: bool) -> Event:
    extra = {k: doc[k] for k in ("pages", "skipped_pages") if doc.get(k)}
    return ev.results(
        "chunks", file_id=doc["_id"], file_name=doc["name"], count=doc["chunks"], tokens=doc["tokens"],
        preview=previews, duplicate=duplicate, embedded=doc.get("embedded", False), **extra,
    )


async def _stored_previews(store: Store, file_id: str) -> list[dict[str, Any]]:
    docs = await store.chunks.of_file(file_id, limit=3, vectors=False)
    return [{"index": d["index"], "page": d.get("page"), "tokens": d["tokens"], "text": preview(d["text"])}
            for d in docs]


async def _model(embedder: Embedder | None) -> Embedder | None:
    """The embedder once loaded (waiting out start-up), or None: no model configured or it
    failed to load; chunks are then stored without vectors and embedded at a later start."""
    if embedder is None:
        return None
    while not embedder.ready and embedder.error is None:
        await asyncio.sleep(0.2)
    return embedder if embedder.ready else None


async def _store_chunks(
    store: Store, embedder: Embedder | None, p: UploadParams, file_id: str, spool: ChunkSpool, total: int,
    matrix: np.ndarray | None, records: list[Record],
) -> AsyncIterator[float]:
    """Pass two: read the spool back a batch at a time, embed, insert. Yields percent done.
    With vectors, fills `matrix` and `records` for the index (added only on commit)."""
    embedder = await _model(embedder) if matrix is not None else None
    done = 0
    for batch in spool.batches(EMBED_BATCH if embedder is not None else STORE_BATCH):
        vectors = await embed_chunks(embedder, batch) if embedder is not None else None
        docs = []
        for row, record in enumerate(batch):
            doc = {"_id": chunk_id(file_id, record["index"]), "file_id": file_id, "chatbot_id": p.chatbot_id,
                   **record}
            if vectors is not None:
                doc["embedding"] = as_binary(vectors[row])
                doc["embedding_model"] = MODEL_ID
            docs.append(doc)
        await store.chunks.insert_many(docs)
        if vectors is not None and matrix is not None:
            matrix[done : done + len(docs)] = vectors
            records.extend(record_of(doc) for doc in docs)
        done += len(docs)
        yield 100.0 * done / total


async def upload_events(deps: ContextDeps, p: UploadParams, ctx: StreamContext) -> AsyncGenerator[Event, None]:
    store = deps.database.store
    spooled = p.upload
    file_id = new_id()
    spool = ChunkSpool(spooled.path.with_suffix(".chunks"))
    wrote = committed = False
    deps.index.pending.add(file_id)
    try:
        yield ev.progress("validation", f"{spooled.filename} is a valid {p.detected.kind} file",
                          file_name=spooled.filename, type=p.detected.kind, size=spooled.size)
        existing = await store.context_files.by_hash(spooled.sha256)
        if existing is not None:
            yield _results(existing, await _stored_previews(store, existing["_id"]), duplicate=True)
            yield ev.complete(total=existing["chunks"])
            return

        prepared = Prepared()
        chunker = Chunker(deps.chunk_tokens, deps.chunk_overlap)
        throttle = _Throttle(10.0)
        async for done in in_thread(prepare(spooled.path, p.detected, chunker, spool, prepared)):
            if throttle.due(done * 100):
                pages = {"pages": prepared.pages} if prepared.pages else {}
                yield ev.progress("extraction", "Extracting text", percent=done * 100, **pages)
        if prepared.chunks == 0:
            raise StreamError(Code.INVALID_PARAMETERS,
                              f"{spooled.filename} has no extractable text (a scanned PDF needs OCR first)")
        yield ev.progress("chunking", f"{prepared.chunks} chunks of at most {deps.chunk_tokens} tokens",
                          count=prepared.chunks)
        yield ev.progress("token_counting", f"{prepared.tokens} tokens", tokens=prepared.tokens)

        matrix = np.empty((prepared.chunks, DIM), dtype=np.float32) if deps.embedder is not None else None
        embedded = matrix is not None and await _model(deps.embedder) is not None
        if not embedded:
            matrix = None
            yield ev.progress("embedding", "No embedding model: chunks are stored for later embedding",
                              percent=0, skipped=True)
        throttle = _Throttle(2.0)
        records: list[Record] = []
        async for percent in _store_chunks(store, deps.embedder, p, file_id, spool, prepared.chunks, matrix, records):
            wrote = True
            if embedded and throttle.due(percent):
                yield ev.progress("embedding", "Embedding chunks", percent=percent)

        yield ev.progress("storing", "Saving the file record and indexing its chunks")
        doc = {
            "_id": file_id, "name": spooled.filename, "title": p.title, "chatbot_id": p.chatbot_id,
            "type": p.detected.kind, "size": spooled.size, "sha256": spooled.sha256,
            "pages": prepared.pages, "skipped_pages": prepared.skipped_pages, "chunks": prepared.chunks,
            "tokens": prepared.tokens, "characters": prepared.chars, "embedded": embedded,
            "chunk_tokens": deps.chunk_tokens, "chunk_overlap": deps.chunk_overlap,
        }
        try:
            await store.context_files.insert(doc)
        except DuplicateKeyError:  # the same content, uploaded concurrently, committed first
            existing = await store.context_files.by_hash(spooled.sha256)
            if existing is None:
                raise
            yield _results(existing, await _stored_previews(store, existing["_id"]), duplicate=True)
            yield ev.complete(total=existing["chunks"])
            return
        committed = True
        deps.index.add_file(
            file_id, FileEntry(spooled.filename, p.title, p.chatbot_id, prepared.chunks), records, matrix,
        )
        yield _results(doc, prepared.previews, duplicate=False)
        yield ev.complete(total=prepared.chunks)
    finally:
        spool.remove()
        spooled.remove()
        if wrote and not committed:
            await asyncio.shield(_forget_chunks(store, file_id))
        deps.index.pending.discard(file_id)


async def _forget_chunks(store: Store, file_id: str) -> None:
    """Chunks of an upload that did not commit (failed, timed out, client gone)."""
    try:
        await store.chunks.delete_of_file(file_id)
    except Exception:  # noqa: BLE001 - the start-up build removes orphans it finds
        log.warning("could not remove the chunks of unfinished upload %s", file_id)


def upload_endpoint(deps: ContextDeps) -> StreamEndpoint[UploadParams]:
    return StreamEndpoint(
        "context_upload",
        partial(parse_upload, deps),
        partial(upload_events, deps),
        shape=results_answer("chunks"),
        context=lambda p: {"file_name": p.upload.filename, "size": p.upload.size},
        authorize=deps.admin,
        detach=True,
        form=UploadForm,
        answer=UploadAnswer,
        summary=f"Upload a context file (admin; accepted: {ACCEPTED})",
        refusals={
            422: "content that cannot be processed: UNPROCESSABLE_FILE, EMPTY_FILE, UNDECODABLE_TEXT, INVALID_JSON, "
                 "BROKEN_PDF, ENCRYPTED_PDF, BROKEN_DOCX, ZIP_BOMB",
        },
        timeout_s=lambda settings: settings.upload_timeout_s,
        events=("connected", "progress:validation", "progress:extraction", "progress:chunking",
                "progress:token_counting", "progress:embedding", "progress:storing", "results:chunks",
                "complete", "close"),
    )


# -- files -----------------------------------------------------------------------------------


def public_file(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"id": doc["_id"], **{k: v for k, v in doc.items() if k not in ("_id", "created_at")}}
    created = doc.get("created_at")
    out["created_at"] = created.isoformat() if isinstance(created, datetime) else created
    return out


async def list_files(deps: ContextDeps, request: Request) -> JSONResponse:
    deps.admin(request)
    store = deps.database.require()
    chatbot_id = read_query(request, FilesQuery).chatbotId or None
    docs = await store.context_files.list(limit=1000)
    files = [public_file(d) for d in docs if chatbot_id is None or d.get("chatbot_id") == chatbot_id]
    return JSONResponse({"files": files, "total": len(files)})


async def _file(deps: ContextDeps, request: Request) -> tuple[Store, str, dict[str, Any] | None]:
    deps.admin(request)
    store = deps.database.require()
    file_id = read_path(request, FilePath).file_id
    doc = await store.context_files.get(file_id) if _FILE_ID.match(file_id) else None
    return store, file_id, doc


def _not_found(file_id: str) -> BadRequest:
    return not_found(f"no context file {file_id!r}", "id")


async def get_file(deps: ContextDeps, request: Request) -> JSONResponse:
    store, file_id, doc = await _file(deps, request)
    if doc is None:
        raise _not_found(file_id)
    page = read_query(request, PageQuery)
    limit, offset = page.limit, page.offset
    chunks = await store.chunks.of_file(file_id, limit=limit, skip=offset, vectors=False)
    previews = [{**{k: v for k, v in public_chunk(c).items() if k != "text"}, "preview": preview(c["text"])}
                for c in chunks]
    return JSONResponse({**public_file(doc), "chunk_previews": previews, "offset": offset, "limit": limit})


async def delete_file(deps: ContextDeps, request: Request) -> JSONResponse:
    """Out of the index first (searches stop returning it), then chunks, then the record."""
    store, file_id, doc = await _file(deps, request)
    deps.index.remove_file(file_id)
    removed = await store.chunks.delete_of_file(file_id) if _FILE_ID.match(file_id) else 0
    if doc is None:
        raise _not_found(file_id)
    await store.context_files.delete(file_id)
    return JSONResponse({"id": file_id, "deleted": True, "chunks_deleted": removed})


LIST = Operation("List context files (admin)", query=FilesQuery, admin=True, tags=("context files",), replies={
    200: Reply("the files, newest first, at most 1,000", FileList),
    400: Reply("INVALID_PARAMETERS", ErrorBody),
    **ADMIN_REPLIES,
})
GET = Operation("A context file with chunk previews (admin)", path=FilePath, query=PageQuery, admin=True,
                tags=("context files",), replies={
    200: Reply("metadata and a page of chunk previews", ContextFileDetail),
    400: Reply("INVALID_PARAMETERS: limit or offset out of range", ErrorBody),
    404: Reply("NOT_FOUND: no such file", ErrorBody),
    **ADMIN_REPLIES,
})
DELETE = Operation("Delete a context file, its chunks and their vectors (admin)", path=FilePath, admin=True,
                   tags=("context files",), replies={
    200: Reply("deleted", FileDeleted),
    400: Reply("INVALID_PARAMETERS", ErrorBody),
    404: Reply("NOT_FOUND: no such file", ErrorBody),
    **ADMIN_REPLIES,
})


def routes(deps: ContextDeps, streams: StreamServices) -> list[Route]:
    return [
        *stream_routes(upload_endpoint(deps), streams, stream_path="/api/context/upload-file/stream",
                       json_path="/api/context/upload-file", methods=["POST"]),
        ApiRoute("/api/context/files", partial(list_files, deps), methods=["GET"], operation=LIST),
        ApiRoute("/api/context/files/{file_id}", partial(get_file, deps), methods=["GET"], operation=GET),
        ApiRoute("/api/context/files/{file_id}", partial(delete_file, deps), methods=["DELETE"], operation=DELETE),
    ]
