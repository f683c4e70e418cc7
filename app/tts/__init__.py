"""Text to speech: engines behind one interface, the automatic fallback, and the speaker that
turns a streamed answer into ordered per-sentence MP3 `audio` events.

- `engine.py`   the interface and its error
- `espeak.py`   offline: espeak-ng (Debian) to WAV, lameenc to MP3
- `google.py`   gTTS (needs Google's service)
- `auto.py`     gTTS first, the offline engine within 1 s when Google is unreachable
- `sentences.py` sentence boundaries in a stream of tokens
- `speaker.py`  synthesis of sentence N while text keeps streaming, audio kept in order
- `slots.py`    the process-wide limit on syntheses at once, oldest answer first, bounded waits
"""
