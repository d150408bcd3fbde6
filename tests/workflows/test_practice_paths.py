"""Every path of the out-of-court escalation, on the time-skipping test server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.calendar import rome_date
from domain.court_calendar import demand_deadline
from domain.practice import (
    AuthorizationCmd,
    CallOutcome,
    CallOutcomeCmd,
    Channels,
    CommandResult,
    ContactInvalidCmd,
    DisputeCmd,
    DisputeResolutionCmd,
    Invoice,
    LegalOpinionCmd,
    LetterReturnedCmd,
    PaymentCmd,
    PromiseCmd,
    RejectionType,
    TraceResultCmd,
    UpdateName,
    VisitOutcome,
    VisitOutcomeCmd,
    WithdrawalCmd,
)
from domain.strategy import Step
from tests.histories.replay import replayer
from tests.workflows.conftest import only_steps
from tests.workflows.fakes import FakeWorld

TODAY = rome_date(datetime.now(UTC))  # the test server starts at the real time
CLAIM = 125040


def pay(cents: int, ref: str) -> PaymentCmd:
    return PaymentCmd(amount_cents=cents, paid_on=TODAY, reference=ref)


async def test_paid_after_the_first_letter(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        assert p.world.letter_kinds() == ["reminder_letter"]
        assert p.world.letters[0].balance_cents == CLAIM
        assert p.world.email_copies == [p.world.letters[0].idempotency_key]

        result = await p.send(UpdateName.PAYMENT, pay(CLAIM, "BON-1"))

        assert result.balance_cents == 0 and result.status == "closed"
        assert await p.handle.result() == "paid"
        assert p.world.letter_kinds() == ["reminder_letter"]
        assert not p.world.open_of("call") and not p.world.tasks
        assert p.world.snapshot and p.world.snapshot.outcome == "paid"
        assert p.world.notifications[-1].to == "creditor"
        assert p.world.notifications[-1].outcome == "paid"


async def test_partial_payments_lower_the_balance_and_collection_goes_on(start, env) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        first = await p.send(UpdateName.PAYMENT, pay(50000, "BON-1"))
        assert first.balance_cents == CLAIM - 50000 and first.status == "active"

        await env.sleep(timedelta(days=16))
        await p.until(lambda: p.world.open_of("call"), "the first call")
        assert (await p.state()).balance_cents == CLAIM - 50000

        with pytest.raises(WorkflowUpdateFailedError) as err:
            await p.send(UpdateName.PAYMENT, pay(50000, "BON-1"))  # same bank reference twice
        assert isinstance(err.value.cause, ApplicationError)
        assert err.value.cause.type == RejectionType.CONFLICT
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await p.send(UpdateName.PAYMENT, pay(CLAIM, "BON-2"))  # more than is owed
        assert err.value.cause.type == RejectionType.INVALID  # type: ignore[union-attr]

        await p.send(UpdateName.PAYMENT, pay(CLAIM - 50000, "BON-2"))
        assert await p.handle.result() == "paid"
        assert not p.world.open_tasks  # the queued call was taken off the operators' list
        assert [
            e.data.get("amount_cents") for e in p.world.events.values() if e.kind == "payment"
        ] == [50000, CLAIM - 50000]


async def test_promise_kept_in_full_closes_the_practice(start) -> None:
    async with start() as p:
        await p.first_call()
        promise = CallOutcomeCmd(
            outcome=CallOutcome.PROMISE,
            promised_date=await p.today() + timedelta(days=5),
            promised_amount_cents=CLAIM,
        )
        result = await p.send(UpdateName.CALL_OUTCOME, promise)
        assert result.status == "paused_promise"
        await p.until(lambda: p.world.snapshot.status == "paused_promise", "the pause")
        await p.send(UpdateName.PAYMENT, pay(CLAIM, "BON-1"))
        assert await p.handle.result() == "paid"
        assert "second_letter" not in p.world.letter_kinds()


async def test_promise_kept_in_part_goes_on_with_the_rest(start) -> None:
    async with start() as p:
        await p.first_call()
        await p.send(
            UpdateName.PROMISE,
            PromiseCmd(promised_date=await p.today() + timedelta(days=3), amount_cents=30000),
        )
        await p.send(UpdateName.PAYMENT, pay(30000, "BON-1"))
        # kept at once: the phone phase was interrupted before any outcome, so it runs again
        await p.until(lambda: "promise_kept" in p.world.kinds(), "promise kept")
        await p.waiting_for("call outcome")
        state = await p.state()
        assert state.status == "active" and state.balance_cents == CLAIM - 30000
        assert state.current_step == "phone_phase"


async def test_promise_broken_resumes_at_the_step_where_it_paused(start, env) -> None:
    async with start() as p:
        await p.first_call()
        await p.send(
            UpdateName.CALL_OUTCOME,
            CallOutcomeCmd(
                outcome=CallOutcome.PROMISE,
                promised_date=await p.today() + timedelta(days=3),
                promised_amount_cents=CLAIM,
            ),
        )
        await p.until(lambda: p.world.snapshot.status == "paused_promise", "the pause")
        await env.sleep(timedelta(days=2))
        assert p.world.letter_kinds() == ["reminder_letter"]  # nothing moves while paused

        await env.sleep(timedelta(days=5))  # past the promised date and the grace
        await p.until(lambda: "second_letter" in p.world.letter_kinds(), "the second letter")
        kinds = p.world.kinds()
        assert kinds.index("promise_broken") < kinds.index("resumed")
        # the phone phase had its outcome: escalation resumes after it, not from the start
        assert p.world.letter_kinds() == ["reminder_letter", "second_letter"]
        assert len([t for t in p.world.tasks.values() if t.kind == "call"]) == 1


async def test_dispute_upheld_closes_the_practice(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.DISPUTE, DisputeCmd(dispute_id="d1"))
        await p.until(lambda: p.world.snapshot.status == "paused_dispute", "the dispute pause")
        with pytest.raises(WorkflowUpdateFailedError):
            await p.send(
                UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd(dispute_id="other", upheld=True)
            )
        await p.send(
            UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd(dispute_id="d1", upheld=True)
        )
        assert await p.handle.result() == "dispute_upheld"


async def test_dispute_stops_all_contact_and_rejection_resumes(start, env) -> None:
    async with start() as p:
        await p.first_call()
        await p.send(UpdateName.DISPUTE, DisputeCmd(dispute_id="d1"))
        await p.until(lambda: not p.world.open_of("call"), "the call withdrawn")
        await env.sleep(timedelta(days=60))
        assert p.world.letter_kinds() == ["reminder_letter"]
        assert len(p.world.tasks) == 1
        with pytest.raises(WorkflowUpdateFailedError):  # no promises on a disputed debt
            await p.send(
                UpdateName.PROMISE,
                PromiseCmd(promised_date=await p.today() + timedelta(days=70), amount_cents=100),
            )

        await p.send(
            UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd(dispute_id="d1", upheld=False)
        )
        await p.until(lambda: len(p.world.open_of("call")) == 1, "the call queued again")
        assert (await p.state()).status == "active"


async def test_dispute_upheld_in_part_reduces_the_claim(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.DISPUTE, DisputeCmd(dispute_id="d1"))
        result = await p.send(
            UpdateName.DISPUTE_RESOLUTION,
            DisputeResolutionCmd(dispute_id="d1", upheld=True, reduce_by_cents=25040),
        )
        assert result.balance_cents == 100000 and result.status == "active"
        state = await p.state()
        assert state.claim_cents == 100000


async def test_skip_tracing_when_first_letter_and_calls_failed(start, env) -> None:
    world = FakeWorld()
    strategy = only_steps(
        Step.CONTACT_CHECK,
        Step.REMINDER_LETTER,
        Step.PHONE_PHASE,
        Step.SKIP_TRACING,
        Step.HOME_VISIT,
        call_attempts=2,
    )
    async with start(world=world, strategy=strategy) as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.LETTER_RETURNED, LetterReturnedCmd())
        await p.first_call()
        await p.send(UpdateName.CALL_OUTCOME, CallOutcomeCmd(outcome=CallOutcome.NO_ANSWER))
        await env.sleep(timedelta(days=1))
        await p.waiting_for("call outcome (attempt 2/2)")
        await p.send(UpdateName.CALL_OUTCOME, CallOutcomeCmd(outcome=CallOutcome.NO_ANSWER))
        await env.sleep(timedelta(days=7))

        await p.waiting_for("skip tracing result")
        assert len(world.open_of("trace")) == 1
        found = TraceResultCmd(found=True, found_channels=["address", "phone"])
        await p.send(UpdateName.TRACE_RESULT, found)
        await p.waiting_for("home visit outcome")
        assert p.world.snapshot.channels.address is True


async def test_no_skip_tracing_when_the_debtor_answered(start, env) -> None:
    strategy = only_steps(
        Step.REMINDER_LETTER, Step.PHONE_PHASE, Step.SKIP_TRACING, Step.LEGAL_NOTICE
    )
    async with start(strategy=strategy) as p:
        await p.first_call()
        await p.send(UpdateName.CALL_OUTCOME, CallOutcomeCmd(outcome=CallOutcome.REFUSED))
        await env.sleep(timedelta(days=8))
        await p.until(lambda: "legal_notice" in p.world.letter_kinds(), "the legal notice")
        assert not [t for t in p.world.tasks.values() if t.kind == "trace"]
        assert "step_skipped" in p.world.kinds()


async def test_visit_ending_in_a_promise(start) -> None:
    strategy = only_steps(Step.CONTACT_CHECK, Step.HOME_VISIT)
    async with start(strategy=strategy) as p:
        await p.waiting_for("home visit outcome")
        visit = p.world.open_of("visit")
        assert len(visit) == 1 and visit[0].assignee_id == "agent-1"
        assert any(n.to == "agent-1" for n in p.world.notifications)
        with pytest.raises(WorkflowUpdateFailedError):  # a visit promise needs a date
            await p.send(UpdateName.VISIT_OUTCOME, VisitOutcomeCmd(outcome=VisitOutcome.PROMISE))
        await p.send(
            UpdateName.VISIT_OUTCOME,
            VisitOutcomeCmd(
                outcome=VisitOutcome.PROMISE,
                promised_date=await p.today() + timedelta(days=10),
                promised_amount_cents=CLAIM,
            ),
        )
        await p.until(lambda: p.world.snapshot.promise is not None, "the promise")
        assert p.world.snapshot.promise.source == "visit"
        await p.send(UpdateName.PAYMENT, pay(CLAIM, "BON-1"))
        assert await p.handle.result() == "paid"


async def _visit_reported(p, env, cmd: VisitOutcomeCmd) -> None:
    """The visit step reached, the outcome reported, the legal notice after the step's wait."""
    await p.waiting_for("home visit outcome")
    await p.send(UpdateName.VISIT_OUTCOME, cmd)
    await env.sleep(timedelta(days=8))
    await p.until(lambda: "legal_notice" in p.world.letter_kinds(), "the legal notice")
    reported = [e.data["outcome"] for e in p.world.events.values() if e.kind == "visit_outcome"]
    assert reported == [cmd.outcome.value]
    assert not p.world.open_of("visit")


VISIT_THEN_NOTICE = only_steps(Step.CONTACT_CHECK, Step.HOME_VISIT, Step.LEGAL_NOTICE)


async def test_a_visit_that_met_the_debtor_goes_on_with_the_escalation(start, env) -> None:
    """met: the conversation happened, no agreement; as refused, the next step follows and the
    address stays good."""
    async with start(strategy=VISIT_THEN_NOTICE) as p:
        await _visit_reported(p, env, VisitOutcomeCmd(outcome=VisitOutcome.MET))
        assert p.world.snapshot.channels.address is True
        assert p.world.letters[-1].post is True
        assert "visit_new_address" not in p.world.kinds()


async def test_a_debtor_who_moved_to_a_known_address_gets_letters_there(start, env) -> None:
    """moved with the new address the agent learned: as skip tracing finding one, the address
    is usable (the API saved it; the workflow hears only the flag) and the notice is posted."""
    async with start(strategy=VISIT_THEN_NOTICE) as p:
        cmd = VisitOutcomeCmd(outcome=VisitOutcome.MOVED, new_address=True)
        await _visit_reported(p, env, cmd)
        assert p.world.snapshot.channels.address is True
        assert p.world.letters[-1].post is True
        assert "visit_new_address" in p.world.kinds()


async def test_a_debtor_who_moved_without_a_new_address_is_as_not_found(start, env) -> None:
    """moved, nowhere known: the address is marked wrong, as for not_found (no post)."""
    async with start(strategy=VISIT_THEN_NOTICE) as p:
        await _visit_reported(p, env, VisitOutcomeCmd(outcome=VisitOutcome.MOVED))
        assert p.world.snapshot.channels.address is False
        assert p.world.letters[-1].post is False
        assert "visit_new_address" not in p.world.kinds()


async def test_no_field_agent_for_the_province_skips_the_visit(start) -> None:
    world = FakeWorld(field_agent=None)
    strategy = only_steps(Step.HOME_VISIT, Step.LEGAL_NOTICE)
    async with start(world=world, strategy=strategy) as p:
        await p.until(lambda: "legal_notice" in world.letter_kinds(), "the legal notice")
        assert not world.tasks


async def test_lawyer_opinion_then_authorization_moves_to_judicial(start, env) -> None:
    strategy = only_steps(Step.FORMAL_DEMAND, Step.LEGAL_OPINION, demand_term="P15D")
    async with start(strategy=strategy) as p:
        await p.until(lambda: "formal_demand" in p.world.letter_kinds(), "the formal demand")
        demand = p.world.letters[0]
        assert demand.lawyer_id == "lawyer-1"
        # 15 days on the court calendar (moved past a Sunday or holiday: see below)
        assert demand.pay_by == demand_deadline(TODAY, timedelta(days=15)).last_day
        with pytest.raises(WorkflowUpdateFailedError):  # the opinion comes after the term
            await p.send(UpdateName.LEGAL_OPINION, LegalOpinionCmd(recommend_action=True))

        await env.sleep(timedelta(days=17))
        await p.waiting_for("the lawyer's opinion")
        assert p.world.open_of("opinion")[0].assignee_id == "lawyer-1"
        await p.send(UpdateName.LEGAL_OPINION, LegalOpinionCmd(recommend_action=True))
        await p.waiting_for("the creditor's authorisation")
        request = p.world.notifications[-1]
        assert request.template == "authorization_request" and request.to == "creditor"
        assert request.params["recommend_action"] is True
        await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))

        await p.until(lambda: p.world.snapshot.phase == "judicial", "the judicial phase")
        assert p.world.snapshot.status == "active"
        assert not p.world.open_tasks
        await p.send(UpdateName.PAYMENT, pay(CLAIM, "BON-1"))
        assert await p.handle.result() == "paid"


async def test_opinion_reminders_stop_and_the_request_goes_to_the_admin(start, env) -> None:
    """Issue 11, point 13: after the strategy's reminders the lawyer is not reminded again
    (they repeated forever) and the request is on the admin's list, as overdue."""
    strategy = only_steps(Step.LEGAL_OPINION, opinion_timeout="P1D", opinion_reminders=2)
    async with start(strategy=strategy) as p:

        def asked() -> int:
            return sum(n.template == "opinion_request" for n in p.world.notifications)

        await p.waiting_for("the lawyer's opinion")
        await env.sleep(timedelta(days=3, hours=1))  # the request, two reminders, a timeout
        await p.waiting_for("overdue: on the admin's list")
        assert asked() == 3
        overdue = p.world.open_of("opinion_overdue")
        assert len(overdue) == 1 and overdue[0].detail == "no opinion after 2 reminder(s)"
        assert "opinion_overdue" in p.world.kinds()
        assert p.world.open_of("opinion")  # the lawyer may still answer

        await env.sleep(timedelta(days=30))
        await p.waiting_for("overdue: on the admin's list")
        assert asked() == 3  # no reminder any more
        await p.send(UpdateName.LEGAL_OPINION, LegalOpinionCmd(recommend_action=True))
        await p.waiting_for("the creditor's authorisation")
        assert not p.world.open_of("opinion_overdue") and not p.world.open_of("opinion")


async def test_creditor_declines(start) -> None:
    async with start(strategy=only_steps()) as p:
        await p.waiting_for("the creditor's authorisation")
        await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=False))
        assert await p.handle.result() == "returned"
        assert "declined" in p.world.events[max(p.world.events)].summary


async def test_creditor_never_answers(start) -> None:
    strategy = only_steps(authorization_reminder_interval="P7D", authorization_timeout="P30D")
    async with start(strategy=strategy) as p:
        await p.waiting_for("the creditor's authorisation")
        assert await p.handle.result() == "returned"  # the test server skips the 30 days
        to_creditor = [n for n in p.world.notifications if n.to == "creditor"]
        # the request, four weekly reminders, then the closure notice
        assert len(to_creditor) == 6
        assert [n.params.get("reminder") for n in to_creditor[:5]] == [0, 1, 2, 3, 4]
        assert to_creditor[5].template == "closed"
        assert p.world.kinds().count("authorization_reminder") == 4


async def test_withdrawal_by_the_creditor(start) -> None:
    async with start() as p:
        await p.first_call()
        await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
        assert await p.handle.result() == "withdrawn"
        assert not p.world.open_tasks


async def test_pre_due_reminders_then_collection(start, env) -> None:
    due = TODAY + timedelta(days=10)
    invoices = [Invoice(number="FT-1", issue_date=TODAY, due_date=due, amount_cents=CLAIM)]
    async with start(invoices=invoices) as p:
        await p.until(lambda: p.world.snapshot and p.world.snapshot.next_action_at, "a timer")
        assert p.world.snapshot.phase == "pre_due"
        await env.sleep(timedelta(days=8))
        await p.until(lambda: len(p.world.reminders) == 1, "the early reminder")
        assert p.world.reminders[0].moment == "before"
        await env.sleep(timedelta(days=2, hours=12))
        await p.until(lambda: len(p.world.reminders) == 2, "the reminder on the day")
        assert p.world.reminders[1].moment == "due_today"
        assert p.world.letter_kinds() == []
        await env.sleep(timedelta(days=5))
        await p.until(lambda: p.world.letter_kinds() == ["reminder_letter"], "the first letter")
        assert p.world.snapshot.phase == "out_of_court"


async def test_paid_before_the_due_date_means_no_collection(start) -> None:
    due = TODAY + timedelta(days=10)
    invoices = [Invoice(number="FT-1", issue_date=TODAY, due_date=due, amount_cents=CLAIM)]
    async with start(invoices=invoices) as p:
        await p.until(lambda: p.world.snapshot and p.world.snapshot.next_action_at, "a timer")
        await p.send(UpdateName.PAYMENT, pay(CLAIM, "BON-1"))
        assert await p.handle.result() == "paid"
        assert p.world.letters == [] and p.world.reminders == []


async def test_commands_nobody_waits_for_are_refused(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        for update, cmd in [
            (UpdateName.CALL_OUTCOME, CallOutcomeCmd(outcome=CallOutcome.REFUSED)),
            (UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True)),
            (UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd(dispute_id="x", upheld=False)),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await p.send(update, cmd)
            assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await p.send(
                UpdateName.PROMISE,
                PromiseCmd(promised_date=await p.today() - timedelta(days=1), amount_cents=100),
            )
        assert err.value.cause.type == RejectionType.INVALID  # type: ignore[union-attr]
        await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
        assert await p.handle.result() == "withdrawn"


async def test_history_replays_deterministically(start, env: WorkflowEnvironment) -> None:
    async with start() as p:
        await p.first_call()
        await p.send(
            UpdateName.CALL_OUTCOME,
            CallOutcomeCmd(
                outcome=CallOutcome.PROMISE,
                promised_date=await p.today() + timedelta(days=2),
                promised_amount_cents=1000,
            ),
        )
        await p.send(UpdateName.PAYMENT, pay(1000, "BON-1"))
        await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
        await p.handle.result()
        history = await p.handle.fetch_history()
    await replayer(pydantic_data_converter).replay_workflow(history)


async def test_nothing_is_queued_after_a_closure_that_arrives_mid_step(start) -> None:
    """A payment in full that lands while the workflow is busy between two waits (here: writing
    the timeline as the phone phase starts) must not be followed by a call to the debtor."""
    world = FakeWorld(hold_record_at_step=Step.PHONE_PHASE)
    strategy = only_steps(Step.REMINDER_LETTER, Step.PHONE_PHASE)
    strategy.setting(Step.REMINDER_LETTER).wait_after = "PT0S"
    async with start(world=world, strategy=strategy) as p:
        await p.until(lambda: world.record_held.is_set(), "the phone phase to start")
        update = await p.handle.start_update(
            UpdateName.PAYMENT,
            pay(CLAIM, "BON-1"),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=CommandResult,
        )
        world.release_record.set()
        assert (await update.result()).status == "closed"
        assert await p.handle.result() == "paid"
        assert "call_queued" not in p.world.kinds()
        assert not [t for t in p.world.tasks.values() if t.kind == "call"]


async def test_a_payment_racing_the_creditors_decline_stays_paid(start) -> None:
    world = FakeWorld(hold_close_of="authorization")
    async with start(world=world, strategy=only_steps()) as p:
        await p.waiting_for("the creditor's authorisation")
        await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=False))
        await p.until(lambda: world.close_held.is_set(), "the request being filed")
        payment = await p.handle.start_update(
            UpdateName.PAYMENT,
            pay(CLAIM, "BON-1"),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=CommandResult,
        )
        world.release_close.set()
        await payment.result()
        assert await p.handle.result() == "paid"
        assert p.world.kinds().count("closed") == 1
        assert [n.outcome for n in world.notifications if n.template == "closed"] == ["paid"]


async def test_a_returned_letter_stops_the_post_and_the_visit(start, env) -> None:
    strategy = only_steps(
        Step.REMINDER_LETTER, Step.SECOND_LETTER, Step.HOME_VISIT, Step.LEGAL_NOTICE
    )
    async with start(strategy=strategy) as p:
        await p.next_step_is(Step.SECOND_LETTER)
        assert p.world.letters[0].post is True
        await p.send(UpdateName.LETTER_RETURNED, LetterReturnedCmd())
        await env.sleep(timedelta(days=16))
        await p.until(lambda: len(p.world.letters) == 2, "the second letter")
        await env.sleep(timedelta(days=16))
        await p.until(lambda: "legal_notice" in p.world.letter_kinds(), "the legal notice")
        # no letter to a stranger's door, no agent sent to an address known to be wrong
        assert [letter.post for letter in p.world.letters] == [True, False, False]
        assert not [t for t in p.world.tasks.values() if t.kind == "visit"]
        assert any("address is known to be wrong" in e.summary for e in p.world.events.values())


async def test_skip_tracing_when_there_is_no_phone_and_the_letter_came_back(start, env) -> None:
    world = FakeWorld(channels=Channels(email=False, phone=False, address=True))
    strategy = only_steps(Step.REMINDER_LETTER, Step.SKIP_TRACING, Step.LEGAL_NOTICE)
    async with start(world=world, strategy=strategy) as p:
        await p.next_step_is(Step.SKIP_TRACING)
        await p.send(UpdateName.LETTER_RETURNED, LetterReturnedCmd())
        await env.sleep(timedelta(days=16))
        await p.waiting_for("skip tracing result")
        await p.send(
            UpdateName.TRACE_RESULT, TraceResultCmd(found=True, found_channels=["address"])
        )
        await p.until(lambda: "legal_notice" in world.letter_kinds(), "the legal notice")
        assert world.letters[-1].post is True  # the traced address gets the letters again


async def test_a_pause_does_not_cut_the_formal_demands_term_short(start, env) -> None:
    strategy = only_steps(Step.FORMAL_DEMAND, Step.LEGAL_OPINION, demand_term="P15D")
    async with start(strategy=strategy) as p:
        await p.until(lambda: "formal_demand" in p.world.letter_kinds(), "the formal demand")
        await env.sleep(timedelta(days=2))
        await p.send(UpdateName.DISPUTE, DisputeCmd(dispute_id="d1"))
        await env.sleep(timedelta(days=1))
        await p.send(
            UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd(dispute_id="d1", upheld=False)
        )
        await p.until(lambda: "resumed" in p.world.kinds(), "the resumption")
        await env.sleep(timedelta(days=5))
        assert not p.world.open_of("opinion")  # day 8 of 15: the debtor still has time
        await env.sleep(timedelta(days=9))
        await p.waiting_for("the lawyer's opinion")
        assert p.world.kinds().count("demand_term_expired") == 1


async def test_a_refused_letter_is_recorded_and_the_escalation_goes_on(start, env) -> None:
    world = FakeWorld(refuse_letter="reminder_letter")
    strategy = only_steps(Step.REMINDER_LETTER, Step.LEGAL_NOTICE)
    async with start(world=world, strategy=strategy) as p:
        await p.next_step_is(Step.LEGAL_NOTICE)
        await env.sleep(timedelta(days=16))
        await p.until(lambda: world.letter_kinds() == ["legal_notice"], "the legal notice")
        failed = [e for e in world.events.values() if e.kind == "send_failed"]
        assert len(failed) == 1 and "wording was refused" in failed[0].summary


async def test_call_attempts_made_before_a_pause_still_count(start, env) -> None:
    async with start(strategy=only_steps(Step.PHONE_PHASE, call_attempts=2)) as p:
        await p.waiting_for("call outcome (attempt 1/2)")
        await p.send(UpdateName.CALL_OUTCOME, CallOutcomeCmd(outcome=CallOutcome.NO_ANSWER))
        await p.until(lambda: p.world.snapshot.next_step == "phone_phase", "the retry wait")
        await p.send(
            UpdateName.PROMISE, PromiseCmd(promised_date=await p.today(), amount_cents=100)
        )
        await p.send(UpdateName.PAYMENT, pay(100, "BON-1"))  # kept: resumes the phone phase
        await p.waiting_for("call outcome (attempt 2/2)")
        assert len([t for t in p.world.tasks.values() if t.kind == "call"]) == 2


async def test_a_rejected_dispute_cannot_reduce_the_claim(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.DISPUTE, DisputeCmd(dispute_id="d1"))
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await p.send(
                UpdateName.DISPUTE_RESOLUTION,
                DisputeResolutionCmd(dispute_id="d1", upheld=False, reduce_by_cents=100),
            )
        assert err.value.cause.details == ("reduce_by",)  # type: ignore[union-attr]


async def test_a_bounced_email_drops_the_copy_and_a_failed_number_ends_the_call(start, env) -> None:
    strategy = only_steps(Step.REMINDER_LETTER, Step.PHONE_PHASE, Step.SECOND_LETTER)
    async with start(strategy=strategy) as p:
        await p.next_step_is(Step.PHONE_PHASE)
        assert p.world.email_copies == [p.world.letters[0].idempotency_key]
        await p.send(
            UpdateName.CONTACT_INVALID, ContactInvalidCmd(channel="email", reason="hard_bounce")
        )
        await p.first_call()
        await p.send(
            UpdateName.CONTACT_INVALID, ContactInvalidCmd(channel="phone", reason="sms_failed")
        )
        await p.until(lambda: p.world.snapshot.next_step == "second_letter", "the phone phase end")
        assert not p.world.open_of("call")
        await env.sleep(timedelta(days=8))
        await p.until(lambda: len(p.world.letters) == 2, "the second letter")
        assert p.world.letters[1].idempotency_key not in p.world.email_copies
        assert p.world.snapshot.channels.email is False
        assert p.world.snapshot.channels.phone is False
        with pytest.raises(WorkflowUpdateFailedError):
            await p.send(
                UpdateName.CONTACT_INVALID,
                ContactInvalidCmd(channel="email", reason="mailbox full"),
            )


async def test_emails_and_calls_wait_for_the_contact_hours(start, env) -> None:
    now = await env.get_current_time()
    fifteen_days = now + timedelta(days=15)
    world = FakeWorld(
        closed=[
            (now, now + timedelta(hours=10)),
            # the call falls due 15 days after the copy went (hour 10): hours closed till 16
            (fifteen_days + timedelta(hours=9), fifteen_days + timedelta(hours=16)),
        ]
    )
    strategy = only_steps(Step.REMINDER_LETTER, Step.PHONE_PHASE)
    async with start(world=world, strategy=strategy) as p:
        # the letter goes to the post at once; its e-mail copy waits for the hours to open
        await p.until(lambda: "contact_deferred" in world.kinds(), "the deferred copy")
        assert world.letter_kinds() == ["reminder_letter"] and world.email_copies == []
        assert "contact rules" in (world.snapshot.waiting_for or "")
        await env.sleep(timedelta(hours=10, minutes=1))
        await p.until(lambda: len(world.email_copies) == 1, "the e-mail copy")
        # fifteen days on, the call waits for the hours too before reaching the operators
        await env.sleep(timedelta(days=15))
        await p.until(lambda: world.kinds().count("contact_deferred") == 2, "the deferred call")
        assert not world.open_of("call")
        await env.sleep(timedelta(hours=6))
        await p.waiting_for("call outcome (attempt 1/3)")
        await p.send(UpdateName.CALL_OUTCOME, CallOutcomeCmd(outcome=CallOutcome.NO_ANSWER))
        # nobody answered: the debtor's conversation of the day is given back
        await p.until(lambda: len(world.released) == 1, "the released conversation")
        call_reservations = [r for r in world.reservations if r.channel == "call"]
        assert world.released == [call_reservations[-1].idempotency_key]


# -- issue 11 points 4, 5: the terms the letters print are the ones acted on -------------------


async def test_the_formal_demands_term_moves_past_a_sunday_or_holiday(start, env) -> None:
    """A demand whose term would end on a Sunday gives the debtor to the next working day (artt.
    1187, 2963 c.c.), and the practice waits for it (it was `now + term`)."""
    import holidays

    from domain.calendar import end_of_rome_day

    sent_on = rome_date(await env.get_current_time())
    days = next(k for k in range(15, 22) if (sent_on + timedelta(days=k)).weekday() == 6)
    sunday = sent_on + timedelta(days=days)
    national = holidays.country_holidays("IT", years=[sunday.year, sunday.year + 1])
    expected = sunday + timedelta(days=1)
    while expected.weekday() == 6 or expected in national:
        expected += timedelta(days=1)
    strategy = only_steps(Step.FORMAL_DEMAND, Step.LEGAL_OPINION, demand_term=f"P{days}D")
    async with start(strategy=strategy) as p:
        await p.until(lambda: "formal_demand" in p.world.letter_kinds(), "the formal demand")
        assert p.world.letters[0].pay_by == expected
        await env.sleep(end_of_rome_day(sunday) + timedelta(hours=1) - await env.get_current_time())
        assert "demand_term_expired" not in p.world.kinds()  # the Sunday is not the last day
        await env.sleep(end_of_rome_day(expected) - await env.get_current_time())
        await p.waiting_for("the lawyer's opinion")
        assert p.world.kinds().count("demand_term_expired") == 1


async def test_a_reminder_letter_prints_the_last_day_before_the_practice_acts(start, env) -> None:
    """The reminder letter's term is the strategy's wait after it (15 days): the letter says
    'entro il' the day before the next step, and the next step never comes before that day ends."""
    from domain.calendar import end_of_rome_day

    strategy = only_steps(Step.REMINDER_LETTER, Step.LEGAL_NOTICE)
    async with start(strategy=strategy) as p:
        sent_on = await p.today()
        await p.until(lambda: "reminder_letter" in p.world.letter_kinds(), "the reminder")
        pay_by = p.world.letters[0].pay_by
        assert pay_by is not None and pay_by >= sent_on + timedelta(days=14)
        assert pay_by <= sent_on + timedelta(days=15)
        await env.sleep(
            end_of_rome_day(pay_by) - timedelta(minutes=1) - await env.get_current_time()
        )
        assert "legal_notice" not in p.world.letter_kinds()  # paying on the day printed is in time
        await env.sleep(timedelta(days=2))
        await p.until(lambda: "legal_notice" in p.world.letter_kinds(), "the legal notice")
        notice = next(x for x in p.world.letters if x.kind == "legal_notice")
        assert notice.pay_by is not None and notice.pay_by > pay_by  # its own 10 days' wait


async def test_consumer_credit_needs_forbearance_and_debt_advice_before_court(start) -> None:
    """Point 15 (Directive (EU) 2023/2225 artt. 35, 36; D.Lgs. 212/2025, applying from 20
    November 2026): legal action on a consumer-credit debt is refused until a forbearance
    measure is recorded and the debt-advice notice letter is sent; declining stays possible."""
    from domain.consumer_credit import APPLIES_FROM
    from domain.practice import DebtAdviceNoticeCmd, ForbearanceCmd

    assert TODAY >= APPLIES_FROM  # the rule applies on the test's clock
    async with start(strategy=only_steps(), consumer_credit=True) as p:
        await p.waiting_for("the creditor's authorisation")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
        assert "forbearance" in str(refused.value.cause) and "debt-advice" in str(
            refused.value.cause
        )
        with pytest.raises(WorkflowUpdateFailedError):  # not one of art. 35's measures
            await p.send(UpdateName.FORBEARANCE, ForbearanceCmd("amnesty", TODAY))
        await p.send(UpdateName.FORBEARANCE, ForbearanceCmd("instalment_deferral", TODAY))
        with pytest.raises(WorkflowUpdateFailedError) as still:
            await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
        assert "debt-advice" in str(still.value.cause)
        assert "forbearance" not in str(still.value.cause)
        sent = await p.send(UpdateName.DEBT_ADVICE_NOTICE, DebtAdviceNoticeCmd())
        assert sent.accepted, sent.message
        assert p.world.letters[-1].kind == "debt_advice_notice"
        with pytest.raises(WorkflowUpdateFailedError):  # once per practice
            await p.send(UpdateName.DEBT_ADVICE_NOTICE, DebtAdviceNoticeCmd())
        kinds = [e.kind for e in p.world.events.values()]
        assert "forbearance_offered" in kinds and "letter_sent" in kinds
        await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
        await p.until(lambda: p.world.snapshot.phase == "judicial", "the judicial phase")


async def test_forbearance_is_only_for_consumer_credit(start) -> None:
    from domain.practice import DebtAdviceNoticeCmd, ForbearanceCmd

    async with start(strategy=only_steps()) as p:
        await p.waiting_for("the creditor's authorisation")
        with pytest.raises(WorkflowUpdateFailedError):
            await p.send(UpdateName.FORBEARANCE, ForbearanceCmd("payment_holiday", TODAY))
        with pytest.raises(WorkflowUpdateFailedError):
            await p.send(UpdateName.DEBT_ADVICE_NOTICE, DebtAdviceNoticeCmd())
        await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
        await p.until(lambda: p.world.snapshot.phase == "judicial", "the judicial phase")
