"""Whom the limiter counts: the peer, unless the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

from app.ratelimit.client import client_ip

TRUSTED = (ipaddress.ip_network("10.0.0.0/8"),)


def request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_untrusted_peer_is_the_client_whatever_it_claims() -> None:
    assert client_ip(request("203.0.113.9", "1.2.3.4"), TRUSTED) == "203.0.113.9"
    assert client_ip(request("203.0.113.9", "1.2.3.4"), ()) == "203.0.113.9"


def test_trusted_proxy_chain_is_walked_from_the_right() -> None:
    # client, spoofed first hop ignored: the rightmost untrusted address is the client
    assert client_ip(request("10.0.0.2", "6.6.6.6, 198.51.100.4, 10.0.0.1"), TRUSTED) == "198.51.100.4"


def test_trusted_proxy_without_header_or_with_garbage() -> None:
    assert client_ip(request("10.0.0.2"), TRUSTED) == "10.0.0.2"
    assert client_ip(request("10.0.0.2", "not-an-ip"), TRUSTED) == "10.0.0.2"
