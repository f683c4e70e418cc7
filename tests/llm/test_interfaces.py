"""What callers may rely on of every provider (`app.llm.base`): a name and a model to record
with each answer, `aclose`, and function calling only where a provider says it has it."""

from __future__ import annotations

from app.llm.base import LanguageModel, ToolChooser
from app.llm.grounded import GroundedProvider
from app.llm.openai import OpenAIProvider


async def test_every_provider_names_itself_and_its_model_and_closes() -> None:
    providers: list[LanguageModel] = [
        GroundedProvider(),
        OpenAIProvider("http://127.0.0.1:9/v1", model="smollm2-135m"),  # nothing is sent
    ]
    assert [(p.name, p.model) for p in providers] == [("grounded", ""), ("openai", "smollm2-135m")]
    for provider in providers:
        await provider.aclose()


async def test_only_a_model_that_calls_tools_is_a_tool_chooser() -> None:
    openai = OpenAIProvider("http://127.0.0.1:9/v1", model="m")
    try:
        assert isinstance(openai, ToolChooser)
        assert not isinstance(GroundedProvider(), ToolChooser)
    finally:
        await openai.aclose()
