"""send_pre_due_reminder: the courteous reminder before an invoice falls due, and on the day.

The e-mail, read by the debtor alone, states the amount, the due date and how to pay; its subject
does not. The SMS, which anyone holding the phone may read, only asks the debtor to call.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contacts import skip_reason, usable_contact
from activities.context import ActivityContext, PracticeFile, load_practice, load_practice_file
from activities.debtor_link import debtor_link
from activities.deliveries import Message, add_to_result
from activities.rendering import letter_language
from db.contact_log import practice_regime
from domain.activity_io import (
    ActivityName,
    LocalMomentsInput,
    LocalMomentsResult,
    ReminderInput,
    SentResult,
)
from domain.contact_rules import spread_reminder

log = logging.getLogger(__name__)

MOMENTS = {
    "before": "reminder_before",
    "due_today": "reminder_due_today",
    # a repayment plan: before each instalment, and the one warning after a missed one
    "instalment": "reminder_instalment",
    "plan_warning": "reminder_plan_warning",
}


class ReminderActivities(ActivityContext):
    @activity.defn(name=ActivityName.LOCAL_MOMENTS)
    async def local_moments(self, input: LocalMomentsInput) -> LocalMomentsResult:
        """The reminders' clock on each day, and each day's end, where the debtor lives (the
        practice's time zone; Rome for a debtor in Italy), in UTC. With a spread, the clock and
        the early reminder's moment (`lead` before it) are each spread inside their own day's
        window by the practice (domain.contact_rules.spread_reminder), with the debtor's hours
        and holidays, which only the read model holds."""
        async with self.db.session() as session:
            practice = await load_practice(session, input.practice_id)
        zone = ZoneInfo(practice.time_zone or "Europe/Rome")
        at_clock = [
            datetime.combine(day, input.clock, tzinfo=zone).astimezone(UTC) for day in input.days
        ]
        day_ends = [
            datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(UTC)
            for day in input.days
        ]
        if input.spread_minutes <= 0:
            return LocalMomentsResult(at_clock=at_clock, day_ends=day_ends)
        regime = practice_regime(practice, self.settings.contact_hours)
        spread = timedelta(minutes=input.spread_minutes)
        lead = timedelta(seconds=input.lead_seconds)
        pairs = [
            spread_reminder(clock, lead, input.practice_id, spread, regime) for clock in at_clock
        ]
        return LocalMomentsResult(
            at_clock=[on_day.astimezone(UTC) for _, on_day in pairs],
            day_ends=day_ends,
            before=[before.astimezone(UTC) for before, _ in pairs],
        )

    @activity.defn(name=ActivityName.SEND_REMINDER)
    async def send_pre_due_reminder(self, input: ReminderInput) -> SentResult:
        template = MOMENTS.get(input.moment)
        if template is None:
            raise ApplicationError(
                f"unknown reminder moment {input.moment!r}; known: {', '.join(MOMENTS)}",
                type="InvalidInput",
                non_retryable=True,
            )
        async with self.db.session() as session:
            file = await load_practice_file(session, input.practice_id, with_invoices=True)

        result = SentResult()
        link = ""
        if input.email or input.sms:
            link = await debtor_link(self.db, self.settings, file.practice, input.idempotency_key)
        if input.email:
            address, reason = usable_contact(file, "email")
            if address is None:
                result.skipped.append(f"email: {skip_reason('email', reason)}")
            else:
                add_to_result(
                    result, await self.email.send(self._email(file, input, template, address, link))
                )
        if input.sms:
            number, reason = usable_contact(file, "phone")
            if number is None:
                result.skipped.append(f"sms: {skip_reason('phone', reason)}")
            else:
                add_to_result(result, await self.sms.send(self._sms(file, input, number, link)))
        log.info(
            "pre-due reminder (%s) for practice %s: %s",
            input.moment,
            input.practice_id,
            ", ".join(result.deliveries) or "nothing sent",
        )
        return result

    def _email(
        self, file: PracticeFile, input: ReminderInput, template: str, address: str, link: str
    ) -> Message:
        practice, creditor = file.practice, file.creditor
        language = letter_language(practice.language)
        body = self.renderer.message(
            template,
            language=language,
            country=practice.country,
            debtor_link=link,
            debtor_name=practice.debtor_name,
            due_date=input.due_date,
            amount_cents=input.amount_cents,
            creditor_name=creditor.name,
            invoice_numbers=[i.number for i in practice.invoices if i.due_date == input.due_date],
            iban=creditor.iban,
            reference=practice.reference,
            agency_name=self.settings.agency_name,
            agency_phone=self.settings.agency_phone,
        )
        subject = self.renderer.message(
            "email_subject",
            language=language,
            agency_name=self.settings.agency_name,
            reference=practice.reference,
        )
        return Message(
            idempotency_key=f"{input.idempotency_key}:email",
            channel="email",
            recipient=address,
            subject=subject,
            body=body,
            practice_id=practice.id,
        )

    def _sms(self, file: PracticeFile, input: ReminderInput, number: str, link: str) -> Message:
        body = self.renderer.message(
            "sms_contact",
            language=letter_language(file.practice.language),
            debtor_link=link,
            agency_phone=self.settings.agency_phone,
            agency_name=self.settings.agency_name,
            reference=file.practice.reference,
        )
        return Message(
            idempotency_key=f"{input.idempotency_key}:sms",
            channel="sms",
            recipient=number,
            body=body,
            practice_id=file.practice.id,
        )
