"""Stream routes are answered below Starlette's middleware stack (app/streams/asgi.py); what
that stack did for them must still hold: JSON refusals, the app's exception handlers, a JSON
500 without internals, other methods and the JSON twins through the usual routing."""

from __future__ import annotations

import httpx

from tests.support.server import AppServer


async def test_what_the_middleware_stack_did_still_holds(app_server) -> None:  # type: ignore[no-untyped-def]
    server: AppServer = app_server(STREAMING_RATE_LIMIT="1000")
    async with httpx.AsyncClient(timeout=10) as client:
        crash = await client.get(f"{server.url}/t/crash/stream")
        assert crash.status_code == 500
        assert crash.json() == {"status": 500, "error": "Internal error", "code": "INTERNAL_ERROR"}
        assert "secret" not in crash.text
        refused = await client.get(f"{server.url}/t/echo/stream?n=zero")
        assert refused.status_code == 400 and refused.json()["field"] == "n"
        assert refused.headers["x-ratelimit-remaining"].isdigit()
        wrong_method = await client.post(f"{server.url}/t/echo/stream?n=1")
        assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"
        twin = await client.get(f"{server.url}/t/echo?n=1")
        assert twin.status_code == 200 and twin.json()["complete"]["total"] == 1
    assert "secret parser detail" in server.log()  # the detail goes to the log only
