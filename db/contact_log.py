"""Reads of the contact log and the opt-outs that the activities and the API share."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ContactLog, DebtorContactPreference, DebtorOptOut, Practice
from domain.contact_rules import (
    ITALY,
    ContactRegime,
    Hours,
    debtor_key,
    has_holidays,
    holiday_subdivision,
)

CONVERSATION = "conversation"
MESSAGE = "message"
ATTEMPT = "attempt"  # a granted call given back: not a conversation


def practice_debtor_key(practice: Practice) -> str:
    return debtor_key(
        practice.debtor_tax_code, practice.debtor_vat_number, practice.id, practice.country
    )


def practice_regime(practice: Practice, contact_hours: Mapping[str, Hours]) -> ContactRegime:
    """The contact rules' regime of the practice's debtor, read from the read model (the
    workflow passes only the practice's id): Italy's for a debtor in Italy; abroad, the
    debtor's time zone, its country's (and region's) public holidays and the hours the agency
    set for the country (`Settings.contact_hours`), the Italian code's otherwise. A country whose
    holidays the `holidays` package does not know keeps the Italian ones (closed more, never
    less)."""
    country = (practice.country or "IT").upper()
    if country == "IT":
        return ITALY
    hours = contact_hours.get(country, ITALY.hours)
    if not has_holidays(country):
        return ContactRegime(zone=practice.time_zone or ITALY.zone, hours=hours)
    return ContactRegime(
        zone=practice.time_zone or ITALY.zone,
        country=country,
        subdivision=holiday_subdivision(country, practice.region),
        hours=hours,
    )


@dataclass(frozen=True, slots=True)
class LoggedConversation:
    id: str
    practice_id: str
    at: datetime
    idempotency_key: str = ""

    def held_by(self, task_key: str) -> bool:
        """Whether this is the conversation a call task holds (see `task_hold_prefix`)."""
        return self.idempotency_key.startswith(task_hold_prefix(task_key))


def task_hold_prefix(task_key: str) -> str:
    """Every conversation a call task holds has a key under its own: the workflow's reservation
    when it queued the call (`<task key>:call:<n>`) or the one taking the call made
    (`<task key>:taken`). Taking the call moves that one conversation to the day of the call."""
    return f"{task_key}:"


async def opted_out_keys(
    session: AsyncSession, debtor_keys: Collection[str], channel: str
) -> set[str]:
    """Which of `debtor_keys` opted out of `channel`."""
    if not debtor_keys:
        return set()
    rows = await session.execute(
        select(DebtorOptOut.debtor_key).where(
            DebtorOptOut.debtor_key.in_(sorted(set(debtor_keys))),
            DebtorOptOut.channel == channel,
        )
    )
    return set(rows.scalars())


async def preferred_windows(session: AsyncSession, debtor_keys: Collection[str]) -> dict[str, str]:
    """The preferred time of day (domain.contact_rules.PREFERRED_WINDOWS) of those of
    `debtor_keys` that gave one."""
    if not debtor_keys:
        return {}
    rows = await session.execute(
        select(DebtorContactPreference.debtor_key, DebtorContactPreference.preferred_window).where(
            DebtorContactPreference.debtor_key.in_(sorted(set(debtor_keys)))
        )
    )
    return {row[0]: row[1] for row in rows}


async def conversations_since(
    session: AsyncSession, debtor_keys: Collection[str], since: datetime
) -> dict[str, list[LoggedConversation]]:
    """The conversations of each debtor at or after `since` (later ones included: the limits
    count a day's and a week's conversations whatever their order)."""
    found: dict[str, list[LoggedConversation]] = {}
    if not debtor_keys:
        return found
    rows = await session.execute(
        select(
            ContactLog.debtor_key,
            ContactLog.id,
            ContactLog.practice_id,
            ContactLog.at,
            ContactLog.idempotency_key,
        )
        .where(
            ContactLog.debtor_key.in_(sorted(set(debtor_keys))),
            ContactLog.kind == CONVERSATION,
            ContactLog.at >= since,
        )
        .order_by(ContactLog.at, ContactLog.id)
    )
    for key, contact_id, practice_id, at, idempotency_key in rows:
        found.setdefault(key, []).append(
            LoggedConversation(contact_id, practice_id, at, idempotency_key)
        )
    return found
