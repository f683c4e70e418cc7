"""An assistant's answer as it streams, for the chat and the sales agent alike.

Nothing said is lost: the message is stored (`streaming`) before the first word; `complete()`
stores it whole; if the stream ends any other way (the client left, the deadline passed, the
model or anything else failed) whatever was said so far is stored as `interrupted` or `failed`.
`spoken()` turns the text pieces into `text` events and, when speech is on, per-sentence
`audio` events in order.

A record is never left `streaming` by a stream that ended:
- `start()` is cancelled (the client left, the deadline passed) or fails while its insert is
  in flight: the insert may still land, so `start()` waits for it and ends the record
  (`interrupted` / `failed`) before passing the cancellation on. `start()` returns straight
  into `kept()` with no await in between, so no cancellation can fall between the two.
- the final write cannot reach the database (it is down): it is deferred on the store and
  written when the database is back (`Platform` flushes it), only onto a record that is
  still `streaming`.
- the process dies: the next start ends it (`Conversations.end_stale_answers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

from pymongo.errors import ConnectionFailure

from app.llm.base import ProviderError
from app.store.repositories import new_id
from app.streams import events as ev
from app.streams.events import Code, Event, StreamError
from app.tts.engine import TTSEngine
from app.tts.slots import SpeechSlots
from app.tts.speaker import Speaker

if TYPE_CHECKING:
    from app.store.mongo import Store

log = logging.getLogger("storestream.chat")


class StoredAnswer:
    def __init__(self, store: Store, message_id: str) -> None:
        self.store = store
        self.id = message_id
        self.text = ""
        self.pieces = 0
        self.status = "interrupted"  # until it completes or fails

    @classmethod
    async def start(cls, store: Store, conversation_id: str, **fields: Any) -> StoredAnswer:
        """The `streaming` record, before the first word. Cancelled or failed while it is
        written: the record (if the write landed) is ended before the exception goes on."""
        answer = cls(store, new_id())
        write = _background(store.conversations.start_answer(conversation_id, answer.id, **fields))
        try:
            await asyncio.shield(write)
        except BaseException as exc:
            status = "failed" if isinstance(exc, Exception) else "interrupted"
            await keep_partial(store, answer.id, "", status, after=write)
            raise
        return answer

    async def complete(self, **fields: Any) -> None:
        await self.store.conversations.update_message(self.id, content=self.text, status="complete", **fields)
        self.status = "complete"
        self.store.conversations.answer_ended(self.id)

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
) -> AsyncGenerator[Event, None]:
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


# Writes that must finish even when the task that started them is cancelled: held here so
# that nothing but their own end can drop them (the event loop keeps only weak references).
_WRITES: set[asyncio.Task[Any]] = set()


def _background(coro: Any) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coro)
    _WRITES.add(task)
    task.add_done_callback(_WRITES.discard)
    return task


async def keep_partial(
    store: Store, message_id: str, text: str, status: str, *, after: asyncio.Future[Any] | None = None
) -> None:
    """Store what was said so far (after `after`, the record's own insert, when given).
    Shielded: it runs to the end even while this task is being cancelled (the client left or
    the deadline passed), and a second cancellation does not stop it either. The database
    unreachable: the write is deferred on the store until it is back."""
    conversations = store.conversations

    async def write() -> None:
        if after is not None:
            try:
                await after
            except Exception:  # noqa: BLE001 - a failed insert: the update below finds no record, or it did land
                pass
        try:
            await conversations.end_answer(message_id, content=text, status=status)
        except ConnectionFailure as exc:
            store.defer_answer_end(message_id, content=text, status=status)
            log.warning("could not store the %s answer %s now (%s); it is kept until the database is back",
                        status, message_id, type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - anything else: the start-up repair ends the record
            log.warning("could not store the partial answer %s: %s", message_id, type(exc).__name__)
        finally:
            conversations.answer_ended(message_id)

    await asyncio.shield(_background(write()))
