"""Text out of an accepted file, as a stream of sections, never the whole document at once.

A `Section` is a piece of the document's text with its position: for a PDF one page (offsets
are into that page's text); for everything else a block of about `BLOCK_CHARS` ending at a
paragraph or line break (offsets are into the whole extracted text). Text, Markdown, CSV and
JSON are indexed as they are (their extracted text is the decoded file); HTML is reduced to
its visible text; a .docx to its paragraphs, streamed out of word/document.xml without
building the document tree. `done` is the share of the input consumed, for progress.
"""

from __future__ import annotations

import codecs
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from xml.etree.ElementTree import Element, XMLPullParser

from app.ingest.detect import DOCX_BODY, Detected, open_pdf

log = logging.getLogger("storestream.ingest")

BLOCK_CHARS = 1 << 20  # text handed to the chunker at a time
READ_BYTES = 1 << 20
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@dataclass(frozen=True, slots=True)
class Section:
    text: str
    offset: int  # of `text` within the document (or page) text
    page: int | None
    done: float  # share of the input consumed, 0..1


@dataclass(slots=True)
class PageReport:
    """What a PDF extraction saw, for progress and the final results."""

    pages: int = 0
    skipped: list[int] | None = None


def sections(path: Path, detected: Detected, report: PageReport | None = None) -> Iterator[Section]:
    """The document's text, section by section."""
    if detected.kind == "pdf":
        return pdf_sections(path, report or PageReport())
    if detected.kind == "docx":
        return _blocks(docx_paragraphs(path), separator="\n\n")
    assert detected.encoding is not None
    if detected.kind == "html":
        return _blocks(html_text(path, detected.encoding), separator="")
    return text_sections(path, detected.encoding)


def _cut(text: str) -> int:
    """Where to end a block: the last paragraph break, else line break, else whitespace in the
    second half of `text`; the whole text when there is none (the chunker copes)."""
    half = len(text) // 2
    for mark in ("\n\n", "\n", " "):
        at = text.rfind(mark, half)
        if at >= 0:
            return at + len(mark)
    return len(text)


def text_sections(path: Path, encoding: str) -> Iterator[Section]:
    """Decode incrementally; each section ends at a break, its tail carried to the next."""
    size = max(1, path.stat().st_size)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    carry = ""
    offset = 0
    read = 0
    with path.open("rb") as fh:
        while block := fh.read(READ_BYTES):
            read += len(block)
            carry += decoder.decode(block)
            if len(carry) >= BLOCK_CHARS:
                cut = _cut(carry)
                yield Section(carry[:cut], offset, None, read / size)
                offset += cut
                carry = carry[cut:]
        carry += decoder.decode(b"", final=True)
    if carry:
        yield Section(carry, offset, None, 1.0)


def _blocks(parts: Iterator[tuple[str, float]], *, separator: str) -> Iterator[Section]:
    """Join extracted parts (paragraphs, text runs) into sections of about BLOCK_CHARS."""
    buffer: list[str] = []
    size = 0
    offset = 0
    done = 0.0
    for part, done in parts:
        if buffer and separator:
            buffer.append(separator)
            size += len(separator)
        buffer.append(part)
        size += len(part)
        if size >= BLOCK_CHARS:
            text = "".join(buffer)
            yield Section(text, offset, None, done)
            offset += len(text)
            buffer, size = ([separator], len(separator)) if separator else ([], 0)
    if buffer:
        text = "".join(buffer)
        if text.strip():
            yield Section(text, offset, None, 1.0)


# -- PDF -------------------------------------------------------------------------------------


def pdf_sections(path: Path, report: PageReport) -> Iterator[Section]:
    """One section per page; a page pypdf cannot read is skipped and reported, not fatal."""
    reader = open_pdf(path)
    report.pages = len(reader.pages)
    report.skipped = []
    for number in range(1, report.pages + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except Exception:  # noqa: BLE001 - pypdf raises many kinds on damaged pages
            log.warning("pdf page %d unreadable; skipped", number)
            report.skipped.append(number)
            text = ""
        yield Section(text, 0, number, number / report.pages)


# -- DOCX ------------------------------------------------------------------------------------


def docx_paragraphs(path: Path) -> Iterator[tuple[str, float]]:
    """(paragraph text, share consumed) from word/document.xml, parsed as it inflates.

    Finished body elements are dropped from the tree as soon as they are read, so memory
    holds one paragraph (or one table) at a time. ElementTree resolves no external entities.
    """
    with zipfile.ZipFile(path) as archive:
        size = max(1, archive.getinfo(DOCX_BODY).file_size)
        parser: XMLPullParser = XMLPullParser(events=("start", "end"))
        stack: list[Element] = []
        runs: list[str] = []
        consumed = 0
        with archive.open(DOCX_BODY) as body:
            while block := body.read(READ_BYTES):
                consumed += len(block)
                parser.feed(block)
                for item in parser.read_events():
                    event, elem = item[0], item[-1]
                    assert isinstance(elem, Element)  # "start" and "end" events only: (event, element)
                    if event == "start":
                        stack.append(elem)
                        continue
                    stack.pop()
                    tag = elem.tag
                    if tag == f"{_W}t":
                        runs.append(elem.text or "")
                    elif tag == f"{_W}tab":
                        runs.append("\t")
                    elif tag in (f"{_W}br", f"{_W}cr"):
                        runs.append("\n")
                    elif tag == f"{_W}p":
                        text = "".join(runs)
                        runs.clear()
                        if text.strip():
                            yield text, consumed / size
                    if len(stack) == 2 and tag != f"{_W}body":  # a finished child of <w:body>
                        body_elem = stack[-1]
                        del body_elem[-1]
                    elif len(stack) >= 3 and tag == f"{_W}p":
                        elem.clear()
            parser.close()


# -- HTML ------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "p div section article header footer aside nav main h1 h2 h3 h4 h5 h6 li ul ol table tr "
    "blockquote pre figure figcaption dl dt dd form fieldset address hr title".split()
)
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "head"})


class _VisibleText(HTMLParser):
    """Visible text with paragraph breaks at block elements; scripts and styles dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.title = True
        elif tag in _HIDDEN_TAGS:
            self.hidden += 1
        if tag in _BLOCK_TAGS:
            self.out.append("\n\n")
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.title = False
        elif tag in _HIDDEN_TAGS and self.hidden:
            self.hidden -= 1
        if tag in _BLOCK_TAGS:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden or self.title:
            self.out.append(data)

    def take(self) -> str:
        text = "".join(self.out)
        self.out.clear()
        return text


def html_text(path: Path, encoding: str) -> Iterator[tuple[str, float]]:
    """Visible text of an HTML file, fed to the parser block by block and handed on at
    paragraph breaks (so whitespace is tidied over whole paragraphs, never half a word)."""
    size = max(1, path.stat().st_size)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    parser = _VisibleText()
    pending = ""
    read = 0
    with path.open("rb") as fh:
        while block := fh.read(READ_BYTES):
            read += len(block)
            parser.feed(decoder.decode(block))
            pending += parser.take()
            cut = pending.rfind("\n\n")
            mark = "\n\n"
            if cut < 0 and len(pending) > 4 * BLOCK_CHARS:  # no block elements at all
                cut, mark = max(pending.rfind(" "), 0), " "
            if cut > 0:
                text = _tidy(pending[:cut])
                pending = pending[cut + len(mark):]
                if text:
                    yield text + mark, read / size
    parser.feed(decoder.decode(b"", final=True))
    parser.close()
    text = _tidy(pending + parser.take())
    if text:
        yield text, 1.0


def _tidy(text: str) -> str:
    """Collapse the runs of spaces and breaks that markup leaves: single spaces within a
    line, one blank line between paragraphs, nothing at either end."""
    paragraphs = (" ".join(p.split()) for p in text.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)
