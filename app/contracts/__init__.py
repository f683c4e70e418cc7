"""Typed contracts: every request body, query parameter set, event payload and tool argument
set is declared once, as a pydantic model, and everything else comes from that declaration:

- validation: `app/contracts/reading.py` reads a request into its model, or refuses it with a
  400 JSON body naming the field as a dotted path (`customer.budget`, `filters.min_price`,
  `products.3.price`: object keys, and list positions counted from 0), before any stream
  starts; 415 for a JSON route sent anything but JSON;
- `/openapi.json`: `app/contracts/openapi.py` builds it from the models and the routes'
  `Operation` declarations (parameters, bodies, every status a route answers, the SSE events);
- the JSON schemas offered to a language model for function calling (`app/agent/calling.py`);
- the payload tables of `docs/events.md` (`python -m app.contracts.docs` writes them; a test
  checks they match the models).

Why pydantic v2 and not msgspec (both were measured on this machine, for the chat body):
`model_validate_json` takes 1.0 µs, msgspec 0.2 µs, and `json.loads` alone 1.7 µs, so either
is negligible beside the milliseconds a search or an answer costs. pydantic is what the
protocols this app will speak next are written in (the `mcp` SDK, `ag-ui-protocol`, `openai`),
and it gives JSON Schema for OpenAPI 3.1 and for function calling directly. Strict models
(`strict=True`, `allow_inf_nan=False`) refuse what once made 500s: its JSON parser refuses
lone surrogates and nesting past ~200 levels, strict types refuse `"10"` for an integer and
`true` for a number, and finite-number checks refuse NaN, Infinity and 1e400.

Conventions (docs/design.md, "Contracts"):
- JSON bodies are typed as JSON: integers are JSON integers, booleans JSON booleans; strings
  are trimmed; NUL characters and lone surrogates are refused in every string.
- Query strings are text: integers are ASCII digits only (`²` and `٣` are digits to Python's
  `int()`, not to us), at most 18 of them; numbers are ASCII decimals; booleans
  `true/false/1/0/yes/no`; lists comma-separated; an empty value is the same as none.
"""
