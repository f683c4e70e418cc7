"""What an uploaded file is, decided by its content (the name only says what it claims to be),
and whether it can be processed at all. Every refusal is a `BadRequest` with the status of
the mapping in docs/routes.md ("Context files"): 415 for a type we do not accept or content that is
not what the name says, 422 for accepted content that cannot be processed.

Runs in a worker thread before any stream starts, so a bad file never opens a stream.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from app.errors import BadRequest

# extension -> kind; a kind's family decides how its content is checked and extracted
KINDS: dict[str, str] = {
    ".txt": "text", ".md": "markdown", ".html": "html", ".csv": "csv", ".json": "json",
    ".pdf": "pdf", ".docx": "docx",
}
TEXT_KINDS = frozenset({"text", "markdown", "html", "csv", "json"})
ACCEPTED = ", ".join(KINDS)

SNIFF_BYTES = 64 * 1024
DECODE_BLOCK = 1 << 20
CONTROL_SHARE = 0.01  # more C0 controls than this in the head: binary, not text
ODD_SHARE = 0.05  # more unusual characters than this after a legacy decode: wrong guess
DOCX_MAX_ENTRIES = 5000
DOCX_MAX_UNPACKED = 256 * 1024 * 1024  # declared total; zipfile never inflates past a member's declared size
DOCX_MAX_RATIO = 100  # members over 1 MB inflating more than this: a zip bomb
DOCX_BODY = "word/document.xml"

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (  # content that is certainly not text
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "gzip data"), (b"\x7fELF", "a program"), (b"MZ", "a program"),
    (b"\xd0\xcf\x11\xe0", "an old Office document (.doc/.xls)"), (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"), (b"OggS", "audio"), (b"ID3", "audio"),
)
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass(frozen=True, slots=True)
class Detected:
    kind: str  # a value of KINDS
    encoding: str | None = None  # text kinds: the codec to decode with
    pages: int | None = None  # PDFs


def refuse(status: int, code: str, message: str) -> BadRequest:
    return BadRequest(message, status=status, code=code, field="file")


def kind_of(filename: str) -> str:
    """The kind the name claims; 415 for an extension we do not take."""
    suffix = Path(filename).suffix.lower()
    kind = KINDS.get(suffix)
    if kind is None:
        shown = f"{suffix} files are" if suffix else "files without an extension are"
        raise refuse(415, "UNSUPPORTED_FILE_TYPE", f"{shown} not accepted; accepted types: {ACCEPTED}")
    return kind


def sniff(head: bytes) -> str:
    """'pdf', 'zip', 'text' or a description of binary content, from the first bytes."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return "text"
    if b"\x00" in head or len(_CONTROL.findall(head)) > CONTROL_SHARE * len(head):
        return "binary data"
    return "text"


def detect(path: Path, filename: str) -> Detected:
    """Check the file against what its name claims; raise a 4xx `BadRequest` if it is not
    something we can process."""
    kind = kind_of(filename)
    size = path.stat().st_size
    if size == 0:
        raise refuse(422, "EMPTY_FILE", f"{filename} is empty (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    content = sniff(head)
    family = "text" if kind in TEXT_KINDS else kind
    expected = {"text": "text", "pdf": "pdf", "docx": "zip"}[family]
    if content != expected:
        named = {"pdf": "a PDF document", "zip": "a ZIP archive", "text": "plain text"}.get(content, content)
        want = {"text": "text", "pdf": "a PDF document", "zip": "a Word (.docx) document"}[expected]
        raise refuse(415, "UNSUPPORTED_FILE_TYPE",
                     f"{filename} should be {want} but its content is {named}; accepted types: {ACCEPTED}")
    if family == "text":
        encoding = text_encoding(path, head, filename)
        if kind == "json":
            _looks_like_json(path, encoding, filename)
        return Detected(kind, encoding=encoding)
    if family == "pdf":
        return Detected(kind, pages=check_pdf(path, filename))
    check_docx(path, filename)
    return Detected(kind)


# -- text ------------------------------------------------------------------------------------


def text_encoding(path: Path, head: bytes, filename: str) -> str:
    """The codec that decodes the whole file: a BOM's, else UTF-8, else what charset-normalizer
    finds, if its guess reads as text. 422 for text no encoding fits, or with no text at all."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            _decodes(path, codec, filename)
            return codec
    bad_at = _decodes(path, "utf-8", filename, refuse_on_error=False)
    if bad_at is None:
        return "utf-8"
    with path.open("rb") as fh:
        sample = fh.read(DECODE_BLOCK)
    valid = len(_UTF8_MULTIBYTE.findall(sample))
    invalid = sum(1 for b in sample if b >= 0x80) - sum(len(m) for m in _UTF8_MULTIBYTE.findall(sample))
    if valid >= invalid:  # mostly UTF-8 with broken sequences: damaged, not a legacy encoding
        raise refuse(422, "UNDECODABLE_TEXT",
                     f"{filename} is not valid UTF-8 (invalid byte sequence at byte {bad_at}) and no other encoding fits")
    best = from_bytes(sample).best()
    if best is None or best.encoding is None or best.percent_chaos > 20:
        raise refuse(422, "UNDECODABLE_TEXT", f"{filename}: the text encoding could not be determined")
    codec = codecs.lookup(best.encoding).name
    _decodes(path, codec, filename)
    decoded = sample.decode(codec, "replace")
    odd = sum(1 for ch in decoded if unicodedata.category(ch) in {"So", "Co", "Cn", "Cs", "Cc"} and not ch.isspace())
    if odd > ODD_SHARE * max(1, len(decoded)):
        raise refuse(422, "UNDECODABLE_TEXT", f"{filename}: the text encoding could not be determined")
    return codec


def _decodes(path: Path, codec: str, filename: str, *, refuse_on_error: bool = True) -> int | None:
    """Decode the whole file in blocks: None if it decodes and has text, else the bad offset.
    Refuses files that decode to whitespace only, or that hold NUL characters."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    offset = 0
    has_text = False
    with path.open("rb") as fh:
        while True:
            block = fh.read(DECODE_BLOCK)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                if refuse_on_error:
                    raise refuse(422, "UNDECODABLE_TEXT",
                                 f"{filename} does not decode as {codec} (byte {offset + exc.start})") from None
                return offset + max(0, exc.start)
            if "\x00" in text:
                raise refuse(415, "UNSUPPORTED_FILE_TYPE",
                             f"{filename} holds binary data (NUL characters); accepted types: {ACCEPTED}")
            has_text = has_text or not text.isspace() and bool(text)
            offset += len(block)
            if not block:
                break
    if not has_text:
        raise refuse(422, "EMPTY_FILE", f"{filename} contains no text")
    return None


def _looks_like_json(path: Path, codec: str, filename: str) -> None:
    """A cheap structural check (the file is indexed as text, never loaded as a whole)."""
    with path.open("rb") as fh:
        head = fh.read(4096).decode(codec, "ignore").lstrip("\ufeff \t\r\n")
        fh.seek(max(0, path.stat().st_size - 4096))
        tail = fh.read().decode(codec, "ignore").rstrip(" \t\r\n\x00")
    pairs = {"{": "}", "[": "]"}
    if not head or head[0] not in pairs or not tail or tail[-1] != pairs[head[0]]:
        raise refuse(422, "INVALID_JSON", f"{filename} is not a JSON document (it must be an object or array)")


# -- PDF -------------------------------------------------------------------------------------


def open_pdf(path: Path):  # -> pypdf.PdfReader (imported lazily: pypdf is slow to import)
    """A reader for a PDF already checked by `check_pdf` (decrypted with the empty password
    when it carries owner-only protection)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    return reader


def check_pdf(path: Path, filename: str) -> int:
    """Page count of a readable PDF; 422 for a truncated, damaged or password-protected one."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2048))
        if b"%%EOF" not in fh.read():
            raise refuse(422, "BROKEN_PDF", f"{filename} is truncated or damaged (no end-of-file marker)")
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))
            except Exception:  # noqa: BLE001 - any failure to open means "needs a password"
                opened = False
            if not opened:
                raise refuse(422, "ENCRYPTED_PDF", f"{filename} is password-protected; upload an unprotected copy")
        pages = len(reader.pages)
        if pages == 0:
            raise refuse(422, "BROKEN_PDF", f"{filename} has no pages")
        reader.pages[0].extract_text()
    except BadRequest:
        raise
    except Exception:  # noqa: BLE001 - pypdf raises many kinds on damaged input
        raise refuse(422, "BROKEN_PDF", f"{filename} is damaged and cannot be read") from None
    return pages


# -- DOCX ------------------------------------------------------------------------------------


def check_docx(path: Path, filename: str) -> None:
    """A .docx is a ZIP holding word/document.xml; refuse zip bombs by the declared sizes
    (which bound what zipfile will inflate) and damaged documents by reading the body once."""
    from app.ingest.extract import docx_paragraphs

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > DOCX_MAX_ENTRIES:
                raise refuse(422, "ZIP_BOMB", f"{filename} holds {len(infos)} files; at most {DOCX_MAX_ENTRIES}")
            unpacked = sum(info.file_size for info in infos)
            if unpacked > DOCX_MAX_UNPACKED:
                raise refuse(422, "ZIP_BOMB", f"{filename} unpacks to {unpacked} bytes; at most {DOCX_MAX_UNPACKED}")
            for info in infos:
                if info.file_size > (1 << 20) and info.file_size > DOCX_MAX_RATIO * max(1, info.compress_size):
                    raise refuse(422, "ZIP_BOMB",
                                 f"{filename}: {info.filename} inflates more than {DOCX_MAX_RATIO}x (a zip bomb)")
            if DOCX_BODY not in archive.namelist():
                raise refuse(422, "BROKEN_DOCX", f"{filename} is a ZIP file but not a Word document")
        has_text = any(paragraph.strip() for paragraph, _ in docx_paragraphs(path))
    except BadRequest:
        raise
    except Exception:  # noqa: BLE001 - BadZipFile, XML errors, CRC errors, ...
        raise refuse(422, "BROKEN_DOCX", f"{filename} is damaged and cannot be read") from None
    if not has_text:
        raise refuse(422, "EMPTY_FILE", f"{filename} contains no text")
