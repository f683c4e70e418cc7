"""The HTTP side of the OpenAI-compatible provider (`app.llm.transport`) that needs no server:
reading `Retry-After`. Statuses, event streams and dropped connections are tested against real
servers in test_openai_provider.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.llm.transport import retry_after

NOW = datetime(2026, 12, 7, 15, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "seconds"), [
    ("3", 3.0),
    ("0", 0.0),
    ("1.5", 1.5),
    ("-4", 0.0),
    ("Mon, 07 Dec 2026 15:00:30 GMT", 30.0),  # an HTTP date (RFC 9110)
    ("Mon, 07 Dec 2026 14:59:00 GMT", 0.0),  # already past
    (None, None),
    ("", None),
    ("soon", None),
])
def test_retry_after_in_seconds_or_as_a_date(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, now=NOW) == seconds
