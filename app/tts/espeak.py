"""The offline engine: espeak-ng renders WAV, lameenc encodes MP3. Works without network for
English, Hindi, Persian, Arabic, Russian, Hebrew and many more (20-50 ms per sentence)."""

from __future__ import annotations

import asyncio
import shutil
import struct

import lameenc

from app.tts.engine import TTSError

# Our language codes -> espeak-ng voices.
VOICES = {"en": "en-us", "hi": "hi", "fa": "fa", "ar": "ar", "ru": "ru", "he": "he", "ur": "ur"}
_TIMEOUT_S = 10.0


def available() -> bool:
    return shutil.which("espeak-ng") is not None


def _pcm_from_wav(wav: bytes) -> tuple[bytes, int, int]:
    """(PCM, sample rate, channels) from espeak's WAV. Its header gives the data size as
    0x7FFFFFFF when writing to a pipe, so take the data chunk to the end of the bytes."""
    if len(wav) < 44 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise TTSError("espeak-ng did not produce WAV audio")
    pos = 12
    rate, channels = 22050, 1
    while pos + 8 <= len(wav):
        chunk, size = wav[pos : pos + 4], struct.unpack("<I", wav[pos + 4 : pos + 8])[0]
        if chunk == b"fmt ":
            channels, rate = struct.unpack("<HI", wav[pos + 10 : pos + 16])
        if chunk == b"data":
            return wav[pos + 8 :], rate, channels
        pos += 8 + size
    raise TTSError("espeak-ng WAV has no data")


def encode_mp3(pcm: bytes, rate: int, channels: int) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(48)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(5)
    return bytes(encoder.encode(pcm) + encoder.flush())


class EspeakEngine:
    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng") -> None:
        self.binary = binary

    async def synthesize(self, text: str, lang: str) -> bytes:
        voice = VOICES.get(lang, "en-us")
        try:
            process = await asyncio.create_subprocess_exec(
                self.binary, "-v", voice, "--stdout", "-s", "165", "--", text,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                stdin=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:
            raise TTSError(f"espeak-ng cannot run: {exc.strerror}") from None
        try:
            async with asyncio.timeout(_TIMEOUT_S):
                wav, _ = await process.communicate()
        except BaseException:
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise
        if process.returncode != 0:
            raise TTSError(f"espeak-ng exited with {process.returncode}")
        pcm, rate, channels = _pcm_from_wav(wav)
        if not pcm:
            raise TTSError("espeak-ng produced no audio")
        return await asyncio.to_thread(encode_mp3, pcm, rate, channels)
