"""Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`.

Missing credentials: 401; wrong: 403; compared in constant time. With no `ADMIN_TOKEN`
configured the admin routes refuse (503) instead of opening up.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from starlette.requests import Request

from app.contracts.openapi import Reply
from app.errors import BadRequest, ErrorBody

Authorize = Callable[[Request], None]

# What every admin route may refuse with, for its operation in /openapi.json.
ADMIN_REPLIES = {
    401: Reply("UNAUTHORIZED: no admin token", ErrorBody),
    403: Reply("FORBIDDEN: a wrong admin token", ErrorBody),
    503: Reply("DB_UNAVAILABLE, ADMIN_DISABLED (no ADMIN_TOKEN on the server), SERVER_SHUTTING_DOWN", ErrorBody),
}


def admin(token: str) -> Authorize:
    """The check of the admin routes for `token` (ADMIN_TOKEN; empty: they refuse with 503)."""

    def require_admin(request: Request) -> None:
        if not token:
            raise BadRequest(
                "Admin routes are disabled: set ADMIN_TOKEN on the server", status=503, code="ADMIN_DISABLED"
            )
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise BadRequest(
                "Admin token required: Authorization: Bearer <token>",
                status=401,
                code="UNAUTHORIZED",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise BadRequest("Admin token is not valid", status=403, code="FORBIDDEN")

    return require_admin
