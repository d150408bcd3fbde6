"""Reports for a creditor (admin, or that creditor's users): its practices by status and outcome,
what was recovered, settled and written off, and how its repayment plans are going.

Counts and sums come from the read model: the practices' columns, and for what only the
workflow's snapshot holds (the amount written off, the latest deal's kind and state) the
snapshot JSON. `from` / `to` select practices by the day they were handed over (Europe/Rome).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.routers.creditors import _creditor_for
from api.schemas import euros_out
from api.schemas_deals import (
    CohortOut,
    CreditorChartsOut,
    CreditorReportOut,
    MonthRecoveredOut,
    PlansOut,
    ProposedOnlineOut,
    SelfServiceOut,
    SettledOut,
)
from api.services.reports import (
    CreditorCharts,
    SelfService,
    check_period,
    creditor_charts,
    handed_over,
    practice_counts,
    self_service,
)
from db.models import Practice
from domain.practice import Outcome

router = APIRouter(
    prefix="/reports",
    tags=["reports"],
    responses={
        403: {"description": "Another creditor's report, or a role without reports."},
        404: {"description": "Unknown creditor."},
        422: {"description": "Bad dates; `loc` names the parameter."},
    },
)

AdminOrCreditor = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]
From = Annotated[
    date | None,
    Query(alias="from", description="First hand-over day counted (Europe/Rome), inclusive."),
]
To = Annotated[
    date | None, Query(description="Last hand-over day counted (Europe/Rome), inclusive.")
]

# snapshot keys (domain.practice.PracticeSnapshot / PlanView as JSON)
RUNNING_PLAN = ("active", "warned")


async def _report(
    session: SessionDep, creditor_id: str, from_: date | None, to: date | None
) -> CreditorReportOut:
    check_period(from_, to)
    conditions = handed_over(creditor_id, from_, to)
    by_status, by_outcome = await practice_counts(session, conditions)

    written_off = Practice.snapshot["written_off_cents"].as_integer()
    totals = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Practice.paid_cents), 0),
                func.coalesce(func.sum(written_off), 0),
            ).where(*conditions)
        )
    ).one()
    settled = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Practice.paid_cents), 0)).where(
                *conditions, Practice.outcome == Outcome.SETTLED.value
            )
        )
    ).one()

    plan_state = Practice.snapshot[("plan", "state")].as_string()
    plan_kind = Practice.snapshot[("plan", "kind")].as_string()
    states: dict[str, int] = {}
    for state, count in await session.execute(
        select(plan_state, func.count())
        .where(*conditions, plan_kind == "plan")
        .group_by(plan_state)
    ):
        if state is not None:
            states[state] = count
    return CreditorReportOut(
        creditor_id=creditor_id,
        from_=from_,
        to=to,
        practices=int(totals[0]),
        by_status=by_status,
        by_outcome=by_outcome,
        recovered=euros_out(int(totals[1])),
        settled=SettledOut(count=int(settled[0]), paid=euros_out(int(settled[1]))),
        written_off=euros_out(int(totals[2])),
        plans=PlansOut(
            active=sum(states.get(s, 0) for s in RUNNING_PLAN),
            on_time=states.get("active", 0),
            late=states.get("warned", 0),
            broken=states.get("broken", 0),
        ),
        online=online_out(await self_service(session, creditor_id, from_, to)),
    )


def online_out(online: SelfService) -> SelfServiceOut:
    return SelfServiceOut(
        payments=online.payments,
        paid=euros_out(online.paid_cents),
        plans=ProposedOnlineOut(proposed=online.plans_proposed, accepted=online.plans_accepted),
        settlements=ProposedOnlineOut(
            proposed=online.settlements_proposed, accepted=online.settlements_accepted
        ),
        disputes=online.disputes,
    )


def report_rows(report: CreditorReportOut) -> list[tuple[str, Any]]:
    """One (metric, value) per figure, in the JSON's order."""
    rows: list[tuple[str, Any]] = [
        ("creditor_id", report.creditor_id),
        ("from", report.from_.isoformat() if report.from_ else ""),
        ("to", report.to.isoformat() if report.to else ""),
        ("practices", report.practices),
    ]
    rows += [(f"status.{name}", count) for name, count in report.by_status.items()]
    rows += [(f"outcome.{name}", count) for name, count in report.by_outcome.items()]
    rows += [
        ("recovered", report.recovered),
        ("settled.count", report.settled.count),
        ("settled.paid", report.settled.paid),
        ("written_off", report.written_off),
        ("plans.active", report.plans.active),
        ("plans.on_time", report.plans.on_time),
        ("plans.late", report.plans.late),
        ("plans.broken", report.plans.broken),
        ("online.payments", report.online.payments),
        ("online.paid", report.online.paid),
        ("online.plans.proposed", report.online.plans.proposed),
        ("online.plans.accepted", report.online.plans.accepted),
        ("online.settlements.proposed", report.online.settlements.proposed),
        ("online.settlements.accepted", report.online.settlements.accepted),
        ("online.disputes", report.online.disputes),
    ]
    return rows


# declared before the JSON route: "{creditor_id}" would otherwise match "<id>.csv" too
@router.get(
    "/creditors/{creditor_id}.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "metric,value: one row per figure of the JSON report, amounts in euros.",
        }
    },
)
async def creditor_report_csv(
    creditor_id: str,
    session: SessionDep,
    principal: AdminOrCreditor,
    from_: From = None,
    to: To = None,
) -> Response:
    """The creditor's report as CSV, one row per metric (`metric,value`): `practices`,
    `status.<status>`, `outcome.<outcome>`, `recovered`, `settled.count`, `settled.paid`,
    `written_off`, `plans.active`, `plans.on_time`, `plans.late`, `plans.broken`, and what the
    debtors did on their own page: `online.payments`, `online.paid`, `online.plans.proposed`,
    `online.plans.accepted`, `online.settlements.proposed`, `online.settlements.accepted`,
    `online.disputes`."""
    await _creditor_for(session, principal, creditor_id)
    report = await _report(session, creditor_id, from_, to)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("metric", "value"))
    writer.writerows(report_rows(report))
    return Response(
        content=out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="report-{creditor_id}.csv"'},
    )


@router.get("/creditors/{creditor_id}", response_model=CreditorReportOut)
async def creditor_report(
    creditor_id: str,
    session: SessionDep,
    principal: AdminOrCreditor,
    from_: From = None,
    to: To = None,
) -> CreditorReportOut:
    """The creditor's practices handed over in the period (all of them without `from`/`to`):
    counts by status and by outcome; amounts recovered (paid on them), settled (practices
    closed as settled and what was paid on them) and written off (the rest of a settled
    balance), as euros; repayment plans running (on time or late) and broken, from each
    practice's latest deal. `online`: what the debtors did on their own page (payments by the
    day paid, proposals and disputes by the day made, in the period)."""
    await _creditor_for(session, principal, creditor_id)
    return await _report(session, creditor_id, from_, to)


def charts_out(charts: CreditorCharts) -> CreditorChartsOut:
    return CreditorChartsOut(
        creditor_id=charts.creditor_id,
        from_=charts.from_,
        to=charts.to,
        recovered_by_month=[
            MonthRecoveredOut(
                month=m.month.strftime("%Y-%m"),
                recovered=euros_out(m.recovered_cents),
                payments=m.payments,
            )
            for m in charts.recovered_by_month
        ],
        by_status=charts.by_status,
        by_outcome=charts.by_outcome,
        cohorts=[
            CohortOut(
                month=c.month.strftime("%Y-%m"),
                practices=c.practices,
                placed=euros_out(c.placed_cents),
                recovered=euros_out(c.recovered_cents),
                share=str(c.share) if c.share is not None else None,
            )
            for c in charts.cohorts
        ],
        online=online_out(charts.self_service),
    )


@router.get("/creditors/{creditor_id}/monthly", response_model=CreditorChartsOut)
async def creditor_report_monthly(
    creditor_id: str,
    session: SessionDep,
    principal: AdminOrCreditor,
    from_: From = None,
    to: To = None,
) -> CreditorChartsOut:
    """The figures of the console's report charts: the amount recovered by the month it was
    paid (payments whose day falls in the period), the practices handed over in the period by
    status and by outcome, and by month of hand-over (Europe/Rome) the amount placed, what has
    been recovered on it to date and their share. Months without figures between the first and
    the last are listed with zeros; amounts in euros."""
    await _creditor_for(session, principal, creditor_id)
    return charts_out(await creditor_charts(session, creditor_id, from_, to))
