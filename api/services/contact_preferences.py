"""A debtor's contact preferences (issue 13): the channels it refuses and its preferred time of
day, kept for the debtor (codice fiscale or partita IVA, `practice_debtor_key`) like the
opt-outs, so they hold for all of its practices and creditors.

The refusals are the `debtor_opt_outs` rows the opt-outs API writes and the contact gate
(activities/contact_limits.py) and the call queue read; the preferred window is a
`debtor_contact_preferences` row the same gate reads to choose, inside the rules' hours, when a
call, e-mail or SMS goes out (domain.contact_rules.preferred_slot). Neither ever reaches a
workflow's payload: the workflow hears only the gate's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.contact_log import practice_debtor_key
from db.models import DebtorContactPreference, DebtorOptOut, Practice, utcnow
from domain.contact_rules import OPT_OUT_CHANNELS, PREFERRED_WINDOWS

# a concurrent writer of the same debtor's rows makes an insert fail once; the second round
# reads what it wrote
_ROUNDS = 3


@dataclass(frozen=True)
class ContactPreferences:
    opt_out: list[str]  # in OPT_OUT_CHANNELS order
    preferred_window: str | None


async def get_contact_preferences(session: AsyncSession, practice: Practice) -> ContactPreferences:
    """The preferences of `practice`'s debtor (access already checked by the caller)."""
    key = practice_debtor_key(practice)
    refused = set(
        await session.scalars(select(DebtorOptOut.channel).where(DebtorOptOut.debtor_key == key))
    )
    window = await session.scalar(
        select(DebtorContactPreference.preferred_window).where(
            DebtorContactPreference.debtor_key == key
        )
    )
    return ContactPreferences(
        opt_out=[c for c in OPT_OUT_CHANNELS if c in refused],
        preferred_window=window,
    )


async def set_contact_preferences(
    session: AsyncSession,
    practice: Practice,
    *,
    opt_out: Sequence[str],
    preferred_window: str | None,
    author_id: str | None,
) -> ContactPreferences:
    """Adds the refusals in `opt_out` (channels of OPT_OUT_CHANNELS, validated by the caller)
    to those recorded, and sets (or with None removes) the preferred window. `author_id` is the
    user who records it, None when the debtor does. One transaction: all of it or nothing."""
    if any(c not in OPT_OUT_CHANNELS for c in opt_out):
        raise ValueError(f"a debtor may opt out of {', '.join(OPT_OUT_CHANNELS)}")
    if preferred_window is not None and preferred_window not in PREFERRED_WINDOWS:
        raise ValueError(f"unknown preferred window {preferred_window!r}")
    key = practice_debtor_key(practice)
    for attempt in range(_ROUNDS):
        try:
            await _write(session, practice, key, opt_out, preferred_window, author_id)
            await session.commit()
            break
        except IntegrityError:
            # the same debtor's row written concurrently (another practice, the same request
            # twice): read again and write what is still missing
            await session.rollback()
            if attempt == _ROUNDS - 1:
                raise
    return await get_contact_preferences(session, practice)


async def _write(
    session: AsyncSession,
    practice: Practice,
    key: str,
    opt_out: Sequence[str],
    preferred_window: str | None,
    author_id: str | None,
) -> None:
    recorded = set(
        await session.scalars(select(DebtorOptOut.channel).where(DebtorOptOut.debtor_key == key))
    )
    for channel in OPT_OUT_CHANNELS:
        if channel in opt_out and channel not in recorded:
            session.add(
                DebtorOptOut(
                    debtor_key=key, channel=channel, practice_id=practice.id, author_id=author_id
                )
            )
    if preferred_window is None:
        await session.execute(
            delete(DebtorContactPreference).where(DebtorContactPreference.debtor_key == key)
        )
        return
    row = await session.get(DebtorContactPreference, key)
    if row is None:
        session.add(
            DebtorContactPreference(
                debtor_key=key,
                preferred_window=preferred_window,
                practice_id=practice.id,
                author_id=author_id,
            )
        )
    elif row.preferred_window != preferred_window:
        row.preferred_window = preferred_window
        row.practice_id = practice.id
        row.author_id = author_id
        row.updated_at = utcnow()
    await session.flush()
