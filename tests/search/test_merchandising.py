"""Synonyms and merchandising rules (app/search/merchandising.py), as pure functions."""

from __future__ import annotations

from typing import Any

from app.agent.tools import search_catalog
from app.catalog.demo import generate_catalog
from app.search.constraints import Filters
from app.search.merchandising import Boost, Merchandise, Move, Pin, Rule, Synonym, arrange, expansions
from app.search.service import SearchService

CATALOG: dict[str, dict[str, Any]] = {
    "a": {"sku": "a", "brand": "Tara", "category": "saree", "in_stock": True, "attributes": {"margin": "low"}},
    "b": {"sku": "b", "brand": "Rangrez", "category": "saree", "in_stock": False, "attributes": {"margin": "high"}},
    "c": {"sku": "c", "brand": "Tara", "category": "saree", "in_stock": True, "attributes": {}},
    "d": {"sku": "d", "brand": "Kora", "category": "kurta", "in_stock": True, "attributes": {"margin": "high"}},
    "e": {"sku": "e", "brand": "Kora", "category": "saree", "in_stock": True, "colors": ["red", "gold"]},
    "z": {"sku": "z", "brand": "Zed", "category": "lehenga", "in_stock": True},
}
RANKED = ["a", "b", "c", "d", "e"]


def run(rules: list[Rule], query: str = "silk saree", filters: dict[str, Any] | None = None, **kw: Any):
    return arrange(RANKED, CATALOG.get, rules, query=query, filters=filters or {}, **kw)


def test_two_way_synonyms_stand_for_each_other() -> None:
    tee = Synonym("s1", ("tee", "t-shirt"))
    assert expansions("red tee", [tee]) == ["t shirt"]
    assert expansions("Red T-Shirt", [tee]) == ["tee"]
    assert expansions("red teapot", [tee]) == []  # whole words only
    assert expansions("tee t-shirt", [tee]) == []  # nothing the query already holds


def test_one_way_synonyms_only_go_one_way() -> None:
    sherwani = Synonym("s2", ("sherwani", "wedding"), one_way=True)
    assert expansions("ivory sherwani", [sherwani]) == ["wedding"]
    assert expansions("wedding lehenga", [sherwani]) == []


def test_a_rule_applies_to_its_query_exactly_or_contained() -> None:
    exact = Rule("r1", query="Silk  Saree")
    contains = Rule("r2", query="saree", match="contains")
    assert exact.applies("silk saree", {}) and not exact.applies("red silk saree", {})
    assert contains.applies("red silk saree", {}) and not contains.applies("sarees", {})


def test_a_rule_applies_to_a_filter() -> None:
    rule = Rule("r3", filters={"category": "saree"})
    assert rule.applies("anything", {"category": "Saree"})
    assert not rule.applies("anything", {"category": "kurta"}) and not rule.applies("anything", {})
    assert Rule("r4", filters={"colors": "red"}).applies("x", {"colors": ["blue", "red"]})


def test_hide_removes_the_product_even_under_a_chosen_sort() -> None:
    rule = Rule("hide-b", hide=("b",))
    assert run([rule]).skus == ["a", "c", "d", "e"]
    assert run([rule], reorder=False).skus == ["a", "c", "d", "e"]


def test_pin_moves_a_product_to_its_position_and_says_so() -> None:
    out = run([Rule("pin-e", query="silk saree", pins=(Pin("e", 1),))])
    assert out.skus == ["e", "a", "b", "c", "d"]
    assert out.moves == {"e": [Move("pin-e", "pin")]}


def test_pin_inserts_a_product_the_words_did_not_find_but_not_outside_the_filters() -> None:
    rule = Rule("pin-z", pins=(Pin("z", 2),))
    assert run([rule]).skus == ["a", "z", "b", "c", "d", "e"]
    assert run([rule], allowed=lambda sku: sku != "z").skus == RANKED  # the shopper filtered it out
    assert run([Rule("pin-ghost", pins=(Pin("ghost", 1),))]).skus == RANKED  # not in the catalog
    assert run([Rule("r", pins=(Pin("b", 1),), hide=("b",))]).skus == ["a", "c", "d", "e"]  # hidden wins


def test_boost_and_bury_by_attribute() -> None:
    boosted = run([Rule("margin", boosts=(Boost("attributes.margin", "high", 1.0),))])
    assert boosted.skus.index("b") < boosted.skus.index("a")  # a high-margin product rises
    assert boosted.moves["d"] == [Move("margin", "boost")]
    buried = run([Rule("stock", boosts=(Boost("in_stock", False, -3.0),))])
    assert buried.skus[-1] == "b" and buried.moves["b"] == [Move("stock", "bury")]
    brand = run([Rule("kora", boosts=(Boost("brand", "kora", 2.0),))])
    assert brand.skus[:2] == ["d", "e"]
    colour = run([Rule("red", boosts=(Boost("colors", "red", 5.0),))])
    assert colour.skus[0] == "e"


def test_a_chosen_sort_keeps_its_order() -> None:
    rules = [Rule("all", pins=(Pin("e", 1),), boosts=(Boost("brand", "kora", 2.0),))]
    assert run(rules, reorder=False).skus == RANKED


def test_rules_that_do_not_apply_change_nothing() -> None:
    out = run([Rule("other", query="kurta", pins=(Pin("e", 1),), hide=("a",))])
    assert out.skus == RANKED and out.moves == {}


def test_the_later_pin_of_a_position_or_product_wins() -> None:
    first = Rule("1", priority=0, pins=(Pin("e", 1),))
    second = Rule("2", priority=1, pins=(Pin("d", 1), Pin("e", 3)))
    out = run([second, first])
    assert out.skus[0] == "d" and out.skus[2] == "e"
    assert out.skus.count("e") == 1 and sorted(out.skus) == sorted(RANKED)


async def test_the_agents_catalog_search_applies_them() -> None:
    service = SearchService(None, exact_max=1000)
    service.build_from(generate_catalog(300))
    plain = await search_catalog(service, "kurta", Filters())
    saree = next(p for p in service.indexed() if p.get("category") == "saree")["sku"]
    hidden = plain.cards[1]["sku"]
    service.use(Merchandise(rules=(Rule("agent", query="kurta", pins=(Pin(saree, 1),), hide=(hidden,)),)))
    found = await search_catalog(service, "kurta", Filters())
    assert found.cards[0]["sku"] == saree and found.cards[0]["merchandised"] == [{"rule": "agent", "action": "pin"}]
    assert hidden not in [c["sku"] for c in found.cards]
    service.use(Merchandise(synonyms=(Synonym("s", ("zorblax", "kurta")),)))
    assert (await search_catalog(service, "zorblax", Filters())).total > 0
