"""Read-model queries the API and the activities share for the statement of account.

- `rate_table`: the rates shipped in domain/rate_history.py plus the ones the admin added
  (`rate_periods`).
- `practice_ledger`: what a statement of one practice needs, from its invoices and its ledger
  (`ledger_lines`, the typed lines the workflow booked: domain/ledger.py): payments (with the
  invoice the debtor designated, art. 1193 c.1 c.c., when given), recorded costs, reductions of
  the claim; and the filing of the court claim (the court steps' "ricorso_filed" event, or the
  snapshot's claim_filed_on). Interest is claimed when the strategy says so (claim_interest),
  when the workflow says so (snapshot claims_interest) or once the practice is in the judicial
  phase; payments are allocated as the strategy says (allocation).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Event, LedgerRow, Practice, RatePeriodRow
from domain.account import Account, Reduction, account_at
from domain.allocation import AllocationOrder, Payment
from domain.costs import Cost, CostKind
from domain.ledger import LedgerKind
from domain.practice import DebtorKind, Invoice, Phase
from domain.rates import PUBLISHED_PERIODS, RateKind, RatePeriod, RateTable

RATE_SCALE = Decimal("0.001")  # rate_periods.rate is Numeric(6, 3)


class LedgerError(ValueError):
    """The read model holds something a statement cannot use (a malformed line or event)."""


def plain_rate(value: Decimal) -> Decimal:
    """10.150 -> 10.15, 10.000 -> 10 (never 1E+1)."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def period_from_row(row: RatePeriodRow) -> RatePeriod:
    # SQLite hands Numeric back through a float: three decimals make it exact again
    rate = Decimal(str(row.rate)).quantize(RATE_SCALE)
    return RatePeriod(RateKind(row.kind), row.start, row.end, plain_rate(rate), row.source)


async def database_periods(session: AsyncSession) -> list[tuple[RatePeriodRow, RatePeriod]]:
    rows = await session.scalars(
        select(RatePeriodRow).order_by(RatePeriodRow.kind, RatePeriodRow.start)
    )
    return [(row, period_from_row(row)) for row in rows]


async def rate_table(session: AsyncSession) -> RateTable:
    """The shipped history plus the admin's periods. Raises RateOverlap if two overlap (POST
    /rates refuses that, so only a concurrent insert could leave such a pair behind)."""
    table = RateTable(PUBLISHED_PERIODS)
    for _, period in await database_periods(session):
        table.add(period)
    return table


@dataclass(frozen=True)
class PracticeLedger:
    invoices: list[Invoice]
    debtor_kind: DebtorKind
    payments: list[Payment]
    costs: list[Cost]
    reductions: list[Reduction]
    claim_filed_on: date | None
    claim_interest: bool
    allocation: AllocationOrder

    def account(self, at: date, rates: RateTable, *, claim_interest: bool | None = None) -> Account:
        """The account at the end of `at`; claim_interest overrides the practice's own choice
        (the statement shows what the law gives even when the practice does not claim it)."""
        return account_at(
            self.invoices,
            self.debtor_kind,
            self.payments,
            self.costs,
            self.reductions,
            self.claim_filed_on,
            at,
            rates,
            self.allocation,
            claim_interest=self.claim_interest if claim_interest is None else claim_interest,
        )


def practice_invoices(practice: Practice) -> list[Invoice]:
    """The practice's invoices (loaded with it) as the domain's values."""
    return [Invoice(i.number, i.issue_date, i.due_date, i.amount_cents) for i in practice.invoices]


def claims_interest(practice: Practice) -> bool:
    strategy = practice.strategy or {}
    snapshot = practice.snapshot or {}
    return (
        bool(strategy.get("claim_interest"))
        or bool(snapshot.get("claims_interest"))
        or practice.phase == Phase.JUDICIAL.value
    )


def ledger_from(
    practice: Practice, lines: Iterable[LedgerRow], filed: Iterable[date] = ()
) -> PracticeLedger:
    """The statement's inputs from a practice (its invoices loaded), its ledger lines (in the
    order they were booked) and the days its court claim was filed."""
    payments: list[Payment] = []
    costs: list[Cost] = []
    reductions: list[Reduction] = []
    for line in lines:
        if line.kind == LedgerKind.PAYMENT:
            payments.append(
                Payment(
                    paid_on=line.day,
                    amount_cents=line.amount_cents,
                    reference=line.reference,
                    invoice_number=line.invoice_number or None,
                )
            )
        elif line.kind == LedgerKind.COST:
            try:
                kind = CostKind(line.cost_kind or "legal")
            except ValueError as exc:
                raise LedgerError(f"ledger line {line.seq} (cost): unknown cost kind") from exc
            costs.append(Cost(date=line.day, amount_cents=line.amount_cents, kind=kind))
        elif line.kind == LedgerKind.REDUCTION:
            reductions.append(Reduction(line.day, line.amount_cents))
    filed = list(filed)
    if not filed and (practice.snapshot or {}).get("claim_filed_on"):
        filed.append(date.fromisoformat(str(practice.snapshot["claim_filed_on"])))
    allocation_name = str((practice.strategy or {}).get("allocation") or "law")
    try:
        allocation = AllocationOrder(allocation_name)
    except ValueError as exc:
        raise LedgerError(f"unknown allocation {allocation_name!r} in the strategy") from exc
    return PracticeLedger(
        invoices=practice_invoices(practice),
        debtor_kind=DebtorKind(practice.debtor_kind),
        payments=payments,
        costs=costs,
        reductions=reductions,
        claim_filed_on=min(filed) if filed else None,
        claim_interest=claims_interest(practice),
        allocation=allocation,
    )


async def practice_ledger(session: AsyncSession, practice: Practice) -> PracticeLedger:
    """`ledger_from` with the practice's ledger lines in the order they were booked; the
    practice must have its invoices loaded (selectinload)."""
    lines = await session.scalars(
        select(LedgerRow)
        .where(
            LedgerRow.practice_id == practice.id,
            LedgerRow.kind.in_((LedgerKind.PAYMENT, LedgerKind.COST, LedgerKind.REDUCTION)),
        )
        .order_by(LedgerRow.at, LedgerRow.seq)
    )
    # the filing is the court steps' event (workflows/judicial.py), not money
    filed = await session.scalars(
        select(Event.data).where(Event.practice_id == practice.id, Event.kind == "ricorso_filed")
    )
    days: list[date] = []
    for data in filed:
        try:
            days.append(date.fromisoformat(str((data or {})["filed_on"])))
        except (KeyError, ValueError) as exc:
            raise LedgerError("a ricorso_filed event without its filed_on date") from exc
    return ledger_from(practice, lines, days)
