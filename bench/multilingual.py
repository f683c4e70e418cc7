"""Native-catalog search: text precision@10 per language on catalogs written in the shopper's
own language (issue 15, part 2). Not yet cross-lingual search (part 3: native queries on an
English catalog).

    .venv/bin/python -m bench.multilingual

Catalogs and queries: tests/search/data (tests/search/native.py): Hindi in Devanagari,
Persian, Russian and Hebrew, 48 products each (6 kinds x 4 colours x 2 materials; some
descriptions name an accent in another colour, some shoes and bags the dress they go with), 13 queries
per language written before any measurement plus 5 with inflections no typo rule bridges
(written after the first run). A query's relevant products are those whose labels match the
kind and colour it names; precision@10 counts them among the first 10 results out of
min(10, relevant), so 1.0 is the best any ranking can do. Rankers: the text index alone
(`TextIndex`), the query finished (a trailing space) and as typed (the last word also
completes, as in the search box), with the shipped terms and with stems switched off (letters
unified, words whole, no stemming), to show what stemming adds. Also how fast `terms` reads
each catalog's texts, and the first 48 products of the English demo catalog for comparison.

Measured before the change that added script-aware terms (the previous app/search/text.py,
same catalogs and queries, finished queries): hi 0.385 / 0.300 (written / inflected), fa 0.885 /
0.900, ru 1.000 / 0.750, he 0.923 / 0.900: Devanagari words fell apart at every vowel sign,
and Russian met its inflections only where one typo away.

Results: bench/results/multilingual.json and .md, also printed.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import mean
from typing import Any

import app.search.text as text
from app.catalog.demo import generate_catalog
from bench.common import machine
from tests.search.native import LANGUAGES, K, catalog, index, precision, queries, relevant

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SETS = ("written", "inflected")
TERMS_REPEAT = 200


@contextmanager
def stems_off() -> Iterator[None]:
    """Terms with unified letters and whole words but no stemming (the ablation)."""
    shipped = text.stem
    text.stem = lambda word: word
    try:
        yield
    finally:
        text.stem = shipped


def query_set(lang: str, name: str) -> tuple[dict[str, str], ...]:
    return queries(lang if name == "written" else f"{lang}_{name}")


def precisions(lang: str, name: str, suffix: str) -> list[dict[str, Any]]:
    """Each query of a set with its precision@10; `suffix` " " finishes the query."""
    idx = index(lang)
    out = []
    for query in query_set(lang, name):
        ranked = [sku for sku, _ in idx.search(query["q"] + suffix, limit=K)]
        out.append({"q": query["q"], "terms": text.terms(query["q"]),
                    "precision": precision(ranked, relevant(lang, query))})
    return out


def terms_per_second(lang: str) -> float:
    """How fast `terms` reads a catalog's product texts (title, category, description)."""
    products = generate_catalog(48) if lang == "en" else catalog(lang)
    texts = [f"{p['title']} {p['category']} {p['description']}" for p in products] * TERMS_REPEAT
    started = time.perf_counter()
    for t in texts:
        text.terms(t)
    return len(texts) / (time.perf_counter() - started)


def measure(progress: Callable[[str], None]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for lang in LANGUAGES:
        for name in SETS:
            finished = precisions(lang, name, " ")
            typed = precisions(lang, name, "")
            with stems_off():
                unstemmed = precisions(lang, name, " ")
            rows.append({
                "language": lang, "set": name, "queries": len(finished),
                "finished": round(mean(q["precision"] for q in finished), 3),
                "as_typed": round(mean(q["precision"] for q in typed), 3),
                "no_stems": round(mean(q["precision"] for q in unstemmed), 3),
                "below_1": [q for q in finished if q["precision"] < 1.0],
            })
            progress(f"{lang} {name}: finished {rows[-1]['finished']:.3f}, as typed {rows[-1]['as_typed']:.3f}, "
                     f"no stems {rows[-1]['no_stems']:.3f}")
    speed = {lang: round(terms_per_second(lang)) for lang in (*LANGUAGES, "en")}
    return {"rows": rows, "terms_per_second": speed}


def markdown(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    lines = [
        "# Native-catalog search: text precision@10 per language",
        "",
        f"{m['date']}, {m['cpu_count']} CPUs ({m['cpu_model']}), Python {m['python']}, "
        f"PyStemmer {m['versions']['PyStemmer']}, load {m['loadavg_at_start']}. "
        "Catalogs and queries: tests/search/data (48 products per language); precision@10 out of "
        "min(10, relevant). Not cross-lingual search: queries and catalog share a language.",
        "",
        "| language | set | queries | finished query | as typed | finished, no stems |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['language']} | {r['set']} | {r['queries']} | {r['finished']:.3f} | {r['as_typed']:.3f} "
              f"| {r['no_stems']:.3f} |" for r in doc["rows"]]
    misses = [f"- {r['language']} {r['set']}: `{q['q']}` {q['precision']:.2f} (terms {q['terms']})"
              for r in doc["rows"] for q in r["below_1"]]
    lines += ["", "Queries below 1.0 (finished):", "", *(misses or ["- none"]), "",
              "`terms` speed on each catalog's product texts (title, category, description; en: the first "
              "48 products of the demo catalog), texts/s: "
              + ", ".join(f"{lang} {v:,}" for lang, v in doc["terms_per_second"].items()), ""]
    return "\n".join(lines)


def main() -> int:
    started = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {msg}", file=sys.stderr, flush=True)

    doc: dict[str, Any] = {"machine": machine(["PyStemmer"]), "command": "python -m bench.multilingual"}
    doc.update(measure(progress))
    md = markdown(doc)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for suffix, content in ((".json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n"), (".md", md)):
        (RESULTS / f"multilingual{suffix}").write_text(content, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
