"""The vector side embeds the query as the text index corrected it, not the typo."""

from __future__ import annotations

import numpy as np

from app.search.constraints import Filters
from app.search.embedder import DIM
from app.search.service import SearchService


class RecordingEmbedder:
    """Embeds every text as the same unit vector and remembers what it was asked."""

    ready = True

    def __init__(self) -> None:
        self.queries: list[str] = []

    async def query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        vector = np.zeros(DIM, dtype=np.float32)
        vector[0] = 1.0
        return vector


def service_with(embedder: RecordingEmbedder) -> SearchService:
    service = SearchService(embedder, exact_max=1000)  # type: ignore[arg-type]
    service.build_from([
        {"sku": "w1", "title": "Wooden Wardrobe", "category": "furniture"},
        {"sku": "v1", "title": "Velvet Saree", "category": "sarees"},
    ])
    service.vectors.add(["w1", "v1"], np.eye(2, DIM, dtype=np.float32))
    return service


async def test_a_misspelt_word_is_embedded_as_its_correction() -> None:
    embedder = RecordingEmbedder()
    service = service_with(embedder)
    assert await service.vector_search("small wardrbe", None, 10) is not None
    assert await service.similar("velvat saree", None, 10, 0.0) is not None
    assert embedder.queries == ["small wardrobe", "velvet saree"]


async def test_a_query_without_typos_is_embedded_as_given() -> None:
    embedder = RecordingEmbedder()
    service = service_with(embedder)
    await service.vector_search("Wooden wardrobe", None, 10)
    assert embedder.queries == ["Wooden wardrobe"]


async def test_a_hybrid_search_looks_each_misspelt_word_up_once() -> None:
    """The text side's groups and the vector side's corrected text come from one reading."""
    embedder = RecordingEmbedder()
    service = service_with(embedder)
    looked_up: list[str] = []
    typo_matches = service.text.typo_matches

    def counting(term: str) -> list[tuple[str, int]]:
        looked_up.append(term)
        return typo_matches(term)

    service.text.typo_matches = counting  # type: ignore[method-assign]
    plan = service.plan("small wardrbe velvat", Filters())
    found = await service.hybrid(plan)
    assert embedder.queries == ["small wardrobe velvet"]
    assert {h.sku for h in found.hits} == {"w1", "v1"}
    assert sorted(looked_up) == ["small", "velvat", "wardrbe"]  # each unknown word once
