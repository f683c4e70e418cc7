"""The one interface every answer provider implements.

A provider receives the conversation and what retrieval found (`Grounding`) and yields the
answer as text pieces. It raises `ProviderError` when its upstream fails; the chat stream
turns that into an `error` event and keeps the partial answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


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


class LanguageModel(Protocol):
    name: str  # the provider: "grounded", "openai"
    model: str  # which model it asks ("" when the provider is the model)

    def stream(self, history: list[Message], grounding: Grounding) -> AsyncIterator[str]:
        """The answer to the last user message in `history`, piece by piece."""
        ...

    async def aclose(self) -> None:
        """Release what it holds (connections), at shutdown."""
        ...


class ToolChooser(Protocol):
    """A model that can choose the agent's tools (function calling)."""

    async def choose_tools(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, max_tokens: int = 300
    ) -> list[dict[str, Any]]:
        """The calls the model asks for, each `{"name", "arguments"}`; raises `ProviderError`."""
        ...


def model_used(model: LanguageModel) -> str:
    """How a stored answer names what wrote it: `grounded`, `openai:<model>`."""
    return model.name + (f":{model.model}" if model.model else "")
