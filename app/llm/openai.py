"""`OpenAIProvider`: any OpenAI-compatible chat-completions server, streamed (`stream: true`).

Works with OpenAI, vLLM, Ollama (`/v1`) and llama.cpp's server. The answer is grounded by the
system prompt that `app.llm.prompts.build_messages` writes from the retrieval results.

Failure policy (one `RetryPolicy`, app/llm/retry.py, for `stream` and `choose_tools`):
- before the first token, connect errors, timeouts, dropped connections, 429 and 5xx are
  retried (short exponential backoff; `Retry-After` honoured up to a cap);
- after the first token nothing is retried: any failure raises `ProviderError(retryable=True)`
  and the caller keeps the partial answer it already streamed;
- a 4xx other than 429 raises `ProviderError(retryable=False)` at once;
- messages never carry the API key, the URL or more than a short excerpt of a response body.

Cancellation (the shopper left): the generator's `aclose()` or a cancelled task closes the
HTTP response at once, which tells the server to stop generating.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import Any, Self

import httpx

from app.llm.base import Grounding, Message, ProviderError, ToolCall
from app.llm.prompts import MAX_HISTORY_TURNS, build_messages
from app.llm.retry import DEFAULT_RETRY, RetryPolicy, Transient

_ERROR_BODY_BYTES = 4096
_EXCERPT_CHARS = 160


def _one_line(text: Any, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


_SECRETISH = re.compile(r"\b(sk|pk|key|token)[-_][A-Za-z0-9_\-*.]{6,}", re.IGNORECASE)


class OpenAIProvider:
    """`LanguageModel` and `ToolChooser` over an OpenAI-compatible `/chat/completions`."""

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
        retry: RetryPolicy = DEFAULT_RETRY,
        max_turns: int = MAX_HISTORY_TURNS,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.retry = retry
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

    async def __aenter__(self) -> Self:
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

    def stream(self, history: list[Message], grounding: Grounding) -> AsyncGenerator[str, None]:
        """The answer, piece by piece, streamed; retried (`self.retry`) until the first piece."""
        payload = self.payload(history, grounding)
        return self.retry.stream(lambda: self._attempt(payload))

    async def choose_tools(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int = 300,
    ) -> list[ToolCall]:
        """Function calling, not streamed: the `tool_calls` the model asks for (each
        `{"name", "arguments"}` with the arguments parsed from their JSON text; a call whose
        arguments are not a JSON object is dropped). Empty when it calls none. Retried like
        `stream` (`self.retry`); raises `ProviderError` in the end."""
        payload = {"model": self.model, "messages": list(messages), "tools": list(tools),
                   "tool_choice": "auto", "stream": False, "max_tokens": max_tokens, "temperature": 0}
        return await self.retry.call(lambda: self._choose_once(payload))

    async def _choose_once(self, payload: dict[str, Any]) -> list[ToolCall]:
        try:
            response = await self._client.post(self.url, json=payload, headers={"Accept": "application/json"})
            if response.status_code != 200:
                await self._fail_status(response)
            return _tool_calls(response)
        except httpx.RequestError as exc:
            raise Transient(_transport_reason(exc)) from None

    async def _attempt(self, payload: dict[str, Any]) -> AsyncGenerator[str, None]:
        try:
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
                    raise Transient("the stream ended before the answer was complete")
        except httpx.RequestError as exc:
            raise Transient(_transport_reason(exc)) from None

    def _parse_chunk(self, data: str) -> tuple[str | None, bool]:
        """(content piece, whether a finish_reason was given) of one `data:` payload."""
        try:
            chunk = json.loads(data)
        except ValueError:
            raise Transient("a malformed chunk") from None
        if not isinstance(chunk, dict):
            raise Transient("a malformed chunk")
        if chunk.get("error"):
            error = chunk["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            code = error.get("code") if isinstance(error, dict) else None
            excerpt = self._excerpt(str(message))
            if isinstance(code, int) and 400 <= code < 500 and code != 429:
                raise ProviderError(f"The language model refused the request: {excerpt}", retryable=False)
            raise Transient(f"error from the model: {excerpt}")
        choices = chunk.get("choices")
        if not choices:  # e.g. a trailing usage chunk
            return None, False
        if not isinstance(choices, list) or not isinstance(choices[0], dict):
            raise Transient("a malformed chunk")
        choice = choices[0]
        delta = choice.get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        if content is not None and not isinstance(content, str):
            raise Transient("a malformed chunk")
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
            raise Transient(f"HTTP {status}", retry_after=_retry_after(response.headers.get("retry-after")))
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


def _tool_calls(response: httpx.Response) -> list[ToolCall]:
    try:
        body = response.json()
        message = body["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise Transient("a malformed reply") from None
    calls: list[ToolCall] = []
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
