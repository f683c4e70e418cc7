"""The interfaces every answer provider implements.

A provider receives the conversation and what retrieval found (`Grounding`) and yields the
answer as text pieces. It raises `ProviderError` when its upstream fails; the chat stream
turns that into an `error` event and keeps the partial answer. A provider that can do
function calling is a `ToolChooser` too (the sales agent asks it which tools to run).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, runtime_checkable


@dataclass(frozen=True, slots=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class Grounding:
    """Facts an answer may use, and nothing else."""

    query: str  # the shopper's message as asked
    language: str  # ISO 639-1 code the answer must be in
    products: list[dict[str, Any]] = field(default_factory=list)  # product cards, best first
    sources: list[dict[str, Any]] = field(default_factory=list)  # context chunks: text, file_name, page, score
    filters: dict[str, Any] = field(default_factory=dict)  # what the query asked for (category, colors, max_price...)
    total: int = 0  # how many products match in all (`products` holds the best of them)


class ProviderError(Exception):
    """The model's upstream failed. `retryable`: worth asking again later."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


JsonObject = Mapping[str, Any]  # a chat-completions message or tool schema, as JSON


class ToolCall(TypedDict):
    """A tool the model asks to run, with its arguments as the model wrote them (unchecked)."""

    name: str
    arguments: dict[str, Any]


class LanguageModel(Protocol):
    """What callers use of a provider. `name` and `model` are recorded with each answer
    (`name` alone when `model` is empty, as for the grounded provider)."""

    name: str  # the provider: "grounded", "openai"
    model: str  # the model it asks for, as the server names it; "" when there is none

    def stream(self, history: list[Message], grounding: Grounding) -> AsyncIterator[str]:
        """The answer to the last user message in `history`, piece by piece."""
        ...

    async def aclose(self) -> None:
        """Release what the provider holds (its HTTP connections); called once, at shutdown."""
        ...


@runtime_checkable
class ToolChooser(Protocol):
    """A model that can choose tools (function calling)."""

    async def choose_tools(
        self, messages: Sequence[JsonObject], tools: Sequence[JsonObject], *, max_tokens: int = 300
    ) -> list[ToolCall]:
        """The calls the model asks for, given the chat-completions `messages` and `tools`;
        empty when it calls none. Raises `ProviderError` when the model cannot answer."""
        ...


def model_used(model: LanguageModel) -> str:
    """How a stored answer names what wrote it: `grounded`, `openai:<model>`."""
    return model.name + (f":{model.model}" if model.model else "")


def one_line(text: object, limit: int) -> str:
    """`text` on one line, at most `limit` characters (an ellipsis where it was cut): a product
    or passage in a prompt, a server's reply in an error message."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

