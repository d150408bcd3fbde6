"""The practice's account: `domain.statement` plus what a practice adds to it.

- Whether interest is claimed at all. Out of court a creditor may collect only the principal
  and the recorded costs (`Strategy.claim_interest` False): then nothing accrues and no EUR 40
  compensation is added, and no rate is ever looked up.
- Reductions of the claim: a dispute upheld in part (`DisputeResolutionCmd.reduce_by_cents`)
  works as a credit note on principal dated the day it was decided, oldest invoice first (by due
  date, then number, like payments), on the principal then still unpaid. Like a payment on the
  same day, the reduced principal still accrues on that day and stops from the next one; on a
  day with both, the reduction comes first. A reduction larger than the principal still unpaid
  is owed back to the debtor (`overpaid_cents`), with any payment beyond what is owed.
- A missing rate names its day and kind (`MissingRate`), for the admin who must add it.

`account_at` and `statement_at` are one walk (`domain.statement.walk`);
`InvoiceLine.principal_cents` is the invoice's amount net of its reductions
(`Account.reduced_cents` has them per invoice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from domain.allocation import AllocationOrder, Payment
from domain.costs import Cost
from domain.practice import DebtorKind, Invoice
from domain.rates import RateKind, RatePeriod, RateTable, RateUnknown
from domain.statement import AppliedReduction, Reduction, ReductionLine, Statement, walk

__all__ = [
    "Account",
    "AppliedReduction",
    "MissingRate",
    "Reduction",
    "ReductionLine",
    "account_at",
]


class MissingRate(RateUnknown):
    """No rate of `kind` is known for `day`: the admin must add the published one."""

    def __init__(self, kind: RateKind, day: date, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.day = day


@dataclass(frozen=True)
class Account:
    statement: Statement
    claim_interest: bool
    reductions: list[AppliedReduction] = field(default_factory=list)
    reduced_cents: dict[str, int] = field(default_factory=dict)  # per invoice number

    @property
    def overpaid_cents(self) -> int:
        """Paid beyond everything owed, plus reductions beyond the principal left to reduce."""
        return self.statement.totals.unallocated_cents + sum(
            r.unapplied_cents for r in self.reductions
        )


class _Tracing(RateTable):
    """Delegates to a table and remembers which kind and day had no rate."""

    def __init__(self, inner: RateTable) -> None:
        super().__init__()
        self.inner = inner

    def period_on(self, kind: RateKind, day: date) -> RatePeriod:
        try:
            return self.inner.period_on(kind, day)
        except RateUnknown as exc:
            raise MissingRate(RateKind(kind), day, str(exc)) from exc


def account_at(
    invoices: Sequence[Invoice],
    debtor_kind: DebtorKind,
    payments: Sequence[Payment],
    costs: Sequence[Cost],
    reductions: Sequence[Reduction],
    claim_filed_on: date | None,
    at: date,
    rates: RateTable,
    allocation: AllocationOrder = AllocationOrder.LAW,
    *,
    claim_interest: bool = True,
) -> Account:
    """The practice's position at the end of day `at`.

    Raises StatementError for bad input (see `statement_at`; a reduction before the first
    invoice too) and MissingRate when interest is claimed and principal is outstanding on a day
    with no rate known."""
    walked = walk(
        invoices,
        debtor_kind,
        payments,
        costs,
        reductions,
        claim_filed_on,
        at,
        _Tracing(rates),
        allocation,
        claim_interest,
    )
    return Account(
        statement=walked.statement,
        claim_interest=claim_interest,
        reductions=walked.reductions,
        reduced_cents=walked.reduced_cents,
    )
