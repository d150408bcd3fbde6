"""Costs a debtor owes besides principal and interest.

- The flat compensation of EUR 40 per invoice paid late by a business debtor (art. 6 D.Lgs.
  231/2002; EU Court of Justice 20 October 2022, C-585/20: per invoice). It is due, without any
  demand, once the invoice is unpaid at the end of its due date; consumers never owe it. The
  statement adds it by itself: it is never recorded as a `Cost`.
- Collection and legal costs the agency records (`Cost`), due from their date. A recorded
  `domain.practice.CostCmd` becomes `Cost(cmd.incurred_on, cmd.amount_cents, CostKind(cmd.kind))`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.practice import DebtorKind

FLAT_COMPENSATION_CENTS = 4000


class CostKind(StrEnum):
    FLAT_COMPENSATION = "flat_compensation_231"  # art. 6 D.Lgs. 231/2002, computed, not recorded
    COLLECTION = "collection"
    LEGAL = "legal"


class CostError(ValueError):
    pass


@dataclass(frozen=True)
class Cost:
    date: date
    amount_cents: int
    kind: CostKind
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", CostKind(self.kind))
        if self.kind is CostKind.FLAT_COMPENSATION:
            raise CostError(
                "the EUR 40 compensation is added per invoice by the statement: do not record it"
            )
        if not isinstance(self.amount_cents, int) or self.amount_cents <= 0:
            raise CostError("a cost must be a positive amount in cents")


def flat_compensation_cents(debtor_kind: DebtorKind) -> int:
    """What one late invoice adds in flat compensation for this kind of debtor."""
    return FLAT_COMPENSATION_CENTS if DebtorKind(debtor_kind) is DebtorKind.BUSINESS else 0
