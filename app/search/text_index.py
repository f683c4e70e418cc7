"""An in-memory inverted index ranking products with BM25, tolerant of typos and half-typed words.

Scoring is BM25 (k1=1.2, b=0.5) over one weighted bag of words per product: a term's
frequency is the sum of its per-field counts times `FIELD_WEIGHTS` (the category 2, the rest 1),
and the document length is the same weighted sum. Lengths and idf are read at query time,
which keeps `add`, `remove` and `upsert` exact without any rebuild. The sum over the query's
groups is then multiplied by the share of the groups a product holds (Lucene's classic
"coord" factor): a product holding one rare word of the query must not outrank one holding
most of its words (WANDS dev: text NDCG@10 0.659 without, 0.668 with).

Each query term becomes a group of index terms, scored like one synonym set: the group's
document frequency is the sum of its members' (capped at N), so a rare completion is not
favoured over a common one, and a product scores only the best member of each group (never
the sum, so three prefix completions cannot beat one exact hit). Members are:
- the exact folded term (weight 1.0) when the index knows it;
- otherwise its typo neighbours: 1 edit for terms of 5+ characters, 2 edits from 9+, with
  adjacent swaps counting as one edit (weights `FUZZY_WEIGHTS`: one edit counts in full). A
  term the index knows is never expanded, so "shirt" does not pull in "skirt";
- for the last word of a query not ending in whitespace, also its completions ("leh" ->
  lehenga), the `MAX_COMPLETIONS` most frequent, at `PREFIX_WEIGHT`; unless the index knows
  the word itself: a whole word is most likely finished, and its completions crowd its own
  matches ("grey" pulled in the brand "greyleigh" on WANDS).

A word with none of these members that runs two index terms of 3+ letters together
("roomtables") becomes two groups, one per half (`split`): a missing space is a typo no edit
distance of 1-2 reaches.

`corrected` rewrites a query with those typo corrections and splits, for rankers that read the
text (the embedder) rather than the index's terms. `read` returns both the groups and the
corrected text from one lookup per word: a hybrid search reads its query once.

Typo candidates come from a deletion-neighbourhood map (SymSpell): every term of 4+ characters
is stored under itself and each string one deletion away (two for terms of 9+), and a query
term probes the same way, so lookup cost depends on the term's length, not the vocabulary's.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, itemgetter, mul, truediv
from typing import Any

from app.search.text import fold, indexable, terms, tokens, words

K1 = 1.2
# Length normalisation at half strength (Lucene's default is 0.75): a product's text here is
# short structured fields (title, kind, brand, attributes), where a longer title is more
# detail rather than more verbosity. On WANDS dev the hybrid's NDCG@10 is 0.746 at 0.75 and
# 0.758-0.762 anywhere from 0.3 to 0.6, text alone flat (0.714-0.722): figures on the 20
# queries b was looked at on. Held out, leave one query out: b chosen on the other 19 scores
# 0.758 on the one left out (bench/search_relevance.py, "Investigation"; docs/benchmarks.md).
# 0.5 is the middle of that plateau, not its best point on these 20 queries (0.3).
B = 0.5
# Every field counts alike. Multiplying a title hit's frequency by 4 (as this index once did)
# pushes it into BM25's saturation at once and inflates the title's share of the length, so a
# product whose title merely repeats a common word outranked one matching the words once in
# each field: on WANDS dev, text NDCG@10 0.616 with title 4 / brand 3 / category 3 /
# attributes 2, 0.645 with all 1 (docs/benchmarks.md). The product kind alone weighs twice: a
# query names a kind and a property ("leather shoes"), and a product of that kind without the
# property is nearer than the property on another kind (the native-script test catalogs).
FIELD_WEIGHTS: dict[str, int] = {
    "title": 1,
    "brand": 1,
    "category": 2,  # category and subcategory: the product kind
    "attributes": 1,  # attribute values and colours
    "description": 1,
}
# A word the index does not know has only its corrections in its group, so a lower weight
# would only shrink that word against the correctly typed ones: the closest correction counts
# in full (one typo per WANDS query then costs 0.001 text NDCG@10 instead of 0.025); two
# edits stay below one, so the closer correction wins within a group.
FUZZY_WEIGHTS: dict[int, float] = {1: 1.0, 2: 0.8}
PREFIX_WEIGHT = 0.8
PREFIX_MIN_CHARS = 2
MAX_COMPLETIONS = 10
MAX_TYPO_MATCHES = 8
MIN_SPLIT_PART = 3  # shortest half of a run-together word ("bedframe": bed, frame)
MIN_FUZZY_TERM = 4  # shortest index term a typo can land on (a 5-letter query minus one edit)

Group = list[tuple[str, float]]
_REAL, _IMAG = attrgetter("real"), attrgetter("imag")
Typos = Callable[[str], list[tuple[str, int]]]
Split = Callable[[str], "tuple[str, str] | None"]


@dataclass(frozen=True, slots=True)
class Reading:
    """A query as the index read it: `groups`, one per query term (module docstring), and
    `corrected`, its text with the same corrections and splits (the query itself when there
    were none). Valid for the index as it was when read."""

    query: str
    groups: list[Group]
    corrected: str


def _once(lookup: Callable[[str], Any]) -> Callable[[str], Any]:
    """`lookup` remembering its answers, for the length of one query's reading."""
    seen: dict[str, Any] = {}

    def cached(term: str) -> Any:
        if term not in seen:
            seen[term] = lookup(term)
        return seen[term]

    return cached


def max_edits(term: str) -> int:
    """Typos tolerated in a query term: none below 5 characters, 1 from 5, 2 from 9."""
    return 2 if len(term) >= 9 else 1 if len(term) >= 5 else 0


def _stored_depth(term: str) -> int:
    """Deletions stored for an index term; enough for every query `max_edits` allows."""
    return 2 if len(term) >= 9 else 1 if len(term) >= MIN_FUZZY_TERM else 0


def deletions(term: str, depth: int) -> set[str]:
    """`term` and every string reachable by deleting up to `depth` characters."""
    out = {term}
    frontier = {term}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (an adjacent swap is one edit), capped at limit + 1."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        ca = a[i - 1]
        cur = [i] + [0] * len(b)
        row_min = i
        for j in range(1, len(b) + 1):
            cb = b[j - 1]
            best = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb and before[j - 2] + 1 < best:
                best = before[j - 2] + 1
            cur[j] = best
            row_min = min(row_min, best)
        if row_min > limit:
            return limit + 1
        before, prev = prev, cur
    return min(prev[-1], limit + 1)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            if isinstance(item, str):
                yield item


def product_fields(product: Mapping[str, Any]) -> dict[str, str]:
    """The searchable text of a product, by `FIELD_WEIGHTS` field (colours count as attributes)."""
    attributes = product.get("attributes") or {}
    attribute_text = [s for v in attributes.values() for s in _strings(v)]
    attribute_text.extend(_strings(product.get("colors")))
    return {
        "title": product.get("title") or "",
        "brand": product.get("brand") or "",
        "category": f"{product.get('category') or ''} {product.get('subcategory') or ''}",
        "attributes": " ".join(attribute_text),
        "description": product.get("description") or "",
    }


def weighted_terms(product: Mapping[str, Any]) -> tuple[dict[str, int], int]:
    """(term -> weighted frequency, weighted length) for one product."""
    counts: dict[str, int] = {}
    length = 0
    for field, text in product_fields(product).items():
        weight = FIELD_WEIGHTS[field]
        for term in terms(text):
            counts[term] = counts.get(term, 0) + weight
            length += weight
    return counts, length


def idf(df: int, n_docs: int) -> float:
    """BM25 inverse document frequency (the always-positive Lucene form)."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _matching(postings: dict[str, int], candidates: set[str] | None) -> Iterable[tuple[str, int]]:
    """(doc id, tf) pairs of a posting list within `candidates`, walking the smaller side."""
    if candidates is None:
        return postings.items()
    if len(candidates) < len(postings):
        return [(d, postings[d]) for d in candidates if d in postings]
    return [(d, tf) for d, tf in postings.items() if d in candidates]


class TextIndex:
    """Products by id, searchable as you type; mutations are visible to the next search."""

    def __init__(self) -> None:
        self._postings: dict[str, dict[str, int]] = {}  # term -> {doc id: weighted tf}
        self._doc_terms: dict[str, tuple[str, ...]] = {}
        self._doc_len: dict[str, int] = {}
        self._total_len = 0
        # Prefix ranges: a sorted term list, brought up to date on first use after changes.
        # Dropped terms linger until the next full sort and are skipped when read.
        self._sorted_terms: list[str] = []
        self._unsorted_terms: list[str] = []
        self._neighbours: dict[str, str | set[str]] = {}  # deletion variant -> term(s)

    def __len__(self) -> int:
        return len(self._doc_len)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._doc_len

    @property
    def vocabulary_size(self) -> int:
        return len(self._postings)

    # -- mutation ---------------------------------------------------------------------------

    def add(self, doc_id: str, product: Mapping[str, Any]) -> None:
        """Index a new product; an id already present is an error (use `upsert`)."""
        if doc_id in self._doc_len:
            raise ValueError(f"document {doc_id!r} is already indexed")
        counts, length = weighted_terms(product)
        postings = self._postings
        for term, tf in counts.items():
            bucket = postings.get(term)
            if bucket is None:
                bucket = postings[term] = {}
                self._add_term(term)
            bucket[doc_id] = tf
        self._doc_terms[doc_id] = tuple(counts)
        self._doc_len[doc_id] = length
        self._total_len += length

    def remove(self, doc_id: str) -> None:
        """Forget a product; raises KeyError if it is not indexed."""
        doc_terms = self._doc_terms.pop(doc_id)
        self._total_len -= self._doc_len.pop(doc_id)
        for term in doc_terms:
            bucket = self._postings[term]
            del bucket[doc_id]
            if not bucket:
                del self._postings[term]
                self._drop_term(term)

    def upsert(self, doc_id: str, product: Mapping[str, Any]) -> None:
        """Add the product, replacing any earlier version under the same id."""
        if doc_id in self._doc_len:
            self.remove(doc_id)
        self.add(doc_id, product)

    def _add_term(self, term: str) -> None:
        self._unsorted_terms.append(term)
        depth = _stored_depth(term)
        if depth == 0:
            return
        neighbours = self._neighbours
        for variant in deletions(term, depth):
            entry = neighbours.get(variant)
            if entry is None:
                neighbours[variant] = term  # most variants have one owner: skip the set
            elif isinstance(entry, str):
                neighbours[variant] = {entry, term}
            else:
                entry.add(term)

    def _drop_term(self, term: str) -> None:
        neighbours = self._neighbours
        for variant in deletions(term, _stored_depth(term)):
            entry = neighbours.get(variant)
            if entry == term:
                del neighbours[variant]
            elif isinstance(entry, set):
                entry.discard(term)
                if len(entry) == 1:
                    neighbours[variant] = entry.pop()

    # -- lookup -----------------------------------------------------------------------------

    def typo_matches(self, term: str) -> list[tuple[str, int]]:
        """Index terms within `max_edits(term)` of a folded term: (term, edits), closest first."""
        limit = max_edits(term)
        if limit == 0:
            return []
        neighbours = self._neighbours
        seen: set[str] = set()
        found: list[tuple[int, int, str]] = []
        for variant in deletions(term, limit):
            entry = neighbours.get(variant)
            if entry is None:
                continue
            for candidate in (entry,) if isinstance(entry, str) else entry:
                if candidate in seen or candidate == term:
                    continue
                seen.add(candidate)
                edits = edit_distance(term, candidate, limit)
                if edits <= limit:
                    found.append((edits, -len(self._postings[candidate]), candidate))
        found.sort()
        return [(candidate, edits) for edits, _, candidate in found[:MAX_TYPO_MATCHES]]

    def completions(self, prefix: str) -> list[str]:
        """The `MAX_COMPLETIONS` most frequent index terms extending `prefix` (not itself)."""
        terms_ = self._term_list()
        lo = bisect.bisect_left(terms_, prefix)
        hi = bisect.bisect_left(terms_, prefix + "\U0010ffff", lo)
        postings = self._postings
        found = {t: None for t in terms_[lo:hi] if t != prefix and t in postings}
        return heapq.nlargest(MAX_COMPLETIONS, found, key=lambda t: len(postings[t]))

    def _term_list(self) -> list[str]:
        """The sorted vocabulary (possibly with dropped terms); sorts only after changes."""
        pending = self._unsorted_terms
        if pending:
            if len(pending) > 64 or len(self._sorted_terms) > 2 * len(self._postings):
                self._sorted_terms = sorted(self._postings)
            else:
                for term in pending:
                    at = bisect.bisect_left(self._sorted_terms, term)
                    if at == len(self._sorted_terms) or self._sorted_terms[at] != term:
                        self._sorted_terms.insert(at, term)
            pending.clear()
        return self._sorted_terms

    def _exact_or_typos(self, term: str, typos: Typos) -> Group:
        if term in self._postings:
            return [(term, 1.0)]
        return [(match, FUZZY_WEIGHTS[edits]) for match, edits in typos(term)]

    def split(self, term: str) -> tuple[str, str] | None:
        """The two index terms `term` runs together ("roomtables" -> room, table), folded,
        each of `MIN_SPLIT_PART`+ letters; of several splits, the one whose rarer half is the
        most common. None when there is none."""
        postings = self._postings
        best: tuple[str, str] | None = None
        best_df = 0
        if not term.isalpha():
            return None
        for at in range(MIN_SPLIT_PART, len(term) - MIN_SPLIT_PART + 1):
            left, right = fold(term[:at]), fold(term[at:])
            if left in postings and right in postings:
                df = min(len(postings[left]), len(postings[right]))
                if df > best_df:
                    best, best_df = (left, right), df
        return best

    def _groups_of(self, term: str, typos: Typos, split: Split) -> list[Group]:
        """A body term's groups: its exact or typo group, else one per half of its `split`."""
        group = self._exact_or_typos(term, typos)
        if group:
            return [group]
        return [[(half, 1.0)] for half in split(term) or ()]

    def read(self, query: str) -> Reading:
        """`query_groups` and `corrected` of `query`, each word looked up once for both."""
        typos, split = _once(self.typo_matches), _once(self.split)
        return Reading(query, self._query_groups(query, typos, split), self._corrected(query, typos, split))

    def corrected(self, query: str) -> str:
        """`query` with each word the index does not know replaced by its closest index term,
        so that a ranker reading the text (the embedder) sees what the words matched; the
        query itself when nothing was corrected."""
        return self._corrected(query, self.typo_matches, self.split)

    def _corrected(self, query: str, typos: Typos, split: Split) -> str:
        out: list[str] = []
        changed = False
        for word in words(query):
            folded = fold(word)
            if indexable(word) and folded not in self._postings:
                matches = typos(folded)
                halves = None if matches else split(folded)
                if matches or halves:
                    word, changed = matches[0][0] if matches else " ".join(halves or ()), True
            out.append(word)
        return " ".join(out) if changed else query

    def query_groups(self, query: str) -> list[Group]:
        """One group of (index term, weight) per query term; see the module docstring."""
        return self._query_groups(query, self.typo_matches, self.split)

    def _query_groups(self, query: str, typos: Typos, split: Split) -> list[Group]:
        chunks = query.split()
        if not chunks:
            return []
        as_you_type = not query[-1].isspace()
        body, tail = (chunks[:-1], chunks[-1]) if as_you_type else (chunks, "")
        groups: list[Group] = []
        seen: set[str] = set()

        def keep(group: Group) -> None:
            group = [(t, w) for t, w in group if t not in seen]
            seen.update(t for t, _ in group)
            if group:
                groups.append(group)

        for term in dict.fromkeys(terms(" ".join(body))):
            for group in self._groups_of(term, typos, split):
                keep(group)
        for raw in tokens(tail):
            folded = fold(raw)
            group = self._exact_or_typos(folded, typos) if indexable(raw) else []
            if len(raw) >= PREFIX_MIN_CHARS and folded not in self._postings:
                known = {t for t, _ in group}
                for prefix in dict.fromkeys((raw, folded)):
                    for term in self.completions(prefix):
                        if term not in known:
                            known.add(term)
                            group.append((term, PREFIX_WEIGHT))
            for group in [group] if group or not indexable(raw) else self._groups_of(folded, typos, split):
                keep(group)
        return groups

    def search(
        self, query: str | Reading, limit: int = 50, candidates: set[str] | None = None
    ) -> list[tuple[str, float]]:
        """Best `limit` (doc id, score) pairs for `query`, optionally only among `candidates`."""
        if limit <= 0:
            return []
        return heapq.nlargest(limit, self.scores(query, candidates).items(), key=itemgetter(1))

    def scores(self, query: str | Reading, candidates: set[str] | None = None) -> dict[str, float]:
        """The BM25 score of every document that matches `query` (optionally only among
        `candidates`): those holding at least one member of at least one query group, i.e.
        exactly the documents with a positive score. Ranking needs them all anyway, so counting
        every match costs nothing beyond the top-k. A `Reading` is scored as read."""
        n_docs = len(self._doc_len)
        if self._total_len == 0 or (candidates is not None and not candidates):
            return {}
        lengths = self._doc_len
        c1 = K1 * (1.0 - B)
        c2 = K1 * B * n_docs / self._total_len
        postings_of = self._postings
        groups = self.query_groups(query) if isinstance(query, str) else query.groups
        sized = [(sum(len(postings_of[t]) for t, _ in g), g) for g in groups]
        sized.sort(key=itemgetter(0), reverse=True)  # the longest list builds `scores` in one pass
        # With several groups a doc's running total is complex: the real part its BM25 sum, the
        # imaginary part how many groups it holds, for the coordination below; one dict
        # update per posting keeps both (a separate count of every posting cost a tenth).
        coord = len(sized) > 1
        unit = 1j if coord else 0.0
        scores: dict[str, Any] = {}
        for group_df, group in sized:
            group_factor = idf(min(group_df, n_docs), n_docs) * (K1 + 1.0)
            if len(group) == 1:
                term, weight = group[0]
                factor = weight * group_factor
                items = _matching(postings_of[term], candidates)
                if not scores:
                    scores = {d: factor * tf / (tf + c1 + c2 * lengths[d]) + unit for d, tf in items}
                else:
                    get = scores.get
                    for doc, tf in items:
                        scores[doc] = get(doc, 0.0) + (factor * tf / (tf + c1 + c2 * lengths[doc]) + unit)
                continue
            best: dict[str, float] = {}  # a product scores its best member of the group
            best_of = best.get
            for term, weight in group:
                factor = weight * group_factor
                for doc, tf in _matching(postings_of[term], candidates):
                    score = factor * tf / (tf + c1 + c2 * lengths[doc])
                    if score > best_of(doc, 0.0):
                        best[doc] = score
            get = scores.get
            for doc, score in best.items():
                scores[doc] = get(doc, 0.0) + (score + unit)
        if coord:  # coordination: the share of the query's words a product holds
            # sum * held / groups for every doc, in C loops (a comprehension over every match
            # cost a quarter of a search)
            totals = scores.values()
            shares = map(mul, map(_REAL, totals), map(_IMAG, totals))
            return dict(zip(scores, map(truediv, shares, repeat(len(sized)))))
        return scores


def build_index(products: Iterable[Mapping[str, Any]], id_field: str = "sku") -> TextIndex:
    """A `TextIndex` over `products`, each keyed by its `id_field`."""
    index = TextIndex()
    for product in products:
        index.add(product[id_field], product)
    return index
