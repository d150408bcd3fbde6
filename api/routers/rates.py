"""Interest rates: the history shipped with the product (domain/rate_history.py) and the periods
the admin adds as the acts are published (the legal rate each December, the late-payment rate
each half-year). A statement on a day no period covers is refused until the rate is added.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Response, status

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.errors import conflict, not_found
from api.schemas_judicial import RateIn, RateOut
from db.ledger import database_periods, plain_rate
from db.models import RatePeriodRow
from domain.rates import PUBLISHED_PERIODS, RateKind, RateOverlap, RatePeriod, RateTable

log = logging.getLogger(__name__)

router = APIRouter(prefix="/rates", tags=["rates"])

AnyUser = Annotated[Principal, require(*Role)]
Admin = Annotated[Principal, require(Role.ADMIN)]


def _describe(period: RatePeriod, origin: str) -> str:
    end = period.end.isoformat() if period.end else "open-ended"
    return (
        f"{period.kind.value} {period.start.isoformat()}..{end} at {period.rate}% "
        f"({origin}: {period.source})"
    )


def _out(period: RatePeriod, row: RatePeriodRow | None = None) -> RateOut:
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


@router.get("", response_model=list[RateOut])
async def list_rates(
    session: SessionDep, _principal: AnyUser, kind: RateKind | None = None
) -> list[RateOut]:
    """Every known period, by kind and start: the shipped history and the admin's additions
    (`origin`), with the act each comes from."""
    items = [(p, None) for p in PUBLISHED_PERIODS] + [
        (period, row) for row, period in await database_periods(session)
    ]
    listed = [_out(period, row) for period, row in items if kind is None or period.kind is kind]
    return sorted(listed, key=lambda r: (r.kind.value, r.start))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RateOut,
    responses={
        409: {"description": "Overlaps a known period of the same kind (named in detail)."},
        422: {"description": "Malformed: rate, dates, or a period not aligned to its act."},
    },
)
async def add_rate(body: RateIn, session: SessionDep, _admin: Admin) -> RateOut:
    """Adds a published rate for a period no known period of the same kind covers."""
    period = RatePeriod(body.kind, body.start, body.end, body.rate_decimal(), body.source)
    known = [(p, "shipped") for p in PUBLISHED_PERIODS if p.kind is period.kind] + [
        (p, f"added by the admin, id {row.id}")
        for row, p in await database_periods(session)
        if p.kind is period.kind
    ]
    for other, origin in known:
        if period.overlaps(other):
            raise conflict(f"overlaps the known period {_describe(other, origin)}")
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
    log.info("rate period %s added: %s", row.id, _describe(period, "admin"))
    return _out(period, row)


@router.delete(
    "/{rate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"description": "No such period added by the admin."}},
)
async def delete_rate(rate_id: str, session: SessionDep, _admin: Admin) -> Response:
    """Removes a period the admin added (to correct it: delete, then add it again). The shipped
    history cannot be deleted. Statements are computed when asked, so the next one uses the
    table as it is then."""
    row = await session.get(RatePeriodRow, rate_id)
    if row is None:
        raise not_found("rate period")
    await session.delete(row)
    await session.commit()
    log.info("rate period %s deleted", rate_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
