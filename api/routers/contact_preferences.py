"""The debtor's contact preferences on one practice: the channels it refuses and its preferred
time of day (api/services/contact_preferences.py, the same functions the debtor's page calls).
Data, not a command: the contact gate reads them whenever the workflow asks to contact the
debtor, and the call queue at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from api.access import load_practice
from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.schemas import ContactPreferencesIn, ContactPreferencesOut
from api.services.contact_preferences import (
    ContactPreferences,
    get_contact_preferences,
    set_contact_preferences,
)

router = APIRouter(
    prefix="/practices/{practice_id}/contact-preferences",
    tags=["opt-outs"],
    responses={
        403: {"description": "Wrong role."},
        404: {"description": "Unknown practice."},
        422: {"description": "A channel that cannot be refused, or an unknown window."},
    },
)

Recorder = Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)]


def _out(preferences: ContactPreferences) -> ContactPreferencesOut:
    return ContactPreferencesOut(
        opt_out=preferences.opt_out,
        preferred_window=preferences.preferred_window,  # type: ignore[arg-type]
    )


@router.get("", response_model=ContactPreferencesOut)
async def read_contact_preferences(
    practice_id: str, session: SessionDep, principal: Recorder
) -> ContactPreferencesOut:
    """The channels the debtor of this practice refused (wherever recorded) and its preferred
    time of day."""
    practice = await load_practice(session, principal, practice_id)
    return _out(await get_contact_preferences(session, practice))


@router.put("", response_model=ContactPreferencesOut)
async def put_contact_preferences(
    practice_id: str, body: ContactPreferencesIn, session: SessionDep, principal: Recorder
) -> ContactPreferencesOut:
    """What the debtor said: channels it refuses from now on, for every practice of the same
    debtor (added to those recorded; letters by post cannot be refused), and the time of day it
    prefers, inside the contact rules' hours (null removes it). Calls, e-mails and SMS then go
    out in that window whenever the rules allow one; the call queue lists first the calls whose
    debtor prefers the present time. New e-mails and phones: POST /practices/{id}/contacts."""
    practice = await load_practice(session, principal, practice_id)
    return _out(
        await set_contact_preferences(
            session,
            practice,
            opt_out=body.opt_out,
            preferred_window=body.preferred_window,
            author_id=principal.id,
        )
    )
