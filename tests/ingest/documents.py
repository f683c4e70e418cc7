"""Documents the ingest tests upload, all made here: real ones of every accepted type and a
corpus of bad ones. Nothing is read from fixtures on disk."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def pdf_with_text(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF whose pages show the given lines in Helvetica (pypdf can read
    text but not lay it out, so the objects, content streams and xref are written here)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font = 3 + 2 * len(pages)
    for i, lines in enumerate(pages):
        shown = " ".join(
            "(%s) '" % line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines
        )
        content = f"BT /F1 11 Tf 72 760 Td 14 TL {shown} ET".encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def encrypted_pdf(data: bytes, password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_with(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Fabric"
    table.cell(0, 1).text = "Banarasi silk"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx(tmp: Path, inflated_mb: int = 64) -> bytes:
    """A real .docx plus one member of zeros that inflates about 1000x."""
    path = tmp / "bomb.docx"
    path.write_bytes(docx_with(["An innocent looking paragraph."]))
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/media/padding.bin", "w") as member:
            block = bytes(1 << 20)
            for _ in range(inflated_mb):
                member.write(block)
    return path.read_bytes()


def zip_without_document() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not a word document")
    return out.getvalue()


def multipart(parts: list[tuple[str, bytes | None, bytes]], boundary: str = "storestreamtestboundary") -> tuple[bytes, str]:
    """A multipart/form-data body from (field name, raw filename or None, content); the
    file name bytes go on the wire exactly as given (httpx would percent-escape them)."""
    out = io.BytesIO()
    for name, filename, content in parts:
        out.write(b"--%s\r\n" % boundary.encode())
        disposition = b'Content-Disposition: form-data; name="%s"' % name.encode()
        if filename is not None:
            disposition += b'; filename="%s"' % filename
        out.write(disposition + b"\r\n")
        if filename is not None:
            out.write(b"Content-Type: application/octet-stream\r\n")
        out.write(b"\r\n" + content + b"\r\n")
    out.write(b"--%s--\r\n" % boundary.encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"
