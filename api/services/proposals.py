"""A plan or settlement proposed for the debtor: the one code path of POST
/practices/{id}/proposals, the console's proposal form (api/console/proposals.py, through the
API's handler) and the debtor's page.

The proposal is checked against the balance and today (domain.plans.check_proposal: a
ProposalError names the field) and against the creditor's bounds (its strategy's plan_bounds):
within them the deal is in force at once; outside them it waits for the creditor, who is
reminded every `proposal_reminder_interval` and whose silence after `proposal_timeout` refuses
it (workflows/practice/deals.py `await_decision`). `answer_by` is that last day, so a debtor can be
told "you will have an answer by <date>".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas import CommandResultOut, NoteKind
from api.strategies import strategy_from_json
from db.models import Practice, PracticeNote
from domain.actor import Actor
from domain.calendar import rome_date
from domain.plans import (
    Instalment,
    ProposalCmd,
    ProposalKind,
    check_proposal,
    equal_instalments,
    outside_bounds,
    schedule,
)
from domain.practice import UpdateName

# the workflow starts the creditor's clock when it handles the update, moments after `now`: a
# minute's margin keeps the promised day from being the day before near midnight
_CLOCK_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True)
class ProposalOutcome:
    result: CommandResultOut
    proposal_id: str
    within_bounds: bool
    reasons: list[str]  # the creditor's bounds it is outside of; empty when within
    answer_by: date | None  # outside the bounds: the creditor answers by this day (Rome)
    schedule: list[Instalment]  # a plan's dates and amounts, the down payment first


def plan_by_count(
    count: int, first_due: date, practice: Practice, source: str = "debtor"
) -> ProposalCmd:
    """A plan of `count` equal monthly instalments from `first_due` for the practice's current
    balance (domain.plans.equal_instalments), as the debtor's page asks for one. The id is
    given by `propose`. A ProposalError names "instalment_count" when no such plan exists."""
    return ProposalCmd(
        proposal_id="",
        kind=ProposalKind.PLAN,
        instalments=equal_instalments(count, first_due, practice.balance_cents),
        source=source,
    )


def creditor_answer_by(practice: Practice, now: datetime) -> date:
    """The last day the creditor has to decide on a proposal sent at `now`: unanswered by then,
    the proposal is refused (the practice strategy's proposal_timeout)."""
    timeout = strategy_from_json(practice.strategy).duration("proposal_timeout")
    return rome_date(now + timeout + _CLOCK_MARGIN)


async def propose(
    session: AsyncSession,
    temporal: Client,
    practice: Practice,
    command: ProposalCmd,
    *,
    proposal_id: str,
    note: str,
    author_id: str | None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> ProposalOutcome:
    """Sends the proposal to the practice's workflow (already loaded, access checked, not
    closed); its note is kept once the workflow has accepted it. `actor` names the debtor when
    the debtor's page sends it (None: the request's caller). ProposalError when it cannot be a
    deal at all; refusals of the workflow as api.errors.send_update maps them."""
    # imported here: the router module imports this service's callers
    from api.routers.practice_commands import _send

    # the real clock, as the workflow's: its timers and `today` are not the tests' NowDep
    now = now or datetime.now(UTC)
    command = replace(command, proposal_id=proposal_id)
    if actor is not None:
        command = replace(command, actor=actor)
    balance = practice.balance_cents
    check_proposal(command, balance, rome_date(now))
    reasons = outside_bounds(command, balance, strategy_from_json(practice.strategy).plan_bounds)
    answer_by = creditor_answer_by(practice, now) if reasons else None
    result = await _send(
        session,
        temporal,
        practice,
        UpdateName.PROPOSAL,
        command,
        note=PracticeNote(
            practice_id=practice.id,
            author_id=author_id,
            kind=NoteKind.PROPOSAL.value,
            text=note,
        )
        if note
        else None,
    )
    return ProposalOutcome(
        result,
        proposal_id,
        not reasons,
        reasons,
        answer_by,
        schedule(command) if command.kind == ProposalKind.PLAN else [],
    )
