"""One practice's page, for every role that may see it: where it is and what comes next (the
read model of GET /practices/{id}), its timeline (GET /practices/{id}/events), its letters and
statement, its documents (letters, dispute evidence) and notes; the links to the debtor's own
page (GET /practices/{id}/debtor-links) and the card checkouts (GET .../card-checkouts); and the
commands a person sends it from there (a payment received directly, a card payment link to
send the debtor, revoking the debtor's links, the creditor's withdrawal).

Each piece is the API's own handler called with the session's Principal: api/access.py's
load_practice decides who sees the practice (another creditor's is the 403 page, an unknown
one the 404 page), and the commands' checks and refusals are the API's."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from api.access import console_practice_boundary
from api.auth import Principal, Role, console_require
from api.console import i18n
from api.console.forms import attempt, euros
from api.console.i18n import N_
from api.console.security import ConsoleRequest
from api.console.templating import render, request_locale
from api.deps import NowDep, SessionDep, SettingsDep, TemporalDep, get_settings
from api.routers import card_payments as card_payments_api
from api.routers import debtor_links as debtor_links_api
from api.routers import practice_commands, practices, privacy, statement
from api.schemas import DocumentOut, NoteOut, PaymentIn, WithdrawalIn, rome_today
from api.schemas_privacy import ErasureRequestIn, ErasureRequestOut
from api.services import card_payments
from db.models import User

router = APIRouter(prefix="/practices", tags=["console"])
# another's practice is the 403 page before the form is read, as the API answers
PracticeBoundary = Depends(console_practice_boundary)

AnyUser = Annotated[Principal, console_require(*Role)]
# the roles of POST /practices/{id}/payments and /withdrawal (the API's require() lists)
Payer = Annotated[Principal, console_require(Role.ADMIN, Role.OPERATOR, Role.CREDITOR)]
Withdrawer = Annotated[Principal, console_require(Role.ADMIN, Role.CREDITOR)]
# the roles of GET/POST /practices/{id}/debtor-links(/revoke)
LinkManager = Annotated[Principal, console_require(Role.ADMIN, Role.CREDITOR)]
PAYERS = (Role.ADMIN, Role.OPERATOR, Role.CREDITOR)
# the roles of POST/GET /practices/{id}/erasure-requests: the agency's staff record a debtor's
# request on its behalf
Staff = Annotated[Principal, console_require(Role.ADMIN, Role.OPERATOR)]
STAFF = (Role.ADMIN, Role.OPERATOR)


def page_url(practice_id: str) -> str:
    return f"/console/practices/{practice_id}"


async def _optional(call: Any) -> Any:
    """A part of the page the API refuses to this user (a field agent not assigned to the
    practice: no notes, no letters) is left out, not the whole page."""
    try:
        return await call
    except HTTPException as exc:
        if exc.status_code != 403:
            raise
        return None


async def _page(
    request: Request,
    db: SessionDep,
    principal: Principal,
    practice_id: str,
    *,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
    now: datetime | None = None,
) -> Response:
    # after a refused command the session holds the practice as the command loaded it (without
    # its invoices, perhaps stale): the page reads it afresh, as GET /practices/{id} would
    db.expunge_all()
    practice = await practices.get_practice(
        practice_id=practice_id, session=db, principal=principal
    )
    events = await practices.list_events(practice_id=practice_id, session=db, principal=principal)
    notes: list[NoteOut] | None = await _optional(
        practices.list_notes(practice_id=practice_id, session=db, principal=principal)
    )
    documents: list[DocumentOut] | None = await _optional(
        practices.list_documents(practice_id=practice_id, session=db, principal=principal)
    )
    # the names of the people who wrote the notes and took the actions on the timeline: the
    # events keep only a user's id and role (no personal data in the workflow's history)
    # (a note the debtor wrote has no author among the users)
    ids = {n.author_id for n in notes or () if n.author_id} | {
        e.actor.id for e in events if e.actor is not None and e.actor.kind == "user" and e.actor.id
    }
    authors: dict[str, str] = {}
    if ids:
        rows = await db.execute(select(User.id, User.name).where(User.id.in_(sorted(ids))))
        authors = {user_id: name for user_id, name in rows}
    settings = get_settings(request)
    links: list[debtor_links_api.DebtorLinkOut] | None = None
    if principal.role in (Role.ADMIN, Role.CREDITOR):
        links = await debtor_links_api.list_links(
            practice_id=practice_id,
            session=db,
            principal=principal,
            now=now or datetime.now(UTC),
        )
    checkouts: list[card_payments_api.CardCheckoutOut] | None = None
    if principal.role in PAYERS:
        checkouts = await card_payments_api.list_card_checkouts(
            practice_id=practice_id, session=db, principal=principal
        )
    erasures: list[ErasureRequestOut] | None = None
    if principal.role in STAFF:
        erasures = await privacy.list_practice_erasure_requests(
            practice_id=practice_id, session=db, principal=principal
        )
    return render(
        request,
        "console/practice.html",
        {
            "practice": practice,
            "events": list(reversed(events)),
            "notes": notes,
            "authors": authors,
            "documents": documents,
            "names": i18n.PRACTICE_VALUES,
            "may_pay": principal.role in PAYERS,
            "may_withdraw": principal.role in (Role.ADMIN, Role.CREDITOR),
            "links": links,
            "checkouts": checkouts,
            "erasures": erasures,
            # the card payment link form only when Stripe's keys are set: nothing pretends
            "cards_on": card_payments.card_payments_on(settings),
            # the form's retry key: posted twice (a double click, a resent form), the same
            # checkout comes back, no second Stripe session (POST .../card-checkouts' header)
            "checkout_key": (form or {}).get("key") or secrets.token_urlsafe(16),
            "open": practice.status.value != "closed",
            "errors": errors or {},
            "refusal": refusal,
            "form": form or {},
            "today": rome_today(),
        },
        status_code,
    )


@router.get("/{practice_id}")
async def practice_page(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: AnyUser,
    db: SessionDep,
    now: NowDep,
) -> Response:
    return await _page(request, db, principal, practice_id, now=now)


@router.get("/{practice_id}/documents/{document_id}")
async def document(
    practice_id: str, document_id: str, _r: ConsoleRequest, principal: AnyUser, db: SessionDep
) -> Response:
    """A letter's PDF: GET /practices/{id}/documents/{document_id} with the session's user."""
    return await practices.get_document(
        practice_id=practice_id, document_id=document_id, session=db, principal=principal
    )


@router.get("/{practice_id}/statement.pdf")
async def statement_pdf(
    practice_id: str,
    _r: ConsoleRequest,
    principal: AnyUser,
    db: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Today's statement (estratto conto): GET /practices/{id}/statement.pdf."""
    return await statement.get_statement_pdf(
        practice_id=practice_id, session=db, principal=principal, settings=settings, at=None
    )


async def _command(
    request: Request,
    db: SessionDep,
    principal: Principal,
    practice_id: str,
    form: dict[str, str],
    call: Any,
    done: str,
) -> Response:
    """Runs an API command handler: 303 back to the page when accepted; its 422 errors next to
    the fields, its other refusals (409, a 403 for this practice) in the alert."""
    refused = await attempt(call)
    if refused:
        return await _page(
            request,
            db,
            principal,
            practice_id,
            errors=refused.errors,
            refusal=refused.message,
            form=form,
            status_code=refused.status_code,
        )
    return RedirectResponse(f"{page_url(practice_id)}?done={done}", status_code=303)


@router.post("/{practice_id}/payments", dependencies=[PracticeBoundary])
async def payment(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Payer,
    db: SessionDep,
    temporal: TemporalDep,
    amount: Annotated[str, Form(max_length=50)] = "",
    paid_on: Annotated[str, Form(max_length=20)] = "",
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A payment received directly: POST /practices/{id}/payments."""
    form = {"amount": amount, "paid_on": paid_on, "reference": reference}

    async def call() -> None:
        body = PaymentIn.model_validate(
            {
                "amount": euros(amount) or "",
                "paid_on": paid_on or None,
                "reference": reference.strip(),
            }
        )
        await practice_commands.record_payment(
            practice_id=practice_id, body=body, session=db, temporal=temporal, principal=principal
        )

    return await _command(request, db, principal, practice_id, form, call, "payment")


@router.post("/{practice_id}/withdrawal", dependencies=[PracticeBoundary])
async def withdrawal(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Withdrawer,
    db: SessionDep,
    temporal: TemporalDep,
    reason: Annotated[str, Form(max_length=4000)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The creditor withdraws the mandate: POST /practices/{id}/withdrawal. It cannot be undone,
    so the form asks for a tick first (the console's own question, before the API's checks)."""
    form = {"reason": reason}
    if confirm != "yes":
        message = i18n.translate(request_locale(request), N_("Tick the box to withdraw."))
        return await _page(
            request,
            db,
            principal,
            practice_id,
            errors={"confirm": message},
            form=form,
            status_code=422,
        )

    async def call() -> None:
        body = WithdrawalIn.model_validate({"reason": reason.strip()})
        await practice_commands.withdraw(
            practice_id=practice_id, body=body, session=db, temporal=temporal, principal=principal
        )

    return await _command(request, db, principal, practice_id, form, call, "withdrawal")


# no PracticeBoundary on these two: their API routes check the role first, then the practice
@router.post("/{practice_id}/debtor-links/revoke")
async def revoke_debtor_links(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: LinkManager,
    db: SessionDep,
    now: NowDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Every working link to the debtor's page stops working: POST
    /practices/{id}/debtor-links/revoke. The debtor cannot open the page until the next letter
    brings a new link, so the form asks for a tick first (the console's own question)."""
    if confirm != "yes":
        message = i18n.translate(request_locale(request), N_("Tick the box to revoke the links."))
        return await _page(
            request,
            db,
            principal,
            practice_id,
            errors={"revoke_confirm": message},
            status_code=422,
            now=now,
        )

    async def call() -> None:
        await debtor_links_api.revoke(
            practice_id=practice_id, session=db, principal=principal, now=now
        )

    return await _command(request, db, principal, practice_id, {}, call, "links_revoked")


@router.post("/{practice_id}/card-checkouts")
async def card_checkout(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Payer,
    db: SessionDep,
    settings: SettingsDep,
    checkout_amount: Annotated[str, Form(max_length=50)] = "",
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A card payment link to send the debtor: POST /practices/{id}/card-checkouts (an empty
    amount: all that is due today). The page then shows the link to copy."""
    form = {"checkout_amount": checkout_amount, "key": key}
    made: list[card_payments_api.CardCheckoutOut] = []

    async def call() -> None:
        body = card_payments_api.CardCheckoutIn.model_validate({"amount": euros(checkout_amount)})
        made.append(
            await card_payments_api.start_card_checkout(
                practice_id=practice_id,
                body=body,
                session=db,
                settings=settings,
                principal=principal,
                idempotency_key=key.strip() or None,
            )
        )

    refused = await attempt(call)
    if refused:
        # the API's `amount` is this form's `checkout_amount` (the payment form has an amount);
        # a field the form has not (success_url: RECUPERO_PUBLIC_URL unset) goes to the alert
        errors = {"checkout_amount": refused.errors["amount"]} if "amount" in refused.errors else {}
        others = [text for name, text in refused.errors.items() if name != "amount"]
        if refused.status_code not in (422, 502):
            # the key made a checkout already (another amount now: 409): the form again with
            # a new key, for a new link; after a 422 or Stripe's failure nothing was made
            form.pop("key")
        return await _page(
            request,
            db,
            principal,
            practice_id,
            errors=errors,
            refusal=others[0] if others else refused.message,
            form=form,
            status_code=refused.status_code,
        )
    return RedirectResponse(
        f"{page_url(practice_id)}?done=checkout&checkout={made[0].id}", status_code=303
    )


@router.post("/{practice_id}/erasure-requests", dependencies=[PracticeBoundary])
async def erasure_request(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Staff,
    db: SessionDep,
    now: NowDep,
    received_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The debtor's erasure request, recorded on its behalf: POST
    /practices/{id}/erasure-requests; the decision shows in the page's list."""
    form = {"received_on": received_on}

    async def call() -> None:
        body = ErasureRequestIn.model_validate({"received_on": received_on.strip() or None})
        await privacy.record_erasure_request(
            practice_id=practice_id, body=body, session=db, principal=principal, now=now
        )

    return await _command(request, db, principal, practice_id, form, call, "erasure")
