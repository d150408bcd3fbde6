"""Provider callbacks: SendGrid's Event Webhook, Twilio's status callbacks, PEC receipts.

SendGrid and Twilio cannot send an API key: each request is verified instead with the
provider's own library against the provider's signature, and refused (403) when it does not
verify, when the verification key is not configured, or when the signature is missing. PEC
receipts arrive as e-mails in the agency's mailbox; a person or a mail filter forwards them
with the admin key.

Recording is api.delivery_reports: every report once, the contacts that stopped working marked
on the practice and told to its workflow. An answer of 2xx means "recorded" (a provider stops
retrying); 503 means the record is kept but the practice's workflow could not be told, and the
provider's retry will tell it.
"""

from __future__ import annotations

import binascii
import json
import logging
import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field
from sendgrid.helpers.eventwebhook import EventWebhook
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from api.auth import Principal, Role, require
from api.delivery_reports import DeliveryStatus, Report, Tally, record_and_tell
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import invalid, not_found
from api.schemas import PecReceiptIn, PecReceiptKind, WebhookResult
from api.services import card_payments
from config import Settings
from db.models import Delivery, utcnow
from domain.practice import InvalidReason

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["provider callbacks"])

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
TWILIO_SIGNATURE = "X-Twilio-Signature"
STRIPE_SIGNATURE = "Stripe-Signature"

_REFUSED = HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="signature not valid")

_UNREACHABLE = HTTPException(
    status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
    detail="recorded, but the practice's workflow could not be told; retry later",
)


def _answer(tally: Tally) -> WebhookResult:
    if tally.workflow_unreachable:
        raise _UNREACHABLE
    return WebhookResult(
        recorded=tally.recorded,
        already_recorded=tally.already_recorded,
        ignored=tally.ignored,
        contacts_invalidated=tally.contacts_invalidated,
    )


# --- SendGrid ------------------------------------------------------------------------------------


def _sendgrid_verified(settings: Settings, body: bytes, signature: str, timestamp: str) -> bool:
    if not settings.sendgrid_webhook_public_key:
        log.warning("sendgrid webhook refused: SENDGRID_WEBHOOK_PUBLIC_KEY is not set")
        return False
    if not signature or not timestamp:
        return False
    verifier = EventWebhook()
    try:
        key = verifier.convert_public_key_to_ecdsa(settings.sendgrid_webhook_public_key)
    except (ValueError, TypeError):
        log.error("sendgrid webhook refused: SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid key")
        return False
    try:
        payload = body.decode("utf-8")
        return bool(verifier.verify_signature(payload, signature, timestamp, key))
    except (UnicodeDecodeError, binascii.Error, ValueError, TypeError):
        # not UTF-8, or a signature that is not base64 / not a DER ECDSA signature
        return False


# SendGrid's fixed wording of why it dropped a message (never the provider's free text)
_DROP_REASONS = frozenset(
    {
        "Bounced Address",
        "Invalid",
        "Invalid SMTPAPI header",
        "Spam Content",
        "Spam Reporting Address",
        "Unsubscribed Address",
        "Recipient List over Package Quota",
    }
)
_ENHANCED_STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
_BOUNCE_CLASSES = frozenset(
    {
        "Invalid Address",
        "Technical",
        "Content",
        "Reputation",
        "Frequency or Volume Too High",
        "Mailbox Unavailable",
        "Unclassified",
    }
)


def _sendgrid_time(event: dict[str, Any]) -> datetime:
    value = event.get("timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return utcnow()


def _sendgrid_report(event: dict[str, Any]) -> Report | None:
    """Our reading of one SendGrid event; None for the kinds we do not record."""
    kind = event.get("event")
    event_id = event.get("sg_event_id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 200:
        return None
    at = _sendgrid_time(event)
    data: dict[str, Any] = {"event": kind}
    if kind == "delivered":
        return Report("sendgrid", event_id, DeliveryStatus.DELIVERED, "E-mail delivered", at, data)
    if kind == "open":
        return Report("sendgrid", event_id, DeliveryStatus.OPENED, "E-mail opened", at, data)
    if kind == "bounce":
        code = event.get("status")
        if isinstance(code, str) and _ENHANCED_STATUS.match(code):
            data["status"] = code
        classification = event.get("bounce_classification")
        if classification in _BOUNCE_CLASSES:
            data["classification"] = classification
        if event.get("type") == "blocked":
            data["type"] = "blocked"
            return Report(
                "sendgrid",
                event_id,
                DeliveryStatus.SOFT_BOUNCE,
                "E-mail bounced (soft): refused for now by the receiving server",
                at,
                data,
            )
        data["type"] = "bounce"
        return Report(
            "sendgrid",
            event_id,
            DeliveryStatus.HARD_BOUNCE,
            "E-mail bounced (hard): the address does not accept mail",
            at,
            data,
            InvalidReason.HARD_BOUNCE,
        )
    if kind == "dropped":
        reason = event.get("reason")
        data["reason"] = reason if reason in _DROP_REASONS else "other"
        # SendGrid drops what it holds as bouncing: the address has failed before
        suppressed = reason == "Bounced Address"
        return Report(
            "sendgrid",
            event_id,
            DeliveryStatus.DROPPED,
            "E-mail dropped by SendGrid: the address is on its bounce list"
            if suppressed
            else "E-mail dropped by SendGrid",
            at,
            data,
            InvalidReason.SUPPRESSED if suppressed else None,
        )
    return None


async def _sendgrid_delivery(session: SessionDep, event: dict[str, Any]) -> str | None:
    """Our delivery the event is about: by the custom args we send (delivery id, idempotency
    key), else by SendGrid's message id (sg_message_id starts with the X-Message-Id we kept)."""
    delivery_id = event.get("delivery_id")
    if isinstance(delivery_id, str) and delivery_id:
        found = await session.scalar(
            select(Delivery.id).where(Delivery.id == delivery_id, Delivery.channel == "email")
        )
        if found is not None:
            return found
    key = event.get("idempotency_key")
    if isinstance(key, str) and key:
        found = await session.scalar(
            select(Delivery.id).where(Delivery.idempotency_key == key, Delivery.channel == "email")
        )
        if found is not None:
            return found
    message_id = event.get("sg_message_id")
    if isinstance(message_id, str) and message_id:
        found = await session.scalar(
            select(Delivery.id).where(
                Delivery.provider == "sendgrid",
                Delivery.provider_message_id == message_id.split(".", 1)[0],
            )
        )
        if found is not None:
            return found
    return None


@router.post(
    "/sendgrid",
    response_model=WebhookResult,
    responses={
        400: {"description": "Not a JSON array of events."},
        403: {"description": "The signature does not verify (or no key is configured)."},
        503: {"description": "Recorded; a practice's workflow could not be told. Retry."},
    },
)
async def sendgrid_events(
    request: Request, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> WebhookResult:
    """SendGrid's Signed Event Webhook. Records delivered, open, bounce (type "bounce": hard,
    the e-mail address is marked invalid on the practice; "blocked": soft) and dropped; other
    events are acknowledged and ignored."""
    body = await request.body()
    if not _sendgrid_verified(
        settings,
        body,
        request.headers.get(SENDGRID_SIGNATURE, ""),
        request.headers.get(SENDGRID_TIMESTAMP, ""),
    ):
        raise _REFUSED
    try:
        events = json.loads(body)
    except ValueError:
        events = None
    if not isinstance(events, list):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="expected a JSON array of events")
    tally = Tally()
    reports: list[tuple[str, Report]] = []
    for event in events:
        report = _sendgrid_report(event) if isinstance(event, dict) else None
        delivery_id = await _sendgrid_delivery(session, event) if report is not None else None
        if report is None or delivery_id is None:
            tally.ignored += 1
            continue
        reports.append((delivery_id, report))
    await record_and_tell(session, temporal, reports, tally)
    return _answer(tally)


# --- Twilio --------------------------------------------------------------------------------------

# Error codes that say nothing against the number: our account, our content or Twilio itself
# (queue overflow, account suspended, message filtered, price over the limit). A message that
# failed for these is recorded, and the number stays usable.
TWILIO_ACCOUNT_SIDE_ERRORS = frozenset({"30001", "30002", "30007", "30010"})

_TWILIO_STATUSES = {
    "sent": (DeliveryStatus.SENT, "SMS handed to the carrier", None),
    "delivered": (DeliveryStatus.DELIVERED, "SMS delivered", None),
    "failed": (DeliveryStatus.FAILED, "SMS failed", InvalidReason.SMS_FAILED),
    "undelivered": (
        DeliveryStatus.UNDELIVERED,
        "SMS undelivered by the carrier",
        InvalidReason.SMS_UNDELIVERED,
    ),
}
_TWILIO_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")


def _twilio_url(settings: Settings, request: Request) -> str:
    """The URL Twilio signed: the public one it was configured with (the API may sit behind a
    proxy that changes scheme and host), with this request's path and query."""
    if not settings.public_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{settings.public_url}{request.url.path}{query}"


def _twilio_verified(settings: Settings, url: str, params: dict[str, str], signature: str) -> bool:
    if not settings.twilio_auth_token:
        log.warning("twilio callback refused: TWILIO_AUTH_TOKEN is not set")
        return False
    if not signature:
        return False
    return bool(RequestValidator(settings.twilio_auth_token).validate(url, params, signature))


@router.post(
    "/twilio",
    response_model=WebhookResult,
    responses={
        403: {"description": "X-Twilio-Signature does not verify (or no auth token)."},
        503: {"description": "Recorded; the practice's workflow could not be told. Retry."},
    },
)
async def twilio_status(
    request: Request, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> WebhookResult:
    """Twilio's status callback (form-encoded MessageSid, MessageStatus). Records sent,
    delivered, failed and undelivered, matched by the message SID Twilio gave when sending; a
    failed or undelivered SMS marks the phone invalid on the practice, unless its ErrorCode
    blames the account rather than the number (30001, 30002, 30007, 30010)."""
    body = await request.body()
    try:
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise _REFUSED from None
    if not _twilio_verified(
        settings, _twilio_url(settings, request), params, request.headers.get(TWILIO_SIGNATURE, "")
    ):
        raise _REFUSED
    tally = Tally()
    sid = params.get("MessageSid", "")
    known = _TWILIO_STATUSES.get(params.get("MessageStatus", ""))
    delivery_id = None
    if known is not None and _TWILIO_SID.match(sid):
        delivery_id = await session.scalar(
            select(Delivery.id).where(
                Delivery.provider == "twilio", Delivery.provider_message_id == sid
            )
        )
    if known is None or delivery_id is None:
        tally.ignored += 1
        return _answer(tally)
    delivery_status, summary, reason = known
    data: dict[str, Any] = {"status": params["MessageStatus"]}
    error_code = params.get("ErrorCode", "")
    if error_code.isdigit() and len(error_code) <= 6:
        data["error_code"] = error_code
        if error_code in TWILIO_ACCOUNT_SIDE_ERRORS:
            reason = None
            summary += f" (error {error_code}: not the number's fault)"
        else:
            summary += f" (error {error_code})"
    report = Report(
        "twilio",
        f"{sid}:{params['MessageStatus']}",
        delivery_status,
        summary,
        utcnow(),
        data,
        reason,
    )
    await record_and_tell(session, temporal, [(delivery_id, report)], tally)
    return _answer(tally)


# --- PEC receipts --------------------------------------------------------------------------------

_PEC_RECEIPTS = {
    PecReceiptKind.ACCETTAZIONE: (
        DeliveryStatus.ACCEPTED,
        "PEC accepted by the sender's provider (ricevuta di accettazione)",
        None,
    ),
    PecReceiptKind.CONSEGNA: (
        DeliveryStatus.DELIVERED,
        "PEC delivered to the recipient's mailbox (ricevuta di avvenuta consegna)",
        None,
    ),
    PecReceiptKind.MANCATA_CONSEGNA: (
        DeliveryStatus.NOT_DELIVERED,
        "PEC not delivered (avviso di mancata consegna)",
        InvalidReason.PEC_NOT_DELIVERED,
    ),
}


@router.post(
    "/pec-receipt",
    response_model=WebhookResult,
    responses={
        404: {"description": "Unknown delivery."},
        422: {"description": "Not a PEC delivery, or bad input."},
        503: {"description": "Recorded; the practice's workflow could not be told. Retry."},
    },
)
async def pec_receipt(
    body: PecReceiptIn,
    session: SessionDep,
    temporal: TemporalDep,
    _principal: Annotated[Principal, require(Role.ADMIN)],
) -> WebhookResult:
    """A PEC receipt for one of our PECs, forwarded from the agency's mailbox: accettazione,
    consegna, or mancata_consegna (the PEC address is marked invalid on the practice). The same
    receipt twice is recorded once. An outbox PEC with a receipt counts as sent."""
    delivery = await session.get(Delivery, body.delivery_id)
    if delivery is None:
        raise not_found("delivery")
    if delivery.channel != "pec":
        raise invalid(["body", "delivery_id"], "this delivery is not a PEC")
    delivery_status, summary, reason = _PEC_RECEIPTS[body.kind]
    report = Report(
        "pec",
        f"{delivery.id}:{body.kind.value}",
        delivery_status,
        summary,
        body.received_at or utcnow(),
        {"receipt": body.kind.value},
        reason,
    )
    tally = Tally()
    await record_and_tell(session, temporal, [(delivery.id, report)], tally)
    return _answer(tally)


# --- Stripe --------------------------------------------------------------------------------------


class StripeResult(BaseModel):
    outcome: str = Field(
        description="booked, already_booked, mismatch (another amount or currency than asked: "
        "nothing booked), refused (the practice refused it: nothing booked), expired, ignored."
    )


@router.post(
    "/stripe",
    response_model=StripeResult,
    responses={
        400: {"description": "Stripe-Signature missing, wrong or too old: nothing booked."},
        503: {"description": "The practice's workflow could not be told; Stripe retries."},
    },
)
async def stripe_events(
    request: Request, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> StripeResult:
    """Stripe's webhook (configure https://<RECUPERO_PUBLIC_URL>/webhooks/stripe for
    checkout.session.completed and checkout.session.expired). Verified with the library against
    STRIPE_WEBHOOK_SECRET (timestamps up to 300 s old). A completed, paid checkout books the
    payment on the practice once, with the debtor as actor; an amount or currency other than
    the checkout's books nothing and is kept as `mismatch` for the admin. Other events: 200,
    ignored."""
    body = await request.body()
    try:
        event = card_payments.verified_event(
            settings, body, request.headers.get(STRIPE_SIGNATURE, "")
        )
    except card_payments.BadSignature:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="signature not valid") from None
    return StripeResult(outcome=await card_payments.handle_event(session, temporal, event))
