"""The simulator's own workflow (issue 15, `simulator.py`): the simulated people's commands to a
practice, each at its moment. Those of a contact (a letter answered with a payment, a call's
outcome) at once; the later ones (a promise kept, an instalment, the creditor deciding a dispute)
after a sleep on the time-skipping server's clock. Never registered on a production worker
(`worker.WORKFLOWS`).

Why a workflow of its own and not the practice's activity: an activity that sends its practice a
command and is then retried (its deadline passed on a busy day, or the practice, paused by the
command, cancelled it) lost what it had decided after the command; a dispute's resolution, for
one, was never scheduled. Here every command is a step of a workflow that outlives any
activity, sent by an activity whose retries are safe (the world keeps each step's outcome, and
the update's id is the step's key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow

FOLLOW_UP_WORKFLOW = "SimulatedFollowUp"
FOLLOW_UP_ACTIVITY = "simulated_follow_up"
# The steps' activity runs on a task queue and worker of its own: the practices' activities
# that wait for their contact's steps hold the main worker's activity slots, and must never be
# what keeps a step from running.
FOLLOW_UP_QUEUE = "simulation-follow-up"


@dataclass
class FollowUpStep:
    key: str  # the command in the simulator's memory, and the update's id
    at: datetime | None = None  # None: at once, at the contact's own moment


@dataclass
class FollowUpInput:
    practice_id: str
    steps: list[FollowUpStep] = field(default_factory=list)  # in the order they run


@dataclass
class FollowUpActInput:
    practice_id: str
    key: str


@workflow.defn(name=FOLLOW_UP_WORKFLOW)
class SimulatedFollowUp:
    @workflow.run
    async def run(self, inp: FollowUpInput) -> None:
        for step in inp.steps:
            if step.at is not None:
                delay = step.at - workflow.now()
                if delay > timedelta(0):
                    await workflow.sleep(delay)
            # the activity holds the test server's clock while it sends the update, so the
            # practice hears it at this moment and not after a later timer
            await workflow.execute_activity(
                FOLLOW_UP_ACTIVITY,
                FollowUpActInput(inp.practice_id, step.key),
                task_queue=FOLLOW_UP_QUEUE,
                start_to_close_timeout=timedelta(minutes=10),
            )
