"""The replay buffer in Redis (`STREAM_REPLAY_URL=redis://...`): a reconnect carrying
`Last-Event-ID` is resumed by whichever instance it reaches, without the work running again.

Per stream two keys, written by a Lua script per batch of frames (atomic; one writer task
sends every stream's pending batches in one pipeline):

    storestream:replay:<id>        list of encoded frames, oldest first
    storestream:replay:<id>:meta   hash: owner, inst, first (seq of the list's head), next
                                   (seq the next frame must have), bytes, fin, dup, route,
                                   client (the stream's Binding, app/streams/resume.py)

- Bounds as the in-process buffer: `STREAM_REPLAY_EVENTS` and `STREAM_REPLAY_BYTES` per
  stream (the oldest frames are dropped, and `first` moves past them, so a resume from before
  them is a gap and gets `STREAM_EXPIRED`); both keys expire `STREAM_REPLAY_TTL_S` after the
  last write (each append and the finish refresh it). `STREAM_REPLAY_STREAMS` is enforced per
  instance: each instance deletes the oldest streams it recorded beyond that many.
- Stream ids are 128 bits (the public half of app/streams/resume.py), drawn independently
  by every instance. The first batch of a stream claims the meta key (HSETNX owner); should
  another stream already hold that id, the key is marked `dup` and neither stream is
  replayed (a resume gets `STREAM_EXPIRED`), rather than one client receiving the other's
  frames.
- A stream still running on instance A, resumed on instance B: B replays what is held and
  follows (polling) until A finishes it. If A died (its heartbeat key, refreshed every third
  of `REDIS_LEASE_S`, is gone) `read` says `orphaned`, and the resumer seals the stream with
  `error{STREAM_INTERRUPTED, retryable}` + `close` under the next ids (`seal`: one script,
  only if nothing else was appended meanwhile), so every later resumer gets the same honest
  end and then 204. (The resumer encodes those frames: only it holds the token their ids
  carry.)
- Writes are behind: a stream never waits for Redis (see `RedisReplayBuffer`).
- Redis unreachable: writes are dropped (the stream itself goes on; the gap is detected
  when writing resumes, and the frames before it are then dropped), reads answer None (the
  client gets `STREAM_EXPIRED`); one log line per outage (app/redis_link.py).

Standalone Redis (or a primary with replicas); not Redis Cluster: the scripts touch keys
they derive from the meta (the owner's heartbeat).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from redis.exceptions import NoScriptError

from app.redis_link import PREFIX, RedisLink, Unavailable
from app.streams.replay import Replay
from app.streams.resume import Binding

log = logging.getLogger("storestream.streams")

_MAX_ARGS = 1000  # frames per script call (Lua's unpack has a stack limit)

# KEYS: list, meta, heartbeat. ARGV: max_events, max_bytes, ttl_ms, owner, inst, first seq of
# the batch, lease_ms, claim (1 for a stream's first batch), route, client, frames...
# Returns the frames held, -1 when the id was already taken (marked dup), -2 when finished.
_APPEND = """
local list, meta = KEYS[1], KEYS[2]
local first = tonumber(ARGV[6])
if ARGV[8] == '1' then
  if redis.call('HSETNX', meta, 'owner', ARGV[4]) == 0 then
    redis.call('HSET', meta, 'dup', '1')
    return -1
  end
  redis.call('DEL', list)
  redis.call('HSET', meta, 'inst', ARGV[5], 'first', first, 'next', first, 'bytes', 0,
             'route', ARGV[9], 'client', ARGV[10])
else
  local m = redis.call('HMGET', meta, 'next', 'fin', 'owner')
  if m[2] then
    return -2
  end
  if not m[1] or m[3] ~= ARGV[4] then
    -- expired, or the frames before were never written: start over from this batch
    redis.call('DEL', list, meta)
    redis.call('HSET', meta, 'owner', ARGV[4], 'inst', ARGV[5], 'first', first, 'next', first, 'bytes', 0)
  elseif tonumber(m[1]) ~= first then
    -- a gap (batches skipped while Redis was unreachable): what came before cannot be replayed
    redis.call('DEL', list)
    redis.call('HSET', meta, 'first', first, 'next', first, 'bytes', 0)
  end
end
local added = 0
for i = 11, #ARGV do
  added = added + string.len(ARGV[i])
end
local len = redis.call('RPUSH', list, unpack(ARGV, 11))
local bytes = redis.call('HINCRBY', meta, 'bytes', added)
local max_events, max_bytes = tonumber(ARGV[1]), tonumber(ARGV[2])
local dropped = 0
while len > 0 and (len > max_events or bytes > max_bytes) do
  bytes = bytes - string.len(redis.call('LPOP', list))
  len = len - 1
  dropped = dropped + 1
end
if dropped > 0 then
  redis.call('HSET', meta, 'bytes', bytes)
  redis.call('HINCRBY', meta, 'first', dropped)
end
redis.call('HSET', meta, 'next', first + #ARGV - 10)
redis.call('PEXPIRE', list, ARGV[3])
redis.call('PEXPIRE', meta, ARGV[3])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[7])
return len
"""

# KEYS: list, meta. ARGV: after_seq, heartbeat key prefix.
# Returns nil (unknown, expired, dup, or a gap), else
# {fin, owner alive, next, route, client, inst, frames...}.
_READ = """
local m = redis.call('HMGET', KEYS[2], 'first', 'next', 'fin', 'dup', 'inst', 'route', 'client')
if not m[1] or m[4] then
  return false
end
local first, after = tonumber(m[1]), tonumber(ARGV[1])
if after + 1 < first then
  return false
end
local alive = 1
if not m[3] and m[5] then
  alive = redis.call('EXISTS', ARGV[2] .. m[5])
end
local out = {m[3] and 1 or 0, alive, tonumber(m[2]), m[6] or '', m[7] or '', m[5] or ''}
local frames = redis.call('LRANGE', KEYS[1], after + 1 - first, -1)
for i = 1, #frames do
  out[#out + 1] = frames[i]
end
return out
"""

# KEYS: list, meta. ARGV: ttl_ms. Marks the stream finished; starts its TTL.
_FINISH = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], 'fin', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"""

# KEYS: list, meta. ARGV: ttl_ms, expected next seq, frames... Ends a stream whose owner died,
# only if it is still unfinished and nothing was appended since the caller looked.
_SEAL = """
local m = redis.call('HMGET', KEYS[2], 'next', 'fin')
if m[2] or not m[1] or tonumber(m[1]) ~= tonumber(ARGV[2]) then
  return 0
end
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[1], ARGV[i])
  redis.call('HINCRBY', KEYS[2], 'bytes', string.len(ARGV[i]))
end
redis.call('HSET', KEYS[2], 'next', tonumber(ARGV[2]) + #ARGV - 2, 'fin', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"""


@dataclass(slots=True)
class _Mine:
    """A stream this instance records."""

    owner: str
    binding: Binding | None = None
    recording: bool = True  # False: its id was taken by another stream
    finished_at: float | None = None


class RedisReplayBuffer:
    """The `ReplayBuffer` protocol of app/streams/replay.py, shared by every instance.

    Writes are behind: `append` and `finish` queue the work and return at once, and one writer
    task sends everything queued in one pipeline (all streams' batches together), so a slow or
    hung Redis never holds a stream back. The writer keeps each stream's order; a resumer
    reading right after an append may miss the newest frames for a moment and follows them
    (it polls). Bounded: beyond `_MAX_PENDING` queued writes new ones are dropped (a gap)."""

    def __init__(
        self,
        link: RedisLink,
        *,
        max_events: int,
        max_bytes: int,
        max_streams: int,
        ttl_s: float,
    ) -> None:
        self.link = link
        self._max_events = max_events
        self._max_bytes = max_bytes
        self._max_streams = max_streams
        self._ttl_s = ttl_s
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._lease_ms = max(1, int(link.lease_s * 1000))
        self._mine: OrderedDict[str, _Mine] = OrderedDict()
        self._scripts = {name: link.client.register_script(text) for name, text in _SCRIPTS.items()}
        self._loaded = False  # scripts known to the server (SCRIPT LOAD after a start or NOSCRIPT)
        self._heartbeats = f"{PREFIX}instance:"
        self._pending: list[tuple[Any, ...]] = []
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self.dropped = 0  # writes given up (Redis unreachable or the queue full)
        link.outage.register("replay buffer", _CONSEQUENCE)
        self._keeping = False
        self._busy = False  # the writer is sending a batch
        self._warned_at = -1e9

    def __len__(self) -> int:
        return len(self._mine)

    @staticmethod
    def keys(stream_id: str) -> list[str]:
        base = f"{PREFIX}replay:{stream_id}"
        return [base, base + ":meta"]

    # --- writing (behind) ----------------------------------------------------------------

    async def open(self, stream_id: str, binding: Binding) -> None:
        self._mine[stream_id] = _Mine(owner=f"{self.link.instance_id}:{secrets.token_hex(6)}", binding=binding)
        for old in self._evict():
            self._queue(("unlink", old))

    async def append(self, stream_id: str, frames: list[tuple[int, bytes]]) -> None:
        if not frames:
            return
        mine = self._mine.get(stream_id)
        claim = frames[0][0] == 1  # a new stream's first batch claims its id
        if mine is None:  # one this instance had forgotten (evicted) starts over
            mine = self._mine[stream_id] = _Mine(owner=f"{self.link.instance_id}:{secrets.token_hex(6)}")
            for old in self._evict():
                self._queue(("unlink", old))
        if not mine.recording:
            return
        # Frames of a stream queued one after another go in one script call (the writer takes
        # the whole queue at once, so the last queued op is never being sent meanwhile).
        last = self._pending[-1] if self._pending else None
        if last is not None and last[0] == "append" and last[1] == stream_id:
            last[4].extend(frames)
            return
        self._queue(("append", stream_id, mine, claim, list(frames)))

    async def finish(self, stream_id: str) -> None:
        mine = self._mine.get(stream_id)
        if mine is not None:
            mine.finished_at = time.monotonic()
            if mine.recording:
                self._queue(("finish", stream_id))

    def _queue(self, op: tuple[Any, ...]) -> None:
        if len(self._pending) >= _MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append(op)
        if self._writer is None or self._writer.done():
            self._wake = asyncio.Event()
            self._writer = asyncio.get_running_loop().create_task(self._write_loop(), name="replay-writer")
            if not self._keeping:  # the keeper refreshes this instance's heartbeat
                self._keeping = True
                self.link.keep(self._no_renewals)
        assert self._wake is not None
        self._wake.set()

    async def _write_loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                ops, self._pending = self._pending, []
                self._busy = True
                try:
                    await self._write(ops)
                except Exception:  # noqa: BLE001 - the writer must survive anything
                    log.exception("replay writer failed; %d writes lost", len(ops))
                finally:
                    self._busy = False

    async def _write(self, ops: list[tuple[Any, ...]]) -> None:
        append, finish = self._scripts["append"], self._scripts["finish"]
        claims: dict[int, _Mine] = {}  # pipeline index of a claiming call -> its stream

        async def send(client: Any) -> list[Any]:
            if not self._loaded:
                await self._load_scripts(client)
            async with client.pipeline(transaction=False) as pipe:
                return await fill(pipe).execute(raise_on_error=False)

        def fill(pipe: Any) -> Any:
            for op in ops:
                if op[0] == "append":
                    _, sid, mine, claim, frames = op
                    keys = [*self.keys(sid), self.link.heartbeat_key]
                    for start in range(0, len(frames), _MAX_ARGS):
                        batch = frames[start : start + _MAX_ARGS]
                        if claim and start == 0:
                            claims[len(pipe.command_stack)] = mine
                        binding = mine.binding or Binding("", "")
                        pipe.evalsha(
                            append.sha, 3, *keys, self._max_events, self._max_bytes, self._ttl_ms,
                            mine.owner, self.link.instance_id, batch[0][0], self._lease_ms,
                            1 if claim and start == 0 else 0, binding.route, binding.client,
                            *(data for _, data in batch),
                        )
                elif op[0] == "finish":
                    pipe.evalsha(finish.sha, 2, *self.keys(op[1]), self._ttl_ms)
                else:
                    pipe.unlink(*self.keys(op[1]))
            return pipe

        try:
            results = await self.link.call("replay buffer", _CONSEQUENCE, send)
            if any(isinstance(r, NoScriptError) for r in results):
                # Redis restarted and lost its script cache: every script call failed alike
                # (the rest are idempotent unlinks), so load them and send the batch again.
                self._loaded = False
                claims.clear()
                results = await self.link.call("replay buffer", _CONSEQUENCE, send)
        except Unavailable:
            self.dropped += len(ops)
            return
        errors = [r for r in results if isinstance(r, Exception)]
        if errors and time.monotonic() - self._warned_at > 60:  # e.g. OOM: at most once a minute
            self._warned_at = time.monotonic()
            log.warning("replay buffer: %d of %d writes failed: %s", len(errors), len(results), errors[0])
        for index, mine in claims.items():
            if results[index] == -1:
                mine.recording = False  # 48-bit id collision: neither stream will be replayed

    async def _load_scripts(self, client: Any) -> None:
        async with client.pipeline(transaction=False) as pipe:
            for script in self._scripts.values():
                pipe.script_load(script.script)
            await pipe.execute()
        self._loaded = True

    async def _no_renewals(self, pipe: Any) -> None:
        return None

    async def flush(self, timeout_s: float = 2.0) -> bool:
        """Wait until every queued write was sent (or given up); False after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while self._pending or self._busy:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def aclose(self) -> None:
        """On shutdown: send what is queued (the streams' last frames), then stop the writer."""
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()

    def _evict(self) -> list[str]:
        """Forget streams whose TTL ran out; beyond STREAM_REPLAY_STREAMS the oldest go (their
        keys are deleted with the next write)."""
        cutoff = time.monotonic() - self._ttl_s
        while self._mine:
            oldest = next(iter(self._mine.values()))
            if oldest.finished_at is None or oldest.finished_at >= cutoff:
                break
            self._mine.popitem(last=False)
        evicted = []
        while len(self._mine) > self._max_streams:
            sid, _ = self._mine.popitem(last=False)
            evicted.append(sid)
        return evicted

    # --- reading -------------------------------------------------------------------------

    async def read(self, stream_id: str, after_seq: int) -> Replay | None:
        out = await self._read_raw(stream_id, after_seq)
        if not out:
            return None
        finished, alive, next_seq = bool(out[0]), bool(out[1]), int(out[2])
        route, client, owner = (_text(v) for v in out[3:6])
        held = [(after_seq + 1 + i, frame) for i, frame in enumerate(out[6:])]
        return Replay(frames=held, finished=finished, binding=Binding(route, client) if route else None,
                      orphaned=not finished and not alive, next_seq=next_seq, owner=owner)

    async def _read_raw(self, stream_id: str, after_seq: int) -> list[Any] | None:
        read = self._scripts["read"]
        try:
            return await self.link.call(
                "replay buffer", _CONSEQUENCE,
                lambda c: read(keys=self.keys(stream_id), args=[after_seq, self._heartbeats]),
            )
        except Unavailable:
            return None

    async def seal(self, stream_id: str, next_seq: int, frames: list[tuple[int, bytes]]) -> None:
        """The instance running this stream is gone: end it honestly after what it held, once
        for every resumer (the script checks that nobody appended meanwhile)."""
        seal = self._scripts["seal"]
        try:
            done = await self.link.call(
                "replay buffer", _CONSEQUENCE,
                lambda c: seal(keys=self.keys(stream_id), args=[self._ttl_ms, next_seq, *(f for _, f in frames)]),
            )
        except Unavailable:
            return
        if done:
            log.info("[%s] sealed: its instance is gone; resumers get STREAM_INTERRUPTED", stream_id,
                     extra={"event": "stream_sealed", "stream_id": stream_id})


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


_SCRIPTS = {"append": _APPEND, "read": _READ, "finish": _FINISH, "seal": _SEAL}
_MAX_PENDING = 100_000  # queued writes (a batch of frames, a finish) before new ones are dropped
_CONSEQUENCE = "streams go on without being recorded for Last-Event-ID; resumes get STREAM_EXPIRED"
