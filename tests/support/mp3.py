"""Walks MPEG audio frames: a test can check that bytes are a complete MP3 stream on their
own (every frame header valid, the frames chaining exactly to the end) without a decoder."""

from __future__ import annotations

# MPEG-1 / MPEG-2 / MPEG-2.5 Layer III bitrates (kbit/s) and sample rates.
_BITRATES = {
    3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
_RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def frames(data: bytes) -> list[tuple[int, int]]:
    """(sample rate, bitrate) of each frame; ValueError if the bytes are not a clean stream."""
    pos, out = 0, []
    if data[:3] == b"ID3":
        size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
        pos = 10 + size
    while pos < len(data):
        if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
            raise ValueError(f"no frame sync at byte {pos}")
        version = (data[pos + 1] >> 3) & 3
        layer = (data[pos + 1] >> 1) & 3
        if version == 1 or layer != 1:
            raise ValueError(f"not MPEG Layer III at byte {pos}")
        bitrate = _BITRATES[3 if version == 3 else 2][data[pos + 2] >> 4] * 1000
        rate = _RATES[version][(data[pos + 2] >> 2) & 3]
        padding = (data[pos + 2] >> 1) & 1
        if not bitrate:
            raise ValueError(f"free or bad bitrate at byte {pos}")
        length = (144 if version == 3 else 72) * bitrate // rate + padding
        out.append((rate, bitrate))
        pos += length
    if not out:
        raise ValueError("no frames")
    return out
