"""The operator's call queue: the calls the contact rules allow now, taking one (click-to-call
or the number to dial), and its outcome in one form.

Every action is the API's own handler, called as a function with the session's Principal:
GET /worklists/calls (worklists.calls), POST /worklists/calls/{id}/take (worklists.take_call),
POST /practices/{id}/call-outcomes (practice_commands.record_call_outcome). Their checks (role,
contact rules, another operator's call, the workflow's refusals) are the API's, and so are
their errors, shown on the page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal, Role, console_require
from api.console.forms import attempt, optional
from api.console.security import ConsoleRequest
from api.console.templating import render
from api.deps import NowDep, SessionDep, SettingsDep, TemporalDep, get_database
from api.routers import practice_commands, worklists
from api.schemas import CallOutcomeIn
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
        session=db, principal=principal, now=now, limit=QUEUE_LENGTH, offset=0, show_all=False
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
            "today": rome_date(now),  # the date inputs' least day, in Rome
        },
        status_code,
    )


async def _current(db: SessionDep, task_id: str, taken: dict[str, Any]) -> dict[str, Any] | None:
    """The call being worked on: its task and practice (balance, reference) beside the form."""
    task = await db.get(Task, task_id)
    practice = await db.get(Practice, task.practice_id) if task is not None else None
    if task is None or practice is None:
        return None
    return {"task": task, "practice": practice, **taken}


@router.get("/calls")
async def calls_page(
    request: Request, _r: ConsoleRequest, principal: Operator, db: SessionDep, now: NowDep
) -> Response:
    return await _queue(request, db, principal, now)


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
    current = await _current(db, task_id, {"taken": taken, "form": {}})
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
    practice_id: Annotated[str, Form(max_length=100)],
    outcome: Annotated[str, Form(max_length=50)] = "",
    promised_date: Annotated[str, Form(max_length=20)] = "",
    promised_amount: Annotated[str, Form(max_length=50)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
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
                "promised_amount": optional(promised_amount),
                "note": note,
            }
        )
        await practice_commands.record_call_outcome(
            practice_id=practice_id,
            body=body,
            session=db,
            temporal=temporal,
            principal=principal,
        )

    refused = await attempt(act)
    if refused:
        current = await _current(db, task_id, {"taken": None, "form": form})
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
    return RedirectResponse(f"{PAGE}?recorded=1", status_code=303)
