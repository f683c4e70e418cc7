"""The stream engine: one event vocabulary, one wire format, one way to run a stream.

- `events.py`   the eight event types and their typed constructors
- `wire.py`     SSE framing
- `engine.py`   the normalised sequence: deadline, errors, complete/close
- `response.py` the SSE transport: keep-alives, disconnects, coalescing, replay
- `replay.py`   the `Last-Event-ID` buffer (`replay_redis.py`: the same, shared by instances)
- `fold.py`     the JSON twin
- `endpoint.py` glue: validation, rate limit and stream cap, both routes of an endpoint
- `metrics.py`  Prometheus metrics
"""
