"""The plan and the court steps continue as new (issue 14), on the time-skipping test server.

Each scenario runs twice: once without a history bound (one run, as every plan and court step
before) and once with a small one; the court steps side by side on one clock (the same dates), the
plans one after the other (compared by instalment). The two must end in the same state, tell the
parent the same things, and write each event once; the bounded one must have gone through several
runs, each under the bound. See docs/ARCHITECTURE.md "Continue-as-new"."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TypeVar

from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.calendar import rome_date
from domain.judicial import (
    DecreeCmd,
    FilingCmd,
    JudicialInput,
    JudicialUpdate,
    LawsuitOutcome,
    LawsuitUpdateCmd,
    OppositionCmd,
    PignoramentoCmd,
    PignoramentoOutcomeCmd,
    PrecettoCmd,
    SeizureOutcome,
    ServiceCmd,
    judicial_workflow_id,
)
from domain.plans import PlanInput, equal_instalments
from domain.practice import CommandResult
from tests.histories.replay import replayer
from tests.workflows.fakes import FakeWorld
from tests.workflows.parents import (
    HandoverParent,
    JudicialParent,
    PlanParent,
    PlanParentInput,
    PlanParentResult,
)
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow

T = TypeVar("T")

PLAN_BOUND = 400  # events: a run holds about a dozen instalments
JUDICIAL_BOUND = 250  # a run holds two or three stretches between the lawyer's turns


async def run_histories(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of a workflow id, first to last, walking back from the newest run."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.insert(0, history)
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return runs
        run_id = started.continued_execution_run_id


async def replay(runs: list[WorkflowHistory]) -> None:
    """Each run replays on the code: the hand-over decided alike (no non-determinism)."""
    replaying = replayer(pydantic_data_converter)
    for run in runs:
        await replaying.replay_workflow(run)


def started_input(history: WorkflowHistory, kind: type[T]) -> T:
    """The input a run started with (a continued run's carries the state handed over)."""
    payloads = history.events[0].workflow_execution_started_event_attributes.input.payloads
    value: T = pydantic_data_converter.payload_converter.from_payloads(payloads, [kind])[0]
    return value


def last_event(history: WorkflowHistory) -> str:
    return history.events[-1].WhichOneof("attributes") or ""


@asynccontextmanager
async def workers(env: WorkflowEnvironment, *worlds: FakeWorld) -> AsyncIterator[list[str]]:
    """A worker per world (its own task queue), so the two runs' activities stay apart."""
    queues = [f"can-{uuid.uuid4().hex}" for _ in worlds]
    async with AsyncExitStack() as stack:
        for queue, world in zip(queues, worlds, strict=True):
            await stack.enter_async_context(
                Worker(
                    env.client,
                    task_queue=queue,
                    workflows=[
                        PlanWorkflow,
                        JudicialWorkflow,
                        PlanParent,
                        JudicialParent,
                        HandoverParent,
                    ],
                    activities=world.activities(),
                )
            )
        yield queues


# --- the plan ---------------------------------------------------------------------------------


def progress_rows(inp: PlanInput, result: PlanParentResult) -> list[tuple[str, int, int, int]]:
    """What the parent heard, with each due date as the days a dispute moved it."""
    return [
        (
            p.kind,
            p.instalment,
            (p.due_date - inp.instalments[p.instalment - 1].due_date).days,
            p.outstanding_cents,
        )
        for p in result.progress
    ]


async def test_a_ten_year_plan_continues_as_new_and_ends_as_in_one_run(env) -> None:
    """120 monthly instalments: one paid late (after the warning, which the next run must
    remember: a second miss breaks the plan), a dispute that holds across a hand-over and moves
    the dates still ahead. Every instalment is reminded and reported exactly once."""
    worlds = [FakeWorld(), FakeWorld()]
    inputs: list[PlanInput] = []
    results: list[PlanParentResult] = []
    histories: list[list[WorkflowHistory]] = []
    async with workers(env, *worlds) as queues:
        # one after the other: two ten-year plans run at once on the time-skipping server came
        # out differently (one kept when run alone broke or timed out)
        for bound, queue in zip([None, PLAN_BOUND], queues, strict=True):
            today = rome_date(await env.get_current_time())
            practice_id = uuid.uuid4().hex
            plan = PlanInput(
                practice_id=practice_id,
                parent_workflow_id="",  # the parent's own id, filled in by the parent
                proposal_id="p1",
                # the time-skipping server ends any run at ten years (3,650 days; it caps a
                # longer timeout asked for): the plan in one run must end before, so it starts
                # in five days
                instalments=equal_instalments(120, today + timedelta(days=5), 1_200_000),
                history_bound=bound,
            )
            inputs.append(plan)
            results.append(
                await env.client.execute_workflow(
                    PlanParent.run,
                    PlanParentInput(
                        plan=plan,
                        plan_id=f"plan-{practice_id}",
                        late=[37],
                        # the run hands over after instalment 63 (13 instalments a run, the
                        # warning's events before): a dispute opened at its reminder still holds
                        dispute_at=63,
                        dispute_days=10,
                    ),
                    id=f"parent-{practice_id}",
                    task_queue=queue,
                )
            )
            histories.append(await run_histories(env.client, f"plan-{practice_id}"))

    one, bounded = results
    assert one.outcome == bounded.outcome == "kept"
    assert progress_rows(inputs[0], one) == progress_rows(inputs[1], bounded)
    assert one.paid_cents == bounded.paid_cents == 1_200_000
    # each instalment reminded once, the late one warned once, the end said once
    kinds = [(p.kind, p.instalment) for p in bounded.progress]
    assert [n for k, n in kinds if k == "plan_reminder"] == list(range(1, 121))
    assert [n for k, n in kinds if k == "plan_warning"] == [37]
    assert kinds[-1] == ("plan_kept", 120)
    # the dispute's ten days moved the instalments after it, not those before
    rows = progress_rows(inputs[1], bounded)
    assert {shift for _, n, shift, _ in rows if n <= 63} == {0}
    assert {shift for _, n, shift, _ in rows if n > 63} == {10}
    # the messages to the debtor: one reservation and one reminder per key, in both
    for world in worlds:
        keys = [r.idempotency_key for r in world.reservations]
        assert len(keys) == len(set(keys)) == 121  # 120 reminders and the warning
        assert len(world.reminders) == 121
    assert [r.idempotency_key for r in worlds[0].reminders] == [
        r.idempotency_key.replace(inputs[1].practice_id, inputs[0].practice_id)
        for r in worlds[1].reminders
    ]

    single, runs = histories
    assert len(single) == 1 and last_event(single[0]) == (
        "workflow_execution_completed_event_attributes"
    )
    assert len(runs) >= 5, [len(r.events) for r in runs]
    for run in runs[:-1]:
        assert last_event(run) == "workflow_execution_continued_as_new_event_attributes"
    # every run under the bound, where the single run grew to thousands
    assert max(len(r.events) for r in runs) < PLAN_BOUND, [len(r.events) for r in runs]
    await replay(runs)
    assert len(single[0].events) > 6 * PLAN_BOUND
    # what the runs handed over: the warning, the suspension and the dispute's shift crossed
    states = [started_input(run, PlanInput).state for run in runs[1:]]
    assert all(s is not None for s in states)
    assert [s.next_instalment for s in states if s] == sorted(
        {s.next_instalment for s in states if s}
    )
    assert any(s.suspended for s in states if s), states
    assert states[-1] is not None and states[-1].warned and states[-1].shift_days == 10


# --- the court steps --------------------------------------------------------------------------


@dataclass
class Court:
    """Both court steps, told the same thing at the same moment."""

    env: WorkflowEnvironment
    handles: list[WorkflowHandle]
    worlds: list[FakeWorld]

    async def today(self) -> date:
        return rome_date(await self.env.get_current_time())

    async def send(self, update: str, cmd: object) -> None:
        for h in self.handles:
            result = await h.execute_update(update, cmd, result_type=CommandResult)
            assert result.accepted, result

    async def until(self, what: str, check: Callable[[FakeWorld], bool]) -> None:
        for _ in range(750):
            if all(w.judicial is not None and check(w) for w in self.worlds):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    async def stage(self, stage: str) -> None:
        await self.until(stage, lambda w: w.judicial is not None and w.judicial.stage == stage)

    async def past(self, kind: str) -> None:
        """Past the end of this open deadline (the same in both)."""
        world = self.worlds[0]
        assert world.judicial is not None
        view = next(d for d in world.judicial.deadlines if d.kind == kind)
        ends = view.law_ends_at or view.ends_at
        await self.env.sleep(ends - await self.env.get_current_time() + timedelta(hours=1))


async def test_years_of_court_steps_continue_as_new_and_end_as_in_one_run(env) -> None:
    """Two decrees that lapse unserved, a new ricorso, an opposition and three years of
    hearings, two precetti that lapse, then the pignoramento: about four years of terms."""
    worlds = [FakeWorld(), FakeWorld()]
    async with workers(env, *worlds) as queues:
        handles, parents, ids = [], [], []
        for bound, queue in zip([None, JUDICIAL_BOUND], queues, strict=True):
            practice_id = uuid.uuid4().hex
            ids.append(judicial_workflow_id(practice_id))
            parents.append(
                await env.client.start_workflow(
                    JudicialParent.run,
                    JudicialInput(
                        practice_id=practice_id,
                        parent_workflow_id="",  # the parent's own id, filled in by the parent
                        lawyer_id="lawyer-1",
                        history_bound=bound,
                    ),
                    id=f"parent-{practice_id}",
                    task_queue=queue,
                )
            )
            handles.append(env.client.get_workflow_handle(ids[-1]))
        court = Court(env, handles, worlds)
        await court.stage("awaiting_filing")

        for lapse in range(1, 3):
            await court.send(JudicialUpdate.FILING, FilingCmd(filed_on=await court.today()))
            await court.send(JudicialUpdate.DECREE, DecreeCmd(issued_on=await court.today()))
            await court.stage("awaiting_service")
            await court.past("decree_service")
            await court.until(
                "the decree's lapse",
                lambda w, n=lapse: w.judicial_kinds().count("decree_lapsed") == n,
            )
            await court.stage("awaiting_filing")

        await court.send(JudicialUpdate.FILING, FilingCmd(filed_on=await court.today()))
        await court.send(JudicialUpdate.DECREE, DecreeCmd(issued_on=await court.today()))
        await court.send(JudicialUpdate.SERVICE, ServiceCmd(served_on=await court.today()))
        await court.stage("opposition_term")
        await env.sleep(timedelta(days=20))
        await court.send(JudicialUpdate.OPPOSITION, OppositionCmd(filed_on=await court.today()))
        await court.stage("lawsuit")
        for _ in range(12):  # a hearing every quarter for three years
            hearing = await court.today() + timedelta(days=90)
            await court.send(
                JudicialUpdate.LAWSUIT,
                LawsuitUpdateCmd(outcome=LawsuitOutcome.PENDING, next_hearing=hearing),
            )
            await env.sleep(timedelta(days=90))
        await court.send(JudicialUpdate.LAWSUIT, LawsuitUpdateCmd(outcome=LawsuitOutcome.WON))
        await court.stage("decree_final")

        for lapse in range(1, 3):
            await court.send(JudicialUpdate.PRECETTO, PrecettoCmd(served_on=await court.today()))
            await court.stage("precetto_term")
            await court.past("precetto_lapse")
            await court.until(
                "the precetto's lapse",
                lambda w, n=lapse: w.judicial_kinds().count("precetto_lapsed") == n,
            )
            await court.stage("decree_final")
        await court.send(JudicialUpdate.PRECETTO, PrecettoCmd(served_on=await court.today()))
        await court.stage("precetto_term")
        await env.sleep(timedelta(days=15))
        await court.stage("awaiting_pignoramento")
        await court.send(
            JudicialUpdate.PIGNORAMENTO, PignoramentoCmd(started_on=await court.today())
        )
        await court.send(
            JudicialUpdate.PIGNORAMENTO_OUTCOME,
            PignoramentoOutcomeCmd(outcome=SeizureOutcome.ASSIGNED, amount_cents=80000),
        )
        outcomes = [await p.result() for p in parents]
        filed = [await p.query("filed", result_type=list[date]) for p in parents]
        ended = [await p.query("ended", result_type=list[str]) for p in parents]
        histories = [await run_histories(env.client, i) for i in ids]

    assert outcomes == ["pignoramento_assigned"] * 2
    assert filed[0] == filed[1] and len(filed[0]) == 3  # the parent told of each ricorso once
    # the end is signalled by court steps with a bound (their parent's run may be a new one)
    assert ended == [[], ["pignoramento_assigned"]]
    one, bounded = worlds
    # the same final state, down to the read model's version
    assert one.judicial is not None and bounded.judicial is not None
    assert replace(one.judicial, lawyer_id=None) == replace(bounded.judicial, lawyer_id=None)

    def timeline(world: FakeWorld) -> list[tuple[int, str, str]]:
        events = [e for r in world.judicial_records for e in r.events]
        return [(e.seq, e.kind, e.summary) for e in events]

    # every event written once, numbered on without a gap, the same in both
    assert timeline(one) == timeline(bounded)
    seqs = [seq for seq, _, _ in timeline(bounded)]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert [r.snapshot.version for r in bounded.judicial_records] == list(
        range(1, len(bounded.judicial_records) + 1)
    )
    # the lawyer told the same things once each
    assert [n.idempotency_key.split(":", 1)[1] for n in one.notifications] == [
        n.idempotency_key.split(":", 1)[1] for n in bounded.notifications
    ]
    keys = [n.idempotency_key for n in bounded.notifications]
    assert len(keys) == len(set(keys))

    single, runs = histories
    assert len(single) == 1
    assert len(runs) >= 3, [len(r.events) for r in runs]
    for run in runs[:-1]:
        assert last_event(run) == "workflow_execution_continued_as_new_event_attributes"
    assert max(len(r.events) for r in runs) < JUDICIAL_BOUND, [len(r.events) for r in runs]
    assert len(single[0].events) > 2 * JUDICIAL_BOUND, len(single[0].events)
    await replay(runs)
    # handed over at each of the lawyer's turns: a new ricorso, the lawsuit, a new precetto
    handed = [started_input(run, JudicialInput).state for run in runs[1:]]
    assert {h.stage for h in handed if h} == {"awaiting_filing", "lawsuit", "decree_final"}


async def test_continued_court_steps_stop_when_the_parent_cancels_them_by_id(env) -> None:
    """Court steps that continued as new mid-lawsuit are stopped by the parent's cancel by
    workflow id: they tell the lawyer and end "stopped" in their newest run."""
    world = FakeWorld()
    async with workers(env, world) as (queue,):
        practice_id = uuid.uuid4().hex
        judicial_id = judicial_workflow_id(practice_id)
        parent = await env.client.start_workflow(
            JudicialParent.run,
            JudicialInput(
                practice_id=practice_id,
                parent_workflow_id="",
                lawyer_id="lawyer-1",
                history_bound=JUDICIAL_BOUND,
            ),
            id=f"parent-{practice_id}",
            task_queue=queue,
        )
        court = Court(env, [env.client.get_workflow_handle(judicial_id)], [world])
        await court.stage("awaiting_filing")
        long_ago = await court.today() - timedelta(days=100)
        await court.send(JudicialUpdate.FILING, FilingCmd(filed_on=long_ago))
        await court.send(JudicialUpdate.DECREE, DecreeCmd(issued_on=long_ago))
        await court.send(JudicialUpdate.SERVICE, ServiceCmd(served_on=long_ago))
        await court.send(JudicialUpdate.OPPOSITION, OppositionCmd(filed_on=long_ago))
        await court.stage("lawsuit")
        for _ in range(40):
            await court.send(JudicialUpdate.LAWSUIT, LawsuitUpdateCmd(LawsuitOutcome.PENDING))
        assert len(await run_histories(env.client, judicial_id)) >= 2
        await parent.signal("stop")
        assert await parent.result() == "stopped"
        assert await parent.query("ended", result_type=list[str]) == ["stopped"]
    assert world.judicial is not None and world.judicial.stage == "stopped"
    assert [n.params.get("event") for n in world.notifications][-1] == "stopped"
