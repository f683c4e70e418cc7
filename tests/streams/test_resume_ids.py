"""Resume tokens and ids (app/streams/resume.py): what a `Last-Event-ID` must look like, and
who may resume."""

from __future__ import annotations

import hashlib

from app.streams.resume import Binding, may_resume, new_token, parse_last_event_id, stream_id_of


def test_tokens_hold_128_random_bits_and_the_public_id_is_not_the_token() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) == 32 and int(t, 16) >= 0 for t in tokens)
    token = tokens.pop()
    assert stream_id_of(token) == hashlib.sha256(token.encode()).hexdigest()[:32] != token


def test_parse_takes_only_what_the_server_sends() -> None:
    token = new_token()
    point = parse_last_event_id(f" {token}-17 ")
    assert point is not None and (point.token, point.seq, point.stream_id) == (token, 17, stream_id_of(token))
    for bad in ("", "nodash", f"{token}-", f"-{token}", f"{token}-x1", f"{token}-1.5", f"{token}--1",
                f"{token}-\u00b2", f"{token}-\u0663", f"{token}-" + "9" * 10, token.upper() + "-1",
                token[:-1] + "-1", f"a-{token}-1", stream_id_of(token)[:12] + "-1"):
        assert parse_last_event_id(bad) is None, bad


def test_a_stream_resumes_only_on_its_route_and_when_bound_for_its_client() -> None:
    binding = Binding("chat", "10.0.0.1")
    assert may_resume(binding, "chat", "10.0.0.1", bind_client=False)
    assert may_resume(binding, "chat", "10.0.0.2", bind_client=False)
    assert not may_resume(binding, "chat", "10.0.0.2", bind_client=True)
    assert not may_resume(binding, "search", "10.0.0.1", bind_client=False)
    assert not may_resume(None, "chat", "10.0.0.1", bind_client=False)
