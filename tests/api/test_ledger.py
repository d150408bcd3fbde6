"""The read model's ledger (ledger_lines), written by the record activity from the typed lines
the workflow's state booked, on the real server and worker: on every path that moves money it
holds what reading the timeline's events gave before the ledger (db/ledger_backfill.py, the
reading migration 0019 uses for the practices recorded before), and the statement's inputs
are the same from either. Runs on PostgreSQL too (RECUPERO_TEST_DATABASE=postgresql)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from db.ledger import ledger_from, practice_ledger
from db.ledger_backfill import backfill_ledger, entries_from_events
from db.models import Event, LedgerRow, Practice
from domain.ledger import LedgerKind
from tests.api.helpers import (
    Api,
    eventually,
    fast_strategy,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)

TODAY = rome_today()


def payment(amount: str, reference: str, **extra: str) -> dict[str, Any]:
    return {"amount": amount, "paid_on": TODAY.isoformat(), "reference": reference, **extra}


async def post(api: Api, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = await api.http.post(path, headers=headers, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def as_tuples(rows: list[LedgerRow]) -> list[tuple[Any, ...]]:
    return [
        (
            r.seq,
            r.at,
            r.kind,
            r.day,
            r.amount_cents,
            r.reference,
            r.invoice_number,
            r.cost_kind,
            r.actor_kind,
        )
        for r in rows
    ]


async def ledger_rows(api: Api, practice_id: str) -> list[LedgerRow]:
    async with api.db.session() as session:
        rows = await session.scalars(
            select(LedgerRow)
            .where(LedgerRow.practice_id == practice_id)
            .order_by(LedgerRow.at, LedgerRow.seq)
        )
        return list(rows)


async def parsed_rows(api: Api, practice_id: str) -> list[tuple[Any, ...]]:
    """The same lines as the events' data gave them (the reading before the ledger)."""
    async with api.db.session() as session:
        practice = await session.get(Practice, practice_id)
        assert practice is not None
        events = await session.execute(
            select(Event.seq, Event.at, Event.kind, Event.data, Event.actor_kind)
            .where(Event.practice_id == practice_id)
            .order_by(Event.at, Event.seq)
        )
        entries = entries_from_events([dict(e._mapping) for e in events], practice.snapshot)
    return [
        (
            e.seq,
            e.at,
            e.line.kind.value,
            e.line.on,
            e.line.amount_cents,
            e.line.reference,
            e.line.invoice_number,
            e.line.cost_kind,
            e.actor_kind.value if e.actor_kind else None,
        )
        for e in entries
    ]


async def same_as_parsed(api: Api, practice_id: str) -> list[LedgerRow]:
    """The ledger the workflow wrote equals the events' reading, and the statement's inputs
    from it equal those from the lines the backfill builds for the same events."""
    rows = await ledger_rows(api, practice_id)
    assert as_tuples(rows) == await parsed_rows(api, practice_id)
    async with api.db.session() as session:
        practice = await session.scalar(
            select(Practice)
            .where(Practice.id == practice_id)
            .options(selectinload(Practice.invoices))
        )
        assert practice is not None
        typed = await practice_ledger(session, practice)
    # the backfill over the same events, from an empty ledger, gives the same statement
    async with api.db.session() as session, session.begin():
        await session.execute(delete(LedgerRow).where(LedgerRow.practice_id == practice_id))
        await session.run_sync(lambda s: backfill_ledger(s.connection()))
    rebuilt = await ledger_rows(api, practice_id)
    assert as_tuples(rebuilt) == as_tuples(rows)
    async with api.db.session() as session:
        practice = await session.scalar(
            select(Practice)
            .where(Practice.id == practice_id)
            .options(selectinload(Practice.invoices))
        )
        assert practice is not None
        assert ledger_from(practice, rebuilt) == typed
    return rows


async def test_payments_costs_and_a_reduction_on_the_ledger(api: Api) -> None:
    tenant = await new_creditor(api)
    _, operator = await new_user(api, "operator")
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    pid = practice["id"]
    (number,) = [i["number"] for i in practice["invoices"]]
    base = f"/practices/{pid}"
    # a partial payment naming its invoice, by the creditor; a cost, by an operator
    await post(
        api,
        f"{base}/payments",
        tenant.headers,
        payment("250.40", "CRO-1") | {"invoice_number": number},
    )
    incurred = (TODAY - timedelta(days=2)).isoformat()
    await post(
        api,
        f"{base}/costs",
        operator,
        {"amount": "30.00", "incurred_on": incurred, "kind": "collection"},
    )
    # a dispute upheld in part: the claim reduced
    dispute = await post(api, f"{base}/disputes", tenant.headers, {"reason": "merce rotta"})
    await post(
        api,
        f"{base}/disputes/{dispute['dispute_id']}/resolution",
        tenant.headers,
        {"upheld": True, "reduce_by": "100.00"},
    )
    # the rest: paid in full (930.00 = 1250.40 - 250.40 - 100.00 + 30.00)
    paid = await post(api, f"{base}/payments", operator, payment("930.00", "CRO-2"))
    assert paid["status"] == "closed"

    rows = await same_as_parsed(api, pid)
    assert [(r.kind, r.amount_cents, r.reference, r.invoice_number, r.cost_kind) for r in rows] == [
        (LedgerKind.PAYMENT, 25040, "CRO-1", number, None),
        (LedgerKind.COST, 3000, "", None, "collection"),
        (LedgerKind.REDUCTION, 10000, "", None, None),
        (LedgerKind.PAYMENT, 93000, "CRO-2", None, None),
    ]
    assert [r.day.isoformat() for r in rows] == [
        TODAY.isoformat(),
        incurred,
        *[TODAY.isoformat()] * 2,
    ]
    assert {r.actor_kind for r in rows} == {"user"}
    assert all(r.at.tzinfo is not None for r in rows)


async def test_a_plan_s_payments_on_the_ledger(api: Api) -> None:
    tenant = await new_creditor(api, fast_strategy(plan_grace="P5D", plan_reminder_lead="P1D"))
    _, operator = await new_user(api, "operator")
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-10))
    pid = practice["id"]
    first_due = (TODAY + timedelta(days=30)).isoformat()
    second_due = (TODAY + timedelta(days=60)).isoformat()
    plan = {
        "kind": "plan",
        "instalments": [
            {"due_date": first_due, "amount": "625.20"},
            {"due_date": second_due, "amount": "625.20"},
        ],
    }
    await post(api, f"/practices/{pid}/proposals", operator, plan)

    async def in_force() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        deal = view.get("plan")
        return view if deal and deal["state"] == "active" else None

    await eventually(in_force, "the plan to be in force")
    await post(api, f"/practices/{pid}/payments", operator, payment("625.20", "RATA-1"))

    async def counted() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        return view if view["plan"]["paid"] == "625.20" else None

    await eventually(counted, "the instalment to count toward the plan")
    rows = await same_as_parsed(api, pid)
    assert [(r.kind, r.amount_cents, r.reference) for r in rows] == [
        (LedgerKind.PAYMENT, 62520, "RATA-1")
    ]


async def test_a_settlement_paid_writes_the_rest_off(api: Api) -> None:
    tenant = await new_creditor(api, fast_strategy())
    _, operator = await new_user(api, "operator")
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-10))
    pid = practice["id"]
    # within the default bounds (at least 80% of the balance): in force at once
    settle_by = (TODAY + timedelta(days=15)).isoformat()
    await post(
        api,
        f"/practices/{pid}/proposals",
        operator,
        {"kind": "settlement", "amount": "1100.00", "settle_by": settle_by},
    )

    async def in_force() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        deal = view.get("plan")
        return view if deal and deal["state"] == "active" else None

    await eventually(in_force, "the settlement to be in force")
    await post(api, f"/practices/{pid}/payments", operator, payment("1100.00", "SALDO"))

    async def closed() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        return view if view["status"] == "closed" else None

    view = await eventually(closed, "the settlement to close the practice")
    assert (view["outcome"], view["written_off"]) == ("settled", "150.40")
    rows = await same_as_parsed(api, pid)
    assert [(r.kind, r.amount_cents, r.actor_kind) for r in rows] == [
        (LedgerKind.PAYMENT, 110000, "user"),
        (LedgerKind.WRITE_OFF, 15040, "system"),
    ]
