"""The uploaded-document passages an answer may quote."""

from __future__ import annotations

from typing import Any

from app.conversation.documents import SOURCE_FLOOR, SOURCES, document_sources


class _Index:
    """A context index whose search returns fixed hits, best first."""

    def __init__(self, hits: list[tuple[dict[str, Any], float]]) -> None:
        self.hits = hits
        self.asked: list[tuple[str, int]] = []

    async def asearch(self, query: str, k: int = 5) -> list[tuple[dict[str, Any], float]]:
        self.asked.append((query, k))
        return self.hits[:k]


CHUNK = {"file_id": "f1", "file_name": "returns.md", "index": 2, "page": 3, "start": 10, "end": 90,
         "text": "Unworn items can be returned within 10 days.", "embedding": [0.1]}


async def test_no_documents_no_sources() -> None:
    assert await document_sources(None, "returns") == []


async def test_a_passage_keeps_where_it_came_from_and_its_rounded_score() -> None:
    index = _Index([(CHUNK, 0.812345)])
    sources = await document_sources(index, "can I return it?")  # type: ignore[arg-type]
    assert sources == [{"file_id": "f1", "file_name": "returns.md", "chunk_index": 2, "page": 3, "start": 10,
                        "end": 90, "score": 0.8123, "text": "Unworn items can be returned within 10 days."}]
    assert index.asked == [("can I return it?", SOURCES)]


async def test_passages_below_the_floor_are_not_quoted() -> None:
    titled = {"title": "Size guide", "text": "Measure your bust."}
    index = _Index([(CHUNK, 0.9), (titled, SOURCE_FLOOR), ({"text": "far"}, SOURCE_FLOOR - 0.01)])
    sources = await document_sources(index, "size", limit=3)  # type: ignore[arg-type]
    assert [(s["file_name"], s["score"]) for s in sources] == [("returns.md", 0.9), ("Size guide", 0.3)]
    assert sources[1]["text"] == "Measure your bust." and sources[1]["page"] is None
