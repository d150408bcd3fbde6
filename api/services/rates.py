"""Interest rates: the known periods (shipped and added by the admin), adding one, and the
periods begun that nobody added (what GET /health lists). The /rates router and the console's
rates page call these: the same checks, the same 409 on an overlap."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import conflict
from api.schemas_judicial import RateIn, RateOut
from db.ledger import database_periods, plain_rate, rate_table
from db.models import RatePeriodRow
from domain.rates import (
    PUBLISHED_PERIODS,
    MissingPeriod,
    RateKind,
    RateOverlap,
    RatePeriod,
    RateTable,
    missing_periods,
)

log = logging.getLogger(__name__)


def describe(period: RatePeriod, origin: str) -> str:
    end = period.end.isoformat() if period.end else "open-ended"
    return (
        f"{period.kind.value} {period.start.isoformat()}..{end} at {period.rate}% "
        f"({origin}: {period.source})"
    )


def rate_out(period: RatePeriod, row: RatePeriodRow | None = None) -> RateOut:
    return RateOut(
        id=row.id if row is not None else None,
        kind=period.kind,
        start=period.start,
        end=period.end,
        rate=str(plain_rate(period.rate)),
        source=period.source,
        origin="admin" if row is not None else "shipped",
        created_at=row.created_at if row is not None else None,
    )


async def list_rates(session: AsyncSession, kind: RateKind | None = None) -> list[RateOut]:
    """Every known period, by kind and start: the shipped history and the admin's additions."""
    items = [(p, None) for p in PUBLISHED_PERIODS] + [
        (period, row) for row, period in await database_periods(session)
    ]
    listed = [rate_out(period, row) for period, row in items if kind is None or period.kind is kind]
    return sorted(listed, key=lambda r: (r.kind.value, r.start))


async def add_rate(session: AsyncSession, body: RateIn) -> RateOut:
    """Adds a published rate (committed) for a period no known period of the same kind covers;
    a 409 naming the period it overlaps otherwise."""
    period = RatePeriod(body.kind, body.start, body.end, body.rate_decimal(), body.source)
    known = [(p, "shipped") for p in PUBLISHED_PERIODS if p.kind is period.kind] + [
        (p, f"added by the admin, id {row.id}")
        for row, p in await database_periods(session)
        if p.kind is period.kind
    ]
    for other, origin in known:
        if period.overlaps(other):
            raise conflict(f"overlaps the known period {describe(other, origin)}")
    try:
        # the table's own check, in case the two ever disagree
        RateTable([p for p, _ in known] + [period])
    except RateOverlap as exc:
        raise conflict(str(exc)) from exc
    row = RatePeriodRow(
        kind=period.kind.value,
        start=period.start,
        end=period.end,
        rate=period.rate,
        source=period.source,
    )
    session.add(row)
    await session.commit()
    log.info("rate period %s added: %s", row.id, describe(period, "admin"))
    return rate_out(period, row)


async def missing_rates(session: AsyncSession, today: date) -> list[MissingPeriod]:
    """The periods begun by `today` that no known rate covers: domain.rates.missing_periods on
    the table statements use, as GET /health lists them."""
    return missing_periods(await rate_table(session), today)
