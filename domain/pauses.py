"""How pauses compose: who is in charge of a practice, and what a dispute does to it.

Exactly one of three is in charge of an open practice at a time:

- the escalation (the strategy's steps: letters, calls, visits, ...);
- a promise to pay (the escalation waits for the promised date);
- a deal: a proposal waiting for the creditor, a repayment plan, or a settlement.

A promise takes over from the escalation; a deal takes over from the escalation or a promise
(a deal supersedes a promise). A promise while a deal is in charge is refused: the plan or
settlement already says what the debtor pays and when, and a second schedule beside it would let
one of them contact the debtor about a different date. When the promise or the deal ends (kept,
broken, lapsed, refused) the escalation is in charge again.

A dispute is not a fourth one in charge: it suspends whichever is, and while it holds nothing may
contact the debtor (no letter, call, visit, reminder, not even a plan's instalment reminder).
When the creditor rejects it, or upholds it in part, the one that was in charge resumes; its dates
(the promised date, the instalments, the settlement's date) move by the creditor's rule
(`Strategy.dispute_shift`): "length", by the calendar days the dispute lasted, so the debtor keeps
the time they had; "none", they stay as they were (what fell due meanwhile is due at once). A
dispute upheld in full closes the practice. No promise or deal starts while a dispute holds.

The workflow (workflows/practice/) keeps one `Pauses` and moves it only through these methods;
its `status` is `Pauses.status`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from domain.practice import Status
from domain.strategy import SHIFT_RULES


class Lead(StrEnum):
    ESCALATION = "escalation"
    PROMISE = "promise"
    DEAL = "deal"


DEAL_STATUSES = (Status.PAUSED_PROPOSAL, Status.PAUSED_PLAN, Status.PAUSED_SETTLEMENT)
LEAD_OF = {
    Status.ACTIVE: Lead.ESCALATION,
    Status.PAUSED_PROMISE: Lead.PROMISE,
    **{s: Lead.DEAL for s in DEAL_STATUSES},
}


class PauseRefused(Exception):
    """A command the composition does not allow now (the API answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Pauses:
    # the status of the one in charge: ACTIVE (the escalation), PAUSED_PROMISE, or a deal's
    in_charge: Status = Status.ACTIVE
    dispute_id: str | None = None
    dispute_since: date | None = None
    # days the current one in charge was moved by disputes, since it took charge
    shift_days: int = 0

    @property
    def lead(self) -> Lead:
        return LEAD_OF[self.in_charge]

    @property
    def status(self) -> Status:
        """What the practice shows: the dispute while one holds, else the one in charge."""
        return Status.PAUSED_DISPUTE if self.dispute_id is not None else self.in_charge

    @property
    def contact_allowed(self) -> bool:
        """Whether anything may contact the debtor (the one in charge decides what and when)."""
        return self.dispute_id is None

    @property
    def escalation_runs(self) -> bool:
        return self.dispute_id is None and self.in_charge == Status.ACTIVE

    # --- refusals, checked before a command is accepted ----------------------------------

    def check_promise(self) -> None:
        if self.dispute_id is not None:
            raise PauseRefused("a dispute is open: no promise until resolved")
        if self.lead == Lead.DEAL:
            raise PauseRefused(
                "a repayment plan or settlement is in charge: it already sets what is paid and "
                "when; change it with a new proposal once it ends, or record the payments"
            )

    def check_deal(self) -> None:
        if self.dispute_id is not None:
            raise PauseRefused("a dispute is open")
        if self.lead == Lead.DEAL:
            raise PauseRefused("a plan or settlement is already in course")

    def check_dispute(self) -> None:
        if self.dispute_id is not None:
            raise PauseRefused("a dispute is already open")

    # --- transitions ---------------------------------------------------------------------

    def promise(self) -> Pauses:
        """A promise takes charge (a newer promise replaces an older one)."""
        self.check_promise()
        return replace(self, in_charge=Status.PAUSED_PROMISE, shift_days=0)

    def deal(self, status: Status) -> Pauses:
        """A deal takes charge, or moves on (a proposal approved becomes a plan/settlement)."""
        assert status in DEAL_STATUSES
        if self.lead != Lead.DEAL:
            self.check_deal()
            return replace(self, in_charge=status, shift_days=0)
        return replace(self, in_charge=status)

    def ended(self) -> Pauses:
        """The promise or deal in charge ended: the escalation takes over again."""
        return replace(self, in_charge=Status.ACTIVE, shift_days=0)

    def open_dispute(self, dispute_id: str, on: date) -> Pauses:
        self.check_dispute()
        return replace(self, dispute_id=dispute_id, dispute_since=on)

    def resolve_dispute(self, on: date, rule: str) -> Pauses:
        """The dispute is over and the practice goes on: the one in charge resumes, its dates
        moved by `rule` (see the module's docstring)."""
        assert self.dispute_id is not None and self.dispute_since is not None
        days = dispute_shift_days(self.dispute_since, on, rule)
        return replace(
            self,
            dispute_id=None,
            dispute_since=None,
            shift_days=self.shift_days + (days if self.lead != Lead.ESCALATION else 0),
        )


def dispute_shift_days(since: date, until: date, rule: str) -> int:
    """How many days the creditor's rule moves the dates of the one in charge."""
    if rule not in SHIFT_RULES:
        raise ValueError(f"unknown shift rule {rule!r}; known: {', '.join(SHIFT_RULES)}")
    return max((until - since).days, 0) if rule == "length" else 0


def shifted(day: date, days: int) -> date:
    return day + timedelta(days=days)
