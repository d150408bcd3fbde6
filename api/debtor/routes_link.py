"""The link itself, `/d/{token}`: holding it shows only the creditor's name and the amount due
today, and the second step (the debtor's codice fiscale or partita IVA, or a one-time code sent
to a contact on file). An unknown, expired or revoked token: the same page, "this link does not
work (any more): ask for a new one", so a guess learns nothing. A visit is never a contact:
nothing here touches the contact log or its limits.

The one-time code is a message the debtor asked for, now: it goes through the same channels as
every message (the outbox without a provider), is not counted as a contact, and is not held to
the contact window; a new one can be asked for once a minute."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from activities.channels import email_channel_for, sms_channel_for
from activities.deliveries import Message
from activities.rendering import Renderer
from api.console import i18n
from api.debtor.access import (
    LANG_COOKIE,
    PREFIX,
    DebtorRequest,
    render,
    request_locale,
    set_session_cookie,
)
from api.debtor.statement import amount_due_today
from api.deps import DatabaseDep, NowDep, SessionDep, SettingsDep
from api.services import debtor_links
from api.services.debtor_links import StepOutcome
from db.models import Creditor, DebtorLink, Practice
from domain.identifiers import normalize_email, normalize_phone

router = APIRouter(prefix=PREFIX, tags=["debtor"])

CODE_CHANNELS = ("email", "sms")
RESEND_AFTER = timedelta(minutes=1)
_renderer = Renderer()


@router.get("/lang/{code}")
async def switch_language(code: str, back: str = "") -> Response:
    # only back to a page of /d/: never a redirect elsewhere
    target = back if back.startswith(f"{PREFIX}/") and "//" not in back else f"{PREFIX}/me"
    response = RedirectResponse(target, status_code=303)
    if code in i18n.DEBTOR_LOCALES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path=PREFIX)
    return response


def _contact(practice: Practice, channel: str) -> str | None:
    """The e-mail or mobile on file for a code, normalised; None when missing or known wrong."""
    column = "email" if channel == "email" else "phone"
    value = getattr(practice, column) or ""
    if not value.strip() or column in (practice.invalid_channels or []):
        return None
    try:
        return normalize_email(value) if column == "email" else normalize_phone(value)
    except ValueError:
        return None


def _masked(value: str, channel: str) -> str:
    """Enough for the debtor to recognise it, too little to learn it: m•••@e•••.it, •••• 123."""
    if channel == "email":
        local, _, domain = value.partition("@")
        name, _, tld = domain.rpartition(".")
        return f"{local[:1]}•••@{name[:1]}•••.{tld}"
    return f"•••• {value[-3:]}"


async def _link_page(
    request: Request,
    db: AsyncSession,
    link: DebtorLink,
    token: str,
    now: datetime,
    *,
    error: str | None = None,
    code_sent: bool = False,
    status_code: int = 200,
) -> Response:
    practice = await db.get(Practice, link.practice_id)
    assert practice is not None  # the foreign key
    request.state.debtor_language = practice.language  # the page in the debtor's language
    creditor = await db.get(Creditor, practice.creditor_id)
    assert creditor is not None
    channels = {
        channel: _masked(contact, channel)
        for channel in CODE_CHANNELS
        if (contact := _contact(practice, channel)) is not None
    }
    return render(
        request,
        "debtor/link.html",
        {
            "token": token,
            "creditor_name": creditor.name,
            "amount_cents": await amount_due_today(db, practice),
            "channels": channels,
            "error": error,
            "code_sent": code_sent or link.code_hash is not None,
            "locked_until": link.locked_until if debtor_links.locked(link, now) else None,
        },
        status_code,
    )


def _gone(request: Request) -> Response:
    return render(request, "debtor/message.html", {"message": "gone"}, 404)


@router.get("/{token}")
async def open_link(
    request: Request, access: DebtorRequest, token: str, db: SessionDep, now: NowDep
) -> Response:
    link = await debtor_links.resolve(db, token, now)
    if link is None:
        return _gone(request)
    if access is not None and access.practice_id == link.practice_id:
        # already past the second step for this practice (an earlier or this letter's link)
        return RedirectResponse(f"{PREFIX}/me", status_code=303)
    return await _link_page(request, db, link, token, now)


async def _passed(
    request: Request, db: AsyncSession, link: DebtorLink, now: datetime
) -> RedirectResponse:
    session = await debtor_links.start_session(db, link, now)
    response = RedirectResponse(f"{PREFIX}/me", status_code=303)
    set_session_cookie(response, request, session.id)
    return response


async def _refused(
    request: Request,
    db: AsyncSession,
    link: DebtorLink,
    token: str,
    outcome: StepOutcome,
    now: datetime,
) -> Response:
    error = "locked" if outcome == StepOutcome.LOCKED else "wrong"
    return await _link_page(request, db, link, token, now, error=error, status_code=401)


@router.post("/{token}/identity")
async def identity(
    request: Request,
    _access: DebtorRequest,
    token: str,
    db: SessionDep,
    now: NowDep,
    tax_code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    link = await debtor_links.resolve(db, token, now)
    if link is None:
        return _gone(request)
    practice = await db.get(Practice, link.practice_id)
    assert practice is not None
    outcome = await debtor_links.check_identity(db, link, practice, tax_code, now)
    if outcome == StepOutcome.OK:
        return await _passed(request, db, link, now)
    return await _refused(request, db, link, token, outcome, now)


@router.post("/{token}/code/send")
async def send_code(
    request: Request,
    _access: DebtorRequest,
    token: str,
    db: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    channel: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    link = await debtor_links.resolve(db, token, now)
    if link is None:
        return _gone(request)
    if debtor_links.locked(link, now):
        return await _link_page(request, db, link, token, now, error="locked", status_code=401)
    practice = await db.get(Practice, link.practice_id)
    assert practice is not None
    contact = _contact(practice, channel) if channel in CODE_CHANNELS else None
    if contact is None:
        return await _link_page(request, db, link, token, now, error="channel", status_code=422)
    recent = (
        link.code_expires_at is not None
        and link.code_expires_at - timedelta(minutes=debtor_links.CODE_MINUTES) + RESEND_AFTER > now
    )
    if not recent:
        code = await debtor_links.new_code(db, link, now)
        request.state.debtor_language = practice.language
        language = request_locale(request)  # the page's: the debtor is reading it
        body = _renderer.message(
            "debtor_code",
            language=language,
            code=code,
            minutes=debtor_links.CODE_MINUTES,
            agency_name=settings.agency_name,
        )
        sender = email_channel_for(database, settings) if channel == "email" else None
        message = Message(
            idempotency_key=f"debtor-code:{link.id}:{uuid.uuid4().hex}",
            channel=channel,
            recipient=contact,
            subject=_renderer.message(
                "debtor_code_subject", language=language, agency_name=settings.agency_name
            )
            if channel == "email"
            else "",
            body=body,
            practice_id=practice.id,
        )
        if sender is not None:
            await sender.send(message)
        else:
            await sms_channel_for(database, settings).send(message)
    return RedirectResponse(f"{PREFIX}/{quote(token)}?code=sent", status_code=303)


@router.post("/{token}/code")
async def check_code(
    request: Request,
    _access: DebtorRequest,
    token: str,
    db: SessionDep,
    now: NowDep,
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    link = await debtor_links.resolve(db, token, now)
    if link is None:
        return _gone(request)
    outcome = await debtor_links.check_code(db, link, code, now)
    if outcome == StepOutcome.OK:
        return await _passed(request, db, link, now)
    return await _refused(request, db, link, token, outcome, now)
