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
