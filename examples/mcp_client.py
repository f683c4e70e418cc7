"""A shopping agent's side of the store's MCP server: the official `mcp` Python client
(Streamable HTTP) lists the tools at /mcp, searches the catalog and opens the first product
found. Needs only the `mcp` package (`pip install mcp`; the app's own virtualenv has it).

    .venv/bin/python examples/mcp_client.py                                  # red lehenga, 127.0.0.1:8000
    .venv/bin/python examples/mcp_client.py "silk saree" --max-price 15000 --url http://127.0.0.1:8000/mcp

Exits 1 with the tool's own message when the server refuses a call (`limit must be ...`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

TIMEOUT_S = 30  # every answer; the store answers a call in milliseconds


async def call(mcp: ClientSession, name: str, arguments: dict[str, Any]) -> dict[str, Any] | None:
    """The tool's structured answer; None when it refused (`isError`): its reason, which names
    the field at fault, is printed to stderr."""
    result = await mcp.call_tool(name, arguments)
    if result.is_error or result.structured_content is None:
        text = " ".join(getattr(part, "text", "") for part in result.content)
        print(f"{name}: {text}", file=sys.stderr)
        return None
    return result.structured_content


async def shop(url: str, query: str, max_price: float | None, limit: int) -> int:
    """The exit status: 0, or 1 when a call was refused."""
    async with (streamable_http_client(url) as (read, write),
                ClientSession(read, write, read_timeout_seconds=TIMEOUT_S) as mcp):
        await mcp.initialize()
        listed = await mcp.list_tools()
        print("tools:", ", ".join(sorted(tool.name for tool in listed.tools)))

        arguments: dict[str, Any] = {"query": query, "limit": limit}
        if max_price is not None:
            arguments["max_price"] = max_price
        found = await call(mcp, "search_catalog", arguments)
        if found is None:
            return 1
        products = found["products"]
        print(f"search_catalog {json.dumps(arguments)}: {len(products)} of {found['total']}")
        for card in products:
            print(f"  {card['sku']}  {card.get('price', '?')} {card.get('currency', '')}  {card['title']}")
        if not products:
            return 0

        product = await call(mcp, "get_product", {"sku": products[0]["sku"]})
        if product is None:
            return 1
        stock = "in stock" if product.get("in_stock") else "out of stock"
        print(f"get_product {product['sku']}: {product['title']} ({product.get('brand', '-')}), "
              f"{product.get('price', '?')} {product.get('currency', '')}, {stock}, "
              f"sizes {', '.join(product.get('sizes') or []) or '-'}")
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("query", nargs="?", default="red lehenga", help="what the shopper asked for")
    parser.add_argument("--url", default="http://127.0.0.1:8000/mcp", help="the store's MCP endpoint")
    parser.add_argument("--max-price", type=float, help="budget, in the catalog's currency")
    parser.add_argument("--limit", type=int, default=5, help="products to list (the server takes 1 to 20)")
    args = parser.parse_args()
    return asyncio.run(shop(args.url, args.query, args.max_price, args.limit))


if __name__ == "__main__":
    sys.exit(main())
