"""Row validation shared by the import command and the catalog API."""

from __future__ import annotations

import pytest

from app.catalog.validate import RowError, validate_product


def test_minimal_row_gets_defaults() -> None:
    assert validate_product({"sku": " A-1 ", "title": "Silk saree"}) == {
        "sku": "A-1", "title": "Silk saree", "colors": [], "sizes": [], "currency": "INR",
        "in_stock": True, "attributes": {},
    }


def test_csv_style_values_are_parsed() -> None:
    product = validate_product(
        {"sku": "B2", "title": "Kurta", "category": "Kurta", "price": "₹1,299", "colors": "Red|Blue",
         "sizes": "S, M", "in_stock": "no", "rating": "4.5", "attributes.fabric": "cotton",
         "occasion": "festive"}
    )
    assert product["category"] == "kurta" and product["price"] == 1299
    assert product["colors"] == ["red", "blue"] and product["sizes"] == ["S", "M"]
    assert product["in_stock"] is False and product["rating"] == 4.5
    assert product["attributes"] == {"fabric": "cotton", "occasion": "festive"}


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"title": "x"}, "sku is required"),
        ({"sku": "a"}, "title is required"),
        ({"sku": "a", "title": "x", "price": "cheap"}, "price must be a number, not 'cheap'"),
        ({"sku": "a", "title": "x", "price": -3}, "price must be between 0 and 1e+09"),
        ({"sku": "a", "title": "x", "rating": 7}, "rating must be between 0 and 5"),
        ({"sku": "a", "title": "x", "in_stock": "maybe"}, "in_stock must be true or false"),
        ({"sku": "a\x00b", "title": "x"}, "sku contains control characters"),
        ({"sku": "a", "title": "x", "attributes": "{oops"}, "attributes is not a valid JSON object"),
        ({"sku": "a", "title": "x", "currency": "rupees"}, "currency is longer than 3 characters"),
        ({"sku": "a", "title": ["x"]}, "title must be text"),
        ("not an object", "a product must be an object"),
    ],
)
def test_bad_rows_say_why(row: object, reason: str) -> None:
    with pytest.raises(RowError) as caught:
        validate_product(row)  # type: ignore[arg-type]
    assert str(caught.value) == reason


def test_an_imported_image_url_is_kept_as_it_is(tmp_path) -> None:
    """The import reads a CSV's `image_url` column and keeps it unchanged (the widgets decide
    which they show: only http(s) and relative URLs)."""
    from app.catalog.importer import read_rows

    urls = ["https://cdn.example.com/p/K-1.jpg?w=400", "/media/k2.png", "//cdn.example.com/k3.webp"]
    path = tmp_path / "catalog.csv"
    path.write_text("sku,title,image_url\n" + "".join(f"K-{i},Kurta {i},{url}\n" for i, url in enumerate(urls)))
    products = [validate_product(row) for _, row in read_rows(path)]
    assert [p["image_url"] for p in products] == urls
