"""Who the client is, for rate limiting: the socket peer, or the forwarded address when (and
only when) the peer is a trusted proxy. A spoofed `X-Forwarded-For` from anyone else is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import HTTPConnection

from config.settings import Network


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def in_networks(address: str, networks: Iterable[Network]) -> bool:
    ip = _parse(address)
    return ip is not None and any(ip in net for net in networks)


def client_ip(conn: HTTPConnection, trusted_proxies: tuple[Network, ...]) -> str:
    """The address the limit is keyed on.

    With a trusted peer, walk `X-Forwarded-For` from the right (the entry the trusted proxy
    appended) and take the first address that is not itself a trusted proxy.
    """
    peer = conn.client.host if conn.client else "unknown"
    if not trusted_proxies or not in_networks(peer, trusted_proxies):
        return peer
    forwarded = conn.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if _parse(hop) is None:
            return peer  # a malformed chain is not evidence of anything
        if not in_networks(hop, trusted_proxies):
            return hop
    return peer
