"""New contact details for a practice's debtor: the one code path of POST
/practices/{id}/contacts and of the debtor's page (issue 13: "a new e-mail or phone").

The workflow hears only which channels changed, never the values (personal data); the row is
written once it has accepted the change, and the channels given lose their 'wrong' marks
(api.routers.practice_commands `_send`)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import invalid
from api.schemas import CommandResultOut, ContactsIn
from db.models import Practice
from domain.actor import Actor
from domain.practice import ContactsCmd, UpdateName


async def update_contacts(
    session: AsyncSession,
    temporal: Client,
    practice: Practice,
    body: ContactsIn,
    *,
    actor: Actor | None = None,
) -> CommandResultOut:
    """Sends the change to the practice's workflow (the practice loaded with the caller's access
    checked and not closed) and saves the details once accepted. `body` is validated by
    ContactsIn (e-mail, phone normalised, PEC, address); nothing given is a 422 naming the
    body. `actor` names the debtor when the debtor's page sends it (None: the request's
    caller)."""
    # imported here: the router module imports this service
    from api.routers.practice_commands import _Contacts, _send

    contacts = _Contacts(email=body.email, phone=body.phone, pec=body.pec, address=body.address)
    changed = contacts.given()
    if not changed:
        raise invalid(["body"], "give at least one of email, phone, pec, address")
    command = ContactsCmd(changed=changed)
    if actor is not None:
        command = replace(command, actor=actor)
    return await _send(session, temporal, practice, UpdateName.CONTACTS, command, contacts=contacts)
