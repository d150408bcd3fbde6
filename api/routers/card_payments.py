"""Pay by link: a Stripe Checkout page for a practice, made by a person (an operator sends the
debtor the link) through api/services/card_payments.py, the service the debtor's own page calls
too. The payment is booked when Stripe's signed webhook confirms it (POST /webhooks/stripe).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from pydantic import AnyHttpUrl, BaseModel, Field

from api.access import load_practice
from api.auth import Principal, Role, require
from api.deps import SessionDep, SettingsDep
from api.errors import CLOSED_MESSAGE, conflict, invalid
from api.schemas import Euros, RequestModel, euros_out
from api.services import card_payments
from domain.actor import user as user_actor
from domain.money import parse_euros
from domain.practice import Status

router = APIRouter(
    prefix="/practices/{practice_id}",
    tags=["card payments"],
    responses={
        403: {"description": "Wrong role, or another creditor's practice."},
        404: {"description": "Unknown practice."},
    },
)


class CardCheckoutIn(RequestModel):
    amount: Euros | None = Field(
        default=None,
        description="What the payer pays; default all that is due today. At least 10.00 (or "
        "the whole balance when less is due), at most the balance due today.",
        examples=["150.00"],
    )
    success_url: AnyHttpUrl | None = Field(
        default=None,
        description="Where Stripe sends the payer after paying; default RECUPERO_PUBLIC_URL.",
    )
    cancel_url: AnyHttpUrl | None = Field(
        default=None,
        description="Where Stripe sends a payer who gives up; default RECUPERO_PUBLIC_URL.",
    )


class CardCheckoutOut(BaseModel):
    id: str
    url: str = Field(description="Stripe's Checkout page: the link to send the payer.")
    amount: str
    status: str = Field(
        description="started, paid (booked on the practice), expired, mismatch (Stripe reported "
        "another amount: not booked), refused (paid at Stripe, refused by the practice: refund)."
    )
    detail: str | None = None
    created_at: datetime | None = None
    paid_at: datetime | None = None


def _landing(value: AnyHttpUrl | None, public_url: str, field: str) -> str:
    if value is not None:
        return str(value)
    if not public_url:
        raise invalid(["body", field], "required: RECUPERO_PUBLIC_URL is not set")
    return f"{public_url}/"


@router.post(
    "/card-checkouts",
    response_model=CardCheckoutOut,
    status_code=201,
    responses={
        409: {"description": "Card payments are off (no Stripe keys), or the practice is closed."},
        422: {"description": "`amount` outside 10.00 (or the balance) .. the balance due today."},
        502: {"description": "Stripe did not create the checkout; nothing recorded."},
    },
)
async def start_card_checkout(
    practice_id: str,
    body: CardCheckoutIn,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)],
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="The same key again returns the same checkout (no second Stripe session).",
        ),
    ] = None,
) -> CardCheckoutOut:
    """A Stripe Checkout page for paying the practice by card, to send to the debtor. The
    payment is booked on the practice when Stripe's signed webhook confirms it."""
    practice = await load_practice(session, principal, practice_id)
    if not card_payments.card_payments_on(settings):
        raise conflict(str(card_payments.CardPaymentsOff()))
    if practice.status == Status.CLOSED:
        raise conflict(CLOSED_MESSAGE)
    success = _landing(body.success_url, settings.public_url, "success_url")
    cancel = _landing(body.cancel_url, settings.public_url, "cancel_url")
    try:
        checkout = await card_payments.start_checkout(
            session,
            settings,
            practice.id,
            None if body.amount is None else parse_euros(body.amount),
            success_url=success,
            cancel_url=cancel,
            actor=user_actor(principal.id, principal.role.value),
            idempotency_key=idempotency_key,
        )
    except card_payments.CardPaymentsOff as exc:
        raise conflict(str(exc)) from exc
    except card_payments.PracticeNotPayable as exc:
        raise conflict(str(exc)) from exc
    except card_payments.AmountOutOfBounds as exc:
        raise invalid(["body", "amount"], str(exc)) from exc
    except card_payments.IdempotencyKeyReused as exc:
        raise conflict(str(exc)) from exc
    except card_payments.StripeUnavailable as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=str(exc)) from exc
    return CardCheckoutOut(
        id=checkout.id,
        url=checkout.url,
        amount=euros_out(checkout.amount_cents),
        status=checkout.status,
    )


@router.get("/card-checkouts", response_model=list[CardCheckoutOut])
async def list_card_checkouts(
    practice_id: str,
    session: SessionDep,
    principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)],
) -> list[CardCheckoutOut]:
    """The practice's card checkouts, newest first, with what Stripe said of each."""
    practice = await load_practice(session, principal, practice_id)
    return [
        CardCheckoutOut(
            id=row.id,
            url=row.checkout_url,
            amount=euros_out(row.amount_cents),
            status=row.status,
            detail=row.detail,
            created_at=row.created_at,
            paid_at=row.paid_at,
        )
        for row in await card_payments.checkouts_of(session, practice.id)
    ]
