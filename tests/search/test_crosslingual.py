"""Queries in Hindi (Devanagari and romanised), Persian, Russian and Hebrew on the English
demo catalog: what the search reads from them (`SearchService.plan`), and that a catalog in
the shopper's own language is still searched in its words."""

from __future__ import annotations

from typing import Any

import pytest

from app.catalog.demo import generate_catalog
from app.search.constraints import Filters
from app.search import service as service_module
from app.search.service import SearchService
from tests.search import native
from tests.search.crosslingual import LANGUAGES, SETS, fits, queries


@pytest.fixture(scope="module")
def english() -> SearchService:
    service = SearchService(None, exact_max=10_000)
    service.build_from(generate_catalog(1000))
    return service


# query -> the filters it sets (native digits: Devanagari, Persian, Arabic-Indic)
PARSES: list[tuple[str, dict[str, Any]]] = [
    ("लाल साड़ी २००० से कम", {"category": "saree", "colors": ["red"], "max_price": 2000}),
    ("काले जूते ३००० तक", {"category": "shoes", "colors": ["black"], "max_price": 3000}),
    ("नीली जींस 1500 से ऊपर", {"category": "jeans", "colors": ["blue"], "min_price": 1500}),
    ("kaale joote 3000 se kam", {"category": "shoes", "colors": ["black"], "max_price": 3000}),
    ("sunehre gehne", {"category": "jewellery", "colors": ["gold"]}),
    ("کفش مشکی زیر ۵۰۰۰", {"category": "shoes", "colors": ["black"], "max_price": 5000}),
    ("کیف سفید زیر ٣٠٠٠", {"category": "bags", "colors": ["white"], "max_price": 3000}),
    ("کورتا آبی بالای ۱۰۰۰", {"category": "kurta", "colors": ["blue"], "min_price": 1000}),
    ("ساری قرمز زیر ۲ میلیون", {"category": "saree", "colors": ["red"], "max_price": 2_000_000}),
    ("красное платье до 5 000", {"category": "dress", "colors": ["red"], "max_price": 5000}),
    ("белые кроссовки от 2000", {"category": "shoes", "colors": ["white"], "min_price": 2000}),
    ("зелёная лехенга", {"category": "lehenga", "colors": ["green"]}),
    ("שמלה אדומה עד 3000", {"category": "dress", "colors": ["red"], "max_price": 3000}),
    ("כורתה כחולה מתחת ל-1500", {"category": "kurta", "colors": ["blue"], "max_price": 1500}),
    ("תכשיטי כסף", {"category": "jewellery", "colors": ["silver"]}),
]


@pytest.mark.parametrize(("query", "filters"), PARSES)
def test_a_native_query_sets_category_colour_and_price(english: SearchService, query: str, filters: dict) -> None:
    plan = english.plan(query, Filters())
    assert plan.filters.as_dict() == filters
    embedded = plan.embedded if isinstance(plan.embedded, str) else plan.embedded.corrected
    assert embedded.isascii(), "the English-only embedder reads the English reading"


def test_english_queries_plan_as_before(english: SearchService) -> None:
    plan = english.plan("red silk saree under 5000", Filters())
    assert plan.ranking == "saree red silk" and plan.meaning == ""
    assert plan.embedded is plan.reading and plan.reading.corrected == "saree red silk"


@pytest.mark.parametrize("lang", native.LANGUAGES)
def test_a_native_catalog_is_still_searched_in_its_own_words(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The English reading's filters are values that catalog does not carry and its words
    match nothing there: filters and ranking are those of the words as typed."""
    service = SearchService(None, exact_max=1000)
    service.build_from(native.catalog(lang))

    def search(q: str) -> tuple[dict, list[str]]:
        plan = service.plan(q, Filters())
        return plan.filters.as_dict(), [s for s, _ in service.text_search(plan.ranking, plan.candidates, native.K)]

    qs = [q["q"] for q in native.queries(lang)]
    read = [search(q) for q in qs]
    monkeypatch.setattr(service_module, "in_english", lambda text: text)
    assert read == [search(q) for q in qs]


def test_the_labelled_sets_are_whole() -> None:
    """25 queries per language in each set, each naming a category the demo catalog has."""
    catalog = generate_catalog(5000)
    for name in SETS:
        for lang in LANGUAGES:
            qs = queries(name, lang)
            assert len(qs) == 25
            assert all(sum(fits(p, q) for p in catalog) >= 10 for q in qs)
