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
from api.errors import not_found
from api.schemas_judicial import RateIn, RateOut
from api.services import rates as service
from db.models import RatePeriodRow
from domain.rates import RateKind

log = logging.getLogger(__name__)

router = APIRouter(prefix="/rates", tags=["rates"])

AnyUser = Annotated[Principal, require(*Role)]
Admin = Annotated[Principal, require(Role.ADMIN)]


@router.get("", response_model=list[RateOut])
async def list_rates(
    session: SessionDep, _principal: AnyUser, kind: RateKind | None = None
) -> list[RateOut]:
    """Every known period, by kind and start: the shipped history and the admin's additions
    (`origin`), with the act each comes from."""
    return await service.list_rates(session, kind)


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
    return await service.add_rate(session, body)


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
