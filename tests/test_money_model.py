"""The money model (issue 11): random invoices, payments with and without the invoice they pay
(art. 1193 c.1 c.c.), recorded costs, reductions of the claim and days passing, on the real
read model (a migrated database), the real ledger (`db.ledger`: what GET /statement shows) and
the real `compute_statement` activity (what the workflow keeps as the practice's balance).

After every step:
- every payment's allocation sums to the payment (allocated + unallocated), no line is zero or
  negative, and a designated invoice is paid before any other item;
- no balance is negative: no invoice's principal, interest or compensation, no recorded cost,
  no total;
- every euro paid is accounted for (paid + unallocated = what came in);
- the statement read from the timeline and the practice's balance agree to the cent: with
  interest claimed, the workflow's balance is the activity's total (computed from what the
  workflow holds), and it equals the ledger's; without, the workflow's own arithmetic (claim +
  costs - payments - reductions) equals the statement's outstanding net of what is owed back.

The workflow's rules are mirrored where they refuse a command: without interest claimed a
payment above the balance is refused; a reduction as large as the balance is an upheld dispute
(the practice closes), not a reduction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.orm import selectinload

from activities.record import ledger_row
from activities.statement import StatementActivities
from db.ledger import practice_ledger, rate_table
from db.migrate import upgrade
from db.models import Event, LedgerRow, Practice
from db.session import Database
from domain import ledger
from domain.account import Account
from domain.activity_io import CostLine, PaymentLine, ReductionLine, StatementInput
from domain.allocation import AllocationOrder
from domain.calendar import ROME
from domain.ledger import LedgerEntry
from tests import pg
from tests.factories import create_creditor, create_practice, invoice, make_settings

FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2026, 6, 30)  # the last day the shipped late-payment rates cover


@dataclass
class Setup:
    loop: asyncio.AbstractEventLoop
    db: Database


invoices_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=400),  # issued, days after FIRST_DAY
        st.integers(min_value=0, max_value=120),  # due, days after issue
        st.integers(min_value=1, max_value=500_000),  # amount in cents
    ),
    min_size=1,
    max_size=4,
)


class MoneyMachine(RuleBasedStateMachine):
    setup: Setup

    def __init__(self) -> None:
        super().__init__()
        self.practice_id = ""
        self.invoice_numbers: list[str] = []
        self.first_issue = FIRST_DAY
        self.today = FIRST_DAY
        self.claim_interest = False
        self.allocation = AllocationOrder.LAW
        self.claim = 0
        self.seq = 0
        self.payments: list[PaymentLine] = []
        self.costs: list[CostLine] = []
        self.reductions: list[ReductionLine] = []
        self.workflow_balance = 0  # what the workflow holds as the practice's balance
        self.account: Account | None = None

    def run(self, coroutine: Any) -> Any:
        return self.setup.loop.run_until_complete(coroutine)

    # --- the practice -----------------------------------------------------------------------

    @initialize(
        rows=invoices_strategy,
        business=st.booleans(),
        claim_interest=st.booleans(),
        allocation=st.sampled_from(list(AllocationOrder)),
        start_after=st.integers(min_value=0, max_value=200),
    )
    def hand_over(
        self,
        rows: list[tuple[int, int, int]],
        business: bool,
        claim_interest: bool,
        allocation: AllocationOrder,
        start_after: int,
    ) -> None:
        invoices = [
            invoice(
                f"FT-{n}",
                FIRST_DAY + timedelta(days=issued),
                FIRST_DAY + timedelta(days=issued + due),
                amount,
            )
            for n, (issued, due, amount) in enumerate(rows, start=1)
        ]
        self.invoice_numbers = [i.number for i in invoices]
        self.first_issue = min(i.issue_date for i in invoices)
        self.today = self.first_issue + timedelta(days=start_after)
        self.claim_interest = claim_interest
        self.allocation = allocation
        self.claim = sum(i.amount_cents for i in invoices)
        kind = (
            {"debtor_kind": "business", "debtor_vat_number": "12345670017"}
            if business
            else {"debtor_kind": "consumer"}
        )

        async def create() -> str:
            creditor = await create_creditor(self.setup.db)
            practice = await create_practice(
                self.setup.db,
                creditor,
                invoices,
                strategy={"claim_interest": claim_interest, "allocation": allocation.value},
                **kind,
            )
            return practice.id

        self.practice_id = self.run(create())
        self.refresh_balance()

    def record(self, kind: str, data: dict[str, Any], line: ledger.LedgerLine) -> None:
        """The event the workflow writes on its timeline (the `_event` data, as flushed), and
        the ledger line its command booked."""
        self.seq += 1
        at = datetime.combine(self.today, time(10), tzinfo=ROME) + timedelta(seconds=self.seq)

        async def write() -> None:
            async with self.setup.db.session() as session, session.begin():
                session.add(
                    Event(
                        practice_id=self.practice_id,
                        seq=self.seq,
                        at=at,
                        kind=kind,
                        summary=kind,
                        data=data,
                    )
                )
                session.add(
                    LedgerRow(**ledger_row(self.practice_id, LedgerEntry(self.seq, at, line)))
                )

        self.run(write())

    def activity_input(self) -> StatementInput:
        return StatementInput(
            practice_id=self.practice_id,
            at=self.today,
            payments=list(self.payments),
            costs=list(self.costs),
            reductions=list(self.reductions),
            claim_filed_on=None,
            claim_interest=self.claim_interest,
            allocation=self.allocation.value,
        )

    def refresh_balance(self) -> None:
        """As the workflow's `_refresh_balance`: with interest claimed the balance is the
        statement's total; otherwise its own arithmetic stands."""
        if not self.claim_interest:
            self.workflow_balance = (
                self.claim
                + sum(c.amount_cents for c in self.costs)
                - sum(p.amount_cents for p in self.payments)
                - sum(r.amount_cents for r in self.reductions)
            )
            return
        acts = StatementActivities(self.setup.db, make_settings())
        result = self.run(acts.compute_statement(self.activity_input()))
        self.workflow_balance = result.total_outstanding_cents

    # --- what happens -----------------------------------------------------------------------

    @rule(days=st.integers(min_value=1, max_value=120))
    def days_pass(self, days: int) -> None:
        self.today = min(self.today + timedelta(days=days), LAST_DAY)
        self.refresh_balance()

    @rule(
        amount=st.integers(min_value=1, max_value=600_000),
        days_before=st.integers(min_value=0, max_value=20),
        designate=st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
    )
    def pay(self, amount: int, days_before: int, designate: int | None) -> None:
        if not self.claim_interest and amount > self.workflow_balance:
            return  # the workflow refuses it ("amount exceeds the balance")
        paid_on = max(self.today - timedelta(days=days_before), self.first_issue)
        number = (
            None
            if designate is None
            else self.invoice_numbers[designate % len(self.invoice_numbers)]
        )
        reference = f"CRO-{self.seq + 1}"
        self.payments.append(PaymentLine(paid_on, amount, reference, number))
        data: dict[str, Any] = {
            "amount_cents": amount,
            "paid_on": paid_on.isoformat(),
            "reference": reference,
        }
        if number is not None:
            data["invoice_number"] = number
        self.refresh_balance()
        self.record(
            "payment",
            data | {"balance_cents": self.workflow_balance},
            ledger.payment(paid_on, amount, reference, number),
        )

    @rule(
        amount=st.integers(min_value=1, max_value=100_000),
        days_before=st.integers(min_value=0, max_value=60),
        kind=st.sampled_from(["legal", "collection"]),
    )
    def cost(self, amount: int, days_before: int, kind: str) -> None:
        incurred_on = max(self.today - timedelta(days=days_before), self.first_issue)
        self.costs.append(CostLine(incurred_on, amount, kind))
        self.refresh_balance()
        self.record(
            "cost",
            {"amount_cents": amount, "incurred_on": incurred_on.isoformat(), "cost_kind": kind},
            ledger.cost(incurred_on, amount, kind),
        )

    @precondition(lambda self: self.workflow_balance > 1)
    @rule(share=st.floats(min_value=0.01, max_value=0.99))
    def reduce_claim(self, share: float) -> None:
        amount = max(1, int(self.workflow_balance * share))
        if amount >= self.workflow_balance:
            return  # upheld in full: the practice closes, nothing is reduced
        self.reductions.append(ReductionLine(self.today, amount))
        self.refresh_balance()
        self.record(
            "dispute_resolved",
            {"dispute_id": f"d{self.seq}", "upheld": True, "reduce_by_cents": amount},
            ledger.reduction(self.today, amount),
        )

    # --- what must hold ---------------------------------------------------------------------

    def statement(self) -> Account:
        async def read() -> Account:
            async with self.setup.db.session() as session:
                practice = await session.get(
                    Practice, self.practice_id, options=[selectinload(Practice.invoices)]
                )
                assert practice is not None
                ledger = await practice_ledger(session, practice)
                return ledger.account(self.today, await rate_table(session))

        account: Account = self.run(read())
        return account

    @invariant()
    def money_is_accounted_for(self) -> None:
        if not self.practice_id:
            return
        account = self.statement()
        st_ = account.statement
        totals = st_.totals
        for allocation in st_.payments:
            lines = allocation.lines
            assert allocation.allocated_cents + allocation.unallocated_cents == (
                allocation.payment.amount_cents
            )
            assert allocation.unallocated_cents >= 0
            assert all(line.amount_cents > 0 for line in lines)
            designated = allocation.payment.invoice_number
            if designated is not None:
                mine = [i for i, x in enumerate(lines) if x.invoice_number == designated]
                assert mine == list(range(len(mine))), "the designated invoice comes first"
        for line in st_.invoices:
            assert line.principal_outstanding_cents >= 0
            assert line.interest_outstanding_cents >= 0
            assert line.compensation_outstanding_cents >= 0
            assert line.total_outstanding_cents >= 0
        assert all(c.outstanding_cents >= 0 for c in st_.costs)
        assert (
            min(
                totals.principal_outstanding_cents,
                totals.interest_outstanding_cents,
                totals.costs_outstanding_cents,
                totals.total_outstanding_cents,
                account.overpaid_cents,
            )
            >= 0
        )
        paid_in = sum(p.amount_cents for p in self.payments if p.paid_on <= self.today)
        assert totals.total_paid_cents + totals.unallocated_cents == paid_in
        # the timeline's statement and the practice's balance, to the cent
        if self.claim_interest:
            assert totals.total_outstanding_cents == self.workflow_balance
        else:
            assert totals.interest_accrued_cents == 0
            assert totals.total_outstanding_cents - account.overpaid_cents == (
                self.workflow_balance
            )
        acts = StatementActivities(self.setup.db, make_settings())
        result = self.run(acts.compute_statement(self.activity_input()))
        assert (result.total_outstanding_cents, result.overpaid_cents) == (
            totals.total_outstanding_cents,
            account.overpaid_cents,
        )
        assert result.principal_outstanding_cents == totals.principal_outstanding_cents


def test_money_model(tmp_path: Path) -> None:
    url = pg.database_url(tmp_path)
    upgrade(url)
    loop = asyncio.new_event_loop()
    db = Database(url)
    MoneyMachine.setup = Setup(loop, db)
    try:
        run_state_machine_as_test(
            MoneyMachine,
            settings=settings(
                max_examples=60,
                stateful_step_count=12,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()
        pg.drop_database(url)
