"""A practice that runs for ten years continues as new (issue 14): a 120-instalment plan paid for
three years, then broken; the court steps, with two years of lawsuit; four years under watch with a
re-check every week. The same practice is run twice side by side on the time-skipping server, one
with a small history bound and one without: each run of the first stays under its bound, and both
end with the same timeline, money and snapshot."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.history.v1 import History
from temporalio.api.testservice.v1 import UnlockTimeSkippingRequest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.judicial import (
    JUDICIAL_ENDED_SIGNAL,
    DecreeCmd,
    FilingCmd,
    JudicialUpdate,
    LawsuitOutcome,
    LawsuitUpdateCmd,
    OppositionCmd,
    ServiceCmd,
    judicial_workflow_id,
)
from domain.plans import (
    PLAN_PROGRESS_SIGNAL,
    Instalment,
    PlanProgress,
    ProposalCmd,
    ProposalDecisionCmd,
    ProposalKind,
    plan_workflow_id,
)
from domain.practice import (
    AuthorizationCmd,
    EndDecision,
    EndDecisionCmd,
    PaymentCmd,
    PracticeInput,
    Status,
    TraceResultCmd,
    UpdateName,
    WithdrawalCmd,
)
from domain.strategy import Step
from tests.workflows.conftest import Practice, only_steps
from tests.workflows.test_continue_as_new import run_histories
from tests.workflows.test_judicial import court
from tests.workflows.test_replay_histories import _replayer

BOUND = 400
MONTHS_PAID = 36
INSTALMENT = 1042  # 120 of them: the default claim, 1,250.40 EUR
LAWSUIT_MONTHS = 24
LAWSUIT_PAYMENT = 500
# a plan continues as new (threshold: the bound less 60) before the practice that started it
# (the bound less 120), whose history grows slower in the plan's wait
PLAN_TEST_BOUND = 400


async def _runs(p: Practice) -> list[History]:
    """Every run of the practice, first to last, following each continue-as-new."""
    client = p.env.client
    run_id: str | None = p.handle.first_execution_run_id
    runs = []
    while run_id is not None:
        history = await client.get_workflow_handle(p.handle.id, run_id=run_id).fetch_history()
        runs.append(history)
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
    return runs


async def _carried(p: Practice, history: History) -> PracticeInput:
    started = history.events[0].workflow_execution_started_event_attributes
    [inp] = await p.env.client.data_converter.decode(started.input.payloads, [PracticeInput])
    assert isinstance(inp, PracticeInput)
    return inp


def _without_times(value: Any) -> Any:
    """A snapshot's content without its clock times (the two practices run a moment apart) and
    without its `version`, the count of the read model's writes: on a loaded machine the
    time-skipping server may hand a timer and a signal to the workflow in one activation in
    one practice and in two in the other (one write or two, 387 against 388 seen), with the same
    events and state."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _without_times(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not isinstance(getattr(value, f.name), datetime) and f.name != "version"
        }
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


async def _sleep_a_day(env: WorkflowEnvironment) -> None:
    """Measured: on the time-skipping test server a child that ends after the run that started
    it continued as new (the plan, the court steps, started with ABANDON) leaves the server's
    time-skipping lock taken, and the next sleep hangs until its RPC times out; the same child
    ending under the run that started it does not (the same scenario with no bound). The real
    server has no such lock. Sleeps a day, releasing the lock if it got stuck (`_sleep`)."""
    await _sleep(env, 1)


async def _sleep(env: WorkflowEnvironment, days: int) -> None:
    """Sleeps `days` of server time, a month at a time, releasing the time-skipping lock when a
    child that ended after the run that started it continued as new left it taken
    (`_sleep_a_day`). Told apart from a month that is only slow (a loaded machine) by the
    server's clock: while the lock is stuck it moves at the wall clock's pace, otherwise it
    skips ahead."""
    target = await env.get_current_time() + timedelta(days=days)
    while (now := await env.get_current_time()) < target:
        end = min(target, now + timedelta(days=30))
        sleeping = asyncio.ensure_future(env.sleep(end - now))
        seen = now
        while not (await asyncio.wait({sleeping}, timeout=10))[0]:
            now = await env.get_current_time()
            if now - seen < timedelta(minutes=1):  # ten seconds at the wall clock's pace: stuck
                await env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
            seen = now
        try:
            sleeping.result()
        except RPCError:
            # the sleep outlived its RPC while the lock was stuck; on the server it goes on and
            # takes the lock back at its end: no new sleep before (unbalanced lock calls)
            for _ in range(600):
                if await env.get_current_time() >= end:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)


async def _all(ps: list[Practice], update: str, cmd: object) -> None:
    for p in ps:
        result = await p.send(update, cmd)
        assert result.accepted, result


async def _until_all(ps: list[Practice], check: Any, what: str) -> None:
    for p in ps:
        await p.until(lambda p=p: p.world.snapshot is not None and check(p), what)  # type: ignore[misc]


def _judicial_ended_signal(history: History) -> bool:
    return any(
        e.workflow_execution_signaled_event_attributes.signal_name == JUDICIAL_ENDED_SIGNAL
        for e in history.events
        if e.HasField("workflow_execution_signaled_event_attributes")
    )


def _carried_court_running(state: Any) -> bool:
    return state is not None and state.court.running


async def test_ten_years_continue_as_new_and_end_as_in_one_run(start) -> None:
    strategy = only_steps(Step.REMINDER_LETTER, watch_interval="P7D", trace_timeout="P3D")
    async with (
        start(strategy=strategy, history_bound=BOUND) as bounded,
        start(strategy=strategy, history_bound=None) as single,
    ):
        ps = [bounded, single]
        env = bounded.env
        await _until_all(ps, lambda p: p.world.snapshot.next_step == "authorization", "letter")
        # a plan of 120 monthly instalments: more than the creditor accepts unasked
        today = await bounded.today()
        deal = ProposalCmd(
            proposal_id="plan-120",
            kind=ProposalKind.PLAN,
            instalments=[
                Instalment(due_date=today + timedelta(days=30 * n), amount_cents=INSTALMENT)
                for n in range(1, 121)
            ],
        )
        await _all(ps, UpdateName.PROPOSAL, deal)
        await _all(ps, UpdateName.PROPOSAL_DECISION, ProposalDecisionCmd("plan-120", True))
        await _until_all(ps, lambda p: p.world.snapshot.status == "paused_plan", "the plan")
        # three years paid month by month, each instalment after its reminder
        for month in range(1, MONTHS_PAID + 1):
            await env.sleep(timedelta(days=30))
            await _until_all(
                ps, lambda p, m=month: p.world.kinds().count("plan_reminder") == m, "a reminder"
            )
            paid_on = await bounded.today()
            await _all(ps, UpdateName.PAYMENT, PaymentCmd(INSTALMENT, paid_on, f"R{month}"))
        # then nothing: warned, broken, and the escalation resumes at the authorisation
        await env.sleep(timedelta(days=39))
        while not all("plan_broken" in p.world.kinds() for p in ps):
            await _sleep_a_day(env)
        for p in ps:
            await p.waiting_for("the creditor's authorisation")
        await _all(ps, UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
        await _until_all(ps, lambda p: p.world.judicial is not None, "the court steps")
        # the court steps: filed, decreed, served, opposed, and two years of lawsuit, lost
        js = [p.env.client.get_workflow_handle(judicial_workflow_id(p.inp.practice_id)) for p in ps]
        today = await bounded.today()
        for j in js:
            await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today))
            await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=today))
            await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=today))
        await _until_all(ps, lambda p: p.world.judicial.stage == "opposition_term", "the term")
        for j in js:
            await court(j, JudicialUpdate.OPPOSITION, OppositionCmd(filed_on=today))
        # two years of lawsuit, the debtor paying a little each month meanwhile: the practice's
        # history grows while the court steps run, and the bounded one hands over in their wait
        for month in range(1, LAWSUIT_MONTHS + 1):
            await _sleep(env, 30)  # the plan ends after the breach it told: the lock (`_sleep`)
            paid_on = await bounded.today()
            await _all(ps, UpdateName.PAYMENT, PaymentCmd(LAWSUIT_PAYMENT, paid_on, f"L{month}"))
        await _sleep(env, 730 - 30 * LAWSUIT_MONTHS)
        for j in js:
            await court(j, JudicialUpdate.LAWSUIT, LawsuitUpdateCmd(outcome=LawsuitOutcome.LOST))
        await _until_all(ps, lambda p: len(p.world.open_of("end_decision")) == 1, "the decision")
        await _all(ps, UpdateName.END_DECISION, EndDecisionCmd(EndDecision.WATCH))
        # four years under watch, the debtor re-checked every week (nothing found, unanswered);
        # the whole stays under the ten years the time-skipping server lets one run live
        # the bounded practice's court steps ended after the run that started them handed over:
        # the time-skipping lock, as with the plan (`_sleep`)
        await _sleep(env, 4 * 365)
        while not all(p.world.open_of("trace") for p in ps):
            await _sleep(env, 1)
        found = TraceResultCmd(found=True, found_channels=["phone"])
        await _all(ps, UpdateName.TRACE_RESULT, found)
        await _until_all(ps, lambda p: len(p.world.open_of("end_decision")) == 1, "asked again")
        await _all(ps, UpdateName.END_DECISION, EndDecisionCmd(EndDecision.WRITE_OFF))
        assert [await p.handle.result() for p in ps] == ["uncollectable", "uncollectable"]

        # the bounded practice continued as new, every run under its bound; the other did not
        runs = await _runs(bounded)
        lengths = [len(h.events) for h in runs]
        assert len(runs) >= 10, lengths
        assert max(lengths) <= BOUND, lengths
        [one] = await _runs(single)
        assert len(one.events) > 10 * BOUND  # what a single run of it grows to
        # runs handed over in the plan's wait (the plan re-attached by its id) and under watch
        carried = [(await _carried(bounded, h)).resume for h in runs[1:]]
        assert all(state is not None for state in carried)
        statuses = {state.status for state in carried if state is not None}
        assert Status.PAUSED_PLAN in statuses and Status.ACTIVE in statuses
        assert any(s is not None and s.court.watch_checks > 0 for s in carried)
        # and while the court steps ran: they outlived the run that started them (reached by
        # their id), and a continued run heard their end by their `judicial_ended` signal
        in_court = [s for s in carried if s is not None and s.court.running]
        assert in_court and all(s.court.workflow_id == js[0].id for s in in_court)
        ended_in = next(i for i, h in enumerate(runs) if _judicial_ended_signal(h))
        assert ended_in > 0 and _carried_court_running(carried[ended_in - 1])
        # the plan was started once and ran to its breach across the runs
        started = [
            e
            for h in runs
            for e in h.events
            if e.HasField("start_child_workflow_execution_initiated_event_attributes")
        ]
        assert len(started) == 2  # the plan and the court steps, each once

        # the same practice, event for event: timeline, money, snapshot
        a, b = bounded.world, single.world
        assert a.kinds() == b.kinds()
        assert [(e.seq, e.kind, e.summary, e.data) for _, e in sorted(a.events.items())] == [
            (e.seq, e.kind, e.summary, e.data) for _, e in sorted(b.events.items())
        ]
        counts = Counter(a.kinds())
        assert counts["plan_reminder"] == MONTHS_PAID + 1
        assert counts["watch_check"] >= 4 * 365 // 10 - 1  # every 7 days after 3 unanswered
        assert a.snapshot is not None and b.snapshot is not None
        assert _without_times(a.snapshot) == _without_times(b.snapshot)
        assert a.snapshot.paid_cents == MONTHS_PAID * INSTALMENT + LAWSUIT_MONTHS * LAWSUIT_PAYMENT
        assert len(a.reminders) == len(b.reminders)
        assert [t.kind for t in a.tasks.values()] == [t.kind for t in b.tasks.values()]
        # every run replays on the code that wrote it
        for h in runs[:3] + runs[-2:]:
            await _replayer().replay_workflow(WorkflowHistory(bounded.handle.id, list(h.events)))


async def test_a_practice_hands_over_between_steps(start) -> None:
    """With a bound below what one step adds, the escalation hands over at the top of every
    step, and walks the same steps, letters and events as one run."""
    strategy = only_steps(Step.REMINDER_LETTER, Step.SECOND_LETTER, Step.LEGAL_NOTICE)
    async with (
        start(strategy=strategy, history_bound=40) as bounded,
        start(strategy=strategy, history_bound=None) as single,
    ):
        ps = [bounded, single]

        def asking(p: Practice) -> bool:
            return p.world.snapshot is not None and p.world.snapshot.waiting_for == (
                "the creditor's authorisation"
            )

        for _ in range(40):  # the letters' waits, a few days at a time
            if all(asking(p) for p in ps):
                break
            await bounded.env.sleep(timedelta(days=5))
        for p in ps:
            await p.waiting_for("the creditor's authorisation")
        await _all(ps, UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=False))
        assert [await p.handle.result() for p in ps] == ["returned", "returned"]
        runs = await _runs(bounded)
        carried = [(await _carried(bounded, h)).resume for h in runs[1:]]
        # one hand-over before each step after the first, all in the escalation
        indexes = [s.escalation.index for s in carried if s is not None]
        assert indexes == [1, 2, 3], indexes  # the second letter, the notice, the authorisation
        assert all(s is not None and s.status == Status.ACTIVE for s in carried)
        [one] = await _runs(single)
        assert len(one.events) > max(len(h.events) for h in runs)
        a, b = bounded.world, single.world
        assert [(e.seq, e.kind, e.summary, e.data) for _, e in sorted(a.events.items())] == [
            (e.seq, e.kind, e.summary, e.data) for _, e in sorted(b.events.items())
        ]
        assert (
            a.letter_kinds()
            == b.letter_kinds()
            == [
                "reminder_letter",
                "second_letter",
                "legal_notice",
            ]
        )
        assert a.snapshot is not None and b.snapshot is not None
        assert _without_times(a.snapshot) == _without_times(b.snapshot)


async def test_a_plan_outlives_the_run_that_started_it(start) -> None:
    """Handed over in the plan's wait: the new run reaches the plan by its id (a payment goes
    to it, a progress signal told twice counts once) and cancels it when the practice closes."""
    async with start(strategy=only_steps(Step.REMINDER_LETTER), history_bound=40) as p:
        await p.until(
            lambda: p.world.snapshot is not None and p.world.snapshot.next_step == "authorization",
            "the letter",
        )
        today = await p.today()
        deal = ProposalCmd(
            proposal_id="plan-2",
            kind=ProposalKind.PLAN,
            instalments=[
                Instalment(due_date=today + timedelta(days=30 * n), amount_cents=62520)
                for n in (1, 2)
            ],
        )
        await p.send(UpdateName.PROPOSAL, deal)
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
        client = p.env.client
        for _ in range(100):  # the hand-over follows the plan's start at once (bound 40)
            if len(await _runs(p)) > 1:
                break
            await asyncio.sleep(0.05)
        runs = await _runs(p)
        assert len(runs) > 1
        carried = (await _carried(p, runs[-1])).resume
        assert carried is not None and carried.status == Status.PAUSED_PLAN
        plan = client.get_workflow_handle(plan_workflow_id(p.inp.practice_id, "plan-2"))
        await p.send(UpdateName.PAYMENT, PaymentCmd(10000, today, "R1"))
        await p.until(lambda: p.world.snapshot.paid_cents == 10000, "the payment")
        assert await plan.query("plan_paid", result_type=int) == 10000  # signalled by its id
        told = PlanProgress("plan_reminder", 1, today + timedelta(days=30), 52520)
        await p.handle.signal(PLAN_PROGRESS_SIGNAL, told)
        await p.handle.signal(PLAN_PROGRESS_SIGNAL, told)
        await p.until(lambda: "plan_reminder" in p.world.kinds(), "the progress")
        await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
        assert await p.handle.result() == "withdrawn"
        assert p.world.kinds().count("plan_reminder") == 1
        assert (await plan.describe()).status == WorkflowExecutionStatus.CANCELED
        [started] = [
            e
            for h in await _runs(p)
            for e in h.events
            if e.HasField("start_child_workflow_execution_initiated_event_attributes")
        ]
        assert started.start_child_workflow_execution_initiated_event_attributes.workflow_id == (
            plan.id
        )


async def _to_the_court_steps(p: Practice) -> WorkflowHandle[Any, Any]:
    """The letter's wait, the creditor's authorisation: the court steps start, and the practice
    (a bound far below what it has written by then) hands over in their wait."""
    for _ in range(40):  # the letter's wait, a few days at a time
        if p.world.snapshot is not None and p.world.snapshot.waiting_for == (
            "the creditor's authorisation"
        ):
            break
        await p.env.sleep(timedelta(days=5))
    await p.waiting_for("the creditor's authorisation")
    await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
    await p.until(lambda: p.world.judicial is not None, "the court steps")
    for _ in range(200):
        runs = await _runs(p)
        carried = (await _carried(p, runs[-1])).resume if len(runs) > 1 else None
        if carried is not None and carried.court.running:
            break
        await asyncio.sleep(0.05)
    assert carried is not None and carried.court.running, "no hand-over in the court's wait"
    judicial_id = judicial_workflow_id(p.inp.practice_id)
    assert carried.court.workflow_id == judicial_id
    return p.env.client.get_workflow_handle(judicial_id)


def _children_started(runs: list[History]) -> list[str]:
    return [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for h in runs
        for e in h.events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]


async def test_a_continued_run_hears_the_court_steps_end_by_their_signal(start) -> None:
    """The court steps outlive the run that started them; the run that continued as new in
    their wait learns their end from their `judicial_ended` signal (told twice: counted once),
    asks the creditor, and closes; the court steps were started once across the runs."""
    async with start(strategy=only_steps(Step.REMINDER_LETTER), history_bound=40) as p:
        j = await _to_the_court_steps(p)
        today = await p.today()
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=today))
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=today))
        await p.until(lambda: p.world.judicial.stage == "opposition_term", "the term")
        await court(j, JudicialUpdate.OPPOSITION, OppositionCmd(filed_on=today))
        await court(j, JudicialUpdate.LAWSUIT, LawsuitUpdateCmd(outcome=LawsuitOutcome.LOST))
        assert await j.result() == "opposition_upheld"
        await p.until(lambda: len(p.world.open_of("end_decision")) == 1, "the decision")
        await p.handle.signal(JUDICIAL_ENDED_SIGNAL, "opposition_upheld")  # told again
        await p.send(UpdateName.END_DECISION, EndDecisionCmd(EndDecision.WRITE_OFF))
        assert await p.handle.result() == "uncollectable"
        runs = await _runs(p)
        assert _children_started(runs) == [j.id]
        # heard in a run that did not start them
        assert not _judicial_ended_signal(runs[0])
        assert sum(_judicial_ended_signal(h) for h in runs[1:]) >= 1
        assert p.world.kinds().count("judicial_ended") == 1
        [ended] = [e for e in p.world.events.values() if e.kind == "judicial_ended"]
        assert ended.data["outcome"] == "opposition_upheld"


async def test_a_continued_run_cancels_the_court_steps_by_id(start) -> None:
    """Withdrawn while the court steps run, by a run that continued as new: it cancels them by
    their id (their newest run), they tell the lawyer and end "stopped", and the practice hears
    it by signal before it says it is closed."""
    async with start(strategy=only_steps(Step.REMINDER_LETTER), history_bound=40) as p:
        j = await _to_the_court_steps(p)
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=await p.today()))
        await p.until(lambda: p.world.judicial.stage == "awaiting_decree", "the filing")
        await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
        assert await p.handle.result() == "withdrawn"
        assert await j.result() == "stopped"
        assert p.world.judicial.stage == "stopped"
        assert "stopped" in [n.params.get("event") for n in p.world.notifications]
        kinds = p.world.kinds()
        assert kinds.count("judicial_ended") == 1
        assert _children_started(await _runs(p)) == [j.id]


async def test_the_starting_run_cancels_a_plan_that_continued_by_id(start) -> None:
    """A plan started with the practice's bound continues as new itself; the practice's run that
    started it (not handed over yet) cancels it by id when the practice closes: the cancel
    reaches the plan's newest run (a child handle's would name its first)."""
    async with start(strategy=only_steps(Step.REMINDER_LETTER), history_bound=PLAN_TEST_BOUND) as p:
        await p.until(
            lambda: p.world.snapshot is not None and p.world.snapshot.next_step == "authorization",
            "the letter",
        )
        today = await p.today()
        deal = ProposalCmd(
            proposal_id="plan-24",
            kind=ProposalKind.PLAN,
            instalments=[
                Instalment(due_date=today + timedelta(days=30 * n), amount_cents=5210)
                for n in range(1, 25)
            ],
        )
        await p.send(UpdateName.PROPOSAL, deal)
        await p.send(UpdateName.PROPOSAL_DECISION, ProposalDecisionCmd("plan-24", True))
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
        plan_id = plan_workflow_id(p.inp.practice_id, "plan-24")
        client = p.env.client
        month = 0
        while len(await run_histories(client, plan_id)) < 2:
            month += 1
            assert month <= 24, "the plan never continued as new"
            await p.env.sleep(timedelta(days=30))
            await p.until(lambda m=month: p.world.kinds().count("plan_reminder") == m, "reminder")
            await p.send(UpdateName.PAYMENT, PaymentCmd(5210, await p.today(), f"R{month}"))
        assert len(await _runs(p)) == 1  # the run that started the plan
        await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
        assert await p.handle.result() == "withdrawn"
        plan = client.get_workflow_handle(plan_id)
        for _ in range(100):
            if (await plan.describe()).status != WorkflowExecutionStatus.RUNNING:
                break
            await asyncio.sleep(0.05)
        assert (await plan.describe()).status == WorkflowExecutionStatus.CANCELED
        assert len(await run_histories(client, plan_id)) >= 2
