"""Text-ranking peers for the relevance bench: tantivy (Lucene-style BM25, optionally fuzzy
terms) and bm25s, each over the same text per product and ranking a query as typed.

Each `*_ranker(ids, texts)` indexes the texts and returns `rank(query) -> [id, ...]`, best
first, the top `TOP` (NDCG@10 needs 10).
- tantivy: one text field; the query's lower-cased alphanumeric words OR'd through
  `Index.parse_query`; `tokenizer` "default" (lower case) or "en_stem" (plus the English
  Snowball stemmer); `fuzzy=True` makes every term a fuzzy term (Levenshtein distance 1, a
  swap counts one), tantivy's typo tolerance. Fuzzy terms score a constant per matched term
  (no BM25), so fuzzy tantivy ranks by how many query words a product holds.
- bm25s: its defaults (Lucene BM25, k1=1.5, b=0.75), English stopwords, no stemmer (PyStemmer
  is not in the locks).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import bm25s
import tantivy

TOP = 200
Ranker = Callable[[str], list[str]]
_WORD = re.compile(r"[a-z0-9]+")


def tantivy_ranker(ids: list[str], texts: list[str], *, tokenizer: str = "default",
                   fuzzy: bool = False) -> Ranker:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("body", tokenizer_name=tokenizer)
    index = tantivy.Index(builder.build())
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    for doc_id, text in zip(ids, texts):
        writer.add_document(tantivy.Document(id=doc_id, body=text))
    writer.commit()
    index.reload()
    searcher = index.searcher()
    fuzzy_fields = {"body": (False, 1, True)} if fuzzy else None  # (prefix, distance, swap = 1)

    def rank(query: str) -> list[str]:
        words = _WORD.findall(query.lower())
        if not words:
            return []
        parsed = index.parse_query(" ".join(words), ["body"], fuzzy_fields=fuzzy_fields or {})
        return [searcher.doc(address)["id"][0] for _, address in searcher.search(parsed, TOP).hits]

    return rank


def bm25s_ranker(ids: list[str], texts: list[str]) -> Ranker:
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def rank(query: str) -> list[str]:
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        found, _ = model.retrieve(tokens, k=min(TOP, len(ids)), show_progress=False)
        return [ids[i] for i in found[0]]

    return rank
