"""The `deliveries` table as an exactly-once ledger: every channel writes through here.

The unique idempotency_key is the lock. An outbox message is one insert in one transaction. A
provider message is reserved first (a committed "pending" row), then sent, then marked "sent":
if the worker dies between the provider's answer and the update, the next attempt finds the
pending row and does not send again, leaving a row a person can reconcile with the provider's log.

A provider that is down or asks to slow down (HTTP 429) did not take the message: the row is
"parked" with the reason and the time of the next try (the outbox shows both), and the
activity's retry claims it again like a refused one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from db.models import Delivery, utcnow
from db.session import Database
from domain.activity_io import SentResult

OUTBOX = "outbox"
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
PARKED = "parked"
# a row in one of these may be handed to a caller to send (again): the provider did not take it
CLAIMABLE = (FAILED, PARKED)

# why a delivery is parked (deliveries.retry_reason)
PROVIDER_UNAVAILABLE = "provider_unavailable"
RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    media_type: str = "application/pdf"


@dataclass
class Message:
    """One message for one recipient on one channel (email, pec, sms, post, notification).

    recipient is the address itself for e-mail/PEC/SMS (personal data: it goes to the database,
    never to logs or Temporal); for post and notifications it is a tag such as "debtor:postal".
    """

    idempotency_key: str
    channel: str
    recipient: str
    subject: str = ""
    body: str = ""
    practice_id: str | None = None
    document_id: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery_id: str
    channel: str
    status: str
    provider: str
    provider_message_id: str | None = None

    @property
    def label(self) -> str:
        """How results name a delivery: "email:sent", "post:outbox"."""
        return f"{self.channel}:{self.status}"

    @classmethod
    def of(cls, row: Delivery) -> DeliveryOutcome:
        return cls(
            delivery_id=row.id,
            channel=row.channel,
            status=row.status,
            provider=row.provider,
            provider_message_id=row.provider_message_id,
        )


def _row(message: Message, *, status: str, provider: str) -> Delivery:
    return Delivery(
        idempotency_key=message.idempotency_key,
        practice_id=message.practice_id,
        channel=message.channel,
        recipient=message.recipient,
        subject=message.subject,
        body=message.body,
        document_id=message.document_id,
        status=status,
        provider=provider,
    )


async def find_delivery(db: Database, idempotency_key: str) -> DeliveryOutcome | None:
    async with db.session() as session:
        row = (
            await session.execute(
                select(Delivery).where(Delivery.idempotency_key == idempotency_key)
            )
        ).scalar_one_or_none()
        return DeliveryOutcome.of(row) if row is not None else None


async def write_outbox(db: Database, message: Message) -> DeliveryOutcome:
    """Writes the message for a person to read and send; a second call returns the first row."""
    existing = await find_delivery(db, message.idempotency_key)
    if existing is not None:
        return existing
    row = _row(message, status=OUTBOX, provider=OUTBOX)
    try:
        async with db.session() as session, session.begin():
            session.add(row)
    except IntegrityError:
        # another attempt of the same activity won the race: its row is the one
        winner = await find_delivery(db, message.idempotency_key)
        if winner is None:  # the violation was something other than the key
            raise
        return winner
    return DeliveryOutcome.of(row)


async def reserve(db: Database, message: Message, provider: str) -> tuple[DeliveryOutcome, bool]:
    """Claims the right to call the provider for this key.

    Returns the delivery and whether the caller must send now. Only a new key, or one whose
    earlier attempt the provider refused ("failed") or did not take ("parked"), is handed out,
    and only to one caller.
    """
    for _ in range(3):
        existing = await find_delivery(db, message.idempotency_key)
        if existing is not None:
            if existing.status not in CLAIMABLE:
                return existing, False
            async with db.session() as session, session.begin():
                claimed = await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.id == existing.delivery_id,
                        Delivery.status == existing.status,
                    )
                    .values(status=PENDING, provider=provider)
                )
            if cast(CursorResult[Any], claimed).rowcount == 1:
                return DeliveryOutcome(
                    existing.delivery_id, existing.channel, PENDING, provider
                ), True
            continue
        row = _row(message, status=PENDING, provider=provider)
        try:
            async with db.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            continue
        return DeliveryOutcome.of(row), True
    raise RuntimeError(f"could not reserve delivery {message.idempotency_key}")


async def mark_sent(
    db: Database, outcome: DeliveryOutcome, provider_message_id: str | None
) -> DeliveryOutcome:
    async with db.session() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(Delivery.id == outcome.delivery_id)
            .values(
                status=SENT,
                provider_message_id=provider_message_id,
                sent_at=utcnow(),
                retry_reason=None,
                retry_at=None,
            )
        )
    return DeliveryOutcome(
        outcome.delivery_id, outcome.channel, SENT, outcome.provider, provider_message_id
    )


async def mark_failed(db: Database, outcome: DeliveryOutcome) -> DeliveryOutcome:
    """Only for an answer that proves the provider did not take the message: a later attempt
    may then send it again."""
    async with db.session() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id == outcome.delivery_id).values(status=FAILED)
        )
    return DeliveryOutcome(outcome.delivery_id, outcome.channel, FAILED, outcome.provider)


async def mark_parked(
    db: Database, outcome: DeliveryOutcome, reason: str, retry_at: datetime
) -> DeliveryOutcome:
    """The provider did not take the message (it is down, or asked to slow down): the next try
    is at retry_at, and claims the row again (reserve)."""
    async with db.session() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(Delivery.id == outcome.delivery_id)
            .values(status=PARKED, retry_reason=reason, retry_at=retry_at)
        )
    return DeliveryOutcome(outcome.delivery_id, outcome.channel, PARKED, outcome.provider)


async def settled(db: Database, idempotency_key: str) -> DeliveryOutcome | None:
    """The delivery of this key when no caller may send it any more (sent, pending, outbox)."""
    existing = await find_delivery(db, idempotency_key)
    if existing is None or existing.status in CLAIMABLE:
        return None
    return existing


def add_to_result(result: SentResult, outcome: DeliveryOutcome) -> None:
    """A refused message is not a delivery: it shows among the skipped, with who refused it."""
    if outcome.status == FAILED:
        result.skipped.append(f"{outcome.channel}: refused by {outcome.provider}")
    else:
        result.deliveries.append(outcome.label)
