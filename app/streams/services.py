"""What the stream engine's routes share on one app: the settings, the rate limiter, the runs
of this instance, the replay buffer and signals (shared with other instances, or in process),
the bounds request bodies are read within, and the endpoints by name (the stop route
authorizes a stream by the route that opened it). Built once by the composition root
(app/platform.py) and handed to `stream_routes` and the stop route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.ratelimit.limiter import StreamLimiter
from app.routes.body import Bodies
from app.streams.replay import ReplayBuffer
from app.streams.runs import Runs
from app.streams.signals import StreamSignals
from config.settings import Settings

if TYPE_CHECKING:
    from app.streams.endpoint import StreamEndpoint


@dataclass(frozen=True, slots=True)
class StreamServices:
    settings: Settings
    limiter: StreamLimiter
    runs: Runs
    replay: ReplayBuffer
    signals: StreamSignals
    bodies: Bodies
    endpoints: dict[str, StreamEndpoint[Any]] = field(default_factory=dict)
