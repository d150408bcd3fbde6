"""Debtors abroad in the workflow (issue 16), on the time-skipping test server: the home visit of
a debtor outside the EU goes to a foreign correspondent (or waits unassigned for the admin), and
the pre-due reminders and the start of collection follow the debtor's own clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from temporalio.contrib.pydantic import pydantic_data_converter

from domain.calendar import ROME, rome_date
from domain.judicial import Residence
from domain.practice import Invoice, UpdateName, VisitOutcome, VisitOutcomeCmd
from domain.strategy import Step
from tests.histories.replay import replayer
from tests.workflows.conftest import only_steps
from tests.workflows.fakes import FakeWorld
from tests.workflows.test_step_order import patched
from workflows.practice.steps import VISIT_UNASSIGNED
from workflows.practice.versions import CORRESPONDENT_UNASSIGNED, PRE_DUE_IN_DEBTOR_ZONE

TODAY = rome_date(datetime.now(UTC))
CLAIM = 125040
VISIT_THEN_NOTICE = only_steps(Step.CONTACT_CHECK, Step.HOME_VISIT, Step.LEGAL_NOTICE)
NEW_YORK = ZoneInfo("America/New_York")


async def _replays(handle) -> None:  # type: ignore[no-untyped-def]
    history = await handle.fetch_history()
    await replayer(pydantic_data_converter).replay_workflow(history)


async def test_a_correspondent_gets_the_visit_and_reports_as_a_field_agent(start, env) -> None:
    world = FakeWorld(field_agent="correspondent-1", correspondent=True)
    async with start(world=world, strategy=VISIT_THEN_NOTICE, residence=Residence.NON_EU) as p:
        await p.waiting_for("home visit outcome")
        visit = world.open_of("visit")
        assert len(visit) == 1 and visit[0].assignee_id == "correspondent-1"
        assert [n.to for n in world.notifications] == ["correspondent-1"]
        assigned = [e for e in world.events.values() if e.kind == "visit_assigned"]
        assert assigned[0].summary.startswith("Home visit assigned to a foreign correspondent")
        assert world.snapshot is not None and world.snapshot.field_agent_id == "correspondent-1"

        await p.send(UpdateName.VISIT_OUTCOME, VisitOutcomeCmd(outcome=VisitOutcome.MET))
        await env.sleep(timedelta(days=8))
        await p.until(lambda: "legal_notice" in world.letter_kinds(), "the legal notice")
        assert not world.open_of("visit")
        # an assigned correspondent needs no patch: the same commands as a field agent's
        assert not await patched(p.handle, CORRESPONDENT_UNASSIGNED)
        await _replays(p.handle)


async def test_without_a_correspondent_the_visit_waits_unassigned_for_the_admin(start, env) -> None:
    world = FakeWorld(field_agent=None, correspondent=True)
    async with start(world=world, strategy=VISIT_THEN_NOTICE, residence=Residence.NON_EU) as p:
        await p.waiting_for("home visit outcome")
        visit = world.open_of("visit")
        assert len(visit) == 1 and visit[0].assignee_id is None
        assert world.notifications == []  # nobody to tell: the admin's list shows it
        waiting = [e for e in world.events.values() if e.kind == "visit_unassigned"]
        assert [e.summary for e in waiting] == [VISIT_UNASSIGNED]
        assert "step_skipped" not in world.kinds()

        # the admin records the outcome itself: the escalation goes on
        await p.send(UpdateName.VISIT_OUTCOME, VisitOutcomeCmd(outcome=VisitOutcome.NOT_FOUND))
        await env.sleep(timedelta(days=8))
        await p.until(lambda: "legal_notice" in world.letter_kinds(), "the legal notice")
        assert not world.open_of("visit")
        assert await patched(p.handle, CORRESPONDENT_UNASSIGNED)
        await _replays(p.handle)


async def test_an_unassigned_visit_nobody_reports_times_out_as_any_visit(start, env) -> None:
    world = FakeWorld(field_agent=None, correspondent=True)
    strategy = only_steps(Step.HOME_VISIT, Step.LEGAL_NOTICE, visit_outcome_timeout="P5D")
    async with start(world=world, strategy=strategy, residence=Residence.NON_EU) as p:
        await p.waiting_for("home visit outcome")
        await env.sleep(timedelta(days=6))
        await p.until(
            lambda: (
                "No visit outcome recorded in time" in [e.summary for e in world.events.values()]
            ),
            "the visit's timeout",
        )
        assert not world.open_of("visit")
        closed = [t for k, t in world.tasks.items() if t.kind == "visit"]
        assert len(closed) == 1


async def test_an_italian_debtor_without_a_field_agent_is_still_skipped(start) -> None:
    """No correspondent in play (Italy, or an EU country none covers): skipped as before, and
    no patch marker."""
    world = FakeWorld(field_agent=None)
    strategy = only_steps(Step.HOME_VISIT, Step.LEGAL_NOTICE)
    async with start(world=world, strategy=strategy, residence=Residence.EU) as p:
        await p.until(lambda: "legal_notice" in world.letter_kinds(), "the legal notice")
        assert not world.tasks and "step_skipped" in world.kinds()
        assert not await patched(p.handle, CORRESPONDENT_UNASSIGNED)


async def test_pre_due_reminders_and_collection_on_the_debtors_clock(start, env) -> None:
    """A debtor in New York: the reminders at 09:00 there (15:00 in Rome), collection from
    its own midnight after the due date (06:00 in Rome)."""
    due = TODAY + timedelta(days=10)
    invoices = [Invoice(number="FT-1", issue_date=TODAY, due_date=due, amount_cents=CLAIM)]
    world = FakeWorld(zone="America/New_York")
    async with start(world=world, invoices=invoices, residence=Residence.NON_EU) as p:
        early = datetime.combine(due - timedelta(days=3), time(9, 0), tzinfo=NEW_YORK)
        await p.until(
            lambda: world.snapshot is not None and world.snapshot.next_action_at is not None,
            "the first timer",
        )
        assert world.snapshot is not None
        assert world.snapshot.next_action_at == early
        assert world.snapshot.next_action_at.astimezone(ROME).hour == early.astimezone(ROME).hour
        await env.sleep(early - await env.get_current_time() + timedelta(minutes=1))
        await p.until(lambda: len(world.reminders) == 1, "the early reminder")
        on_the_day = datetime.combine(due, time(9, 0), tzinfo=NEW_YORK)
        await p.until(
            lambda: world.snapshot is not None and world.snapshot.next_action_at == on_the_day,
            "the reminder on the day, at 09:00 in New York",
        )
        await env.sleep(timedelta(days=3, hours=1))
        await p.until(lambda: len(world.reminders) == 2, "the reminder on the day")
        end_of_day = datetime.combine(due + timedelta(days=1), time(0, 0), tzinfo=NEW_YORK)
        await p.until(
            lambda: world.snapshot is not None and world.snapshot.next_action_at == end_of_day,
            "the wait for the end of the due day in New York",
        )
        assert await patched(p.handle, PRE_DUE_IN_DEBTOR_ZONE)
        await _replays(p.handle)


async def test_an_italian_debtor_keeps_rome_and_pays_no_marker(start) -> None:
    due = TODAY + timedelta(days=10)
    invoices = [Invoice(number="FT-1", issue_date=TODAY, due_date=due, amount_cents=CLAIM)]
    world = FakeWorld(zone="America/New_York")  # never asked: Italy is Rome
    async with start(world=world, invoices=invoices) as p:
        await p.until(
            lambda: world.snapshot is not None and world.snapshot.next_action_at is not None,
            "the first timer",
        )
        assert world.snapshot is not None
        early = datetime.combine(due - timedelta(days=3), time(9, 0), tzinfo=ROME)
        assert world.snapshot.next_action_at == early
        assert not await patched(p.handle, PRE_DUE_IN_DEBTOR_ZONE)
