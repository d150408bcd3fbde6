"""What every activity group shares: the injected dependencies and the read of a practice's file.

The activity groups (record, contacts, reminders, letters, work lists, notifications) are mixins
over `ActivityContext`; `activities.PracticeActivities` puts them together, so one instance holds
one database handle and one pair of channels for the whole worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from temporalio.exceptions import ApplicationError

from activities.channels import (
    EmailChannel,
    SmsChannel,
    email_channel_for,
    pec_channel_for,
    sms_channel_for,
)
from activities.rendering import Renderer
from config import Settings
from db.models import Creditor, Practice
from db.session import Database
from domain.calendar import ROME  # one definition of the practice's zone

# Contact channels of a practice, by the name Channels and invalid_channels use, and the column
# holding the value. The postal address is several columns; street stands for all of them.
CONTACT_COLUMNS = {"email": "email", "phone": "phone", "pec": "pec", "address": "street"}


def today_in_rome() -> date:
    return datetime.now(ROME).date()


class PracticeNotFound(ApplicationError):
    """Retryable on purpose: the API inserts the row and starts the workflow in two steps, so an
    early activity can run a moment before the row is visible."""

    def __init__(self, practice_id: str) -> None:
        super().__init__(f"practice {practice_id} not found", type="PracticeNotFound")


@dataclass
class PracticeFile:
    practice: Practice
    creditor: Creditor

    def has_contact(self, channel: str) -> bool:
        return bool(getattr(self.practice, CONTACT_COLUMNS[channel]) or "")

    def marked_invalid(self, channel: str) -> bool:
        return channel in (self.practice.invalid_channels or [])


async def load_practice(
    session: AsyncSession,
    practice_id: str,
    *,
    with_invoices: bool = False,
    for_update: bool = False,
) -> Practice:
    stmt = select(Practice).where(Practice.id == practice_id)
    if with_invoices:
        stmt = stmt.options(selectinload(Practice.invoices))
    if for_update:
        stmt = stmt.with_for_update(of=Practice).execution_options(populate_existing=True)
    practice = (await session.execute(stmt)).scalar_one_or_none()
    if practice is None:
        raise PracticeNotFound(practice_id)
    return practice


async def load_practice_file(
    session: AsyncSession, practice_id: str, *, with_invoices: bool = False
) -> PracticeFile:
    practice = await load_practice(session, practice_id, with_invoices=with_invoices)
    creditor = await session.get(Creditor, practice.creditor_id)
    if creditor is None:  # pragma: no cover - the foreign key makes this impossible
        raise ApplicationError(
            f"creditor of practice {practice_id} not found", type="CreditorNotFound"
        )
    return PracticeFile(practice=practice, creditor=creditor)


class ActivityContext:
    """The dependencies of every activity. Channels default to what the settings configure:
    SendGrid / Twilio / the agency's PEC mailbox with credentials, the outbox without."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        email: EmailChannel | None = None,
        sms: SmsChannel | None = None,
        renderer: Renderer | None = None,
        pec: EmailChannel | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.email: EmailChannel = email or email_channel_for(db, settings)
        self.sms: SmsChannel = sms or sms_channel_for(db, settings)
        # A PEC has legal value only when it leaves the agency's own certified mailbox: by SMTP
        # when that mailbox is configured, to the outbox for a person to send otherwise.
        self.pec: EmailChannel = pec or pec_channel_for(db, settings)
        self.renderer = renderer or Renderer()
