"""A creditor's collection strategy (seed 003): which steps run, the wait after each, the call
attempts, the formal demand's term, the letter texts. A practice copies the strategy at hand-over
and keeps it for its whole life, so changing a creditor's strategy never alters practices in flight.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum

from domain.durations import parse_duration
from domain.plans import PlanBounds


class Step(StrEnum):
    """The out-of-court path of DOMAIN.md, steps 1 to 11, in their default order."""

    PRE_DUE_REMINDERS = "pre_due_reminders"
    CONTACT_CHECK = "contact_check"
    REMINDER_LETTER = "reminder_letter"
    PHONE_PHASE = "phone_phase"
    SECOND_LETTER = "second_letter"
    SKIP_TRACING = "skip_tracing"
    HOME_VISIT = "home_visit"
    LEGAL_NOTICE = "legal_notice"
    FORMAL_DEMAND = "formal_demand"
    LEGAL_OPINION = "legal_opinion"
    AUTHORIZATION = "authorization"


STEP_ORDER: tuple[Step, ...] = tuple(Step)

# Letters a creditor may reword (the body paragraph; the amounts, invoices, payment instructions
# and contacts are always printed by the template around it).
LETTER_KINDS = (
    "reminder_letter",
    "second_letter",
    "legal_notice",
    "formal_demand",
    "debt_advice_notice",  # consumer credit only (domain.consumer_credit)
)
# the languages letters, e-mails, SMS and the debtor's page are written in (issue 16); a debtor
# whose language is another is written to in Italian
LETTER_LANGUAGES = ("it", "en", "de", "fr", "es")
# Strategy.allocation: the values of domain.allocation.AllocationOrder (kept apart: no import)
ALLOCATIONS = ("law", "costs_interest_principal", "principal_first")
# how a dispute moves the dates of the promise or deal it suspended (domain/pauses.py)
SHIFT_RULES = ("length", "none")

# Steps nobody may switch off: nothing judicial starts without the creditor's authorisation.
MANDATORY_STEPS = frozenset({Step.AUTHORIZATION})

DEFAULT_WAITS: dict[Step, str] = {
    Step.PRE_DUE_REMINDERS: "P3D",  # grace after the due date before collection starts
    Step.CONTACT_CHECK: "PT0S",
    Step.REMINDER_LETTER: "P15D",
    Step.PHONE_PHASE: "P7D",
    Step.SECOND_LETTER: "P15D",
    Step.SKIP_TRACING: "PT0S",
    Step.HOME_VISIT: "P7D",
    Step.LEGAL_NOTICE: "P10D",
    Step.FORMAL_DEMAND: "PT0S",  # the demand's own term is the wait; see demand_term
    Step.LEGAL_OPINION: "PT0S",
    Step.AUTHORIZATION: "PT0S",
}


@dataclass
class StepSetting:
    step: Step
    enabled: bool = True
    wait_after: str = "PT0S"


def _default_steps() -> list[StepSetting]:
    return [StepSetting(step=s, enabled=True, wait_after=DEFAULT_WAITS[s]) for s in STEP_ORDER]


@dataclass
class Strategy:
    steps: list[StepSetting] = field(default_factory=_default_steps)
    # pre-due reminders: how long before the due date the first one goes out (then one on the day)
    pre_due_reminder_lead: str = "P3D"
    call_attempts: int = 3
    call_retry_interval: str = "P1D"
    # how long an operator has to record the outcome of a queued call before it counts as unanswered
    call_outcome_timeout: str = "P2D"
    trace_timeout: str = "P14D"
    visit_outcome_timeout: str = "P21D"
    opinion_timeout: str = "P30D"
    # reminders to the lawyer (one every opinion_timeout) before the request goes to the admin's
    # list of overdue opinions and the reminders stop
    opinion_reminders: int = 3
    # the formal demand's term to pay; art. 1454 c.c.: not shorter than 15 days unless agreed
    # otherwise. A duration like the other timings, so a demo can run it in seconds.
    demand_term: str = "P15D"
    authorization_reminder_interval: str = "P7D"
    authorization_timeout: str = "P60D"
    # a promise counts as broken this long after its date when the promised amount has not arrived
    promise_grace: str = "P2D"
    letter_texts: dict[str, str] = field(default_factory=dict)
    # Out of court the practice collects the principal and recorded costs unless the creditor
    # claims late interest too; from the authorisation of legal action interest is always claimed.
    claim_interest: bool = False
    # how payments are allocated (domain.allocation): "law" (art. 1193-1194 c.c.: the invoice
    # the debtor designates, else the due, then the oldest invoice, each one's costs and interest
    # before its principal), or, agreed in the mandate, "costs_interest_principal" (all costs,
    # then all interest, then principal from the oldest) or "principal_first" (art. 1194: the
    # creditor's consent)
    allocation: str = "law"
    # the creditor's version of this strategy (strategy_versions, PUT /creditors/{id}/strategy
    # makes a new one); 0: the defaults, never saved. A practice records the version it runs.
    version: int = 0
    # deals: what the creditor accepts without being asked, and how plans are followed
    plan_bounds: PlanBounds = field(default_factory=PlanBounds)
    plan_reminder_lead: str = "P3D"  # a reminder this long before each instalment
    plan_grace: str = "P5D"  # an instalment is missed this long after its date
    proposal_reminder_interval: str = "P3D"  # the creditor is reminded of a proposal to decide
    proposal_timeout: str = "P14D"  # unanswered this long, the proposal is refused
    # how a rejected dispute moves the dates of the promise or deal it suspended (domain/pauses):
    # "length" by the days the dispute lasted, "none" not at all
    dispute_shift: str = "length"
    # a practice with nothing left to do (a lost opposition, a negative pignoramento, court steps
    # ended): the creditor is reminded this often to close it as uncollectable or keep it under
    # watch, and a watched debtor is re-checked this often (about six months)
    end_decision_reminder_interval: str = "P14D"
    dispute_reminder_interval: str = "P7D"  # the creditor is reminded of an open dispute
    watch_interval: str = "P182D"
    # how long the link to the debtor's own page (api/debtor) in a letter, e-mail or SMS works
    debtor_link_validity: str = "P90D"

    def setting(self, step: Step) -> StepSetting:
        for s in self.steps:
            if s.step == step:
                return s
        return StepSetting(step=step, enabled=False)

    def enabled(self, step: Step) -> bool:
        return self.setting(step).enabled

    def wait_after(self, step: Step) -> timedelta:
        return parse_duration(self.setting(step).wait_after)

    def duration(self, name: str) -> timedelta:
        value = getattr(self, name)
        assert isinstance(value, str)
        return parse_duration(value)


DURATION_FIELDS = (
    "pre_due_reminder_lead",
    "debtor_link_validity",
    "demand_term",
    "call_retry_interval",
    "call_outcome_timeout",
    "trace_timeout",
    "visit_outcome_timeout",
    "opinion_timeout",
    "authorization_reminder_interval",
    "authorization_timeout",
    "promise_grace",
    "plan_reminder_lead",
    "plan_grace",
    "proposal_reminder_interval",
    "proposal_timeout",
    "end_decision_reminder_interval",
    "watch_interval",
    "dispute_reminder_interval",
)


MUST_BE_POSITIVE = tuple(
    f
    for f in DURATION_FIELDS
    if f not in ("pre_due_reminder_lead", "promise_grace", "plan_reminder_lead", "plan_grace")
)


class StrategyError(ValueError):
    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field_path = field_path
        self.message = message


# The order the law binds, whatever order the creditor sets the rest in: (step, step that must
# come after it, why). Checked among the enabled steps only ("where both run"). The order of the
# other steps is the creditor's (seed 000: some agencies send the formal demand before the phone
# phase).
ORDER_RULES: tuple[tuple[Step, Step, str], ...] = (
    *(
        (
            step,
            Step.AUTHORIZATION,
            "the creditor's authorisation comes last: nothing judicial starts without it, and "
            "the court steps start from it",
        )
        for step in STEP_ORDER
        if step is not Step.AUTHORIZATION
    ),
)


def order_error(steps: list[StepSetting]) -> str | None:
    """The first rule of ORDER_RULES the enabled steps break, said in words; None if none.
    Reminders before the due date are first too: the workflow runs them before collection."""
    at = {Step(s.step): i for i, s in enumerate(steps) if s.enabled}
    for first, then, why in ORDER_RULES:
        if first in at and then in at and at[first] > at[then]:
            return f"{first.value} must come before {then.value}: {why}"
    if Step.PRE_DUE_REMINDERS in at and at[Step.PRE_DUE_REMINDERS] != min(at.values()):
        return "pre_due_reminders must be the first step: they run before the due date"
    return None


def _complete(given: list[StepSetting]) -> list[StepSetting]:
    """Every step, the ones the creditor named in its order. The named steps fill, in the
    creditor's order, the places STEP_ORDER gives those same steps; the steps left out keep
    their own place with their defaults. A list in the canonical order (or with steps left out)
    comes back in STEP_ORDER; [formal_demand, phone_phase] swaps just those two."""
    named = {s.step: s for s in given}
    queue = iter(given)
    return [
        next(queue)
        if step in named
        else StepSetting(step=step, enabled=True, wait_after=DEFAULT_WAITS[step])
        for step in STEP_ORDER
    ]


# Practices live for years, but no single wait in a strategy should outlast a limitation period.
LONGEST_WAIT = timedelta(days=3650)


def _bounded(wait: timedelta) -> timedelta:
    if wait > LONGEST_WAIT:
        raise ValueError("must be at most ten years (P3650D)")
    return wait


def texts_by_language(letter_texts: dict[str, str], kind: str) -> dict[str, str]:
    """A creditor's own texts of one letter per language: `letter_texts["formal_demand:de"]` is
    the German one; the key without a language (`"formal_demand"`) is the Italian one, as it
    always was. {"it": ..., "de": ...}."""
    found = {
        key.partition(":")[2]: text
        for key, text in letter_texts.items()
        if key.partition(":")[0] == kind and ":" in key
    }
    if kind in letter_texts:
        found.setdefault("it", letter_texts[kind])
    return found


def validate_strategy(strategy: Strategy) -> Strategy:
    """Checks a strategy and returns it with its step list complete, in the creditor's order.

    Steps left out of the list keep their defaults and their place in STEP_ORDER (`_complete`);
    a step named twice is an error; an order against the law (ORDER_RULES) is an error on
    `steps`.
    """
    seen: dict[Step, StepSetting] = {}
    for i, s in enumerate(strategy.steps):
        try:
            step = Step(s.step)
        except ValueError as exc:
            raise StrategyError(
                f"steps.{i}.step", f"unknown step {s.step!r}; known: {', '.join(STEP_ORDER)}"
            ) from exc
        if step in seen:
            raise StrategyError(f"steps.{i}.step", f"step {step.value!r} appears twice")
        if step in MANDATORY_STEPS and not s.enabled:
            raise StrategyError(
                f"steps.{i}.enabled",
                f"{step.value} cannot be disabled: nothing judicial starts "
                "without the creditor's authorisation",
            )
        try:
            _bounded(parse_duration(s.wait_after))
        except ValueError as exc:
            raise StrategyError(f"steps.{i}.wait_after", str(exc)) from exc
        seen[step] = replace(s, step=step)
    for name in DURATION_FIELDS:
        try:
            _bounded(parse_duration(getattr(strategy, name)))
        except ValueError as exc:
            raise StrategyError(name, str(exc)) from exc
    # a zero wait for a person's answer would expire at once, or remind them in a busy loop
    for name in MUST_BE_POSITIVE:
        if parse_duration(getattr(strategy, name)) <= timedelta(0):
            raise StrategyError(name, "must be longer than zero")
    if not 1 <= strategy.call_attempts <= 20:
        raise StrategyError("call_attempts", "must be between 1 and 20")
    if not 0 <= strategy.opinion_reminders <= 20:
        raise StrategyError("opinion_reminders", "must be between 0 and 20")
    if not timedelta(0) < parse_duration(strategy.demand_term) <= timedelta(days=365):
        raise StrategyError("demand_term", "must be longer than zero and at most 365 days")
    if strategy.allocation not in ALLOCATIONS:
        raise StrategyError("allocation", f"must be one of {', '.join(ALLOCATIONS)}")
    if strategy.dispute_shift not in SHIFT_RULES:
        raise StrategyError("dispute_shift", 'must be "length" or "none"')
    for key in strategy.letter_texts:
        kind, _, language = key.partition(":")
        if kind not in LETTER_KINDS:
            raise StrategyError(
                f"letter_texts.{key}", f"unknown letter; known: {', '.join(LETTER_KINDS)}"
            )
        if ":" in key and language not in LETTER_LANGUAGES:
            raise StrategyError(
                f"letter_texts.{key}",
                f"unknown language; letters are written in {', '.join(LETTER_LANGUAGES)}",
            )
    steps = _complete(list(seen.values()))
    broken = order_error(steps)
    if broken is not None:
        raise StrategyError("steps", broken)
    return replace(strategy, steps=steps, letter_texts=dict(strategy.letter_texts))
