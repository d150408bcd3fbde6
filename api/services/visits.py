"""Assigning a home visit: the admin gives the awaited visit of a practice to a field agent or a
foreign correspondent (or another one), and a correspondent given a country takes the visits
that waited for one. The API (POST /practices/{id}/visit/assignee, the /users router) and the
console (the visit list, the users page) call these.

The user is checked here, on the read model: active, a visitor (api.roles.VISITORS), and a
correspondent only for a debtor in a country it covers. The workflow hears only the user's id
(UpdateName.ASSIGN_VISIT): the country never enters its history. It decides whether a visit is
awaited (409 otherwise) and writes the task's assignee and the practice's field agent itself, so
nothing is written here."""

from __future__ import annotations

import logging

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.access import load_practice
from api.auth import Principal
from api.errors import CLOSED_MESSAGE, conflict, invalid, send_update
from api.roles import VISITORS, Role
from db.models import Practice, Task, User
from domain.practice import AssignVisitCmd, CommandResult, Status, UpdateName

log = logging.getLogger(__name__)

USER_FIELD = ("body", "user_id")
# the refusals' fixed words (translated by the console, api/console/i18n.py)
NO_SUCH_USER = "no active user with this id"
NOT_A_VISITOR = "not a field agent or a foreign correspondent"
DOES_NOT_COVER = "this foreign correspondent does not cover the debtor's country"


def covers(user: User, country: str | None) -> bool:
    """Whether `user` may make a visit to a debtor in `country` (the practice's, None for
    Italy): any field agent (the admin's choice, in Italy or not), a correspondent only in the
    countries it covers."""
    if user.role == Role.FIELD_AGENT.value:
        return True
    return user.role == Role.FOREIGN_CORRESPONDENT.value and (country or "IT").strip().upper() in {
        c.strip().upper() for c in user.countries or []
    }


async def eligible_by_practice(
    session: AsyncSession, countries: dict[str, str | None]
) -> dict[str, list[User]]:
    """For each practice (its id: its debtor's country, as the visit list already has it), the
    active users the admin may give its visit to (`covers`), by role then name: one query for
    the whole list."""
    if not countries:
        return {}
    users = list(
        await session.scalars(
            select(User)
            .where(User.role.in_([r.value for r in VISITORS]), User.active.is_(True))
            .order_by(User.role, User.name, User.id)
        )
    )
    return {pid: [u for u in users if covers(u, country)] for pid, country in countries.items()}


async def _visitor(session: AsyncSession, user_id: str, practice: Practice) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise invalid(USER_FIELD, NO_SUCH_USER)
    if user.role not in {r.value for r in VISITORS}:
        raise invalid(USER_FIELD, NOT_A_VISITOR)
    if not covers(user, practice.country):
        raise invalid(USER_FIELD, DOES_NOT_COVER)
    return user


async def assign_visit(
    session: AsyncSession,
    temporal: Client,
    principal: Principal,
    practice_id: str,
    user_id: str,
) -> CommandResult:
    """Gives the practice's awaited home visit to `user_id`. 404 unknown practice, 403 outside
    the caller's boundary (api.access), 409 closed or no visit awaited (the workflow's
    refusal), 422 naming `user_id` for a user who is unknown, inactive, not a visitor, or a
    correspondent not covering the debtor's country. The caller's role is checked by its route
    (admin only)."""
    practice = await load_practice(session, principal, practice_id)
    if practice.status == Status.CLOSED:
        raise conflict(CLOSED_MESSAGE)
    await _visitor(session, user_id, practice)
    result = await send_update(
        temporal,
        practice.workflow_id,
        UpdateName.ASSIGN_VISIT,
        AssignVisitCmd(user_id=user_id),
        invalid_loc=USER_FIELD,
    )
    log.info("practice %s: visit assignment by %s: %s", practice.id, principal.id, result.message)
    return result


async def waiting_for(session: AsyncSession, user: User) -> list[str]:
    """The practices whose open visit nobody was assigned and `user` (an active correspondent)
    covers: oldest first."""
    if user.role != Role.FOREIGN_CORRESPONDENT.value or not user.active:
        return []
    rows = await session.execute(
        select(Task.practice_id, Practice)
        .join(Practice, Practice.id == Task.practice_id)
        .where(
            Task.kind == "visit",
            Task.status == "open",
            Task.assignee_id.is_(None),
            Practice.status != Status.CLOSED.value,
        )
        .order_by(Task.created_at, Task.id)
    )
    return [pid for pid, practice in rows if covers(user, practice.country)]


async def pick_up_waiting(
    session: AsyncSession, temporal: Client, principal: Principal, user: User
) -> int:
    """A correspondent made or given new countries takes every waiting visit (open, nobody
    assigned) of the debtors in its countries, each through assign_visit. One practice's
    failure (the visit closed meanwhile, the workflow service not answering) is logged and the
    others go on: the user's change stands either way. Returns how many were assigned."""
    assigned = failed = 0
    for practice_id in await waiting_for(session, user):
        try:
            result = await assign_visit(session, temporal, principal, practice_id, user.id)
        except (HTTPException, RequestValidationError) as exc:
            failed += 1
            code = getattr(exc, "status_code", 422)
            log.warning("practice %s: waiting visit not picked up (%s)", practice_id, code)
            continue
        except Exception as exc:  # noqa: BLE001 - the user's change must stand whatever happens
            failed += 1
            log.warning(
                "practice %s: waiting visit not picked up (%s)", practice_id, type(exc).__name__
            )
            continue
        if result.accepted:
            assigned += 1
    if assigned or failed:
        log.info(
            "correspondent %s: %d waiting visit(s) picked up, %d failed", user.id, assigned, failed
        )
    return assigned
