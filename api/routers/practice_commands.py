"""Commands people send a practice: each one is a Temporal update to its workflow.

The workflow decides; the API checks who may send what, validates the input, refuses early
what the read model already shows is pointless (a closed practice), and maps the workflow's
refusals to 409/422 (api.errors.send_update). Timeline events, balances and statuses are
written by the workflow's activities, never here; the only rows the API writes are new contact
details, and those are committed only after the workflow has accepted them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, status
from temporalio.client import Client

from api.access import load_practice
from api.auth import Principal, Role, require
from api.deps import SessionDep, TemporalDep
from api.errors import CLOSED_MESSAGE, conflict, forbidden, invalid, send_update, unavailable
from api.schemas import (
    AddressIn,
    AuthorizationIn,
    CallOutcomeIn,
    CommandResultOut,
    ContactsIn,
    DisputeIn,
    DisputeOpened,
    DisputeResolutionIn,
    LegalOpinionIn,
    LetterReturnedIn,
    PaymentIn,
    PromiseIn,
    TraceResultIn,
    VisitOutcomeIn,
    WithdrawalIn,
    euros_out,
)
from db.models import Practice
from domain.money import parse_euros
from domain.practice import (
    AuthorizationCmd,
    CallOutcomeCmd,
    Channels,
    CommandResult,
    ContactsCmd,
    DisputeCmd,
    DisputeResolutionCmd,
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


async def _send(
    temporal: Client,
    practice: Practice,
    update: str,
    command: Any,
    invalid_loc: Sequence[str | int] = ("body",),
) -> CommandResultOut:
    return _result(
        await send_update(temporal, practice.workflow_id, update, command, invalid_loc=invalid_loc)
    )


def _channels_after(
    practice: Practice,
    email: str | None,
    phone: str | None,
    pec: str | None,
    address: AddressIn | None,
) -> Channels:
    """The channel flags once the given contacts replace the stored ones: a channel works if
    it has a value that is not known to be wrong (a new value is presumed right)."""
    given = {"email": email, "phone": phone, "pec": pec, "address": address}
    wrong = {c for c in practice.invalid_channels or () if given.get(c) is None}
    return Channels(
        email=bool(email or practice.email) and "email" not in wrong,
        phone=bool(phone or practice.phone) and "phone" not in wrong,
        pec=bool(pec or practice.pec) and "pec" not in wrong,
        address="address" not in wrong,
    )


def _apply_contacts(
    practice: Practice,
    email: str | None,
    phone: str | None,
    pec: str | None,
    address: AddressIn | None,
) -> list[str]:
    """Writes the given contacts into the row (not yet flushed) and clears their 'wrong' marks;
    returns the names of the channels changed."""
    changed: list[str] = []
    if email is not None:
        practice.email = email
        changed.append("email")
    if phone is not None:
        practice.phone = phone
        changed.append("phone")
    if pec is not None:
        practice.pec = pec
        changed.append("pec")
    if address is not None:
        practice.street = address.street
        practice.city = address.city
        practice.postal_code = address.postal_code
        practice.province = address.province
        practice.country = address.country
        changed.append("address")
    # a new list, not an in-place edit, so the JSON column is seen as changed
    practice.invalid_channels = [c for c in practice.invalid_channels or () if c not in changed]
    return changed


@router.post("/payments", response_model=CommandResultOut)
async def record_payment(
    practice_id: str,
    body: PaymentIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)],
) -> CommandResultOut:
    """A payment received (partial or full). Paying the whole balance closes the practice as
    paid. An amount above the balance is a 422; the same reference twice is a 409."""
    practice = await _open_practice(session, principal, practice_id)
    command = PaymentCmd(
        amount_cents=parse_euros(body.amount), paid_on=body.paid_on, reference=body.reference
    )
    return await _send(temporal, practice, UpdateName.PAYMENT, command, ["body", "amount"])


@router.post("/promises", response_model=CommandResultOut)
async def record_promise(
    practice_id: str,
    body: PromiseIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.FIELD_AGENT)],
) -> CommandResultOut:
    """A promise to pay by a date: escalation pauses until then."""
    practice = await _open_practice(session, principal, practice_id)
    command = PromiseCmd(
        promised_date=body.promised_date,
        amount_cents=parse_euros(body.amount),
        source=principal.role.value,
        note=body.note,
    )
    return await _send(temporal, practice, UpdateName.PROMISE, command, ["body", "amount"])


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
        note=body.note,
    )
    return await _send(
        temporal, practice, UpdateName.CALL_OUTCOME, command, ["body", "promised_amount"]
    )


@router.post("/visit-outcomes", response_model=CommandResultOut)
async def record_visit_outcome(
    practice_id: str,
    body: VisitOutcomeIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.FIELD_AGENT)],
) -> CommandResultOut:
    """The outcome of a home visit, reported by the field agent assigned to it."""
    practice = await load_practice(session, principal, practice_id)
    if principal.role == Role.FIELD_AGENT and practice.field_agent_id != principal.id:
        raise forbidden("only the field agent assigned to this practice reports its visit")
    if practice.status == Status.CLOSED:
        raise conflict(CLOSED_MESSAGE)
    command = VisitOutcomeCmd(
        outcome=body.outcome,
        promised_date=body.promised_date,
        promised_amount_cents=parse_euros(body.promised_amount) if body.promised_amount else None,
        note=body.note,
    )
    return await _send(
        temporal, practice, UpdateName.VISIT_OUTCOME, command, ["body", "promised_amount"]
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
    committed only once the workflow has accepted the result."""
    given = {
        "email": body.email,
        "phone": body.phone,
        "pec": body.pec,
        "address": body.address,
    }
    if body.found and all(v is None for v in given.values()):
        raise invalid(["body", "found"], "a successful trace needs at least one new contact")
    if not body.found:
        for name, value in given.items():
            if value is not None:
                raise invalid(["body", name], "a trace that found nothing carries no contacts")
    practice = await _open_practice(session, principal, practice_id)
    channels = (
        _channels_after(practice, body.email, body.phone, body.pec, body.address)
        if body.found
        else None
    )
    command = TraceResultCmd(found=body.found, channels=channels, note=body.note)
    result = await _send(temporal, practice, UpdateName.TRACE_RESULT, command)
    if body.found:
        await _save_contacts(session, practice, body.email, body.phone, body.pec, body.address)
    return result


async def _save_contacts(
    session: SessionDep,
    practice: Practice,
    email: str | None,
    phone: str | None,
    pec: str | None,
    address: AddressIn | None,
) -> None:
    # The workflow's activities wrote the row while the update ran; start from what they wrote
    # so only the contact columns change. Nothing was flushed before the update: with SQLite a
    # pending write lock would block those very activities.
    await session.refresh(practice)
    _apply_contacts(practice, email, phone, pec, address)
    try:
        await session.commit()
    except Exception as exc:
        await session.rollback()
        log.error("practice %s: contacts accepted by the workflow but not saved", practice.id)
        # sending the same contacts again is harmless to the workflow, so a retry repairs this
        raise unavailable("the new contact details could not be saved; send them again") from exc


@router.post("/disputes", status_code=status.HTTP_201_CREATED, response_model=DisputeOpened)
async def open_dispute(
    practice_id: str,
    body: DisputeIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)],
) -> DisputeOpened:
    """The debtor contests the debt (contestazione): all contact stops until the creditor
    resolves it. Returns the dispute id the resolution needs."""
    practice = await _open_practice(session, principal, practice_id)
    dispute_id = uuid.uuid4().hex
    result = await _send(
        temporal,
        practice,
        UpdateName.DISPUTE,
        DisputeCmd(dispute_id=dispute_id, reason=body.reason),
    )
    return DisputeOpened(**result.model_dump(), dispute_id=dispute_id)


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
    reduced by reduce_by) or upheld (the practice closes)."""
    practice = await _open_practice(session, principal, practice_id)
    command = DisputeResolutionCmd(
        dispute_id=dispute_id,
        upheld=body.upheld,
        reduce_by_cents=parse_euros(body.reduce_by) if body.reduce_by else None,
        note=body.note,
    )
    return await _send(
        temporal, practice, UpdateName.DISPUTE_RESOLUTION, command, ["body", "reduce_by"]
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
    practice = await load_practice(session, principal, practice_id)
    if (
        principal.role == Role.LAWYER
        and practice.lawyer_id is not None
        and practice.lawyer_id != principal.id
    ):
        raise forbidden("another lawyer is assigned to this practice")
    if practice.status == Status.CLOSED:
        raise conflict(CLOSED_MESSAGE)
    command = LegalOpinionCmd(
        recommend_action=body.recommend_action, action=body.action, note=body.note
    )
    return await _send(temporal, practice, UpdateName.LEGAL_OPINION, command)


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
    command = AuthorizationCmd(authorized=body.authorized, note=body.note)
    return await _send(temporal, practice, UpdateName.AUTHORIZATION, command)


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
    return await _send(temporal, practice, UpdateName.WITHDRAWAL, WithdrawalCmd(reason=body.reason))


@router.post("/contacts", response_model=CommandResultOut)
async def update_contacts(
    practice_id: str,
    body: ContactsIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[
        Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR, Role.FIELD_AGENT)
    ],
) -> CommandResultOut:
    """New contact details for the debtor. The workflow hears only which channels changed,
    never the values; the row is committed once the workflow has accepted the change."""
    if body.email is None and body.phone is None and body.pec is None and body.address is None:
        raise invalid(["body"], "give at least one of email, phone, pec, address")
    practice = await _open_practice(session, principal, practice_id)
    channels = _channels_after(practice, body.email, body.phone, body.pec, body.address)
    changed = [name for name in ("email", "phone", "pec", "address") if getattr(body, name)]
    result = await _send(
        temporal, practice, UpdateName.CONTACTS, ContactsCmd(channels=channels, changed=changed)
    )
    await _save_contacts(session, practice, body.email, body.phone, body.pec, body.address)
    return result


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
        temporal, practice, UpdateName.LETTER_RETURNED, LetterReturnedCmd(note=body.note)
    )
