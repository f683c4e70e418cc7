"""What a shopper's chat message wants: one of eleven intents, with a calibrated confidence.

The knowledge lives in config/intents.toml (descriptions, labelled prototype examples in English
and romanised Hindi, regex rules, weights, threshold); this module only combines it:

1. Rules first, in file order. A pattern is more reliable than similarity for some things: an
   order number means order_status, "talk to a human" means human_handoff, "compare"/"vs"
   means compare, "refund"/"exchange" means returns_policy, a bare "hi" is a greeting.
2. Otherwise similarity to the prototypes, per intent the mean of the `k` most similar examples
   (a kNN vote that one odd example cannot swing), from two sources:
   - MiniLM sentence embeddings (`app.search.embedder.Embedder`), when it is loaded: good at
     English paraphrase, blind to romanised Hindi (the model is English-only), so examples and
     messages are embedded after a word-by-word English gloss from the config's glossary
     ("ye kab tak wapas aayega" -> "this when until back will come");
   - character n-gram TF-IDF cosine (`CharNgramTfidf`), always: cheap, robust to typos and to
     Hinglish spelling variants ("kaunsa"/"konsa"), so the classifier still works with
     embeddings off and the two sources cover each other's blind spots.
   Each source's scores are mapped to a shared unit scale, (score - floor) / (ceil - floor),
   where floor is what unrelated text scores and ceil what a clear match scores, then blended
   by weight. When even the best intent scores under `reject_below` and the message names
   nothing the catalog sells (no category, colour, fabric, work, size or price), nothing the
   store handles resembles it and the answer is out_of_scope (open-set rejection: eleven lists
   of examples cannot cover everything a shopper might say that is not shopping).
   Per intent, k can be overridden: out_of_scope uses k=1, since each of its examples is a
   different topic and the mean of three would blend weather with cricket.
3. Confidence, in 0..1: support * (0.5 + 0.5 * min(1, margin / full_margin)). Support is the
   best intent's blended score clipped to 0..1 (how much the message looks like any example
   at all); margin is its lead over the runner-up (how sure the choice between intents is).
   Gibberish has no support and lands near 0; a message between two intents keeps at most
   half its support. Below `threshold` the agent should ask a clarifying question
   (`IntentResult.confident`). On tests/data/intents.jsonl at the shipped threshold 0.35,
   90% of messages are confident and 95% of those are right (bench/intent_accuracy.py).

A message in Hindi (Devanagari), Persian, Russian or Hebrew is classified as read into English and
romanised Hindi, the languages of the examples and rules (`app.language.reading.in_english`,
config/languages.toml); the turn reads it once (app/routes/troika.py) and passes the reading here.

Follow-ups are classified like any message: "in blue" and "show me cheaper ones" are
browse_search (refinements of the results; `app.agent.slots.price_direction` tells which way
the price moves), "compare the first two" is compare.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np

from app.search.embedder import Embedder
from app.search.query_parse import parse_query
from app.search.text import normalize
from app.search.vocabulary import Vocabulary, load_vocabulary

log = logging.getLogger("storestream.agent")

class Intent(StrEnum):
    """What a message wants. A StrEnum: the wire, the store and config/intents.toml keep the
    same strings."""

    BROWSE_SEARCH = "browse_search"
    PRODUCT_QUESTION = "product_question"
    COMPARE = "compare"
    PRICE_DISCOUNT = "price_discount"
    SIZE_FIT = "size_fit"
    AVAILABILITY = "availability"
    ORDER_STATUS = "order_status"
    RETURNS_POLICY = "returns_policy"
    GREETING_SMALLTALK = "greeting_smalltalk"
    HUMAN_HANDOFF = "human_handoff"
    OUT_OF_SCOPE = "out_of_scope"


INTENTS: tuple[Intent, ...] = tuple(Intent)  # the order of the classifier's score rows
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "intents.toml"
TOP_SCORES = 4  # how many intents `IntentResult.scores` lists

Source = Literal["rule", "embedding", "lexical"]
Aggregate = Literal["knn", "centroid"]


@dataclass(frozen=True)
class IntentResult:
    """The classifier's answer for one message."""

    intent: Intent
    confidence: float  # 0..1, see the module docstring for how it is computed
    source: Source  # "rule": a pattern decided; "embedding": embeddings took part; "lexical"
    scores: dict[str, float]  # the top few intents' blended scores (a rule: its confidence)
    threshold: float = 0.0

    @property
    def confident(self) -> bool:
        """False: the agent should ask what the shopper means rather than act on `intent`."""
        return self.confidence >= self.threshold


# -- configuration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    intent: Intent
    pattern: re.Pattern[str]
    confidence: float


@dataclass(frozen=True)
class SourceScale:
    """How one similarity source is weighted and put on the shared 0..1 scale."""

    weight: float
    floor: float  # what text unrelated to an intent typically scores
    ceil: float  # what a clear match typically scores

    def unit(self, scores: np.ndarray) -> np.ndarray:
        return (scores - self.floor) / (self.ceil - self.floor)


@dataclass(frozen=True)
class IntentConfig:
    """config/intents.toml, validated."""

    threshold: float
    fallback_intent: Intent
    k: int
    k_per_intent: dict[str, int]
    ngram_range: tuple[int, int]
    embedding: SourceScale
    lexical: SourceScale
    full_margin: float
    reject_below: float
    stopwords: frozenset[str]
    glossary: dict[str, str]
    rules: tuple[Rule, ...]
    descriptions: dict[str, str]
    examples: dict[str, tuple[str, ...]]

    def prototypes(self) -> tuple[list[str], list[str]]:
        """(texts, their intents), every example of every intent in INTENTS order."""
        texts: list[str] = []
        labels: list[str] = []
        for intent in INTENTS:
            texts.extend(self.examples[intent])
            labels.extend([intent] * len(self.examples[intent]))
        return texts, labels


def load_intent_config(path: str | Path | None = None) -> IntentConfig:
    """Read and check the intents file; a mistake raises ValueError naming what is wrong."""
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    intents = raw.get("intents", {})
    missing = [name for name in INTENTS if name not in intents]
    unknown = [name for name in intents if name not in INTENTS]
    if missing or unknown:
        raise ValueError(f"{path}: intents missing {missing}, unknown {unknown}")
    scoring = raw["scoring"]
    lexical = dict(scoring["lexical"])
    stopwords = frozenset(clean(word) for word in lexical.pop("stopwords", []))
    config = IntentConfig(
        threshold=float(raw["threshold"]),
        fallback_intent=_known(raw.get("fallback_intent", "browse_search"), path),
        k=int(scoring["k"]),
        k_per_intent={name: int(intents[name].get("k", scoring["k"])) for name in INTENTS},
        ngram_range=(int(scoring["ngram_min"]), int(scoring["ngram_max"])),
        embedding=SourceScale(**{k: float(v) for k, v in scoring["embedding"].items()}),
        lexical=SourceScale(**{k: float(v) for k, v in lexical.items()}),
        full_margin=float(raw["confidence"]["full_margin"]),
        reject_below=float(raw["confidence"].get("reject_below", 0.0)),
        stopwords=stopwords,
        glossary={clean(k): str(v) for k, v in raw.get("glossary", {}).items()},
        rules=tuple(_rules(raw.get("rules", []), path)),
        descriptions={name: str(intents[name].get("description", "")) for name in INTENTS},
        examples={name: tuple(str(e) for e in intents[name]["examples"]) for name in INTENTS},
    )
    empty = [name for name, examples in config.examples.items() if not examples]
    if empty:
        raise ValueError(f"{path}: intents without examples: {empty}")
    return config


def _known(intent: str, path: Path) -> Intent:
    if intent not in INTENTS:
        raise ValueError(f"{path}: unknown intent {intent!r}")
    return Intent(intent)


def _rules(raw_rules: list[dict[str, Any]], path: Path) -> list[Rule]:
    rules = []
    for entry in raw_rules:
        intent = _known(entry["intent"], path)
        for pattern in entry["patterns"]:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{path}: bad pattern for {intent}: {pattern!r}: {exc}") from None
            rules.append(Rule(intent, compiled, float(entry["confidence"])))
    return rules


def clean(text: str) -> str:
    """The form rules and n-grams see: NFKC, case-folded, apostrophes gone, spaces collapsed."""
    return " ".join(normalize(text).split())


def gloss(text: str, glossary: dict[str, str]) -> str:
    """`text` with each romanised Hindi word of the glossary replaced by its English gloss.

    English text comes back unchanged apart from `clean`; punctuation is kept, since "?" is
    part of what a sentence means to the embedding model.
    """
    if not glossary:
        return clean(text)
    return _WORD.sub(lambda m: glossary.get(m.group(0), m.group(0)), clean(text))


# -- catalog words -----------------------------------------------------------------------

def mentions_catalog(cleaned: str, vocabulary: Vocabulary) -> bool:
    """Whether a cleaned message names something the catalog sells or filters on, in the
    store's `vocabulary` (its categories, colours..., and its work, print and material words).

    Such a message is about the store even when it resembles no example, so it is never
    rejected as out_of_scope for low similarity ("is that real zari or imitation").
    """
    return bool(parse_query(cleaned, vocabulary).filters) or vocabulary.names_detail(cleaned)


# -- lexical similarity ------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


class CharNgramTfidf:
    """Cosine similarity of character n-grams (within words, padded by spaces), TF-IDF weighted.

    Why n-grams: shoppers misspell and romanise Hindi freely ("kaunsa", "konsa", "kon sa"),
    which whole-word matching and the English-only embedding model both miss. N-grams never
    seen in the examples still count in the query's length (at the rarest weight), so a
    message that is mostly unknown text scores low instead of matching on its one known word.
    `stopwords` are left out (unless a text has nothing else): words every intent uses.
    """

    def __init__(self, texts: Sequence[str], ngram_range: tuple[int, int] = (2, 4),
                 stopwords: frozenset[str] = frozenset()) -> None:
        self.ngram_range = ngram_range
        self.stopwords = stopwords
        counts = [self._grams(text) for text in texts]
        document_frequency = Counter(gram for grams in counts for gram in grams)
        self.vocabulary = {gram: i for i, gram in enumerate(sorted(document_frequency))}
        n = len(texts)
        self.idf = np.array(
            [math.log((1 + n) / (1 + document_frequency[g])) + 1 for g in sorted(document_frequency)],
            dtype=np.float32,
        )
        self.unseen_idf = math.log(1 + n) + 1
        self.matrix = np.zeros((n, len(self.vocabulary)), dtype=np.float32)
        for row, grams in enumerate(counts):
            for gram, count in grams.items():
                column = self.vocabulary[gram]
                self.matrix[row, column] = (1 + math.log(count)) * self.idf[column]
        norms = np.linalg.norm(self.matrix, axis=1, keepdims=True)
        self.matrix /= np.maximum(norms, 1e-9)

    def _grams(self, text: str) -> Counter[str]:
        low, high = self.ngram_range
        grams: Counter[str] = Counter()
        all_words = _WORD.findall(clean(text))
        content = [word for word in all_words if word not in self.stopwords]
        for word in content or all_words:
            padded = f" {word} "
            for n in range(low, high + 1):
                grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
        return grams

    def similarities(self, text: str) -> np.ndarray:
        """Cosine of `text` to every fitted text, in fitting order."""
        vector = np.zeros(len(self.vocabulary), dtype=np.float32)
        unseen = 0.0
        for gram, count in self._grams(text).items():
            weight = 1 + math.log(count)
            column = self.vocabulary.get(gram)
            if column is None:
                unseen += (weight * self.unseen_idf) ** 2
            else:
                vector[column] = weight * self.idf[column]
        norm = math.sqrt(float(vector @ vector) + unseen)
        if norm == 0:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        return self.matrix @ (vector / norm)


# -- the classifier ----------------------------------------------------------------------


@dataclass
class _Prototypes:
    """The examples and their intents, with per-intent row indexes for aggregation."""

    texts: list[str]
    labels: list[str]
    rows: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        labels = np.array(self.labels)
        self.rows = {intent: np.flatnonzero(labels == intent) for intent in INTENTS}

    def knn(self, similarities: np.ndarray, k: dict[str, int]) -> np.ndarray:
        """Per intent (INTENTS order): the mean of its k[intent] highest similarities."""
        out = np.empty(len(INTENTS), dtype=np.float32)
        for i, intent in enumerate(INTENTS):
            own = similarities[self.rows[intent]]
            n = min(k[intent], own.size)
            out[i] = float(np.partition(own, -n)[-n:].mean())
        return out


class IntentClassifier:
    """Rules, then kNN over MiniLM embeddings blended with character n-gram TF-IDF.

    `embedder` may be None (or not loaded, or failing): the classifier then runs on rules and
    the lexical source alone, less accurate but never unavailable. The keyword switches exist
    for the benchmark's peers (rules-only, lexical-only, embeddings-only nearest centroid).
    """

    def __init__(
        self,
        config: IntentConfig | None = None,
        embedder: Embedder | None = None,
        *,
        use_rules: bool = True,
        use_lexical: bool = True,
        use_embeddings: bool = True,
        aggregate: Aggregate = "knn",
        vocabulary: Callable[[], Vocabulary] = load_vocabulary,
    ) -> None:
        self.config = config or load_intent_config()
        self.vocabulary = vocabulary  # the store's words, as they are now (`mentions_catalog`)
        self.embedder = embedder if use_embeddings else None
        self.use_rules = use_rules
        self.use_lexical = use_lexical
        self.aggregate = aggregate
        self.prototypes = _Prototypes(*self.config.prototypes())
        self.lexical = CharNgramTfidf(
            self.prototypes.texts, self.config.ngram_range, self.config.stopwords
        )
        self._vectors: np.ndarray | None = None  # prototype embeddings, computed on first use
        self._centroids: np.ndarray | None = None
        self._vectors_lock = asyncio.Lock()
        self._embedding_failed = False

    @classmethod
    def from_file(cls, path: str | Path | None = None, embedder: Embedder | None = None,
                  **switches: Any) -> IntentClassifier:
        return cls(load_intent_config(path), embedder, **switches)

    @property
    def threshold(self) -> float:
        return self.config.threshold

    async def warm(self) -> bool:
        """Embed the prototypes now rather than on the first message; True if embeddings are on."""
        return await self._prototype_vectors() is not None

    async def classify(self, text: str) -> IntentResult:
        """The intent of one message in English or romanised Hindi (a message in another
        language is read first: `app.language.reading.in_english`). Never raises for odd input:
        empty text has confidence 0."""
        cleaned = clean(text)
        if not cleaned:
            return self._result(self.config.fallback_intent, 0.0, "rule", {})
        if self.use_rules:
            rule = self.match_rule(cleaned)
            if rule is not None:
                return self._result(rule.intent, rule.confidence, "rule", {rule.intent: rule.confidence})
        combined, source = await self._combined_scores(text)
        if combined is None:
            return self._result(self.config.fallback_intent, 0.0, "rule", {})
        return self._from_scores(combined, source, mentions_catalog(cleaned, self.vocabulary()))

    def match_rule(self, cleaned: str) -> Rule | None:
        """The first rule whose pattern occurs in the cleaned message."""
        for rule in self.config.rules:
            if rule.pattern.search(cleaned):
                return rule
        return None

    async def source_scores(self, text: str) -> dict[str, np.ndarray]:
        """Raw per-intent similarity (INTENTS order) from each source that is on."""
        out: dict[str, np.ndarray] = {}
        vectors = await self._prototype_vectors()
        if vectors is not None:
            embedded = await self._embed(text)
            if embedded is not None:
                out["embedding"] = self._aggregate(vectors, embedded)
        if self.use_lexical:
            out["lexical"] = self.prototypes.knn(self.lexical.similarities(text), self.config.k_per_intent)
        return out

    # -- internals ------------------------------------------------------------------------

    async def _combined_scores(self, text: str) -> tuple[np.ndarray | None, Source]:
        """Weighted mean of the sources on the unit scale, and which source led it."""
        raw = await self.source_scores(text)
        if not raw:
            return None, "rule"
        scales = {"embedding": self.config.embedding, "lexical": self.config.lexical}
        total = sum(scales[name].weight for name in raw)
        combined = np.sum([scales[name].weight * scales[name].unit(scores) for name, scores in raw.items()], axis=0)
        return combined / total, ("embedding" if "embedding" in raw else "lexical")

    def _aggregate(self, vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
        if self.aggregate == "centroid":
            assert self._centroids is not None
            return self._centroids @ query
        return self.prototypes.knn(vectors @ query, self.config.k_per_intent)

    def _from_scores(self, combined: np.ndarray, source: Source, shopping: bool) -> IntentResult:
        order = np.argsort(-combined)
        top, second = float(combined[order[0]]), float(combined[order[1]])
        support = min(1.0, max(0.0, top))
        margin = min(1.0, max(0.0, (top - second) / self.config.full_margin))
        confidence = support * (0.5 + 0.5 * margin)
        scores = {INTENTS[i]: round(float(combined[i]), 4) for i in order[:TOP_SCORES]}
        rejected = top < self.config.reject_below and not shopping
        intent = Intent.OUT_OF_SCOPE if rejected else INTENTS[order[0]]
        return self._result(intent, confidence, source, scores)

    def _result(self, intent: Intent, confidence: float, source: Source,
                scores: dict[str, float]) -> IntentResult:
        return IntentResult(intent, round(confidence, 4), source, scores, self.config.threshold)

    async def _prototype_vectors(self) -> np.ndarray | None:
        """Prototype embeddings, computed once in the embedder's worker thread; None if off."""
        if self.embedder is None or self._embedding_failed or not self.embedder.ready:
            return None
        if self._vectors is None:
            async with self._vectors_lock:
                if self._vectors is None:
                    try:
                        glossed = [gloss(text, self.config.glossary) for text in self.prototypes.texts]
                        vectors = await self.embedder.aencode(glossed)
                    except Exception:  # noqa: BLE001 - the lexical source still answers
                        log.exception("intent prototypes could not be embedded; lexical only")
                        self._embedding_failed = True
                        return None
                    self._centroids = self._centroid_matrix(vectors)
                    self._vectors = vectors
        return self._vectors

    def _centroid_matrix(self, vectors: np.ndarray) -> np.ndarray:
        rows = [vectors[self.prototypes.rows[intent]].mean(axis=0) for intent in INTENTS]
        centroids = np.stack(rows)
        return centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    async def _embed(self, text: str) -> np.ndarray | None:
        assert self.embedder is not None
        try:
            return await self.embedder.query(gloss(text, self.config.glossary))
        except Exception:  # noqa: BLE001 - one failed embedding falls back to lexical
            log.exception("intent query could not be embedded; lexical only for this message")
            return None
