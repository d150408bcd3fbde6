"""The creditor's reports with charts: recovered by month, practices by status and outcome, the
share of the placed amount recovered by month of hand-over. An admin chooses the creditor.

The figures are api/services/reports.creditor_charts, the function behind GET
/reports/creditors/{id}/monthly: the page and the API share the rules. Each chart is drawn by
Chart.js (static/vendor/chartjs) from a JSON block of the page (static/console-charts.js: the
Content-Security-Policy allows no inline script), and each has a table with the same figures
formatted for the page's language, for screen readers and for whoever prefers numbers. A last
table, without a chart, counts what the debtors did themselves on their own page. Below, each
experiment of the creditor's strategy lab with practices: its results by arm
(api/services/lab_results.py, as GET /creditors/{id}/experiments/{eid}/results), the
liquidation rate by arm drawn beside its table."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from babel.dates import format_date
from babel.numbers import format_percent
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from api.auth import Principal, Role, console_require
from api.console import i18n
from api.console.forms import field_errors, optional
from api.console.lab_results_view import results_view
from api.console.security import ConsoleRequest
from api.console.templating import render, request_locale
from api.deps import SessionDep
from api.errors import not_found
from api.services.creditors import creditor_for
from api.services.lab_results import (
    DEFAULT_EFFECT_POINTS,
    creditor_experiments_results,
    experiment_results,
    results_csv,
)
from api.services.reports import CreditorCharts, creditor_charts
from db.models import Creditor
from domain.practice import Status

router = APIRouter(prefix="/creditor", tags=["console"])

Creditors = Annotated[Principal, console_require(Role.ADMIN, Role.CREDITOR)]


class ReportFilters(BaseModel):
    """The page's form: the API's `from` / `to` (Rome days, inclusive) and, for the admin, the
    creditor."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    creditor_id: str | None = Field(default=None, max_length=100)


FIELDS = ("from", "to", "creditor_id")


def _read(request: Request) -> tuple[ReportFilters, dict[str, str], dict[str, str]]:
    typed = {name: request.query_params.get(name, "")[:100] for name in FIELDS}
    try:
        filters = ReportFilters.model_validate({k: optional(v) for k, v in typed.items()})
    except ValidationError as exc:
        return ReportFilters(), typed, field_errors(exc)
    return filters, typed, {}


def _breakdown(charts: CreditorCharts) -> list[tuple[str, str | None, int]]:
    """Chart (b)'s bars: the open practices by status, the closed ones by outcome (the two add
    up to the practices handed over in the period); categories without practices left out."""
    rows: list[tuple[str, str | None, int]] = [
        (status, None, count)
        for status, count in charts.by_status.items()
        if status != Status.CLOSED.value and count
    ]
    rows += [
        (Status.CLOSED.value, outcome, count)
        for outcome, count in charts.by_outcome.items()
        if count
    ]
    return rows


def _view(charts: CreditorCharts, code: str) -> dict[str, Any]:
    """The tables' rows (formatted for the locale) and the charts' data (numbers, labels)."""
    language = i18n.language(code)

    def name(value: str) -> str:
        return i18n.translate(code, i18n.PRACTICE_VALUES.get(value, value))

    def month(value: date) -> str:
        return format_date(value, "LLLL y", locale=code)

    def short_month(value: date) -> str:
        return format_date(value, "LLL y", locale=code)

    def share(value: Any) -> str:
        return format_percent(value, format="#,##0.0%", locale=code) if value is not None else "-"

    breakdown = _breakdown(charts)
    statuses = [
        {
            "status": name(status),
            "outcome": name(outcome) if outcome else "",
            "label": f"{name(status)}: {name(outcome)}" if outcome else name(status),
            "count": count,
        }
        for status, outcome, count in breakdown
    ]
    recovered = [
        {
            "month": month(m.month),
            "amount": language.money(m.recovered_cents),
            "payments": m.payments,
        }
        for m in charts.recovered_by_month
    ]
    cohorts = [
        {
            "month": month(c.month),
            "practices": c.practices,
            "placed": language.money(c.placed_cents),
            "recovered": language.money(c.recovered_cents),
            "share": share(c.share),
        }
        for c in charts.cohorts
    ]
    gettext = i18n.translations(code).gettext
    online = charts.self_service
    self_service = [
        (gettext("Payments made online"), str(online.payments)),
        (gettext("Amount paid online"), language.money(online.paid_cents)),
        (gettext("Plans proposed online"), str(online.plans_proposed)),
        (gettext("Plans proposed online and accepted"), str(online.plans_accepted)),
        (gettext("Settlements proposed online"), str(online.settlements_proposed)),
        (gettext("Settlements proposed online and accepted"), str(online.settlements_accepted)),
        (gettext("Disputes opened online"), str(online.disputes)),
    ]
    data = {
        "locale": code,
        "recovered": {
            "label": gettext("Recovered"),
            "labels": [short_month(m.month) for m in charts.recovered_by_month],
            "cents": [m.recovered_cents for m in charts.recovered_by_month],
        },
        "statuses": {
            "label": gettext("Practices"),
            "labels": [row["label"] for row in statuses],
            "counts": [row["count"] for row in statuses],
        },
        "cohorts": {
            "label": gettext("Share recovered"),
            "labels": [short_month(c.month) for c in charts.cohorts],
            "shares": [float(c.share) if c.share is not None else None for c in charts.cohorts],
        },
    }
    return {
        "recovered": recovered,
        "recovered_total": language.money(
            sum(m.recovered_cents for m in charts.recovered_by_month)
        ),
        "statuses": statuses,
        "practices_total": sum(charts.by_status.values()),
        "cohorts": cohorts,
        "self_service": self_service,
        "data": data,
    }


@router.get("/reports")
async def reports(
    request: Request, _r: ConsoleRequest, principal: Creditors, db: SessionDep
) -> Response:
    filters, typed, errors = _read(request)
    creditors: list[Creditor] = []
    creditor_id: str | None
    if principal.role == Role.ADMIN:
        creditors = list(await db.scalars(select(Creditor).order_by(Creditor.name)))
        creditor_id = filters.creditor_id
    else:
        # a creditor's own reports only; another creditor's is a page that does not exist
        if filters.creditor_id not in (None, principal.creditor_id):
            raise not_found("creditor")
        creditor_id = principal.creditor_id
    creditor = await creditor_for(db, principal, creditor_id) if creditor_id else None
    view: dict[str, Any] | None = None
    experiments: list[dict[str, Any]] = []
    if creditor is not None:
        # the creditor's experiments, whatever the period: an arm is read over all its practices
        code = request_locale(request)
        experiments = [
            results_view(results, code, creditor.id)
            for results in await creditor_experiments_results(db, creditor)
        ]
    if creditor is not None and not errors:
        try:
            charts = await creditor_charts(db, creditor.id, filters.from_, filters.to)
        except RequestValidationError as exc:
            errors = field_errors(exc)
        else:
            view = _view(charts, request_locale(request))
    return render(
        request,
        "console/creditor_reports.html",
        {
            "form": typed,
            "errors": errors,
            "creditors": creditors,
            "creditor": creditor,
            "view": view,
            "experiments": experiments,
        },
        422 if errors else 200,
    )


@router.get("/reports/experiments/{creditor_id}/{experiment_id}.csv")
async def experiment_csv(
    creditor_id: str,
    experiment_id: str,
    _r: ConsoleRequest,
    principal: Creditors,
    db: SessionDep,
    effect: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """GET /creditors/{id}/experiments/{eid}/results.csv for a console session: the creditor's
    own experiments, any for the admin (the same check, creditor_for)."""
    creditor = await creditor_for(db, principal, creditor_id)
    points = int(effect) if effect.strip().isdigit() else DEFAULT_EFFECT_POINTS
    results = await experiment_results(db, creditor, experiment_id, effect_points=points)
    return Response(
        content=results_csv(results),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="experiment-{experiment_id}.csv"'},
    )
