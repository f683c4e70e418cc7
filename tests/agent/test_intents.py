"""The intent classifier: its config, its rules, and its accuracy on a held-out labelled set.

tests/data/intents.jsonl holds shopper messages (English and romanised Hindi) written apart
from the prototypes in config/intents.toml; `test_dataset_is_disjoint_from_prototypes` keeps it
that way. Accuracy is measured twice: with the real all-MiniLM-L6-v2 model (skipped when the
model package is missing) and with rules + the lexical source only, the mode the agent runs in
when embeddings are off, which has a lower floor.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.agent.intents import (
    DEFAULT_CONFIG_PATH,
    INTENTS,
    IntentClassifier,
    IntentResult,
    clean,
    gloss,
    load_intent_config,
)
from app.search.embedder import Embedder
from tests.support.requirements import need

DATA = Path(__file__).resolve().parents[1] / "data" / "intents.jsonl"
# Written blind after the config was tuned on DATA; for measuring only (bench/intent_accuracy.py
# --data), so no accuracy is asserted on it and it must never be used to revise the config.
HELDOUT = DATA.with_name("intents_heldout.jsonl")
# A second blind set, written without reading the config, the classifier, DATA or HELDOUT; same rules.
HELDOUT2 = DATA.with_name("intents_heldout2.jsonl")
HELDOUT_SETS = (HELDOUT, HELDOUT2)

# Floors asserted below (measured values when written: full 0.94, lexical + rules 0.80).
FULL_OVERALL, FULL_PER_INTENT, FULL_HINGLISH = 0.90, 0.75, 0.85
LEXICAL_OVERALL, LEXICAL_PER_INTENT = 0.75, 0.50

GIBBERISH = ["asdkjh qwe", "qqqq", "zzzz zzz", "lkjsdf lkjsdf", "kjdhf 8877", "xcvb nmzx", "fgh jkl", "???"]
FOLLOW_UPS = [
    ("in blue", "browse_search"),
    ("show me cheaper ones", "browse_search"),
    ("sasta dikhao", "browse_search"),
    ("aur dikhao", "browse_search"),
    ("compare the first two", "compare"),
]


def load_dataset() -> list[dict[str, str]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def squash(text: str) -> str:
    return " ".join(text.casefold().split())


async def classify_all(classifier: IntentClassifier, texts: list[str]) -> list[IntentResult]:
    return [await classifier.classify(text) for text in texts]


def accuracy(rows: list[dict[str, str]], results: list[IntentResult]) -> dict[str, Any]:
    """Overall, per intent and per language accuracy, plus the misses for failure messages."""
    hits: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for row, result in zip(rows, results, strict=True):
        ok = result.intent == row["intent"]
        for key in ("all", row["intent"], row["lang"]):
            hits[key].append(ok)
        if not ok:
            misses.append((row["text"], row["intent"], result.intent))
    return {key: sum(v) / len(v) for key, v in hits.items()} | {"misses": misses}


# -- config and data set -----------------------------------------------------------------


def test_config_has_every_intent_with_examples() -> None:
    config = load_intent_config()
    assert set(config.examples) == set(INTENTS)
    for intent, examples in config.examples.items():
        assert 15 <= len(examples) <= 30, intent
        assert config.descriptions[intent], intent
    assert 0 < config.threshold < 1
    assert config.rules


def test_config_errors_name_the_problem(tmp_path: Path) -> None:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "intents.toml"
    bad.write_text(text.replace("[intents.compare]", "[intents.comparison]"), encoding="utf-8")
    with pytest.raises(ValueError, match="comparison"):
        load_intent_config(bad)
    bad.write_text(text.replace('intent = "compare"', 'intent = "haggle"'), encoding="utf-8")
    with pytest.raises(ValueError, match="haggle"):
        load_intent_config(bad)


def test_dataset_shape() -> None:
    rows = load_dataset()
    assert len(rows) >= 220
    assert {row["intent"] for row in rows} == set(INTENTS)
    counts = Counter(row["intent"] for row in rows)
    assert min(counts.values()) >= 15, counts
    langs = Counter(row["lang"] for row in rows)
    assert set(langs) == {"en", "hinglish"}
    assert langs["hinglish"] >= len(rows) / 4, langs
    assert len({squash(row["text"]) for row in rows}) == len(rows), "duplicate test messages"


def test_dataset_is_disjoint_from_prototypes() -> None:
    prototypes = {squash(text) for examples in load_intent_config().examples.values() for text in examples}
    overlap = [row["text"] for row in load_dataset() if squash(row["text"]) in prototypes]
    assert overlap == []


def read_rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("path", HELDOUT_SETS, ids=lambda path: path.stem)
def test_heldout_dataset_has_every_intent_and_no_copied_text(path: Path) -> None:
    rows = read_rows(path)
    assert {row["intent"] for row in rows} == set(INTENTS)
    assert {row["lang"] for row in rows} == {"en", "hinglish"}

    def key(text: str) -> str:  # stricter than squash: punctuation does not make a message new
        return " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split())

    prototypes = {key(text) for examples in load_intent_config().examples.values() for text in examples}
    assert [row["text"] for row in rows if key(row["text"]) in prototypes] == []
    for other in (DATA, *HELDOUT_SETS):  # the tuning set and the other held-out set
        if other == path:
            continue
        texts = {key(row["text"]) for row in read_rows(other)}
        assert [row["text"] for row in rows if key(row["text"]) in texts] == [], other.name
    assert len({key(row["text"]) for row in rows}) == len(rows), "duplicate held-out messages"


def test_gloss_translates_only_listed_words() -> None:
    glossary = load_intent_config().glossary
    assert gloss("Ye kab tak wapas aayega?", glossary) == "this when until back will come?"
    assert gloss("show me red sarees", glossary) == "show me red sarees"


# -- rules -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lexical() -> IntentClassifier:
    """Rules + character n-grams: what the agent runs when embeddings are off."""
    return IntentClassifier(load_intent_config())


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where is order #SS-20931", "order_status"),
        ("ORD-558120 kab aayega", "order_status"),
        ("track my parcel", "order_status"),
        ("I want to talk to a human", "human_handoff"),
        ("kisi insaan se baat karao", "human_handoff"),
        ("compare the first two", "compare"),
        ("banarasi vs kanjivaram", "compare"),
        ("can I get a refund", "returns_policy"),
        ("exchange for size L?", "returns_policy"),
        ("when is it back in stock", "availability"),
        ("any coupon for first order", "price_discount"),
        ("do you have a size chart", "size_fit"),
        ("Hello!", "greeting_smalltalk"),
        ("thank you so much", "greeting_smalltalk"),
    ],
)
def test_rules(lexical: IntentClassifier, text: str, intent: str) -> None:
    rule = lexical.match_rule(clean(text))
    assert rule is not None and rule.intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "track pants for men",  # a product, not order tracking
        "order above 5000 gets free gift?",  # a price, not an order number
        "hi, do you have red sarees",  # a greeting rule needs the whole message to be one
        "red kurta in size M",
    ],
)
def test_rules_that_must_not_fire(lexical: IntentClassifier, text: str) -> None:
    rule = lexical.match_rule(clean(text))
    assert rule is None or rule.intent not in ("order_status", "greeting_smalltalk")


async def test_rule_result_shape(lexical: IntentClassifier) -> None:
    result = await lexical.classify("talk to a real person please")
    assert result.intent == "human_handoff" and result.source == "rule"
    assert result.scores == {"human_handoff": result.confidence}
    assert result.confident


# -- lexical mode ------------------------------------------------------------------------


def test_lexical_mode_accuracy_floor(lexical: IntentClassifier) -> None:
    rows = load_dataset()
    results = asyncio.run(classify_all(lexical, [row["text"] for row in rows]))
    assert {result.source for result in results} <= {"rule", "lexical"}
    scores = accuracy(rows, results)
    assert scores["all"] >= LEXICAL_OVERALL, scores
    low = {intent: scores[intent] for intent in INTENTS if scores[intent] < LEXICAL_PER_INTENT}
    assert not low, low


@pytest.mark.parametrize(("text", "intent"), FOLLOW_UPS)
async def test_lexical_follow_ups(lexical: IntentClassifier, text: str, intent: str) -> None:
    assert (await lexical.classify(text)).intent == intent


@pytest.mark.parametrize("text", GIBBERISH + [""])
async def test_lexical_gibberish_is_not_confident(lexical: IntentClassifier, text: str) -> None:
    result = await lexical.classify(text)
    assert result.confidence < lexical.threshold and not result.confident


async def test_confidence_is_in_unit_range(lexical: IntentClassifier) -> None:
    for row in load_dataset()[::7]:
        result = await lexical.classify(row["text"])
        assert 0.0 <= result.confidence <= 1.0
        assert result.threshold == lexical.threshold
        assert len(result.scores) >= 1


# -- fallbacks around the embedder -------------------------------------------------------


class FakeEmbedder:
    """Stands in for `Embedder`: deterministic vectors, counts how often prototypes are embedded."""

    def __init__(self, fail: bool = False) -> None:
        self.ready = True
        self.fail = fail
        self.batches = 0

    async def aencode(self, texts: list[str]) -> np.ndarray:
        self.batches += 1
        await asyncio.sleep(0.01)  # let concurrent first messages overlap
        if self.fail:
            raise RuntimeError("model gone")
        return np.stack([self._vector(text) for text in texts])

    async def query(self, text: str) -> np.ndarray:
        return self._vector(text)

    @staticmethod
    def _vector(text: str) -> np.ndarray:
        vector = np.random.default_rng(abs(hash(text)) % 2**32).standard_normal(384).astype(np.float32)
        return vector / np.linalg.norm(vector)


async def test_prototypes_are_embedded_once() -> None:
    fake = FakeEmbedder()
    classifier = IntentClassifier(load_intent_config(), fake)  # type: ignore[arg-type]
    results = await asyncio.gather(*(classifier.classify(f"some message {i}") for i in range(5)))
    await classifier.classify("another one")
    assert fake.batches == 1
    assert {result.source for result in results} == {"embedding"}


async def test_failing_embedder_falls_back_to_lexical() -> None:
    classifier = IntentClassifier(load_intent_config(), FakeEmbedder(fail=True))  # type: ignore[arg-type]
    result = await classifier.classify("laal saree dikhao")
    assert result.source == "lexical" and result.intent == "browse_search"


async def test_unloaded_embedder_is_not_used() -> None:
    embedder = Embedder()  # never loaded
    classifier = IntentClassifier(load_intent_config(), embedder)
    assert not await classifier.warm()
    assert (await classifier.classify("laal saree dikhao")).source == "lexical"
    embedder.close()


# -- the real model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedder() -> Iterator[Embedder]:
    model = Embedder(threads=1)
    model.load()  # without the model package: not ready, saying why
    need(None if model.ready else f"embedding model unavailable: {model.error}")
    yield model
    model.close()


@pytest.fixture(scope="module")
def full(embedder: Embedder) -> IntentClassifier:
    classifier = IntentClassifier(load_intent_config(), embedder)
    assert asyncio.run(classifier.warm())
    return classifier


@pytest.fixture(scope="module")
def full_scores(full: IntentClassifier) -> dict[str, Any]:
    rows = load_dataset()
    return accuracy(rows, asyncio.run(classify_all(full, [row["text"] for row in rows])))


def test_accuracy_overall(full_scores: dict[str, Any]) -> None:
    assert full_scores["all"] >= FULL_OVERALL, full_scores["misses"]


@pytest.mark.parametrize("intent", INTENTS)
def test_accuracy_per_intent(full_scores: dict[str, Any], intent: str) -> None:
    misses = [miss for miss in full_scores["misses"] if miss[1] == intent]
    assert full_scores[intent] >= FULL_PER_INTENT, misses


def test_accuracy_hinglish(full_scores: dict[str, Any]) -> None:
    assert full_scores["hinglish"] >= FULL_HINGLISH
    assert full_scores["en"] >= FULL_OVERALL


@pytest.mark.parametrize(("text", "intent"), FOLLOW_UPS)
async def test_follow_ups(full: IntentClassifier, text: str, intent: str) -> None:
    result = await full.classify(text)
    assert result.intent == intent and result.confident


@pytest.mark.parametrize("text", GIBBERISH + [""])
async def test_gibberish_is_not_confident(full: IntentClassifier, text: str) -> None:
    result = await full.classify(text)
    assert not result.confident, result


async def test_clear_messages_are_confident(full: IntentClassifier) -> None:
    for text in ("show me red silk sarees under 10k", "mera order kahan hai", "what's your return policy"):
        assert (await full.classify(text)).confident
