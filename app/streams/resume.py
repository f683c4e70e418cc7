"""Who may resume (or stop) a stream, and how a `Last-Event-ID` names one.

Every event id is `<token>-<seq>`. `token` is 128 random bits drawn for the stream and sent
only in the ids of its own events, so only the client that opened the stream holds it. The
stream's public name, `stream_id`, is the first 128 bits of SHA-256(token): it appears in
`connected`, logs, metrics and the stop route, and cannot be turned back into the token. The
replay buffer files streams under `stream_id`, so presenting the token is the proof.

A resume or a stop is granted only when, in this order:
1. the request passes the route's own authentication, exactly as a new request would (the
   admin token on admin routes);
2. the token names a stream held here (running in this process, or in the replay buffer);
3. that stream was opened on the same route (`Binding.route`) and, with
   `STREAM_RESUME_BIND_CLIENT=true`, from the same client address.
A malformed id is a 400; any failure of 2 or 3 is the same 410 `STREAM_EXPIRED`, so nobody
learns whether a stream that is not theirs exists.

The client address is not bound by default: the connection drops this exists for are often
a phone moving from Wi-Fi to mobile data, which changes the address, and the token is
already a 128-bit secret that only the stream's own client received.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

_TOKEN = re.compile(r"[0-9a-f]{32}")
_SEQ = re.compile(r"[0-9]{1,9}")  # ASCII digits only: int() would also take "²" or "٣"


@dataclass(frozen=True, slots=True)
class Binding:
    """What a stream is bound to, recorded when it starts (in process and in Redis)."""

    route: str  # the endpoint's name, e.g. "chat", "context_upload"
    client: str  # the client address that opened it (the rate limiter's key)


@dataclass(frozen=True, slots=True)
class ResumePoint:
    token: str
    seq: int  # the last event the client saw

    @property
    def stream_id(self) -> str:
        return stream_id_of(self.token)


def new_token() -> str:
    return secrets.token_hex(16)


def stream_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def event_id(token: str, seq: int) -> str:
    return f"{token}-{seq}"


def parse_last_event_id(value: str) -> ResumePoint | None:
    """`<32 hex>-<seq>` as a ResumePoint; None for anything else (a malformed id)."""
    token, sep, seq = value.strip().rpartition("-")
    if not sep or not _TOKEN.fullmatch(token) or not _SEQ.fullmatch(seq):
        return None
    return ResumePoint(token, int(seq))


def may_resume(binding: Binding | None, route: str, client: str, *, bind_client: bool) -> bool:
    """Step 3 above: the stream was opened on this route (and by this client, when bound)."""
    if binding is None or binding.route != route:
        return False
    return not bind_client or binding.client == client
