"""The operator's call queue: the calls the contact rules allow now, taking one (click-to-call
or the number to dial), its outcome in one form, and beside it a plan or settlement proposal
and the new contacts learned on the call.

Every action is the API's own handler, called as a function with the session's Principal:
GET /worklists/calls (worklists.calls), POST /worklists/calls/{id}/take (worklists.take_call),
POST /practices/{id}/call-outcomes (practice_commands.record_call_outcome), POST
/practices/{id}/proposals (deals.propose, through api/console/proposals.py, as the field
agent's) and POST /practices/{id}/contacts (practice_commands.update_contacts). Their checks
(role, contact rules, another operator's call, the workflow's refusals) are the API's, and so
are their errors, shown on the page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal, Role, console_require
from api.console.forms import Refused, attempt, euros, optional
from api.console.proposals import PLAN_ROWS, proposal_form, send_proposal
from api.console.security import ConsoleRequest
from api.console.templating import render
from api.deps import NowDep, SessionDep, SettingsDep, TemporalDep, get_database, get_settings
from api.errors import not_found
from api.routers import practice_commands, practices, worklists
from api.schemas import CallOutcomeIn, ContactsIn
from db.models import Practice, Task
from domain.calendar import rome_date
from domain.practice import CallOutcome

router = APIRouter(prefix="/operator", tags=["console"])

Operator = Annotated[Principal, console_require(Role.ADMIN, Role.OPERATOR)]
PAGE = "/console/operator/calls"
QUEUE_LENGTH = 50


async def _queue(
    request: Request,
    db: SessionDep,
    principal: Principal,
    now: datetime,
    *,
    current: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    queue = await worklists.calls(
        session=db,
        principal=principal,
        now=now,
        settings=get_settings(request),
        limit=QUEUE_LENGTH,
        offset=0,
        show_all=False,
    )
    return render(
        request,
        "console/operator_calls.html",
        {
            "queue": queue,
            "current": current,
            "outcomes": list(CallOutcome),
            "errors": errors or {},
            "refusal": refusal,
            "plan_rows": PLAN_ROWS,
            "today": rome_date(now),  # the date inputs' least day, in Rome
        },
        status_code,
    )


# how much of the practice's history the call shows beside its forms (the whole is one link away)
RECENT_EVENTS = 6
RECENT_NOTES = 3


async def _current(
    db: SessionDep, principal: Principal, task_id: str, taken: dict[str, Any]
) -> dict[str, Any] | None:
    """The call being worked on: its task and practice beside the forms (balance, the promise
    if one runs, the latest of its timeline and notes, as the practice's page shows them);
    `taken` adds what the page shows of it (the connection, each form's values and errors)."""
    # the session may hold the practice as a command loaded it (without its invoices): the
    # page reads it afresh, as GET /practices/{id} would (routes_practice does the same)
    db.expunge_all()
    task = await db.get(Task, task_id)
    if task is None:
        return None
    # the view first: it loads the practice with its invoices, which db.get then finds
    view = await practices.get_practice(
        practice_id=task.practice_id, session=db, principal=principal
    )
    practice = await db.get(Practice, task.practice_id)
    if practice is None:
        return None
    events = await practices.list_events(practice_id=practice.id, session=db, principal=principal)
    notes = await practices.list_notes(practice_id=practice.id, session=db, principal=principal)
    shown: dict[str, Any] = {"taken": None, "form": {}, "offer": {}, "contacts": {}}
    return {
        "task": task,
        "practice": practice,
        "view": view,
        "events": list(reversed(events))[:RECENT_EVENTS],
        "notes": list(reversed(notes))[:RECENT_NOTES],
        "section": None,
        **shown,
        **taken,
    }


async def _call(db: SessionDep, task_id: str) -> Task:
    """A call task (the outcome, proposal and contacts forms name the call, not the practice);
    any other id is the API's 404."""
    task = await db.get(Task, task_id)
    if task is None or task.kind != "call":
        raise not_found("call")
    return task


async def _refused(
    request: Request,
    db: SessionDep,
    principal: Principal,
    now: datetime,
    task_id: str,
    shown: dict[str, Any],
    refused: Refused,
) -> Response:
    """The queue with the call open again, the refused form as typed (`shown`: its values and
    which section they belong to) and the API's messages next to its fields."""
    current = await _current(db, principal, task_id, shown)
    return await _queue(
        request,
        db,
        principal,
        now,
        current=current,
        errors=refused.errors,
        refusal=refused.message,
        status_code=refused.status_code,
    )


@router.get("/calls")
async def calls_page(
    request: Request,
    _r: ConsoleRequest,
    principal: Operator,
    db: SessionDep,
    now: NowDep,
    call: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    # back on the call after a proposal or new contacts: shown only while it is still this
    # operator's open call (what taking it gave them)
    task = await db.get(Task, call) if call else None
    current = None
    if task is not None and task.kind == "call" and task.status == "open":
        if task.assignee_id == principal.id:
            current = await _current(db, principal, task.id, {})
    return await _queue(request, db, principal, now, current=current)


@router.post("/calls/{task_id}/take")
async def take(
    request: Request,
    task_id: str,
    _r: ConsoleRequest,
    principal: Operator,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    try:
        taken = await worklists.take_call(
            task_id=task_id,
            session=db,
            principal=principal,
            now=now,
            settings=settings,
            db=get_database(request),
        )
    except HTTPException as exc:
        if exc.status_code in (403, 404):
            raise  # the refusal page, as forms.attempt() answers them
        # the API's own status (409 taken or held back, 502 Twilio did not place the call)
        return await _queue(
            request, db, principal, now, refusal=str(exc.detail), status_code=exc.status_code
        )
    current = await _current(db, principal, task_id, {"taken": taken})
    return await _queue(request, db, principal, now, current=current)


@router.post("/calls/{task_id}/outcome")
async def outcome(
    request: Request,
    task_id: str,
    _r: ConsoleRequest,
    principal: Operator,
    db: SessionDep,
    now: NowDep,
    temporal: TemporalDep,
    outcome: Annotated[str, Form(max_length=50)] = "",
    promised_date: Annotated[str, Form(max_length=20)] = "",
    promised_amount: Annotated[str, Form(max_length=50)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    # the practice is the call's, never a field of the form: a form cannot record one call's
    # outcome on another practice
    task = await _call(db, task_id)
    form = {
        "outcome": outcome,
        "promised_date": promised_date,
        "promised_amount": promised_amount,
        "note": note,
    }

    async def act() -> None:
        # the fields as the API receives them in JSON: the same parsing, the same messages
        body = CallOutcomeIn.model_validate(
            {
                "outcome": outcome,
                "promised_date": optional(promised_date),
                "promised_amount": euros(promised_amount),
                "note": note,
            }
        )
        await practice_commands.record_call_outcome(
            practice_id=task.practice_id,
            body=body,
            session=db,
            temporal=temporal,
            principal=principal,
        )

    refused = await attempt(act)
    if refused:
        return await _refused(
            request, db, principal, now, task_id, {"form": form, "section": "outcome"}, refused
        )
    return RedirectResponse(f"{PAGE}?recorded=1", status_code=303)


@router.post("/calls/{task_id}/proposal")
async def propose(
    request: Request,
    task_id: str,
    _r: ConsoleRequest,
    principal: Operator,
    db: SessionDep,
    now: NowDep,
    temporal: TemporalDep,
) -> Response:
    """A plan or settlement agreed on the call: the field agent's form and handler."""
    task = await _call(db, task_id)
    form = proposal_form(await request.form())
    refused = await send_proposal(
        task.practice_id, form, db=db, temporal=temporal, principal=principal
    )
    if refused:
        return await _refused(
            request, db, principal, now, task_id, {"offer": form, "section": "proposal"}, refused
        )
    # back on the call: its outcome is still to record
    return RedirectResponse(f"{PAGE}?call={task_id}&proposed=1", status_code=303)


@router.post("/calls/{task_id}/contacts")
async def contacts(
    request: Request,
    task_id: str,
    _r: ConsoleRequest,
    principal: Operator,
    db: SessionDep,
    now: NowDep,
    temporal: TemporalDep,
    email: Annotated[str, Form(max_length=400)] = "",
    phone: Annotated[str, Form(max_length=100)] = "",
    pec: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """New contacts the debtor gave on the call: POST /practices/{id}/contacts's handler (the
    workflow hears only which channels changed)."""
    task = await _call(db, task_id)
    form = {"email": email, "phone": phone, "pec": pec}

    async def act() -> None:
        body = ContactsIn.model_validate({name: optional(value) for name, value in form.items()})
        await practice_commands.update_contacts(
            practice_id=task.practice_id,
            body=body,
            session=db,
            temporal=temporal,
            principal=principal,
        )

    refused = await attempt(act)
    if refused:
        return await _refused(
            request, db, principal, now, task_id, {"contacts": form, "section": "contacts"}, refused
        )
    return RedirectResponse(f"{PAGE}?call={task_id}&contacts=1", status_code=303)
