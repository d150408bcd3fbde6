"""Opening a dispute, with or without documents: the one code path of the API's JSON and
multipart requests and of the debtor's page.

The documents are checked first (api.services.evidence): one bad file refuses everything, before
the workflow hears of anything. The workflow receives only the dispute's id (its history is kept
outside the agency's deletion, and the documents are personal data); once it has accepted the
dispute, the reason (a practice note) and the documents (rows of `documents`, kind
"dispute_evidence", as letters' PDFs are kept) are written in one transaction. Nothing is added
to the session before the update: with SQLite a pending write lock would block the workflow's
own activities (see api.routers.practice_commands).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import send_update, unavailable
from api.schemas import NoteKind
from api.services.evidence import EVIDENCE_KIND, EvidenceFile, check_evidence
from db.models import Document, Practice, PracticeNote
from domain.actor import Actor
from domain.practice import CommandResult, DisputeCmd, UpdateName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DisputeOpening:
    result: CommandResult
    dispute_id: str
    document_ids: list[str]


async def open_dispute(
    session: AsyncSession,
    temporal: Client,
    practice: Practice,
    *,
    reason: str,
    files: Sequence[EvidenceFile] = (),
    author_id: str | None,
    actor: Actor | None = None,
    dispute_id: str | None = None,
) -> DisputeOpening:
    """Opens a dispute on `practice` (already loaded with the caller's access checked, and not
    closed) with the debtor's reason and documents. `author_id` is the user who records it, None
    when the debtor does (then `actor` is the debtor; None takes the request's caller). A bad
    file is a 422 naming ["body", "files", i] and nothing is sent or written; a refusal of the
    workflow is mapped by api.errors.send_update and nothing is written. `dispute_id` is the
    caller's one-time key (the debtor's page renders one in its form, so a retry finds the
    dispute it opened on the timeline); None: a new id."""
    checked = check_evidence(files)
    dispute_id = dispute_id or uuid.uuid4().hex
    result = await send_update(
        temporal,
        practice.workflow_id,
        UpdateName.DISPUTE,
        DisputeCmd(dispute_id=dispute_id, actor=actor),
    )
    documents = [
        Document(
            id=uuid.uuid4().hex,
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:dispute:{dispute_id}:{index}",
            kind=EVIDENCE_KIND,
            filename=file.filename,
            media_type=file.media_type,
            content=file.content,
        )
        for index, file in enumerate(checked)
    ]
    if reason:
        session.add(
            PracticeNote(
                practice_id=practice.id,
                author_id=author_id,
                kind=NoteKind.DISPUTE.value,
                text=reason,
            )
        )
    session.add_all(documents)
    try:
        await session.commit()
    except Exception as exc:
        await session.rollback()
        # the log names what was lost, never its content
        log.error(
            "practice %s: dispute %s accepted by the workflow but its reason and %d documents "
            "not saved",
            practice.id,
            dispute_id,
            len(documents),
        )
        raise unavailable(
            "the practice accepted the dispute, but its reason and documents could not be "
            "saved; check the practice before sending them again"
        ) from exc
    return DisputeOpening(result, dispute_id, [d.id for d in documents])
