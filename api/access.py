"""Who may see which practice, and whose personal data.

- admin, operator: every practice (the agency's staff work the whole book);
- creditor: its own creditor's practices only (another creditor's practice is a 403);
- lawyer: the practices assigned to it (`Practice.lawyer_id`, or the judicial path's lawyer
  when another took the court steps over), not every creditor's debtors: a lawyer is an outside
  professional the agency gives a brief, and sees what it was briefed on;
- field agent: the practices whose home visit it was assigned (`Practice.field_agent_id`),
  with the debtor's personal data (data minimisation: the agent needs the address of the
  visits it makes, not of every debtor in its provinces);
- foreign correspondent: the same as a field agent, for the debtors abroad whose visit it was
  assigned (it is the practice's `field_agent_id` too: api.roles.VISITORS).

This module is the one place these rules are written: the API's checks and lists call it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.auth import Principal, Role, current_principal, session_principal
from api.deps import SessionDep
from api.errors import forbidden, not_found
from api.roles import VISITORS
from db.models import Practice


def assigned_lawyers(practice: Practice) -> set[str]:
    """The lawyer assigned to the practice and the one of its judicial path, if another."""
    judicial = practice.judicial or {}
    return {x for x in (practice.lawyer_id, judicial.get("lawyer_id")) if isinstance(x, str)}


def can_see(principal: Principal, practice: Practice) -> bool:
    if principal.role == Role.CREDITOR:
        return practice.creditor_id == principal.creditor_id
    if principal.role in VISITORS:
        return practice.field_agent_id == principal.id
    if principal.role == Role.LAWYER:
        return principal.id in assigned_lawyers(practice)
    return principal.role in (Role.ADMIN, Role.OPERATOR)


def visible_practices(principal: Principal) -> ColumnElement[bool]:
    """The same rule as can_see, as a WHERE clause for lists."""
    if principal.role == Role.CREDITOR:
        return Practice.creditor_id == principal.creditor_id
    if principal.role in VISITORS:
        return Practice.field_agent_id == principal.id
    if principal.role == Role.LAWYER:
        return or_(
            Practice.lawyer_id == principal.id,
            Practice.judicial["lawyer_id"].as_string() == principal.id,
        )
    if principal.role in (Role.ADMIN, Role.OPERATOR):
        return true()
    return false()


async def load_practice(
    session: AsyncSession,
    principal: Principal,
    practice_id: str,
    *,
    with_invoices: bool = False,
) -> Practice:
    """The practice if the caller may see it: 404 when unknown, 403 when someone else's."""
    options = [selectinload(Practice.invoices)] if with_invoices else []
    practice = await session.get(Practice, practice_id, options=options)
    if practice is None:
        raise not_found("practice")
    if not can_see(principal, practice):
        raise forbidden(FORBIDDEN_PRACTICE)
    return practice


FORBIDDEN_PRACTICE = "this practice belongs to another creditor, or is not assigned to you"


async def _check_boundary(session: AsyncSession, principal: Principal, practice_id: str) -> None:
    practice = await session.get(Practice, practice_id)
    if practice is None:
        raise not_found("practice")
    if not can_see(principal, practice):
        raise forbidden(FORBIDDEN_PRACTICE)


async def practice_boundary(
    practice_id: str,
    session: SessionDep,
    principal: Annotated[Principal, Depends(current_principal)],
) -> None:
    """The tenant boundary before the request body: a router dependency of the practice's
    commands, so an unknown practice is a 404 and another creditor's (or another lawyer's,
    another agent's) a 403, whatever the body and before the role check (the console's actions
    answer in the same order: console_practice_boundary)."""
    await _check_boundary(session, principal, practice_id)


async def console_practice_boundary(
    practice_id: str,
    session: SessionDep,
    principal: Annotated[Principal, Depends(session_principal)],
) -> None:
    """practice_boundary for the console's actions on a practice (the session's Principal):
    the same 403 before the form is read, so the console refuses as the API does."""
    await _check_boundary(session, principal, practice_id)
