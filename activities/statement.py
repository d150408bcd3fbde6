"""compute_statement: what the debtor owes on a day, for the workflow.

The workflow knows the payments, the recorded costs, the reductions of the claim, the filing
date and whether interest is claimed; the database knows the invoices, the debtor's kind and
the rates the admin added to the shipped history. The computation is domain.account's (which
is domain.statement's walk).

Failures are not retried when retrying cannot help: a day with no rate known
(type "RateUnknown", details [rate kind, ISO day]: the admin must add the published rate, and
the workflow records it), inputs a statement cannot take (type "InvalidInput"), two of the
admin's rate periods overlapping (type "RateOverlap").
"""

from __future__ import annotations

import logging

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.context import ActivityContext, load_practice
from db.ledger import practice_invoices, rate_table
from domain.account import Account, MissingRate, Reduction, account_at
from domain.activity_io import ActivityName, StatementInput, StatementResult
from domain.allocation import AllocationError, AllocationOrder, Payment
from domain.costs import Cost, CostError, CostKind
from domain.practice import DebtorKind
from domain.rates import RateOverlap
from domain.statement import StatementError

log = logging.getLogger(__name__)


def missing_rate_error(exc: MissingRate) -> ApplicationError:
    return ApplicationError(
        f"no {exc.kind.value} rate is known for {exc.day.isoformat()}: the admin must add the "
        "published rate for that period (POST /rates)",
        exc.kind.value,
        exc.day.isoformat(),
        type="RateUnknown",
        non_retryable=True,
    )


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidInput", non_retryable=True)


def statement_result(account: Account) -> StatementResult:
    totals = account.statement.totals
    return StatementResult(
        principal_outstanding_cents=totals.principal_outstanding_cents,
        interest_outstanding_cents=totals.interest_outstanding_cents,
        costs_outstanding_cents=totals.costs_outstanding_cents,
        total_outstanding_cents=totals.total_outstanding_cents,
        overpaid_cents=account.overpaid_cents,
    )


class StatementActivities(ActivityContext):
    @activity.defn(name=ActivityName.COMPUTE_STATEMENT)
    async def compute_statement(self, input: StatementInput) -> StatementResult:
        async with self.db.session() as session:
            practice = await load_practice(session, input.practice_id, with_invoices=True)
            try:
                rates = await rate_table(session)
            except RateOverlap as exc:
                raise ApplicationError(str(exc), type="RateOverlap", non_retryable=True) from exc
            invoices = practice_invoices(practice)
            debtor_kind = DebtorKind(practice.debtor_kind)
        try:
            payments = [
                Payment(p.paid_on, p.amount_cents, p.reference, p.invoice_number)
                for p in input.payments
            ]
            costs = [Cost(c.incurred_on, c.amount_cents, CostKind(c.kind)) for c in input.costs]
            reductions = [Reduction(r.on, r.amount_cents) for r in input.reductions]
            allocation = AllocationOrder(input.allocation)
        except (AllocationError, CostError, StatementError, ValueError) as exc:
            raise _invalid(f"statement input: {exc}") from exc
        try:
            account = account_at(
                invoices,
                debtor_kind,
                payments,
                costs,
                reductions,
                input.claim_filed_on,
                input.at,
                rates,
                allocation,
                claim_interest=input.claim_interest,
            )
        except MissingRate as exc:
            log.warning(
                "practice %s: no %s rate for %s", input.practice_id, exc.kind.value, exc.day
            )
            raise missing_rate_error(exc) from exc
        except StatementError as exc:
            raise _invalid(str(exc)) from exc
        return statement_result(account)
