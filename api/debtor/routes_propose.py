"""The debtor proposes a plan (a number of equal monthly instalments from a first date) or a
settlement (an amount by a day): POST /d/me/proposal, through api.services.proposals as the
API's POST /practices/{id}/proposals, the debtor as the actor.

Within the creditor's bounds the deal is in force at once and the page shows its schedule;
outside them it waits for the creditor, and the page says by which day the answer comes
(proposals.creditor_answer_by from the proposal's event). The form's one-time key is the
proposal's id: a retry that finds its proposal on the timeline shows it and sends nothing (and
a second deal while one runs is refused by the workflow anyway).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.debtor import actions
from api.debtor.access import PREFIX, VerifiedDebtor
from api.debtor.actions import N_
from api.debtor.routes_page import CONTEXT
from api.debtor.statement import practice_with_invoices
from api.deps import SessionDep, TemporalDep
from api.schemas_deals import MAX_INSTALMENTS, ProposalIn
from api.services import proposals
from api.services.debtor_links import DebtorAccess
from api.strategies import strategy_from_json
from db.models import Practice
from domain.actor import Actor, ActorKind
from domain.money import parse_euros
from domain.plans import ProposalCmd, ProposalError, ProposalKind

router = APIRouter(prefix=f"{PREFIX}/me", tags=["debtor"])

FORM = "proposal"
# a deal in these states is in course: no other proposal until it ends
IN_COURSE = ("awaiting_approval", "active", "warned")

_MESSAGES = {
    "kind": N_("Choose a plan in instalments or a settlement."),
    "instalment_count": N_("Enter a number of instalments between 1 and %(max)s."),
    "first_due_date": N_("Enter the first instalment's date: today or a later day."),
    "amount": N_("Enter an amount in euros below what is due, e.g. 800,00."),
    "settle_by": N_("Enter the day you will pay by: today or a later day."),
}
# check_proposal's fields -> the form's
_FIELDS = {
    "instalments": "first_due_date",
    "instalment_count": "instalment_count",
    "settlement": "amount",
    "settle_by": "settle_by",
}


def _amount(text: str) -> str:
    """An amount as an Italian types it (1.250,40 or 800,00) in the API's form (1250.40)."""
    text = text.strip().replace("€", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


async def _context(
    request: Request, db: AsyncSession, access: DebtorAccess, practice: Practice
) -> dict[str, Any]:
    bounds = strategy_from_json(practice.strategy).plan_bounds
    answer_by: date | None = None
    plan = (practice.snapshot or {}).get("plan")
    if isinstance(plan, dict) and plan.get("state") == "awaiting_approval":
        event = await actions.event_with(
            db, practice.id, "proposal", proposal_id=str(plan.get("proposal_id"))
        )
        if event is not None:
            answer_by = proposals.creditor_answer_by(practice, event.at)
    return {
        "proposal_key": actions.one_time_key(),
        "plan_bounds": bounds,
        "max_instalments": MAX_INSTALMENTS,
        "answer_by": answer_by,
        "deal_in_course": isinstance(plan, dict) and plan.get("state") in IN_COURSE,
        "done": request.query_params.get("done", ""),
    }


@router.post("/proposal")
async def propose(
    request: Request,
    access: VerifiedDebtor,
    db: SessionDep,
    temporal: TemporalDep,
    key: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    instalment_count: Annotated[str, Form(max_length=10)] = "",
    first_due_date: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=30)] = "",
    settle_by: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    values = {
        "kind": kind,
        "instalment_count": instalment_count,
        "first_due_date": first_due_date,
        "amount": amount,
        "settle_by": settle_by,
    }

    async def refused(errors: dict[str, str], status_code: int = 422) -> Response:
        return await actions.page_with_errors(
            request, db, access, FORM, errors, values, status_code
        )

    if not actions.valid_key(key):
        return await refused({"form": actions.EXPIRED_FORM}, 400)
    practice = await practice_with_invoices(db, access.practice_id)
    if await actions.event_with(db, practice.id, "proposal", proposal_id=key):
        return actions.done(FORM, "propose-title")  # a retry: the first one was sent
    if actions.is_closed(practice):
        return await refused({"form": actions.CLOSED}, 409)
    plan = kind == ProposalKind.PLAN.value
    try:
        body = ProposalIn.model_validate(
            {
                "kind": kind,
                "instalment_count": (instalment_count.strip() or None) if plan else None,
                "first_due_date": (first_due_date or None) if plan else None,
                "amount": (_amount(amount) or None) if not plan else None,
                "settle_by": (settle_by or None) if not plan else None,
            }
        )
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "form"
            errors.setdefault(field, _MESSAGES.get(field, actions.UNAVAILABLE))
        return await refused(errors)
    try:
        if body.kind == ProposalKind.PLAN:
            assert body.instalment_count is not None and body.first_due_date is not None
            command = proposals.plan_by_count(
                body.instalment_count, body.first_due_date, practice, source="debtor"
            )
        else:
            assert body.amount is not None and body.settle_by is not None
            command = ProposalCmd(
                proposal_id="",  # the service's to set
                kind=ProposalKind.SETTLEMENT,
                settlement_cents=parse_euros(body.amount),
                settle_by=body.settle_by,
                source="debtor",
            )
        await proposals.propose(
            db,
            temporal,
            practice,
            command,
            proposal_id=key,
            note="",
            author_id=None,
            actor=Actor(ActorKind.DEBTOR),
        )
    except ProposalError as exc:
        field = _FIELDS.get(exc.field_name, "form")
        return await refused({field: _MESSAGES.get(field, actions.UNAVAILABLE)})
    except RequestValidationError:
        # the workflow's own check of the plan against its balance of this moment
        return await refused({"form": actions.UNAVAILABLE})
    except HTTPException as exc:
        # a concurrent retry of this very form: the first one's proposal is the deal now
        if await actions.event_with(db, practice.id, "proposal", proposal_id=key):
            return actions.done(FORM, "propose-title")
        return await refused({"form": actions.refusal(exc)}, exc.status_code)
    return actions.done(FORM, "propose-title")


actions.add_section("debtor/_propose.html")
CONTEXT.append(_context)
