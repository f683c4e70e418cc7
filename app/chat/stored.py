"""An assistant's answer as it streams, for the chat and the sales agent alike.

Nothing said is lost: the message is stored (`streaming`) before the first word; `complete()`
stores it whole; if the stream ends any other way (the client left, the deadline passed, the
model or anything else failed) whatever was said so far is stored as `interrupted` or `failed`.
`spoken()` turns the text pieces into `text` events and, when speech is on, per-sentence
`audio` events in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from app.llm.base import ProviderError
from app.streams import events as ev
from app.streams.events import Code, Event, StreamError
from app.tts.engine import TTSEngine
from app.tts.slots import SpeechSlots
from app.tts.speaker import Speaker

log = logging.getLogger("storestream.chat")


class StoredAnswer:
    def __init__(self, store: Any, message_id: str) -> None:
        self.store = store
        self.id = message_id
        self.text = ""
        self.pieces = 0
        self.status = "interrupted"  # until it completes or fails

    @classmethod
    async def start(cls, store: Any, conversation_id: str, **fields: Any) -> StoredAnswer:
        message_id = await store.conversations.add_message(
            conversation_id, "assistant", "", status="streaming", **fields
        )
        return cls(store, message_id)

    async def complete(self, **fields: Any) -> None:
        await self.store.conversations.update_message(self.id, content=self.text, status="complete", **fields)
        self.status = "complete"

    @contextlib.asynccontextmanager
    async def kept(self, tag: str) -> AsyncIterator[StoredAnswer]:
        """Around the streaming of the answer: a model failure becomes `UPSTREAM_UNAVAILABLE`,
        and an answer that did not complete is stored as it stands."""
        try:
            yield self
        except ProviderError as exc:
            self.status = "failed"
            raise StreamError(Code.UPSTREAM_UNAVAILABLE, exc.message, retryable=exc.retryable) from None
        except Exception:
            self.status = "failed"
            raise
        finally:
            if self.status != "complete":
                await keep_partial(self.store, self.id, self.text, self.status)
                log.info("%s answer %s after %d characters", tag, self.status, len(self.text))


async def spoken(
    answer: StoredAnswer, pieces: AsyncIterator[str], tts: TTSEngine | None, language: str, *, speak: bool,
    slots: SpeechSlots | None = None,
) -> AsyncIterator[Event]:
    """`text` for every piece (recorded in `answer`), and `audio` per sentence when `speak`:
    sentence N is synthesised while the text goes on, and audio stays in order. `slots`: the
    process-wide limit on syntheses (app/tts/slots.py)."""
    speaker = Speaker(tts, language, slots=slots) if speak and tts is not None else None
    try:
        async for piece in pieces:
            answer.text += piece
            answer.pieces += 1
            yield ev.text(piece, answer.text)
            if speaker is not None:
                speaker.feed(piece)
                for audio in speaker.ready():
                    yield audio
        if speaker is not None:
            speaker.finish()
            for audio in speaker.ready() + await speaker.drain():
                yield audio
    finally:
        if speaker is not None:
            await speaker.aclose()


async def keep_partial(store: Any, message_id: str, text: str, status: str) -> None:
    """Store what was said so far. Shielded: it runs to the end even while this task is being
    cancelled (the client left or the deadline passed)."""
    try:
        await asyncio.shield(store.conversations.update_message(message_id, content=text, status=status))
    except Exception as exc:  # noqa: BLE001 - the database itself may be what failed
        log.warning("could not store the partial answer %s: %s", message_id, type(exc).__name__)
