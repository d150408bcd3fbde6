"""Deals with the debtor and closures that are not payment: commands to a practice's workflow.

- POST /practices/{id}/proposals (admin, operator, field agent, creditor): a repayment plan or a
  settlement. The API names it (proposal_id), checks it can be a deal at all against the
  practice's current balance and today in Rome (domain.plans.check_proposal: 422 naming the
  field) and tells whether it is within the creditor's bounds (domain.plans.outside_bounds
  with the practice's strategy); the workflow decides (UpdateName.PROPOSAL): a second deal
  while one runs is a 409.
- POST /practices/{id}/proposals/{proposal_id}/decision (admin, creditor): the creditor approves
  or refuses a proposal outside its bounds (UpdateName.PROPOSAL_DECISION).
- POST /practices/{id}/closure (admin, creditor, operator, field agent): the debtor died, is in
  an insolvency procedure or cannot pay (UpdateName.CLOSURE).

A field agent sends these only on the practices assigned to it (the ones whose debtor it meets).
Notes are kept as practice notes once the workflow has accepted the command, never sent to it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.access import load_practice, practice_boundary
from api.auth import Principal, Role, require
from api.deps import SessionDep, TemporalDep
from api.errors import CLOSED_MESSAGE, conflict, forbidden, invalid
from api.roles import VISITORS
from api.routers.practice_commands import _note, _send
from api.schemas import CommandResultOut, NoteKind, euros_out
from api.schemas_deals import (
    ClosureIn,
    ProposalDecisionIn,
    ProposalIn,
    ProposalOut,
    ScheduledInstalment,
)
from api.services import proposals
from db.models import Practice
from domain.money import parse_euros
from domain.plans import (
    ClosureCmd,
    Instalment,
    ProposalCmd,
    ProposalDecisionCmd,
    ProposalError,
    ProposalKind,
)
from domain.practice import Status, UpdateName

router = APIRouter(
    prefix="/practices/{practice_id}",
    # another's practice is a 403 before its body is read (api/access.py)
    dependencies=[Depends(practice_boundary)],
    tags=["deals"],
    responses={
        403: {
            "description": "Wrong role, another creditor's / territory's practice, or a field "
            "agent not assigned to it."
        },
        404: {"description": "Unknown practice."},
        409: {
            "description": "The practice is closed, a deal is already running, or nothing "
            "waits for this decision."
        },
        422: {"description": "Bad input; `loc` names the field."},
    },
)

# check_proposal's field names -> the request's
_PROPOSAL_LOC: dict[str, list[str | int]] = {
    "instalments": ["body", "instalments"],
    "instalment_count": ["body", "instalment_count"],
    "down_payment": ["body", "down_payment"],
    "settlement": ["body", "amount"],
    "settle_by": ["body", "settle_by"],
}


async def _practice_for(session: SessionDep, principal: Principal, practice_id: str) -> Practice:
    """The open practice, if the caller may act on it."""
    practice = await load_practice(session, principal, practice_id)
    if principal.role in VISITORS and practice.field_agent_id != principal.id:
        raise forbidden("only the field agent assigned to this practice acts on it")
    if practice.status == Status.CLOSED:
        raise conflict(CLOSED_MESSAGE)
    return practice


def _command(body: ProposalIn, proposal_id: str, source: str, practice: Practice) -> ProposalCmd:
    if body.kind == ProposalKind.PLAN and body.instalment_count is not None:
        assert body.first_due_date is not None  # the request model requires it with a count
        # the id is the service's to set (proposals.propose)
        return proposals.plan_by_count(
            body.instalment_count, body.first_due_date, practice, source=source
        )
    if body.kind == ProposalKind.PLAN:
        down = body.down_payment
        return ProposalCmd(
            proposal_id=proposal_id,
            kind=ProposalKind.PLAN,
            instalments=[Instalment(i.due_date, parse_euros(i.amount)) for i in body.instalments],
            down_payment=Instalment(down.due_date, parse_euros(down.amount)) if down else None,
            source=source,
        )
    assert body.amount is not None  # the request model requires it for a settlement
    return ProposalCmd(
        proposal_id=proposal_id,
        kind=ProposalKind.SETTLEMENT,
        settlement_cents=parse_euros(body.amount),
        settle_by=body.settle_by,
        source=source,
    )


@router.post("/proposals", status_code=status.HTTP_201_CREATED, response_model=ProposalOut)
async def propose(
    practice_id: str,
    body: ProposalIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, *VISITORS, Role.CREDITOR)],
) -> ProposalOut:
    """A repayment plan (piano di rientro) or a settlement (saldo e stralcio) agreed with the
    debtor.

    A plan's amounts (down payment included) must add up to the practice's current balance, its
    dates increase and none is in the past; a settlement is below the balance, by a day not in
    the past: otherwise a 422 naming the field. Within the creditor's bounds the deal is in
    force at once (`within_bounds`: true; the practice pauses while it runs); outside them it
    waits for the creditor's decision (`within_bounds`: false, `reasons` say which bounds).
    A deal while another runs or waits is a 409. Returns the proposal id the decision needs.

    A plan may instead be `instalment_count` equal monthly instalments for the balance from
    `first_due_date` (the day kept, or the month's last); `schedule` shows the dates and
    amounts. Outside the bounds, `answer_by` is the last day the creditor has to decide.
    """
    practice = await _practice_for(session, principal, practice_id)
    proposal_id = uuid.uuid4().hex
    try:
        command = _command(body, proposal_id, principal.role.value, practice)
        outcome = await proposals.propose(
            session,
            temporal,
            practice,
            command,
            proposal_id=proposal_id,
            note=body.note,
            author_id=principal.id,
        )
    except ProposalError as exc:
        loc = _PROPOSAL_LOC.get(exc.field_name, ["body"])
        if body.instalment_count is not None and exc.field_name == "instalments":
            # a plan built from a count fails only on its dates: the first one was given
            loc = ["body", "first_due_date"]
        raise invalid(loc, exc.message) from exc
    return ProposalOut(
        **outcome.result.model_dump(),
        proposal_id=proposal_id,
        within_bounds=outcome.within_bounds,
        reasons=outcome.reasons,
        schedule=[
            ScheduledInstalment(due_date=i.due_date, amount=euros_out(i.amount_cents))
            for i in outcome.schedule
        ],
        answer_by=outcome.answer_by,
    )


@router.post("/proposals/{proposal_id}/decision", response_model=CommandResultOut)
async def decide_proposal(
    practice_id: str,
    proposal_id: str,
    body: ProposalDecisionIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)],
) -> CommandResultOut:
    """The creditor's decision on a proposal outside its bounds: approved, the deal is in force;
    refused, collection resumes. 409 when this proposal is not waiting for a decision."""
    practice = await _practice_for(session, principal, practice_id)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.PROPOSAL_DECISION,
        ProposalDecisionCmd(proposal_id=proposal_id, approved=body.approved),
        note=_note(principal, practice, NoteKind.PROPOSAL_DECISION, body.note),
    )


@router.post("/closure", response_model=CommandResultOut)
async def close(
    practice_id: str,
    body: ClosureIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.CREDITOR, Role.OPERATOR, *VISITORS)],
) -> CommandResultOut:
    """Closes the practice for a reason that is not payment: the debtor died (deceased), is in
    an insolvency procedure (insolvency: the creditor files its claim with the receiver) or
    cannot pay (unable_to_pay). Contact stops, the creditor is told; the outcome is the
    reason."""
    practice = await _practice_for(session, principal, practice_id)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.CLOSURE,
        ClosureCmd(reason=body.reason),
        note=_note(principal, practice, NoteKind.CLOSURE, body.note),
    )
