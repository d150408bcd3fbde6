"""What providers report about our messages, recorded on the delivery and, when a contact turns
out not to work, on the practice and to its workflow.

The webhooks (api/routers/webhooks.py) verify and parse; this module records. Each report is
one `delivery_events` row, unique by (provider, provider event id), so a provider delivering the
same event twice (they retry on any non-2xx) changes nothing the second time.

A report that makes a contact invalid (hard bounce, failed SMS, PEC mancata consegna):
1. in one transaction: the event, the delivery's status, and the channel added to
   `practices.invalid_channels`, unless the practice's contact has changed since the message
   was sent (a late bounce must not condemn the new address);
2. after the commit (so the workflow's activities are not blocked by our write lock): the
   `contact_invalid` update to the practice's workflow, with the channel name and a reason word
   (domain.practice.InvalidReason), never the address. The event remembers the answer in
   `workflow_update`: "accepted", "rejected" (a closed practice, or a workflow that does not know
   the update: recorded all the same), or still "pending" when Temporal did not answer, in which
   case the webhook answers 503 and the provider's retry tells the workflow again.

Nothing here logs or stores an address, a number or a provider's free text.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from db.models import Delivery, DeliveryEvent, Practice, utcnow
from domain.actor import provider as provider_actor
from domain.identifiers import normalize_email, normalize_phone
from domain.practice import CommandResult, ContactInvalidCmd, InvalidReason, UpdateName

log = logging.getLogger(__name__)

# A webhook waits this long for the workflow; a provider waits for our answer, and retries on
# a timeout anyway.
WEBHOOK_UPDATE_TIMEOUT = timedelta(seconds=10)


class DeliveryStatus(StrEnum):
    """deliveries.delivery_status: the furthest a message got, as its provider reported."""

    SENT = "sent"  # SMS handed to the carrier
    ACCEPTED = "accepted"  # PEC: ricevuta di accettazione
    POSTED = "posted"  # raccomandata: handed to the post office (tracking number recorded)
    SOFT_BOUNCE = "soft_bounce"  # e-mail: refused for now (SendGrid "blocked")
    DELIVERED = "delivered"
    OPENED = "opened"
    HARD_BOUNCE = "hard_bounce"
    DROPPED = "dropped"  # e-mail: SendGrid did not even try
    FAILED = "failed"  # SMS: Twilio could not send it
    UNDELIVERED = "undelivered"  # SMS: the carrier could not deliver it
    NOT_DELIVERED = "not_delivered"  # PEC: avviso di mancata consegna


# Events arrive out of order (an "open" may come before "delivered"): a report never moves the
# status back. The failures are final.
_RANK = {
    DeliveryStatus.SENT: 1,
    DeliveryStatus.ACCEPTED: 1,
    DeliveryStatus.POSTED: 1,
    DeliveryStatus.SOFT_BOUNCE: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.OPENED: 4,
    DeliveryStatus.HARD_BOUNCE: 5,
    DeliveryStatus.DROPPED: 5,
    DeliveryStatus.FAILED: 5,
    DeliveryStatus.UNDELIVERED: 5,
    DeliveryStatus.NOT_DELIVERED: 5,
}


def _rank(status: str | None) -> int:
    try:
        return _RANK[DeliveryStatus(status)] if status else 0
    except ValueError:
        return 0


# the practice's channel (domain.practice.CHANNEL_NAMES) a delivery's channel uses
PRACTICE_CHANNEL = {"email": "email", "sms": "phone", "pec": "pec"}

_NORMALIZERS = {"email": normalize_email, "pec": normalize_email, "phone": normalize_phone}


class WorkflowUpdate(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SKIPPED = "skipped"  # the contact changed since the message went out: nothing to tell


@dataclass
class Report:
    """One provider event about one delivery, in our words."""

    provider: str
    provider_event_id: str
    status: DeliveryStatus
    summary: str  # a fixed English phrase: no address, number or provider free text
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    invalid_reason: InvalidReason | None = None


@dataclass
class Tally:
    """What a webhook call did, as it answers it."""

    recorded: int = 0
    already_recorded: int = 0
    ignored: int = 0
    contacts_invalidated: int = 0
    workflow_unreachable: bool = False


def _same_contact(channel: str, current: str | None, sent_to: str) -> bool:
    if not (current or "").strip():
        return False
    normalize = _NORMALIZERS[channel]
    try:
        return bool(normalize(current or "") == normalize(sent_to))
    except ValueError:
        return (current or "").strip().lower() == sent_to.strip().lower()


async def record_report(
    session: AsyncSession, delivery_id: str, report: Report
) -> tuple[DeliveryEvent, bool]:
    """Records the report in one transaction; returns its event and whether it is new.

    A report seen before returns the earlier event unchanged (its workflow_update tells whether
    the workflow still has to hear of it).
    """
    existing = await _find_event(session, report.provider, report.provider_event_id)
    if existing is not None:
        return existing, False
    # loaded here, not handed in: a rollback of an earlier report expires what was loaded
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None:  # pragma: no cover - the caller has just found it
        raise LookupError(f"delivery {delivery_id} not found")
    event = DeliveryEvent(
        delivery_id=delivery.id,
        practice_id=delivery.practice_id,
        provider=report.provider,
        provider_event_id=report.provider_event_id,
        kind=report.status.value,
        summary=report.summary,
        data=dict(report.data),
        occurred_at=report.occurred_at,
        received_at=utcnow(),
    )
    if _rank(report.status) > _rank(delivery.delivery_status):
        delivery.delivery_status = report.status.value
        delivery.delivery_status_at = report.occurred_at
    if delivery.status == "outbox" and report.provider in ("pec", "post"):
        # a receipt or a tracking number proves that the person sent what the outbox held
        delivery.status = "sent"
        delivery.sent_at = delivery.sent_at or utcnow()
    if report.invalid_reason is not None:
        event.invalid_reason = report.invalid_reason.value
        event.workflow_update = await _mark_invalid(session, delivery)
        event.summary = f"{report.summary}; {_marking(delivery.channel, event.workflow_update)}"
    session.add(event)
    try:
        await session.commit()
    except IntegrityError:
        # the same event delivered twice at once: the other request recorded it
        await session.rollback()
        winner = await _find_event(session, report.provider, report.provider_event_id)
        if winner is None:
            raise
        return winner, False
    return event, True


_CONTACT_NAMES = {"email": "e-mail address", "sms": "phone number", "pec": "PEC address"}


def _marking(delivery_channel: str, workflow_update: str | None) -> str:
    name = _CONTACT_NAMES.get(delivery_channel, "contact")
    if workflow_update == WorkflowUpdate.PENDING:
        return f"{name} marked invalid"
    return f"{name} left as it is (changed since the message was sent)"


async def _find_event(
    session: AsyncSession, provider: str, provider_event_id: str
) -> DeliveryEvent | None:
    found: DeliveryEvent | None = await session.scalar(
        select(DeliveryEvent).where(
            DeliveryEvent.provider == provider,
            DeliveryEvent.provider_event_id == provider_event_id,
        )
    )
    return found


async def _mark_invalid(session: AsyncSession, delivery: Delivery) -> str:
    channel = PRACTICE_CHANNEL.get(delivery.channel)
    if channel is None or delivery.practice_id is None:
        return WorkflowUpdate.SKIPPED.value
    # locked until the commit: record_practice reads and rewrites the marks too
    practice = await session.get(
        Practice, delivery.practice_id, with_for_update=True, populate_existing=True
    )
    if practice is None or not _same_contact(
        channel, getattr(practice, channel), delivery.recipient
    ):
        return WorkflowUpdate.SKIPPED.value
    marked = list(practice.invalid_channels or [])
    if channel not in marked:
        # a new list, not an in-place edit, so the JSON column is seen as changed
        practice.invalid_channels = [*marked, channel]
    return WorkflowUpdate.PENDING.value


async def tell_workflows(
    session: AsyncSession, temporal: Client, event_ids: list[int], tally: Tally
) -> None:
    """Sends `contact_invalid` for every event still pending, once per practice and channel,
    and records the answers. Leaves tally.workflow_unreachable set when Temporal did not
    answer (the events stay pending for the provider's retry)."""
    if not event_ids:
        return
    rows = await session.execute(
        select(DeliveryEvent, Delivery.channel)
        .join(Delivery, Delivery.id == DeliveryEvent.delivery_id)
        .where(
            DeliveryEvent.id.in_(event_ids),
            DeliveryEvent.workflow_update == WorkflowUpdate.PENDING.value,
            DeliveryEvent.practice_id.is_not(None),
        )
        .order_by(DeliveryEvent.id)
        .execution_options(populate_existing=True)
    )
    groups: dict[tuple[str, str], list[DeliveryEvent]] = {}
    for event, delivery_channel in rows.all():
        channel = PRACTICE_CHANNEL.get(delivery_channel)
        if channel is None or event.practice_id is None:
            continue
        groups.setdefault((event.practice_id, channel), []).append(event)
    for (practice_id, channel), group in groups.items():
        practice = await session.get(Practice, practice_id)
        if practice is None:  # pragma: no cover - the foreign key makes this impossible
            continue
        reason = group[0].invalid_reason or ""
        # the provider that reported it names the event (point 10)
        command = ContactInvalidCmd(
            channel=channel, reason=reason, actor=provider_actor(group[0].provider)
        )
        answer = await send_contact_invalid(temporal, practice.workflow_id, command)
        if answer == WorkflowUpdate.PENDING:
            tally.workflow_unreachable = True
            continue
        for event in group:
            event.workflow_update = answer.value
    await session.commit()


async def send_contact_invalid(
    temporal: Client, workflow_id: str, command: ContactInvalidCmd
) -> WorkflowUpdate:
    """ACCEPTED, REJECTED (the workflow refused it: closed, finished, or no such update) or
    PENDING (Temporal did not answer; try again later)."""
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        async with asyncio.timeout(WEBHOOK_UPDATE_TIMEOUT.total_seconds()):
            await handle.execute_update(
                UpdateName.CONTACT_INVALID, command, result_type=CommandResult
            )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        log.warning(
            "%s refused %s (%s): %s",
            workflow_id,
            UpdateName.CONTACT_INVALID,
            command.channel,
            getattr(cause, "message", None) or type(cause).__name__,
        )
        return WorkflowUpdate.REJECTED
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND or (
            "workflow execution already completed" in exc.message.lower()
        ):
            log.info("%s has finished: %s recorded only", workflow_id, command.channel)
            return WorkflowUpdate.REJECTED
        log.warning(
            "%s: %s not delivered (%s)", workflow_id, UpdateName.CONTACT_INVALID, exc.status.name
        )
        return WorkflowUpdate.PENDING
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        log.warning("%s: %s timed out", workflow_id, UpdateName.CONTACT_INVALID)
        return WorkflowUpdate.PENDING
    log.info("%s: %s (%s) accepted", workflow_id, UpdateName.CONTACT_INVALID, command.channel)
    return WorkflowUpdate.ACCEPTED


async def record_and_tell(
    session: AsyncSession,
    temporal: Client,
    reports: list[tuple[str, Report]],
    tally: Tally,
) -> None:
    """Records every (delivery id, report), then tells the workflows about the contacts that
    stopped working (including those an earlier, unanswered call recorded)."""
    event_ids: list[int] = []
    for delivery_id, report in reports:
        event, new = await record_report(session, delivery_id, report)
        if new:
            tally.recorded += 1
            if event.workflow_update == WorkflowUpdate.PENDING:
                tally.contacts_invalidated += 1
        else:
            tally.already_recorded += 1
        event_ids.append(event.id)
    await tell_workflows(session, temporal, event_ids, tally)
