"""The creditor's report charts: GET /reports/creditors/{id}/monthly and the console's report
page show the same figures (api/services/reports.creditor_charts); a creditor sees only its
own, the admin chooses the creditor, other roles are refused. Rows are written directly (the
figures are the read model's), the month rules are tested in tests/test_report_charts.py."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from db.models import Creditor, Event, Practice
from tests.api.helpers import Api, Tenant, new_creditor
from tests.api.test_console_admin import as_role, field_error
from tests.factories import backfill, create_practice, invoice

PAGE = "/console/creditor/reports"


async def _row(api: Api, creditor_id: str) -> Creditor:
    async with api.db.session() as session:
        creditor = await session.get(Creditor, creditor_id)
    assert creditor is not None
    return creditor


async def _practice(
    api: Api, creditor: Creditor, cents: int, at: datetime, paid: list[tuple[date, int]], **kw: Any
) -> Practice:
    rows = [invoice(f"F-{cents}", date(2025, 12, 1), date(2025, 12, 31), cents)]
    total_paid = sum(amount for _, amount in paid)
    practice = await create_practice(
        api.db,
        creditor,
        invoices=rows,
        created_at=at,
        paid_cents=total_paid,
        balance_cents=cents - total_paid,
        **kw,
    )
    async with api.db.session() as session, session.begin():
        for seq, (day, amount) in enumerate(paid, start=1):
            data = {"amount_cents": amount, "paid_on": day.isoformat(), "reference": f"R{seq}"}
            session.add(
                Event(
                    practice_id=practice.id,
                    seq=seq,
                    at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
                    kind="payment",
                    summary="",
                    data=data,
                )
            )
    await backfill(api.db)
    return practice


@pytest.fixture(scope="module")
async def ledger(api: Api) -> tuple[Tenant, Tenant]:
    tenant = await new_creditor(api)
    other = await new_creditor(api)
    creditor = await _row(api, tenant.id)
    jan = datetime(2026, 1, 10, 9, tzinfo=UTC)
    feb = datetime(2026, 2, 3, 9, tzinfo=UTC)
    await _practice(api, creditor, 200_000, jan, [(date(2026, 1, 20), 125_040)])
    await _practice(
        api,
        creditor,
        50_000,
        feb,
        [(date(2026, 2, 5), 20_000), (date(2026, 3, 2), 30_000)],
        status="closed",
        outcome="paid",
    )
    await _practice(api, await _row(api, other.id), 900_000, jan, [(date(2026, 1, 21), 900_000)])
    return tenant, other


async def test_the_api_gives_the_charts_figures(api: Api, ledger: tuple[Tenant, Tenant]) -> None:
    tenant, other = ledger
    answer = await api.http.get(f"/reports/creditors/{tenant.id}/monthly", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["recovered_by_month"] == [
        {"month": "2026-01", "recovered": "1250.40", "payments": 1},
        {"month": "2026-02", "recovered": "200.00", "payments": 1},
        {"month": "2026-03", "recovered": "300.00", "payments": 1},
    ]
    assert body["cohorts"] == [
        {
            "month": "2026-01",
            "practices": 1,
            "placed": "2000.00",
            "recovered": "1250.40",
            "share": "0.6252",
        },
        {
            "month": "2026-02",
            "practices": 1,
            "placed": "500.00",
            "recovered": "500.00",
            "share": "1.0000",
        },
    ]
    assert body["by_status"]["active"] == 1 and body["by_outcome"]["paid"] == 1
    # the period: payments paid in February and March, practices handed over then
    period = await api.http.get(
        f"/reports/creditors/{tenant.id}/monthly",
        headers=tenant.headers,
        params={"from": "2026-02-01", "to": "2026-03-31"},
    )
    assert [m["month"] for m in period.json()["recovered_by_month"]] == ["2026-02", "2026-03"]
    assert [c["month"] for c in period.json()["cohorts"]] == ["2026-02"]
    assert period.json()["from"] == "2026-02-01"
    # the admin sees it; another creditor's user does not; a period backwards is a 422 on `to`
    admin = await api.http.get(f"/reports/creditors/{tenant.id}/monthly", headers=api.admin)
    assert admin.json() == body
    foreign = await api.http.get(f"/reports/creditors/{tenant.id}/monthly", headers=other.headers)
    assert foreign.status_code == 403
    backwards = await api.http.get(
        f"/reports/creditors/{tenant.id}/monthly",
        headers=tenant.headers,
        params={"from": "2026-03-01", "to": "2026-02-01"},
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["query", "to"]


def _chart_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page)
    assert found, page[:3000]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


async def test_a_creditor_sees_its_report_page(api: Api, ledger: tuple[Tenant, Tenant]) -> None:
    tenant, other = ledger
    await as_role(api, "creditor", creditor_id=tenant.id)
    page = await api.http.get(PAGE)
    assert page.status_code == 200, page.text
    text = page.text
    # the three tables, in Italian: months by name, money as 1.250,40 €
    for table in ("table-recovered", "table-statuses", "table-cohorts"):
        assert f'id="{table}"' in text
    assert '<th scope="row">gennaio 2026</th>' in text
    assert "1.250,40\xa0€" in text and "2.000,00\xa0€" in text
    assert "62,5%" in text and "100,0%" in text
    assert '<th scope="row">In corso</th>' in text and "<td>Saldata</td>" in text
    assert "9.000,00\xa0€" not in text  # the other creditor's payment
    # the charts' data is the API's
    data = _chart_data(text)
    assert data["locale"] == "it"
    assert data["recovered"]["cents"] == [125_040, 20_000, 30_000]
    assert data["recovered"]["labels"] == ["gen 2026", "feb 2026", "mar 2026"]
    assert data["cohorts"]["shares"] == [0.6252, 1.0]
    assert data["statuses"]["counts"] == [1, 1]
    # the period's form: a backwards period is the API's 422, next to `to`
    backwards = await api.http.get(PAGE, params={"from": "2026-03-01", "to": "2026-02-01"})
    assert backwards.status_code == 422
    assert field_error(backwards, "to")
    bad = await api.http.get(PAGE, params={"from": "1 marzo"})
    assert bad.status_code == 422 and field_error(bad, "from")
    # another creditor's report does not exist for this user
    foreign = await api.http.get(PAGE, params={"creditor_id": other.id})
    assert foreign.status_code == 404
    # the nav entry
    assert 'href="/console/creditor/reports" aria-current="page"' in text


async def test_the_admin_chooses_the_creditor(api: Api, ledger: tuple[Tenant, Tenant]) -> None:
    tenant, _other = ledger
    await as_role(api, "admin")
    choose = await api.http.get(PAGE)
    assert choose.status_code == 200
    assert 'id="creditor_id"' in choose.text and 'id="report-data"' not in choose.text
    page = await api.http.get(PAGE, params={"creditor_id": tenant.id})
    assert page.status_code == 200
    assert _chart_data(page.text)["recovered"]["cents"] == [125_040, 20_000, 30_000]
    unknown = await api.http.get(PAGE, params={"creditor_id": "nobody"})
    assert unknown.status_code == 404


async def test_an_operator_cannot_open_the_reports(api: Api) -> None:
    await as_role(api, "operator")
    refused = await api.http.get(PAGE)
    assert refused.status_code == 403
    assert 'href="/console/creditor/reports"' not in refused.text


async def _debtor_events(
    api: Api, practice: Practice, rows: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """Timeline events (kind, actor kind, data) written directly, from seq 100, on 10 Feb 2026."""
    async with api.db.session() as session, session.begin():
        for seq, (kind, actor, data) in enumerate(rows, start=100):
            summary = data.pop("summary", "")
            session.add(
                Event(
                    practice_id=practice.id,
                    seq=seq,
                    at=datetime(2026, 2, 10, 9, tzinfo=UTC),
                    kind=kind,
                    summary=summary,
                    data=data,
                    actor_kind=actor,
                    actor_id=None if actor == "debtor" else "someone",
                )
            )
    await backfill(api.db)


async def test_the_report_counts_what_the_debtors_did_online(api: Api) -> None:
    tenant = await new_creditor(api)
    creditor = await _row(api, tenant.id)
    practice = await _practice(
        api, creditor, 100_000, datetime(2026, 1, 10, 9, tzinfo=UTC), [(date(2026, 2, 1), 20_000)]
    )
    paid = {"amount_cents": 45_000, "paid_on": "2026-02-10", "reference": "Stripe pi_1"}
    await _debtor_events(
        api,
        practice,
        [
            ("payment", "debtor", paid),
            (
                "proposal",
                "debtor",
                {"summary": "Proposal (plan, debtor)", "proposal_id": "a", "within_bounds": True},
            ),
            ("deal_started", "debtor", {"proposal_id": "a"}),
            (
                "proposal",
                "debtor",
                {
                    "summary": "Proposal (settlement, debtor): needs",
                    "proposal_id": "b",
                    "within_bounds": False,
                },
            ),
            (
                "proposal",
                "user",
                {
                    "summary": "Proposal (settlement, call)",
                    "proposal_id": "c",
                    "within_bounds": True,
                },
            ),
            ("dispute_opened", "debtor", {"dispute_id": "d"}),
            ("dispute_opened", "user", {"dispute_id": "e"}),
        ],
    )
    online = {
        "payments": 1,
        "paid": "450.00",
        "plans": {"proposed": 1, "accepted": 1},
        "settlements": {"proposed": 1, "accepted": 0},
        "disputes": 1,
    }
    report = await api.http.get(f"/reports/creditors/{tenant.id}", headers=tenant.headers)
    assert report.status_code == 200, report.text
    assert report.json()["online"] == online
    # the operator's payment (the fixture's, no actor) is recovered but not online
    assert report.json()["recovered"] == "200.00"
    monthly = await api.http.get(f"/reports/creditors/{tenant.id}/monthly", headers=tenant.headers)
    assert monthly.json()["online"] == online
    # a period without the debtors' actions
    march = await api.http.get(
        f"/reports/creditors/{tenant.id}", headers=tenant.headers, params={"from": "2026-03-01"}
    )
    assert march.json()["online"]["payments"] == 0 and march.json()["online"]["disputes"] == 0
    rows = (await api.http.get(f"/reports/creditors/{tenant.id}.csv", headers=tenant.headers)).text
    values = dict(list(csv.reader(io.StringIO(rows)))[1:])
    assert (values["online.payments"], values["online.paid"]) == ("1", "450.00")
    assert (values["online.plans.proposed"], values["online.plans.accepted"]) == ("1", "1")
    assert values["online.settlements.proposed"] == "1"
    assert values["online.settlements.accepted"] == "0" and values["online.disputes"] == "1"

    # the console's report page: the same figures in a table, in Italian
    await as_role(api, "creditor", creditor_id=tenant.id)
    page = await api.http.get(PAGE)
    assert page.status_code == 200, page.text
    table = page.text[page.text.index('id="table-online"') :]
    table = table[: table.index("</table>")]
    assert '<th scope="row">Pagamenti online</th><td class="number">1</td>' in table
    assert "450,00\xa0€" in table
    assert "Contestazioni aperte online" in table
