"""HTTP/1.1 over a raw socket, for what client libraries will not do: send only the headers,
half a body, a chunked body that never ends, or stop sending. Every read has a timeout."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float  # seconds from the first byte sent to the response read
    sent: int = 0  # body bytes the server took before answering or closing
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def head(method: str, path: str, headers: dict[str, str] | None = None, *, length: int | None = None,
         chunked: bool = False) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a `Transfer-Encoding: chunked` body."""
    return b"%x\r\n" % len(data) + data + b"\r\n"


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def send_all(sock: socket.socket, pieces: Iterable[bytes], *, pause: float = 0.0, send_timeout: float = 2.0) -> int:
    """Send until done, until the server stops reading (a send blocked `send_timeout`), or until
    it closes; returns the bytes sent."""
    sock.settimeout(send_timeout)
    sent = 0
    try:
        for piece in pieces:
            sock.sendall(piece)
            sent += len(piece)
            if pause:
                time.sleep(pause)
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass
    return sent


def read_response(sock: socket.socket, *, timeout: float = 10.0) -> RawResponse:
    """The response on `sock` (status, headers, body by Content-Length or to the close)."""
    started = time.monotonic()
    deadline = started + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        data += _recv(sock, deadline)
    header_block, _, body = data.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        try:
            piece = _recv(sock, deadline)
        except ConnectionError:
            break
        body += piece
    return RawResponse(status, headers, body[:length] if length >= 0 else body, time.monotonic() - started)


def _recv(sock: socket.socket, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("no complete response in time")
    sock.settimeout(remaining)
    try:
        piece = sock.recv(65536)
    except ConnectionResetError:
        raise ConnectionError("reset by the server") from None
    if not piece:
        raise ConnectionError("closed by the server")
    return piece


def exchange(port: int, request_head: bytes, body: Iterable[bytes] = (), *, timeout: float = 10.0,
             pause: float = 0.0) -> RawResponse:
    """Send the head and whatever of `body` the server takes, then read its answer."""
    with connect(port, timeout) as sock:
        started = time.monotonic()
        sock.sendall(request_head)
        sent = send_all(sock, body, pause=pause)
        response = read_response(sock, timeout=timeout)
        response.elapsed = time.monotonic() - started
        response.sent = sent
        return response
