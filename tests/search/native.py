"""The native-language test catalogs (`data/catalog_<lang>.json`: 48 products each, 6 kinds x
4 colours x 2 materials, titles in the language's own script) and their labelled queries
(`data/queries_native.json`), shared by tests/search/test_native_catalogs.py and
bench/multilingual.py. A product's `labels` (kind, colour, in English) are not indexed."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from app.search.text_index import TextIndex, build_index

DATA = Path(__file__).parent / "data"
LANGUAGES = ("hi", "fa", "ru", "he")
K = 10


@cache
def catalog(lang: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((DATA / f"catalog_{lang}.json").read_text(encoding="utf-8")))


@cache
def queries(lang: str) -> tuple[dict[str, str], ...]:
    return tuple(json.loads((DATA / "queries_native.json").read_text(encoding="utf-8"))[lang])


def index(lang: str) -> TextIndex:
    return build_index(catalog(lang))


def relevant(lang: str, query: dict[str, str]) -> set[str]:
    """The SKUs whose labels match every label the query names (its `q` aside)."""
    wanted = {k: v for k, v in query.items() if k != "q"}
    return {p["sku"] for p in catalog(lang) if all(p["labels"][k] == v for k, v in wanted.items())}


def precision(ranked: list[str], wanted: set[str], k: int = K) -> float:
    """Relevant share of the first k results, out of min(k, |wanted|): 1.0 is the best any
    ranking can do, also when fewer than k products are relevant."""
    return len(set(ranked[:k]) & wanted) / min(k, len(wanted))


def ranked(idx: TextIndex, q: str) -> list[str]:
    """The text index's ranking for `q` as a finished query (a trailing space: no completions)."""
    return [sku for sku, _ in idx.search(q + " ", limit=K)]
