"""An experiment's results by arm (api/services/lab_results.py) from hand-made read-model rows,
on SQLite and PostgreSQL (RECUPERO_TEST_DATABASE): the liquidation rate counted from each
practice's own hand-over day, only over practices old enough; cures, medians, right-party
contacts, promises, plans, contacts and their cost; another experiment's rows left out; and
the promotion of the challenger."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError

from api.auth import Principal, Role
from api.schemas_lab import SegmentsModel
from api.services import lab
from api.services.lab_results import (
    CSV_COLUMNS,
    experiment_results,
    promote_challenger,
    results_rows,
    save_unit_costs,
    unit_costs,
)
from db.models import (
    ContactLog,
    Creditor,
    Delivery,
    Event,
    ExperimentRow,
    Practice,
    SegmentVersion,
    StrategyVersion,
)
from db.session import Database
from domain.calendar import ROME
from domain.lab_statistics import newcombe_difference, wilson
from tests.factories import create_creditor, create_practice, invoice

ADMIN = Principal(
    id="admin", role=Role.ADMIN, name="Admin", creditor_id=None, provinces=frozenset()
)
TODAY = date(2026, 12, 6)
_seq = itertools.count(1)


def rome_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ROME)


async def add(db: Database, *rows: Any) -> None:
    async with db.session() as session, session.begin():
        session.add_all(rows)


def event(practice: Practice, kind: str, day: date, **data: Any) -> Event:
    return Event(
        practice_id=practice.id,
        seq=next(_seq),
        at=rome_noon(day),
        kind=kind,
        summary=data.pop("summary", ""),
        data=data,
    )


def payment(practice: Practice, paid_on: date, cents: int) -> Event:
    return event(practice, "payment", paid_on, amount_cents=cents, paid_on=paid_on.isoformat())


async def arm_practice(
    db: Database,
    creditor: Creditor,
    experiment: str,
    arm: str,
    handed_over: date,
    placed: int,
    **kw: Any,
) -> Practice:
    rows = [invoice(f"F-{next(_seq)}", date(2025, 1, 1), date(2025, 2, 1), placed)]
    return await create_practice(
        db,
        creditor,
        invoices=rows,
        created_at=rome_noon(handed_over),
        experiment_id=experiment,
        experiment_arm=arm,
        strategy_name="default" if arm == "champion" else "firm",
        **kw,
    )


@pytest.fixture
async def book(database: Database) -> tuple[Creditor, ExperimentRow, dict[str, Practice]]:
    creditor = await create_creditor(database)
    start = TODAY - timedelta(days=200)
    experiment = ExperimentRow(
        creditor_id=creditor.id,
        segment="default",
        arms=[{"strategy": "default", "share": 90}, {"strategy": "firm", "share": 10}],
        starts_on=start,
    )
    other = ExperimentRow(
        creditor_id=creditor.id,
        segment="default",
        arms=[{"strategy": "default", "share": 50}, {"strategy": "firm", "share": 50}],
        starts_on=start - timedelta(days=300),
        ends_on=start - timedelta(days=1),
    )
    await add(
        database,
        experiment,
        other,
        StrategyVersion(creditor_id=creditor.id, name="firm", version=1, strategy={}),
    )
    eid = experiment.id
    p: dict[str, Practice] = {}
    # champion: a (200 days ago, 1,000 €, paid 300 at day 20 and 700 at day 100, closed paid
    # at day 100), b (100 days ago, 500 €, nothing), c (10 days ago, 2,000 €, 100 at day 5)
    day_a, day_b, day_c = TODAY - timedelta(days=200), TODAY - timedelta(days=100), TODAY
    day_c -= timedelta(days=10)
    p["a"] = await arm_practice(
        database,
        creditor,
        eid,
        "champion",
        day_a,
        100_000,
        status="closed",
        outcome="paid",
        closed_at=rome_noon(day_a + timedelta(days=100)),
        paid_cents=100_000,
        balance_cents=0,
    )
    p["b"] = await arm_practice(database, creditor, eid, "champion", day_b, 50_000)
    p["c"] = await arm_practice(database, creditor, eid, "champion", day_c, 200_000)
    # challenger: d (190 days ago, 400 €, settled: 200 paid at day 30, closed day 31)
    day_d = TODAY - timedelta(days=190)
    p["d"] = await arm_practice(
        database,
        creditor,
        eid,
        "challenger-1",
        day_d,
        40_000,
        status="closed",
        outcome="settled",
        closed_at=rome_noon(day_d + timedelta(days=31)),
    )
    # another experiment's practice and one in no experiment: never counted
    stranger = await arm_practice(database, creditor, other.id, "champion", day_a, 999_900)
    loose = await create_practice(database, creditor, created_at=rome_noon(day_a))
    await add(
        database,
        payment(p["a"], day_a + timedelta(days=20), 30_000),
        payment(p["a"], day_a + timedelta(days=100), 70_000),
        payment(p["c"], day_c + timedelta(days=5), 10_000),
        payment(p["d"], day_d + timedelta(days=30), 20_000),
        payment(stranger, day_a + timedelta(days=1), 999_900),
        payment(loose, day_a + timedelta(days=1), 5_000),
        # right-party: a reached by phone twice (counted once), b's call unanswered, d met
        event(p["a"], "call_outcome", day_a + timedelta(days=3), outcome="promise"),
        event(p["a"], "call_outcome", day_a + timedelta(days=4), outcome="reached"),
        event(p["b"], "call_outcome", day_b + timedelta(days=3), outcome="no_answer"),
        event(p["d"], "visit_outcome", day_d + timedelta(days=3), outcome="met"),
        event(stranger, "call_outcome", day_a, outcome="reached"),
        # promises: a kept one, b broke one; plans: b started one and broke it, c a settlement
        event(p["a"], "promise_kept", day_a + timedelta(days=21)),
        event(p["b"], "promise_broken", day_b + timedelta(days=20)),
        event(
            p["b"],
            "deal_started",
            day_b + timedelta(days=30),
            summary="Repayment plan in force: escalation paused",
        ),
        event(p["b"], "plan_broken", day_b + timedelta(days=90), instalment=2),
        event(p["c"], "deal_started", day_c, summary="Settlement in force: escalation paused"),
    )
    deliveries = [
        ("post", "sent", p["a"]),
        ("post", "outbox", p["b"]),
        ("email", "sent", p["a"]),
        ("pec", "sent", p["b"]),
        ("sms", "sent", p["d"]),
        ("sms", "failed", p["d"]),  # never left: no cost
        ("post", "sent", stranger),
    ]
    await add(
        database,
        *(
            Delivery(
                idempotency_key=f"d-{next(_seq)}",
                practice_id=practice.id,
                channel=channel,
                recipient="x",
                status=status,
                provider="outbox",
            )
            for channel, status, practice in deliveries
        ),
        *(
            ContactLog(
                idempotency_key=f"c-{next(_seq)}",
                debtor_key=f"practice:{practice.id}",
                practice_id=practice.id,
                channel=channel,
                kind=kind,
                at=rome_noon(day_a),
            )
            for channel, kind, practice in (
                ("call", "conversation", p["a"]),
                ("call", "attempt", p["b"]),
                ("email", "message", p["a"]),  # an e-mail's cost comes from its delivery
                ("call", "conversation", p["d"]),
            )
        ),
    )
    return creditor, experiment, p


async def test_figures_by_arm(database: Database, book: Any) -> None:
    creditor, experiment, _ = book
    async with database.session() as session:
        await save_unit_costs(session, {"letter": 250, "sms": 8, "email": 1, "call": 150}, ADMIN)
        results = await experiment_results(session, creditor, experiment.id, today=TODAY)
    champion, challenger = results.arms
    assert (champion.arm, champion.strategy, champion.share) == ("champion", "default", 90)
    assert (challenger.arm, challenger.strategy, challenger.share) == ("challenger-1", "firm", 10)
    assert (champion.practices, champion.placed_cents, champion.recovered_cents) == (
        3,
        350_000,
        110_000,
    )
    assert (challenger.practices, challenger.placed_cents, challenger.recovered_cents) == (
        1,
        40_000,
        20_000,
    )
    # each horizon over the practices at least that old, paid within that many days
    by_days = {h.days: h for h in champion.liquidation}
    assert [(h.practices, h.placed_cents, h.recovered_cents) for h in champion.liquidation] == [
        (2, 150_000, 30_000),  # 30: a (300 at day 20) and b; c is 10 days old
        (2, 150_000, 30_000),
        (2, 150_000, 30_000),  # 90: a's 700 came at day 100
        (1, 100_000, 100_000),  # 180: only a
    ]
    assert by_days[30].rate is not None and by_days[30].rate.estimate == pytest.approx(0.2)
    assert by_days[180].rate is None  # one practice: no interval
    assert all(h.mature for h in champion.liquidation)
    assert [h.recovered_cents for h in challenger.liquidation] == [20_000] * 4
    assert challenger.liquidation[0].versus_champion is None  # one practice on its side
    # cures: a (paid) of 3, d (settled) of 1, with Wilson and Newcombe
    assert (champion.cure.successes, champion.cure.n) == (1, 3)
    assert champion.cure.interval == wilson(1, 3)
    assert challenger.cure.versus_champion == newcombe_difference(1, 1, 1, 3)
    assert champion.cure.versus_champion is None
    # medians: first payments at days 20 and 5, closed at day 100; d at 30 and 31
    assert champion.median_days_to_first_payment == 12.5
    assert champion.median_days_to_close == 100
    assert (challenger.median_days_to_first_payment, challenger.median_days_to_close) == (30, 31)
    assert (champion.right_party_contact.successes, champion.right_party_contact.n) == (1, 3)
    assert (challenger.right_party_contact.successes, challenger.right_party_contact.n) == (1, 1)
    assert (champion.promises_kept.successes, champion.promises_kept.n) == (1, 2)
    assert (champion.plans_broken.successes, champion.plans_broken.n) == (1, 1)
    assert challenger.promises_kept.interval is None  # none came due
    # contacts: letters sent or in the outbox, PEC as an e-mail, calls granted
    assert champion.contacts == {"letter": 2, "sms": 0, "email": 2, "call": 2}
    assert challenger.contacts == {"letter": 0, "sms": 1, "email": 0, "call": 1}
    assert champion.cost_cents == 2 * 250 + 2 * 1 + 2 * 150
    assert champion.cost_per_euro == Decimal("0.0073")  # 8.02 € for 1,100 €
    assert challenger.cost_cents == 158 and challenger.cost_per_euro == Decimal("0.0079")
    # the champion's cure rate (1/3) against 5 more points, at 90/10: far from enough
    assert results.baseline_cure_rate == pytest.approx(1 / 3)
    assert champion.needed is not None and challenger.needed is not None
    assert champion.needed > 8 * challenger.needed
    assert challenger.still_needed == challenger.needed - 1
    assert results.too_early == ("sample_size",)
    rows = results_rows(results)
    assert len(rows) == 2 and all(len(row) == len(CSV_COLUMNS) for row in rows)
    assert rows[0][:6] == ["champion", "default", "90", "3", "3500.00", "1100.00"]


async def test_too_early_and_parameters(database: Database, book: Any) -> None:
    creditor, experiment, _ = book
    async with database.session() as session:
        # read as of 100 days after the first hand-over: no practice is 180 days old yet
        early = await experiment_results(
            session, creditor, experiment.id, today=TODAY - timedelta(days=100)
        )
        assert early.too_early == ("sample_size", "days_180")
        assert [h.practices for h in early.arms[0].liquidation] == [1, 1, 1, 0]
        assert early.arms[0].liquidation[3].mature is False
        # a larger effect needs fewer practices
        big = await experiment_results(session, creditor, experiment.id, effect_points=30)
        small = await experiment_results(session, creditor, experiment.id, effect_points=5)
        assert big.arms[1].needed is not None and small.arms[1].needed is not None
        assert big.arms[1].needed < small.arms[1].needed
        for kw, loc in (
            ({"effect_points": 0}, "effect"),
            ({"alpha": 0.0}, "alpha"),
            ({"power": 1.0}, "power"),
        ):
            with pytest.raises(RequestValidationError) as refused:
                await experiment_results(session, creditor, experiment.id, **kw)
            assert refused.value.errors()[0]["loc"] == ("query", loc)
        other = await create_creditor(database)
        with pytest.raises(HTTPException) as missing:
            await experiment_results(session, other, experiment.id)
        assert missing.value.status_code == 404


async def test_unit_costs(database: Database) -> None:
    async with database.session() as session:
        assert await unit_costs(session) == {"letter": 0, "sms": 0, "email": 0, "call": 0}
        await save_unit_costs(session, {"letter": 250, "call": 150}, ADMIN)
        saved = await save_unit_costs(session, {"letter": 260}, ADMIN)
        assert saved == {"letter": 260, "sms": 0, "email": 0, "call": 150}
        for costs in ({"fax": 1}, {"sms": -1}):
            with pytest.raises(RequestValidationError) as refused:
                await save_unit_costs(session, costs, ADMIN)
            assert refused.value.errors()[0]["loc"] == ("body", next(iter(costs)))
        assert (await unit_costs(session))["letter"] == 260


async def test_promote_the_challenger(database: Database) -> None:
    creditor = await create_creditor(database)
    today = datetime.now(ROME).date()
    experiment = ExperimentRow(
        creditor_id=creditor.id,
        segment="small",
        arms=[{"strategy": "default", "share": 90}, {"strategy": "firm", "share": 10}],
        starts_on=today - timedelta(days=30),
    )
    await add(
        database,
        experiment,
        StrategyVersion(creditor_id=creditor.id, name="firm", version=1, strategy={}),
    )
    async with database.session() as session:
        segments = await lab.current_segments(session, creditor)
        assert segments.version == 0
        body = SegmentsModel.model_validate(
            {"rules": [{"name": "small", "strategy": "default", "max_amount": "1000.00"}]}
        )
        await lab.save_segments(session, creditor, body, ADMIN)
    in_flight = await arm_practice(
        database, creditor, experiment.id, "champion", today - timedelta(days=5), 50_000
    )
    async with database.session() as session:
        for arm in ("champion", "challenger-2"):
            with pytest.raises(RequestValidationError) as refused:
                await promote_challenger(session, creditor, experiment.id, arm, ADMIN)
            assert refused.value.errors()[0]["loc"] == ("body", "arm")
        row, version = await promote_challenger(
            session, creditor, experiment.id, "challenger-1", ADMIN
        )
        assert version == 2
        assert row.ends_on == today - timedelta(days=1)
        segments = await lab.current_segments(session, creditor)
        assert [(r.name, r.strategy) for r in segments.rules] == [("small", "firm")]
        assert segments.default_strategy == "default"
        # the next hand-over in the segment: the promoted strategy, no experiment
        loaded = await lab.load_lab(session, creditor)
    assert not any(e.active_on(today) for e in loaded.experiments)
    async with database.session() as session:
        kept = await session.get(Practice, in_flight.id)
        assert kept is not None and kept.strategy_name == "default"  # in flight: its own
        versions = await session.scalar(
            SegmentVersion.__table__.select()
            .with_only_columns(SegmentVersion.version)
            .where(SegmentVersion.creditor_id == creditor.id)
            .order_by(SegmentVersion.version.desc())
            .limit(1)
        )
        assert versions == 2
        # promoting again keeps the end (already over) and saves the same rules once more
        row, version = await promote_challenger(
            session, creditor, experiment.id, "challenger-1", ADMIN
        )
        assert version == 3 and row.ends_on == today - timedelta(days=1)
    # started today: nothing to promote from
    fresh = ExperimentRow(
        creditor_id=creditor.id,
        segment="default",
        arms=[{"strategy": "default", "share": 90}, {"strategy": "firm", "share": 10}],
        starts_on=today,
    )
    await add(database, fresh)
    async with database.session() as session:
        with pytest.raises(HTTPException) as refused:
            await promote_challenger(session, creditor, fresh.id, "challenger-1", ADMIN)
        assert refused.value.status_code == 409
