"""Paying from the debtor's page: by card through Stripe Checkout (only when card payments are
on) and by bank transfer, with the creditor's IBAN and the EPC QR code a banking app reads.

The card payment goes through the same `card_payments.start_checkout` as the API, with the
debtor as actor; it is booked only when Stripe's signed webhook confirms it (POST
/webhooks/stripe), never by the page Stripe sends the payer back to.

The section's data is given to its template by `pay_section()`, a template global (the page's
context has the practice, the creditor and the statement; the rest is computed from them)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from api.console.templating import environment
from api.debtor import routes_page
from api.debtor.access import PREFIX, DebtorRequest, VerifiedDebtor, render
from api.deps import SessionDep, SettingsDep
from api.services import card_payments
from api.services.debtor_links import DebtorAccess
from config import Settings
from db.models import Creditor, Practice
from domain.money import AmountError, as_typed_by_people, parse_euros
from domain.payment_qr import PaymentQrError, epc_payload
from domain.practice import Status

router = APIRouter(prefix=f"{PREFIX}/me/pay", tags=["debtor"])

# where Stripe's hosted Checkout lives: the debtor's browser is sent there after the form
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def checkout_origins(settings: Settings | None) -> tuple[str, ...]:
    """The origins the pay form may lead to (the CSP's form-action: Chromium applies it to the
    redirect after a form too). With RECUPERO_STRIPE_API_BASE (tests: a local stand-in for
    Stripe), that server's origin serves the checkout pages as well."""
    if settings is None or not card_payments.card_payments_on(settings):
        return ()
    origins = [STRIPE_CHECKOUT_ORIGIN]
    if settings.stripe_api_base:
        parts = urlsplit(settings.stripe_api_base)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(origins)


@dataclass(frozen=True)
class PayError:
    """Why a card payment was refused: "amount" (not an amount), "bounds" (outside the
    minimum..maximum), "off", "closed", "reused" (the form's key with another amount),
    "unavailable" (Stripe). The template says it in the page's language."""

    code: str
    minimum_cents: int = 0
    maximum_cents: int = 0


@dataclass(frozen=True)
class PaySection:
    due_cents: int
    card: bool  # card payments on and something to pay
    minimum_cents: int
    maximum_cents: int
    key: str  # a one-time key for this rendering of the form: a double click makes one checkout
    amount: str  # the amount field's value
    error: PayError | None  # why the last card payment was refused (the template words it)
    beneficiary: str
    iban: str
    remittance: str
    qr_svg: Markup | None  # the EPC QR code, inline (the CSP allows no external image)


def _due_cents(practice: Practice, statement: Any) -> int:
    if practice.status == Status.CLOSED:
        return 0
    if statement is not None:
        return max(parse_euros(statement.totals.total.outstanding, allow_zero=True), 0)
    return max(practice.balance_cents, 0)


def _qr_svg(beneficiary: str, iban: str, amount_cents: int, remittance: str) -> Markup | None:
    try:
        payload = epc_payload(
            beneficiary=beneficiary, iban=iban, amount_cents=amount_cents, remittance=remittance
        )
    except PaymentQrError:
        return None  # the transfer's details are still shown in words
    # as the letters (activities/rendering.py): level M, UTF-8 as the payload declares
    code = segno.make(payload, error="m", micro=False, boost_error=False, encoding="utf-8")
    # segno's own markup (no text of ours in it): a title names it for screen readers; a
    # viewBox and no fixed size, so that the stylesheet scales it (a fixed size crops it)
    svg = code.svg_inline(scale=5, border=4, title="EPC QR", svgclass="payment-qr", omitsize=True)
    return Markup(svg)


def pay_section(
    request: Request,
    practice: Practice,
    creditor: Creditor,
    statement: Any,
    amount: str | None = None,
    error: PayError | None = None,
    locale: str = "it",
) -> PaySection:
    settings: Settings | None = getattr(request.app.state, "settings", None)
    due = _due_cents(practice, statement)
    low, high = card_payments.amount_bounds(due)
    card = settings is not None and card_payments.card_payments_on(settings) and due > 0
    return PaySection(
        due_cents=due,
        card=card,
        minimum_cents=low,
        maximum_cents=high,
        key=secrets.token_urlsafe(24),
        amount=amount if amount is not None else _typed(due, locale),
        error=error,
        beneficiary=creditor.name,
        iban=creditor.iban,
        remittance=practice.reference,
        qr_svg=_qr_svg(creditor.name, creditor.iban, due, practice.reference) if due else None,
    )


def _typed(cents: int, locale: str) -> str:
    """The amount as people type it in the page's language, without grouping: 1250,40 in
    Italian, 1250.40 in English (the field reads both, and 1.250,40)."""
    whole, rest = divmod(cents, 100)
    return f"{whole}{'.' if locale == 'en' else ','}{rest:02d}"


environment.globals["debtor_pay_section"] = pay_section


def _base_url(request: Request, settings: Settings) -> str:
    return settings.public_url or str(request.base_url).rstrip("/")


async def _page_again(
    request: Request,
    access: DebtorAccess,
    db: SessionDep,
    amount: str,
    error: PayError,
    status: int,
) -> Response:
    """The debtor's page again, with the pay section's error next to the amount (what GET
    /d/me shows, every section's context included, plus the error, which the template words in
    the page's language)."""
    context = await routes_page.page_context(request, db, access)
    context.update(pay_amount=amount, pay_error=error)
    return render(request, "debtor/page.html", context, status)


@router.post("/card")
async def pay_by_card(
    request: Request,
    access: VerifiedDebtor,
    db: SessionDep,
    settings: SettingsDep,
    amount: str = Form("", max_length=40),
    key: str = Form("", max_length=100),
) -> Response:
    """The card payment form: a Stripe Checkout for the amount (303 to Stripe's page). The
    form's one-time key makes a double click one checkout. Refusals: the page again with the
    reason next to the amount, never a 500."""
    try:
        cents = parse_euros(as_typed_by_people(amount))
    except AmountError:
        return await _page_again(request, access, db, amount, PayError("amount"), 422)
    base = _base_url(request, settings)
    try:
        checkout = await card_payments.start_checkout(
            db,
            settings,
            access.practice_id,
            cents,
            success_url=f"{base}{PREFIX}/me/pay/done",
            cancel_url=f"{base}{PREFIX}/me/pay/cancelled",
            actor=card_payments.DEBTOR,
            idempotency_key=f"debtor-page-{key}" if key else None,
        )
    except card_payments.AmountOutOfBounds as exc:
        error = PayError("bounds", exc.minimum_cents, exc.maximum_cents)
        return await _page_again(request, access, db, amount, error, 422)
    except card_payments.CardPaymentsOff:
        return await _page_again(request, access, db, amount, PayError("off"), 409)
    except card_payments.PracticeNotPayable:
        return await _page_again(request, access, db, amount, PayError("closed"), 409)
    except card_payments.IdempotencyKeyReused:
        return await _page_again(request, access, db, amount, PayError("reused"), 409)
    except card_payments.StripeUnavailable:
        return await _page_again(request, access, db, amount, PayError("unavailable"), 503)
    return RedirectResponse(checkout.url, status_code=303)


@router.get("/done")
async def paid(request: Request, access: DebtorRequest, db: SessionDep) -> Response:
    """Where Stripe sends the payer back. It books nothing (the webhook does): it says the
    payment shows on the page as soon as the bank confirms it, with the last checkout's state.

    The session's cookie is SameSite=Strict, so a browser coming back from Stripe's site does
    not send it: without a session the page says the same without the checkout's state, and
    its link back to the page (a navigation from our own site) carries the cookie again."""
    checkouts = await card_payments.checkouts_of(db, access.practice_id) if access else []
    return render(
        request,
        "debtor/pay_done.html",
        {"checkout": checkouts[0] if checkouts else None, "cancelled": False},
    )


@router.get("/cancelled")
async def cancelled(request: Request, _access: DebtorRequest) -> Response:
    """Where Stripe sends the payer who gave up: nothing was paid (no session needed, as for
    /done), and a link back to the page."""
    return render(request, "debtor/pay_done.html", {"checkout": None, "cancelled": True})
