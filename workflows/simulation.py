"""The simulator's own workflow (issue 15, `simulator.py`): what a simulated debtor or creditor
does later, on the time-skipping server's clock: pay a promise or an instalment on its date,
decide a dispute. Never registered on a production worker (`worker.WORKFLOWS`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow

FOLLOW_UP_WORKFLOW = "SimulatedFollowUp"
FOLLOW_UP_ACTIVITY = "simulated_follow_up"


@dataclass
class FollowUpAction:
    at: datetime
    kind: str  # "payment" or "dispute_resolution"
    amount_cents: int = 0
    dispute_id: str | None = None
    upheld: bool = False


@dataclass
class FollowUpInput:
    practice_id: str
    actions: list[FollowUpAction] = field(default_factory=list)


@dataclass
class FollowUpActInput:
    practice_id: str
    action: FollowUpAction


@workflow.defn(name=FOLLOW_UP_WORKFLOW)
class SimulatedFollowUp:
    @workflow.run
    async def run(self, inp: FollowUpInput) -> None:
        for action in sorted(inp.actions, key=lambda a: a.at):
            delay = action.at - workflow.now()
            if delay > timedelta(0):
                await workflow.sleep(delay)
            # the activity holds the test server's clock while it sends the update, so the
            # practice hears it at this moment and not after a later timer
            await workflow.execute_activity(
                FOLLOW_UP_ACTIVITY,
                FollowUpActInput(inp.practice_id, action),
                start_to_close_timeout=timedelta(minutes=10),
            )
