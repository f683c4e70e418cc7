"""The MCP tools' call handler in process (app/routes/mcp_http.py): a tool that fails is a tool
error without internals, and the failure is logged on the server."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import types

from app.protocols.mcp_tools import McpDeps
from app.routes.mcp_http import server


class BrokenSearch:
    ready = True

    def plan(self, *args: Any) -> Any:
        raise RuntimeError("secret internals: /srv/catalog.db at 10.0.0.7")


async def call(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
    entry = server(McpDeps(search=BrokenSearch(), documents=None)).get_request_handler("tools/call")  # type: ignore[arg-type]
    assert entry is not None
    result = await entry.handler(None, types.CallToolRequestParams(name=name, arguments=arguments))
    assert isinstance(result, types.CallToolResult)
    return result


async def test_a_failing_tool_answers_without_internals(caplog: pytest.LogCaptureFixture) -> None:
    result = await call("search_catalog", {"query": "saree"})
    text = result.content[0]
    assert result.is_error and isinstance(text, types.TextContent)
    assert text.text == "internal error: the tool failed; try again"
    assert "secret internals" in caplog.text and "MCP tool search_catalog failed" in caplog.text


async def test_a_refusal_names_the_field_before_the_search_runs() -> None:
    result = await call("search_catalog", {"query": "saree", "limit": 0})
    text = result.content[0]
    assert result.is_error and isinstance(text, types.TextContent) and text.text == "limit must be at least 1"
