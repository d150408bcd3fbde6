"""The documents a debtor sends with a dispute (issue 13): PDF, JPEG or PNG, at most
MAX_EVIDENCE_FILES of them and MAX_EVIDENCE_BYTES each, the type read from the content.

The file name and the declared content type are the sender's word and are never trusted: the
type is what the bytes are, identified by `puremagic` (a maintained, pure-Python reader of file
signatures, typed). Only a match at offset 0 with one of the three accepted types counts, so a
renamed executable or text file is refused whatever it is called.

Checked all together before anything is written or sent: one bad file refuses the whole request
(422 naming the file's field), so a dispute never opens with half of its documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import puremagic

from api.errors import invalid

MAX_EVIDENCE_FILES = 5
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# the media types accepted, as puremagic reports them; stored and served as such
ACCEPTED_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
EVIDENCE_KIND = "dispute_evidence"
EVIDENCE_RULES = (
    f"PDF, JPEG or PNG, at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB each and "
    f"{MAX_EVIDENCE_FILES} in all; the type is read from the content, not the name"
)
FILES_FIELD = "files"


@dataclass(frozen=True)
class EvidenceFile:
    """A file as received: the name the sender gave and its bytes (at most one byte more than
    MAX_EVIDENCE_BYTES need be read to tell that it is too big)."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class CheckedEvidence:
    filename: str
    media_type: str
    content: bytes


def sniff_media_type(content: bytes) -> str | None:
    """The accepted media type the content starts with, or None (empty, unknown, or another
    type). Only signatures at offset 0 count: a PDF, JPEG or PNG begins with its own."""
    if not content:
        return None
    try:
        matches = puremagic.magic_string(content)
    except puremagic.PureError:
        return None
    for match in matches:  # the most confident first
        if match.offset == 0 and match.mime_type in ACCEPTED_TYPES:
            return str(match.mime_type)
    return None


def _safe_name(filename: str, media_type: str) -> str:
    name = "".join(c for c in filename.replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable())
    name = name.strip()[:200]
    return name or {"application/pdf": "document.pdf", "image/jpeg": "image.jpg"}.get(
        media_type, "image.png"
    )


def check_evidence(
    files: Sequence[EvidenceFile], field: Sequence[str | int] = ("body", FILES_FIELD)
) -> list[CheckedEvidence]:
    """The files with the media type their content shows; a 422 naming the field of the first
    bad one (`field` + its index), or the field itself when there are too many."""
    if len(files) > MAX_EVIDENCE_FILES:
        raise invalid(list(field), f"at most {MAX_EVIDENCE_FILES} documents")
    checked: list[CheckedEvidence] = []
    for index, file in enumerate(files):
        loc = [*field, index]
        if len(file.content) > MAX_EVIDENCE_BYTES:
            raise invalid(
                loc, f"{file.filename!r} is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB"
            )
        media_type = sniff_media_type(file.content)
        if media_type is None:
            raise invalid(
                loc,
                f"{file.filename!r} is not a PDF, JPEG or PNG (the content was checked, "
                "not the name)",
            )
        checked.append(
            CheckedEvidence(_safe_name(file.filename, media_type), media_type, file.content)
        )
    return checked
