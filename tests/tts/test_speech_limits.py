"""The speaker within process-wide bounds (app/tts/slots.py, app/tts/speaker.py): at most
TTS_MAX_CONCURRENT syntheses at once across every answer, oldest answer first, a bounded
wait after which the rest of an answer is text only, and every synthesis awaited when an
answer ends early. In-process, with engine doubles that count and record (the real engine
under real load: tests/tts/test_speech_http.py)."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
from contextlib import aclosing

import pytest

from app.conversation.stored import StoredAnswer, spoken
from app.tts.engine import TTSError
from app.tts.slots import SpeechBusy, SpeechSlots
from app.tts.speaker import Speaker
from tests.support.wait import eventually


class Counting:
    """Takes `seconds` per sentence; records the most syntheses at once, the order they
    started in, and every synthesis that ran its cleanup."""

    name = "counting"

    def __init__(self, seconds: float = 0.05, fail_on: tuple[str, ...] = ()) -> None:
        self.seconds = seconds
        self.fail_on = fail_on
        self.now = 0
        self.peak = 0
        self.started: list[str] = []
        self.cleaned: list[str] = []

    async def synthesize(self, text: str, lang: str) -> bytes:
        self.now += 1
        self.peak = max(self.peak, self.now)
        self.started.append(text)
        try:
            await asyncio.sleep(self.seconds)
            if any(word in text for word in self.fail_on):
                raise TTSError("boom")
            return text.encode()
        finally:
            self.now -= 1
            self.cleaned.append(text)


def sentences(prefix: str, n: int) -> str:
    return " ".join(f"{prefix} sentence {i}." for i in range(1, n + 1)) + " "


async def speak_all(speaker: Speaker, text: str) -> list:
    speaker.feed(text)
    speaker.finish()
    return speaker.ready() + await speaker.drain()


async def test_syntheses_are_capped_across_every_answer() -> None:
    """Ten answers of four sentences each, two syntheses per answer: never more than the
    process-wide limit at once, and every sentence spoken in order."""
    engine = Counting()
    slots = SpeechSlots(2, max_wait_s=30)
    speakers = [Speaker(engine, "en", slots=slots) for _ in range(10)]
    results = await asyncio.gather(*(speak_all(s, sentences(f"A{i}", 4)) for i, s in enumerate(speakers)))
    assert engine.peak == 2 and slots.peak == 2
    for events in results:
        assert [e.type for e in events] == ["audio"] * 4
        assert [e.data["seq"] for e in events] == [1, 2, 3, 4]
    assert slots.busy == 0 and slots.waiting == 0


async def test_oldest_answer_first() -> None:
    """With one slot, an answer already speaking goes before a newer one's first sentence
    (each answer queues at most `parallel` sentences: 3 here for the older one)."""
    engine = Counting(seconds=0.02)
    slots = SpeechSlots(1, max_wait_s=30)
    older = Speaker(engine, "en", slots=slots, parallel=3)
    await asyncio.sleep(0.01)
    newer = Speaker(engine, "en", slots=slots, parallel=1)
    older.feed("Old one. ")
    await eventually(lambda: engine.started == ["Old one."], timeout=5, interval=0.001, what="the older answer speaks")
    newer.feed("New one. New two. ")
    older.feed("Old two. Old three. ")
    older.finish()
    newer.finish()
    await asyncio.gather(older.drain(), newer.drain())
    assert engine.started == ["Old one.", "Old two.", "Old three.", "New one.", "New two."]


async def test_past_the_wait_bound_the_rest_of_the_answer_is_text_only() -> None:
    """A sentence that gets no slot within the bound: the audio so far stays, one non-fatal
    TTS_UNAVAILABLE (reason busy) takes its place, and nothing later is synthesised."""
    hog = Counting(seconds=0.6)
    slots = SpeechSlots(1, max_wait_s=0.2)
    busy = asyncio.create_task(speak_all(Speaker(hog, "en", slots=slots, parallel=1), "Long one. "))
    await eventually(lambda: hog.now == 1, timeout=5, interval=0.005, what="the hog holds the only slot")
    engine = Counting()
    speaker = Speaker(engine, "en", slots=slots, parallel=1)
    events = await speak_all(speaker, sentences("B", 3))
    assert [(e.type, e.data.get("code")) for e in events] == [("error", "TTS_UNAVAILABLE")]
    error = events[0].data
    assert (error["fatal"], error["reason"], error["spoken"]) == (False, "busy", 0)
    assert engine.started == []
    assert slots.refused >= 1
    assert [e.type for e in await busy] == ["audio"]
    assert slots.busy == 0


async def test_a_refused_slot_is_not_lost_when_its_waiter_goes() -> None:
    slots = SpeechSlots(1, max_wait_s=5)
    async with slots.slot(0.0):
        waiter = asyncio.create_task(slots._acquire(1.0, 5.0))
        await eventually(lambda: slots.waiting == 1, timeout=5, interval=0.001, what="the waiter queues")
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert slots.busy == 0
    async with asyncio.timeout(1):
        async with slots.slot(2.0):
            assert slots.busy == 1


async def test_speech_lags_its_text_by_the_bound_at_most() -> None:
    """All five sentences arrive at once; each synthesis holds the one slot 0.2 s. With a
    0.5 s bound, sentences that could not start within 0.5 s of their text are not spoken:
    the first three start at 0, 0.2 and 0.4 s, the fourth would start at 0.6 s."""
    slots = SpeechSlots(1, max_wait_s=0.5)
    engine = Counting(seconds=0.2)
    speaker = Speaker(engine, "en", slots=slots, parallel=5)
    events = await speak_all(speaker, sentences("E", 5))
    assert [e.type for e in events] == ["audio", "audio", "audio", "error"]
    assert (events[-1].data["reason"], events[-1].data["spoken"]) == ("busy", 3)
    assert engine.started == ["E sentence 1.", "E sentence 2.", "E sentence 3."]


async def test_busy_is_a_tts_error() -> None:
    assert issubclass(SpeechBusy, TTSError)


class _Store:
    """Just enough of the store for `StoredAnswer`."""

    class conversations:  # noqa: N801 - stands in for the repository attribute
        @staticmethod
        async def update_message(*args: object, **kwargs: object) -> None:
            return None


async def _pieces(text: str):
    for word in text.split(" "):
        yield word + " "
        await asyncio.sleep(0.001)


async def test_an_answer_ended_early_waits_for_its_syntheses() -> None:
    """Closing the answer's generator mid-speech (a stop, a client gone with
    STREAM_DETACH_S=0) cancels its syntheses and waits for their cleanup before it returns:
    no task outlives the stream (the old speaker only asked them to cancel)."""
    engine = Counting(seconds=5)
    answer = StoredAnswer(_Store(), "m1")
    async with aclosing(spoken(answer, _pieces(sentences("C", 4)), engine, "en", speak=True,
                               slots=SpeechSlots(2, 30))) as out:
        async for event in out:
            if engine.now == 2:
                break
    assert engine.now == 0, "every synthesis should have ended"
    assert sorted(engine.cleaned) == sorted(engine.started)


async def test_a_failure_after_the_speaker_went_quiet_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Two sentences fail at once: one error event, and the second failure is not left for
    the garbage collector to log as 'Task exception was never retrieved'."""
    engine = Counting(seconds=0.01, fail_on=("sentence 1", "sentence 2"))
    speaker = Speaker(engine, "en", slots=SpeechSlots(2, 30))
    events = await speak_all(speaker, sentences("D", 3))
    await speaker.aclose()
    assert [(e.type, e.data["reason"]) for e in events] == [("error", "failed")]
    del speaker, events
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
        await asyncio.sleep(0.01)
    assert "never retrieved" not in caplog.text


async def test_audio_payload_unchanged() -> None:
    events = await speak_all(Speaker(Counting(seconds=0), "en", slots=SpeechSlots(1, 1)), "Hello there. ")
    assert base64.b64decode(events[0].data["chunk"]) == b"Hello there."
