"""`ChatCompletionsClient`: one HTTP attempt at an OpenAI-compatible `/chat/completions`.

It knows HTTP and Server-Sent Events, not what the payloads mean: `post` returns the decoded
JSON reply, `events` the `data` of each event of a streamed reply (read with httpx-sse). Every
failure comes out as one of two exceptions, so that the retry policy (app/llm/retry.py)
decides without knowing httpx:

- `Transient`: connect errors, timeouts, dropped connections, 429 and 5xx (with the server's
  `Retry-After`, in seconds or as an HTTP date), a reply that is not JSON or not an event stream;
- `ProviderError(retryable=False)`: any other status (401 and 403 said to be our credentials).

Error messages carry neither the API key nor the URL, and at most a short excerpt of what
the server said (`excerpt`).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from app.llm.base import ProviderError, one_line
from app.llm.retry import Transient

_ERROR_BODY_BYTES = 4096
_EXCERPT_CHARS = 160
_SECRETISH = re.compile(r"\b(sk|pk|key|token)[-_][A-Za-z0-9_\-*.]{6,}", re.IGNORECASE)


class ChatCompletionsClient:
    """HTTP to `{base_url}/chat/completions`, with the API key as a bearer token."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key or None
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        # httpx's read timeout applies to each socket read: the longest wait between chunks.
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, payload: Mapping[str, Any]) -> Any:
        """The reply to `payload` sent as JSON, decoded (any JSON value)."""
        try:
            response = await self._client.post(self.url, json=payload, headers={"Accept": "application/json"})
            if response.status_code != 200:
                raise await self._status_error(response)
            return response.json()
        except httpx.RequestError as exc:
            raise Transient(_transport_reason(exc)) from None
        except ValueError:
            raise Transient("a malformed reply") from None

    async def events(self, payload: Mapping[str, Any]) -> AsyncGenerator[str, None]:
        """The `data` of each event the server streams in reply to `payload` (multi-line data
        joined with newlines; comments and keep-alives skipped). Closing this generator
        closes the HTTP response at once, which tells the server to stop generating."""
        try:
            async with aconnect_sse(self._client, "POST", self.url, json=payload) as source:
                if source.response.status_code != 200:
                    raise await self._status_error(source.response)
                async for event in source.aiter_sse():
                    if event.data:  # httpx-sse turns a comment-only block into an empty event
                        yield event.data
        except SSEError:  # before httpx.RequestError: it is one
            raise Transient("a reply that is not an event stream") from None
        except httpx.RequestError as exc:
            raise Transient(_transport_reason(exc)) from None

    def excerpt(self, text: str) -> str:
        """What a server said, fit for an error message: one short line, secrets redacted."""
        if self._api_key:
            text = text.replace(self._api_key, "[redacted]")
        return one_line(_SECRETISH.sub("[redacted]", text), _EXCERPT_CHARS)

    async def _status_error(self, response: httpx.Response) -> Exception:
        status = response.status_code
        body = bytearray()
        try:
            async for part in response.aiter_bytes():
                body += part
                if len(body) >= _ERROR_BODY_BYTES:
                    break
        except httpx.HTTPError:
            pass
        if status == 429 or status >= 500:
            return Transient(f"HTTP {status}", retry_after=retry_after(response.headers.get("retry-after")))
        detail = self.excerpt(_error_message(bytes(body[:_ERROR_BODY_BYTES])))
        suffix = f": {detail}" if detail else ""
        if status in (401, 403):
            return ProviderError(
                f"The language model service rejected our credentials (HTTP {status}){suffix}",
                retryable=False,
            )
        return ProviderError(
            f"The language model service refused the request (HTTP {status}){suffix}", retryable=False
        )


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """The seconds a `Retry-After` header asks for: a number of seconds or an HTTP date
    (RFC 9110, 10.2.3); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, as HTTP dates are
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_message(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict):
        error = parsed.get("error", parsed)
        if isinstance(error, dict):
            return str(error.get("message") or error.get("type") or "")
        return str(error)
    return text


def _transport_reason(exc: httpx.RequestError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection failed"
    if isinstance(exc, httpx.ReadTimeout):
        return "no data within the read timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed by the server"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        return "connection lost"
    return type(exc).__name__
