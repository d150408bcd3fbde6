"""Commands people send a practice: each one is a Temporal update to its workflow.

The workflow decides; the API checks who may send what, validates the input, refuses early
what the read model already shows is pointless (a closed practice), and maps the workflow's
refusals to 409/422 (api.errors.send_update). Timeline events, balances and statuses are
written by the workflow's activities, never here.

The only rows the API writes are new contact details and the notes and reasons people give
(`practice_notes`). Both are personal data, so the workflow never receives them (its history
is kept outside the agency's deletion): it hears only the channel names and the decision. They
are written in one transaction committed only after the workflow has accepted the command, so
a refused command leaves nothing behind.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from temporalio.client import Client

from activities.contact_limits import MAX_ROUNDS, record_visit
from api.access import load_practice, practice_boundary
from api.auth import Principal, Role, require
from api.deps import DatabaseDep, NowDep, SessionDep, SettingsDep, TemporalDep
from api.errors import CLOSED_MESSAGE, conflict, invalid, send_update, unavailable
from api.idempotency import note_id, read_idempotency_key
from api.roles import VISITORS
from api.schemas import (
    AddressIn,
    AuthorizationIn,
    CallOutcomeIn,
    CommandResultOut,
    ContactsIn,
    DisputeIn,
    DisputeOpened,
    DisputeResolutionIn,
    EndDecisionIn,
    ForbearanceIn,
    LegalOpinionIn,
    LetterReturnedIn,
    NoteKind,
    PaymentIn,
    PromiseIn,
    TraceResultIn,
    VisitAssigneeIn,
    VisitOutcomeIn,
    WithdrawalIn,
    euros_out,
)
from api.services import contacts as contacts_service
from api.services import disputes, visits
from api.services.evidence import EVIDENCE_RULES, MAX_EVIDENCE_BYTES, EvidenceFile
from db.contact_log import conversations_since, practice_debtor_key, practice_regime
from db.models import Practice, PracticeNote, Task
from db.session import Database
from domain.contact_rules import ITALY, ContactRegime, check_conversation, week_start
from domain.money import parse_euros
from domain.practice import (
    CHANNEL_NAMES,
    AuthorizationCmd,
    CallOutcomeCmd,
    CommandResult,
    DebtAdviceNoticeCmd,
    DisputeResolutionCmd,
    EndDecision,
    EndDecisionCmd,
    ForbearanceCmd,
    LegalOpinionCmd,
    LetterReturnedCmd,
    PaymentCmd,
    PromiseCmd,
    Status,
    TraceResultCmd,
    UpdateName,
    VisitOutcomeCmd,
    WithdrawalCmd,
)

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/practices/{practice_id}",
    # another's practice is a 403 before its body is read (api/access.py)
    dependencies=[Depends(practice_boundary), Depends(read_idempotency_key)],
    tags=["practice commands"],
    responses={
        403: {"description": "Wrong role, or another creditor's / territory's practice."},
        404: {"description": "Unknown practice."},
        409: {"description": "The practice is closed, or is not waiting for this command."},
        422: {"description": "Bad input; `loc` names the field."},
    },
)


def _result(result: CommandResult) -> CommandResultOut:
    return CommandResultOut(
        accepted=result.accepted,
        message=result.message,
        balance=euros_out(result.balance_cents),
        status=result.status,
    )


async def _open_practice(session: SessionDep, principal: Principal, practice_id: str) -> Practice:
    practice = await load_practice(session, principal, practice_id)
    if practice.status == Status.CLOSED:
        raise conflict(CLOSED_MESSAGE)
    return practice


@dataclass
class _Contacts:
    """New contact details from a request; None means not given."""

    email: str | None = None
    phone: str | None = None
    pec: str | None = None
    address: AddressIn | None = None

    def given(self) -> list[str]:
        """The names of the channels given, in CHANNEL_NAMES order: all the workflow hears."""
        return [name for name in CHANNEL_NAMES if getattr(self, name) is not None]


def _note(
    principal: Principal, practice: Practice, kind: NoteKind, text: str
) -> PracticeNote | None:
    """The note to keep if the command is accepted; nothing for an empty one."""
    if not text:
        return None
    note = PracticeNote(practice_id=practice.id, author_id=principal.id, kind=kind.value, text=text)
    keyed = note_id(practice.id, kind.value)
    if keyed is not None:
        note.id = keyed
    return note


async def _send(
    session: SessionDep,
    temporal: Client,
    practice: Practice,
    update: str,
    command: Any,
    invalid_loc: Sequence[str | int] = ("body",),
    *,
    note: PracticeNote | None = None,
    contacts: _Contacts | None = None,
) -> CommandResultOut:
    """Sends the command; once the workflow has accepted it, saves the note and the contacts.

    Nothing is added to the session or flushed before the update: with SQLite a pending write
    lock would block the workflow's own activities, which write the read model while the update
    runs, and a refused command must leave no row behind.
    """
    result = await send_update(
        temporal, practice.workflow_id, update, command, invalid_loc=invalid_loc
    )
    if note is not None or contacts is not None:
        await _save(session, practice, note, contacts)
    return _result(result)


def _apply_contacts(practice: Practice, contacts: _Contacts) -> None:
    """Writes the given contacts into the row (not yet flushed) and clears their 'wrong' marks."""
    if contacts.email is not None:
        practice.email = contacts.email
    if contacts.phone is not None:
        practice.phone = contacts.phone
    if contacts.pec is not None:
        practice.pec = contacts.pec
    if contacts.address is not None:
        address = contacts.address
        practice.street = address.street
        practice.city = address.city
        practice.postal_code = address.postal_code
        practice.province = address.province or ""
        practice.country = address.country
        practice.region = address.region
        # the contact rules follow the debtor to its new zone (the address's, or its country's)
        practice.time_zone = address.time_zone or "Europe/Rome"
    changed = contacts.given()
    # a new list, not an in-place edit, so the JSON column is seen as changed
    practice.invalid_channels = [c for c in practice.invalid_channels or () if c not in changed]


async def _save(
    session: SessionDep,
    practice: Practice,
    note: PracticeNote | None,
    contacts: _Contacts | None,
) -> None:
    if contacts is not None:
        # The workflow's activities wrote the row while the update ran; start from what they
        # wrote so only the contact columns change.
        await session.refresh(practice)
        _apply_contacts(practice, contacts)
    # a repeat under the same Idempotency-Key finds the first attempt's note (same id); a note
    # without a key has no id until it is flushed
    if note is not None and (note.id is None or await session.get(PracticeNote, note.id) is None):
        session.add(note)
    try:
        await session.commit()
    except Exception as exc:
        await session.rollback()
        what = " and ".join(
            w
            for w, given in (("the new contact details", contacts), ("the note", note))
            if given is not None
        )
        # the log names what was lost, never its content
        log.error("practice %s: %s accepted by the workflow but not saved", practice.id, what)
        raise unavailable(
            f"the practice accepted the command, but {what} could not be saved; "
            "check the practice before sending it again"
        ) from exc


@router.post("/payments", response_model=CommandResultOut)
async def record_payment(
    practice_id: str,
    body: PaymentIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)],
) -> CommandResultOut:
    """A payment received (partial or full). Paying the whole balance closes the practice as
    paid. An amount above the balance is a 422; the same reference twice is a 409. The debtor
    may say which invoice it pays (invoice_number, art. 1193 c.1 c.c.): one of the practice's,
    else a 422."""
    practice = await _open_practice(session, principal, practice_id)
    if body.invoice_number is not None:
        await session.refresh(practice, ["invoices"])
        if body.invoice_number not in {i.number for i in practice.invoices}:
            raise invalid(["body", "invoice_number"], "not one of the practice's invoices")
    command = PaymentCmd(
        amount_cents=parse_euros(body.amount),
        paid_on=body.paid_on,
        reference=body.reference,
        invoice_number=body.invoice_number,
    )
    return await _send(session, temporal, practice, UpdateName.PAYMENT, command, ["body", "amount"])


@router.post("/promises", response_model=CommandResultOut)
async def record_promise(
    practice_id: str,
    body: PromiseIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, *VISITORS)],
) -> CommandResultOut:
    """A promise to pay by a date: escalation pauses until then."""
    practice = await _open_practice(session, principal, practice_id)
    command = PromiseCmd(
        promised_date=body.promised_date,
        amount_cents=parse_euros(body.amount),
        source=principal.role.value,
    )
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.PROMISE,
        command,
        ["body", "amount"],
        note=_note(principal, practice, NoteKind.PROMISE, body.note),
    )


@router.post("/call-outcomes", response_model=CommandResultOut)
async def record_call_outcome(
    practice_id: str,
    body: CallOutcomeIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
) -> CommandResultOut:
    """The outcome of a queued call. 409 when no call is waiting for an outcome. A dispute
    raised on the phone opens a dispute whose id the workflow assigns (call-<n>)."""
    practice = await _open_practice(session, principal, practice_id)
    command = CallOutcomeCmd(
        outcome=body.outcome,
        promised_date=body.promised_date,
        promised_amount_cents=parse_euros(body.promised_amount) if body.promised_amount else None,
    )
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.CALL_OUTCOME,
        command,
        ["body", "promised_amount"],
        note=_note(principal, practice, NoteKind.CALL_OUTCOME, body.note),
    )


@router.post("/visit/assignee", response_model=CommandResultOut)
async def assign_visit(
    practice_id: str,
    body: VisitAssigneeIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN)],
) -> CommandResultOut:
    """The admin gives the practice's awaited home visit to a field agent or a foreign
    correspondent, or to another one (an agent who left, a better placed one): the visit task
    and the practice become theirs and they are notified. 409 when no visit waits for its
    outcome; 422 naming `user_id` for a user who is unknown, inactive, not a field agent or
    correspondent, or a correspondent not covering the debtor's country."""
    result = await visits.assign_visit(session, temporal, principal, practice_id, body.user_id)
    return _result(result)


@router.post("/visit-outcomes", response_model=CommandResultOut)
async def record_visit_outcome(
    practice_id: str,
    body: VisitOutcomeIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, *VISITORS)],
    now: NowDep,
    db: DatabaseDep,
    settings: SettingsDep,
) -> CommandResultOut:
    """The outcome of a home visit, reported by the field agent assigned to it.

    A visit is the debtor's conversation of the day it took place (`visited_at`, default now):
    once the workflow accepts the outcome, that day's conversation is taken, so no call or other
    visit of the debtor is granted that day (nor a fourth that week). A visit outside the
    windows the visit list showed (the hours, one conversation a day, three a week) is accepted,
    since it happened, and the timeline flags it with the rule it broke.

    A debtor who moved (`moved`) with the `new_address` the agent learned: the practice's
    address is replaced once the workflow has accepted the outcome, and the next letters go
    there; the workflow hears only that there is one."""
    # a field agent reaches only the practices of its visits (api.access)
    practice = await load_practice(session, principal, practice_id)
    if practice.status == Status.CLOSED:
        raise conflict(CLOSED_MESSAGE)
    visited_at = body.visited_at or now
    if visited_at > now + VISIT_CLOCK_SKEW:
        raise invalid(["body", "visited_at"], "a visit cannot have taken place in the future")
    if visited_at < now - VISIT_REPORTED_WITHIN:
        raise invalid(["body", "visited_at"], "a visit is reported within a year of taking place")
    debtor = practice_debtor_key(practice)
    regime = practice_regime(practice, settings.contact_hours)
    logged = await conversations_since(
        session, [debtor], regime.at_local(week_start(visited_at, regime))
    )
    decision = check_conversation(
        [c.at for c in logged.get(debtor, [])], visited_at, channel="visit", regime=regime
    )
    task_key = await session.scalar(
        select(Task.idempotency_key).where(
            Task.practice_id == practice.id, Task.kind == "visit", Task.status == "open"
        )
    )
    command = VisitOutcomeCmd(
        outcome=body.outcome,
        promised_date=body.promised_date,
        promised_amount_cents=parse_euros(body.promised_amount) if body.promised_amount else None,
        outside_rules=None if decision.allowed else decision.reason,
        # the workflow hears that there is a new address, never the address
        new_address=body.new_address is not None,
    )
    result = await _send(
        session,
        temporal,
        practice,
        UpdateName.VISIT_OUTCOME,
        command,
        ["body", "promised_amount"],
        note=_note(principal, practice, NoteKind.VISIT_OUTCOME, body.note),
        # saved once the workflow has accepted the outcome, as a trace result's contacts
        contacts=_Contacts(address=body.new_address) if body.new_address else None,
    )
    key = f"{task_key}:visited" if task_key else f"{practice.id}:visit:{uuid.uuid4().hex}"
    await _take_visit_conversation(db, practice.id, debtor, key, visited_at, regime)
    return result


# a field agent's phone clock may run a little ahead of the server's
VISIT_CLOCK_SKEW = timedelta(minutes=5)
# how late a visit may be reported: a visit task waits `visit_outcome_timeout` (21 days by
# default); a year covers any sensible strategy and keeps the date inside the holiday table
VISIT_REPORTED_WITHIN = timedelta(days=366)


async def _take_visit_conversation(
    db: Database,
    practice_id: str,
    debtor: str,
    key: str,
    at: datetime,
    regime: ContactRegime = ITALY,
) -> None:
    """The visit's conversation on its day (activities.contact_limits.record_visit)."""
    for _ in range(MAX_ROUNDS):
        async with db.session() as session:
            try:
                await record_visit(
                    session,
                    practice_id=practice_id,
                    debtor_key=debtor,
                    idempotency_key=key,
                    at=at,
                    regime=regime,
                )
                await session.commit()
                return
            except IntegrityError:
                await session.rollback()  # a reservation of that day came first: read again
    log.error("practice %s: the visit's conversation could not be recorded", practice_id)
    raise unavailable(
        "the practice accepted the visit outcome, but its conversation could not be recorded; "
        "check the practice before sending it again"
    )


@router.post("/trace-results", response_model=CommandResultOut)
async def record_trace_result(
    practice_id: str,
    body: TraceResultIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
) -> CommandResultOut:
    """The result of skip tracing (rintraccio). New contacts found are saved on the practice,
    committed only once the workflow has accepted the result; the workflow hears only which
    channels they are for."""
    contacts = _Contacts(email=body.email, phone=body.phone, pec=body.pec, address=body.address)
    found_channels = contacts.given()
    if body.found and not found_channels:
        raise invalid(["body", "found"], "a successful trace needs at least one new contact")
    if not body.found and found_channels:
        raise invalid(["body", found_channels[0]], "a trace that found nothing carries no contacts")
    practice = await _open_practice(session, principal, practice_id)
    command = TraceResultCmd(found=body.found, found_channels=found_channels)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.TRACE_RESULT,
        command,
        note=_note(principal, practice, NoteKind.TRACE_RESULT, body.note),
        contacts=contacts if body.found else None,
    )


@router.post("/disputes", status_code=status.HTTP_201_CREATED, response_model=DisputeOpened)
async def open_dispute(
    practice_id: str,
    body: DisputeIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)],
) -> DisputeOpened:
    """The debtor contests the debt (contestazione): all contact stops until the creditor
    resolves it. Returns the dispute id the resolution needs. With documents: POST
    /practices/{id}/disputes/with-documents."""
    practice = await _open_practice(session, principal, practice_id)
    opening = await disputes.open_dispute(
        session, temporal, practice, reason=body.reason, author_id=principal.id
    )
    return DisputeOpened(**_result(opening.result).model_dump(), dispute_id=opening.dispute_id)


@router.post(
    "/disputes/with-documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeOpened,
)
async def open_dispute_with_documents(
    practice_id: str,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)],
    files: Annotated[list[UploadFile], File(description=EVIDENCE_RULES)] = [],  # noqa: B006
) -> DisputeOpened:
    """POST /disputes with the debtor's documents (multipart/form-data: `reason` and up to
    five `files`). Each file must be a PDF, JPEG or PNG of at most 10 MB, checked from its
    content; one bad file is a 422 naming ["body", "files", i], and then no dispute opens and
    nothing is stored. The documents are listed with the practice's documents (kind
    dispute_evidence) and downloaded like its letters."""
    practice = await _open_practice(session, principal, practice_id)
    received = [await _received(f) for f in files]
    opening = await disputes.open_dispute(
        session, temporal, practice, reason=reason, files=received, author_id=principal.id
    )
    return DisputeOpened(
        **_result(opening.result).model_dump(),
        dispute_id=opening.dispute_id,
        document_ids=opening.document_ids,
    )


async def _received(upload: UploadFile) -> EvidenceFile:
    # one byte more than allowed is enough to refuse a file as too big without reading it all
    content = await upload.read(MAX_EVIDENCE_BYTES + 1)
    return EvidenceFile(filename=upload.filename or "", content=content)


@router.post("/disputes/{dispute_id}/resolution", response_model=CommandResultOut)
async def resolve_dispute(
    practice_id: str,
    dispute_id: str,
    body: DisputeResolutionIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)],
) -> CommandResultOut:
    """The creditor's decision: rejected (collection resumes), upheld in part (the claim is
    reduced by reduce_by) or upheld (the practice closes). A reduce_by on a rejected dispute is
    a 422."""
    if not body.upheld and body.reduce_by is not None:
        # the request model refuses it already; this keeps the workflow from ever seeing it
        raise invalid(["body", "reduce_by"], "a rejected dispute reduces nothing")
    practice = await _open_practice(session, principal, practice_id)
    command = DisputeResolutionCmd(
        dispute_id=dispute_id,
        upheld=body.upheld,
        reduce_by_cents=parse_euros(body.reduce_by) if body.reduce_by else None,
    )
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.DISPUTE_RESOLUTION,
        command,
        ["body", "reduce_by"],
        note=_note(principal, practice, NoteKind.DISPUTE_RESOLUTION, body.note),
    )


@router.post("/legal-opinion", response_model=CommandResultOut)
async def record_legal_opinion(
    practice_id: str,
    body: LegalOpinionIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.LAWYER)],
) -> CommandResultOut:
    """A lawyer's opinion (parere legale) on judicial action. When a lawyer is assigned to
    the practice only that lawyer may give it."""
    # a lawyer reaches only the practices assigned to it (api.access)
    practice = await load_practice(session, principal, practice_id)
    if practice.status == Status.CLOSED:
        raise conflict(CLOSED_MESSAGE)
    command = LegalOpinionCmd(recommend_action=body.recommend_action, action=body.action)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.LEGAL_OPINION,
        command,
        note=_note(principal, practice, NoteKind.LEGAL_OPINION, body.note),
    )


@router.post("/legal-authorization", response_model=CommandResultOut)
async def record_authorization(
    practice_id: str,
    body: AuthorizationIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)],
) -> CommandResultOut:
    """The creditor authorises judicial action, or declines it (the practice is returned)."""
    practice = await _open_practice(session, principal, practice_id)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.AUTHORIZATION,
        AuthorizationCmd(authorized=body.authorized),
        note=_note(principal, practice, NoteKind.LEGAL_AUTHORIZATION, body.note),
    )


@router.post("/end-decision", response_model=CommandResultOut)
async def record_end_decision(
    practice_id: str,
    body: EndDecisionIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)],
) -> CommandResultOut:
    """The court steps ended with nothing left to do (a lost opposition, a negative
    pignoramento, steps stopped): the creditor closes the practice as uncollectable, or keeps it
    under watch. Listed on GET /worklists/end-decisions until decided; 409 before the court
    steps ended, or when asked to watch a practice already watched."""
    practice = await _open_practice(session, principal, practice_id)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.END_DECISION,
        EndDecisionCmd(decision=EndDecision(body.decision)),
        note=_note(principal, practice, NoteKind.END_DECISION, body.note),
    )


@router.post("/withdrawal", response_model=CommandResultOut)
async def withdraw(
    practice_id: str,
    body: WithdrawalIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)],
) -> CommandResultOut:
    """The creditor withdraws the mandate (revoca): the practice closes as withdrawn."""
    practice = await _open_practice(session, principal, practice_id)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.WITHDRAWAL,
        WithdrawalCmd(),
        note=_note(principal, practice, NoteKind.WITHDRAWAL, body.reason),
    )


@router.post("/forbearance", response_model=CommandResultOut)
async def record_forbearance(
    practice_id: str,
    body: ForbearanceIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)],
) -> CommandResultOut:
    """Consumer credit: a forbearance measure offered to the debtor (Directive (EU) 2023/2225
    art. 35). From 20 November 2026 legal action is refused until one is recorded and the
    debt-advice notice is sent. 409 when the practice is not consumer credit."""
    practice = await _open_practice(session, principal, practice_id)
    command = ForbearanceCmd(measure=body.measure.value, offered_on=body.offered_on)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.FORBEARANCE,
        command,
        ["body", "measure"],
        note=_note(principal, practice, NoteKind.FORBEARANCE, body.note),
    )


@router.post("/debt-advice-notice", response_model=CommandResultOut)
async def send_debt_advice_notice(
    practice_id: str,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
) -> CommandResultOut:
    """Consumer credit: sends the debtor the letter pointing to debt advisory services
    (Directive (EU) 2023/2225 art. 36(3)), once per practice (409 the second time, or when
    the practice is not consumer credit)."""
    practice = await _open_practice(session, principal, practice_id)
    return await _send(
        session, temporal, practice, UpdateName.DEBT_ADVICE_NOTICE, DebtAdviceNoticeCmd()
    )


@router.post("/contacts", response_model=CommandResultOut)
async def update_contacts(
    practice_id: str,
    body: ContactsIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR, *VISITORS)],
) -> CommandResultOut:
    """New contact details for the debtor. The workflow hears only which channels changed,
    never the values; the row is committed once the workflow has accepted the change."""
    if not any(v is not None for v in (body.email, body.phone, body.pec, body.address)):
        raise invalid(["body"], "give at least one of email, phone, pec, address")
    practice = await _open_practice(session, principal, practice_id)
    return await contacts_service.update_contacts(session, temporal, practice, body)


@router.post("/letter-returned", response_model=CommandResultOut)
async def letter_returned(
    practice_id: str,
    body: LetterReturnedIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
) -> CommandResultOut:
    """The postal letter came back undelivered: the address is marked wrong."""
    practice = await _open_practice(session, principal, practice_id)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.LETTER_RETURNED,
        LetterReturnedCmd(),
        note=_note(principal, practice, NoteKind.LETTER_RETURNED, body.note),
    )
