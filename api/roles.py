"""The roles an API key carries. Apart from api.auth so the request models (and the CSV import,
which validates with them on the operator's machine) load without FastAPI and the database."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CREDITOR = "creditor"
    OPERATOR = "operator"
    FIELD_AGENT = "field_agent"
    LAWYER = "lawyer"
    # the agency's correspondent abroad (issue 16): a field agent's work for the debtors of the
    # countries it covers ("correspondent": users.role is 20 characters)
    FOREIGN_CORRESPONDENT = "correspondent"


# Who makes the visits of a practice's home-visit step and reports their outcome: a field agent
# in Italy, the foreign correspondent of the debtor's country abroad. Either is the practice's
# `field_agent_id` (the visit's assignee), with the same work list, outcomes and access.
# `require(Role.ADMIN, *VISITORS)` and access.can_see read this one list.
VISITORS: tuple[Role, ...] = (Role.FIELD_AGENT, Role.FOREIGN_CORRESPONDENT)
