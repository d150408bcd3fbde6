"""The activities of the scheduled workflows (workflows/scheduled.py, schedules.py): the stranded
hand-over sweep, the closing of the day's print batch, the check that the next interest rates
are known. Each is idempotent: a retried or repeated run starts, closes or notifies nothing
twice (workflow ids, the batch's unique day, the notifications' idempotency keys)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from temporalio import activity

from activities.context import ActivityContext
from activities.deliveries import Message, find_delivery, write_outbox
from api.handover import StrandedSweeper
from api.services.print_batches import close_due_batches
from db.ledger import rate_table
from db.models import User
from domain.calendar import rome_date
from domain.print_days import parse_cutoff
from domain.rates import MissingPeriod, RateKind, missing_periods
from domain.scheduled import (
    ClosedBatch,
    MissingRate,
    PrintCutoffInput,
    PrintCutoffResult,
    RateCheckInput,
    RateCheckResult,
    ScheduledName,
    StrandedSweepInput,
    StrandedSweepResult,
)

log = logging.getLogger(__name__)

RATE_WORDS = {
    RateKind.LEGAL: "tasso legale (art. 1284 c.c.)",
    RateKind.LATE_PAYMENT_231: "tasso di mora per le transazioni commerciali (D.Lgs. 231/2002)",
}


def _now() -> datetime:
    return datetime.now(UTC)


class ScheduledActivities(ActivityContext):
    _sweeper: StrandedSweeper | None = None

    @activity.defn(name=ScheduledName.SWEEP_STRANDED)
    async def sweep_stranded(self, input: StrandedSweepInput) -> StrandedSweepResult:
        # one sweeper per worker process: it remembers the rows it found with their workflow
        if self._sweeper is None:
            self._sweeper = StrandedSweeper(self.db, activity.client(), self.settings)
        started = await self._sweeper.sweep(timedelta(seconds=input.older_than_seconds))
        return StrandedSweepResult(started=started)

    @activity.defn(name=ScheduledName.CLOSE_PRINT_BATCHES)
    async def close_print_batches(self, input: PrintCutoffInput) -> PrintCutoffResult:
        cutoff = parse_cutoff(input.cutoff)
        async with self.db.session() as session:
            batches = await close_due_batches(session, _now(), cutoff)
            return PrintCutoffResult(closed=[ClosedBatch(b.day, b.total) for b in batches])

    @activity.defn(name=ScheduledName.CHECK_RATES)
    async def check_rates(self, input: RateCheckInput) -> RateCheckResult:
        today = rome_date(_now())
        horizon = today + timedelta(weeks=input.weeks_ahead)
        async with self.db.session() as session:
            gaps = missing_periods(await rate_table(session), horizon)
            admins = (
                await session.scalars(
                    select(User)
                    .where(User.role == "admin", User.active.is_(True))
                    .order_by(User.created_at, User.id)
                )
            ).all()
        result = RateCheckResult(missing=[MissingRate(g.kind.value, g.start, g.end) for g in gaps])
        recipients = [(f"user:{u.id}", u.email) for u in admins] or [("admin", None)]
        for gap in gaps:
            begun = gap.start <= today
            log.warning(
                "no %s rate is known for %s..%s (%s): add it with %s",
                gap.kind.value,
                gap.start.isoformat(),
                gap.end.isoformat(),
                "begun: statements needing it are refused" if begun else "starts soon",
                gap.how_to_add,
            )
            subject, body = self._rate_message(gap, today)
            for tag, email in recipients:
                # once per period and admin, whatever the number of daily runs
                key = f"rate-missing:{gap.kind.value}:{gap.start.isoformat()}:{tag}"
                if await find_delivery(self.db, key) is not None:
                    continue
                if email:
                    await self.email.send(Message(key, "email", email, subject, body))
                else:
                    await write_outbox(self.db, Message(key, "notification", tag, subject, body))
                result.notified += 1
        return result

    def _rate_message(self, gap: MissingPeriod, today: date) -> tuple[str, str]:
        return self.renderer.notification(
            "rate_missing",
            what=RATE_WORDS[gap.kind],
            start=gap.start.strftime("%d/%m/%Y"),
            end=gap.end.strftime("%d/%m/%Y"),
            begun=gap.start <= today,
            days=(gap.start - today).days,
            how_to_add=gap.how_to_add,
            agency_name=self.settings.agency_name,
            agency_email=self.settings.agency_email,
            agency_phone=self.settings.agency_phone,
        )
