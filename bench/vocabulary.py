"""The store's own vocabulary on two real catalogs that are not the demo's: how shoppers'
queries parse with the vocabulary each catalog teaches (`app.search.vocabulary.learn` over
config/vocabulary.toml), and how many products the filters and words then match.

    .venv/bin/python -m bench.vocabulary      # about 15 s; writes bench/results/vocabulary.json

Catalogs (read from ../shared/data, never copied; every row through the catalog validator):
- WANDS dev (6,482 Wayfair products): mapped as its README and bench/search_relevance.py do
  (`category` = product_class); it carries no colour, material or price;
- Myntra (12,491 fashion products): `sku` ProductID, `title` ProductName, `brand`, `price`
  (INR), `colors` PrimaryColor (stripped), `gender` (an attribute column), `description`; it
  has no category column, so the category is the last word of the name before " with "
  ("Kurta Set with Jacket" -> "kurta set": the last two words after "set" or "choli"), as a
  store owner's import script might set it.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

from app.catalog.validate import RowError, validate_product
from app.search.constraints import Filters
from app.search.query_parse import parse_query
from app.search.service import SearchService
from app.search.text import words
from app.search.vocabulary import CatalogTerms, Vocabulary, learn, load_vocabulary
from bench.common import machine
from bench.search_relevance import load_wands

ROOT = Path(__file__).resolve().parents[1]
MYNTRA = (ROOT / ".." / "shared" / "data" / "myntra" / "products.csv").resolve()
RESULTS = ROOT / "bench" / "results" / "vocabulary.json"

QUERIES = {
    "wands": [
        "grey fabric sofa under 800", "round wood coffee table", "leather recliner",
        "white bookcase", "velvet accent chair", "black metal bar stools", "queen bed",
        "decorative wall clocks", "brass wall sconce", "lehenga",
    ],
    "myntra": [
        "black jeans for men under 2000", "red kurta for women below 1500", "navy blue shirt",
        "white sneakers under 3000", "maroon saree", "pink dress for girls",
        "laal kurta 1000 se kam", "grey fabric sofa",
    ],
}
_TWO_WORD_HEADS = {"set", "choli", "sets"}


def myntra_category(name: str) -> str | None:
    head = name.split(" with ")[0]
    ws = [w for w in words(head) if not w.isdigit()]
    if not ws:
        return None
    return " ".join(ws[-2:]) if ws[-1] in _TWO_WORD_HEADS and len(ws) > 1 else ws[-1]


def load_myntra() -> tuple[list[dict[str, Any]], int]:
    products: list[dict[str, Any]] = []
    refused = 0
    with MYNTRA.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            color = (row["PrimaryColor"] or "").strip()
            raw = {"sku": row["ProductID"], "title": row["ProductName"], "brand": row["ProductBrand"] or None,
                   "category": myntra_category(row["ProductName"]), "price": row["Price (INR)"],
                   "currency": "INR", "colors": [color] if color else [], "gender": row["Gender"] or None,
                   "description": row["Description"] or None}
            try:
                products.append(validate_product(raw))
            except RowError:
                refused += 1
    return products, refused


def summary(vocabulary: Vocabulary, count_ms: float, learn_ms: float) -> dict[str, Any]:
    return {
        "count_ms": round(count_ms, 1),
        "learn_ms": round(learn_ms, 1),
        "broad_categories": len(vocabulary.broad),
        "values": {name: len(vocabulary.fields[name]) for name in vocabulary.fields},
        "learned": {name: len(counts) for name, counts in vocabulary.counts.items()},
        "top": {name: list(vocabulary.values(name)[:8]) for name in ("category", "colors", "fabric", "gender")},
        "details": len(vocabulary.details),
        "phrases": len(vocabulary.phrases),
    }


def run_catalog(name: str, products: list[dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    terms = CatalogTerms.of(products)  # the search service keeps these counts as products change
    count_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    vocabulary = learn(terms, load_vocabulary())  # what a rebuild after a change costs
    learn_ms = (time.perf_counter() - started) * 1000
    search = SearchService(None, exact_max=100_000)
    search.build_from(products)
    out: dict[str, Any] = {"products": len(products), "vocabulary": summary(vocabulary, count_ms, learn_ms), "queries": []}
    for query in QUERIES[name]:
        plan = search.plan(query, Filters())
        default = parse_query(query, load_vocabulary()).filters.as_dict()
        row = {
            "query": query,
            "parsed": plan.parsed.filters.as_dict(),
            "residual": plan.parsed.residual,
            "applied": plan.filters.as_dict(),  # what some product can satisfy
            "with_default_only": default,
            "passing_filters": len(search.table) if plan.candidates is None else len(plan.candidates),
            "matching": len(search.matching(plan.ranking, plan.filters)),
        }
        out["queries"].append(row)
        print(f"  {query!r}: {row['parsed']} residual {row['residual']!r} -> applied {row['applied']}; "
              f"{row['passing_filters']:,} pass the filters, {row['matching']:,} match")
    return out


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    results: dict[str, Any] = {"machine": machine(["numpy"])}
    wands, _, _, _, refused = load_wands()
    print(f"WANDS: {len(wands):,} products ({refused} refused)")
    results["wands"] = {"refused": refused, **run_catalog("wands", wands)}
    myntra, refused = load_myntra()
    print(f"Myntra: {len(myntra):,} products ({refused} refused)")
    results["myntra"] = {"refused": refused, **run_catalog("myntra", myntra)}
    for name in ("wands", "myntra"):
        print(name, json.dumps(results[name]["vocabulary"], ensure_ascii=False))
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
