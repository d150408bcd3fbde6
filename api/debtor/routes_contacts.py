"""The debtor's contacts and preferences:

- POST /d/me/contacts: a new e-mail or phone, through api.services.contacts.update_contacts as
  the API's POST /practices/{id}/contacts, the debtor as the actor. A value equal to the one on
  file (and not marked wrong) is no change and is not sent: that is what keeps a retry from
  acting twice (the command carries no id the workflow could recognise; once the first is
  saved, the same values are what is on file).
- POST /d/me/preferences: refusing e-mail or SMS, and a preferred time of day, through
  api.services.contact_preferences.set_contact_preferences (validated by
  ContactPreferencesIn like the API's PUT). It sets a state (refusals added, the window
  replaced), so sending it twice is the same as once.
The law's contact hours still apply whatever the debtor prefers (domain.contact_rules).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.debtor import actions
from api.debtor.access import PREFIX, VerifiedDebtor
from api.debtor.actions import N_
from api.debtor.routes_page import CONTEXT
from api.debtor.statement import practice_with_invoices
from api.deps import SessionDep, TemporalDep
from api.schemas import ContactPreferencesIn, ContactsIn
from api.services import contact_preferences, contacts
from api.services.debtor_links import DebtorAccess
from db.models import Practice
from domain.actor import Actor, ActorKind

router = APIRouter(prefix=f"{PREFIX}/me", tags=["debtor"])

CONTACTS_FORM = "contacts"
PREFERENCES_FORM = "preferences"
# the channels the page offers to refuse (calls are the operators' to agree on the phone)
REFUSABLE = ("email", "sms")
WINDOWS = ("morning", "afternoon", "evening")

_MESSAGES = {
    "email": N_("Enter a valid e-mail address, e.g. name@example.it."),
    "phone": N_("Enter a valid phone number, e.g. +39 333 123 4567."),
    "nothing": N_("Enter a new e-mail address or phone number."),
    "opt_out": N_("Choose among the channels listed."),
    "preferred_window": N_("Choose one of the times of day listed."),
}


async def _context(
    request: Request, db: AsyncSession, access: DebtorAccess, practice: Practice
) -> dict[str, Any]:
    return {
        "preferences": await contact_preferences.get_contact_preferences(db, practice),
        "refusable": REFUSABLE,
        "windows": WINDOWS,
    }


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        errors.setdefault(field, _MESSAGES.get(field, actions.UNAVAILABLE))
    return errors


@router.post("/contacts")
async def update_contacts(
    request: Request,
    access: VerifiedDebtor,
    db: SessionDep,
    temporal: TemporalDep,
    email: Annotated[str, Form(max_length=320)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    values = {"email": email, "phone": phone}

    async def refused(errors: dict[str, str], status_code: int = 422) -> Response:
        return await actions.page_with_errors(
            request, db, access, CONTACTS_FORM, errors, values, status_code
        )

    practice = await practice_with_invoices(db, access.practice_id)
    if actions.is_closed(practice):
        return await refused({"form": actions.CLOSED}, 409)
    try:
        body = ContactsIn.model_validate(
            {"email": email.strip() or None, "phone": phone.strip() or None}
        )
    except ValidationError as exc:
        return await refused(_errors(exc))
    if body.email is None and body.phone is None:
        return await refused({"email": _MESSAGES["nothing"]})
    wrong = set(practice.invalid_channels or ())
    # what is already on file (and not found wrong) is no change: a retry sends nothing
    changes = ContactsIn(
        email=body.email if body.email != practice.email or "email" in wrong else None,
        phone=body.phone if body.phone != practice.phone or "phone" in wrong else None,
    )
    if changes.email is None and changes.phone is None:
        return actions.done(CONTACTS_FORM, "contacts-title")
    try:
        await contacts.update_contacts(
            db, temporal, practice, changes, actor=Actor(ActorKind.DEBTOR)
        )
    except RequestValidationError:
        return await refused({"email": _MESSAGES["nothing"]})
    except HTTPException as exc:
        return await refused({"form": actions.refusal(exc)}, exc.status_code)
    return actions.done(CONTACTS_FORM, "contacts-title")


@router.post("/preferences")
async def set_preferences(
    request: Request,
    access: VerifiedDebtor,
    db: SessionDep,
    opt_out: Annotated[list[str], Form(max_length=3)] = [],  # noqa: B006
    preferred_window: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    values: dict[str, Any] = {"opt_out": opt_out, "preferred_window": preferred_window}

    async def refused(errors: dict[str, str], status_code: int = 422) -> Response:
        return await actions.page_with_errors(
            request, db, access, PREFERENCES_FORM, errors, values, status_code
        )

    practice = await practice_with_invoices(db, access.practice_id)
    if actions.is_closed(practice):
        return await refused({"form": actions.CLOSED}, 409)
    if any(channel not in REFUSABLE for channel in opt_out):
        return await refused({"opt_out": _MESSAGES["opt_out"]})
    try:
        body = ContactPreferencesIn.model_validate(
            {"opt_out": opt_out, "preferred_window": preferred_window or None}
        )
    except ValidationError as exc:
        return await refused(_errors(exc))
    await contact_preferences.set_contact_preferences(
        db,
        practice,
        opt_out=body.opt_out,
        preferred_window=body.preferred_window,
        author_id=None,
    )
    return actions.done(PREFERENCES_FORM, "contacts-title")


actions.add_section("debtor/_contacts.html")
CONTEXT.append(_context)
