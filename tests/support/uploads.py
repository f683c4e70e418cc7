"""A context file uploaded as the admin page does (the upload stream), for tests whose
subject is what the app does with it afterwards."""

from __future__ import annotations

from tests.support.sse import Received, read_stream


async def upload_context(base_url: str, token: str, name: str, content: bytes,
                         media_type: str = "text/markdown") -> Received:
    """Upload `content` as `name` and read the stream to its end, which must be complete + close."""
    upload = await read_stream(
        f"{base_url}/api/context/upload-file/stream", method="POST",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (name, content, media_type)}, timeout=60,
    )
    assert upload.types()[-2:] == ["complete", "close"], upload.events[-3:]
    return upload
