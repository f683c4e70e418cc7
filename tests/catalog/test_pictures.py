"""Demo product pictures: a function of the product's category, colours and pattern, so the
same product always gets the same picture and products of other colours other pictures."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from app.catalog.demo import generate_catalog
from app.catalog.pictures import COLOURS, PATTERNS, SHAPES, pattern_of, picture_url, render


def test_each_demo_product_gets_its_colour_category_and_pattern() -> None:
    catalog = generate_catalog(400)
    for product in catalog:
        params = parse_qs(urlsplit(product["image_url"]).query)
        assert params["color"] == [product["colors"][0]]
        assert params["category"][0] in SHAPES and params["category"][0] != "product"
        detail = product["attributes"].get("pattern") or product["attributes"].get("work") or ""
        assert params.get("pattern", ["solid"]) == [pattern_of(detail)]
    # Products that differ in colour within a category differ in picture.
    kurtas = [p for p in catalog if p["category"] == "kurta"]
    by_colour = {p["colors"][0]: p["image_url"] for p in kurtas}
    assert len(by_colour) > 3 and len(set(by_colour.values())) == len(by_colour)
    assert len({p["image_url"] for p in catalog}) > 100  # not one picture per category


def test_the_same_product_always_gets_the_same_picture() -> None:
    first, again = generate_catalog(200), generate_catalog(200)
    assert [p["image_url"] for p in first] == [p["image_url"] for p in again]
    url = first[0]["image_url"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert render(**params) == render(**params)


def test_every_combination_draws_and_colours_differ() -> None:
    for shape in SHAPES:
        drawn = {colour: render(shape, colour) for colour in COLOURS}
        assert len(set(drawn.values())) == len(COLOURS)
        for pattern in PATTERNS:
            svg = render(shape, "pink", "gold", pattern)
            assert svg.startswith("<svg") and svg.endswith("</svg>") and len(svg) < 4096
    assert len({render("kurta", "red", None, p) for p in PATTERNS}) == len(PATTERNS)


def test_an_unknown_category_or_colour_falls_back() -> None:
    url = picture_url({"category": "kites", "colors": ["chartreuse"]}, "striped")
    assert parse_qs(urlsplit(url).query) == {"category": ["product"], "color": ["grey"], "pattern": ["stripes"]}
