"""Model-based test of how pauses compose (domain/pauses.py), with hypothesis' stateful testing.

Random interleavings of promises, disputes opened and resolved (upheld in part or rejected),
plans started, instalments paid or missed, and days passing drive a small model of a practice:
who acts on a day is decided the way the workflow decides it (the escalation acts while
`escalation_runs`, a promise or plan while it is `lead` and `contact_allowed`; the plan child is
suspended while a dispute holds). After every step: one of escalation / promise / deal in charge,
no contact while a dispute holds, and the open practice waits for something named with a date.

`BaseRules` replays the rules of the code before issue 11 (a dispute replaced whatever was in
charge, dropped a promise, and its rejection resumed the escalation; the plan child was never
told): the same machine finds a counterexample there, which is how it would have found point 3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from domain.pauses import Lead, PauseRefused, Pauses, dispute_shift_days, shifted
from domain.practice import Status

START = date(2027, 3, 1)
LEAD_DAYS = 3  # plan_reminder_lead
GRACE_DAYS = 5  # plan_grace (and promise_grace, for simplicity)
CONTACT_EVERY = 4  # the escalation contacts the debtor every few days


@dataclass
class Plan:
    due: list[date]  # as agreed
    paid: int = 0  # instalments paid
    running: bool = True  # the child workflow


@dataclass
class Day:
    contacts: list[str] = field(default_factory=list)
    dispute: bool = False
    actors: set[str] = field(default_factory=set)


class Rules:
    """The composition as the workflow applies it, through domain/pauses.Pauses."""

    def __init__(self) -> None:
        self.pauses = Pauses()
        self.plan: Plan | None = None
        self.promise: date | None = None

    # commands; a refusal raises PauseRefused (the API's 409)
    def promise_to_pay(self, on: date) -> None:
        self.pauses.check_promise()
        self.pauses = self.pauses.promise()
        self.promise = on

    def start_plan(self, due: list[date]) -> None:
        self.pauses.check_deal()
        self.pauses = self.pauses.deal(Status.PAUSED_PLAN)
        self.promise = None
        self.plan = Plan(due)

    def open_dispute(self, today: date) -> None:
        self.pauses = self.pauses.open_dispute("d", today)  # check_dispute inside

    def resolve_dispute(self, today: date) -> None:
        before = self.pauses.shift_days
        self.pauses = self.pauses.resolve_dispute(today, "length")
        if self.promise is not None:
            self.promise = shifted(self.promise, self.pauses.shift_days - before)

    def plan_dates(self) -> list[date]:
        assert self.plan is not None
        return [shifted(d, self.pauses.shift_days) for d in self.plan.due]

    def dispute_open(self) -> bool:
        return self.pauses.dispute_id is not None

    # who acts on a day
    def escalation_acts(self) -> bool:
        return self.pauses.escalation_runs

    def plan_acts(self) -> bool:
        return (
            self.plan is not None
            and self.plan.running
            and self.pauses.lead == Lead.DEAL
            and self.pauses.contact_allowed
        )

    def promise_acts(self) -> bool:
        return self.pauses.lead == Lead.PROMISE and self.pauses.contact_allowed

    def in_charge(self) -> set[str]:
        return {
            name
            for name, acts in (
                ("escalation", self.pauses.lead == Lead.ESCALATION),
                ("promise", self.pauses.lead == Lead.PROMISE),
                ("plan", self.plan is not None and self.plan.running),
            )
            if acts
        }

    def ended(self) -> None:
        """The promise or the plan in charge ended (kept or broken)."""
        if self.plan is not None:
            self.plan.running = False
        self.promise = None
        self.pauses = self.pauses.ended()


class BaseRules(Rules):
    """The rules of the code before issue 11 (commit 9d86d65)."""

    def __init__(self) -> None:
        super().__init__()
        self.status = Status.ACTIVE

    def promise_to_pay(self, on: date) -> None:
        if self.status == Status.PAUSED_DISPUTE:
            raise PauseRefused("a dispute is open")
        self.status, self.promise = Status.PAUSED_PROMISE, on  # even while a plan ran

    def start_plan(self, due: list[date]) -> None:
        if self.status in (Status.PAUSED_DISPUTE, Status.PAUSED_PLAN):
            raise PauseRefused("no")
        self.status, self.promise, self.plan = Status.PAUSED_PLAN, None, Plan(due)

    def open_dispute(self, today: date) -> None:
        if self.status == Status.PAUSED_DISPUTE:
            raise PauseRefused("a dispute is already open")
        self.status, self.promise = Status.PAUSED_DISPUTE, None

    def resolve_dispute(self, today: date) -> None:
        self.status = Status.ACTIVE

    def plan_dates(self) -> list[date]:
        assert self.plan is not None
        return list(self.plan.due)

    def dispute_open(self) -> bool:
        return self.status == Status.PAUSED_DISPUTE

    def escalation_acts(self) -> bool:
        return self.status == Status.ACTIVE

    def plan_acts(self) -> bool:
        return self.plan is not None and self.plan.running  # the child was never told

    def promise_acts(self) -> bool:
        return self.status == Status.PAUSED_PROMISE

    def in_charge(self) -> set[str]:
        names = {Status.ACTIVE: "escalation", Status.PAUSED_PROMISE: "promise"}
        out = {names[self.status]} if self.status in names else set()
        return out | ({"plan"} if self.plan is not None and self.plan.running else set())

    def ended(self) -> None:
        if self.plan is not None:
            self.plan.running = False
        self.promise = None
        if self.status != Status.PAUSED_DISPUTE:
            self.status = Status.ACTIVE


class PausesMachine(RuleBasedStateMachine):
    rules_class: type[Rules] = Rules

    def __init__(self) -> None:
        super().__init__()
        self.r = self.rules_class()
        self.today = START
        self.day = Day()
        self.last_contact = START - timedelta(days=CONTACT_EVERY)

    # --- commands ----------------------------------------------------------------------------

    @rule(days=st.integers(1, 20))
    def promise(self, days: int) -> None:
        try:
            self.r.promise_to_pay(self.today + timedelta(days=days))
        except PauseRefused:
            assert self.r.dispute_open() or self.r.plan_acts() or "plan" in self.r.in_charge()

    @rule(n=st.integers(1, 3), every=st.integers(10, 30))
    def plan(self, n: int, every: int) -> None:
        due = [self.today + timedelta(days=every * (k + 1)) for k in range(n)]
        try:
            self.r.start_plan(due)
        except PauseRefused:
            pass

    @rule()
    def pay_instalment(self) -> None:
        plan = self.r.plan
        if plan is not None and plan.running and not self.r.dispute_open():
            plan.paid += 1
            if plan.paid == len(plan.due):
                self.r.ended()  # kept

    @rule()
    def open_dispute(self) -> None:
        try:
            self.r.open_dispute(self.today)
            self.day.dispute = True
        except PauseRefused:
            assert self.r.dispute_open()

    @precondition(lambda self: self.r.dispute_open())
    @rule()
    def reject_dispute(self) -> None:
        self.r.resolve_dispute(self.today)

    @rule(days=st.integers(1, 12))
    def days_pass(self, days: int) -> None:
        for _ in range(days):
            self.today += timedelta(days=1)
            self.day = Day(dispute=self.r.dispute_open())
            self._act()
            self._check_day()

    # --- what the agents do on a day ---------------------------------------------------------

    def _act(self) -> None:
        if self.r.escalation_acts():
            self.day.actors.add("escalation")
            if (self.today - self.last_contact).days >= CONTACT_EVERY:
                self.last_contact = self.today
                self.day.contacts.append("call")
        if self.r.plan_acts():
            plan = self.r.plan
            assert plan is not None
            self.day.actors.add("plan")
            dates = self.r.plan_dates()
            nxt = dates[plan.paid] if plan.paid < len(dates) else None
            if nxt is not None and self.today == nxt - timedelta(days=LEAD_DAYS):
                self.day.contacts.append("instalment reminder")
            if nxt is not None and self.today > nxt + timedelta(days=GRACE_DAYS):
                self.r.ended()  # broken: the escalation takes over from tomorrow
        if self.r.promise_acts():
            self.day.actors.add("promise")
            if self.r.promise is not None and self.today > self.r.promise + timedelta(
                days=GRACE_DAYS
            ):
                self.r.ended()  # broken

    def _check_day(self) -> None:
        if self.day.dispute:
            assert not self.day.contacts, f"{self.day.contacts} on {self.today} during a dispute"
        assert len(self.day.actors) <= 1, f"{self.day.actors} act together on {self.today}"

    # --- after every step --------------------------------------------------------------------

    @invariant()
    def one_in_charge(self) -> None:
        charge = self.r.in_charge()
        # the code before issue 11 had nobody in charge under a dispute (it replaced them)
        assert len(charge) == 1 or (not charge and self.r.dispute_open()), charge

    @invariant()
    def waits_for_something_with_a_date(self) -> None:
        if self.r.dispute_open():
            return  # the creditor's decision, dated by its next reminder (in the workflow)
        charge = self.r.in_charge()
        if "plan" in charge:
            plan = self.r.plan
            assert plan is not None and plan.paid < len(plan.due)
            assert self.r.plan_dates()[plan.paid] >= self.today - timedelta(days=GRACE_DAYS)
        elif "promise" in charge:
            assert self.r.promise is not None


SETTINGS = settings(
    max_examples=300,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_pauses_compose() -> None:
    run_state_machine_as_test(PausesMachine, settings=SETTINGS)


class BasePausesMachine(PausesMachine):
    rules_class = BaseRules


def test_the_same_machine_finds_point_3_in_the_rules_before_issue_11() -> None:
    """A plan, a dispute, days: the plan child reminds the debtor during the dispute, or after
    its rejection the escalation acts beside the plan; or a promise taken while the plan runs
    (point 3's second flaw): hypothesis reports whichever it meets first."""
    with pytest.raises(AssertionError, match="during a dispute|act together|plan") as found:
        run_state_machine_as_test(
            BasePausesMachine, settings=settings(SETTINGS, report_multiple_bugs=False)
        )
    steps = "\n".join(getattr(found.value, "__notes__", []))
    assert "state.plan(" in steps, steps
    assert "state.open_dispute()" in steps or "state.promise(" in steps, steps


def test_the_shift_rules() -> None:
    assert dispute_shift_days(START, START + timedelta(days=9), "length") == 9
    assert dispute_shift_days(START, START + timedelta(days=9), "none") == 0
    with pytest.raises(ValueError):
        dispute_shift_days(START, START, "half")
    # a dispute while the escalation is in charge moves nothing
    assert Pauses().open_dispute("d", START).resolve_dispute(START + timedelta(5), "length") == (
        Pauses()
    )
    # a promise while a plan is in charge is refused, naming the plan
    with pytest.raises(PauseRefused, match="plan"):
        Pauses().deal(Status.PAUSED_PLAN).check_promise()
