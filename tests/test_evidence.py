"""The documents a debtor sends with a dispute: the type is read from the content."""

from __future__ import annotations

import io

import pytest
from fastapi.exceptions import RequestValidationError
from PIL import Image
from pypdf import PdfWriter

from api.services.evidence import (
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_FILES,
    EvidenceFile,
    check_evidence,
    sniff_media_type,
)


def tiny_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def tiny_image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


# the first bytes of a Windows executable (the DOS header) and plain text
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
TEXT = b"Gentili signori, la merce non e' mai arrivata.\n"


def locs(exc: pytest.ExceptionInfo[RequestValidationError]) -> list[tuple[str | int, ...]]:
    return [tuple(e["loc"]) for e in exc.value.errors()]


def test_real_pdf_jpeg_and_png_are_recognised() -> None:
    assert sniff_media_type(tiny_pdf()) == "application/pdf"
    assert sniff_media_type(tiny_image("JPEG")) == "image/jpeg"
    assert sniff_media_type(tiny_image("PNG")) == "image/png"


@pytest.mark.parametrize(
    "content", [EXE, TEXT, b"", tiny_image("GIF"), b"  %PDF-1.7 not at the start"]
)
def test_other_content_is_not_recognised(content: bytes) -> None:
    assert sniff_media_type(content) is None


def test_the_name_is_not_trusted() -> None:
    checked = check_evidence(
        [EvidenceFile("scan.png", tiny_pdf()), EvidenceFile("photo.pdf", tiny_image("JPEG"))]
    )
    assert [c.media_type for c in checked] == ["application/pdf", "image/jpeg"]
    assert [c.filename for c in checked] == ["scan.png", "photo.pdf"]


@pytest.mark.parametrize("content", [EXE, TEXT])
def test_a_renamed_file_is_refused_naming_its_field(content: bytes) -> None:
    with pytest.raises(RequestValidationError) as exc:
        check_evidence([EvidenceFile("ok.pdf", tiny_pdf()), EvidenceFile("fattura.pdf", content)])
    assert locs(exc) == [("body", "files", 1)]
    assert "fattura.pdf" in exc.value.errors()[0]["msg"]


def test_oversize_is_refused() -> None:
    at_limit = tiny_pdf()
    at_limit += b"\0" * (MAX_EVIDENCE_BYTES - len(at_limit))
    assert check_evidence([EvidenceFile("big.pdf", at_limit)])[0].media_type == "application/pdf"
    with pytest.raises(RequestValidationError) as exc:
        check_evidence([EvidenceFile("too-big.pdf", at_limit + b"\0")])
    assert locs(exc) == [("body", "files", 0)]


def test_too_many_are_refused() -> None:
    pdf = tiny_pdf()
    assert (
        len(check_evidence([EvidenceFile(f"{n}.pdf", pdf) for n in range(MAX_EVIDENCE_FILES)])) == 5
    )
    with pytest.raises(RequestValidationError) as exc:
        check_evidence([EvidenceFile(f"{n}.pdf", pdf) for n in range(MAX_EVIDENCE_FILES + 1)])
    assert locs(exc) == [("body", "files")]


def test_a_path_in_the_name_is_dropped() -> None:
    (checked,) = check_evidence([EvidenceFile("C:\\Users\\x\\..\\ricevuta.png", tiny_image("PNG"))])
    assert checked.filename == "ricevuta.png"
