"""Every Temporal activity of the practice workflow, on one dependency-injected class.

    activities = PracticeActivities(db, settings)
    Worker(client, task_queue=..., workflows=[...], activities=build_activities(db, settings))

Each activity is registered under its `domain.activity_io.ActivityName`, takes one input
dataclass from domain/activity_io.py and returns its result dataclass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.channels import (
    EmailChannel,
    OutboxEmail,
    OutboxSms,
    PecEmail,
    SendGridEmail,
    SmsChannel,
    TwilioSms,
    email_channel_for,
    pec_channel_for,
    sms_channel_for,
)
from activities.contact_limits import ContactLimitActivities
from activities.contacts import ContactActivities
from activities.judicial import JudicialActivities
from activities.letters import LetterActivities
from activities.notify import NotifyActivities
from activities.record import RecordActivities
from activities.reminders import ReminderActivities
from activities.retention import RetentionActivities
from activities.scheduled import ScheduledActivities
from activities.statement import StatementActivities
from activities.worklists import WorklistActivities
from config import Settings
from db.session import Database

__all__ = [
    "EmailChannel",
    "OutboxEmail",
    "OutboxSms",
    "PecEmail",
    "PracticeActivities",
    "SendGridEmail",
    "SmsChannel",
    "TwilioSms",
    "build_activities",
    "email_channel_for",
    "pec_channel_for",
    "sms_channel_for",
]


class PracticeActivities(
    RecordActivities,
    ContactActivities,
    ReminderActivities,
    LetterActivities,
    WorklistActivities,
    NotifyActivities,
    ContactLimitActivities,
    JudicialActivities,
    StatementActivities,
    RetentionActivities,
    ScheduledActivities,
):
    """PracticeActivities(db, settings, email=None, sms=None, pec=None): channels left out are
    chosen from the settings (SendGrid / Twilio / the PEC mailbox with credentials, the outbox
    without)."""

    def activities(self) -> list[Callable[..., Any]]:
        """The bound activity methods, in the order of ActivityName."""
        return [
            self.record_practice,
            self.check_contacts,
            self.send_pre_due_reminder,
            self.send_letter,
            self.open_task,
            self.close_tasks,
            self.assign_field_agent,
            self.assign_lawyer,
            self.notify,
            self.reserve_conversation,
            self.release_conversation,
            self.record_judicial,
            self.compute_statement,
            self.local_moments,
            self.assign_visit,
            # the scheduled workflows' (schedules.py)
            self.sweep_stranded,
            self.close_print_batches,
            self.check_rates,
            self.sweep_retention,
        ]


def build_activities(
    db: Database,
    settings: Settings,
    email: EmailChannel | None = None,
    sms: SmsChannel | None = None,
    pec: EmailChannel | None = None,
) -> list[Callable[..., Any]]:
    """What `Worker(activities=...)` takes."""
    return PracticeActivities(db, settings, email=email, sms=sms, pec=pec).activities()
