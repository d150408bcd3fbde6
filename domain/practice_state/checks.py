"""Whether a command may be accepted now: one pure `check_<command>(state, cmd, today)` per
workflow update, the practice workflow's update validators (workflows/practice/).

A check raises `Refused` (the kind, message and field the API turns into 409 or 422) or returns;
it changes nothing. The workflow maps `Refused` to the ApplicationError a validator raises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from domain.consumer_credit import ForbearanceMeasure, missing_before_enforcement
from domain.money import format_euros
from domain.pauses import PauseRefused
from domain.plans import (
    ClosureCmd,
    ProposalCmd,
    ProposalDecisionCmd,
    ProposalError,
)
from domain.plans import (
    check_proposal as _check_deal_terms,
)
from domain.practice import (
    AssignVisitCmd,
    AuthorizationCmd,
    CallOutcome,
    CallOutcomeCmd,
    ContactInvalidCmd,
    ContactsCmd,
    CostCmd,
    DebtAdviceNoticeCmd,
    DisputeCmd,
    DisputeResolutionCmd,
    EndDecision,
    EndDecisionCmd,
    ForbearanceCmd,
    InvalidReason,
    LegalOpinionCmd,
    LetterReturnedCmd,
    PaymentCmd,
    PromiseCmd,
    RejectionType,
    Status,
    StopJudicialCmd,
    TraceResultCmd,
    VisitOutcome,
    VisitOutcomeCmd,
    WithdrawalCmd,
)
from domain.practice_state.state import (
    RECORDABLE_COSTS,
    REPORTABLE_CHANNELS,
    Awaiting,
    PracticeState,
)


class Refused(Exception):
    """A command refused: `kind` is a RejectionType, `field` the API's name for the field at
    fault (its 422 points at it), None when the command is refused as a whole."""

    def __init__(self, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field


def _conflict(check: PauseRefused | None = None, message: str = "") -> Refused:
    return Refused(RejectionType.CONFLICT, check.message if check else message)


def require_open(state: PracticeState) -> None:
    if state.closed:
        raise Refused(RejectionType.CLOSED, f"the practice is closed ({state.outcome})")


def require_awaiting(state: PracticeState, what: Awaiting, label: str) -> None:
    require_open(state)
    if state.wait.awaiting != what:
        raise _conflict(message=f"no {label} is expected now")


def _compose(check: Callable[[], None]) -> None:
    """A composition check of domain.pauses (a PauseRefused) as a refusal (409)."""
    try:
        check()
    except PauseRefused as err:
        raise _conflict(err) from None


def check_new_promise(
    state: PracticeState,
    promised_date: date | None,
    amount: int | None,
    amount_field: str,
    today: date,
) -> None:
    if promised_date is None:
        raise Refused(RejectionType.INVALID, "a promise needs a date", "promised_date")
    if amount is None:
        raise Refused(RejectionType.INVALID, "a promise needs an amount", amount_field)
    _compose(state.pauses.check_promise)  # no promise while a dispute holds or a deal runs
    if promised_date < today:
        raise Refused(RejectionType.INVALID, "the promised date is in the past", "promised_date")
    if not 0 < amount <= state.money.balance:
        raise Refused(
            RejectionType.INVALID,
            f"the promised amount must be between 0.01 and the balance "
            f"{format_euros(state.money.balance)}",
            amount_field,
        )


def check_payment(state: PracticeState, cmd: PaymentCmd, today: date) -> None:
    require_open(state)
    if cmd.amount_cents <= 0:
        raise Refused(RejectionType.INVALID, "amount must be positive", "amount")
    # with interest claimed the debtor may pay today's total, above the last known balance;
    # an overpayment is recorded for refund rather than refused
    if not state.money.claims_interest and cmd.amount_cents > state.money.balance:
        raise Refused(
            RejectionType.INVALID,
            f"amount exceeds the balance of {format_euros(state.money.balance)}",
            "amount",
        )
    if cmd.reference in state.money.payment_refs:
        raise _conflict(message="a payment with this reference is recorded")


def check_promise(state: PracticeState, cmd: PromiseCmd, today: date) -> None:
    require_open(state)
    check_new_promise(state, cmd.promised_date, cmd.amount_cents, "amount", today)


def check_call_outcome(state: PracticeState, cmd: CallOutcomeCmd, today: date) -> None:
    require_awaiting(state, Awaiting.CALL, "call outcome")
    if cmd.outcome == CallOutcome.PROMISE:
        check_new_promise(
            state, cmd.promised_date, cmd.promised_amount_cents, "promised_amount", today
        )
    if cmd.outcome == CallOutcome.DISPUTE:
        _compose(state.pauses.check_dispute)


def check_visit_outcome(state: PracticeState, cmd: VisitOutcomeCmd, today: date) -> None:
    require_awaiting(state, Awaiting.VISIT, "visit outcome")
    if cmd.outcome == VisitOutcome.PROMISE:
        check_new_promise(
            state, cmd.promised_date, cmd.promised_amount_cents, "promised_amount", today
        )
    if cmd.outcome == VisitOutcome.DISPUTE:
        _compose(state.pauses.check_dispute)


def check_assign_visit(state: PracticeState, cmd: AssignVisitCmd, today: date) -> None:
    # only the visit waiting for its outcome is (re)assigned: a step ahead or one done has none
    require_awaiting(state, Awaiting.VISIT, "visit outcome")
    if not cmd.user_id.strip():
        raise Refused(RejectionType.INVALID, "a user is required", "user_id")


def check_trace_result(state: PracticeState, cmd: TraceResultCmd, today: date) -> None:
    require_awaiting(state, Awaiting.TRACE, "skip tracing result")


def check_dispute(state: PracticeState, cmd: DisputeCmd, today: date) -> None:
    require_open(state)
    _compose(state.pauses.check_dispute)


def check_dispute_resolution(state: PracticeState, cmd: DisputeResolutionCmd, today: date) -> None:
    require_open(state)
    if state.dispute.open_id is None:
        raise _conflict(message="no dispute is open")
    if cmd.dispute_id != state.dispute.open_id:
        raise _conflict(message=f"the open dispute is {state.dispute.open_id}")
    if cmd.reduce_by_cents is not None and not cmd.upheld:
        raise Refused(
            RejectionType.INVALID, "reduce_by only applies to an upheld dispute", "reduce_by"
        )
    if cmd.reduce_by_cents is not None and cmd.reduce_by_cents <= 0:
        raise Refused(RejectionType.INVALID, "reduce_by must be positive", "reduce_by")


def check_legal_opinion(state: PracticeState, cmd: LegalOpinionCmd, today: date) -> None:
    require_awaiting(state, Awaiting.OPINION, "lawyer's opinion")


def check_authorization(state: PracticeState, cmd: AuthorizationCmd, today: date) -> None:
    require_awaiting(state, Awaiting.AUTHORIZATION, "authorisation")
    # consumer credit: no court phase before forbearance and the debt-advice notice
    # (Directive (EU) 2023/2225 artt. 35, 36; D.Lgs. 212/2025); declining stays possible
    missing = missing_before_enforcement(
        state.inp.consumer_credit,
        bool(state.credit.forbearance),
        state.credit.debt_advice_sent_on is not None,
        today,
    )
    if cmd.authorized and missing:
        raise _conflict(
            message="consumer credit: legal action needs first " + " and ".join(missing)
        )


def check_forbearance(state: PracticeState, cmd: ForbearanceCmd, today: date) -> None:
    require_open(state)
    if not state.inp.consumer_credit:
        raise _conflict(message="the practice is not a consumer-credit debt")
    if cmd.measure not in {m.value for m in ForbearanceMeasure}:
        raise Refused(RejectionType.INVALID, "unknown forbearance measure", "measure")


def check_debt_advice_notice(state: PracticeState, cmd: DebtAdviceNoticeCmd, today: date) -> None:
    require_open(state)
    if not state.inp.consumer_credit:
        raise _conflict(message="the practice is not a consumer-credit debt")
    if state.credit.debt_advice_sent_on is not None:
        raise _conflict(
            message=f"the notice was sent on {state.credit.debt_advice_sent_on.isoformat()}"
        )


def check_withdrawal(state: PracticeState, cmd: WithdrawalCmd, today: date) -> None:
    require_open(state)


def check_contacts(state: PracticeState, cmd: ContactsCmd, today: date) -> None:
    require_open(state)


def check_cost(state: PracticeState, cmd: CostCmd, today: date) -> None:
    require_open(state)
    if cmd.amount_cents <= 0:
        raise Refused(RejectionType.INVALID, "amount must be positive", "amount")
    if cmd.incurred_on > today:
        raise Refused(RejectionType.INVALID, "the cost date is in the future", "incurred_on")
    if cmd.kind not in RECORDABLE_COSTS:
        raise Refused(RejectionType.INVALID, 'kind is "legal" or "collection"', "kind")


def check_stop_judicial(state: PracticeState, cmd: StopJudicialCmd, today: date) -> None:
    require_open(state)
    if not state.court.running:
        raise _conflict(message="no court steps are running")


def check_end_decision(state: PracticeState, cmd: EndDecisionCmd, today: date) -> None:
    require_open(state)
    if state.court.outcome is None:
        raise _conflict(message="the court steps have not ended")
    if cmd.decision == EndDecision.WATCH and state.court.end_choice == EndDecision.WATCH:
        raise _conflict(message="the practice is already under watch")


def check_proposal(state: PracticeState, cmd: ProposalCmd, today: date) -> None:
    require_open(state)
    _compose(state.pauses.check_deal)
    try:
        _check_deal_terms(cmd, state.money.balance, today)
    except ProposalError as err:
        raise Refused(RejectionType.INVALID, err.message, err.field_name) from None


def check_proposal_decision(state: PracticeState, cmd: ProposalDecisionCmd, today: date) -> None:
    require_open(state)
    proposal = state.deal.proposal
    if state.status != Status.PAUSED_PROPOSAL or proposal is None:
        raise _conflict(message="no proposal waits for a decision")
    if cmd.proposal_id != proposal.proposal_id:
        raise _conflict(message=f"the proposal waiting is {proposal.proposal_id}")


def check_closure(state: PracticeState, cmd: ClosureCmd, today: date) -> None:
    require_open(state)


def check_contact_invalid(state: PracticeState, cmd: ContactInvalidCmd, today: date) -> None:
    require_open(state)
    if cmd.channel not in REPORTABLE_CHANNELS:
        raise Refused(RejectionType.INVALID, "channel is email, phone or pec", "channel")
    if cmd.reason not in {r.value for r in InvalidReason}:
        raise Refused(RejectionType.INVALID, "unknown reason", "reason")


def check_letter_returned(state: PracticeState, cmd: LetterReturnedCmd, today: date) -> None:
    require_open(state)
    if state.escalation.letters_sent == 0:
        raise _conflict(message="no letter has been sent yet")
