"""Speech engines: the real offline engine (espeak-ng + lameenc), the real gTTS failing
offline, the automatic fallback, and the speaker's ordering and failure handling."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest

from app.tts import espeak
from app.tts.auto import FallbackEngine
from app.tts.engine import TTSError
from app.tts.google import GoogleEngine
from app.tts.speaker import Speaker
from tests.support.mp3 import frames
from tests.support.requirements import missing_espeak, requires

needs_espeak = requires(missing_espeak())


@needs_espeak
@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "This red silk saree suits a wedding."), ("hi", "यह लाल साड़ी है।"),
     ("fa", "این ساری قرمز است."), ("ru", "Это красное сари."), ("he", "זה סארי אדום.")],
)
async def test_offline_engine_speaks_every_language_as_mp3(lang: str, text: str) -> None:
    mp3 = await espeak.EspeakEngine().synthesize(text, lang)
    parsed = frames(mp3)
    assert len(parsed) > 10  # a real utterance, not a click
    assert {rate for rate, _ in parsed} == {22050}


@needs_espeak
async def test_sentences_concatenate_into_one_valid_stream() -> None:
    engine = espeak.EspeakEngine()
    first = await engine.synthesize("First sentence.", "en")
    second = await engine.synthesize("Second sentence.", "en")
    assert len(frames(first + second)) == len(frames(first)) + len(frames(second))


async def test_gtts_offline_fails_fast_with_tts_error() -> None:
    """No network on these machines: the real gTTS must fail quickly and cleanly."""
    started = time.monotonic()
    with pytest.raises(TTSError):
        await GoogleEngine(timeout_s=1.0).synthesize("hello", "en")
    assert time.monotonic() - started < 5


class _Hanging:
    """Test double: a primary engine that never answers (a black-holed network, which this
    offline machine cannot produce on demand)."""

    name = "hanging"

    def __init__(self) -> None:
        self.calls = 0

    async def synthesize(self, text: str, lang: str) -> bytes:
        self.calls += 1
        await asyncio.sleep(3600)
        return b""


class _Recorder:
    """Test double: a fallback that records what it was asked (the real one is tested above)."""

    name = "recorder"

    def __init__(self, delays: dict[str, float] | None = None, fail_on: str | None = None) -> None:
        self.delays = delays or {}
        self.fail_on = fail_on
        self.texts: list[str] = []

    async def synthesize(self, text: str, lang: str) -> bytes:
        self.texts.append(text)
        await asyncio.sleep(self.delays.get(text, 0))
        if self.fail_on and self.fail_on in text:
            raise TTSError("boom")
        return text.encode()


async def test_fallback_within_the_timeout_and_remembers_the_failure() -> None:
    primary, fallback = _Hanging(), _Recorder()
    engine = FallbackEngine(primary, fallback, primary_timeout_s=0.2, retry_after_s=60)
    assert await engine.synthesize("one", "en") == b"one"
    assert await engine.synthesize("two", "en") == b"two"
    assert primary.calls == 1 and fallback.texts == ["one", "two"] and engine.primary_down


async def test_fallback_from_real_gtts_offline() -> None:
    fallback = _Recorder()
    engine = FallbackEngine(GoogleEngine(timeout_s=1.0), fallback, primary_timeout_s=1.0)
    assert await engine.synthesize("hello.", "en") == b"hello."
    assert engine.primary_down


async def test_speaker_keeps_sentence_order_while_synthesising_ahead() -> None:
    engine = _Recorder(delays={"One.": 0.2, "Two.": 0.0, "Three.": 0.05})
    speaker = Speaker(engine, "en", parallel=3)
    for token in ["One. Tw", "o. Three."]:
        speaker.feed(token)
    speaker.finish()
    events = speaker.ready() + await speaker.drain()
    assert [e.data["seq"] for e in events] == [1, 2, 3]
    assert [base64.b64decode(e.data["chunk"]) for e in events] == [b"One.", b"Two.", b"Three."]
    assert all(e.type == "audio" and e.data["format"] == "mp3" for e in events)


async def test_speaker_failure_is_one_non_fatal_error_then_silence() -> None:
    speaker = Speaker(_Recorder(fail_on="Two"), "en", parallel=1)
    speaker.feed("One. Two. Three. Four. ")
    speaker.finish()
    events = await speaker.drain()
    kinds = [(e.type, e.data.get("code")) for e in events]
    assert kinds == [("audio", None), ("error", "TTS_UNAVAILABLE")]
    assert events[1].data["fatal"] is False
    speaker.feed("Five. ")
    assert await speaker.drain() == []
