"""Who may see which practice, and whose personal data.

- admin, operator, lawyer: every practice (agency staff and its lawyers work the whole book);
- creditor: its own creditor's practices only (another creditor's practice is a 403);
- field agent: practices in its provinces and those it is assigned to; the debtor's personal
  data only on the practices assigned to it (data minimisation: the agent needs the address of
  the visits it makes, not of every debtor in the territory).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.auth import Principal, Role
from api.errors import forbidden, not_found
from db.models import Practice


def can_see(principal: Principal, practice: Practice) -> bool:
    if principal.role == Role.CREDITOR:
        return practice.creditor_id == principal.creditor_id
    if principal.role == Role.FIELD_AGENT:
        return practice.province in principal.provinces or practice.field_agent_id == principal.id
    return principal.role in (Role.ADMIN, Role.OPERATOR, Role.LAWYER)


def can_see_personal_data(principal: Principal, practice: Practice) -> bool:
    if not can_see(principal, practice):
        return False
    if principal.role == Role.FIELD_AGENT:
        return practice.field_agent_id == principal.id
    return True


def visible_practices(principal: Principal) -> ColumnElement[bool]:
    """The same rule as can_see, as a WHERE clause for lists."""
    if principal.role == Role.CREDITOR:
        return Practice.creditor_id == principal.creditor_id
    if principal.role == Role.FIELD_AGENT:
        return or_(
            Practice.province.in_(sorted(principal.provinces)),
            Practice.field_agent_id == principal.id,
        )
    if principal.role in (Role.ADMIN, Role.OPERATOR, Role.LAWYER):
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
        raise forbidden("this practice belongs to another creditor or territory")
    return practice
