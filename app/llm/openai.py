"""`OpenAIProvider`: any OpenAI-compatible chat-completions server, streamed (`stream: true`).

Works with OpenAI, vLLM, Ollama (`/v1`) and llama.cpp's server. The answer is grounded by the
system prompt that `app.llm.prompts.build_messages` writes from the retrieval results.

Failure policy:
- before the first token, connect errors, timeouts, dropped connections, 429 and 5xx are
  retried (`retries` more attempts, short exponential backoff);
- after the first token nothing is retried: any failure raises `ProviderError(retryable=True)`
  and the caller keeps the partial answer it already streamed;
- a 4xx other than 429 raises `ProviderError(retryable=False)` at once;
- messages never carry the API key, the URL or more than a short excerpt of a response body.

Cancellation (the shopper left): the generator's `aclose()` or a cancelled task closes the
HTTP response at once, which tells the server to stop generating.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx

from app.llm.base import Grounding, Message, ProviderError
from app.llm.prompts import MAX_HISTORY_TURNS, build_messages

MAX_BACKOFF_S = 5.0  # a Retry-After longer than this is not waited for: we give up instead
_ERROR_BODY_BYTES = 4096
_EXCERPT_CHARS = 160


def _one_line(text: Any, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class _Transient(Exception):
    """A failure worth another attempt, if no token has been yielded yet."""

    def __init__(self, reason: str, *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


_SECRETISH = re.compile(r"\b(sk|pk|key|token)[-_][A-Za-z0-9_\-*.]{6,}", re.IGNORECASE)


class OpenAIProvider:
    """`LanguageModel` over an OpenAI-compatible `/chat/completions` endpoint."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
        max_tokens: int = 400,
        temperature: float = 0.3,
        retries: int = 2,
        backoff_s: float = 0.25,
        max_turns: int = MAX_HISTORY_TURNS,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.max_turns = max_turns
        self._api_key = api_key or None
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        # httpx's read timeout applies to each socket read: the longest wait between chunks.
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> OpenAIProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def payload(self, history: list[Message], grounding: Grounding) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": build_messages(history, grounding, max_turns=self.max_turns),
            "stream": True,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    async def stream(self, history: list[Message], grounding: Grounding) -> AsyncIterator[str]:
        payload = self.payload(history, grounding)
        attempts = self.retries + 1
        reason = "no attempt made"
        for attempt in range(attempts):
            yielded = False
            try:
                # aclosing: if our consumer stops (aclose/cancel), the HTTP response closes now,
                # not whenever the garbage collector finalises the inner generator.
                async with aclosing(self._attempt(payload)) as pieces:
                    async for piece in pieces:
                        yielded = True
                        yield piece
                return
            except (_Transient, httpx.RequestError) as exc:
                reason = exc.reason if isinstance(exc, _Transient) else _transport_reason(exc)
                if yielded:
                    raise ProviderError(
                        f"The language model stopped mid-answer ({reason}).", retryable=True
                    ) from None
                delay = self.backoff_s * (2**attempt)
                if isinstance(exc, _Transient) and exc.delay is not None:
                    if exc.delay > MAX_BACKOFF_S:
                        break  # told to come back much later: give up now
                    delay = max(delay, exc.delay)
                if attempt + 1 < attempts:
                    await asyncio.sleep(min(delay, MAX_BACKOFF_S))
        raise ProviderError(
            f"The language model is unavailable ({reason}) after {attempt + 1} "
            f"attempt{'s' if attempt else ''}.",
            retryable=True,
        )

    async def choose_tools(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, max_tokens: int = 300
    ) -> list[dict[str, Any]]:
        """Function calling, not streamed: the `tool_calls` the model asks for (each
        `{"name", "arguments"}` with the arguments parsed from their JSON text; a call whose
        arguments are not a JSON object is dropped). Empty when it calls none. Transient
        failures are retried like `stream`'s; raises `ProviderError` in the end."""
        payload = {"model": self.model, "messages": messages, "tools": tools, "tool_choice": "auto",
                   "stream": False, "max_tokens": max_tokens, "temperature": 0}
        reason = "no attempt made"
        for attempt in range(self.retries + 1):
            try:
                response = await self._client.post(self.url, json=payload, headers={"Accept": "application/json"})
                if response.status_code != 200:
                    await self._fail_status(response)
                return _tool_calls(response)
            except (_Transient, httpx.RequestError) as exc:
                reason = exc.reason if isinstance(exc, _Transient) else _transport_reason(exc)
                if attempt < self.retries:
                    await asyncio.sleep(min(self.backoff_s * (2**attempt), MAX_BACKOFF_S))
        raise ProviderError(f"The language model is unavailable ({reason}).", retryable=True)

    async def _attempt(self, payload: dict[str, Any]) -> AsyncIterator[str]:
        async with self._client.stream("POST", self.url, json=payload) as response:
            if response.status_code != 200:
                await self._fail_status(response)
            finished = False
            async for data in _sse_data(response):
                if data.strip() == "[DONE]":
                    return
                piece, done = self._parse_chunk(data)
                finished = finished or done
                if piece:
                    yield piece
            if not finished:
                raise _Transient("the stream ended before the answer was complete")

    def _parse_chunk(self, data: str) -> tuple[str | None, bool]:
        """(content piece, whether a finish_reason was given) of one `data:` payload."""
        try:
            chunk = json.loads(data)
        except ValueError:
            raise _Transient("a malformed chunk") from None
        if not isinstance(chunk, dict):
            raise _Transient("a malformed chunk")
        if chunk.get("error"):
            error = chunk["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            code = error.get("code") if isinstance(error, dict) else None
            excerpt = self._excerpt(str(message))
            if isinstance(code, int) and 400 <= code < 500 and code != 429:
                raise ProviderError(f"The language model refused the request: {excerpt}", retryable=False)
            raise _Transient(f"error from the model: {excerpt}")
        choices = chunk.get("choices")
        if not choices:  # e.g. a trailing usage chunk
            return None, False
        if not isinstance(choices, list) or not isinstance(choices[0], dict):
            raise _Transient("a malformed chunk")
        choice = choices[0]
        delta = choice.get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        if content is not None and not isinstance(content, str):
            raise _Transient("a malformed chunk")
        return content or None, bool(choice.get("finish_reason"))

    async def _fail_status(self, response: httpx.Response) -> None:
        status = response.status_code
        body = bytearray()
        try:
            async for part in response.aiter_bytes():
                body += part
                if len(body) >= _ERROR_BODY_BYTES:
                    break
        except httpx.HTTPError:
            pass
        detail = self._excerpt(_error_message(bytes(body[:_ERROR_BODY_BYTES])))
        suffix = f": {detail}" if detail else ""
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}", delay=_retry_after(response.headers.get("retry-after")))
        if status in (401, 403):
            raise ProviderError(
                f"The language model service rejected our credentials (HTTP {status}){suffix}",
                retryable=False,
            )
        raise ProviderError(
            f"The language model service refused the request (HTTP {status}){suffix}", retryable=False
        )

    def _excerpt(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "[redacted]")
        text = _SECRETISH.sub("[redacted]", text)
        return _one_line(text, _EXCERPT_CHARS)


def _tool_calls(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
        message = body["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise _Transient("a malformed reply") from None
    calls = []
    for call in (message or {}).get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            continue
        raw = function.get("arguments") or "{}"
        try:
            arguments = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            continue
        if isinstance(arguments, dict):
            calls.append({"name": function["name"], "arguments": arguments})
    return calls


async def _sse_data(response: httpx.Response) -> AsyncIterator[str]:
    """The `data` of each server-sent event (multi-line data joined with newlines)."""
    lines: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        field, _, value = line.partition(":")
        if field == "data":
            lines.append(value[1:] if value.startswith(" ") else value)
    if lines:
        yield "\n".join(lines)


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


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: use our own backoff


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
