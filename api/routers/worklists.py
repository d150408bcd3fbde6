"""Work lists: the open tasks the workflows queued for people, each with what its role needs to
act (an operator the number to call, a field agent the address to visit)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from activities.contact_limits import MAX_ROUNDS, hold_for_task
from activities.voice import CallNotPlaced, ring_operator, voice_configured
from api.access import visible_practices
from api.auth import Principal, Role, require
from api.deps import DatabaseDep, NowDep, SessionDep, SettingsDep
from api.errors import conflict, forbidden, not_found
from api.roles import VISITORS
from api.schemas import (
    MAX_OFFSET,
    AuthorizationTask,
    CallTaken,
    CallTask,
    EndDecisionTask,
    OpinionTask,
    Page,
    TraceTask,
    VisitTask,
    euros_out,
)
from api.views import address_out
from db.contact_log import (
    conversations_since,
    opted_out_keys,
    practice_debtor_key,
    practice_regime,
    preferred_windows,
)
from db.models import Practice, Task, User
from db.session import Database
from domain.calendar import ROME, at_rome
from domain.contact_rules import (
    ITALY,
    NO_HOURS,
    ContactDecision,
    Hours,
    check_conversation,
    in_preferred_window,
    may_contact,
    week_start,
)
from domain.identifiers import normalize_phone
from domain.practice import DebtorKind

log = logging.getLogger(__name__)

router = APIRouter(prefix="/worklists", tags=["work lists"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


async def _open_tasks(
    session: SessionDep,
    kind: str,
    limit: int,
    offset: int,
    *conditions: ColumnElement[bool],
) -> tuple[list[tuple[Task, Practice]], int]:
    where = [Task.kind == kind, Task.status == "open", *conditions]
    total = await session.scalar(
        select(func.count(Task.id)).join(Practice, Practice.id == Task.practice_id).where(*where)
    )
    rows = await session.execute(
        select(Task, Practice)
        .join(Practice, Practice.id == Task.practice_id)
        .where(*where)
        # the most urgent first; tasks without a deadline after those with one
        .order_by(Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id)
        .limit(limit)
        .offset(offset)
    )
    return [(t, p) for t, p in rows], total or 0


async def _call_decisions(
    session: SessionDep,
    rows: list[tuple[Task, Practice]],
    now: datetime,
    channel: str = "call",
    *,
    contact_hours: Mapping[str, Hours] = NO_HOURS,
) -> dict[str, ContactDecision]:
    """Whether each call task's debtor may be called at `now` (domain.contact_rules): the
    window, the debtor's opt-out of calls, and the day's and week's conversations across all of
    the debtor's practices. The conversation the task itself holds (the workflow reserved it
    when it queued the call; taking the call moves it to the day of the call) is the one this
    call is for and does not hold it back. A debtor abroad: in its zone, with its country's
    holidays and hours (`practice_regime`). By task id."""
    keys = {p.id: practice_debtor_key(p) for _, p in rows}
    regimes = {p.id: practice_regime(p, contact_hours) for _, p in rows}
    opted_out = await opted_out_keys(session, keys.values(), channel)
    # from the earliest Monday of any debtor's week: east of Rome a week starts before Rome's
    since = min(
        (r.at_local(week_start(now, r)) for r in regimes.values()),
        default=at_rome(week_start(now)),
    )
    logged = await conversations_since(session, keys.values(), since)
    decisions: dict[str, ContactDecision] = {}
    for task, practice in rows:
        key = keys[practice.id]
        previous = [
            c.at
            for c in logged.get(key, [])
            if not (c.practice_id == practice.id and c.held_by(task.idempotency_key))
        ]
        decisions[task.id] = check_conversation(
            previous,
            now,
            opted_out=key in opted_out,
            channel=channel,
            regime=regimes[practice.id],
        )
    return decisions


async def _all_open_tasks(
    session: SessionDep, kind: str, *conditions: ColumnElement[bool]
) -> list[tuple[Task, Practice]]:
    rows = await session.execute(
        select(Task, Practice)
        .join(Practice, Practice.id == Task.practice_id)
        .where(Task.kind == kind, Task.status == "open", *conditions)
        .order_by(Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id)
    )
    return [(t, p) for t, p in rows]


def _common(task: Task, practice: Practice) -> dict[str, Any]:
    return {
        "id": task.id,
        "kind": task.kind,
        "practice_id": practice.id,
        "reference": practice.reference,
        "attempt": task.attempt,
        "due_at": task.due_at,
        "detail": task.detail,
        "assignee_id": task.assignee_id,
        "created_at": task.created_at,
        "balance": euros_out(practice.balance_cents),
    }


@router.get("/calls", response_model=Page[CallTask])
async def calls(
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
    now: NowDep,
    settings: SettingsDep,
    limit: Limit = 50,
    offset: Offset = 0,
    show_all: Annotated[
        bool,
        Query(
            alias="all",
            description="Admin only: also the calls the contact rules hold back now, with "
            "`callable_from` and `hold`.",
        ),
    ] = False,
) -> Page[CallTask]:
    """Calls waiting for an operator, the most urgent first; record each outcome with
    POST /practices/{id}/call-outcomes.

    Only the calls that may be made now (UNIREC code of conduct, Europe/Rome): Monday-Friday
    08:30-21:00 and Saturday 08:30-15:00, never on Sundays or public holidays; not to a debtor
    who opted out of calls; not to a debtor who already had a conversation today or three this
    week (Monday-Sunday), across all of its practices and creditors. A debtor abroad: the
    hours in its own time zone (the Italian code's, or those the agency set for its country),
    never on its country's public holidays, the same limits on its own calendar days."""
    if show_all and principal.role != Role.ADMIN:
        raise forbidden("only an admin sees the calls the contact rules hold back")
    # outside Rome's hours only debtors abroad may be callable (their own hours, elsewhere)
    conditions = [] if show_all or may_contact(now) else [Practice.country != ITALY.country]
    # filtered here: the limits depend on each debtor's conversations across practices
    rows = await _all_open_tasks(session, "call", *conditions)
    decisions = await _call_decisions(session, rows, now, contact_hours=settings.contact_hours)
    listed = [(t, p, decisions[t.id]) for t, p in rows if show_all or decisions[t.id].allowed]
    # the debtor's preferred time of day orders the queue, never what it holds: first the calls
    # whose debtor prefers now, then those without a preference, then those preferring another
    # time (the urgency order within each; a stable sort)
    windows = await preferred_windows(session, {practice_debtor_key(p) for _, p, _d in listed})

    def preference(practice: Practice) -> str | None:
        return windows.get(practice_debtor_key(practice))

    def rank(practice: Practice) -> int:
        window = preference(practice)
        if window is None:
            return 1
        regime = practice_regime(practice, settings.contact_hours)
        return 0 if in_preferred_window(now, window, regime) else 2

    listed.sort(key=lambda row: rank(row[1]))
    items = [
        CallTask(
            **_common(t, p),
            debtor_name=p.debtor_name,
            phone=p.phone,
            preferred_window=preference(p),
            callable_now=d.allowed,
            callable_from=d.next_slot,
            hold=None if d.allowed else d.reason,
        )
        for t, p, d in listed[offset : offset + limit]
    ]
    return Page[CallTask](items=items, total=len(listed), limit=limit, offset=offset)


TAKEN_BY_ANOTHER = "another operator took this call"
CONTENDED = "the debtor's conversations kept changing while taking the call; take it again"
NOT_OPEN = "this call is no longer open: its outcome was recorded or the practice moved on"


def _held_back(decision: ContactDecision) -> HTTPException:
    when = (
        f"; it may be made from {decision.next_slot.astimezone(ROME).isoformat()}"
        if decision.next_slot is not None
        else ""
    )
    return conflict(f"the contact rules hold this call back now: {decision.reason}{when}")


async def claim_call(
    db: Database,
    task: Task,
    practice: Practice,
    operator_id: str,
    now: datetime,
    *,
    contact_hours: Mapping[str, Hours] = NO_HOURS,
) -> None:
    """The take itself, in one transaction: the task becomes the operator's and the debtor's
    conversation is held for `now`'s day (activities.contact_limits.hold_for_task), or
    neither happens (409). The unique constraints of `conversation_days` decide between two
    practices of the debtor taken at once: the loser reads again and is refused by the rule."""
    key = practice_debtor_key(practice)
    regime = practice_regime(practice, contact_hours)
    for _ in range(MAX_ROUNDS):
        async with db.session() as session:
            try:
                # one statement decides between two operators taking the same call at once;
                # it also writes first, which on SQLite takes the write lock before the reads
                claimed = await session.execute(
                    update(Task)
                    .where(
                        Task.id == task.id,
                        Task.status == "open",
                        or_(Task.assignee_id.is_(None), Task.assignee_id == operator_id),
                    )
                    .values(assignee_id=operator_id)
                    .execution_options(synchronize_session=False)
                )
                if cast(CursorResult[Any], claimed).rowcount != 1:
                    await session.rollback()
                    current = await session.scalar(select(Task.status).where(Task.id == task.id))
                    raise conflict(NOT_OPEN if current != "open" else TAKEN_BY_ANOTHER)
                opted_out = bool(await opted_out_keys(session, [key], "call"))
                decision = await hold_for_task(
                    session,
                    practice_id=practice.id,
                    debtor_key=key,
                    opted_out=opted_out,
                    task_key=task.idempotency_key,
                    at=now,
                    regime=regime,
                )
                if not decision.allowed:
                    await session.rollback()
                    raise _held_back(decision)
                await session.commit()
                return
            except IntegrityError:
                await session.rollback()  # another conversation of the debtor came first
    raise conflict(CONTENDED)


def _debtor_phone(practice: Practice) -> str | None:
    """The number to dial: None when missing, marked invalid or not a phone number."""
    if not practice.phone or "phone" in (practice.invalid_channels or []):
        return None
    try:
        return normalize_phone(practice.phone)
    except ValueError:
        return None


@router.post(
    "/calls/{task_id}/take",
    response_model=CallTaken,
    responses={
        403: {"description": "Wrong role."},
        404: {"description": "No call with this id."},
        409: {
            "description": "The call is taken by another operator, no longer open, held back "
            "by the contact rules now (the reason is in `detail`), or the debtor has no usable "
            "number."
        },
        502: {"description": "Twilio did not place the call; the call stays yours."},
    },
)
async def take_call(
    task_id: str,
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
    now: NowDep,
    settings: SettingsDep,
    db: DatabaseDep,
) -> CallTaken:
    """The operator takes a call from the queue (the task's `assignee_id` becomes the operator;
    taking it again is allowed, another operator gets 409) and is connected to the debtor.

    The call must be one the queue shows now: inside the contact hours, the debtor not opted
    out of calls, within the debtor's daily and weekly conversations (GET /worklists/calls).
    Taking it holds the debtor's conversation for today (a conversation counts on the day it
    happens, whatever day the call was queued); the workflow gives it back when the outcome
    says nobody answered. A debtor whose day or week is already full is a 409 naming the rule.

    With Twilio configured and a phone on the operator's user, Twilio rings the operator's
    phone and, once answered, dials the debtor from the agency's number: a live operator on
    the line, never a recording (`connected: ringing_operator`, `call_sid`). Otherwise the
    answer gives the debtor's number to dial by hand (`connected: manual`, `phone`); nothing
    pretends to call. Either way the outcome is recorded with POST
    /practices/{id}/call-outcomes."""
    task = await session.get(Task, task_id)
    if task is None or task.kind != "call":
        raise not_found("call")
    if task.status != "open":
        raise conflict(NOT_OPEN)
    if task.assignee_id not in (None, principal.id):
        raise conflict(TAKEN_BY_ANOTHER)
    practice = await session.get(Practice, task.practice_id)
    if practice is None:
        raise not_found("call")
    debtor_phone = _debtor_phone(practice)
    if debtor_phone is None:
        raise conflict("the debtor has no usable phone number (missing or marked invalid)")
    # the reads above end here: the take writes in a transaction of its own
    await session.commit()
    await claim_call(db, task, practice, principal.id, now, contact_hours=settings.contact_hours)
    taken = {"task_id": task_id, "practice_id": practice.id, "assignee_id": principal.id}

    operator = await session.get(User, principal.id)
    operator_phone = operator.phone if operator is not None else None
    if not (voice_configured(settings) and operator_phone):
        log.info("call task %s taken by user %s: to dial by hand", task_id, principal.id)
        return CallTaken(**taken, connected="manual", phone=debtor_phone)
    try:
        sid = await ring_operator(settings, operator_phone, debtor_phone)
    except CallNotPlaced as exc:
        raise HTTPException(
            status_code=status.HTTP_502_BAD_GATEWAY,
            detail=f"{exc}. The call stays yours: take it again, or dial by hand.",
        ) from None
    log.info("call task %s taken by user %s: Twilio call %s", task_id, principal.id, sid)
    return CallTaken(**taken, connected="ringing_operator", call_sid=sid)


@router.get("/visits", response_model=Page[VisitTask])
async def visits(
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, *VISITORS)],
    now: NowDep,
    settings: SettingsDep,
    limit: Limit = 50,
    offset: Offset = 0,
    unassigned: Annotated[
        bool,
        Query(
            description="Only the visits nobody was assigned: debtors abroad whose country no "
            "foreign correspondent covers (the admin's list; a visitor's own list has none)."
        ),
    ] = False,
) -> Page[VisitTask]:
    """Home visits: a field agent or foreign correspondent sees those assigned to it, the admin
    all (those waiting for a correspondent say so in `unassigned_reason`). Each says whether
    the contact rules allow it now and, if not, why and from when: a visit is a conversation
    (the hours, one a day and three a week across all of the debtor's practices)."""
    conditions = [] if principal.role == Role.ADMIN else [Task.assignee_id == principal.id]
    if unassigned:
        conditions.append(Task.assignee_id.is_(None))
    rows, total = await _open_tasks(session, "visit", limit, offset, *conditions)
    decisions = await _call_decisions(
        session, rows, now, channel="visit", contact_hours=settings.contact_hours
    )
    items = [
        VisitTask(
            **_common(t, p),
            debtor_name=p.debtor_name,
            phone=p.phone,
            address=address_out(p),
            visitable_now=decisions[t.id].allowed,
            visitable_from=decisions[t.id].next_slot,
            hold=None if decisions[t.id].allowed else decisions[t.id].reason,
            unassigned_reason=_unassigned_reason(t, p),
        )
        for t, p in rows
    ]
    return Page[VisitTask](items=items, total=total, limit=limit, offset=offset)


NO_CORRESPONDENT = (
    "no foreign correspondent covers %(country)s: assign the visit (POST "
    "/practices/{id}/visit/assignee), invite a correspondent for %(country)s (Users: it takes "
    "the waiting visits of its countries), or record the outcome yourself"
)


def _unassigned_reason(task: Task, practice: Practice) -> str | None:
    """Why a visit has nobody (activities.worklists.assign_field_agent): the country the
    admin needs a correspondent for. The workflow never hears the country; this list does."""
    if task.assignee_id is not None:
        return None
    return NO_CORRESPONDENT % {"country": practice.country}


@router.get("/opinions", response_model=Page[OpinionTask])
async def opinions(
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.LAWYER)],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[OpinionTask]:
    """Requests for a legal opinion: a lawyer sees those of the practices assigned to it
    (api.access), the admin all."""
    conditions = [visible_practices(principal)]
    rows, total = await _open_tasks(session, "opinion", limit, offset, *conditions)
    items = [
        OpinionTask(
            **_common(t, p),
            debtor_kind=DebtorKind(p.debtor_kind),
            debtor_name=p.debtor_name,
            claim=euros_out(p.claim_cents),
        )
        for t, p in rows
    ]
    return Page[OpinionTask](items=items, total=total, limit=limit, offset=offset)


@router.get("/overdue-opinions", response_model=Page[OpinionTask])
async def overdue_opinions(
    session: SessionDep,
    _principal: Annotated[Principal, require(Role.ADMIN)],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[OpinionTask]:
    """Requests for a legal opinion still unanswered after the strategy's reminders
    (`opinion_reminders`, one every `opinion_timeout`): the lawyer is no longer reminded and the
    admin chases it. `assignee_id` is the lawyer asked; `detail` says how many reminders went.
    The request leaves this list when the opinion is recorded."""
    rows, total = await _open_tasks(session, "opinion_overdue", limit, offset)
    items = [
        OpinionTask(
            **{**_common(t, p), "assignee_id": p.lawyer_id},
            debtor_kind=DebtorKind(p.debtor_kind),
            debtor_name=p.debtor_name,
            claim=euros_out(p.claim_cents),
        )
        for t, p in rows
    ]
    return Page[OpinionTask](items=items, total=total, limit=limit, offset=offset)


@router.get("/traces", response_model=Page[TraceTask])
async def traces(
    session: SessionDep,
    _principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[TraceTask]:
    """Skip tracing to do: the debtor's identifiers and last known contacts; report with
    POST /practices/{id}/trace-results."""
    rows, total = await _open_tasks(session, "trace", limit, offset)
    items = [
        TraceTask(
            **_common(t, p),
            debtor_kind=DebtorKind(p.debtor_kind),
            debtor_name=p.debtor_name,
            tax_code=p.debtor_tax_code,
            vat_number=p.debtor_vat_number,
            last_address=address_out(p),
            invalid_channels=list(p.invalid_channels or []),
        )
        for t, p in rows
    ]
    return Page[TraceTask](items=items, total=total, limit=limit, offset=offset)


@router.get("/authorizations", response_model=Page[AuthorizationTask])
async def authorizations(
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AuthorizationTask]:
    """Practices waiting for the creditor's authorisation of judicial action; answer with
    POST /practices/{id}/legal-authorization."""
    conditions = (
        [] if principal.role == Role.ADMIN else [Practice.creditor_id == principal.creditor_id]
    )
    rows, total = await _open_tasks(session, "authorization", limit, offset, *conditions)
    items = [AuthorizationTask(**_common(t, p), claim=euros_out(p.claim_cents)) for t, p in rows]
    return Page[AuthorizationTask](items=items, total=total, limit=limit, offset=offset)


@router.get("/end-decisions", response_model=Page[EndDecisionTask])
async def end_decisions(
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EndDecisionTask]:
    """Practices whose court steps ended with nothing left to do, waiting for the creditor to
    close them as uncollectable or keep them under watch; answer with
    POST /practices/{id}/end-decision."""
    rows, total = await _open_tasks(
        session, "end_decision", limit, offset, visible_practices(principal)
    )
    items = [EndDecisionTask(**_common(t, p), claim=euros_out(p.claim_cents)) for t, p in rows]
    return Page[EndDecisionTask](items=items, total=total, limit=limit, offset=offset)
