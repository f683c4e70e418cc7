"""The sales agent's intent accuracy per shopper language: what the agent runs, on messages in
Hindi (Devanagari and romanised), Persian, Russian, Hebrew and English.

    .venv/bin/python -m bench.agent_languages                 # the development set
    .venv/bin/python -m bench.agent_languages --blind         # the blind set: run once, at the end
    .venv/bin/python -m bench.agent_languages --no-embeddings # rules + n-grams only (no MiniLM)
    .venv/bin/python -m bench.agent_languages --data tests/data/intents_heldout.jsonl  # another set

Data: tests/data/intents_languages.jsonl (120 messages, 20 per language, about two per intent)
was written before any tuning and used to tune the language layer; tests/data/
intents_languages_blind.jsonl (120 more, the same shape) was written first, before the
development set, and is read once, for the figure reported. Both are the same kinds of
message in every language (mostly the same sentence translated), so the languages compare.

The classifier is the shipped one (`IntentClassifier` over config/intents.toml, with MiniLM
unless --no-embeddings). Per language: accuracy, and the share of messages the agent acts on
(confidence at or above the threshold) with the accuracy among them. The misses are listed.
Results: bench/results/agent_languages[_blind][_noemb].json and .md, also printed.
"""

from __future__ import annotations

# First: bench.intent_accuracy sets one BLAS thread and the offline model hub before numpy loads.
from bench.intent_accuracy import RESULTS, ROOT, load_rows  # isort: skip

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from app.agent.intents import IntentClassifier, load_intent_config
from app.language.reading import in_english
from app.search.embedder import Embedder

DEVELOPMENT = ROOT / "tests" / "data" / "intents_languages.jsonl"
BLIND = ROOT / "tests" / "data" / "intents_languages_blind.jsonl"
LANGUAGES = ("hi", "hi-latn", "fa", "ru", "he", "en")
ALIASES = {"hinglish": "hi-latn"}  # the older intent sets' name for romanised Hindi


async def evaluate(classifier: IntentClassifier, rows: list[dict[str, str]]) -> dict[str, Any]:
    """Per language: n, accuracy, confident share, accuracy when confident, the misses."""
    by_language: dict[str, dict[str, Any]] = {}
    for row in rows:
        result = await classifier.classify(in_english(row["text"]))  # read once, as a turn reads it
        entry = by_language.setdefault(ALIASES.get(row["lang"], row["lang"]), {"n": 0, "right": 0, "confident": 0,
                                                     "confident_right": 0, "misses": []})
        right = result.intent == row["intent"]
        entry["n"] += 1
        entry["right"] += right
        entry["confident"] += result.confident
        entry["confident_right"] += right and result.confident
        if not right:
            entry["misses"].append({"text": row["text"], "want": row["intent"], "got": str(result.intent),
                                    "confidence": result.confidence})
    out = {}
    for lang in LANGUAGES:
        if lang not in by_language:
            continue
        e = by_language[lang]
        out[lang] = {
            "n": e["n"], "accuracy": round(e["right"] / e["n"], 3),
            "confident_share": round(e["confident"] / e["n"], 3),
            "accuracy_confident": round(e["confident_right"] / e["confident"], 3) if e["confident"] else None,
            "misses": e["misses"],
        }
    return out


async def run(data: Path, embeddings: bool) -> dict[str, Any]:
    embedder = None
    if embeddings:
        embedder = Embedder(threads=1, cache_size=0)
        await embedder.aload()
    classifier = IntentClassifier(load_intent_config(), embedder)
    await classifier.warm()
    return await evaluate(classifier, load_rows(data))


def markdown(doc: dict[str, Any]) -> str:
    lines = [f"# Agent intent accuracy per language ({doc['data']}, embeddings {doc['embeddings']})", "",
             "| language | n | accuracy | acted on | accuracy when acted on |", "|---|---|---|---|---|"]
    for lang, e in doc["languages"].items():
        lines.append(f"| {lang} | {e['n']} | {e['accuracy']:.3f} | {e['confident_share']:.2f} | "
                     f"{e['accuracy_confident'] if e['accuracy_confident'] is not None else '—'} |")
    lines += ["", "## Misses", ""]
    for lang, e in doc["languages"].items():
        for miss in e["misses"]:
            lines.append(f"- {lang}: `{miss['text']}`: {miss['want']}, got {miss['got']} ({miss['confidence']})")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blind", action="store_true", help="the blind set (run it once, at the end)")
    parser.add_argument("--data", type=Path, help="another labelled set (English/Hinglish: tests/data/intents*.jsonl)")
    parser.add_argument("--no-embeddings", action="store_true", help="rules and n-grams only")
    parser.add_argument("--name", default="", help="a suffix for the result files (a baseline run)")
    args = parser.parse_args()
    data = (args.data.resolve() if args.data else BLIND if args.blind else DEVELOPMENT)
    languages = asyncio.run(run(data, not args.no_embeddings))
    doc = {"data": str(data.relative_to(ROOT)), "embeddings": not args.no_embeddings, "languages": languages}
    stem = "agent_languages" + ("_blind" if args.blind else "") + (f"_{args.data.stem}" if args.data else "") + ("_noemb" if args.no_embeddings else "")
    stem += f"_{args.name}" if args.name else ""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    text = markdown(doc)
    (RESULTS / f"{stem}.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
