"""The outbox: every message the product sent or wrote down for a person to send."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.schemas import MAX_OFFSET, DeliveryOut, Page
from api.services import outbox as service
from db.models import Delivery

router = APIRouter(prefix="/outbox", tags=["outbox"])


@router.get("", response_model=Page[DeliveryOut])
async def list_deliveries(
    session: SessionDep,
    _principal: Annotated[Principal, require(Role.ADMIN)],
    practice_id: str | None = None,
    channel: Annotated[
        str | None, Query(description="email, sms, post or pec.", examples=["email"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[DeliveryOut]:
    """Deliveries, newest first. Status `outbox` means no provider is configured for the
    channel: the message is here for a person to send, and was not sent (a letter becomes
    `sent` once its raccomandata's tracking number is recorded, a PEC once a receipt arrives).
    `delivery_status` is what the provider reported afterwards. Status `parked` means the
    provider was down or asked to slow down: `retry_reason` says which, `retry_at` when the
    message is tried again (it is sent once, whatever the number of tries)."""
    rows, total = await service.deliveries(
        session, practice_id=practice_id, channel=channel, limit=limit, offset=offset
    )
    items = [delivery_out(d) for d in rows]
    return Page[DeliveryOut](items=items, total=total, limit=limit, offset=offset)


def delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        practice_id=d.practice_id,
        channel=d.channel,
        recipient=d.recipient,
        subject=d.subject,
        body=d.body,
        document_id=d.document_id,
        status=d.status,
        provider=d.provider,
        provider_message_id=d.provider_message_id,
        created_at=d.created_at,
        sent_at=d.sent_at,
        delivery_status=d.delivery_status,
        delivery_status_at=d.delivery_status_at,
        tracking_number=d.tracking_number,
        sent_on=d.sent_on,
        retry_reason=d.retry_reason if d.status == "parked" else None,
        retry_at=d.retry_at if d.status == "parked" else None,
    )
