"""The strategy lab's simulator, its pure half (issue 15): the synthetic portfolio and the debtor
behaviour model, and what a debtor does at a contact.

Every draw comes from a generator seeded by (seed, practice, contact number), never from a
shared one: what a debtor does at its third contact is the same whatever order the worker
happened to run the practices in, and the same for both strategies compared (the same debtors;
a strategy that reaches them sooner or more often sees more of their draws).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from domain.practice import DebtorKind, Invoice


class Move(StrEnum):
    """What a debtor does when contacted."""

    NOTHING = "nothing"  # a letter read and ignored, a call refused
    UNREACHED = "unreached"  # a call nobody answered, nobody at home
    PAY = "pay"  # pays the balance that day
    PROMISE = "promise"  # promises to pay the balance by a date
    PLAN = "plan"  # takes a repayment plan within the creditor's bounds
    DISPUTE = "dispute"  # disputes the claim


@dataclass(frozen=True)
class Behaviour:
    """One segment's debtors: chances at each contact, each between 0 and 1."""

    reach: float = 0.5  # a call is answered, the debtor is at home for a visit
    pay: float = 0.05  # pays in full (a letter or reminder read; a call or visit reached)
    promise: float = 0.15  # reached: promises to pay the balance in `promise_days`
    keep: float = 0.6  # a promise is kept (paid on its date)
    plan: float = 0.05  # reached: takes a plan of `plan_instalments` monthly instalments
    plan_keep: float = 0.85  # each instalment paid on its date
    dispute: float = 0.01  # disputes the claim at a contact
    upheld: float = 0.3  # the creditor upholds a dispute (the practice closes)
    promise_days: int = 7
    plan_instalments: int = 6
    dispute_days: int = 10  # the creditor decides a dispute this many days after it opened


@dataclass(frozen=True)
class UnitCosts:
    """The agency's cost of each contact: cents and operator minutes."""

    letter_cents: int = 150  # printed, posted
    email_cents: int = 1  # a letter's e-mail copy
    reminder_cents: int = 5  # an e-mail and an SMS
    call_cents: int = 120
    call_minutes: int = 4
    visit_cents: int = 3500
    visit_minutes: int = 90


@dataclass(frozen=True)
class Model:
    """The simulator's inputs besides the strategies and the seed (the --model file)."""

    # segments by debtor kind ("consumer", "business"); a kind left out uses `default`
    segments: dict[str, Behaviour] = field(default_factory=dict)
    default: Behaviour = field(default_factory=Behaviour)
    costs: UnitCosts = field(default_factory=UnitCosts)
    business_share: float = 0.3  # of the portfolio's debtors
    min_cents: int = 5_000
    max_cents: int = 500_000
    horizon_days: int = 180

    def behaviour(self, kind: DebtorKind) -> Behaviour:
        return self.segments.get(kind.value, self.default)


class ModelError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


def _build(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ModelError(where, "must be an object")
    known = {f.name: f for f in fields(cls)}
    for key in data:
        if key not in known:
            raise ModelError(f"{where}.{key}" if where else key, "unknown field")
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{where}.{key}" if where else key
        kind = type(getattr(cls(), key))
        if kind is float:
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ModelError(name, "must be a chance between 0 and 1")
            value = float(value)
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ModelError(name, "must be a whole number, 0 or more")
        values[key] = value
    return cls(**values)


def parse_model(data: Any) -> Model:
    """The model from its JSON form; a ModelError names the first field that is wrong."""
    if not isinstance(data, dict):
        raise ModelError("model", "must be an object")
    rest = dict(data)
    segments_data = rest.pop("segments", {})
    default = _build(Behaviour, rest.pop("default", {}), "default")
    costs = _build(UnitCosts, rest.pop("costs", {}), "costs")
    if not isinstance(segments_data, dict):
        raise ModelError("segments", "must be an object")
    segments: dict[str, Behaviour] = {}
    for kind, values in segments_data.items():
        if kind not in {k.value for k in DebtorKind}:
            raise ModelError(f"segments.{kind}", "must be consumer or business")
        segments[kind] = _build(Behaviour, values, f"segments.{kind}")
    top = _build(_Top, rest, "")
    if top.min_cents < 100 or top.max_cents < top.min_cents:
        raise ModelError("max_cents", "must be at least min_cents, which is at least 100")
    if not 1 <= top.horizon_days <= 730:
        raise ModelError("horizon_days", "must be between 1 and 730")
    return Model(
        segments=segments,
        default=default,
        costs=costs,
        business_share=top.business_share,
        min_cents=top.min_cents,
        max_cents=top.max_cents,
        horizon_days=top.horizon_days,
    )


@dataclass(frozen=True)
class _Top:
    business_share: float = 0.3
    min_cents: int = 5_000
    max_cents: int = 500_000
    horizon_days: int = 180


def load_model(text: str) -> Model:
    try:
        return parse_model(json.loads(text))
    except json.JSONDecodeError as error:
        raise ModelError("model", f"not JSON ({error.msg} at line {error.lineno})") from None


# --- the portfolio --------------------------------------------------------------------------


@dataclass(frozen=True)
class Debtor:
    """One synthetic practice: its number in the portfolio, the debtor's kind, its invoices."""

    number: int
    kind: DebtorKind
    invoices: tuple[Invoice, ...]

    @property
    def claim_cents(self) -> int:
        return sum(i.amount_cents for i in self.invoices)


def rng(seed: int, number: int, draw: int | str) -> random.Random:
    """The generator of one practice's one draw: a string seed hashes the same in every process
    (sha512 inside `random`), unlike `hash()`."""
    return random.Random(f"{seed}:{number}:{draw}")


def portfolio(model: Model, size: int, seed: int, today: date) -> list[Debtor]:
    """`size` practices handed over `today`: kinds by `business_share`, one to three invoices
    due 30 to 120 days ago, amounts between the model's bounds (log-uniform: many small claims,
    a few large ones)."""
    debtors = []
    for number in range(size):
        r = rng(seed, number, "portfolio")
        kind = DebtorKind.BUSINESS if r.random() < model.business_share else DebtorKind.CONSUMER
        invoices = []
        for n in range(r.randint(1, 3)):
            low, high = model.min_cents, model.max_cents
            amount = int(low * (high / low) ** r.random())
            due = today - timedelta(days=r.randint(30, 120))
            invoices.append(
                Invoice(
                    number=f"SIM-{number}-{n + 1}",
                    issue_date=due - timedelta(days=30),
                    due_date=due,
                    amount_cents=max(amount, 100),
                )
            )
        debtors.append(Debtor(number, kind, tuple(invoices)))
    return debtors


# --- a contact --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What the debtor does at one contact, and what follows from it later."""

    move: Move
    keeps: bool = False  # a promise: kept on its date
    instalments_kept: tuple[bool, ...] = ()  # a plan: each instalment paid on its date
    upheld: bool = False  # a dispute: the creditor's decision


def answer(
    behaviour: Behaviour, seed: int, number: int, contact: int, conversation: bool
) -> Answer:
    """The debtor's answer at its `contact`-th contact. `conversation`: a call or a visit, which
    may not reach the debtor and where a promise or a plan can be agreed; otherwise a letter
    or a reminder, which the debtor may pay or dispute."""
    r = rng(seed, number, contact)
    if conversation and r.random() >= behaviour.reach:
        return Answer(Move.UNREACHED)
    u = r.random()
    keeps = r.random() < behaviour.keep
    kept = tuple(r.random() < behaviour.plan_keep for _ in range(behaviour.plan_instalments))
    upheld = r.random() < behaviour.upheld
    chances: list[tuple[Move, float]] = [
        (Move.PAY, behaviour.pay),
        (Move.DISPUTE, behaviour.dispute),
    ]
    if conversation:
        chances += [(Move.PROMISE, behaviour.promise), (Move.PLAN, behaviour.plan)]
    for move, chance in chances:
        if u < chance:
            return Answer(move, keeps=keeps, instalments_kept=kept, upheld=upheld)
        u -= chance
    return Answer(Move.NOTHING)
