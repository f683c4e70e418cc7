"""The web routes over HTTP (no browser): pages, static files with their types and caching,
a placeholder image for every demo category, the query escaped into the page, and the admin
pages' one shell."""

from __future__ import annotations

import httpx

from app.catalog.demo import CATEGORIES
from tests.support.server import AppServer


def test_pages_and_static_files_have_types_and_caching(web_app: AppServer) -> None:
    with httpx.Client(base_url=web_app.url, timeout=15) as client:
        index = client.get("/")
        admin = client.get("/admin/context")
        script = client.get("/static/storestream.js")
        style = client.get("/static/storestream.css")
        missing = client.get("/static/nothing-here.js")
        revalidated = client.get("/static/storestream.js", headers={"If-None-Match": script.headers["etag"]})
    assert index.status_code == 200 and index.headers["content-type"] == "text/html; charset=utf-8"
    assert index.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert '<storestream-search query=""' in index.text and "{{" not in index.text
    assert admin.status_code == 200 and admin.headers["cache-control"] == "no-store"
    assert "<storestream-context-admin>" in admin.text
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=300"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert revalidated.status_code == 304
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"


def test_the_admin_pages_share_one_shell_that_marks_where_you_are(web_app: AppServer) -> None:
    import re

    with httpx.Client(base_url=web_app.url, timeout=15) as client:
        pages = {path: client.get(path).text for path in ("/admin/context", "/admin/insights")}
    for path, page in pages.items():
        assert "{{" not in page and page.count("<main") == 1 and '<meta name="robots" content="noindex">' in page
        assert re.findall(r'<a href="([^"]+)"( aria-current="page")?>', page) == [
            (link, ' aria-current="page"' if link == path else "")
            for link in ("/", "/admin/context", "/admin/insights", "/docs")]
    scripts = re.findall(r'<script src="([^"]+)"', pages["/admin/insights"])
    assert scripts == ["/static/storestream.js", "/static/insights-admin.js"]  # the shared token first
    assert re.findall(r'<script src="([^"]+)"', pages["/admin/context"]) == ["/static/storestream.js"]
    assert "<title>Search insights and merchandising · storestream admin</title>" in pages["/admin/insights"]


def test_every_demo_category_has_a_placeholder_image(web_app: AppServer) -> None:
    names = [*(name.replace(" ", "-") for name in CATEGORIES), "generic"]
    with httpx.Client(base_url=web_app.url, timeout=15) as client:
        for name in names:
            response = client.get(f"/static/products/{name}.svg")
            assert response.status_code == 200, name
            assert response.headers["content-type"] == "image/svg+xml"
            assert response.text.startswith("<svg") and len(response.content) < 4096
        # And every image_url the demo catalog actually carries is a picture the app draws.
        products = client.get("/api/products/search", params={"q": "silk", "limit": 50}).json()["products"]
        assert products
        for product in products:
            picture = client.get(product["image_url"])
            assert picture.status_code == 200 and picture.headers["content-type"] == "image/svg+xml"
            assert picture.text.startswith("<svg") and len(picture.content) < 4096
            assert picture.headers["cache-control"] == "public, max-age=86400"


def test_pictures_show_colour_and_pattern_and_never_change(web_app: AppServer) -> None:
    with httpx.Client(base_url=web_app.url, timeout=15) as client:
        def draw(**params: str) -> bytes:
            response = client.get("/pictures/product.svg", params=params)
            assert response.status_code == 200, response.text
            return response.content

        pink = draw(category="kurta", color="pink")
        assert draw(category="kurta", color="pink") == pink  # the same, byte for byte
        assert draw(category="kurta", color="blue") != pink
        assert draw(category="kurta", color="pink", pattern="floral") != pink
        assert draw(category="saree", color="pink") != pink
        assert b"pink kurta" in pink
        for params, field in (({"category": "kurta", "color": "chartreuse"}, "color"),
                              ({"category": "kurta", "color": "red", "pattern": "<script>"}, "pattern"),
                              ({"color": "red"}, "category")):
            refused = client.get("/pictures/product.svg", params=params)
            assert refused.status_code == 400 and refused.json()["field"] == field
        # A category without a silhouette of its own draws the generic one; its name is not echoed.
        other = client.get("/pictures/product.svg", params={"category": "<b>kite</b>", "color": "red"})
        assert other.status_code == 200 and b"kite" not in other.content and b"red product" in other.content


def test_query_goes_into_the_page_escaped(web_app: AppServer) -> None:
    response = httpx.get(f"{web_app.url}/", params={"q": '"><script>alert(1)</script>'}, timeout=15)
    assert '<storestream-search query="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
    assert "<script>alert(1)" not in response.text
