"""examples/mcp_client.py, run as a shopper's agent runs it (its own process, the official `mcp`
client) against a real server over the demo catalog: it lists the tools, prints what the
catalog search found (the same products, in the same order, as the native product search) and
opens the first; a call the server refuses ends it with status 1 and the server's reason."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx

from tests.support.server import ROOT, AppServer

SCRIPT = ROOT / "examples" / "mcp_client.py"
TIMEOUT = 90
TOOLS = "check_stock, compare_products, get_product, market_snapshot, search_catalog, search_documents"


def run(server: AppServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--url", f"{server.url}/mcp", *args],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)


def test_the_example_lists_searches_and_opens_a_product(server: AppServer) -> None:
    done = run(server, "kurta", "--max-price", "5000", "--limit", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"tools: {TOOLS}"
    assert re.fullmatch(r'search_catalog \{"query": "kurta", "limit": 3, "max_price": 5000\.0\}: \d of \d+', lines[1])
    skus = [line.split()[0] for line in lines[2:] if line.startswith("  ")]
    native = httpx.get(f"{server.url}/api/products/search", params={"q": "kurta", "max_price": 5000, "limit": 3},
                       timeout=TIMEOUT).json()
    cards = native["results"]["product_cards"]["products"] if "results" in native else native["products"]
    assert skus and skus == [card["sku"] for card in cards]
    opened = lines[2 + len(skus)]
    assert opened.startswith(f"get_product {skus[0]}: {cards[0]['title']} (")
    assert ("out of stock" in opened) == (not cards[0]["in_stock"])


def test_a_refused_call_ends_the_example_with_the_reason(server: AppServer) -> None:
    done = run(server, "kurta", "--limit", "50")
    assert done.returncode == 1
    assert done.stderr.startswith("search_catalog: limit"), done.stderr
    assert "Traceback" not in done.stderr
