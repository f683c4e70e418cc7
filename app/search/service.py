"""Product search: the product table, the BM25 text index and the vector index, kept in step,
and the ranking steps the streaming endpoints run one by one.

Built from the store at start-up (in the background: the text index is usable within
seconds, vectors once the model is loaded and every product has an embedding) and kept
current by `upsert` and `delete` without a restart.

What a query matches, which `total` and the facets count (every product, not the pools that
ranking looked at):
- a product matches when it passes every filter (given, or read from the query text) and its
  text holds at least one of the ranking words as BM25 reads them: the same folding, typo
  tolerance and last-word completions, i.e. exactly the products with a positive BM25 score;
- when no product passing the filters holds any of the words, the filters alone say what was
  asked ("under 5000" has no word a product carries): every product passing them matches;
- with no filter and no word matching (a word the catalog does not use), the products nearest
  in meaning are the results: the `POOL` best at or above `VECTOR_FLOOR`. Only then is the
  count bounded by a pool; a cosine floor alone does not make a match (at 0.25, 3,770 of the
  5,000 demo products are "similar" to "embroidered").
Vector similarity ranks the matches; it never adds a product that does not match.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from bson import Binary

from app.language.reading import in_english
from app.search.constraints import Filters
from app.search.embedder import DIM, MODEL_ID, Embedder, product_text
from app.search.clicks import ClickScores, rerank
from app.search.index_state import IndexLife, IndexState
from app.search.merchandising import Arranged, Merchandise, Move, arrange, expansions
from app.search.products import Product, ProductTable, sort_key
from app.search.query_parse import ParsedQuery, parse_query
from app.search.text_index import Reading, TextIndex
from app.search.vector_index import VectorIndex
from app.search.vocabulary import CatalogTerms, Vocabulary, learn, load_vocabulary

if TYPE_CHECKING:
    from app.store.repositories import Products


class ProductFeed(Protocol):
    """What keeping the index current reads and writes: `Products`, or a view of it."""

    async def changed_since(self, since: float, limit: int = 5000) -> list[Product]: ...

    async def upsert_many(self, products: Iterable[Product]) -> int: ...

log = logging.getLogger("storestream.search")

RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
EMBED_BATCH = 256
POOL = 200  # candidates taken from each ranker before fusion
RULE_WINDOW = 50  # products below a page a merchant's boost can lift into it
VECTOR_FLOOR = 0.25  # cosine below which a vector hit does not count as a match


@dataclass(frozen=True, slots=True)
class Plan:
    """What a query means before ranking: filters (explicit, plus those read from the text
    that the catalog can satisfy), the words to rank by, the candidate set, the words as the
    text index read them (`reading`: its groups and typo corrections, computed once for both
    rankers), and the English reading of a query in another language (`meaning`; see
    `SearchService.plan`)."""

    parsed: ParsedQuery
    filters: Filters
    ranking: str
    candidates: set[str] | None
    reading: Reading
    meaning: str = ""
    query: str = ""  # as the shopper typed it: what the merchant's rules match
    asked: Filters = Filters()  # the filters the shopper chose (not read from the words): a pin stays inside them

    @property
    def embedded(self) -> str | Reading:
        """What the embedder reads: a query's English reading, else its words as the index read
        them (typos corrected)."""
        return self.meaning or self.reading


def ranking_text(parsed: ParsedQuery, original: str) -> str:
    """Words to rank by: what the parser left, plus the words behind the filters it set
    (they still say which products fit best). Never empty for a non-empty query."""
    asked = parsed.filters
    words = [parsed.residual, asked.category or "", " ".join(asked.colors), asked.fabric or "", asked.occasion or ""]
    text = " ".join(w for w in words if w).strip()
    return text or original


@dataclass(frozen=True, slots=True)
class Hit:
    sku: str
    score: float  # fused
    text_score: float | None
    vector_score: float | None
    moves: tuple[Move, ...] = ()  # the merchant's rules that moved it (app/search/merchandising.py)


def rrf(
    text: list[tuple[str, float]], vector: list[tuple[str, float]], k: int = RRF_K
) -> list[Hit]:
    """Reciprocal rank fusion: each list votes 1/(k + rank); raw scores are kept to explain."""
    fused: dict[str, float] = {}
    text_scores = dict(text)
    vector_scores = dict(vector)
    for ranked in (text, vector):
        for rank, (sku, _) in enumerate(ranked, start=1):
            fused[sku] = fused.get(sku, 0.0) + 1.0 / (k + rank)
    order = sorted(fused.items(), key=lambda item: item[1], reverse=True)
    return [Hit(sku, score, text_scores.get(sku), vector_scores.get(sku)) for sku, score in order]


@dataclass(frozen=True, slots=True)
class Results:
    """What a query found: `matched`, every product it matches (see the module docstring),
    which `total` and the facets count; `hits`, the head of the ranking (the text and vector
    pools fused, matches only); `text_scores`, the BM25 score of every word match."""

    hits: list[Hit]
    matched: Collection[str]
    text_scores: Mapping[str, float]

    @property
    def total(self) -> int:
        return len(self.matched)


def top(scores: Mapping[str, float], k: int) -> list[tuple[str, float]]:
    """The `k` best (sku, score) pairs, best first."""
    return heapq.nlargest(k, scores.items(), key=itemgetter(1))


def _beyond_head(product: Product, text_score: float) -> tuple[Any, ...]:
    """Order of the matches the fused head does not hold: more of the words first, then
    in stock, better rated, cheaper, and the SKU so that a page is always the same."""
    rating = product.get("rating")
    price = product.get("price")
    return (-text_score, not product.get("in_stock", True),
            -(rating if isinstance(rating, (int, float)) else 0.0),
            price if isinstance(price, (int, float)) else float("inf"), product["sku"])


def embedding_of(doc: Product) -> np.ndarray | None:
    raw = doc.get("embedding")
    if doc.get("embedding_model") != MODEL_ID or not isinstance(raw, (bytes, Binary)):
        return None
    vector = np.frombuffer(bytes(raw), dtype=np.float32)
    return vector if vector.shape == (DIM,) else None


def with_embedding(product: Product, vector: np.ndarray) -> Product:
    return {**product, "embedding": Binary(vector.astype(np.float32).tobytes()), "embedding_model": MODEL_ID}


def _text(query: str | Reading) -> str:
    return query if isinstance(query, str) else query.query


def _public(doc: Product) -> Product:
    return {k: v for k, v in doc.items() if k not in ("embedding", "embedding_model", "_id")}


class SearchService(IndexLife):
    def __init__(self, embedder: Embedder | None, *, exact_max: int, default_vocabulary: Vocabulary | None = None) -> None:
        super().__init__()
        self.embedder = embedder
        # What query words mean before the catalog says (None: config/vocabulary.toml).
        self.default_vocabulary = default_vocabulary or load_vocabulary()
        self.terms = CatalogTerms()  # what the indexed products carry, counted
        # Learned from `terms` by the writers (`_relearn`), once per build, batch or removal;
        # readers only read it, so a query never pays for learning.
        self._vocabulary = learn(self.terms, self.default_vocabulary)
        self.table = ProductTable()
        self.merchandise = Merchandise()  # the merchant's synonyms and rules in force
        self.clicks = ClickScores()  # what shoppers' clicks taught, per query with the traffic
        self.text = TextIndex()
        self.vectors = VectorIndex(dim=DIM, exact_max=exact_max)
        self.progress = (0, 0)
        self.watermark: float | None = None  # newest `updated_at` (Unix seconds) indexed
        self._missing: list[Product] = []  # built without an embedding
        self.embedding = (0, 0)  # (embedded, to embed) while embeddings are computed

    def build_from(self, docs: Iterable[Product]) -> None:
        """Index these products without a store, ready at once (benchmarks)."""
        self._state = IndexState.BUILDING
        self.index(docs)
        self._state = IndexState.READY

    @property
    def vectors_ready(self) -> bool:
        return self.embedder is not None and self.embedder.ready and len(self.vectors) > 0

    # -- building and keeping current ------------------------------------------------------

    async def build(self, products: Products) -> None:
        """Index every stored product (text at once; vectors from stored embeddings). Products
        without a current embedding are kept for `embed_missing`."""
        self._state = IndexState.BUILDING
        self.watermark = 0.0
        started = time.perf_counter()
        total = await products.estimated_count()
        self.progress = (0, total)
        missing: list[Product] = []
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        async for doc in products.all(batch_size=2000):
            self._advance(doc)
            self._index_product(_public(doc), bulk=True)
            vector = embedding_of(doc)
            if vector is None:
                missing.append(_public(doc))
            else:
                ids.append(doc["sku"])
                vectors.append(vector)
            done = self.progress[0] + 1
            self.progress = (done, total)
            if done % 50000 == 0:
                log.info("search index: %d/%d products", done, total)
        self._relearn()
        self._state = IndexState.READY  # text search works from here; vectors join below
        log.info(
            "search index: %d products, text ready in %.1f s (%d stored embeddings, %d to compute)",
            len(self.table), time.perf_counter() - started, len(ids), len(missing),
        )
        if ids:
            # A graph over many vectors takes seconds to minutes to build: build it in a
            # worker thread into a new index and swap it in, so the event loop keeps serving.
            fresh = VectorIndex(dim=DIM, exact_max=self.vectors.exact_max)
            await asyncio.to_thread(fresh.add, ids, np.vstack(vectors))
            self.vectors = fresh
            log.info("search index: %d vectors ready in %.1f s", len(fresh), time.perf_counter() - started)
        self._missing = missing

    async def embed_missing(self, products: Products) -> None:
        """Compute and store the embeddings `build` found missing (once the model is loaded)."""
        missing, self._missing = self._missing, []
        if missing and self.embedder is not None and self.embedder.ready:
            await self._embed_and_store(products, missing)

    async def _embed_and_store(self, products: ProductFeed, missing: list[Product]) -> None:
        assert self.embedder is not None
        started = time.perf_counter()
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            matrix = await self.embedder.aencode([product_text(p) for p in batch])
            await products.upsert_many(with_embedding(p, v) for p, v in zip(batch, matrix))
            self.vectors.add([p["sku"] for p in batch], matrix)
            done = min(start + EMBED_BATCH, len(missing))
            self.embedding = (done, len(missing))
            if done == len(missing) or (start // EMBED_BATCH) % 20 == 0:
                log.info("search index: embedded %d/%d products", done, len(missing))
        log.info("search index: %d embeddings computed in %.1f s", len(missing), time.perf_counter() - started)

    async def embed(self, items: list[Product]) -> list[Product]:
        """Products with embeddings attached (when the model is available)."""
        if self.embedder is None or not self.embedder.ready or not items:
            return items
        out: list[Product] = []
        for start in range(0, len(items), EMBED_BATCH):
            batch = items[start : start + EMBED_BATCH]
            matrix = await self.embedder.aencode([product_text(p) for p in batch])
            out += [with_embedding(p, v) for p, v in zip(batch, matrix)]
        return out

    async def follow(self, products: ProductFeed, interval_s: float) -> None:
        """Index what other writers (an import) stored since the last look; runs forever."""
        while True:
            await asyncio.sleep(interval_s)
            if self.watermark is None:
                continue
            try:
                while docs := await products.changed_since(self.watermark):
                    missing = [_public(d) for d in docs if embedding_of(d) is None]
                    self.index(docs)
                    log.info("search sync: %d changed products indexed", len(docs))
                    if missing and self.embedder is not None and self.embedder.ready:
                        await self._embed_and_store(products, missing)
            except Exception as exc:  # noqa: BLE001 - the database may be down for a while
                log.warning("search sync skipped: %s", type(exc).__name__)

    def _advance(self, doc: Product) -> None:
        stamp = doc.get("updated_at")
        if isinstance(stamp, (int, float)) and (self.watermark is None or stamp > self.watermark):
            self.watermark = stamp

    def index(self, docs: Iterable[Product]) -> None:
        """Make stored documents searchable (after the store acknowledged them)."""
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        for doc in docs:
            self._advance(doc)
            self._index_product(_public(doc))
            vector = embedding_of(doc)
            if vector is not None:
                ids.append(doc["sku"])
                vectors.append(vector)
            elif doc["sku"] in self.vectors:
                self.vectors.remove(doc["sku"])
        if ids:
            self.vectors.add(ids, np.vstack(vectors))
        self._relearn()

    def unindex(self, sku: str) -> bool:
        before = self.table.get(sku)
        if before is not None:
            self.terms.remove(before)
            self._relearn()
        found = self.table.remove(sku)
        if sku in self.text:
            self.text.remove(sku)
        if sku in self.vectors:
            self.vectors.remove(sku)
        return found

    def _index_product(self, product: Product, *, bulk: bool = False) -> None:
        before = self.table.get(product["sku"])
        if before is not None:
            self.terms.remove(before)
        self.terms.add(product)
        self.table.upsert(product, bulk=bulk)
        self.text.upsert(product["sku"], product)

    def _relearn(self) -> None:
        self._vocabulary = learn(self.terms, self.default_vocabulary)

    @property
    def vocabulary(self) -> Vocabulary:
        """The store's vocabulary: learned from the indexed products over the default
        (`app.search.vocabulary.learn`), again whenever products are indexed or removed (from
        their counts: a few ms, not a scan of the catalog)."""
        return self._vocabulary

    # -- ranking steps ---------------------------------------------------------------------

    def plan(self, query: str, explicit: Filters) -> Plan:
        """The query read in the store's terms. A query in Hindi, Persian, Russian or Hebrew
        is also read into English (`app.language.reading`): its filters are those of either
        reading the catalog carries (the words as typed first: a catalog in that language),
        the text ranks by both readings' words (a word the catalog does not hold scores
        nothing, so each catalog meets the reading in its language), and the embedder, which
        knows English only, reads the English one."""
        parsed = parse_query(query, self.vocabulary)
        known = self.table.known(parsed.filters)
        ranking = ranking_text(parsed, query)
        meaning = ""
        english = in_english(query)
        if english != query:
            read = parse_query(english, self.vocabulary)
            known = known.merged_over(self.table.known(read.filters))
            parsed = ParsedQuery(known, " ".join(w for w in (parsed.residual, read.residual) if w))
            meaning = ranking_text(read, english)
            ranking = f"{ranking} {meaning}"
        widen = expansions(query, self.merchandise.synonyms)  # the merchant's synonyms: words, never filters
        if widen:
            ranking = " ".join([ranking, *widen])
        filters = explicit.merged_over(known)
        return Plan(parsed, filters, ranking, self.table.candidates(filters), self.text.read(ranking), meaning,
                    query, explicit)

    def candidates(self, filters: Filters) -> set[str] | None:
        return self.table.candidates(filters)

    async def hybrid(self, plan: Plan, k: int = POOL) -> Results:
        """The whole search in one call (for benchmarks and tools; the stream runs the steps
        itself to report progress between them)."""
        scores = self.word_matches(plan.reading, plan.candidates)
        vector_hits = await self.vector_search(plan.embedded, plan.candidates, k) or []
        return self.fuse(plan, scores, [(sku, s) for sku, s in vector_hits if s >= VECTOR_FLOOR], k)

    def word_matches(self, query: str | Reading, candidates: set[str] | None) -> dict[str, float]:
        """BM25 score of every product among `candidates` that holds any of the words (a
        `Reading`: as the plan read them)."""
        if not _text(query).strip():
            return {}
        return self.text.scores(query, candidates)

    def text_search(self, query: str | Reading, candidates: set[str] | None, k: int) -> list[tuple[str, float]]:
        return top(self.word_matches(query, candidates), k)

    def fuse(
        self, plan: Plan, scores: Mapping[str, float], vector_hits: list[tuple[str, float]], k: int = POOL
    ) -> Results:
        """Results from both rankers' output: the matches (module docstring) and their head,
        the best `k` of each ranker fused by RRF."""
        matched: Collection[str]
        if scores:
            matched = scores.keys()
        elif plan.candidates is not None:
            matched = plan.candidates
        else:
            matched = {sku for sku, _ in vector_hits}
        fused = rrf(top(scores, k), vector_hits[:k])
        return Results([h for h in fused if h.sku in matched], matched, scores)

    def matching(self, query: str, filters: Filters) -> Collection[str]:
        """What `query` matches within `filters` by the first two rules of the module docstring
        (the words, else the filters alone): for counting what the catalog holds, as a market
        snapshot does, with the same figures the search reports."""
        candidates = self.candidates(filters)
        scores = self.word_matches(query, candidates)
        if scores:
            return scores.keys()
        return candidates if candidates is not None else ()

    def page(self, results: Results, limit: int, sort: str = "relevance", plan: Plan | None = None,
             ) -> list[tuple[Product, Hit]]:
        """The first `limit` matches in `sort` order, each with its scores. With the `plan`,
        over the page and the `RULE_WINDOW` products after it: by relevance, re-ranked by what
        shoppers clicked for this query when it has the traffic (`clicks`); then the merchant's
        rules for it (`merchandised`), which have the last word."""
        if plan is None:
            return self._page(results, limit, sort)
        rules = [r for r in self.merchandise.rules if r.applies(plan.query, plan.filters.as_dict())]
        learned = self.clicks.of(plan.query) if sort == "relevance" else None
        if not rules and not learned:
            return self._page(results, limit, sort)
        window = self._page(results, limit + RULE_WINDOW + sum(len(r.hide) for r in rules), sort)
        hits = {prod["sku"]: hit for prod, hit in window}
        skus = rerank([prod["sku"] for prod, _ in window], learned)
        arranged = self.merchandised(skus, plan.query, plan.filters, self.candidates(plan.asked),
                                     reorder=sort == "relevance")
        out: list[tuple[Product, Hit]] = []
        for sku in arranged.skus[:limit]:
            hit = hits.get(sku) or Hit(sku, 0.0, None, None)
            out.append((self.table.products[sku], replace(hit, moves=tuple(arranged.moves.get(sku, ())))))
        return out

    def use_clicks(self, scores: ClickScores) -> None:
        """What shoppers' clicks taught, from now on (replaced whole; app/search/clicks.py)."""
        self.clicks = scores

    def merchandised(self, ranked: Sequence[str], query: str, filters: Filters, candidates: set[str] | None, *,
                     reorder: bool = True) -> Arranged:
        """`ranked` (SKUs, best first) with the merchant's rules for `query` and `filters`
        applied; a pinned product must be in the catalog and among `candidates` (those of the
        filters the shopper chose: a merchant pins a saree for "kurta", not for category=kurta)."""
        return arrange(ranked, self.table.products.get, self.merchandise.rules, query=query,
                       filters=filters.as_dict(), reorder=reorder,
                       allowed=lambda sku: candidates is None or sku in candidates)

    def hidden(self, query: str, filters: Filters) -> frozenset[str]:
        """What the merchant's rules hide from `query` within `filters`."""
        asked = filters.as_dict()
        return frozenset(sku for r in self.merchandise.rules if r.applies(query, asked) for sku in r.hide)

    def use(self, merchandise: Merchandise) -> None:
        """The merchant's synonyms and rules from now on (replaced whole: app/search/merchandising.py `Book`)."""
        self.merchandise = merchandise

    def _page(self, results: Results, limit: int, sort: str) -> list[tuple[Product, Hit]]:
        """The first `limit` matches in `sort` order, each with its scores. By relevance: the
        fused head, then the other matches (`_beyond_head`); by a field: over every match,
        relevance breaking ties, then the SKU."""
        table = self.table.products
        head = {h.sku: h for h in results.hits}
        scores = results.text_scores
        if sort == "relevance":
            out = [(table[h.sku], h) for h in results.hits[:limit] if h.sku in table]
            if len(out) < limit:
                need = limit - len(out)
                rest = [sku for sku in results.matched if sku not in head and sku in table]
                if len(rest) > need:
                    # More words first: only a match scoring at least the need-th best text
                    # score can be on the page, so only those get the full key (8 µs each;
                    # 0.25 s for the 32,470 matches of "women" at 50,000 products).
                    cut = heapq.nlargest(need, [scores.get(sku, 0.0) for sku in rest])[-1]
                    rest = [sku for sku in rest if scores.get(sku, 0.0) >= cut]
                more = heapq.nsmallest(need, rest, key=lambda sku: _beyond_head(table[sku], scores.get(sku, 0.0)))
                out += [(table[sku], self._hit(sku, scores)) for sku in more]
            return out
        key = sort_key(sort)
        skus = [sku for sku in results.matched if sku in table]
        ordered = heapq.nsmallest(limit, skus, key=lambda sku: (
            *key((table[sku], head[sku].score if sku in head else 0.0)), sku))
        return [(table[sku], head.get(sku) or self._hit(sku, scores)) for sku in ordered]

    @staticmethod
    def _hit(sku: str, scores: Mapping[str, float]) -> Hit:
        """A match outside the fused head: it was in neither ranker's top `POOL`."""
        return Hit(sku, 0.0, scores.get(sku), None)

    def facets(self, results: Results) -> dict[str, Any]:
        return self.table.facets(results.matched)

    async def query_vector(self, query: str | Reading) -> np.ndarray:
        """The embedding of `query` with its misspelt words corrected as the text index reads
        them (`TextIndex.corrected`, or the `Reading`'s, computed once with its groups): a typo
        embeds as another word, and MiniLM has no tolerance for it (WANDS dev, one typo per
        query: vector NDCG@10 0.537 uncorrected, 0.674 corrected, 0.661 on the queries as
        written)."""
        assert self.embedder is not None
        corrected = self.text.corrected(query) if isinstance(query, str) else query.corrected
        return await self.embedder.query(corrected)

    async def vector_search(
        self, query: str | Reading, candidates: set[str] | None, k: int
    ) -> list[tuple[str, float]] | None:
        """Cosine-ranked SKUs, or None when vector search is unavailable."""
        if not self.vectors_ready or not _text(query).strip():
            return None
        vector = await self.query_vector(query)
        return self.vectors.search(vector, k, candidates=candidates)

    async def similar(
        self, query: str, candidates: set[str] | None, k: int, min_score: float
    ) -> tuple[list[tuple[str, float]], int] | None:
        """The `k` products nearest in meaning at or above `min_score`, best first, and how many
        score that high in all; None when vector search is unavailable."""
        if not self.vectors_ready or not query.strip():
            return None
        vector = await self.query_vector(query)
        hits, total = self.vectors.search_counting(vector, k, min_score, candidates)
        return [(sku, s) for sku, s in hits if s >= min_score], total

    def products(self, skus: Iterable[str]) -> list[Product]:
        table = self.table.products
        return [table[sku] for sku in skus if sku in table]

    def product(self, sku: str) -> Product | None:
        return self.table.get(sku)

    def skus(self) -> set[str]:
        """Every SKU in the index (a copy)."""
        return set(self.table.products)

    def indexed(self) -> Collection[Product]:
        """Every product in the index (a live view: read it before the next await)."""
        return self.table.products.values()

    def values(self, name: str) -> list[str]:
        """Every value of a field some product carries, e.g. the brands (lower case)."""
        return self.table.values(name)

    def known(self, filters: Filters) -> Filters:
        """`filters` without the values no product carries (`ProductTable.known`)."""
        return self.table.known(filters)

    def health(self) -> dict[str, Any]:
        done, total = self.progress
        out: dict[str, Any] = {"state": str(self._state), "products": len(self.table), "vectors": len(self.vectors)}
        if self._state is IndexState.BUILDING:
            out["progress"] = f"{done}/{total}"
        embedded, to_embed = self.embedding
        if embedded < to_embed:
            out["embedding"] = f"{embedded}/{to_embed}"
        return out
