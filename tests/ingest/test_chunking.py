"""The chunker: exact positions, exact token counts, never inside a word, overlap, the
recursive preference for paragraph and sentence boundaries."""

from __future__ import annotations

import random

import pytest

from app.ingest import tokens
from app.ingest.chunking import Chunk, Chunker
from app.ingest.embed import windows
from config.settings import ConfigError, load_settings

WORDS = ("the quick brown fox jumps over lazy dog silk saree lehenga zari brocade Varanasi delivery "
         "returns refund exchange kanjeevaram pashmina handwoven festive bridal").split()


def prose(paragraphs: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30))).capitalize()
                     + rng.choice([".", "!", "?", '."']) for _ in range(rng.randint(1, 10))]
        out.append(" ".join(sentences))
    return "\n\n".join(out)


CJK_STOPS = "\u3002\uff01\uff1f"  # a sentence ends here without any whitespace


def check(text: str, chunks: list[Chunk], max_tokens: int, overlap: int) -> None:
    assert chunks
    for i, chunk in enumerate(chunks):
        assert text[chunk.start : chunk.end] == chunk.text  # positions map back exactly
        assert chunk.tokens == tokens.count(chunk.text) <= max_tokens
        # never starts or ends inside a word
        assert chunk.start == 0 or text[chunk.start - 1].isspace() or text[chunk.start - 1] in CJK_STOPS
        assert chunk.end == len(text) or text[chunk.end].isspace() or text[chunk.end - 1] in CJK_STOPS
        if i:
            before = chunks[i - 1]
            assert before.start < chunk.start and before.end < chunk.end
            if chunk.start < before.end:
                assert tokens.count(text[chunk.start : before.end]) <= overlap
    covered = bytearray(len(text))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    assert all(covered[i] or ch.isspace() for i, ch in enumerate(text))  # nothing dropped


@pytest.mark.parametrize(("max_tokens", "overlap"), [(512, 64), (128, 16), (64, 0), (40, 39)])
def test_chunks_are_exact_spans_within_budget(max_tokens: int, overlap: int) -> None:
    text = prose(200)
    chunks = list(Chunker(max_tokens, overlap).split(text))
    check(text, chunks, max_tokens, overlap)
    overlapping = sum(1 for a, b in zip(chunks, chunks[1:]) if b.start < a.end)
    if overlap >= 16:
        assert overlapping >= 0.8 * (len(chunks) - 1)
    else:
        assert overlapping == 0 if overlap == 0 else True


def test_paragraphs_stay_whole_when_they_fit() -> None:
    paragraphs = [prose(1, seed) for seed in range(12)]
    text = "\n\n".join(paragraphs)
    chunks = list(Chunker(512, 0).split(text))
    for chunk in chunks:  # each chunk is a run of whole paragraphs
        assert chunk.text.split("\n\n") == [p for p in paragraphs if p in chunk.text]


def test_long_paragraph_splits_at_sentences() -> None:
    sentences = [f"Sentence number {i} talks about handwoven silk from Varanasi." for i in range(80)]
    text = " ".join(sentences)
    chunks = list(Chunker(100, 0).split(text))
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.startswith("Sentence number") and chunk.text.endswith("Varanasi.")


def test_overlap_starts_at_a_sentence_or_word() -> None:
    text = prose(30, seed=3)
    chunks = list(Chunker(128, 32).split(text))
    check(text, chunks, 128, 32)
    for a, b in zip(chunks, chunks[1:]):
        if b.start < a.end:
            assert 0 < tokens.count(text[b.start : a.end]) <= 32


def test_offsets_and_pages_shift_for_sections() -> None:
    text = "Page text about zari work. " * 40
    chunks = list(Chunker(64, 8).split(text, offset=1000, page=3))
    assert all(c.page == 3 for c in chunks)
    assert all(text[c.start - 1000 : c.end - 1000] == c.text for c in chunks)


def test_whitespace_only_and_unicode() -> None:
    assert list(Chunker(64, 8).split(" \n\n\t ")) == []
    hindi = "यह एक परीक्षण वाक्य है। " * 200 + "\n\n" + "こんにちは世界。これは日本語です。" * 50
    chunks = list(Chunker(64, 8).split(hindi))
    check(hindi, chunks, 64, 8)


def test_a_run_longer_than_a_chunk_is_the_only_cut_inside_a_word() -> None:
    blob = "A" * 3000
    text = f"before the blob {blob} after the blob"
    chunks = list(Chunker(50, 5).split(text))
    assert all(c.tokens <= 50 and text[c.start : c.end] == c.text for c in chunks)
    inside = range(len("before the blob "), len("before the blob ") + len(blob) + 1)
    for chunk in chunks:  # cuts fall at whitespace, or inside the blob and nowhere else
        assert chunk.start == 0 or text[chunk.start - 1].isspace() or chunk.start in inside
        assert chunk.end == len(text) or text[chunk.end].isspace() or chunk.end in inside
    covered = set().union(*(range(c.start, c.end) for c in chunks))
    assert set(inside[:-1]) <= covered


def test_token_total_is_the_sum_of_chunk_tokens() -> None:
    text = prose(50)
    chunks = list(Chunker(200, 0).split(text))
    assert sum(c.tokens for c in chunks) >= tokens.count(text) - len(chunks) * 2
    assert tokens.count("Banarasi silk") == len(tokens.encoding().encode("Banarasi silk"))


def test_embedding_windows_cover_the_chunk() -> None:
    text = prose(3)
    parts = windows(text, 500, size=192)
    assert len(parts) == 3 and " ".join(parts) == " ".join(text.split())
    assert windows("short text", 3) == ["short text"]


def test_chunk_settings_are_validated_at_load() -> None:
    settings = load_settings({"CHUNK_TOKENS": "256", "CHUNK_OVERLAP": "32", "UPLOAD_MAX_BYTES": "1000",
                              "UPLOAD_TIMEOUT_S": "30"}, env_file=None)
    assert (settings.chunk_tokens, settings.chunk_overlap, settings.upload_max_bytes, settings.upload_timeout_s) == (
        256, 32, 1000, 30.0)
    defaults = load_settings({}, env_file=None)
    assert (defaults.chunk_tokens, defaults.chunk_overlap, defaults.upload_max_bytes, defaults.upload_timeout_s) == (
        512, 64, 20 * 1024 * 1024, 1800.0)
    with pytest.raises(ConfigError, match="CHUNK_OVERLAP=64 is invalid: expected fewer than CHUNK_TOKENS=64"):
        load_settings({"CHUNK_TOKENS": "64"}, env_file=None)
    with pytest.raises(ConfigError, match="UPLOAD_MAX_BYTES"):
        load_settings({"UPLOAD_MAX_BYTES": "0"}, env_file=None)
