"""Request and response models of personal data's end (issue 14): the creditor's retention
period, the debtors' erasure requests, the access log (api/routers/privacy.py)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.schemas import RequestModel
from db.models import RETENTION_MAX_DAYS


class RetentionIn(RequestModel):
    retention_days: int = Field(
        ge=1,
        le=RETENTION_MAX_DAYS,
        description="Days a closed practice's debtor data is kept before the retention sweep "
        f"erases it: at most {RETENTION_MAX_DAYS} (ten years, art. 2220 c.c.), the default.",
        examples=[1826],
    )


class RetentionOut(BaseModel):
    creditor_id: str
    retention_days: int


class ErasureRequestIn(RequestModel):
    received_on: date | None = Field(
        default=None,
        description="The day the debtor's request reached the agency (today if left out); "
        "not in the future.",
    )


class RecordedByOut(BaseModel):
    kind: str = Field(description="user, or debtor (its own page)")
    id: str | None
    role: str | None


class ErasureRequestOut(BaseModel):
    id: str
    practice_id: str
    requested_at: datetime
    received_on: date
    recorded_by: RecordedByOut
    decision: str = Field(description="refused, partial or erased")
    reason: str = Field(
        description="practice_open (art. 17(3)(e): the claim is being collected), legal_duty "
        "(art. 17(3)(b) and (e): art. 2220 c.c. keeps the records until keep_until), no_duty "
        "(the retention period is over), already_erased"
    )
    erased: list[str] = Field(description="The kinds of data erased now.")
    kept: list[str] = Field(description="The kinds of data kept, until keep_until.")
    keep_until: date | None


class AccessLogOut(BaseModel):
    id: int
    at: datetime
    user_id: str
    role: str
    practice_id: str
    what: str = Field(description="practice, document, statement or export")
    target_id: str | None = Field(description="The document read, for `document`.")


class AccessLogPage(BaseModel):
    items: list[AccessLogOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next, older page; null on the last page."
    )
