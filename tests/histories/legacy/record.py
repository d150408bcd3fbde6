"""Records the history of one practice run, for the replay tests of workflow.patched changes.

Run from a checkout of the code *before* a change (a git worktree of the earlier commit), with
that checkout first on the path, and keep the JSON it writes:

    PYTHONPATH=. .venv/bin/python tests/histories/legacy/record.py OUT.json [SCENARIO]

(on commits before the histories moved to tests/histories/, copy this file into the old
checkout; it was tests/workflows/histories/record.py there). Each scenario guards one change:
the release recorder, tests/histories/record.py, records every path of a whole release.

The scenarios:
- "promise" (the default): a reminder letter, the phone phase, a partial payment and a promise
  to pay while the phone phase waits, then a withdrawal;
- "plan_dispute": a repayment plan, a dispute opened while it runs, rejected, then a payment
  and a withdrawal;
- "mixed_due": one invoice overdue and one not yet due at the hand-over, a few days, then a
  withdrawal;
- "judicial_end": authorised, the court steps stopped by the creditor, a month with nothing to
  do, then a withdrawal;
- "opinion": the lawyer's opinion asked, four reminders (a one-day timeout), the opinion given,
  then a withdrawal while the creditor's authorisation waits;
- "visit": a home visit reported as not found (the address marked wrong), the legal notice
  after it, then a withdrawal.

judicial_eu.json is not from this recorder: it is the court steps' history of
tests/histories/record.py's "practice_judicial_eu" path (the EU payment order, issue 16),
recorded when the EU path was added, so that it replays until a release records that path.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.calendar import rome_date
from domain.plans import Instalment, ProposalCmd, ProposalKind
from domain.practice import (
    AuthorizationCmd,
    DebtorKind,
    DisputeCmd,
    DisputeResolutionCmd,
    Invoice,
    LegalOpinionCmd,
    PaymentCmd,
    PracticeInput,
    PromiseCmd,
    StopJudicialCmd,
    UpdateName,
    VisitOutcome,
    VisitOutcomeCmd,
    WithdrawalCmd,
    workflow_id_for,
)
from domain.strategy import Step
from tests.conftest import venv_binary
from tests.workflows.conftest import Practice, only_steps, overdue_invoices
from tests.workflows.fakes import FakeWorld
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow


async def main(scenario: str = "promise") -> str:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        today = rome_date(datetime.now(UTC))
        world = FakeWorld()
        invoices = overdue_invoices(125040)
        if scenario == "mixed_due":
            ahead = today + timedelta(days=20)
            invoices.append(Invoice("FT-2", ahead - timedelta(days=30), ahead, 30000))
        inp = PracticeInput(
            practice_id="0123456789abcdef0123456789abcdef",
            creditor_id="creditor-1",
            debtor_kind=DebtorKind.CONSUMER,
            province="MI",
            invoices=invoices,
            strategy=(
                only_steps()
                if scenario == "judicial_end"
                else only_steps(Step.LEGAL_OPINION, opinion_timeout="P1D")
                if scenario == "opinion"
                else only_steps(Step.CONTACT_CHECK, Step.HOME_VISIT, Step.LEGAL_NOTICE)
                if scenario == "visit"
                else only_steps(Step.REMINDER_LETTER, Step.PHONE_PHASE)
            ),
            channels=world.channels,
        )
        async with Worker(
            env.client,
            task_queue="history",
            workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
            activities=world.activities(),
        ):
            handle = await env.client.start_workflow(
                PracticeWorkflow.run, inp, id=workflow_id_for(inp.practice_id), task_queue="history"
            )
            p = Practice(env, handle, world, inp)
            if scenario == "promise":
                await p.next_step_is(Step.PHONE_PHASE)
                await p.send(UpdateName.PAYMENT, PaymentCmd(20000, today, "BON-1"))
                await p.send(UpdateName.PROMISE, PromiseCmd(today + timedelta(days=10), 50000))
            elif scenario == "plan_dispute":
                await p.next_step_is(Step.PHONE_PHASE)
                due = [today + timedelta(days=30), today + timedelta(days=60)]
                await p.send(
                    UpdateName.PROPOSAL,
                    ProposalCmd(
                        proposal_id="plan-1",
                        kind=ProposalKind.PLAN,
                        instalments=[Instalment(d, 62520) for d in due],
                    ),
                )
                await p.until(lambda: world.snapshot.status == "paused_plan", "the plan")
                await env.sleep(timedelta(days=10))
                await p.send(UpdateName.DISPUTE, DisputeCmd("d-1"))
                await env.sleep(timedelta(days=5))
                await p.send(UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd("d-1", False))
                await env.sleep(timedelta(days=2))
                await p.send(UpdateName.PAYMENT, PaymentCmd(62520, today, "R-1"))
            elif scenario == "judicial_end":
                await p.waiting_for("the creditor's authorisation")
                await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
                await p.until(lambda: world.judicial is not None, "the court steps")
                await p.send(UpdateName.STOP_JUDICIAL, StopJudicialCmd())
                await p.until(lambda: world.snapshot.judicial_stage == "stopped", "stopped")
                await env.sleep(timedelta(days=30))
            elif scenario == "opinion":
                await p.waiting_for("the lawyer's opinion")
                # past the default cap of three reminders OPINION_REMINDERS_CAPPED brought
                await env.sleep(timedelta(days=4, hours=12))
                await p.until(
                    lambda: sum(n.template == "opinion_request" for n in world.notifications) == 5,
                    "four reminders",
                )
                await p.send(UpdateName.LEGAL_OPINION, LegalOpinionCmd(recommend_action=True))
                await p.waiting_for("the creditor's authorisation")
            elif scenario == "visit":
                await p.waiting_for("home visit outcome")
                outcome = VisitOutcomeCmd(outcome=VisitOutcome.NOT_FOUND)
                await p.send(UpdateName.VISIT_OUTCOME, outcome)
                await env.sleep(timedelta(days=8))
                await p.until(lambda: "legal_notice" in world.letter_kinds(), "the legal notice")
            elif scenario == "mixed_due":
                await env.sleep(timedelta(days=4))
                await p.until(lambda: world.snapshot.next_step is not None, "a wait")
            else:
                raise SystemExit(f"unknown scenario {scenario}")
            await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
            await handle.result()
            history = await handle.fetch_history()
        return history.to_json()
    finally:
        await env.shutdown()


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(asyncio.run(main(*sys.argv[2:3])))
