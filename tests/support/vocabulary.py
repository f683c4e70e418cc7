"""The demo store's vocabulary, as the search service learns it from the 5,000-product demo
catalog over the shipped default: what parser and slot tests read queries with."""

from __future__ import annotations

import functools

from app.catalog.demo import generate_catalog
from app.search.vocabulary import Vocabulary, learn, load_vocabulary


@functools.lru_cache(maxsize=1)
def demo_vocabulary() -> Vocabulary:
    return learn(generate_catalog(5000), load_vocabulary())
