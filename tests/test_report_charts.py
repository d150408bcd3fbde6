"""The report charts' figures (api/services/reports.py) from hand-made read-model rows: months
in Europe/Rome, cohorts of hand-over, the period, another creditor's rows left out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from api.services.reports import Cohort, MonthRecovered, SelfService, creditor_charts
from db.models import Creditor, Event, Practice
from db.session import Database
from tests.factories import backfill, create_creditor, create_practice, invoice


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type]


async def payment(
    db: Database, practice: Practice, seq: int, paid_on: date, cents: int, at: datetime
) -> None:
    data: dict[str, Any] = {
        "amount_cents": cents,
        "paid_on": paid_on.isoformat(),
        "reference": f"CRO-{practice.id[:6]}-{seq}",
    }
    async with db.session() as session, session.begin():
        session.add(
            Event(practice_id=practice.id, seq=seq, at=at, kind="payment", summary="", data=data)
        )
    await backfill(db)


async def placed(db: Database, creditor: Creditor, cents: int, at: datetime, **kw: Any) -> Practice:
    rows = [invoice(f"F-{cents}-{at:%H%M}", date(2025, 12, 1), date(2025, 12, 31), cents)]
    return await create_practice(db, creditor, invoices=rows, created_at=at, **kw)


@pytest.fixture
async def book(database: Database) -> tuple[Creditor, Creditor]:
    creditor = await create_creditor(database)
    other = await create_creditor(database)
    # 31 Jan 23:30 UTC is already 1 February in Rome (UTC+1): a February cohort
    feb_in_rome = await placed(database, creditor, 100_000, utc(2026, 1, 31, 23, 30))
    # 31 Jan 22:30 UTC is 23:30 in Rome: still January
    jan = await placed(database, creditor, 50_000, utc(2026, 1, 31, 22, 30))
    # 31 Mar 22:30 UTC is 1 April 00:30 in Rome (summer time, UTC+2): April
    apr = await placed(
        database,
        creditor,
        40_000,
        utc(2026, 3, 31, 22, 30),
        status="closed",
        outcome="paid",
        paid_cents=40_000,
        balance_cents=0,
    )
    # reduced by a dispute after hand-over: the placed amount is still the invoices'
    await placed(
        database, creditor, 20_000, utc(2026, 4, 10, 9), claim_cents=10_000, balance_cents=10_000
    )
    foreign = await placed(database, other, 999_900, utc(2026, 1, 15, 9), paid_cents=999_900)
    await payment(database, foreign, 1, date(2026, 1, 20), 999_900, utc(2026, 1, 20, 9))

    # payments: by the day paid, whatever the moment they were recorded
    await payment(database, jan, 1, date(2026, 1, 31), 10_000, utc(2026, 1, 31, 23, 30))
    await payment(database, jan, 2, date(2026, 3, 5), 5_050, utc(2026, 3, 6, 8))
    await payment(database, feb_in_rome, 1, date(2026, 2, 1), 25_000, utc(2026, 2, 1, 9))
    await payment(database, apr, 1, date(2026, 4, 2), 40_000, utc(2026, 4, 2, 9))
    async with database.session() as session, session.begin():
        for p, paid in ((jan, 15_050), (feb_in_rome, 25_000)):
            row = await session.get(Practice, p.id)
            assert row is not None
            row.paid_cents = paid
            row.balance_cents = row.claim_cents - paid
    return creditor, other


async def test_payments_by_month_paid_and_cohorts_by_rome_month(
    database: Database, book: tuple[Creditor, Creditor]
) -> None:
    creditor, _other = book
    async with database.session() as session:
        charts = await creditor_charts(session, creditor.id, None, None)
    assert charts.recovered_by_month == [
        MonthRecovered(date(2026, 1, 1), 10_000, 1),  # recorded on 1 Feb in Rome, paid on 31 Jan
        MonthRecovered(date(2026, 2, 1), 25_000, 1),
        MonthRecovered(date(2026, 3, 1), 5_050, 1),
        MonthRecovered(date(2026, 4, 1), 40_000, 1),
    ]
    assert charts.cohorts == [
        Cohort(date(2026, 1, 1), 1, 50_000, 15_050),
        Cohort(date(2026, 2, 1), 1, 100_000, 25_000),
        Cohort(date(2026, 3, 1), 0, 0, 0),  # no hand-over in March: listed, empty
        Cohort(date(2026, 4, 1), 2, 60_000, 40_000),
    ]
    assert [c.share for c in charts.cohorts] == [
        Decimal("0.3010"),
        Decimal("0.2500"),
        None,
        Decimal("0.6667"),
    ]
    assert charts.by_status["active"] == 3 and charts.by_status["closed"] == 1
    assert sum(charts.by_status.values()) == 4  # the other creditor's practice is not counted
    assert charts.by_outcome["paid"] == 1 and sum(charts.by_outcome.values()) == 1


async def test_the_period_selects_payments_by_day_paid_and_practices_by_hand_over(
    database: Database, book: tuple[Creditor, Creditor]
) -> None:
    creditor, _other = book
    async with database.session() as session:
        charts = await creditor_charts(session, creditor.id, date(2026, 2, 1), date(2026, 3, 31))
    # payments paid from 1 February to 31 March, on any practice of the creditor
    assert charts.recovered_by_month == [
        MonthRecovered(date(2026, 2, 1), 25_000, 1),
        MonthRecovered(date(2026, 3, 1), 5_050, 1),
    ]
    # practices handed over in the period by the Rome day: only the one of 1 February (Rome)
    assert charts.cohorts == [Cohort(date(2026, 2, 1), 1, 100_000, 25_000)]
    assert sum(charts.by_status.values()) == 1 and charts.by_status["active"] == 1


async def test_a_creditor_without_practices_has_empty_charts(database: Database) -> None:
    creditor = await create_creditor(database)
    async with database.session() as session:
        charts = await creditor_charts(session, creditor.id, None, None)
    assert charts.recovered_by_month == [] and charts.cohorts == []
    assert set(charts.by_status.values()) == {0}


async def event(
    db: Database,
    practice: Practice,
    seq: int,
    kind: str,
    at: datetime,
    actor: str | None,
    summary: str = "",
    **data: Any,
) -> None:
    async with db.session() as session, session.begin():
        session.add(
            Event(
                practice_id=practice.id,
                seq=seq,
                at=at,
                kind=kind,
                summary=summary,
                data=data,
                actor_kind=actor,
                actor_id="u-1" if actor == "user" else None,
                actor_role="operator" if actor == "user" else None,
            )
        )
    await backfill(db)


async def test_online_self_service_counts_the_debtors_own_actions(database: Database) -> None:
    creditor = await create_creditor(database)
    other = await create_creditor(database)
    practice = await placed(database, creditor, 90_000, utc(2025, 12, 10, 9))
    second = await placed(database, creditor, 50_000, utc(2025, 12, 11, 9))
    foreign = await placed(database, other, 70_000, utc(2025, 12, 10, 9))

    def paid(day: date, cents: int) -> dict[str, Any]:
        return {"amount_cents": cents, "paid_on": day.isoformat(), "reference": "Stripe pi"}

    # payments: two by the debtor (a card payment), one an operator recorded, one before the
    # period, one on another creditor's practice
    await event(
        database,
        practice,
        1,
        "payment",
        utc(2026, 2, 3, 9),
        "debtor",
        **paid(date(2026, 2, 3), 12_000),
    )
    await event(
        database,
        second,
        1,
        "payment",
        utc(2026, 3, 1, 9),
        "debtor",
        **paid(date(2026, 3, 1), 3_050),
    )
    await event(
        database,
        practice,
        2,
        "payment",
        utc(2026, 2, 4, 9),
        "user",
        **paid(date(2026, 2, 4), 50_000),
    )
    await event(
        database,
        second,
        2,
        "payment",
        utc(2026, 1, 5, 9),
        "debtor",
        **paid(date(2026, 1, 5), 1_000),
    )
    await event(
        database,
        foreign,
        1,
        "payment",
        utc(2026, 2, 3, 9),
        "debtor",
        **paid(date(2026, 2, 3), 70_000),
    )
    # proposals: a plan within the bounds (accepted at once), a plan outside them the creditor
    # approved (a deal started for it), a settlement outside them still waiting, an operator's
    # settlement (not online)
    plan = "Proposal (plan, debtor)"
    settlement = "Proposal (settlement, debtor): needs the creditor's approval (too low)"
    await event(
        database,
        practice,
        3,
        "proposal",
        utc(2026, 2, 10, 9),
        "debtor",
        plan,
        proposal_id="p1",
        within_bounds=True,
    )
    await event(
        database, practice, 4, "deal_started", utc(2026, 2, 10, 9), "debtor", proposal_id="p1"
    )
    await event(
        database,
        second,
        3,
        "proposal",
        utc(2026, 2, 11, 9),
        "debtor",
        plan + ": needs",
        proposal_id="p2",
        within_bounds=False,
    )
    await event(database, second, 4, "proposal_approved", utc(2026, 2, 12, 9), "user")
    await event(database, second, 5, "deal_started", utc(2026, 2, 12, 9), "user", proposal_id="p2")
    await event(
        database,
        practice,
        5,
        "proposal",
        utc(2026, 2, 20, 9),
        "debtor",
        settlement,
        proposal_id="p3",
        within_bounds=False,
    )
    await event(
        database,
        practice,
        6,
        "proposal",
        utc(2026, 2, 21, 9),
        "user",
        "Proposal (settlement, call)",
        proposal_id="p4",
        within_bounds=True,
    )
    await event(
        database, practice, 7, "deal_started", utc(2026, 2, 21, 9), "user", proposal_id="p4"
    )
    # disputes: one by the debtor, one recorded by an operator
    await event(
        database, second, 6, "dispute_opened", utc(2026, 3, 31, 21, 30), "debtor", dispute_id="d1"
    )
    await event(
        database, practice, 8, "dispute_opened", utc(2026, 3, 2, 9), "user", dispute_id="d2"
    )

    async with database.session() as session:
        period = await creditor_charts(session, creditor.id, date(2026, 2, 1), date(2026, 3, 31))
        whole = await creditor_charts(session, creditor.id, None, None)
        march = await creditor_charts(session, creditor.id, date(2026, 3, 1), date(2026, 3, 31))
    assert period.self_service == SelfService(
        payments=2,
        paid_cents=15_050,
        plans_proposed=2,
        plans_accepted=2,
        settlements_proposed=1,
        settlements_accepted=0,
        # 31 March 21:30 UTC is 23:30 in Rome: still in the period
        disputes=1,
    )
    assert whole.self_service.payments == 3 and whole.self_service.paid_cents == 16_050
    # the period selects the debtors' actions by their day, not the practices' hand-over
    assert march.self_service == SelfService(payments=1, paid_cents=3_050, disputes=1)
