"""Receiving a multipart/form-data upload: one `file` part spooled to disk, with limits.

Starlette's `request.form()` has no limit on a file's size and returns only after the whole
body is parsed, so this reads the body itself, through app/routes/body.py: a
`Content-Length` over the limit is refused before reading anything, bytes are counted as
they arrive (a chunked body has no length to check), a body that stops arriving is refused
after REQUEST_BODY_TIMEOUT_S, and python-multipart's streaming parser writes the file part
straight to a temp file while hashing it. Whatever was spooled is removed on every refusal; on success
the caller owns the file (`SpooledUpload.remove`, with a finaliser as a safety net).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
import unicodedata
import weakref
from pathlib import Path
from collections.abc import Callable
from typing import IO, Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.errors import BadRequest
from app.routes.body import Bodies

log = logging.getLogger("storestream.ingest")

FORM_OVERHEAD = 64 * 1024  # boundaries, part headers and the small fields, beyond the file
FIELDS = {"chatbotId": 128, "title": 200}  # optional text fields and their longest value
MAX_NAME_BYTES = 255
DRAIN_S = 5.0  # after a size refusal, read on this long so the client sees the 413

_ESCAPED_CONTROL = re.compile(r"%(?:[01][0-9a-fA-F]|7[fF])")  # how browsers send \n, \x01...


def refuse(message: str, code: str, *, status: int = 400, field: str | None = "file") -> BadRequest:
    return BadRequest(message, status=status, code=code, field=field)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class SpooledUpload:
    """The received file on disk, its client-given name, size, sha256 and the text fields."""

    def __init__(self, path: Path, filename: str, size: int, sha256: str, fields: dict[str, str]) -> None:
        self.path = path
        self.filename = filename
        self.size = size
        self.sha256 = sha256
        self.fields = fields
        # Removes the file even if no producer ever runs (a refused stream slot, a crash).
        self._finalizer = weakref.finalize(self, _unlink, str(path))

    def remove(self) -> None:
        self._finalizer()


# Invisible characters that change how a name reads: format characters (Unicode category Cf:
# bidi controls U+202A-202E and U+2066-2069, marks U+200E/200F, zero-width space U+200B, word
# joiner, BOM, soft hyphen...) and the line and paragraph separators U+2028 and U+2029. With
# U+202E "invoice\u202etxt.exe" displays as "invoiceexe.txt". Two Cf characters are part of
# ordinary writing and are kept: ZWNJ (U+200C, Persian and Indic spelling) and ZWJ (U+200D,
# emoji sequences and Indic conjuncts); neither reorders or hides text.
_JOINERS = frozenset("\u200c\u200d")
_HIDDEN_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})


def invisible_character(name: str) -> str | None:
    """The first character of `name` that is invisible or reorders text (see above), as
    U+XXXX, or None."""
    for ch in name:
        if ch.isascii() or ch in _JOINERS:
            continue
        if unicodedata.category(ch) in _HIDDEN_CATEGORIES:
            return f"U+{ord(ch):04X}"
    return None


def check_filename(raw: bytes) -> str:
    """The client's file name, if it is a plain name: no path parts, no control characters
    (raw or percent-escaped as browsers send them), no invisible or bidi format characters,
    valid UTF-8, at most 255 bytes. Refused rather than cleaned: a name shown to admins must
    be the one the uploader chose, and a silently changed name is a surprise too."""
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise refuse("the file name is not valid UTF-8", "BAD_FILE_NAME") from None
    if not name.strip():
        raise refuse("the file name is empty", "BAD_FILE_NAME")
    if len(raw) > MAX_NAME_BYTES:
        raise refuse(f"the file name is longer than {MAX_NAME_BYTES} bytes", "BAD_FILE_NAME")
    if "/" in name or "\\" in name or name.strip() in {".", ".."} or name.startswith(".."):
        raise refuse("the file name must not contain path parts (/, \\ or ..)", "BAD_FILE_NAME")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name) or _ESCAPED_CONTROL.search(name):
        raise refuse("the file name must not contain control characters", "BAD_FILE_NAME")
    if (hidden := invisible_character(name)) is not None:
        raise refuse(f"the file name must not contain invisible or text-direction characters ({hidden})",
                     "BAD_FILE_NAME")
    return name.strip()


class _Receiver:
    """python-multipart callbacks: part headers, the one file part to disk, small fields."""

    def __init__(self, directory: Path, max_bytes: int, check_name: Callable[[str], Any]) -> None:
        self.directory = directory
        self.check_name = check_name
        self.max_bytes = max_bytes
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, bytes] = {}
        self.part: str | None = None  # "file", a field name, or None between parts
        self.field = bytearray()
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file: IO[bytes] | None = None
        self.path: Path | None = None
        self.size = 0
        self.digest = hashlib.sha256()
        self.ended = False

    # python-multipart calls these with (data, start, end) slices of the chunk fed to it
    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_name.decode("latin-1").lower()] = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self.headers.get("content-disposition", b""))
        if disposition != b"form-data" or not options.get(b"name"):
            raise refuse("each part needs Content-Disposition: form-data with a name", "BAD_MULTIPART", field=None)
        name = options[b"name"].decode("latin-1")
        if b"filename" in options:
            if self.filename is not None:
                raise refuse("send exactly one file per upload", "TOO_MANY_FILES")
            if name != "file":
                raise refuse(f"the file must be sent in the part named 'file', not {name!r}", "BAD_MULTIPART")
            self.filename = check_filename(options[b"filename"])
            self.check_name(self.filename)  # e.g. a 415 for `.exe`, before a byte is spooled
            fd, path = tempfile.mkstemp(dir=self.directory, prefix="upload-", suffix=".part")
            self.path = Path(path)
            self.file = os.fdopen(fd, "wb", buffering=1 << 20)
            self.part = "file"
            return
        if name == "file":
            raise refuse("the 'file' part must carry a file name (filename=...)", "BAD_MULTIPART")
        if name not in FIELDS:
            raise refuse(f"unexpected form field {name!r}; fields: file, chatbotId, title", "BAD_MULTIPART", field=name)
        if name in self.fields:
            raise refuse(f"{name} was sent twice", "BAD_MULTIPART", field=name)
        self.part = name
        self.field.clear()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part == "file":
            assert self.file is not None
            piece = data[start:end]
            self.size += len(piece)
            if self.size > self.max_bytes:
                raise too_large(self.max_bytes)
            self.file.write(piece)
            self.digest.update(piece)
        elif self.part is not None:
            self.field += data[start:end]
            if len(self.field) > 4 * FIELDS[self.part]:
                raise refuse(f"{self.part} is too long", "BAD_MULTIPART", field=self.part)

    def on_part_end(self) -> None:
        if self.part == "file":
            assert self.file is not None
            self.file.close()
        elif self.part is not None:
            try:
                self.fields[self.part] = self.field.decode("utf-8")
            except UnicodeDecodeError:
                raise refuse(f"{self.part} is not valid UTF-8", "BAD_MULTIPART", field=self.part) from None
        self.part = None

    def on_end(self) -> None:
        self.ended = True

    def callbacks(self) -> dict[str, object]:
        names = ("on_part_begin", "on_header_field", "on_header_value", "on_header_end",
                 "on_headers_finished", "on_part_data", "on_part_end", "on_end")
        return {name: getattr(self, name) for name in names}

    def discard(self) -> None:
        if self.file is not None and not self.file.closed:
            try:
                self.file.close()
            except OSError:
                pass
        if self.path is not None:
            _unlink(str(self.path))


def too_large(max_bytes: int) -> BadRequest:
    return refuse(
        f"the file is larger than the {max_bytes} byte limit (UPLOAD_MAX_BYTES)",
        "UPLOAD_TOO_LARGE",
        status=413,
    )


def _boundary(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        raise refuse("send the file as multipart/form-data", "UNSUPPORTED_MEDIA_TYPE", status=415, field=None)
    boundary = options.get(b"boundary", b"")
    if not boundary or len(boundary) > 200:
        raise refuse("the multipart/form-data Content-Type has no valid boundary", "BAD_MULTIPART", field=None)
    return boundary


async def receive(
    request: Request, *, bodies: Bodies, directory: Path, max_bytes: int,
    check_name: Callable[[str], Any] = lambda name: None,
) -> SpooledUpload:
    """Read the whole body (before any stream starts: both use `receive`) into a spooled file.
    `check_name` may refuse the file by its name as soon as the part's headers arrive. The
    body is read within the bounds of app/routes/body.py: a client that stops sending for
    REQUEST_BODY_TIMEOUT_S gets 408, and what it had sent is removed at that moment."""
    parser_boundary = _boundary(request)
    body = bodies.reader(request, max_bytes + FORM_OVERHEAD, refuse_size=lambda: too_large(max_bytes))
    body.check_declared_length()  # before the upload folder is touched
    directory.mkdir(parents=True, exist_ok=True)
    receiver = _Receiver(directory, max_bytes, check_name)
    try:
        parser = MultipartParser(parser_boundary, receiver.callbacks())  # type: ignore[arg-type]
        async for chunk in body.chunks():
            parser.write(chunk)
        parser.finalize()
    except BadRequest as exc:
        receiver.discard()
        if exc.status not in (408, 503) and exc.code != "BODY_INCOMPLETE":  # the client still sends
            await body.drain(DRAIN_S)
        raise
    except FormParserError:
        receiver.discard()
        await body.drain(DRAIN_S)
        raise refuse("the multipart/form-data body is malformed", "BAD_MULTIPART", field=None) from None
    except BaseException:
        receiver.discard()
        raise
    if not receiver.ended:
        receiver.discard()
        raise refuse("the multipart/form-data body ended early", "BAD_MULTIPART", field=None)
    if receiver.filename is None or receiver.path is None:
        receiver.discard()
        raise refuse("no file: send it in a part named 'file' with a filename", "NO_FILE")
    return SpooledUpload(receiver.path, receiver.filename, receiver.size, receiver.digest.hexdigest(), receiver.fields)


def sweep(directory: Path, older_than_s: float) -> int:
    """Remove spooled files a crashed process left behind; returns how many."""
    removed = 0
    cutoff = time.time() - older_than_s
    for path in directory.glob("upload-*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
