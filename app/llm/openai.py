"""`OpenAIProvider`: any OpenAI-compatible chat-completions server, streamed (`stream: true`).

Works with OpenAI, vLLM, Ollama (`/v1`) and llama.cpp's server. This module reads and writes
the chat-completions payloads; the prompt comes from app/llm/prompts.py, HTTP and SSE from
app/llm/transport.py, and when to ask again from app/llm/retry.py.

Failure policy (one `RetryPolicy` for `stream` and `choose_tools`):
- before the first token, connect errors, timeouts, dropped connections, 429, 5xx, an error
  object in the stream and a malformed reply are retried (short exponential backoff;
  `Retry-After` honoured up to a cap, a longer one not waited for);
- after the first token nothing is retried: any failure raises `ProviderError(retryable=True)`
  and the caller keeps the partial answer it already streamed;
- a 4xx other than 429 raises `ProviderError(retryable=False)` at once;
- messages never carry the API key, the URL or more than a short excerpt of a response body.

Cancellation (the shopper left): the generator's `aclose()` or a cancelled task closes the
HTTP response at once, which tells the server to stop generating.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any, Self

from app.llm.base import Grounding, JsonObject, Message, ProviderError, ToolCall
from app.llm.prompts import MAX_HISTORY_TURNS, build_messages
from app.llm.retry import DEFAULT_RETRY, RetryPolicy, Transient
from app.llm.transport import ChatCompletionsClient


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
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.retry = retry
        self.max_turns = max_turns
        self._http = ChatCompletionsClient(
            base_url, api_key=api_key, connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def payload(self, history: list[Message], grounding: Grounding) -> dict[str, Any]:
        """The streamed request's body: the grounded messages and the sampling settings."""
        return {
            "model": self.model,
            "messages": build_messages(history, grounding, max_turns=self.max_turns),
            "stream": True,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def stream(self, history: list[Message], grounding: Grounding) -> AsyncGenerator[str, None]:
        """The answer, piece by piece; retried (`self.retry`) until its first piece only."""
        payload = self.payload(history, grounding)
        return self.retry.stream(lambda: self._answer(payload))

    async def choose_tools(
        self, messages: Sequence[JsonObject], tools: Sequence[JsonObject], *, max_tokens: int = 300
    ) -> list[ToolCall]:
        """Function calling, not streamed: the `tool_calls` the model asks for, with their
        arguments parsed from their JSON text (a call whose arguments are not a JSON object is
        dropped). Empty when it calls none. Retried like `stream` (`self.retry`); raises
        `ProviderError` in the end."""
        payload = {"model": self.model, "messages": list(messages), "tools": list(tools),
                   "tool_choice": "auto", "stream": False, "max_tokens": max_tokens, "temperature": 0}

        async def attempt() -> list[ToolCall]:
            return _tool_calls(await self._http.post(payload))

        return await self.retry.call(attempt)

    async def _answer(self, payload: dict[str, Any]) -> AsyncGenerator[str, None]:
        """One attempt at the streamed answer: the content pieces of its chunks."""
        finished = False
        # aclosing: when we stop early ([DONE], an error, our caller left), the HTTP response
        # closes now, not whenever the garbage collector finalises the events generator.
        async with aclosing(self._http.events(payload)) as events:
            async for data in events:
                if data.strip() == "[DONE]":
                    return
                piece, done = self._read_chunk(data)
                finished = finished or done
                if piece:
                    yield piece
        if not finished:
            raise Transient("the stream ended before the answer was complete")

    def _read_chunk(self, data: str) -> tuple[str | None, bool]:
        """(content piece, whether a finish_reason was given) of one `chat.completion.chunk`."""
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
            excerpt = self._http.excerpt(str(message))
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


def _tool_calls(body: Any) -> list[ToolCall]:
    """The readable tool calls of a (non-streamed) chat completion."""
    try:
        message = body["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise Transient("a malformed reply") from None
    if message is None:
        return []
    if not isinstance(message, dict):
        raise Transient("a malformed reply")
    calls: list[ToolCall] = []
    for call in message.get("tool_calls") or []:
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
