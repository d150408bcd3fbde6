"""What a command does to the practice: pure `apply_<command>(state, cmd, now)` functions that
change the state they are given and return the timeline events they cause.

No I/O, no clock but `now`, no Temporal: the practice workflow (workflows/practice/) calls them
from its update handlers after the command passed its check (domain/practice_state/checks.py),
and adds what only a workflow can do around them: telling a running plan, recomputing the
interest (an activity), writing the read model. Where the interest must be recomputed between a
command's booking and its events (a payment, a cost, a claim reduced), the booking is its own
`book_<command>` and the workflow recomputes in between.

Behaviour that changed under a workflow.patched id is chosen by `Versions`: the workflow answers
from its history, the tests and new practices take the latest.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Protocol

from domain import ledger
from domain.activity_io import PaymentLine, ReductionLine
from domain.calendar import rome_date
from domain.money import format_euros
from domain.pauses import Lead, Pauses, shifted
from domain.plans import (
    ClosureCmd,
    ClosureReason,
    PlanProgress,
    ProposalCmd,
    ProposalDecisionCmd,
    ProposalKind,
    match_payments,
    outside_bounds,
    schedule,
)
from domain.practice import (
    CHANNEL_NAMES,
    AuthorizationCmd,
    CallOutcome,
    CallOutcomeCmd,
    ContactInvalidCmd,
    ContactsCmd,
    CostCmd,
    DisputeCmd,
    DisputeResolutionCmd,
    EndDecision,
    EndDecisionCmd,
    ForbearanceCmd,
    InstalmentView,
    LegalOpinionCmd,
    LetterReturnedCmd,
    Outcome,
    PaymentCmd,
    PlanView,
    PracticeSnapshot,
    PromiseCmd,
    PromiseView,
    Status,
    TraceResultCmd,
    VisitOutcome,
    VisitOutcomeCmd,
    WithdrawalCmd,
)
from domain.practice_state.state import Awaiting, DealStage, Event, PracticeState


class Versions(Protocol):
    """Which behaviour a practice follows where it changed (the workflow's patch ids); asked
    only on the path that changed, as workflow.patched must be."""

    def pauses_compose(self) -> bool: ...

    def visit_outcomes_v2(self) -> bool: ...


class Latest:
    """Every change applies: a new practice, or a test."""

    def pauses_compose(self) -> bool:
        return True

    def visit_outcomes_v2(self) -> bool:
        return True


# --- the pieces several commands share ---------------------------------------------------------


def close(state: PracticeState, outcome: Outcome, summary: str) -> list[Event]:
    if state.closed:
        return []  # the first closure stands (a payment racing a decline stays "paid")
    state.status = Status.CLOSED
    state.outcome = outcome
    state.promise.view = None
    state.wait.next_step = None
    state.wait.next_action_at = None
    state.wait.waiting_for = None
    return [Event("closed", summary, {"outcome": outcome.value})]


def set_promise(state: PracticeState, promised_date: date, amount: int, source: str) -> list[Event]:
    state.promise.view = PromiseView(
        promised_date=promised_date, amount_cents=amount, source=source
    )
    state.promise.version += 1
    state.promise.paid_toward = 0
    state.take(state.pauses.promise())
    return [
        Event(
            "promise",
            f"Promise to pay {format_euros(amount)} by {promised_date.isoformat()} ({source}): "
            "escalation paused",
            {"amount_cents": amount, "promised_date": promised_date.isoformat(), "source": source},
        )
    ]


def open_dispute(
    state: PracticeState, dispute_id: str, how: str, now: datetime, versions: Versions
) -> list[Event]:
    state.dispute.open_id = dispute_id
    state.dispute.opened += 1
    today = rome_date(now)
    if versions.pauses_compose():
        # whichever is in charge (escalation, promise, deal) is suspended, not dropped
        state.take(state.pauses.open_dispute(dispute_id, today))
    else:
        # before: a disputed debt was not paid on a promise, and the escalation resumed
        state.promise.view = None
        state.take(Pauses().open_dispute(dispute_id, today))
    return [
        Event("dispute_opened", f"Dispute {how}: all contact stopped", {"dispute_id": dispute_id})
    ]


def resume_after_dispute(state: PracticeState, now: datetime) -> list[Event]:
    """The one in charge before the dispute takes over again, its dates moved by the
    creditor's rule (domain/pauses.py)."""
    before = state.pauses
    state.take(before.resolve_dispute(rome_date(now), state.inp.strategy.dispute_shift))
    moved = state.pauses.shift_days - before.shift_days
    promise = state.promise.view
    if state.pauses.lead == Lead.PROMISE and promise is not None and moved:
        state.promise.view = replace(promise, promised_date=shifted(promise.promised_date, moved))
    if not moved:
        return []
    return [
        Event(
            "dates_moved",
            f"The {state.pauses.lead.value}'s dates moved by {moved} day(s), "
            "the length of the dispute",
            {"days": moved},
        )
    ]


def start_deal(state: PracticeState, deal: ProposalCmd) -> list[Event]:
    state.deal.stage = DealStage.ACTIVE
    state.deal.paid_toward = 0
    plan = deal.kind == ProposalKind.PLAN
    state.take(state.pauses.deal(Status.PAUSED_PLAN if plan else Status.PAUSED_SETTLEMENT))
    return [
        Event(
            "deal_started",
            ("Repayment plan" if plan else "Settlement") + " in force: escalation paused",
            {"proposal_id": deal.proposal_id},
        )
    ]


def channels_found(state: PracticeState, names: list[str]) -> None:
    """New details for these channels: usable again (a new address: letters can go again)."""
    for name in names:
        if name in CHANNEL_NAMES:
            setattr(state.channels, name, True)
    if "address" in names:
        state.escalation.letter_came_back = False


# --- money ------------------------------------------------------------------------------------


def book_payment(state: PracticeState, cmd: PaymentCmd) -> bool:
    """The payment enters the accounts; True when a deal collects it (a running plan is told).
    The workflow then recomputes the interest and calls apply_payment."""
    money = state.money
    money.payment_refs.append(cmd.reference)
    money.payments.append(
        PaymentLine(
            paid_on=cmd.paid_on,
            amount_cents=cmd.amount_cents,
            reference=cmd.reference,
            invoice_number=cmd.invoice_number,
        )
    )
    money.balance -= cmd.amount_cents
    money.paid += cmd.amount_cents
    if state.promise.view is not None:
        state.promise.paid_toward += cmd.amount_cents
    if state.deal.collecting:
        state.deal.paid_toward += cmd.amount_cents
        return True
    return False


def apply_payment(state: PracticeState, cmd: PaymentCmd, now: datetime) -> list[Event]:
    """What a booked payment causes, on the balance as recomputed: its event, an overpayment
    to refund, the closure when nothing is left."""
    money = state.money
    events = [
        Event(
            "payment",
            f"Payment of {format_euros(cmd.amount_cents)} received on "
            f"{cmd.paid_on.isoformat()}; balance {format_euros(money.balance)}",
            {
                "amount_cents": cmd.amount_cents,
                "paid_on": cmd.paid_on.isoformat(),
                "reference": cmd.reference,
                "balance_cents": money.balance,
                # the invoice the debtor named (art. 1193 c.1 c.c.); None when not said
                "invoice_number": cmd.invoice_number,
            },
            ledger.payment(cmd.paid_on, cmd.amount_cents, cmd.reference, cmd.invoice_number),
        )
    ]
    if money.overpaid > 0:
        events.append(
            Event(
                "overpaid",
                f"Paid {format_euros(money.overpaid)} more than owed: to be refunded",
                {"overpaid_cents": money.overpaid},
            )
        )
    if money.balance <= 0:
        events += close(state, Outcome.PAID, "Paid in full")
    return events


def book_cost(state: PracticeState, cmd: CostCmd) -> None:
    state.money.costs.append(cmd)
    state.money.balance += cmd.amount_cents


def apply_cost(state: PracticeState, cmd: CostCmd, now: datetime) -> list[Event]:
    balance = state.money.balance
    return [
        Event(
            "cost",
            f"{cmd.kind.capitalize()} cost of {format_euros(cmd.amount_cents)} recorded "
            f"({cmd.incurred_on.isoformat()}); balance {format_euros(balance)}",
            {
                "amount_cents": cmd.amount_cents,
                "incurred_on": cmd.incurred_on.isoformat(),
                "cost_kind": cmd.kind,
                "balance_cents": balance,
            },
            ledger.cost(cmd.incurred_on, cmd.amount_cents, cmd.kind),
        )
    ]


# --- promises, disputes, deals ----------------------------------------------------------------


def apply_promise(state: PracticeState, cmd: PromiseCmd, now: datetime) -> list[Event]:
    return set_promise(state, cmd.promised_date, cmd.amount_cents, cmd.source)


def apply_dispute(
    state: PracticeState, cmd: DisputeCmd, now: datetime, versions: Versions
) -> list[Event]:
    return open_dispute(state, cmd.dispute_id, "recorded", now, versions)


def book_dispute_resolution(state: PracticeState, cmd: DisputeResolutionCmd, now: datetime) -> bool:
    """The dispute is closed; upheld in part, the claim is reduced. True when the claim was
    reduced (the workflow recomputes the interest before apply_dispute_resolution)."""
    state.dispute.open_id = None
    reduce_by = cmd.reduce_by_cents
    if not cmd.upheld or reduce_by is None or reduce_by >= state.money.balance:
        return False
    state.money.claim -= reduce_by
    state.money.balance -= reduce_by
    state.money.reductions.append(ReductionLine(on=rome_date(now), amount_cents=reduce_by))
    return True


def apply_dispute_resolution(
    state: PracticeState, cmd: DisputeResolutionCmd, now: datetime, reduced: bool
) -> list[Event]:
    """Rejected: the one in charge resumes; upheld: closed; upheld in part (`reduced` by
    book_dispute_resolution): resumes on the reduced claim."""
    data: dict[str, str | int | bool | None] = {"dispute_id": cmd.dispute_id, "upheld": cmd.upheld}
    if not cmd.upheld:
        return resume_after_dispute(state, now) + [
            Event("dispute_resolved", "Dispute rejected by the creditor: collection resumes", data)
        ]
    if not reduced:
        events = [Event("dispute_resolved", "Dispute upheld by the creditor", data)]
        return events + close(state, Outcome.DISPUTE_UPHELD, "Closed: dispute upheld")
    assert cmd.reduce_by_cents is not None
    # the reduction as booked (book_dispute_resolution), the one the interest was computed on
    booked = state.money.reductions[-1]
    return resume_after_dispute(state, now) + [
        Event(
            "dispute_resolved",
            f"Dispute upheld in part: claim reduced by {format_euros(cmd.reduce_by_cents)}, "
            f"balance {format_euros(state.money.balance)}; collection resumes",
            data | {"reduce_by_cents": cmd.reduce_by_cents},
            ledger.reduction(booked.on, booked.amount_cents),
        )
    ]


def apply_proposal(state: PracticeState, cmd: ProposalCmd, now: datetime) -> list[Event]:
    state.deal.proposal = cmd
    state.deal.decision = None
    state.promise.view = None  # a deal supersedes a promise
    reasons = outside_bounds(cmd, state.money.balance, state.inp.strategy.plan_bounds)
    events = [
        Event(
            "proposal",
            f"Proposal ({cmd.kind.value}, {cmd.source})"
            + (f": needs the creditor's approval ({'; '.join(reasons)})" if reasons else ""),
            {"proposal_id": cmd.proposal_id, "within_bounds": not reasons},
        )
    ]
    if reasons:
        state.deal.stage = DealStage.AWAITING_APPROVAL
        state.take(state.pauses.deal(Status.PAUSED_PROPOSAL))
        return events
    return events + start_deal(state, cmd)


def apply_proposal_decision(
    state: PracticeState, cmd: ProposalDecisionCmd, now: datetime
) -> list[Event]:
    state.deal.decision = cmd  # the deal's wait decides (workflows/practice/deals.py)
    return []


def apply_plan_progress(state: PracticeState, progress: PlanProgress, now: datetime) -> list[Event]:
    label = {
        "plan_reminder": "Reminder sent for instalment",
        "plan_warning": "Warning sent: missed instalment",
        "plan_broken": "Missed again after the warning: instalment",
        "plan_kept": "All instalments paid, last one",
    }.get(progress.kind, progress.kind)
    if progress.kind == "plan_warning":
        state.deal.stage = DealStage.WARNED
    return [
        Event(
            progress.kind,
            f"{label} {progress.instalment} due {progress.due_date.isoformat()}"
            + (
                f" ({format_euros(progress.outstanding_cents)} outstanding)"
                if progress.outstanding_cents
                else ""
            ),
            {"instalment": progress.instalment},
        )
    ]


# --- the answers the escalation waits for -----------------------------------------------------


def apply_call_outcome(
    state: PracticeState, cmd: CallOutcomeCmd, now: datetime, versions: Versions
) -> list[Event]:
    events = [
        Event(
            "call_outcome",
            f"Call outcome: {cmd.outcome.value.replace('_', ' ')}",
            {"outcome": cmd.outcome.value},
        )
    ]
    if cmd.outcome == CallOutcome.WRONG_NUMBER:
        state.channels.phone = False
    elif cmd.outcome == CallOutcome.PROMISE:
        assert cmd.promised_date is not None and cmd.promised_amount_cents is not None
        events += set_promise(state, cmd.promised_date, cmd.promised_amount_cents, "call")
    elif cmd.outcome == CallOutcome.DISPUTE:
        name = f"call-{state.dispute.opened + 1}"
        events += open_dispute(state, name, "raised on the phone", now, versions)
    state.answers.call = cmd
    return events


def apply_visit_outcome(
    state: PracticeState, cmd: VisitOutcomeCmd, now: datetime, versions: Versions
) -> list[Event]:
    events = [
        Event(
            "visit_outcome",
            f"Visit outcome: {cmd.outcome.value.replace('_', ' ')}",
            {"outcome": cmd.outcome.value},
        )
    ]
    if cmd.outside_rules is not None:
        events.append(
            Event(
                "visit_outside_rules",
                f"The visit took place outside the contact rules: {cmd.outside_rules}",
                {"reason": cmd.outside_rules},
            )
        )
    if cmd.outcome == VisitOutcome.NOT_FOUND:
        state.channels.address = False
    elif cmd.outcome == VisitOutcome.MOVED and versions.visit_outcomes_v2():
        # as skip tracing: a new address is usable again (the next letters go there), none
        # known marks the old one wrong, as not found does
        state.channels.address = cmd.new_address
        if cmd.new_address:
            state.escalation.letter_came_back = False
            events.append(
                Event(
                    "visit_new_address",
                    "The field agent found the debtor's new address",
                    state.channel_data(),
                )
            )
    elif cmd.outcome == VisitOutcome.PROMISE:
        assert cmd.promised_date is not None and cmd.promised_amount_cents is not None
        events += set_promise(state, cmd.promised_date, cmd.promised_amount_cents, "visit")
    elif cmd.outcome == VisitOutcome.DISPUTE:
        name = f"visit-{state.dispute.opened + 1}"
        events += open_dispute(state, name, "raised at the visit", now, versions)
    state.answers.visit = cmd
    return events


def apply_trace_result(state: PracticeState, cmd: TraceResultCmd, now: datetime) -> list[Event]:
    channels_found(state, cmd.found_channels if cmd.found else [])
    if "address" in cmd.found_channels:
        state.escalation.letter_came_back = False  # a new address: letters can go again
    state.answers.trace = cmd
    return [
        Event(
            "trace_result",
            "Skip tracing found new contacts" if cmd.found else "Skip tracing found nothing new",
            {"found": cmd.found, **state.channel_data()},
        )
    ]


def apply_legal_opinion(state: PracticeState, cmd: LegalOpinionCmd, now: datetime) -> list[Event]:
    state.answers.opinion = cmd
    return [
        Event(
            "legal_opinion",
            f"Lawyer's opinion: {cmd.action}"
            if cmd.recommend_action
            else "Lawyer's opinion: legal action not advised",
            {"recommend_action": cmd.recommend_action, "action": cmd.action},
        )
    ]


def apply_authorization(state: PracticeState, cmd: AuthorizationCmd, now: datetime) -> list[Event]:
    state.answers.authorization = cmd
    return [
        Event(
            "authorization",
            "Creditor authorised legal action"
            if cmd.authorized
            else "Creditor declined legal action",
            {"authorized": cmd.authorized},
        )
    ]


def apply_end_decision(state: PracticeState, cmd: EndDecisionCmd, now: datetime) -> list[Event]:
    write_off = cmd.decision == EndDecision.WRITE_OFF
    written_off = max(state.money.balance, 0) if write_off else 0
    events = [
        Event(
            "end_decision",
            "The creditor chose to "
            + (
                "close the practice as uncollectable"
                if write_off
                else "keep the practice under watch"
            ),
            {"decision": cmd.decision.value},
            ledger.write_off(rome_date(now), written_off) if written_off else None,
        )
    ]
    if write_off:
        events += close(
            state,
            Outcome.UNCOLLECTABLE,
            f"Closed as uncollectable: {format_euros(written_off)} written off",
        )
        state.money.written_off = written_off
        state.money.balance = 0
    state.court.end_choice = cmd.decision
    return events


def settle(state: PracticeState, now: datetime) -> list[Event]:
    """The settlement (saldo e stralcio) was paid: what is left of the balance is written off
    and the practice closes as settled."""
    written_off = max(state.money.balance, 0)
    state.money.written_off = written_off
    state.deal.stage = DealStage.KEPT
    events = close(
        state,
        Outcome.SETTLED,
        f"Settled (saldo e stralcio): {format_euros(written_off)} written off",
    )
    state.money.balance = 0
    if written_off and events:
        events[0] = replace(events[0], line=ledger.write_off(rome_date(now), written_off))
    return events


# --- contacts ---------------------------------------------------------------------------------


def apply_contacts(state: PracticeState, cmd: ContactsCmd, now: datetime) -> list[Event]:
    channels_found(state, cmd.changed)
    return [
        Event(
            "contacts_updated",
            "Contact details updated: " + (", ".join(cmd.changed) or "none"),
            state.channel_data(),
        )
    ]


def apply_contact_invalid(
    state: PracticeState, cmd: ContactInvalidCmd, now: datetime
) -> list[Event]:
    # a bounced e-mail or a failed SMS: that channel is dropped, and the escalation falls
    # back on the others (and to skip tracing when none is left)
    setattr(state.channels, cmd.channel, False)
    if (
        cmd.channel == "phone"
        and state.wait.awaiting == Awaiting.CALL
        and state.answers.call is None
    ):
        # the queued call cannot succeed: count it as a wrong number now
        state.answers.call = CallOutcomeCmd(outcome=CallOutcome.WRONG_NUMBER)
    name = cmd.channel.upper() if cmd.channel == "pec" else cmd.channel.capitalize()
    return [
        Event(
            "contact_invalid",
            f"{name} reported unusable ({cmd.reason.replace('_', ' ')})",
            {"channel": cmd.channel, "reason": cmd.reason, **state.channel_data()},
        )
    ]


def apply_letter_returned(
    state: PracticeState, cmd: LetterReturnedCmd, now: datetime
) -> list[Event]:
    state.escalation.letter_came_back = True
    state.channels.address = False
    return [Event("letter_returned", "Letter returned undelivered: postal address marked wrong")]


# --- consumer credit --------------------------------------------------------------------------


def apply_forbearance(state: PracticeState, cmd: ForbearanceCmd, now: datetime) -> list[Event]:
    state.credit.forbearance.append(cmd.measure)
    return [
        Event(
            "forbearance_offered",
            f"Forbearance offered on {cmd.offered_on.isoformat()}: "
            f"{cmd.measure.replace('_', ' ')} (Directive (EU) 2023/2225 art. 35)",
            {"measure": cmd.measure, "offered_on": cmd.offered_on.isoformat()},
        )
    ]


# --- the end ----------------------------------------------------------------------------------


def apply_withdrawal(state: PracticeState, cmd: WithdrawalCmd, now: datetime) -> list[Event]:
    return close(state, Outcome.WITHDRAWN, "Withdrawn by the creditor")


def closure_summary(state: PracticeState, cmd: ClosureCmd) -> str:
    return {
        ClosureReason.DECEASED: "Closed: the debtor died",
        ClosureReason.UNABLE_TO_PAY: "Closed: the debtor was found unable to pay",
        ClosureReason.INSOLVENCY: (
            f"Closed: insolvency proceedings; the creditor files its claim of "
            f"{format_euros(state.money.balance)} with the receiver (insinuazione al passivo)"
        ),
    }[cmd.reason]


def apply_closure(state: PracticeState, cmd: ClosureCmd, now: datetime) -> list[Event]:
    return close(state, Outcome(cmd.reason.value), closure_summary(state, cmd))


# --- what the practice shows ------------------------------------------------------------------


def plan_view(state: PracticeState) -> PlanView | None:
    deal = state.deal.proposal
    if deal is None or state.deal.stage is None:
        return None
    states = match_payments(schedule(deal), state.deal.paid_toward)
    # the dates as moved by disputes while the deal was in charge (domain/pauses.py)
    days = state.pauses.shift_days if state.pauses.lead == Lead.DEAL else 0
    return PlanView(
        proposal_id=deal.proposal_id,
        kind=deal.kind.value,
        state=state.deal.stage.value,
        instalments=[
            InstalmentView(shifted(s.due_date, days), s.amount_cents, s.paid_cents) for s in states
        ],
        settlement_cents=deal.settlement_cents,
        settle_by=shifted(deal.settle_by, days) if deal.settle_by else None,
        paid_cents=state.deal.paid_toward,
    )


def snapshot(state: PracticeState) -> PracticeSnapshot:
    money = state.money
    current = state.escalation.current
    return PracticeSnapshot(
        version=state.timeline.version,
        status=state.status,
        phase=state.phase,
        balance_cents=money.balance,
        paid_cents=money.paid,
        claim_cents=money.claim,
        outcome=state.outcome,
        current_step=current.value if current else None,
        next_step=state.wait.next_step,
        next_action_at=state.wait.next_action_at,
        waiting_for=state.wait.waiting_for,
        promise=state.promise.view,
        open_dispute_id=state.dispute.open_id,
        field_agent_id=state.escalation.field_agent_id,
        lawyer_id=state.escalation.lawyer_id,
        channels=replace(state.channels),
        costs_cents=money.costs_cents,
        interest_cents=money.interest,
        claims_interest=money.claims_interest,
        claim_filed_on=money.claim_filed_on,
        judicial_stage=state.court.outcome,
        plan=plan_view(state),
        written_off_cents=money.written_off,
        forbearance_measures=list(state.credit.forbearance),
        debt_advice_sent_on=state.credit.debt_advice_sent_on,
    )
