"""What the debtor's actions (routes_propose, routes_dispute, routes_contacts) share.

- Each form carries a one-time key (`one_time_key()`, rendered when the page is) where the
  service can take an id from the caller: a proposal's id, a dispute's id. A retry of the same
  form (a double click, a reload after a lost answer) finds what the first one did on the
  practice's timeline and shows it, instead of acting twice.
- A form with errors re-renders the whole page (status 422) with the errors next to their
  fields (`form_errors`) and what the debtor typed (`form_values`); a success redirects to the
  page (303: a reload does not send it again) with `?done=<action>` for the confirmation.
- Errors are message ids (English, marked with N_) translated by the templates.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.debtor.access import PREFIX, render
from api.debtor.routes_page import SECTIONS, page_context
from api.services.debtor_links import DebtorAccess
from db.models import Event, Practice
from domain.practice import Status

_KEY = re.compile(r"^[0-9a-f]{32}$")


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark, translate later")
    return message


CLOSED = N_("This position is closed: nothing more can be done on it here.")
UNAVAILABLE = N_("We could not do this now. Try again in a few minutes, or call us.")
EXPIRED_FORM = N_("This form was already used. Check the page below, then fill it in again.")


# the actions' sections, in the page's order, before "your data" (the page's last section)
ACTION_SECTIONS = ("debtor/_propose.html", "debtor/_dispute.html", "debtor/_contacts.html")


def add_section(template: str) -> None:
    """Adds an action's section to the page, in ACTION_SECTIONS' order whatever order the
    modules are imported in."""
    assert template in ACTION_SECTIONS
    present = [t for t in ACTION_SECTIONS if t in SECTIONS or t == template]
    for name in present:
        if name in SECTIONS:
            SECTIONS.remove(name)
    at = SECTIONS.index("debtor/_your_data.html")
    SECTIONS[at:at] = present


def one_time_key() -> str:
    return secrets.token_hex(16)


def valid_key(value: str) -> bool:
    return bool(_KEY.match(value))


async def page_with_errors(
    request: Request,
    db: AsyncSession,
    access: DebtorAccess,
    form: str,
    errors: dict[str, str],
    values: dict[str, Any] | None = None,
    status_code: int = status.HTTP_422_UNPROCESSABLE_CONTENT,
) -> Response:
    """The page again with `form`'s errors next to its fields ("form" names a message for the
    whole form) and the debtor's input kept."""
    # the practice is read again: the workflow may have written its row meanwhile
    for loaded in list(db.identity_map.values()):
        if isinstance(loaded, Practice):
            db.expire(loaded)
    context = await page_context(request, db, access)
    context.update(
        {"form_name": form, "form_errors": errors, "form_values": values or {}},
    )
    return render(request, "debtor/page.html", context, status_code)


def done(action: str, anchor: str) -> Response:
    return RedirectResponse(f"{PREFIX}/me?done={action}#{anchor}", status_code=303)


def is_closed(practice: Practice) -> bool:
    return practice.status == Status.CLOSED


async def events_of(db: AsyncSession, practice_id: str, kind: str) -> list[Event]:
    rows = await db.scalars(
        select(Event)
        .where(Event.practice_id == practice_id, Event.kind == kind)
        .order_by(Event.seq)
    )
    return list(rows)


async def event_with(db: AsyncSession, practice_id: str, kind: str, **data: str) -> Event | None:
    """The practice's event of `kind` whose data has these values (a proposal's or a dispute's
    id): what a form's first submission did."""
    for event in reversed(await events_of(db, practice_id, kind)):
        if all((event.data or {}).get(k) == v for k, v in data.items()):
            return event
    return None


def refusal(exc: HTTPException) -> str:
    """A refusal of the workflow (api.errors) as a message for the debtor."""
    detail = str(exc.detail)
    if exc.status_code == status.HTTP_409_CONFLICT and "closed" in detail:
        return CLOSED
    if "dispute" in detail:
        return N_("A dispute is open on this position: wait for the creditor's answer.")
    if "plan or settlement" in detail:
        return N_("A plan or settlement is already in course on this position.")
    return UNAVAILABLE
