"""The practice's ledger: the money that moved, as typed lines the practice's state books.

The pure apply_ functions (domain/practice_state/commands.py) put a `LedgerLine` on the
timeline event that records a payment, a cost, a reduction of the claim or a write-off; the
workflow numbers it with its event (`LedgerEntry`: the event's seq, time and actor) and hands it
to the read model in the record activity's input (RecordInput.ledger), which stores it in the
`ledger_lines` table. Statements, letters, card payments and reports read that table
(db/ledger.py, api/services/reports.py): nothing is parsed back from the events' data.

The event's seq is the line's idempotency key: one line per event, so a retried or replayed
record writes it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.actor import ActorKind


class LedgerKind(StrEnum):
    PAYMENT = "payment"  # the debtor paid: reference, and the invoice they named if any
    COST = "cost"  # a recorded cost owed by the debtor (cost_kind: legal, collection)
    REDUCTION = "reduction"  # the claim reduced (a dispute upheld in part): a credit note
    WRITE_OFF = "write_off"  # what was left when the practice closed settled or uncollectable


@dataclass(frozen=True)
class LedgerLine:
    """One movement, as the command booked it. `on` is the day it counts from: the day paid,
    the day the cost was incurred, the Rome day the claim was reduced or written off."""

    kind: LedgerKind
    on: date
    amount_cents: int
    reference: str = ""  # a payment's reference (a reference is paid once)
    invoice_number: str | None = None  # designated by the debtor (art. 1193 c.1 c.c.)
    cost_kind: str | None = None  # a cost's kind (domain.costs.CostKind)


@dataclass(frozen=True)
class LedgerEntry:
    """A line numbered with the timeline event that records it: `seq` is that event's (the
    line's idempotency key), `at` its time (timezone-aware), `actor_kind` who caused it."""

    seq: int
    at: datetime
    line: LedgerLine
    actor_kind: ActorKind | None = None


def payment(
    on: date, amount_cents: int, reference: str, invoice_number: str | None = None
) -> LedgerLine:
    return LedgerLine(LedgerKind.PAYMENT, on, amount_cents, reference, invoice_number)


def cost(on: date, amount_cents: int, cost_kind: str) -> LedgerLine:
    return LedgerLine(LedgerKind.COST, on, amount_cents, cost_kind=cost_kind)


def reduction(on: date, amount_cents: int) -> LedgerLine:
    return LedgerLine(LedgerKind.REDUCTION, on, amount_cents)


def write_off(on: date, amount_cents: int) -> LedgerLine:
    return LedgerLine(LedgerKind.WRITE_OFF, on, amount_cents)
