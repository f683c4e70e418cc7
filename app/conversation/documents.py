"""The passages of the uploaded documents an answer may quote: only those close enough to
the question to be about it."""

from __future__ import annotations

from typing import Any

from app.ingest.context_index import ContextIndex

SOURCES = 4
SOURCE_FLOOR = 0.3  # cosine below which a context chunk is not used


async def document_sources(documents: ContextIndex | None, query: str, limit: int = SOURCES) -> list[dict[str, Any]]:
    """The uploaded-document chunks closest to the query (cosine >= SOURCE_FLOOR), best first."""
    if documents is None:
        return []
    out = []
    for chunk, score in await documents.asearch(query, limit):
        if score < SOURCE_FLOOR:
            continue
        out.append(
            {
                "file_id": chunk.get("file_id"),
                "file_name": chunk.get("file_name") or chunk.get("title"),
                "chunk_index": chunk.get("index"),
                "page": chunk.get("page"),
                "start": chunk.get("start"),
                "end": chunk.get("end"),
                "score": round(float(score), 4),
                "text": chunk.get("text", ""),
            }
        )
    return out
