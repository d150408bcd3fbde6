"""domain.practice_state without a Temporal server: every update's check refuses with the kind,
message and field the workflow's validators answered with (the API turns them into 409 and 422),
and accepts what is allowed; the apply functions change the state and return the events a
handler used to write; the state survives the project's data converter whole.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.activity_io import PaymentLine, ReductionLine
from domain.consumer_credit import APPLIES_FROM
from domain.plans import (
    ClosureCmd,
    ClosureReason,
    Instalment,
    PlanBounds,
    PlanProgress,
    ProposalCmd,
    ProposalDecisionCmd,
    ProposalKind,
)
from domain.practice import (
    AuthorizationCmd,
    CallOutcome,
    CallOutcomeCmd,
    Channels,
    ContactInvalidCmd,
    ContactsCmd,
    CostCmd,
    DebtAdviceNoticeCmd,
    DebtorKind,
    DisputeCmd,
    DisputeResolutionCmd,
    EndDecision,
    EndDecisionCmd,
    ForbearanceCmd,
    Invoice,
    LegalOpinionCmd,
    LetterReturnedCmd,
    Outcome,
    PaymentCmd,
    PracticeInput,
    PromiseCmd,
    RejectionType,
    Status,
    StopJudicialCmd,
    TraceResultCmd,
    VisitOutcome,
    VisitOutcomeCmd,
    WithdrawalCmd,
)
from domain.practice_state import Awaiting, DealStage, Latest, PracticeState, Refused, snapshot
from domain.practice_state import checks as c
from domain.practice_state import commands as a
from domain.strategy import Strategy

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CLAIM = 125040
CLOSED, CONFLICT, INVALID = RejectionType.CLOSED, RejectionType.CONFLICT, RejectionType.INVALID


def practice(
    *, consumer_credit: bool = False, claim_interest: bool = False, **strategy: object
) -> PracticeState:
    due = TODAY - timedelta(days=60)
    inp = PracticeInput(
        practice_id="p-1",
        creditor_id="c-1",
        debtor_kind=DebtorKind.CONSUMER,
        province="MI",
        invoices=[Invoice("FT-1", due - timedelta(days=30), due, CLAIM)],
        strategy=Strategy(claim_interest=claim_interest, **strategy),  # type: ignore[arg-type]
        channels=Channels(email=True, phone=True),
        consumer_credit=consumer_credit,
    )
    return PracticeState.start(inp)


def refused(check: object, state: PracticeState, cmd: object) -> Refused:
    with pytest.raises(Refused) as err:
        check(state, cmd, TODAY)  # type: ignore[operator]
    return err.value


def closed(state: PracticeState) -> PracticeState:
    a.close(state, Outcome.WITHDRAWN, "Withdrawn by the creditor")
    return state


def awaiting(what: Awaiting) -> PracticeState:
    state = practice()
    state.wait.awaiting = what
    return state


def disputed() -> PracticeState:
    state = practice()
    a.apply_dispute(state, DisputeCmd("d-1"), NOW, Latest())
    return state


PLAN = ProposalCmd(
    "pr-1",
    ProposalKind.PLAN,
    instalments=[
        Instalment(TODAY + timedelta(days=30), CLAIM // 2),
        Instalment(TODAY + timedelta(days=60), CLAIM - CLAIM // 2),
    ],
)


def with_plan() -> PracticeState:
    state = practice()
    a.apply_proposal(state, PLAN, NOW)
    return state


# --- every check refuses a closed practice as the validators did ----------------------------

ALL_CHECKS: list[tuple[object, object]] = [
    (c.check_payment, PaymentCmd(100, TODAY, "B-1")),
    (c.check_promise, PromiseCmd(TODAY, 100)),
    (c.check_call_outcome, CallOutcomeCmd(CallOutcome.REACHED)),
    (c.check_visit_outcome, VisitOutcomeCmd(VisitOutcome.MET)),
    (c.check_trace_result, TraceResultCmd(found=False)),
    (c.check_dispute, DisputeCmd("d-1")),
    (c.check_dispute_resolution, DisputeResolutionCmd("d-1", upheld=False)),
    (c.check_legal_opinion, LegalOpinionCmd(True)),
    (c.check_authorization, AuthorizationCmd(True)),
    (c.check_forbearance, ForbearanceCmd("refinancing", TODAY)),
    (c.check_debt_advice_notice, DebtAdviceNoticeCmd()),
    (c.check_withdrawal, WithdrawalCmd()),
    (c.check_contacts, ContactsCmd(["email"])),
    (c.check_cost, CostCmd(100, TODAY)),
    (c.check_stop_judicial, StopJudicialCmd()),
    (c.check_end_decision, EndDecisionCmd(EndDecision.WATCH)),
    (c.check_proposal, PLAN),
    (c.check_proposal_decision, ProposalDecisionCmd("pr-1", True)),
    (c.check_closure, ClosureCmd(ClosureReason.DECEASED)),
    (c.check_contact_invalid, ContactInvalidCmd("email", "hard_bounce")),
    (c.check_letter_returned, LetterReturnedCmd()),
]


@pytest.mark.parametrize(("check", "cmd"), ALL_CHECKS)
def test_a_closed_practice_refuses_every_command(check: object, cmd: object) -> None:
    err = refused(check, closed(practice()), cmd)
    assert (err.kind, err.message, err.field) == (
        CLOSED,
        "the practice is closed (withdrawn)",
        None,
    )


@pytest.mark.parametrize(
    ("check", "cmd", "what", "label"),
    [
        (c.check_call_outcome, CallOutcomeCmd(CallOutcome.REACHED), Awaiting.CALL, "call outcome"),
        (c.check_visit_outcome, VisitOutcomeCmd(VisitOutcome.MET), Awaiting.VISIT, "visit outcome"),
        (c.check_trace_result, TraceResultCmd(True), Awaiting.TRACE, "skip tracing result"),
        (c.check_legal_opinion, LegalOpinionCmd(True), Awaiting.OPINION, "lawyer's opinion"),
        (c.check_authorization, AuthorizationCmd(False), Awaiting.AUTHORIZATION, "authorisation"),
    ],
)
def test_an_answer_is_taken_only_while_it_is_awaited(
    check: object, cmd: object, what: Awaiting, label: str
) -> None:
    err = refused(check, practice(), cmd)
    assert (err.kind, err.message) == (CONFLICT, f"no {label} is expected now")
    other = awaiting(Awaiting.END_DECISION)
    assert refused(check, other, cmd).kind == CONFLICT
    check(awaiting(what), cmd, TODAY)  # type: ignore[operator]


# --- payments and costs ---------------------------------------------------------------------


def test_payment_checks() -> None:
    state = practice()
    err = refused(c.check_payment, state, PaymentCmd(0, TODAY, "B-1"))
    assert (err.kind, err.message, err.field) == (INVALID, "amount must be positive", "amount")
    err = refused(c.check_payment, state, PaymentCmd(CLAIM + 1, TODAY, "B-1"))
    assert (err.kind, err.field) == (INVALID, "amount")
    assert err.message == "amount exceeds the balance of € 1.250,40"
    c.check_payment(state, PaymentCmd(CLAIM, TODAY, "B-1"), TODAY)
    # with interest claimed the debtor may pay above the last known balance
    c.check_payment(practice(claim_interest=True), PaymentCmd(CLAIM + 1, TODAY, "B-1"), TODAY)
    a.book_payment(state, PaymentCmd(100, TODAY, "B-1"))
    err = refused(c.check_payment, state, PaymentCmd(100, TODAY, "B-1"))
    assert (err.kind, err.message) == (CONFLICT, "a payment with this reference is recorded")


def test_a_payment_books_the_money_then_closes_when_nothing_is_left() -> None:
    state = practice()
    a.apply_promise(state, PromiseCmd(TODAY + timedelta(days=5), 50000), NOW)
    cmd = PaymentCmd(25040, TODAY, "B-1", invoice_number="FT-1")
    assert a.book_payment(state, cmd) is False  # no deal to tell
    assert state.money.payments == [PaymentLine(TODAY, 25040, "B-1", "FT-1")]
    assert (state.money.balance, state.money.paid, state.promise.paid_toward) == (
        100000,
        25040,
        25040,
    )
    events = a.apply_payment(state, cmd, NOW)
    assert [e.kind for e in events] == ["payment"]
    assert events[0].summary == (
        f"Payment of € 250,40 received on {TODAY.isoformat()}; balance € 1.000,00"
    )
    assert events[0].data["invoice_number"] == "FT-1" and events[0].data["balance_cents"] == 100000
    rest = PaymentCmd(100000, TODAY, "B-2")
    a.book_payment(state, rest)
    state.money.overpaid = 500  # as a statement with interest would say
    events = a.apply_payment(state, rest, NOW)
    assert [e.kind for e in events] == ["payment", "overpaid", "closed"]
    assert (state.status, state.outcome, state.promise.view) == (Status.CLOSED, Outcome.PAID, None)


def test_a_payment_toward_a_plan_in_force_is_counted_for_it() -> None:
    state = with_plan()
    assert state.deal.stage == DealStage.ACTIVE
    assert a.book_payment(state, PaymentCmd(1000, TODAY, "B-1")) is True
    assert state.deal.paid_toward == 1000


def test_cost_checks_and_booking() -> None:
    state = practice()
    err = refused(c.check_cost, state, CostCmd(0, TODAY))
    assert (err.kind, err.message, err.field) == (INVALID, "amount must be positive", "amount")
    err = refused(c.check_cost, state, CostCmd(100, TODAY + timedelta(days=1)))
    assert (err.message, err.field) == ("the cost date is in the future", "incurred_on")
    for kind in ("travel", "flat_compensation_231"):  # the compensation is computed, not recorded
        err = refused(c.check_cost, state, CostCmd(100, TODAY, kind=kind))
        assert (err.message, err.field) == ('kind is "legal" or "collection"', "kind")
    cost = CostCmd(5000, TODAY, kind="collection")
    c.check_cost(state, cost, TODAY)
    a.book_cost(state, cost)
    [event] = a.apply_cost(state, cost, NOW)
    assert state.money.balance == CLAIM + 5000 and state.money.costs_cents == 5000
    assert event.kind == "cost" and event.data["cost_kind"] == "collection"


# --- promises -------------------------------------------------------------------------------


def test_promise_checks() -> None:
    state = practice()
    err = refused(c.check_promise, state, PromiseCmd(TODAY - timedelta(days=1), 100))
    assert (err.kind, err.message, err.field) == (
        INVALID,
        "the promised date is in the past",
        "promised_date",
    )
    err = refused(c.check_promise, state, PromiseCmd(TODAY, CLAIM + 1))
    assert (err.field, err.message) == (
        "amount",
        "the promised amount must be between 0.01 and the balance € 1.250,40",
    )
    err = refused(c.check_promise, disputed(), PromiseCmd(TODAY, 100))
    assert (err.kind, err.message) == (CONFLICT, "a dispute is open: no promise until resolved")
    assert refused(c.check_promise, with_plan(), PromiseCmd(TODAY, 100)).kind == CONFLICT
    c.check_promise(state, PromiseCmd(TODAY, CLAIM), TODAY)


def test_a_promise_on_a_call_names_the_call_fields() -> None:
    state = awaiting(Awaiting.CALL)
    err = refused(c.check_call_outcome, state, CallOutcomeCmd(CallOutcome.PROMISE))
    assert (err.message, err.field) == ("a promise needs a date", "promised_date")
    no_amount = CallOutcomeCmd(CallOutcome.PROMISE, promised_date=TODAY)
    err = refused(c.check_call_outcome, state, no_amount)
    assert (err.message, err.field) == ("a promise needs an amount", "promised_amount")
    visit = VisitOutcomeCmd(VisitOutcome.PROMISE, TODAY, CLAIM + 1)
    assert refused(c.check_visit_outcome, awaiting(Awaiting.VISIT), visit).field == (
        "promised_amount"
    )


def test_a_promise_pauses_the_escalation_and_a_newer_one_replaces_it() -> None:
    state = practice()
    [event] = a.apply_promise(state, PromiseCmd(TODAY + timedelta(days=9), 1000, "debtor"), NOW)
    assert state.status == Status.PAUSED_PROMISE and state.promise.version == 1
    assert event.kind == "promise" and event.data["source"] == "debtor"
    a.apply_promise(state, PromiseCmd(TODAY + timedelta(days=3), 2000), NOW)
    assert state.promise.version == 2 and state.promise.view is not None
    assert state.promise.view.amount_cents == 2000


# --- disputes -------------------------------------------------------------------------------


def test_dispute_checks() -> None:
    err = refused(c.check_dispute, disputed(), DisputeCmd("d-2"))
    assert (err.kind, err.message) == (CONFLICT, "a dispute is already open")
    call = CallOutcomeCmd(CallOutcome.DISPUTE)
    state = disputed()
    state.wait.awaiting = Awaiting.CALL
    assert refused(c.check_call_outcome, state, call).message == "a dispute is already open"
    err = refused(c.check_dispute_resolution, practice(), DisputeResolutionCmd("d-1", True))
    assert (err.kind, err.message) == (CONFLICT, "no dispute is open")
    err = refused(c.check_dispute_resolution, disputed(), DisputeResolutionCmd("d-9", True))
    assert err.message == "the open dispute is d-1"
    err = refused(c.check_dispute_resolution, disputed(), DisputeResolutionCmd("d-1", False, 10))
    assert (err.kind, err.message, err.field) == (
        INVALID,
        "reduce_by only applies to an upheld dispute",
        "reduce_by",
    )
    err = refused(c.check_dispute_resolution, disputed(), DisputeResolutionCmd("d-1", True, 0))
    assert (err.message, err.field) == ("reduce_by must be positive", "reduce_by")
    c.check_dispute_resolution(disputed(), DisputeResolutionCmd("d-1", True, 10), TODAY)


def test_a_dispute_suspends_a_promise_and_its_rejection_moves_the_promised_date() -> None:
    state = practice()
    promised = TODAY + timedelta(days=10)
    a.apply_promise(state, PromiseCmd(promised, 1000), NOW)
    a.apply_dispute(state, DisputeCmd("d-1"), NOW, Latest())
    assert state.status == Status.PAUSED_DISPUTE and state.promise.view is not None
    resolution = DisputeResolutionCmd("d-1", upheld=False)
    later = NOW + timedelta(days=4)
    assert a.book_dispute_resolution(state, resolution, later) is False
    events = a.apply_dispute_resolution(state, resolution, later, reduced=False)
    assert [e.kind for e in events] == ["dates_moved", "dispute_resolved"]
    assert state.status == Status.PAUSED_PROMISE and state.dispute.open_id is None
    assert state.promise.view.promised_date == promised + timedelta(days=4)


def test_a_dispute_upheld_in_part_reduces_the_claim_and_in_full_closes() -> None:
    state = disputed()
    part = DisputeResolutionCmd("d-1", upheld=True, reduce_by_cents=25040)
    assert a.book_dispute_resolution(state, part, NOW) is True
    assert (state.money.claim, state.money.balance) == (100000, 100000)
    assert state.money.reductions == [ReductionLine(TODAY, 25040)]
    events = a.apply_dispute_resolution(state, part, NOW, reduced=True)
    assert events[-1].data["reduce_by_cents"] == 25040 and state.status == Status.ACTIVE
    state = disputed()
    full = DisputeResolutionCmd("d-1", upheld=True, reduce_by_cents=CLAIM)
    assert a.book_dispute_resolution(state, full, NOW) is False
    events = a.apply_dispute_resolution(state, full, NOW, reduced=False)
    assert [e.kind for e in events] == ["dispute_resolved", "closed"]
    assert state.outcome == Outcome.DISPUTE_UPHELD


def test_a_dispute_raised_on_a_call_is_numbered_and_before_pauses_composed_drops_a_promise() -> (
    None
):
    class Old(Latest):
        def pauses_compose(self) -> bool:
            return False

    state = practice()
    a.apply_promise(state, PromiseCmd(TODAY + timedelta(days=5), 1000), NOW)
    state.wait.awaiting = Awaiting.CALL
    events = a.apply_call_outcome(state, CallOutcomeCmd(CallOutcome.DISPUTE), NOW, Old())
    assert [e.kind for e in events] == ["call_outcome", "dispute_opened"]
    assert state.dispute.open_id == "call-1" and state.promise.view is None
    assert state.pauses.in_charge == Status.ACTIVE


# --- deals ----------------------------------------------------------------------------------


def test_proposal_checks() -> None:
    err = refused(c.check_proposal, disputed(), PLAN)
    assert (err.kind, err.message) == (CONFLICT, "a dispute is open")
    err = refused(c.check_proposal, with_plan(), PLAN)
    assert err.message == "a plan or settlement is already in course"
    short = replace(PLAN, instalments=PLAN.instalments[:1])
    err = refused(c.check_proposal, practice(), short)
    assert (err.kind, err.field) == (INVALID, "instalments")
    err = refused(c.check_proposal_decision, practice(), ProposalDecisionCmd("pr-1", True))
    assert (err.kind, err.message) == (CONFLICT, "no proposal waits for a decision")


def test_a_proposal_outside_the_bounds_waits_for_the_creditor() -> None:
    state = practice(plan_bounds=PlanBounds(max_instalments=1))
    events = a.apply_proposal(state, PLAN, NOW)
    assert [e.kind for e in events] == ["proposal"] and events[0].data["within_bounds"] is False
    assert state.status == Status.PAUSED_PROPOSAL
    assert state.deal.stage == DealStage.AWAITING_APPROVAL
    err = refused(c.check_proposal_decision, state, ProposalDecisionCmd("pr-9", True))
    assert err.message == "the proposal waiting is pr-1"
    decision = ProposalDecisionCmd("pr-1", True)
    c.check_proposal_decision(state, decision, TODAY)
    assert a.apply_proposal_decision(state, decision, NOW) == [] and state.deal.decision == decision


def test_a_proposal_within_the_bounds_starts_at_once_and_shows_its_plan() -> None:
    state = practice()
    a.apply_promise(state, PromiseCmd(TODAY + timedelta(days=5), 1000), NOW)
    events = a.apply_proposal(state, PLAN, NOW)
    assert [e.kind for e in events] == ["proposal", "deal_started"]
    assert state.status == Status.PAUSED_PLAN and state.promise.view is None
    a.apply_plan_progress(state, PlanProgress("plan_warning", 1, TODAY, 100), NOW)
    view = snapshot(state).plan
    assert view is not None and view.state == "warned" and len(view.instalments) == 2


# --- the court steps, consumer credit, contacts, closure --------------------------------------


def test_court_step_checks() -> None:
    state = practice()
    err = refused(c.check_stop_judicial, state, StopJudicialCmd())
    assert (err.kind, err.message) == (CONFLICT, "no court steps are running")
    state.court.started = True
    c.check_stop_judicial(state, StopJudicialCmd(), TODAY)
    err = refused(c.check_end_decision, state, EndDecisionCmd(EndDecision.WATCH))
    assert err.message == "the court steps have not ended"
    state.court.outcome = "opposition_lost"
    assert refused(c.check_stop_judicial, state, StopJudicialCmd()).kind == CONFLICT
    a.apply_end_decision(state, EndDecisionCmd(EndDecision.WATCH), NOW)
    err = refused(c.check_end_decision, state, EndDecisionCmd(EndDecision.WATCH))
    assert err.message == "the practice is already under watch"
    events = a.apply_end_decision(state, EndDecisionCmd(EndDecision.WRITE_OFF), NOW)
    assert [e.kind for e in events] == ["end_decision", "closed"]
    assert (state.outcome, state.money.written_off, state.money.balance) == (
        Outcome.UNCOLLECTABLE,
        CLAIM,
        0,
    )


def test_consumer_credit_checks() -> None:
    plain = practice()
    err = refused(c.check_forbearance, plain, ForbearanceCmd("refinancing", TODAY))
    assert (err.kind, err.message) == (CONFLICT, "the practice is not a consumer-credit debt")
    assert refused(c.check_debt_advice_notice, plain, DebtAdviceNoticeCmd()).kind == CONFLICT
    state = practice(consumer_credit=True)
    err = refused(c.check_forbearance, state, ForbearanceCmd("amnesty", TODAY))
    assert (err.kind, err.message, err.field) == (INVALID, "unknown forbearance measure", "measure")
    state.wait.awaiting = Awaiting.AUTHORIZATION
    assert TODAY >= APPLIES_FROM
    err = refused(c.check_authorization, state, AuthorizationCmd(True))
    assert err.kind == CONFLICT and err.message.startswith(
        "consumer credit: legal action needs first a forbearance measure offered"
    )
    c.check_authorization(state, AuthorizationCmd(False), TODAY)  # declining stays possible
    a.apply_forbearance(state, ForbearanceCmd("refinancing", TODAY), NOW)
    state.credit.debt_advice_sent_on = TODAY
    c.check_authorization(state, AuthorizationCmd(True), TODAY)
    err = refused(c.check_debt_advice_notice, state, DebtAdviceNoticeCmd())
    assert err.message == f"the notice was sent on {TODAY.isoformat()}"


def test_contact_checks_and_what_contacts_do() -> None:
    state = practice()
    err = refused(c.check_contact_invalid, state, ContactInvalidCmd("address", "hard_bounce"))
    assert (err.kind, err.message, err.field) == (
        INVALID,
        "channel is email, phone or pec",
        "channel",
    )
    err = refused(c.check_contact_invalid, state, ContactInvalidCmd("email", "spam"))
    assert (err.message, err.field) == ("unknown reason", "reason")
    err = refused(c.check_letter_returned, state, LetterReturnedCmd())
    assert (err.kind, err.message) == (CONFLICT, "no letter has been sent yet")
    state.escalation.letters_sent = 1
    a.apply_letter_returned(state, LetterReturnedCmd(), NOW)
    assert not state.channels.address and state.escalation.letter_came_back
    [event] = a.apply_contacts(state, ContactsCmd(["address"]), NOW)
    assert state.channels.address and not state.escalation.letter_came_back
    assert event.data["address"] is True
    state.wait.awaiting = Awaiting.CALL
    a.apply_contact_invalid(state, ContactInvalidCmd("phone", "sms_failed"), NOW)
    assert not state.channels.phone and state.answers.call is not None
    assert state.answers.call.outcome == CallOutcome.WRONG_NUMBER


def test_a_visit_reports_a_move_to_a_new_address() -> None:
    state = awaiting(Awaiting.VISIT)
    state.escalation.letter_came_back = True
    moved = VisitOutcomeCmd(VisitOutcome.MOVED, new_address=True, outside_rules="after 20:00")
    events = a.apply_visit_outcome(state, moved, NOW, Latest())
    assert [e.kind for e in events] == ["visit_outcome", "visit_outside_rules", "visit_new_address"]
    assert state.channels.address and not state.escalation.letter_came_back
    gone = VisitOutcomeCmd(VisitOutcome.MOVED)
    a.apply_visit_outcome(state, gone, NOW, Latest())
    assert not state.channels.address and state.answers.visit == gone


def test_the_first_closure_stands() -> None:
    state = practice()
    summary = a.closure_summary(state, ClosureCmd(ClosureReason.INSOLVENCY))
    assert "€ 1.250,40" in summary
    [event] = a.apply_closure(state, ClosureCmd(ClosureReason.INSOLVENCY), NOW)
    assert event.kind == "closed" and state.outcome == Outcome.INSOLVENCY
    assert a.apply_withdrawal(state, WithdrawalCmd(), NOW) == []
    assert state.outcome == Outcome.INSOLVENCY


# --- the state is one value the data converter carries --------------------------------------


def test_the_state_survives_the_data_converter() -> None:
    state = with_plan()
    a.book_payment(state, PaymentCmd(1000, TODAY, "B-1"))
    a.apply_dispute(state, DisputeCmd("d-1"), NOW, Latest())
    state.wait.awaiting = Awaiting.TRACE
    state.wait.next_action_at = NOW
    state.escalation.occurrences["reminder_letter"] = 2
    state.escalation.reminders_sent.append("2026-12-01:before")
    payload = pydantic_data_converter.payload_converter.to_payloads([state])
    [back] = pydantic_data_converter.payload_converter.from_payloads(payload, [PracticeState])
    assert back == state
    assert snapshot(back) == snapshot(state)
