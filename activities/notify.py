"""notify: messages to the agency's side of a practice (the creditor, a field agent, a lawyer),
never to the debtor. A recipient without an e-mail address still gets the message, as a
notification row in the outbox that the API shows."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from temporalio import activity

from activities.context import ActivityContext, PracticeFile, load_practice_file
from activities.deliveries import Message, add_to_result, write_outbox
from db.models import User
from domain.activity_io import ActivityName, NotifyInput, SentResult
from domain.practice import Outcome

log = logging.getLogger(__name__)

CREDITOR = "creditor"

OUTCOME_WORDS = {
    Outcome.PAID: "pratica chiusa: pagata",
    Outcome.WITHDRAWN: "pratica chiusa: revocata dal mandante",
    Outcome.RETURNED: "pratica chiusa: restituita al mandante",
    Outcome.DISPUTE_UPHELD: "pratica chiusa: contestazione accolta",
}


@dataclass
class Recipient:
    tag: str  # "creditor:<id>" or "user:<id>": the key suffix, and the recipient of a notification
    email: str | None


class NotifyActivities(ActivityContext):
    async def _recipients(self, file: PracticeFile, to: str) -> list[Recipient]:
        if to == CREDITOR:
            creditor = file.creditor
            if creditor.email:
                return [Recipient(f"creditor:{creditor.id}", creditor.email)]
            async with self.db.session() as session:
                users = (
                    (
                        await session.execute(
                            select(User)
                            .where(
                                User.role == "creditor",
                                User.creditor_id == creditor.id,
                                User.active.is_(True),
                                User.email.is_not(None),
                            )
                            .order_by(User.created_at, User.id)
                        )
                    )
                    .scalars()
                    .all()
                )
            with_email = [Recipient(f"user:{u.id}", u.email) for u in users if u.email]
            return with_email or [Recipient(f"creditor:{creditor.id}", None)]
        async with self.db.session() as session:
            user = await session.get(User, to)
        if user is None:
            log.warning("practice %s: notification for unknown user %s", file.practice.id, to)
        return [Recipient(f"user:{to}", user.email if user is not None else None)]

    @activity.defn(name=ActivityName.NOTIFY)
    async def notify(self, input: NotifyInput) -> SentResult:
        async with self.db.session() as session:
            file = await load_practice_file(session, input.practice_id)
        reference = file.practice.reference
        subject = (
            input.subject if reference in input.subject else f"{input.subject} – rif. {reference}"
        )
        body = self.renderer.message(
            "notification",
            discreet=False,
            body=input.body,
            reference=reference,
            outcome=OUTCOME_WORDS.get(input.outcome) if input.outcome else None,
            agency_name=self.settings.agency_name,
            agency_email=self.settings.agency_email,
            agency_phone=self.settings.agency_phone,
        )

        result = SentResult()
        for recipient in await self._recipients(file, input.to):
            # keyed per recipient: if the creditor's users change between attempts, the ones
            # already written are found again and only the new ones are added
            key = f"{input.idempotency_key}:{recipient.tag}"
            if recipient.email:
                message = Message(key, "email", recipient.email, subject, body, file.practice.id)
                add_to_result(result, await self.email.send(message))
            else:
                message = Message(
                    key, "notification", recipient.tag, subject, body, file.practice.id
                )
                add_to_result(result, await write_outbox(self.db, message))
        log.info(
            "practice %s: notification to %s: %s",
            input.practice_id,
            input.to,
            ", ".join(result.deliveries + result.skipped),
        )
        return result
