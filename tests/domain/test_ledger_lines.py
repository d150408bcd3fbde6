"""domain.ledger without a server: the typed lines the apply_ functions put on the events that
move money (and on no other event), the state and the record activity's input carrying them
through the data converter, and the reading of old events the backfill uses
(db/ledger_backfill.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.contrib.pydantic import pydantic_data_converter

from db.ledger_backfill import entries_from_events
from domain import ledger
from domain.activity_io import RecordInput
from domain.actor import ActorKind
from domain.ledger import LedgerEntry, LedgerKind, LedgerLine
from domain.practice import (
    CostCmd,
    DisputeCmd,
    DisputeResolutionCmd,
    EndDecision,
    EndDecisionCmd,
    Outcome,
    PaymentCmd,
    PracticeSnapshot,
    Status,
)
from domain.practice_state import Latest, PracticeState, snapshot
from domain.practice_state import commands as a
from domain.practice_state.state import Event
from tests.domain.test_practice_state import CLAIM, NOW, TODAY, practice


def lines(events: list[Event]) -> list[tuple[str, LedgerLine | None]]:
    return [(e.kind, e.line) for e in events]


def test_a_payment_s_event_carries_its_line_and_the_closure_none() -> None:
    state = practice()
    first = PaymentCmd(25040, TODAY - timedelta(days=1), "B-1", invoice_number="FT-1")
    a.book_payment(state, first)
    assert lines(a.apply_payment(state, first, NOW)) == [
        ("payment", LedgerLine(LedgerKind.PAYMENT, first.paid_on, 25040, "B-1", "FT-1"))
    ]
    rest = PaymentCmd(100000, TODAY, "B-2")
    a.book_payment(state, rest)
    state.money.overpaid = 500
    assert lines(a.apply_payment(state, rest, NOW)) == [
        ("payment", ledger.payment(TODAY, 100000, "B-2")),
        ("overpaid", None),
        ("closed", None),
    ]


def test_a_cost_s_event_carries_its_line() -> None:
    state = practice()
    cost = CostCmd(5000, TODAY - timedelta(days=3), kind="collection")
    a.book_cost(state, cost)
    [(kind, line)] = lines(a.apply_cost(state, cost, NOW))
    assert kind == "cost"
    assert line == LedgerLine(
        LedgerKind.COST, TODAY - timedelta(days=3), 5000, cost_kind="collection"
    )


def test_a_reduction_is_dated_as_booked_even_past_midnight() -> None:
    """Booked at 23:59 in Rome, its events written after midnight (the interest recomputed in
    between): the line keeps the day the claim was reduced, the one the interest used."""
    state = practice()
    a.apply_dispute(state, DisputeCmd("d-1"), NOW, Latest())
    part = DisputeResolutionCmd("d-1", upheld=True, reduce_by_cents=25040)
    booked = datetime(2026, 12, 7, 22, 59, tzinfo=UTC)  # 23:59 in Rome
    assert a.book_dispute_resolution(state, part, booked)
    events = a.apply_dispute_resolution(state, part, booked + timedelta(minutes=2), reduced=True)
    assert [line for _, line in lines(events) if line] == [
        ledger.reduction(date(2026, 12, 7), 25040)
    ]
    assert events[-1].kind == "dispute_resolved" and events[-1].line is not None


def test_a_dispute_rejected_or_upheld_in_full_moves_no_money() -> None:
    for cmd in (
        DisputeResolutionCmd("d-1", upheld=False),
        DisputeResolutionCmd("d-1", upheld=True, reduce_by_cents=CLAIM),
    ):
        state = practice()
        a.apply_dispute(state, DisputeCmd("d-1"), NOW, Latest())
        reduced = a.book_dispute_resolution(state, cmd, NOW)
        assert all(e.line is None for e in a.apply_dispute_resolution(state, cmd, NOW, reduced))


def test_a_write_off_and_a_settlement_carry_what_was_left() -> None:
    state = practice()
    events = a.apply_end_decision(state, EndDecisionCmd(EndDecision.WRITE_OFF), NOW)
    assert lines(events) == [
        ("end_decision", ledger.write_off(TODAY, CLAIM)),
        ("closed", None),
    ]
    assert (state.money.written_off, state.outcome) == (CLAIM, Outcome.UNCOLLECTABLE)
    watched = practice()
    events = a.apply_end_decision(watched, EndDecisionCmd(EndDecision.WATCH), NOW)
    assert lines(events) == [("end_decision", None)]

    settled = practice()
    settled.money.balance = 20000  # what is left once the settlement's sum was paid
    events = a.settle(settled, NOW)
    assert lines(events) == [("closed", ledger.write_off(TODAY, 20000))]
    assert (settled.status, settled.outcome) == (Status.CLOSED, Outcome.SETTLED)
    assert (settled.money.written_off, settled.money.balance) == (20000, 0)
    assert snapshot(settled).written_off_cents == 20000
    nothing_left = practice()
    nothing_left.money.balance = 0
    assert lines(a.settle(nothing_left, NOW)) == [("closed", None)]


def test_the_state_and_the_record_input_carry_the_lines_through_the_converter() -> None:
    state = practice()
    entry = LedgerEntry(3, NOW, ledger.payment(TODAY, 100, "B-1", "FT-1"), ActorKind.DEBTOR)
    state.timeline.ledger.append(entry)
    converter = pydantic_data_converter.payload_converter
    [back] = converter.from_payloads(converter.to_payloads([state]), [PracticeState])
    assert back == state and back.timeline.ledger[0].at.tzinfo is not None
    record = RecordInput("p-1", [], snapshot(state), [entry])
    [again] = converter.from_payloads(converter.to_payloads([record]), [RecordInput])
    assert again == record


def test_a_record_input_of_a_history_before_the_ledger_has_no_lines() -> None:
    """The input a recorded history holds has no `ledger`: it decodes with none."""
    converter = pydantic_data_converter.payload_converter
    old = converter.to_payloads(
        [{"practice_id": "p-1", "events": [], "snapshot": snapshot(practice())}]
    )
    [decoded] = converter.from_payloads(old, [RecordInput])
    assert decoded.ledger == [] and isinstance(decoded.snapshot, PracticeSnapshot)


def event(
    seq: int, kind: str, at: datetime, actor: str | None = None, /, **data: Any
) -> dict[str, Any]:
    return {"seq": seq, "kind": kind, "at": at, "data": data, "actor_kind": actor}


def test_the_backfill_reads_old_events_as_the_statement_did() -> None:
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 2 March in Rome
    entries = entries_from_events(
        [
            event(1, "handed_over", NOW, "user"),
            event(
                2, "payment", NOW, "debtor", amount_cents=1000, paid_on="2026-02-01", reference="R"
            ),
            event(3, "payment", NOW, None, amount_cents="12", paid_on="2026-02-01"),  # malformed
            event(4, "cost", NOW, "user", amount_cents=500, incurred_on="2026-02-02", kind="legal"),
            event(
                5, "cost", NOW, "user", amount_cents=500, incurred_on="2026-02-02", cost_kind="x"
            ),
            event(6, "dispute_resolved", late, "user", upheld=True, reduce_by_cents=300),
            event(
                7,
                "dispute_resolved",
                NOW,
                "user",
                upheld=True,
                reduce_by_cents=200,
                resolved_on="2026-03-05",
            ),
            event(8, "dispute_resolved", NOW, "user", upheld=False),
            event(9, "closed", late, None, outcome="settled"),
            event(10, "closed", NOW, None, outcome="settled"),  # the first closure stands
        ],
        {"written_off_cents": 4000},
    )
    assert [(e.seq, e.line, e.actor_kind) for e in entries] == [
        (2, ledger.payment(date(2026, 2, 1), 1000, "R"), ActorKind.DEBTOR),
        (4, ledger.cost(date(2026, 2, 2), 500, "legal"), ActorKind.USER),
        (6, ledger.reduction(date(2026, 3, 2), 300), ActorKind.USER),
        (7, ledger.reduction(date(2026, 3, 5), 200), ActorKind.USER),
        (9, ledger.write_off(date(2026, 3, 2), 4000), None),
    ]
    assert (
        entries_from_events(
            [event(1, "closed", NOW, None, outcome="paid")], {"written_off_cents": 0}
        )
        == []
    )
