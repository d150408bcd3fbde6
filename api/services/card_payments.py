"""Card payments through Stripe Checkout: the session a payer is sent to, and the booking of what
Stripe's signed webhook confirms.

The API (POST /practices/{id}/card-checkouts, a link an operator sends) and the debtor's own
page call the same `start_checkout`; the webhook (POST /webhooks/stripe) calls `handle_event`,
which books the payment through the practice workflow's payment update, exactly like a payment
an operator records (api/routers/practice_commands.record_payment), with the debtor as actor.

Without STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET card payments are off: `start_checkout`
raises CardPaymentsOff and asks Stripe nothing (a page we could never confirm would take money
we could never book).

Stripe is told only the practice's id and reference and the amount: never the debtor's name,
tax code or contacts (Stripe's Checkout page asks the payer what the card network needs).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from temporalio.client import Client

from api.errors import send_update
from config import Settings
from db.ledger import LedgerError, practice_ledger, rate_table
from db.models import CardPayment, LedgerRow, Practice, utcnow
from domain.account import MissingRate
from domain.actor import Actor, ActorKind
from domain.calendar import rome_date
from domain.ledger import LedgerKind
from domain.money import format_euros
from domain.practice import PaymentCmd, Status, UpdateName
from domain.rates import RateOverlap
from domain.statement import StatementError

log = logging.getLogger(__name__)

CURRENCY = "eur"
# The smallest partial payment by card: 10 euros, or the whole balance when less is due. Stripe
# itself takes 0.50 EUR at least, and its fee (a fixed part plus a percentage) would eat a good
# share of smaller sums; a debtor who owes less than 10 euros pays it all at once.
MIN_PARTIAL_CENTS = 1000
# a signed webhook older (or newer) than this is a replay: refused
WEBHOOK_TOLERANCE_SECONDS = 300
# the debtor, paying by card (no id: the debtor is not a user of the product)
DEBTOR = Actor(ActorKind.DEBTOR)
# our namespace for the ids of card payments derived from a caller's idempotency key
_KEYED_IDS = uuid.UUID("6a1f3a52-5f3e-4c39-9d1e-2b7c3f0d8e41")


class CardPaymentsOff(Exception):
    """STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET is not set."""

    def __init__(self) -> None:
        super().__init__(
            "card payments are off: STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are not set"
        )


class PracticeNotPayable(Exception):
    """Unknown or closed practice."""


class AmountOutOfBounds(ValueError):
    def __init__(self, minimum_cents: int, maximum_cents: int) -> None:
        self.minimum_cents = minimum_cents
        self.maximum_cents = maximum_cents
        super().__init__(
            f"the amount must be between {format_euros(minimum_cents)} and "
            f"{format_euros(maximum_cents)} (the balance due today)"
        )


class IdempotencyKeyReused(Exception):
    """The same idempotency key was used before for another amount."""


class StripeUnavailable(Exception):
    """Stripe refused the request or could not be reached; nothing was recorded."""


@dataclass(frozen=True)
class Checkout:
    id: str  # our card payment's id (CardPayment.id)
    url: str  # Stripe's Checkout page: where the payer goes
    amount_cents: int
    status: str


def card_payments_on(settings: Settings) -> bool:
    return bool(settings.stripe_secret_key and settings.stripe_webhook_secret)


def stripe_client(settings: Settings) -> stripe.StripeClient:
    """A client of its own per call: the key and the address are this client's options, not
    the library's module globals (tests point it at a local server)."""
    if not card_payments_on(settings):
        raise CardPaymentsOff()
    # retries of a POST carry the same Idempotency-Key, so they never create a second session
    if settings.stripe_api_base:
        return stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_base},
            max_network_retries=2,
        )
    return stripe.StripeClient(settings.stripe_secret_key, max_network_retries=2)


async def due_today(db: AsyncSession, practice: Practice) -> int:
    """What the debtor owes at the end of today (Rome): principal, costs and, when claimed,
    interest, from the same statement of account as GET /practices/{id}/statement. When the
    statement cannot be made (no rate published yet for a recent day), the balance the workflow
    last computed."""
    await db.refresh(practice, ["invoices"])
    try:
        ledger = await practice_ledger(db, practice)
        account = ledger.account(rome_date(utcnow()), await rate_table(db))
    except (LedgerError, RateOverlap, MissingRate, StatementError):
        return max(practice.balance_cents, 0)
    return max(account.statement.totals.total_outstanding_cents, 0)


def amount_bounds(due_cents: int) -> tuple[int, int]:
    """The smallest and largest card payment accepted when `due_cents` is due."""
    return min(MIN_PARTIAL_CENTS, due_cents), due_cents


def _checkout(row: CardPayment) -> Checkout:
    return Checkout(
        id=row.id, url=row.checkout_url, amount_cents=row.amount_cents, status=row.status
    )


async def start_checkout(
    db: AsyncSession,
    settings: Settings,
    practice_id: str,
    amount_cents: int | None,
    *,
    success_url: str,
    cancel_url: str,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Checkout:
    """A Stripe Checkout Session for paying `amount_cents` (None: all that is due today) on the
    practice, recorded as a started card payment; the payer goes to `Checkout.url`.

    The caller has checked who may do this (the API its roles, the debtor's page its token).
    The same `idempotency_key` again returns the same checkout and asks Stripe for no second
    session (the key, with the practice, names our row and is Stripe's Idempotency-Key).

    Raises CardPaymentsOff, PracticeNotPayable (unknown or closed), AmountOutOfBounds,
    IdempotencyKeyReused (the key was used for another amount), StripeUnavailable.
    """
    if not card_payments_on(settings):
        raise CardPaymentsOff()
    practice = await db.get(Practice, practice_id, options=[selectinload(Practice.invoices)])
    if practice is None:
        raise PracticeNotPayable("practice not found")
    if practice.status == Status.CLOSED:
        raise PracticeNotPayable("the practice is closed")
    row_id = (
        uuid.uuid5(_KEYED_IDS, f"{practice_id}\n{idempotency_key}").hex
        if idempotency_key
        else uuid.uuid4().hex
    )
    existing = await db.get(CardPayment, row_id)
    if existing is not None:
        if amount_cents is not None and amount_cents != existing.amount_cents:
            raise IdempotencyKeyReused("this idempotency key was used for another amount")
        return _checkout(existing)
    due = await due_today(db, practice)
    if amount_cents is None:
        amount_cents = due
    low, high = amount_bounds(due)
    if high <= 0 or not low <= amount_cents <= high:
        raise AmountOutOfBounds(low, high)
    params: dict[str, Any] = {
        "mode": "payment",
        "payment_method_types": ["card"],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": CURRENCY,
                    "unit_amount": amount_cents,
                    "product_data": {"name": f"Pratica {practice.reference}"},
                },
            }
        ],
        "client_reference_id": row_id,
        "metadata": {"practice_id": practice.id, "card_payment_id": row_id},
        "payment_intent_data": {
            "metadata": {"practice_id": practice.id, "card_payment_id": row_id}
        },
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    client = stripe_client(settings)
    try:
        session = await client.v1.checkout.sessions.create_async(
            params,  # type: ignore[arg-type]  # the TypedDict of every Checkout option
            options={"idempotency_key": f"recupero-checkout-{row_id}"},
        )
    except stripe.StripeError as exc:
        # the class name and Stripe's code, never its message (it may quote what was sent)
        log.warning(
            "stripe refused a checkout for practice %s: %s %s",
            practice.id,
            type(exc).__name__,
            exc.code,
        )
        raise StripeUnavailable("Stripe did not create the checkout; try again later") from exc
    if not session.url:
        raise StripeUnavailable("Stripe created the checkout without a page address")
    row = CardPayment(
        id=row_id,
        practice_id=practice.id,
        stripe_session_id=session.id,
        checkout_url=session.url,
        amount_cents=amount_cents,
        status="started",
        started_by_kind=ActorKind(actor.kind).value,
        started_by_id=actor.id,
    )
    db.add(row)
    try:
        await db.commit()
    except IntegrityError:
        # the same key at the same moment: Stripe gave both the same session, keep the first row
        await db.rollback()
        first = await db.get(CardPayment, row_id)
        if first is None:
            raise
        return _checkout(first)
    return _checkout(row)


async def checkouts_of(db: AsyncSession, practice_id: str) -> list[CardPayment]:
    """The practice's card payments, newest first."""
    rows = await db.scalars(
        select(CardPayment)
        .where(CardPayment.practice_id == practice_id)
        .order_by(CardPayment.created_at.desc(), CardPayment.id)
    )
    return list(rows)


# --- the webhook ---------------------------------------------------------------------------------


class BadSignature(Exception):
    """Unsigned, wrongly signed or too old: nothing is read from it."""


def verified_event(settings: Settings, payload: bytes, signature: str) -> dict[str, Any]:
    """The event Stripe signed, checked with the library against STRIPE_WEBHOOK_SECRET (a
    timestamp more than 300 s away is refused: a replay)."""
    if not card_payments_on(settings):
        log.warning("stripe webhook refused: card payments are off")
        raise BadSignature()
    if not signature:
        raise BadSignature()
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, settings.stripe_webhook_secret, WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(text)
    except (UnicodeDecodeError, ValueError, stripe.SignatureVerificationError) as exc:
        raise BadSignature() from exc
    if not isinstance(event, dict):
        raise BadSignature()
    return event


async def _payment_booked(db: AsyncSession, practice_id: str, reference: str) -> bool:
    booked = await db.scalar(
        select(LedgerRow.id).where(
            LedgerRow.practice_id == practice_id,
            LedgerRow.kind == LedgerKind.PAYMENT,
            LedgerRow.reference == reference,
        )
    )
    return booked is not None


async def _mark(db: AsyncSession, row: CardPayment, state: str, **values: Any) -> str:
    row.status = state
    for name, value in values.items():
        setattr(row, name, value)
    await db.commit()
    return state


def _event_day(event: dict[str, Any]) -> datetime:
    created = event.get("created")
    if isinstance(created, int) and not isinstance(created, bool):
        try:
            return datetime.fromtimestamp(created, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return utcnow()


async def handle_event(db: AsyncSession, temporal: Client, event: dict[str, Any]) -> str:
    """What a verified Stripe event did: "booked", "already_booked", "mismatch", "refused",
    "expired" or "ignored" (not ours, or an event kind we do not act on).

    checkout.session.completed with payment_status "paid": the payment update to the practice's
    workflow, once. The reference "Stripe <payment intent>" is the workflow's own guard: a
    second delivery of the event (even a concurrent one) is refused by it as a known reference,
    and read here as already booked. Raises the 503/504 of send_update when the workflow cannot
    be reached: Stripe retries.
    """
    kind = event.get("type")
    data = event.get("data")
    session = data.get("object") if isinstance(data, dict) else None
    if kind not in ("checkout.session.completed", "checkout.session.expired") or not isinstance(
        session, dict
    ):
        return "ignored"
    session_id = session.get("id")
    row = (
        await db.scalar(select(CardPayment).where(CardPayment.stripe_session_id == session_id))
        if isinstance(session_id, str)
        else None
    )
    if row is None:
        # another application's checkout on the same Stripe account, or not ours
        log.info("stripe %s for a session we did not start: ignored", kind)
        return "ignored"
    if kind == "checkout.session.expired":
        if row.status != "started":
            return "ignored"
        return await _mark(db, row, "expired")
    if session.get("payment_status") != "paid":
        return "ignored"  # not for cards: paid when the session completes
    if row.status == "paid":
        return "already_booked"
    if row.status != "started":
        return "ignored"  # mismatch or refused already: the admin looks at it
    intent = session.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, dict) else intent
    if not isinstance(intent_id, str) or not intent_id:
        intent_id = row.stripe_session_id
    amount = session.get("amount_total")
    currency = session.get("currency")
    if amount != row.amount_cents or currency != CURRENCY:
        log.error(
            "card payment %s (practice %s): Stripe reports %s %s, we asked %s eur: not booked",
            row.id,
            row.practice_id,
            amount,
            currency,
            row.amount_cents,
        )
        return await _mark(
            db,
            row,
            "mismatch",
            stripe_payment_intent=intent_id,
            detail="Stripe reported another amount or currency: not booked",
        )
    practice = await db.get(Practice, row.practice_id)
    reference = f"Stripe {intent_id}"
    if practice is None or practice.status == Status.CLOSED:
        return await _refused(db, row, intent_id, "the practice is closed")
    command = PaymentCmd(
        amount_cents=row.amount_cents,
        paid_on=rome_date(_event_day(event)),
        reference=reference,
        actor=DEBTOR,
    )
    # nothing pending in the session while the workflow writes the read model (SQLite's lock)
    await db.commit()
    try:
        await send_update(
            temporal, practice.workflow_id, UpdateName.PAYMENT, command, invalid_loc=["amount"]
        )
    except HTTPException as exc:
        if exc.status_code not in (status.HTTP_409_CONFLICT, 422):
            raise  # the workflow could not be reached: Stripe retries
        if await _payment_booked(db, row.practice_id, reference):
            await _mark(db, row, "paid", paid_at=_event_day(event), stripe_payment_intent=intent_id)
            return "already_booked"
        return await _refused(db, row, intent_id, "the practice refused the payment")
    await _mark(db, row, "paid", paid_at=_event_day(event), stripe_payment_intent=intent_id)
    return "booked"


async def _refused(db: AsyncSession, row: CardPayment, intent_id: str, why: str) -> str:
    log.error("card payment %s (practice %s): %s; not booked", row.id, row.practice_id, why)
    return await _mark(
        db, row, "refused", stripe_payment_intent=intent_id, detail=f"{why}: refund it at Stripe"
    )
