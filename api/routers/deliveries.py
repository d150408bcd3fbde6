"""A practice's deliveries after they left: the raccomandata's tracking number, and what the
providers reported (delivered, bounced, PEC receipts) as a timeline of their own.

The practice's timeline (GET /practices/{id}/events) is written by its workflow; these reports
arrive from outside (api/routers/webhooks.py) and are listed here, without personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from sqlalchemy import select

from api.access import load_practice
from api.auth import Principal, Role, require
from api.delivery_reports import DeliveryStatus, Report, record_report
from api.deps import SessionDep
from api.errors import conflict, invalid, not_found
from api.routers.outbox import delivery_out
from api.schemas import DeliveryEventOut, DeliveryOut, TrackingIn, rome_today
from db.models import Delivery, DeliveryEvent, Document, utcnow
from domain.calendar import ROME

router = APIRouter(prefix="/practices/{practice_id}", tags=["deliveries"])


@router.post(
    "/documents/{document_id}/tracking",
    response_model=DeliveryOut,
    responses={
        403: {"description": "Wrong role."},
        404: {"description": "Unknown practice or document."},
        409: {"description": "The letter was not sent by post (address known to be wrong)."},
        422: {"description": "Bad tracking number, or a date before the letter or ahead."},
    },
)
async def record_tracking(
    practice_id: str,
    document_id: str,
    body: TrackingIn,
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
) -> DeliveryOut:
    """Records that the letter went by raccomandata A/R: its tracking number and the day it was
    posted. The post delivery becomes `sent` (it was in the outbox for a person to post) and
    GET /outbox shows the number. Sending it again corrects the number or the date."""
    await load_practice(session, principal, practice_id)
    document = await session.get(Document, document_id)
    if document is None or document.practice_id != practice_id:
        raise not_found("document")
    delivery = await session.scalar(
        select(Delivery).where(Delivery.document_id == document.id, Delivery.channel == "post")
    )
    if delivery is None:
        raise conflict("this letter was not sent by post")
    if body.sent_on > rome_today():
        raise invalid(["body", "sent_on"], "the day the letter was posted cannot be ahead")
    if body.sent_on < document.created_at.astimezone(ROME).date():
        raise invalid(["body", "sent_on"], "the letter was posted before it was written")
    delivery.tracking_number = body.tracking_number
    delivery.sent_on = body.sent_on
    report = Report(
        "post",
        f"{delivery.id}:tracking:{body.tracking_number}",
        DeliveryStatus.POSTED,
        f"Letter posted by raccomandata A/R on {body.sent_on.isoformat()}",
        datetime.combine(body.sent_on, datetime.min.time(), ROME),
        {"sent_on": body.sent_on.isoformat()},
    )
    await record_report(session, delivery.id, report)
    # the same number again is no new report, but the date may have been corrected
    if delivery.status == "outbox":
        delivery.status = "sent"
        delivery.sent_at = utcnow()
    await session.commit()
    return delivery_out(delivery)


@router.get("/delivery-events", response_model=list[DeliveryEventOut])
async def list_delivery_events(
    practice_id: str,
    session: SessionDep,
    principal: Annotated[Principal, require(*Role)],
) -> list[DeliveryEventOut]:
    """What providers reported about this practice's messages, oldest first: delivered, opened,
    bounced, PEC receipts, raccomandate posted. No addresses: channel names and fixed words."""
    await load_practice(session, principal, practice_id)
    rows = await session.execute(
        select(DeliveryEvent, Delivery.channel)
        .join(Delivery, Delivery.id == DeliveryEvent.delivery_id)
        .where(DeliveryEvent.practice_id == practice_id)
        .order_by(DeliveryEvent.occurred_at, DeliveryEvent.id)
    )
    return [
        DeliveryEventOut(
            delivery_id=e.delivery_id,
            channel=channel,
            provider=e.provider,
            kind=e.kind,
            summary=e.summary,
            data=dict(e.data or {}),
            invalid_reason=e.invalid_reason,
            workflow_update=e.workflow_update,
            occurred_at=e.occurred_at,
            received_at=e.received_at,
        )
        for e, channel in rows.all()
    ]
