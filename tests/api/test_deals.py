"""Deals through the API: proposals (plans and settlements), the creditor's decision, closures
that are not payment, the creditor's bounds in its strategy, the deal on the practice page and
the creditor's report.

The input checks (422 naming the field), the access rules and the 409 on a closed practice are
answered by the API; the report and the practice page read rows written with the factories
(their snapshot JSON as the workflow would record it). One test sends a plan through the real
workflow.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.services import proposals
from db.models import Creditor, Practice, PracticeNote
from domain.actor import Actor, ActorKind
from domain.calendar import ROME
from domain.plans import ProposalError, equal_instalments
from tests.api.helpers import (
    Api,
    Headers,
    Tenant,
    error_locs,
    eventually,
    fast_strategy,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)
from tests.factories import create_practice

TODAY = rome_today()
COUNT = ["body", "instalment_count"]
INSTALMENTS = ["body", "instalments"]


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def plan(*amounts: str, start: int = 30, down: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "plan",
        "instalments": [
            {"due_date": day(start + 30 * i), "amount": a} for i, a in enumerate(amounts)
        ],
    }
    if down is not None:
        body["down_payment"] = down
    return body


def settlement(amount: str = "1000.00", settle_by: str | None = None) -> dict[str, Any]:
    return {"kind": "settlement", "amount": amount, "settle_by": settle_by or day(15)}


@pytest.fixture(scope="module")
async def tenant(api: Api) -> Tenant:
    return await new_creditor(api)


@pytest.fixture(scope="module")
async def practice(api: Api, tenant: Tenant) -> dict[str, Any]:
    """A practice of 1250.40 waiting quietly before its due date."""
    return await hand_over(api, tenant.headers, practice_payload(tenant.id))


async def notes_of(api: Api, practice_id: str) -> list[str]:
    async with api.db.session() as session:
        rows = await session.scalars(
            select(PracticeNote.text).where(PracticeNote.practice_id == practice_id)
        )
        return list(rows)


# --- proposals: the input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        # the amounts add up to 1250.00, the balance is 1250.40
        (plan("625.00", "625.00"), ["body", "instalments"]),
        # too much is as wrong as too little
        (plan("625.20", "625.20", "1.00"), ["body", "instalments"]),
        # the down payment counts toward the balance
        (
            plan("625.20", "625.20", down={"due_date": day(1), "amount": "10.00"}),
            ["body", "instalments"],
        ),
        (
            {
                "kind": "plan",
                "instalments": [
                    {"due_date": day(60), "amount": "625.20"},
                    {"due_date": day(30), "amount": "625.20"},
                ],
            },
            ["body", "instalments"],
        ),
        (
            {
                "kind": "plan",
                "instalments": [
                    {"due_date": day(30), "amount": "625.20"},
                    {"due_date": day(30), "amount": "625.20"},
                ],
            },
            ["body", "instalments"],
        ),
        (plan("625.20", "625.20", start=-31), ["body", "instalments"]),
        (
            plan("625.20", "525.20", down={"due_date": day(-1), "amount": "100.00"}),
            ["body", "down_payment"],
        ),
        (
            plan("625.20", "525.20", down={"due_date": day(45), "amount": "100.00"}),
            ["body", "instalments"],
        ),
        ({"kind": "plan", "instalments": []}, ["body", "instalments"]),
        ({"kind": "plan"}, ["body", "instalments"]),
        (plan("625.20", "12.345"), ["body", "instalments", 1, "amount"]),
        (plan("625.20", "-625.20"), ["body", "instalments", 1, "amount"]),
        (plan("625.20", "0"), ["body", "instalments", 1, "amount"]),
        ({**plan("1250.40"), "amount": "1250.40"}, ["body", "amount"]),
        ({**plan("1250.40"), "settle_by": day(5)}, ["body", "settle_by"]),
        (plan("1250.40", start=3700), ["body", "instalments", 0, "due_date"]),
        # a settlement is for less than the balance
        (settlement("1250.40"), ["body", "amount"]),
        (settlement("2000.00"), ["body", "amount"]),
        (settlement("0.00"), ["body", "amount"]),
        (settlement(settle_by=day(-1)), ["body", "settle_by"]),
        ({"kind": "settlement", "amount": "1000.00"}, ["body", "settle_by"]),
        ({"kind": "settlement", "settle_by": day(5)}, ["body", "amount"]),
        ({**settlement(), "instalments": plan("1000.00")["instalments"]}, ["body", "instalments"]),
        (
            {**settlement(), "down_payment": {"due_date": day(1), "amount": "10.00"}},
            ["body", "down_payment"],
        ),
        ({**settlement(), "kind": "barter"}, ["body", "kind"]),
        ({**settlement(), "ammount": "10.00"}, ["body", "ammount"]),
        ({"kind": "plan", "instalment_count": 0, "first_due_date": day(5)}, COUNT),
        ({"kind": "plan", "instalment_count": 121, "first_due_date": day(5)}, COUNT),
        ({"kind": "plan", "instalment_count": 3}, ["body", "first_due_date"]),
        ({"kind": "plan", "first_due_date": day(5)}, ["body", "first_due_date"]),
        (
            {"kind": "plan", "instalment_count": 3, "first_due_date": day(-1)},
            ["body", "first_due_date"],
        ),
        ({**plan("1250.40"), "instalment_count": 3, "first_due_date": day(5)}, INSTALMENTS),
        (
            {
                "kind": "plan",
                "instalment_count": 3,
                "first_due_date": day(5),
                "down_payment": {"due_date": day(1), "amount": "10.00"},
            },
            ["body", "down_payment"],
        ),
        ({**settlement(), "instalment_count": 3}, COUNT),
    ],
    ids=[
        "plan-short",
        "plan-over",
        "plan-down-over",
        "dates-decreasing",
        "dates-same-day",
        "instalment-past",
        "down-payment-past",
        "down-payment-after-first",
        "plan-empty",
        "plan-missing",
        "amount-three-decimals",
        "amount-negative",
        "amount-zero",
        "plan-with-amount",
        "plan-with-settle-by",
        "date-too-far",
        "settlement-equal",
        "settlement-above",
        "settlement-zero",
        "settle-by-past",
        "settle-by-missing",
        "settlement-amount-missing",
        "settlement-with-instalments",
        "settlement-with-down-payment",
        "unknown-kind",
        "unknown-field",
        "count-zero",
        "count-over",
        "count-without-first-date",
        "first-date-without-count",
        "count-first-date-past",
        "count-and-instalments",
        "count-with-down-payment",
        "settlement-with-count",
    ],
)
async def test_a_proposal_that_cannot_be_a_deal_is_422_naming_the_field(
    api: Api, tenant: Tenant, practice: dict[str, Any], body: dict[str, Any], loc: list[Any]
) -> None:
    pid = practice["id"]
    response = await api.http.post(
        f"/practices/{pid}/proposals",
        headers=tenant.headers,
        json={**body, "note": "accordo al telefono"},
    )
    assert response.status_code == 422, response.text
    assert loc in error_locs(response), response.json()
    # refused before the workflow heard of it: nothing kept
    assert await notes_of(api, pid) == []


async def test_proposals_are_checked_against_the_current_balance(api: Api) -> None:
    tenant = await new_creditor(api)
    creditor = await _creditor_row(api, tenant.id)
    # the read model's balance, not the claim: 1250.40 claimed, 250.40 paid
    row = await create_practice(
        api.db, creditor, claim_cents=125_040, balance_cents=100_000, paid_cents=25_040
    )
    on_claim = await api.http.post(
        f"/practices/{row.id}/proposals", headers=tenant.headers, json=plan("625.20", "625.20")
    )
    assert on_claim.status_code == 422
    assert ["body", "instalments"] in error_locs(on_claim)
    assert "100000" in on_claim.json()["detail"][0]["msg"]
    over = await api.http.post(
        f"/practices/{row.id}/proposals", headers=tenant.headers, json=settlement("1000.00")
    )
    assert over.status_code == 422 and ["body", "amount"] in error_locs(over)


# --- access and state --------------------------------------------------------------------------


async def test_unknown_practice_is_404(api: Api) -> None:
    for path, body in (
        ("/practices/nope/proposals", settlement()),
        ("/practices/nope/proposals/abc/decision", {"approved": True}),
        ("/practices/nope/closure", {"reason": "deceased"}),
    ):
        response = await api.http.post(path, headers=api.admin, json=body)
        assert response.status_code == 404, (path, response.text)


async def test_who_may_propose_decide_and_close(
    api: Api, tenant: Tenant, practice: dict[str, Any]
) -> None:
    pid = practice["id"]
    other = await new_creditor(api)
    _, lawyer = await new_user(api, "lawyer")
    _, operator = await new_user(api, "operator")
    _, agent = await new_user(api, "field_agent", provinces=["MI"])

    async def status_of(headers: Headers, path: str, body: dict[str, Any]) -> int:
        return (
            await api.http.post(f"/practices/{pid}{path}", headers=headers, json=body)
        ).status_code

    # another creditor's practice
    assert await status_of(other.headers, "/proposals", settlement()) == 403
    assert await status_of(other.headers, "/proposals/x/decision", {"approved": True}) == 403
    assert await status_of(other.headers, "/closure", {"reason": "deceased"}) == 403
    # roles without these commands
    assert await status_of(lawyer, "/proposals", settlement()) == 403
    assert await status_of(lawyer, "/closure", {"reason": "deceased"}) == 403
    assert await status_of(operator, "/proposals/x/decision", {"approved": True}) == 403
    assert await status_of(agent, "/proposals/x/decision", {"approved": True}) == 403
    # a field agent of the territory, but not the one assigned to the practice
    assert await status_of(agent, "/proposals", settlement()) == 403
    assert await status_of(agent, "/closure", {"reason": "deceased"}) == 403
    # no key at all
    response = await api.http.post(f"/practices/{pid}/closure", json={"reason": "deceased"})
    assert response.status_code == 401


async def test_closure_needs_a_known_reason(
    api: Api, tenant: Tenant, practice: dict[str, Any]
) -> None:
    pid = practice["id"]
    for body, loc in (
        ({"reason": "bored"}, ["body", "reason"]),
        ({}, ["body", "reason"]),
        ({"reason": "deceased", "note": "x" * 2001}, ["body", "note"]),
    ):
        response = await api.http.post(
            f"/practices/{pid}/closure", headers=tenant.headers, json=body
        )
        assert response.status_code == 422, response.text
        assert loc in error_locs(response)
    decision = await api.http.post(
        f"/practices/{pid}/proposals/abc/decision",
        headers=tenant.headers,
        json={"approved": "maybe"},
    )
    assert decision.status_code == 422 and ["body", "approved"] in error_locs(decision)


async def test_a_closed_practice_takes_no_deal_nor_closure(api: Api, tenant: Tenant) -> None:
    creditor = await _creditor_row(api, tenant.id)
    row = await create_practice(
        api.db, creditor, status="closed", outcome="paid", balance_cents=0, paid_cents=125_050
    )
    for path, body in (
        ("/proposals", settlement("1.00")),
        ("/proposals/abc/decision", {"approved": True}),
        ("/closure", {"reason": "unable_to_pay"}),
    ):
        response = await api.http.post(
            f"/practices/{row.id}{path}", headers=tenant.headers, json=body
        )
        assert response.status_code == 409, (path, response.text)


# --- the creditor's bounds in its strategy -----------------------------------------------------


async def test_strategy_carries_the_bounds_and_the_plan_timings(api: Api) -> None:
    tenant = await new_creditor(api)
    default = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    assert default["plan_bounds"] == {
        "max_instalments": 12,
        "min_instalment": "50.00",
        "max_discount_percent": 20,
        "min_down_payment_percent": 0,
    }
    assert (default["plan_reminder_lead"], default["plan_grace"]) == ("P3D", "P5D")
    assert (default["proposal_reminder_interval"], default["proposal_timeout"]) == ("P3D", "P14D")

    body = fast_strategy(
        plan_bounds={
            "max_instalments": 6,
            "min_instalment": "100",
            "max_discount_percent": 30,
            "min_down_payment_percent": 10,
        },
        plan_reminder_lead="PT0S",
        plan_grace="PT10S",
        proposal_reminder_interval="PT5S",
        proposal_timeout="PT30S",
    )
    saved = await api.http.put(f"/creditors/{tenant.id}/strategy", headers=api.admin, json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["plan_bounds"] == {
        "max_instalments": 6,
        "min_instalment": "100.00",
        "max_discount_percent": 30,
        "min_down_payment_percent": 10,
    }
    assert saved.json()["proposal_timeout"] == "PT30S"
    got = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    assert got == saved.json()
    async with api.db.session() as session:
        stored = await session.get(Creditor, tenant.id)
        assert stored is not None
        assert stored.strategy["plan_bounds"]["min_instalment_cents"] == 10_000

    # bounds left out keep their defaults
    partial = await api.http.put(
        f"/creditors/{tenant.id}/strategy",
        headers=api.admin,
        json=fast_strategy(plan_bounds={"max_discount_percent": 0, "min_instalment": "0"}),
    )
    assert partial.status_code == 200, partial.text
    assert partial.json()["plan_bounds"] == {
        "max_instalments": 12,
        "min_instalment": "0.00",
        "max_discount_percent": 0,
        "min_down_payment_percent": 0,
    }


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"plan_bounds": {"max_instalments": -1}}, ["body", "plan_bounds", "max_instalments"]),
        ({"plan_bounds": {"min_instalment": "-5.00"}}, ["body", "plan_bounds", "min_instalment"]),
        ({"plan_bounds": {"min_instalment": "5.001"}}, ["body", "plan_bounds", "min_instalment"]),
        (
            {"plan_bounds": {"max_discount_percent": -1}},
            ["body", "plan_bounds", "max_discount_percent"],
        ),
        (
            {"plan_bounds": {"max_discount_percent": 101}},
            ["body", "plan_bounds", "max_discount_percent"],
        ),
        (
            {"plan_bounds": {"min_down_payment_percent": 101}},
            ["body", "plan_bounds", "min_down_payment_percent"],
        ),
        (
            {"plan_bounds": {"min_down_payment_percent": -5}},
            ["body", "plan_bounds", "min_down_payment_percent"],
        ),
        ({"plan_bounds": {"max_instalments": 2.5}}, ["body", "plan_bounds", "max_instalments"]),
        ({"plan_bounds": {"max_instalmnts": 2}}, ["body", "plan_bounds", "max_instalmnts"]),
        ({"plan_grace": "soon"}, ["body", "plan_grace"]),
        ({"plan_reminder_lead": "-P1D"}, ["body", "plan_reminder_lead"]),
        ({"proposal_timeout": "PT0S"}, ["body", "proposal_timeout"]),
        ({"proposal_reminder_interval": "PT0S"}, ["body", "proposal_reminder_interval"]),
        ({"proposal_timeout": "P4000D"}, ["body", "proposal_timeout"]),
    ],
    ids=[
        "instalments-negative",
        "min-instalment-negative",
        "min-instalment-decimals",
        "discount-negative",
        "discount-over-100",
        "down-over-100",
        "down-negative",
        "instalments-fraction",
        "unknown-bound",
        "grace",
        "lead-negative",
        "timeout-zero",
        "reminder-zero",
        "timeout-too-long",
    ],
)
async def test_bad_bounds_or_plan_timings_are_422_naming_the_field(
    api: Api, change: dict[str, Any], loc: list[Any]
) -> None:
    tenant = await new_creditor(api)
    before = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    response = await api.http.put(
        f"/creditors/{tenant.id}/strategy", headers=api.admin, json=fast_strategy(**change)
    )
    assert response.status_code == 422, response.text
    assert loc in error_locs(response), response.json()
    after = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    assert after == before


# --- the deal on the practice page -------------------------------------------------------------


def plan_snapshot(state: str, paid_cents: int = 0, kind: str = "plan") -> dict[str, Any]:
    """PracticeSnapshot.plan as the workflow records it (domain.practice.PlanView as JSON)."""
    if kind == "settlement":
        return {
            "proposal_id": "s" * 32,
            "kind": "settlement",
            "state": state,
            "instalments": [],
            "settlement_cents": 80_000,
            "settle_by": day(10),
            "paid_cents": paid_cents,
        }
    amounts = [40_000, 40_000, 20_000]
    left = paid_cents
    instalments = []
    for i, amount in enumerate(amounts):
        share = min(left, amount)
        left -= share
        instalments.append({"due_date": day(30 * i), "amount_cents": amount, "paid_cents": share})
    return {
        "proposal_id": "p" * 32,
        "kind": "plan",
        "state": state,
        "instalments": instalments,
        "settlement_cents": None,
        "settle_by": None,
        "paid_cents": paid_cents,
    }


async def test_the_practice_page_shows_the_plan_and_what_was_written_off(
    api: Api, tenant: Tenant
) -> None:
    creditor = await _creditor_row(api, tenant.id)
    row = await create_practice(
        api.db,
        creditor,
        status="paused_plan",
        claim_cents=100_000,
        balance_cents=50_000,
        paid_cents=50_000,
        snapshot={"plan": plan_snapshot("warned", 50_000), "written_off_cents": 0},
    )
    view = (await api.http.get(f"/practices/{row.id}", headers=tenant.headers)).json()
    assert view["status"] == "paused_plan"
    assert view["written_off"] == "0.00"
    assert view["plan"] == {
        "proposal_id": "p" * 32,
        "kind": "plan",
        "state": "warned",
        "instalments": [
            {"due_date": day(0), "amount": "400.00", "paid": "400.00", "outstanding": "0.00"},
            {"due_date": day(30), "amount": "400.00", "paid": "100.00", "outstanding": "300.00"},
            {"due_date": day(60), "amount": "200.00", "paid": "0.00", "outstanding": "200.00"},
        ],
        "settlement_amount": None,
        "settle_by": None,
        "paid": "500.00",
    }

    settled = await create_practice(
        api.db,
        creditor,
        status="closed",
        outcome="settled",
        claim_cents=100_000,
        balance_cents=0,
        paid_cents=80_000,
        snapshot={"plan": plan_snapshot("kept", 80_000, "settlement"), "written_off_cents": 20_000},
    )
    view = (await api.http.get(f"/practices/{settled.id}", headers=api.admin)).json()
    assert (view["outcome"], view["written_off"]) == ("settled", "200.00")
    assert view["plan"]["kind"] == "settlement" and view["plan"]["state"] == "kept"
    assert (view["plan"]["settlement_amount"], view["plan"]["settle_by"]) == ("800.00", day(10))
    assert view["plan"]["instalments"] == [] and view["plan"]["paid"] == "800.00"

    # no deal yet, or a snapshot from before deals existed
    plain = await create_practice(api.db, creditor, snapshot={"version": 3})
    view = (await api.http.get(f"/practices/{plain.id}", headers=api.admin)).json()
    assert view["plan"] is None and view["written_off"] == "0.00"


# --- the creditor's report ---------------------------------------------------------------------


async def _creditor_row(api: Api, creditor_id: str) -> Creditor:
    async with api.db.session() as session:
        creditor = await session.get(Creditor, creditor_id)
    assert creditor is not None
    return creditor


def at(day_: date) -> datetime:
    return datetime(day_.year, day_.month, day_.day, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def book(api: Api) -> Tenant:
    """A creditor whose practices cover every figure of the report, handed over in 2025 and 2026."""
    tenant = await new_creditor(api)
    creditor = await _creditor_row(api, tenant.id)
    jan, jun, old = date(2026, 1, 15), date(2026, 6, 10), date(2025, 3, 1)
    rows: list[dict[str, Any]] = [
        # a plan on time, a late one, a broken one (collection resumed), a settlement running
        {"status": "paused_plan", "paid_cents": 0, "snapshot": {"plan": plan_snapshot("active")}},
        {
            "status": "paused_plan",
            "paid_cents": 10_000,
            "snapshot": {"plan": plan_snapshot("warned", 10_000)},
        },
        {
            "status": "active",
            "paid_cents": 5_000,
            "snapshot": {"plan": plan_snapshot("broken", 5_000)},
            "created_at": at(jun),
        },
        {
            "status": "paused_settlement",
            "snapshot": {"plan": plan_snapshot("active", kind="settlement")},
        },
        # a plan waiting for the creditor: not running yet
        {
            "status": "paused_proposal",
            "snapshot": {"plan": plan_snapshot("awaiting_approval")},
        },
        # closed: settled (200.00 written off), paid in full, deceased
        {
            "status": "closed",
            "outcome": "settled",
            "paid_cents": 80_000,
            "balance_cents": 0,
            "snapshot": {
                "plan": plan_snapshot("kept", 80_000, "settlement"),
                "written_off_cents": 20_000,
            },
            "created_at": at(jun),
        },
        {
            "status": "closed",
            "outcome": "paid",
            "paid_cents": 125_050,
            "balance_cents": 0,
            "snapshot": {},
        },
        {"status": "closed", "outcome": "deceased", "snapshot": {"written_off_cents": 0}},
        # handed over in 2025: outside a 2026 period
        {
            "status": "closed",
            "outcome": "settled",
            "paid_cents": 30_000,
            "balance_cents": 0,
            "snapshot": {"written_off_cents": 7_000},
            "created_at": at(old),
        },
    ]
    for fields in rows:
        fields.setdefault("created_at", at(jan))
        await create_practice(api.db, creditor, **fields)
    # another creditor's practice never counts
    other = await new_creditor(api)
    await create_practice(
        api.db,
        await _creditor_row(api, other.id),
        status="closed",
        outcome="settled",
        paid_cents=99_900,
        snapshot={"written_off_cents": 100, "plan": plan_snapshot("broken")},
        created_at=at(jan),
    )
    return tenant


def zeros(names: list[str]) -> dict[str, int]:
    return dict.fromkeys(names, 0)


STATUSES = [
    "active",
    "paused_promise",
    "paused_dispute",
    "paused_proposal",
    "paused_plan",
    "paused_settlement",
    "closed",
]
OUTCOMES = [
    "paid",
    "withdrawn",
    "returned",
    "dispute_upheld",
    "settled",
    "deceased",
    "insolvency",
    "unable_to_pay",
    "uncollectable",
]


async def test_report_counts_and_sums_the_creditors_practices(api: Api, book: Tenant) -> None:
    response = await api.http.get(f"/reports/creditors/{book.id}", headers=book.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "creditor_id": book.id,
        "from": None,
        "to": None,
        "practices": 9,
        "by_status": {
            **zeros(STATUSES),
            "active": 1,
            "paused_plan": 2,
            "paused_settlement": 1,
            "paused_proposal": 1,
            "closed": 4,
        },
        "by_outcome": {**zeros(OUTCOMES), "settled": 2, "paid": 1, "deceased": 1},
        # 100.00 + 50.00 + 800.00 + 1250.50 + 300.00
        "recovered": "2500.50",
        "settled": {"count": 2, "paid": "1100.00"},
        "written_off": "270.00",
        "plans": {"active": 2, "on_time": 1, "late": 1, "broken": 1},
        # nothing done by the debtors on their own page (tests/api/test_creditor_reports.py)
        "online": {
            "payments": 0,
            "paid": "0.00",
            "plans": {"proposed": 0, "accepted": 0},
            "settlements": {"proposed": 0, "accepted": 0},
            "disputes": 0,
        },
    }
    # the admin sees the same
    as_admin = await api.http.get(f"/reports/creditors/{book.id}", headers=api.admin)
    assert as_admin.json() == response.json()


async def test_report_period_selects_by_hand_over_day(api: Api, book: Tenant) -> None:
    response = await api.http.get(
        f"/reports/creditors/{book.id}",
        headers=book.headers,
        params={"from": "2026-01-01", "to": "2026-06-09"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["from"], report["to"], report["practices"]) == ("2026-01-01", "2026-06-09", 6)
    assert report["by_outcome"] == {**zeros(OUTCOMES), "paid": 1, "deceased": 1}
    assert report["settled"] == {"count": 0, "paid": "0.00"}
    assert (report["recovered"], report["written_off"]) == ("1350.50", "0.00")
    assert report["plans"] == {"active": 2, "on_time": 1, "late": 1, "broken": 0}

    # `to` is inclusive: the practices of 10 June count on that day
    june = await api.http.get(
        f"/reports/creditors/{book.id}",
        headers=book.headers,
        params={"from": "2026-06-10", "to": "2026-06-10"},
    )
    assert june.json()["practices"] == 2
    assert june.json()["settled"] == {"count": 1, "paid": "800.00"}
    assert june.json()["plans"]["broken"] == 1

    since_2026 = await api.http.get(
        f"/reports/creditors/{book.id}", headers=book.headers, params={"from": "2026-01-01"}
    )
    assert since_2026.json()["practices"] == 8 and since_2026.json()["written_off"] == "200.00"
    until_2025 = await api.http.get(
        f"/reports/creditors/{book.id}", headers=book.headers, params={"to": "2025-12-31"}
    )
    assert until_2025.json()["practices"] == 1 and until_2025.json()["recovered"] == "300.00"


async def test_report_as_csv_one_row_per_metric(api: Api, book: Tenant) -> None:
    response = await api.http.get(f"/reports/creditors/{book.id}.csv", headers=book.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["metric", "value"]
    values = dict(rows[1:])
    assert len(values) == len(rows) - 1  # every metric once
    assert values["practices"] == "9"
    assert values["status.closed"] == "4" and values["status.paused_plan"] == "2"
    assert values["status.paused_promise"] == "0"
    assert values["outcome.settled"] == "2" and values["outcome.insolvency"] == "0"
    assert values["recovered"] == "2500.50"
    assert (values["settled.count"], values["settled.paid"]) == ("2", "1100.00")
    assert values["written_off"] == "270.00"
    assert (values["plans.active"], values["plans.on_time"]) == ("2", "1")
    assert (values["plans.late"], values["plans.broken"]) == ("1", "1")
    assert values["from"] == "" and values["to"] == ""

    json_report = (await api.http.get(f"/reports/creditors/{book.id}", headers=api.admin)).json()
    period = await api.http.get(
        f"/reports/creditors/{book.id}.csv",
        headers=api.admin,
        params={"from": "2026-06-10", "to": "2026-06-10"},
    )
    values = dict(list(csv.reader(io.StringIO(period.text)))[1:])
    assert (values["from"], values["to"], values["practices"]) == ("2026-06-10", "2026-06-10", "2")
    assert json_report["practices"] == 9


async def test_report_access_and_bad_periods(api: Api, book: Tenant) -> None:
    other = await new_creditor(api)
    _, operator = await new_user(api, "operator")
    for suffix in ("", ".csv"):
        path = f"/reports/creditors/{book.id}{suffix}"
        assert (await api.http.get(path, headers=other.headers)).status_code == 403
        assert (await api.http.get(path, headers=operator)).status_code == 403
        assert (await api.http.get(path)).status_code == 401
        unknown = await api.http.get(f"/reports/creditors/{'0' * 32}{suffix}", headers=api.admin)
        assert unknown.status_code == 404
        backwards = await api.http.get(
            path, headers=api.admin, params={"from": "2026-06-10", "to": "2026-06-09"}
        )
        assert backwards.status_code == 422 and ["query", "to"] in error_locs(backwards)
        bad = await api.http.get(path, headers=api.admin, params={"from": "10/06/2026"})
        assert bad.status_code == 422 and ["query", "from"] in error_locs(bad)


async def test_a_creditor_without_practices_reports_zeros(api: Api) -> None:
    tenant = await new_creditor(api)
    report = (await api.http.get(f"/reports/creditors/{tenant.id}", headers=tenant.headers)).json()
    assert report["practices"] == 0
    assert report["by_status"] == zeros(STATUSES) and report["by_outcome"] == zeros(OUTCOMES)
    assert (report["recovered"], report["written_off"]) == ("0.00", "0.00")
    assert report["settled"] == {"count": 0, "paid": "0.00"}
    assert report["plans"] == {"active": 0, "on_time": 0, "late": 0, "broken": 0}


# --- through the workflow ----------------------------------------------------------------------


async def test_a_plan_within_the_bounds_is_in_force_at_once(api: Api) -> None:
    """An overdue practice on a fast strategy; a plan of two instalments within the default
    bounds: the workflow puts it in force, the practice page shows it active, and a second
    proposal while it runs is a 409."""
    tenant = await new_creditor(api, fast_strategy(plan_grace="P5D", plan_reminder_lead="P1D"))
    _, operator = await new_user(api, "operator")
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-10))
    pid = practice["id"]
    assert practice["phase"] == "out_of_court"

    response = await api.http.post(
        f"/practices/{pid}/proposals",
        headers=operator,
        json={**plan("625.20", "625.20"), "note": "accordo telefonico"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["accepted"] is True
    assert (body["within_bounds"], body["reasons"], body["answer_by"]) == (True, [], None)
    assert len(body["proposal_id"]) == 32 and body["balance"] == "1250.40"

    async def plan_in_force() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        deal = view.get("plan")
        return view if deal and deal["state"] == "active" else None

    view = await eventually(plan_in_force, "the plan to be in force")
    assert view["plan"]["proposal_id"] == body["proposal_id"]
    assert view["plan"]["kind"] == "plan"
    assert [(i["due_date"], i["amount"], i["paid"]) for i in view["plan"]["instalments"]] == [
        (day(30), "625.20", "0.00"),
        (day(60), "625.20", "0.00"),
    ]
    notes = (await api.http.get(f"/practices/{pid}/notes", headers=api.admin)).json()
    assert [(n["kind"], n["text"]) for n in notes] == [("proposal", "accordo telefonico")]

    second = await api.http.post(
        f"/practices/{pid}/proposals", headers=operator, json=settlement("1100.00")
    )
    assert second.status_code == 409, second.text


async def test_the_strategy_keeps_the_interest_claim_and_the_allocation(api: Api) -> None:
    creditor = await new_creditor(api)
    body = fast_strategy(claim_interest=True, allocation="principal_first")
    saved = await api.http.put(f"/creditors/{creditor.id}/strategy", headers=api.admin, json=body)
    assert saved.status_code == 200, saved.text
    again = await api.http.get(f"/creditors/{creditor.id}/strategy", headers=api.admin)
    assert again.json()["claim_interest"] is True
    assert again.json()["allocation"] == "principal_first"
    bad = await api.http.put(
        f"/creditors/{creditor.id}/strategy",
        headers=api.admin,
        json=fast_strategy(allocation="newest_first"),
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "allocation"


def promised_day(timeout: timedelta, before: datetime, after: datetime) -> set[str]:
    """The days the creditor's answer may be promised for, the request sent between the two."""
    return {
        (moment + timeout + timedelta(minutes=1)).astimezone(ROME).date().isoformat()
        for moment in (before, after)
    }


async def test_a_plan_outside_the_bounds_promises_the_creditors_answer_by_a_date(
    api: Api,
) -> None:
    """Outside the creditor's bounds the proposal waits for it, and the answer is promised by
    the day its silence would refuse it (the strategy's proposal_timeout)."""
    tenant = await new_creditor(api, fast_strategy(proposal_timeout="P10D"))
    _, operator = await new_user(api, "operator")
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-10))
    before = datetime.now(UTC)
    response = await api.http.post(
        f"/practices/{practice['id']}/proposals",
        headers=operator,
        json=plan(*(["96.18"] * 12 + ["96.24"])),
    )
    after = datetime.now(UTC)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["within_bounds"], body["reasons"]) == (False, ["more than 12 instalments"])
    assert body["answer_by"] in promised_day(timedelta(days=10), before, after)
    assert body["status"] == "paused_proposal"


async def test_the_debtors_plan_by_count_goes_through_the_same_service(api: Api) -> None:
    """The debtor's page: a number of instalments and a first date, built into equal monthly
    instalments for the balance, sent by the service the API uses, with the debtor as actor."""
    tenant = await new_creditor(api, fast_strategy(proposal_timeout="P7D"))
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-10))
    async with api.db.session() as session:
        row = await session.get(Practice, practice["id"])
        assert row is not None
        first = TODAY + timedelta(days=20)
        command = proposals.plan_by_count(24, first, row)
        before = datetime.now(UTC)
        outcome = await proposals.propose(
            session,
            api.temporal,
            row,
            command,
            proposal_id=uuid.uuid4().hex,
            note="",
            author_id=None,
            actor=Actor(ActorKind.DEBTOR),
        )
        after = datetime.now(UTC)
    assert outcome.within_bounds is False and outcome.reasons == ["more than 12 instalments"]
    assert outcome.answer_by is not None
    assert outcome.answer_by.isoformat() in promised_day(timedelta(days=7), before, after)
    assert len(outcome.schedule) == 24 and outcome.schedule[0].due_date == first
    assert sum(i.amount_cents for i in outcome.schedule) == 125040
    assert outcome.result.status == "paused_proposal"
    # and one that cannot be a plan at all names the field the page shows it on
    with pytest.raises(ProposalError) as refused:
        proposals.plan_by_count(0, first, row)
    assert refused.value.field_name == "instalment_count"


async def test_a_plan_by_count_within_the_bounds_shows_its_schedule(api: Api) -> None:
    tenant = await new_creditor(api, fast_strategy(plan_grace="P5D", plan_reminder_lead="P1D"))
    _, operator = await new_user(api, "operator")
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-10))
    first = TODAY + timedelta(days=3)
    response = await api.http.post(
        f"/practices/{practice['id']}/proposals",
        headers=operator,
        json={"kind": "plan", "instalment_count": 3, "first_due_date": first.isoformat()},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["within_bounds"], body["answer_by"]) == (True, None)
    dates = [equal_instalments(3, first, 125040)[n].due_date.isoformat() for n in range(3)]
    assert body["schedule"] == [
        {"due_date": dates[0], "amount": "416.80"},
        {"due_date": dates[1], "amount": "416.80"},
        {"due_date": dates[2], "amount": "416.80"},
    ]
