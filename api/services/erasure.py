"""Personal data that ends: erasing a practice's debtor data (`erase_practice`), the debtor's
erasure requests (GDPR art. 17, `request_erasure`) and the retention sweep's batch
(`erase_due`). The sweep (activities/retention.py) and the requests call the same function.

Where a debtor's personal data lives (db/models.py), and what erasure does to it:

- `practices`: name, codice fiscale, partita IVA, e-mail, phone, PEC, the address (street,
  city, postal code) and the creditor's reference (free text, often the debtor's name) are
  blanked; the debtor's kind, the province and country (abroad the region, as coarse as a
  province), the time zone and language, the amounts, dates, status, phase and outcome stay,
  so the reports still count the practice;
- `documents`: the letters' PDFs and a dispute's evidence are deleted (`deliveries` lose their
  link to them first);
- `deliveries`: the address or number a message went to, its subject and text are blanked;
  the channel, status and dates stay;
- `practice_notes`: deleted (free text people wrote about the debtor);
- `debtor_links`, `debtor_sessions`: deleted (the way into the debtor's page);
- `contact_log`, `conversation_days`: keyed by the codice fiscale; re-keyed to the practice
  (`erased:<practice id>`), so the counts stay and the code goes;
- `debtor_opt_outs`, `debtor_contact_preferences`: the debtor's, for all of its practices:
  deleted only when no other practice holds the debtor's data any more (another creditor's
  practice still open keeps honouring the debtor's refusals and preferences).

Not personal data, kept: invoices (numbers, dates, amounts), events (their summaries never
name the debtor: docs/ARCHITECTURE.md), tasks, deadlines, card payments, delivery events, the
access log and the erasure requests themselves (ids and codes). Temporal's histories carry no
personal data in the first place.

A debtor with practices of several creditors has one copy per practice: erasing one practice
touches only that copy, and the rows shared by the debtor's practices only when it was the
last copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal
from db.contact_log import practice_debtor_key
from db.models import (
    ContactLog,
    ConversationDay,
    Creditor,
    DebtorContactPreference,
    DebtorLink,
    DebtorOptOut,
    DebtorSession,
    Delivery,
    Document,
    ErasureRequest,
    Practice,
    PracticeNote,
)
from domain.calendar import rome_date
from domain.practice import Status


class Scope(StrEnum):
    # what no legal duty covers once the practice is closed (an erasure request within the
    # retention period)
    CONTACTS = "contacts"
    # everything (the retention period is over)
    ALL = "all"


class Category(StrEnum):
    """What an erasure request erased or kept, by kind of data (the admin's page names them)."""

    CONTACTS = "contacts"  # e-mail, phone, PEC; the e-mails' and SMS' addresses and texts
    NOTES = "notes"  # notes of calls, visits, traces, promises, returned letters
    DEBTOR_PAGE = "debtor_page"  # the links to the debtor's page and its sessions
    PREFERENCES = "preferences"  # opt-outs and preferred hours, when no other practice needs them
    IDENTITY = "identity"  # name, codice fiscale, partita IVA, the creditor's reference
    ADDRESS = "address"
    DOCUMENTS = "documents"  # the letters' PDFs, a dispute's evidence, where letters were sent
    CLAIM_NOTES = "claim_notes"  # the reasons of disputes, withdrawals, legal decisions


class Decision(StrEnum):
    REFUSED = "refused"
    PARTIAL = "partial"
    ERASED = "erased"


class Reason(StrEnum):
    # art. 17(3)(e): the claim is still being pursued (the data are needed to collect it)
    PRACTICE_OPEN = "practice_open"
    # art. 17(3)(b) and (e): art. 2220 c.c. keeps accounting records and their documents ten
    # years (the creditor's shorter period if it set one); the letters prove the formal
    # demands (art. 2943 c.c.) against a claim until then
    LEGAL_DUTY = "legal_duty"
    # the retention period is over: nothing holds the data
    NO_DUTY = "no_duty"
    ALREADY_ERASED = "already_erased"


ERASED_BY_SCOPE: dict[Scope, tuple[Category, ...]] = {
    Scope.CONTACTS: (Category.CONTACTS, Category.NOTES, Category.DEBTOR_PAGE, Category.PREFERENCES),
    Scope.ALL: tuple(Category),
}
# notes on the claim itself: kept with the letters while a legal duty holds
CLAIM_NOTE_KINDS = (
    "dispute",
    "dispute_resolution",
    "withdrawal",
    "legal_opinion",
    "legal_authorization",
)
# e-mails and SMS: contacts; letters and PECs: documents (proof of the formal demands)
MESSAGE_CHANNELS = ("email", "sms")


def erased_key(practice_id: str) -> str:
    return f"erased:{practice_id}"


def retention_ends(practice: Practice, retention_days: int) -> datetime | None:
    """When the closed practice's data may go; None while it is open."""
    if practice.closed_at is None:
        return None
    return practice.closed_at + timedelta(days=retention_days)


async def erase_practice(
    session: AsyncSession, practice: Practice, scope: Scope, now: datetime
) -> tuple[Category, ...]:
    """Erases the practice's debtor data of `scope`, in the caller's transaction (flushed, not
    committed: an erasure request and what it erased commit together). Idempotent: erased data
    stays erased and a second call changes nothing. Returns the categories erased: the scope's,
    without the preferences while another practice still holds the debtor."""
    key = practice_debtor_key(practice)
    pid = practice.id
    practice.email = practice.phone = practice.pec = None
    practice.invalid_channels = []
    await session.execute(
        update(Delivery)
        .where(
            Delivery.practice_id == pid,
            *(() if scope == Scope.ALL else (Delivery.channel.in_(MESSAGE_CHANNELS),)),
        )
        .values(recipient="", subject="", body="")
    )
    notes = delete(PracticeNote).where(PracticeNote.practice_id == pid)
    if scope == Scope.CONTACTS:
        notes = notes.where(PracticeNote.kind.not_in(CLAIM_NOTE_KINDS))
    await session.execute(notes)
    links = select(DebtorLink.id).where(DebtorLink.practice_id == pid)
    await session.execute(
        delete(DebtorSession).where(
            or_(DebtorSession.practice_id == pid, DebtorSession.link_id.in_(links))
        )
    )
    await session.execute(delete(DebtorLink).where(DebtorLink.practice_id == pid))
    if scope == Scope.ALL:
        await session.execute(
            update(Delivery).where(Delivery.practice_id == pid).values(document_id=None)
        )
        await session.execute(delete(Document).where(Document.practice_id == pid))
        await session.execute(
            update(ConversationDay)
            .where(
                ConversationDay.contact_id.in_(
                    select(ContactLog.id).where(ContactLog.practice_id == pid)
                )
            )
            .values(debtor_key=erased_key(pid))
        )
        await session.execute(
            update(ContactLog)
            .where(ContactLog.practice_id == pid)
            .values(debtor_key=erased_key(pid))
        )
        practice.debtor_name = ""
        practice.debtor_tax_code = practice.debtor_vat_number = None
        practice.street = practice.city = practice.postal_code = ""
        practice.reference = f"erased-{pid}"
        if practice.erased_at is None:
            practice.erased_at = now
    erased = ERASED_BY_SCOPE[scope]
    # a debtor known by this practice alone ("practice:<id>") has no other copy
    if key.startswith("practice:") or not await _other_copies(session, practice, key):
        # the last practice holding the debtor: its refusals and preferences go with it
        await session.execute(delete(DebtorOptOut).where(DebtorOptOut.debtor_key == key))
        await session.execute(
            delete(DebtorContactPreference).where(DebtorContactPreference.debtor_key == key)
        )
    else:
        # another practice still holds the debtor: they keep protecting it there
        erased = tuple(c for c in erased if c != Category.PREFERENCES)
    await session.flush()
    return erased


async def _other_copies(session: AsyncSession, practice: Practice, key: str) -> bool:
    """Whether another practice, not erased, holds the same debtor (by codice fiscale or
    partita IVA, as db.contact_log.practice_debtor_key keys it)."""
    same: list[ColumnElement[bool]] = [Practice.debtor_tax_code == key]
    if len(key) == 11 and key.isdigit():  # a partita IVA (a company's codice fiscale too)
        same += [Practice.debtor_vat_number == key, Practice.debtor_vat_number == f"IT{key}"]
    country, _, number = key.partition(":")
    if number and len(country) == 2:  # a debtor abroad, "<country>:<number>" (issue 16)
        same = [
            and_(
                Practice.country == country,
                or_(Practice.debtor_tax_code == number, Practice.debtor_vat_number == number),
            )
        ]
    found = await session.scalar(
        select(Practice.id)
        .where(Practice.id != practice.id, Practice.erased_at.is_(None), or_(*same))
        .limit(1)
    )
    return found is not None


# -- the retention sweep -----------------------------------------------------------------------


async def due_practices(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Closed practices whose creditor's retention period is over and not yet erased, oldest
    closure first, at most `limit`: one query per creditor (each has its own period), on the
    (creditor_id, closed_at) index."""
    found: list[str] = []
    creditors = (await session.execute(select(Creditor.id, Creditor.retention_days))).all()
    for creditor_id, days in creditors:
        if len(found) >= limit:
            break
        rows = await session.scalars(
            select(Practice.id)
            .where(
                Practice.creditor_id == creditor_id,
                Practice.closed_at <= now - timedelta(days=days),
                Practice.status == Status.CLOSED.value,
                Practice.erased_at.is_(None),
            )
            .order_by(Practice.closed_at, Practice.id)
            .limit(limit - len(found))
        )
        found.extend(rows)
    return found


@dataclass(frozen=True)
class SweepBatch:
    erased: int
    more: bool


async def erase_due(session: AsyncSession, now: datetime, limit: int) -> SweepBatch:
    """One batch of the sweep: each due practice erased in a transaction of its own (a failure
    leaves the others erased; the next batch or sweep takes it up again)."""
    ids = await due_practices(session, now, limit)
    await session.rollback()  # the search's read transaction ends before the writes
    for practice_id in ids:
        practice = await session.get(Practice, practice_id, with_for_update=True)
        if practice is not None and practice.erased_at is None:
            await erase_practice(session, practice, Scope.ALL, now)
        await session.commit()
    return SweepBatch(erased=len(ids), more=len(ids) == limit)


# -- erasure requests (art. 17) ----------------------------------------------------------------


@dataclass(frozen=True)
class Recorder:
    """Who records a request: a user (id, role) or the debtor on its own page."""

    kind: str
    id: str | None = None
    role: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Recorder:
        return cls("user", principal.id, principal.role.value)


async def request_erasure(
    session: AsyncSession,
    practice: Practice,
    recorder: Recorder,
    received_on: date,
    now: datetime,
) -> ErasureRequest:
    """Records the debtor's request and carries out what no legal duty refuses, in one
    transaction (committed):

    - open practice: refused (art. 17(3)(e), the claim is being collected), nothing erased;
    - closed, within the creditor's retention period: the contacts, the notes that are not on
      the claim, the debtor's page and (if no other practice needs them) the opt-outs and
      preferences are erased now; identity, address, letters and the claim's notes are kept
      until the period ends (art. 17(3)(b), art. 2220 c.c.; 17(3)(e)), when the sweep erases
      them;
    - closed, period over (the sweep had not come by yet): everything is erased.
    """
    creditor = await session.get(Creditor, practice.creditor_id)
    assert creditor is not None  # a foreign key
    ends = retention_ends(practice, creditor.retention_days)
    erased: tuple[Category, ...] = ()
    keep_until: date | None = None
    if practice.erased_at is not None:
        decision, reason = Decision.ERASED, Reason.ALREADY_ERASED
    elif practice.status != Status.CLOSED.value or ends is None:
        decision, reason = Decision.REFUSED, Reason.PRACTICE_OPEN
    elif ends > now:
        decision, reason = Decision.PARTIAL, Reason.LEGAL_DUTY
        erased = await erase_practice(session, practice, Scope.CONTACTS, now)
        keep_until = rome_date(ends)
    else:
        decision, reason = Decision.ERASED, Reason.NO_DUTY
        erased = await erase_practice(session, practice, Scope.ALL, now)
    # what stays: everything when refused, what a legal duty covers until keep_until, and the
    # debtor's opt-outs and preferences while another practice holds the debtor
    kept = () if reason == Reason.ALREADY_ERASED else tuple(c for c in Category if c not in erased)
    request = ErasureRequest(
        practice_id=practice.id,
        requested_at=now,
        received_on=received_on,
        recorded_by_kind=recorder.kind,
        recorded_by_id=recorder.id,
        recorded_by_role=recorder.role,
        decision=decision.value,
        reason=reason.value,
        erased=[c.value for c in erased],
        kept=[c.value for c in kept],
        keep_until=keep_until,
    )
    session.add(request)
    await session.commit()
    return request


async def list_requests(
    session: AsyncSession,
    *,
    practice_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ErasureRequest]:
    """Newest first."""
    query = select(ErasureRequest).order_by(
        ErasureRequest.requested_at.desc(), ErasureRequest.id.desc()
    )
    if practice_id is not None:
        query = query.where(ErasureRequest.practice_id == practice_id)
    return list(await session.scalars(query.limit(limit).offset(offset)))
