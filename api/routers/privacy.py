"""Personal data that ends (README, "Personal data"): the creditor's retention period, the
debtors' erasure requests (GDPR art. 17) and the access log. The console's admin pages call the
same services (api/services/erasure.py, api/services/access_log.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.access import load_practice, practice_boundary
from api.auth import Principal, Role, require
from api.deps import NowDep, SessionDep
from api.errors import invalid
from api.schemas import rome_today
from api.schemas_privacy import (
    AccessLogOut,
    AccessLogPage,
    ErasureRequestIn,
    ErasureRequestOut,
    RecordedByOut,
    RetentionIn,
    RetentionOut,
)
from api.services import access_log, erasure
from api.services import creditors as creditors_service
from db.models import AccessLogEntry, ErasureRequest
from domain.calendar import ROME

router = APIRouter(tags=["personal data"])

Admin = Annotated[Principal, require(Role.ADMIN)]
AdminOrCreditor = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]
# the agency's staff record a debtor's request (by letter, e-mail, phone...) on its behalf
Staff = Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)]


@router.put("/creditors/{creditor_id}/retention", response_model=RetentionOut)
async def put_retention(
    creditor_id: str, body: RetentionIn, session: SessionDep, principal: AdminOrCreditor
) -> RetentionOut:
    """How long the creditor's closed practices keep the debtor's personal data before the
    retention sweep erases it: at most ten years (3653 days, art. 2220 c.c.), the default; the
    admin or the creditor itself may shorten it. A value out of range is a 422 naming
    `retention_days`."""
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    await creditors_service.set_retention(session, creditor, body.retention_days)
    return RetentionOut(creditor_id=creditor.id, retention_days=creditor.retention_days)


def erasure_out(row: ErasureRequest) -> ErasureRequestOut:
    return ErasureRequestOut(
        id=row.id,
        practice_id=row.practice_id,
        requested_at=row.requested_at,
        received_on=row.received_on,
        recorded_by=RecordedByOut(
            kind=row.recorded_by_kind, id=row.recorded_by_id, role=row.recorded_by_role
        ),
        decision=row.decision,
        reason=row.reason,
        erased=list(row.erased or ()),
        kept=list(row.kept or ()),
        keep_until=row.keep_until,
    )


@router.post(
    "/practices/{practice_id}/erasure-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=ErasureRequestOut,
    dependencies=[Depends(practice_boundary)],
    responses={
        403: {"description": "Wrong role."},
        404: {"description": "Unknown practice."},
        422: {"description": "received_on in the future."},
    },
)
async def record_erasure_request(
    practice_id: str,
    body: ErasureRequestIn,
    session: SessionDep,
    principal: Staff,
    now: NowDep,
) -> ErasureRequestOut:
    """Records a debtor's erasure request (GDPR art. 17) and carries out what no legal duty
    refuses, in one transaction; the answer says what was decided, on which ground, what was
    erased and what is kept until when:

    - `refused`, `practice_open`: the practice is open (art. 17(3)(e), the claim is being
      collected); nothing is erased;
    - `partial`, `legal_duty`: closed, within the creditor's retention period: the contacts
      (e-mail, phone, PEC, the e-mails' and SMS' addresses and texts), the notes that are not on
      the claim, the links to the debtor's page and (when no other practice holds the debtor)
      its opt-outs and preferences are erased now; name, codice fiscale, address, the letters
      and the claim's notes are kept until `keep_until` (art. 17(3)(b): art. 2220 c.c. keeps the
      accounting records and their documents ten years; 17(3)(e): the letters prove the formal
      demands), then the retention sweep erases them;
    - `erased`, `no_duty`: closed and past its period: everything is erased now.

    The amounts, dates and outcome are not personal data once the debtor's identity is gone:
    they stay for the reports."""
    today = rome_today()
    received_on = body.received_on or today
    if received_on > today:
        raise invalid(["body", "received_on"], "the request cannot be received in the future")
    practice = await load_practice(session, principal, practice_id)
    row = await erasure.request_erasure(
        session, practice, erasure.Recorder.of(principal), received_on, now
    )
    return erasure_out(row)


@router.get("/practices/{practice_id}/erasure-requests", response_model=list[ErasureRequestOut])
async def list_practice_erasure_requests(
    practice_id: str, session: SessionDep, principal: Staff
) -> list[ErasureRequestOut]:
    """The practice's erasure requests, newest first."""
    await load_practice(session, principal, practice_id)
    rows = await erasure.list_requests(session, practice_id=practice_id, limit=500)
    return [erasure_out(r) for r in rows]


@router.get("/erasure-requests", response_model=list[ErasureRequestOut])
async def list_erasure_requests(
    session: SessionDep,
    _admin: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> list[ErasureRequestOut]:
    """Every practice's erasure requests, newest first (the admin's)."""
    rows = await erasure.list_requests(session, limit=limit, offset=offset)
    return [erasure_out(r) for r in rows]


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ROME)


def access_out(row: AccessLogEntry) -> AccessLogOut:
    return AccessLogOut(
        id=row.id,
        at=row.at,
        user_id=row.user_id,
        role=row.role,
        practice_id=row.practice_id,
        what=row.what,
        target_id=row.target_id,
    )


@router.get("/access-log", response_model=AccessLogPage)
async def get_access_log(
    session: SessionDep,
    _admin: Admin,
    practice_id: Annotated[str | None, Query(max_length=32)] = None,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AccessLogPage:
    """Who read which practice's debtor data and when, newest first: the practice's detail
    (API and console page), a document, a statement, a CSV export (one row per practice
    exported). Filters: the practice, the user, the days `from`..`to` (Rome, both included).
    Pages by `before` (the `next_before` of the previous page). Ids only: the log never holds
    the data read."""
    if from_ is not None and to is not None and to < from_:
        raise invalid(["query", "to"], "must not be before from")
    page = await access_log.entries(
        session,
        practice_id=practice_id,
        user_id=user_id,
        since=day_start(from_) if from_ else None,
        until=day_start(to + timedelta(days=1)) if to and to < date.max else None,
        before=before,
        limit=limit,
    )
    return AccessLogPage(items=[access_out(r) for r in page.items], next_before=page.next_before)
