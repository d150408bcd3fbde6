"""Invoices overdue at the hand-over are collected at once; those not yet due get their pre-due
reminders meanwhile (issue 11, point 12)."""

from __future__ import annotations

from datetime import date, timedelta

from domain.practice import DisputeCmd, Invoice, UpdateName
from tests.workflows.conftest import overdue_invoices
from tests.workflows.test_replay_histories import _replayer


def _mixed(ahead_days: int = 20) -> list[Invoice]:
    ahead = date.today() + timedelta(days=ahead_days)
    return [*overdue_invoices(100000), Invoice("FT-2", ahead - timedelta(days=30), ahead, 30000)]


async def test_the_overdue_invoice_is_collected_now_and_the_other_reminded(start) -> None:
    invoices = _mixed()
    async with start(invoices=invoices) as p:
        # the reminder letter goes at once, for the overdue invoice only
        await p.until(lambda: p.world.letter_kinds() == ["reminder_letter"], "the letter")
        assert p.world.letters[0].balance_cents == 100000
        assert p.world.snapshot.phase == "out_of_court"
        # the invoice not yet due is reminded three days before its due date, and on the day
        await p.env.sleep(timedelta(days=17, hours=12))
        await p.until(lambda: len(p.world.reminders) >= 1, "the reminder before the due date")
        first = p.world.reminders[0]
        assert (first.moment, first.due_date, first.amount_cents) == (
            "before",
            invoices[1].due_date,
            30000,
        )
        # on the due date, or at the next contact window when that is a Sunday or holiday
        for _ in range(6):
            await p.env.sleep(timedelta(days=1))
            if len(p.world.reminders) == 2:
                break
        await p.until(lambda: len(p.world.reminders) == 2, "the reminder on the due date")
        assert p.world.reminders[1].moment == "due_today"
        await _replayer().replay_workflow(await p.handle.fetch_history())


async def test_no_pre_due_reminder_while_a_dispute_holds(start) -> None:
    async with start(invoices=_mixed()) as p:
        await p.until(lambda: p.world.letter_kinds() == ["reminder_letter"], "the letter")
        await p.send(UpdateName.DISPUTE, DisputeCmd("d-1"))
        await p.env.sleep(timedelta(days=25))  # past the due date's (or next window's) reminder
        await p.until(lambda: p.world.kinds().count("reminder_skipped") == 2, "skipped twice")
        assert p.world.reminders == []
