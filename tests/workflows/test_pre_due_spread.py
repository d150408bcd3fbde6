"""The pre-due reminders spread over 09:00 + the practice's offset (issue 17), on the
time-skipping test server: a portfolio with one due date no longer sends every reminder at
09:00:00, practices started without the spread keep 09:00 and replay."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from domain.calendar import at_rome, rome_date
from domain.contact_rules import ContactRegime, is_contact_day, spread_reminder
from domain.judicial import Residence
from domain.practice import DebtorKind, Invoice, PracticeInput, workflow_id_for
from domain.strategy import Strategy, validate_strategy
from tests.histories.replay import replayer
from tests.workflows.conftest import Practice
from tests.workflows.fakes import FakeWorld
from tests.workflows.test_step_order import patched
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow, steps
from workflows.practice.versions import PRE_DUE_IN_DEBTOR_ZONE, PRE_DUE_SPREAD

TODAY = rome_date(datetime.now(UTC))
CLAIM = 125040
SPREAD = 120
LEAD = timedelta(days=3)  # the default strategy's pre_due_reminder_lead
NINE = time(9, 0)


def _due() -> date:
    """A due date at least ten days ahead whose day and the early reminder's are weekdays the
    rules open (the offset then stays inside both days' windows)."""
    day = TODAY + timedelta(days=10)
    while not all(d.weekday() < 5 and is_contact_day(d) for d in (day, day - LEAD)):
        day += timedelta(days=1)
    return day


def _invoices(due: date) -> list[Invoice]:
    return [Invoice(number="FT-1", issue_date=TODAY, due_date=due, amount_cents=CLAIM)]


async def _first_timer(p: Practice) -> datetime:
    await p.until(
        lambda: p.world.snapshot is not None and p.world.snapshot.next_action_at is not None,
        "the first timer",
    )
    assert p.world.snapshot is not None and p.world.snapshot.next_action_at is not None
    return p.world.snapshot.next_action_at


async def _replays(p: Practice) -> None:
    history = await p.handle.fetch_history()
    await replayer(pydantic_data_converter).replay_workflow(history)


async def test_each_practice_is_reminded_at_nine_plus_its_own_offset(start, env) -> None:
    due = _due()
    # two practices of one portfolio, one due date: fixed ids, so the offsets are known apart
    expected = {
        pid: spread_reminder(at_rome(due, NINE), LEAD, pid, timedelta(minutes=SPREAD))
        for pid in ("spread-a", "spread-b")
    }
    (a_before, a_on_day), (b_before, b_on_day) = expected["spread-a"], expected["spread-b"]
    assert b_before + timedelta(minutes=30) < a_before  # b's offset is the earlier one
    assert at_rome(due - LEAD, NINE) < b_before and a_on_day < at_rome(due, time(11, 0))

    async with (
        start(invoices=_invoices(due), reminder_spread_minutes=SPREAD, practice_id="spread-a") as a,
        start(invoices=_invoices(due), reminder_spread_minutes=SPREAD, practice_id="spread-b") as b,
    ):
        assert await _first_timer(a) == a_before
        assert await _first_timer(b) == b_before

        # just before b's moment, neither has been reminded
        await env.sleep(b_before - await env.get_current_time() - timedelta(minutes=1))
        assert a.world.reminders == [] and b.world.reminders == []
        # past b's moment: b is reminded, a (an hour later) is not yet
        await env.sleep(timedelta(minutes=2))
        await b.until(lambda: len(b.world.reminders) == 1, "b's early reminder")
        assert b.world.reminders[0].moment == "before"
        assert a.world.reminders == []
        await env.sleep(a_before - await env.get_current_time() + timedelta(minutes=1))
        await a.until(lambda: len(a.world.reminders) == 1, "a's early reminder")

        # on the due date, the same offsets
        await a.until(
            lambda: a.world.snapshot is not None and a.world.snapshot.next_action_at == a_on_day,
            "a's reminder on the day",
        )
        await b.until(
            lambda: b.world.snapshot is not None and b.world.snapshot.next_action_at == b_on_day,
            "b's reminder on the day",
        )
        await env.sleep(b_on_day - await env.get_current_time() + timedelta(minutes=1))
        await b.until(lambda: len(b.world.reminders) == 2, "b's reminder on the day")
        assert b.world.reminders[1].moment == "due_today"
        assert len(a.world.reminders) == 1
        await env.sleep(a_on_day - await env.get_current_time() + timedelta(minutes=1))
        await a.until(lambda: len(a.world.reminders) == 2, "a's reminder on the day")
        # the offset never made a reminder late (LATE_REMINDER) nor sent one twice
        for p in (a, b):
            assert [r.moment for r in p.world.reminders] == ["before", "due_today"]
            assert "reminder_skipped" not in p.world.kinds()
            assert await patched(p.handle, PRE_DUE_SPREAD)
            await _replays(p)


async def test_without_a_spread_the_reminders_go_at_nine_and_pay_no_marker(start) -> None:
    due = _due()
    async with start(invoices=_invoices(due)) as p:
        assert await _first_timer(p) == at_rome(due - LEAD, NINE)
        assert not await patched(p.handle, PRE_DUE_SPREAD)


async def test_a_debtor_abroad_gets_the_offset_in_its_own_window(start) -> None:
    due = _due()
    world = FakeWorld(zone="America/New_York")
    async with start(
        world=world,
        invoices=_invoices(due),
        residence=Residence.NON_EU,
        reminder_spread_minutes=SPREAD,
        practice_id="spread-ny",
    ) as p:
        regime = ContactRegime(zone="America/New_York")  # the fake's: Italian hours in New York
        nine = datetime.combine(due, NINE, tzinfo=regime.tz)
        before, _ = spread_reminder(nine, LEAD, "spread-ny", timedelta(minutes=SPREAD), regime)
        assert before != nine - LEAD
        assert await _first_timer(p) == before
        assert await patched(p.handle, PRE_DUE_SPREAD)
        assert await patched(p.handle, PRE_DUE_IN_DEBTOR_ZONE)
        await _replays(p)


async def test_a_practice_timed_before_the_spread_replays_at_nine(env, monkeypatch) -> None:
    """A practice handed over with a spread in its input but run by a worker from before the
    spread (a rolling upgrade: reminders at 09:00, no marker) replays on this code. Handed over
    at 09:05 of the early reminder's day, before its offset (70 minutes) has passed: the old
    code sent the reminder at once, where this code with the spread would start a timer."""
    due = _due()
    world = FakeWorld()
    practice_id = "spread-a"
    queue = f"test-{uuid.uuid4().hex}"
    inp = PracticeInput(
        practice_id=practice_id,
        creditor_id="creditor-1",
        debtor_kind=DebtorKind.CONSUMER,
        province="MI",
        invoices=_invoices(due),
        strategy=validate_strategy(Strategy()),
        channels=world.channels,
        reminder_spread_minutes=SPREAD,
    )
    before, _ = spread_reminder(at_rome(due, NINE), LEAD, practice_id, timedelta(minutes=SPREAD))
    handed_over = at_rome(due - LEAD, time(9, 5))
    assert handed_over < before
    await env.sleep(handed_over - await env.get_current_time())
    # the code before the spread: no offset, and no patch asked
    monkeypatch.setattr(steps, "reminder_spread", lambda p: timedelta(0))
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
        activities=world.activities(),
        # unsandboxed: the sandbox would import the steps afresh, without the old code
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await env.client.start_workflow(
            PracticeWorkflow.run, inp, id=workflow_id_for(practice_id), task_queue=queue
        )
        p = Practice(env, handle, world, inp)
        await p.until(lambda: len(world.reminders) == 1, "the early reminder, at once")
        assert await _first_timer(p) == at_rome(due, NINE)
        await env.sleep(at_rome(due, NINE) - await env.get_current_time() + timedelta(minutes=1))
        await p.until(lambda: len(world.reminders) == 2, "the reminder on the day, at 09:00")
        assert not await patched(handle, PRE_DUE_SPREAD)
    monkeypatch.undo()
    # this code, sandboxed as in production: without the marker the input's spread is not
    # applied, so the commands are the history's
    history = await handle.fetch_history()
    await replayer(pydantic_data_converter).replay_workflow(history)
