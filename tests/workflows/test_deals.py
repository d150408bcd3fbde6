"""Repayment plans and settlements, and closures that are not payment (time-skipping server)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from domain.plans import (
    ClosureCmd,
    ClosureReason,
    Instalment,
    ProposalCmd,
    ProposalDecisionCmd,
    ProposalKind,
)
from domain.practice import PaymentCmd, RejectionType, UpdateName, WithdrawalCmd
from domain.strategy import Step
from tests.workflows.conftest import Practice, only_steps

CLAIM = 125040


def pay(p_today, cents: int, ref: str) -> PaymentCmd:
    return PaymentCmd(amount_cents=cents, paid_on=p_today, reference=ref)


async def plan(p: Practice, *amounts: int, every: int = 30, pid: str = "plan-1") -> ProposalCmd:
    today = await p.today()
    return ProposalCmd(
        proposal_id=pid,
        kind=ProposalKind.PLAN,
        instalments=[
            Instalment(due_date=today + timedelta(days=every * (n + 1)), amount_cents=a)
            for n, a in enumerate(amounts)
        ],
    )


async def test_a_plan_kept_to_the_end_closes_paid(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.PROPOSAL, await plan(p, 62520, 62520))
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
        assert [i.amount_cents for i in p.world.snapshot.plan.instalments] == [62520, 62520]
        await p.env.sleep(timedelta(days=28))  # the reminder three days before the first
        await p.until(lambda: "plan_reminder" in p.world.kinds(), "the reminder")
        assert p.world.reminders[-1].moment == "instalment"
        await p.send(UpdateName.PAYMENT, pay(await p.today(), 62520, "R1"))
        await p.env.sleep(timedelta(days=30))
        await p.send(UpdateName.PAYMENT, pay(await p.today(), 62520, "R2"))
        assert await p.handle.result() == "paid"
        assert p.world.letter_kinds() == ["reminder_letter"]  # no escalation during the plan


async def test_a_missed_instalment_warns_then_breaks_and_escalation_resumes(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.PROPOSAL, await plan(p, 62520, 62520))
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
        # a short payment leaves the rest of the instalment due
        await p.send(UpdateName.PAYMENT, pay(await p.today(), 20000, "R1"))
        await p.until(lambda: p.world.snapshot.plan.instalments[0].paid_cents == 20000, "match")
        await p.env.sleep(timedelta(days=36))  # 30 days + 5 of grace + 1
        await p.until(lambda: "plan_warning" in p.world.kinds(), "the warning")
        assert p.world.reminders[-1].moment == "plan_warning"
        assert p.world.reminders[-1].amount_cents == 42520
        await p.env.sleep(timedelta(days=6))
        await p.until(lambda: "plan_broken" in p.world.kinds(), "the breach")
        # escalation resumes after the step where the plan began, with the balance as it is
        await p.waiting_for("call outcome (attempt 1/3)")
        assert (await p.state()).balance_cents == CLAIM - 20000


async def test_a_proposal_outside_the_bounds_waits_for_the_creditor(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        # 24 instalments: more than the default 12 the creditor accepts without being asked
        many = [5210] * 23 + [CLAIM - 5210 * 23]
        result = await p.send(UpdateName.PROPOSAL, await plan(p, *many, every=15))
        assert result.status == "paused_proposal"
        await p.until(
            lambda: any(n.template == "proposal_request" for n in p.world.notifications),
            "the request",
        )
        await p.send(
            UpdateName.PROPOSAL_DECISION, ProposalDecisionCmd(proposal_id="plan-1", approved=True)
        )
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")


async def test_a_refused_or_unanswered_proposal_resumes_the_escalation(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        today = await p.today()
        low = ProposalCmd(
            proposal_id="s-1",
            kind=ProposalKind.SETTLEMENT,
            settlement_cents=50000,
            settle_by=today + timedelta(days=10),
        )
        await p.send(UpdateName.PROPOSAL, low)  # a 60% discount: the creditor decides
        await p.send(
            UpdateName.PROPOSAL_DECISION, ProposalDecisionCmd(proposal_id="s-1", approved=False)
        )
        await p.until(lambda: "proposal_refused" in p.world.kinds(), "the refusal")
        await p.until(lambda: p.world.snapshot.status == "active", "the escalation")
        again = ProposalCmd(
            proposal_id="s-2",
            kind=ProposalKind.SETTLEMENT,
            settlement_cents=50000,
            settle_by=today + timedelta(days=10),
        )
        await p.send(UpdateName.PROPOSAL, again)
        await p.env.sleep(timedelta(days=15))  # no answer within proposal_timeout (P14D)
        await p.until(lambda: p.world.kinds().count("proposal_refused") == 2, "the timeout")
        reminders = [
            n
            for n in p.world.notifications
            if n.template == "proposal_request" and "s-2" in n.idempotency_key
        ]
        assert len(reminders) >= 4  # the request and a reminder every 3 days


async def test_a_settlement_paid_closes_as_settled_and_writes_off_the_rest(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        deal = ProposalCmd(
            proposal_id="s-1",
            kind=ProposalKind.SETTLEMENT,
            settlement_cents=110000,
            settle_by=await p.today() + timedelta(days=10),
        )
        assert (await p.send(UpdateName.PROPOSAL, deal)).status == "paused_settlement"
        await p.send(UpdateName.PAYMENT, pay(await p.today(), 110000, "S1"))
        assert await p.handle.result() == "settled"
        assert p.world.snapshot.written_off_cents == CLAIM - 110000


async def test_a_settlement_missed_lapses_and_escalation_resumes(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        deal = ProposalCmd(
            proposal_id="s-1",
            kind=ProposalKind.SETTLEMENT,
            settlement_cents=110000,
            settle_by=await p.today() + timedelta(days=5),
        )
        await p.send(UpdateName.PROPOSAL, deal)
        await p.env.sleep(timedelta(days=6))
        await p.until(lambda: "settlement_lapsed" in p.world.kinds(), "the lapse")
        await p.waiting_for("call outcome")
        assert (await p.state()).balance_cents == CLAIM


async def test_a_withdrawal_during_a_plan_ends_both(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.PROPOSAL, await plan(p, 62520, 62520))
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
        with pytest.raises(WorkflowUpdateFailedError) as err:  # a second plan while one runs
            await p.send(UpdateName.PROPOSAL, await plan(p, CLAIM, pid="plan-2"))
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]
        await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
        assert await p.handle.result() == "withdrawn"


async def test_bad_plans_are_refused_naming_the_field(start) -> None:
    async with start(strategy=only_steps(Step.REMINDER_LETTER)) as p:
        await p.next_step_is("authorization")
        for bad, field in [
            (await plan(p, 60000, 60000), "instalments"),  # does not add up to the balance
            (
                ProposalCmd(
                    proposal_id="x",
                    kind=ProposalKind.PLAN,
                    instalments=[
                        Instalment(await p.today() + timedelta(days=20), 62520),
                        Instalment(await p.today() + timedelta(days=10), 62520),
                    ],
                ),
                "instalments",
            ),
            (
                ProposalCmd(
                    proposal_id="y",
                    kind=ProposalKind.SETTLEMENT,
                    settlement_cents=CLAIM,
                    settle_by=await p.today(),
                ),
                "settlement",
            ),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await p.send(UpdateName.PROPOSAL, bad)
            assert err.value.cause.details == (field,)  # type: ignore[union-attr]


async def test_insolvency_closes_and_tells_the_creditor_what_to_file(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.CLOSURE, ClosureCmd(reason=ClosureReason.INSOLVENCY))
        assert await p.handle.result() == "insolvency"
        closed = [e for e in p.world.events.values() if e.kind == "closed"][0]
        assert "insinuazione al passivo" in closed.summary
        assert p.world.notifications[-1].outcome == "insolvency"


async def test_an_early_payoff_closes_the_plan_and_the_practice(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.PROPOSAL, await plan(p, 41680, 41680, 41680))
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
        await p.send(UpdateName.PAYMENT, pay(await p.today(), CLAIM, "ALL"))
        assert await p.handle.result() == "paid"
        assert "plan_warning" not in p.world.kinds()


async def test_a_short_payment_then_a_catch_up_keeps_the_plan_on_time(start) -> None:
    async with start() as p:
        await p.next_step_is(Step.PHONE_PHASE)
        await p.send(UpdateName.PROPOSAL, await plan(p, 62520, 62520))
        await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
        await p.env.sleep(timedelta(days=29))
        await p.send(UpdateName.PAYMENT, pay(await p.today(), 40000, "R1a"))
        await p.env.sleep(timedelta(days=3))  # inside the grace period
        # the catch-up pays the rest and 100.00 more: the excess goes to the next instalment
        await p.send(UpdateName.PAYMENT, pay(await p.today(), 32520, "R1b"))
        await p.until(lambda: p.world.snapshot.plan.instalments[0].paid_cents == 62520, "R1")
        assert p.world.snapshot.plan.instalments[1].paid_cents == 10000
        await p.env.sleep(timedelta(days=10))
        assert "plan_warning" not in p.world.kinds()
        assert p.world.snapshot.status == "paused_plan"
