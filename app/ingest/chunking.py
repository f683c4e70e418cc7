"""Token-aware recursive chunking: paragraphs, then lines, then sentences, then words.

A chunk is the exact span `text[start:end]` of its section (never a rewritten copy), so its
position maps back to the source, and it never starts or ends inside a word: spans begin
after whitespace (or a CJK full stop) and end before it. The one exception is a run of
non-whitespace longer than a whole chunk (a base64 blob, a 5,000-character URL), which is
cut at a character boundary because there is no word boundary to cut at.

How a section becomes chunks:
1. `_pieces` splits it into the coarsest units that fit: a paragraph that fits is one piece;
   one that does not is split into lines, then sentences, then words (recursively, only
   where needed, so most text is never split below paragraphs).
2. Pieces are packed greedily; a chunk closes when the next piece would not fit. Its token
   count is then counted exactly (one tiktoken call per chunk); if packing overshot (the
   estimate is a running chars-per-token ratio), the last piece goes back to the queue.
3. The next chunk starts with up to `overlap` tokens from the end of the previous one,
   beginning at a sentence start when one is close enough, else at a word start.

Counting once per chunk instead of per piece keeps tokenising to about one pass over the
text, which is what makes >= 10 MB/s possible (bench/ingest.py).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app.ingest import tokens as tok

PARAGRAPH, LINE, SENTENCE, WORD, HARD = range(5)

_SEPARATORS: dict[int, re.Pattern[str]] = {
    PARAGRAPH: re.compile(r"\n[ \t\r\f\v]*\n\s*"),
    LINE: re.compile(r"\s*\n\s*"),
    # After terminal punctuation (optionally a closing quote or bracket) and whitespace; CJK
    # full stops end a sentence without any whitespace.
    SENTENCE: re.compile(r"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\"'\u201d\u2019)\]]))\s+|(?<=[\u3002\uff01\uff1f])\s*"),
    WORD: re.compile(r"\s+"),
}
_WORD_START = re.compile(r"(?<=\s)\S")
_SENTENCE_START = re.compile(r"(?:(?<=[.!?\u2026]\s)|(?<=[.!?\u2026][\"'\u201d\u2019)\]]\s))\S")
_FILL = 0.92  # pack to this share of the budget by estimate; the exact count decides
_OVERLAP_AIM = 0.85  # aim the overlap a little short, so one exact count usually confirms it


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str
    start: int  # offsets into the document text (or the page's text, for a PDF)
    end: int
    tokens: int
    page: int | None = None


Piece = tuple[int, int, int]  # (start, end, level it was split at)


def _spans(text: str, start: int, end: int, level: int) -> Iterator[tuple[int, int]]:
    """Non-empty, whitespace-trimmed spans of text[start:end] between the level's separators."""
    at = start
    for match in _SEPARATORS[level].finditer(text, start, end):
        if match.start() > at:
            yield from _trimmed(text, at, match.start())
        at = max(at, match.end())
    if at < end:
        yield from _trimmed(text, at, end)


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _hard_split(text: str, start: int, end: int, max_tokens: int) -> Iterator[tuple[int, int]]:
    """Cut a whitespace-free run into pieces of at most `max_tokens` UTF-8 bytes: a token
    covers at least one byte, so each piece holds at most `max_tokens` tokens."""
    at = start
    size = 0
    for i in range(start, end):
        width = len(text[i].encode("utf-8", "surrogatepass"))
        if size + width > max_tokens and i > at:
            yield at, i
            at, size = i, 0
        size += width
    if at < end:
        yield at, end


class Chunker:
    """Splits text into chunks of at most `max_tokens` cl100k tokens with `overlap` tokens of
    context carried into the next chunk. Not thread-safe (it keeps a running estimate)."""

    def __init__(
        self, max_tokens: int = 512, overlap: int = 64, count: Callable[[str], int] = tok.count
    ) -> None:
        if max_tokens < 1 or not 0 <= overlap < max_tokens:
            raise ValueError("need max_tokens >= 1 and 0 <= overlap < max_tokens")
        self.max_tokens = max_tokens
        self.overlap = overlap
        self.count = count
        self._chars = 400.0  # prior: 4 characters per token (English); corrected as we count
        self._tokens = 100.0

    # -- estimates ----------------------------------------------------------------------

    def _est(self, chars: int) -> float:
        return chars * self._tokens / self._chars

    def _exact(self, text: str) -> int:
        n = self.count(text)
        if n:
            self._chars += len(text)
            self._tokens += n
        return n

    # -- splitting ----------------------------------------------------------------------

    def _pieces(self, text: str, start: int, end: int, level: int) -> Iterator[Piece]:
        fit = self.max_tokens * _FILL
        if level == HARD:
            for a, b in _hard_split(text, start, end, self.max_tokens):
                yield a, b, HARD
            return
        for a, b in _spans(text, start, end, level):
            if self._est(b - a) <= fit:
                yield a, b, level
            else:
                yield from self._pieces(text, a, b, level + 1)

    def _finer(self, text: str, piece: Piece) -> list[Piece]:
        """A piece the exact count found too big, split one level further (never empty)."""
        a, b, level = piece
        for next_level in range(level + 1, HARD + 1):
            parts = list(self._pieces(text, a, b, next_level))
            if len(parts) > 1:
                return parts
        return list(self._pieces(text, a, b, HARD))

    # -- packing ------------------------------------------------------------------------

    def split(self, text: str, *, offset: int = 0, page: int | None = None) -> Iterator[Chunk]:
        """Chunks of `text`; their offsets are shifted by `offset` (the section's position)."""
        fit = self.max_tokens * _FILL
        source = self._pieces(text, 0, len(text), PARAGRAPH)
        queue: deque[Piece] = deque()
        start = 0  # where the open chunk begins (inside the previous chunk when overlapping)
        overlapping = False
        pieces: list[Piece] = []
        while True:
            piece = queue.popleft() if queue else next(source, None)
            if piece is not None and not pieces:
                if not overlapping or self._est(piece[1] - start) > fit:
                    start = piece[0]  # no room for the overlap before this piece
                pieces.append(piece)
                continue
            if piece is not None and self._est(piece[1] - start) <= fit:
                pieces.append(piece)
                continue
            if not pieces:
                return
            if piece is not None:
                queue.appendleft(piece)
            body, start, end, n = self._close(text, start, pieces, queue)
            yield Chunk(body, start + offset, end + offset, n, page)
            pieces = []
            if not queue and (following := next(source, None)) is not None:
                queue.append(following)
            if not queue:
                return
            room = self.max_tokens - self._est(queue[0][1] - queue[0][0])
            at = self._overlap_start(text, start, end, room)
            overlapping = at is not None
            start = at if at is not None else queue[0][0]

    def _close(
        self, text: str, start: int, pieces: list[Piece], queue: deque[Piece]
    ) -> tuple[str, int, int, int]:
        """Count the open chunk exactly and hand pieces back to `queue` until it fits.
        Returns (text, start, end, tokens)."""
        while True:
            end = pieces[-1][1]
            body = text[start:end]
            n = self._exact(body)
            if n <= self.max_tokens:
                return body, start, end, n
            if len(pieces) > 1:
                queue.appendleft(pieces.pop())
                while len(pieces) > 1 and self._est(pieces[-1][1] - start) > self.max_tokens * _FILL:
                    queue.appendleft(pieces.pop())
                continue
            if start < pieces[0][0]:
                start = pieces[0][0]  # drop the overlap first
                continue
            parts = self._finer(text, pieces[0])
            pieces[:] = parts[:1]
            start = parts[0][0]
            queue.extendleft(reversed(parts[1:]))

    def _overlap_start(self, text: str, chunk_start: int, chunk_end: int, room: float) -> int | None:
        """Where the next chunk begins: a word (or, nearby, sentence) start inside the previous
        chunk's last `overlap` tokens; None for no overlap."""
        want = min(self.overlap, int(room))
        if want <= 0:
            return None
        chars_per_token = self._chars / self._tokens
        lo = max(chunk_start + 1, chunk_end - int(want * chars_per_token * _OVERLAP_AIM))
        while lo < chunk_end:
            match = _WORD_START.search(text, lo, chunk_end)
            if match is None:
                return None
            at = match.start()
            n = self._exact(text[at:chunk_end])
            if n <= want:
                sentence = _SENTENCE_START.search(text, at, chunk_end)
                if sentence is not None and chunk_end - sentence.start() >= (chunk_end - at) // 2:
                    return sentence.start()
                return at
            lo = at + max(1, int((n - want) * chars_per_token * 1.2))
        return None
