"""Records a release's histories: every path of a practice, on the code checked out now.

    make histories RELEASE=2026.12
    # or: .venv/bin/python -m tests.histories.record 2026.12 [PATH ...]

Each path runs on its own time-skipping test server (tests/workflows/conftest.py's fakes stand
in for the activities) and is written to tests/histories/<release>/<path>.json; the plan and
court paths also write their child workflow's history (plan_completed.json, plan_broken.json,
judicial.json, judicial_eu.json). tests/histories/test_replay_releases.py replays every file of
every release on the current code in CI, so a workflow change that would break a practice
started on an earlier release fails there. Record once, before tagging a release, and commit
the folder; it is never re-recorded (a release's histories are what its workers wrote).
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.judicial import (
    DecreeCmd,
    FilingCmd,
    JudicialUpdate,
    PignoramentoCmd,
    PignoramentoOutcomeCmd,
    PrecettoCmd,
    Residence,
    SeizureOutcome,
    ServiceCmd,
    judicial_workflow_id,
)
from domain.judicial_eu import (
    EuApplicationCmd,
    EuDecision,
    EuDecisionCmd,
    EuIssuedCmd,
    EuProcedure,
    EuServiceCmd,
    EuUpdate,
)
from domain.plans import Instalment, ProposalCmd, ProposalKind, plan_workflow_id
from domain.practice import (
    AuthorizationCmd,
    CallOutcome,
    CallOutcomeCmd,
    CommandResult,
    DebtorKind,
    DisputeCmd,
    DisputeResolutionCmd,
    PaymentCmd,
    PracticeInput,
    UpdateName,
    WithdrawalCmd,
    workflow_id_for,
)
from domain.strategy import Step, Strategy, validate_strategy
from tests.conftest import venv_binary
from tests.workflows.conftest import Practice, only_steps, overdue_invoices
from tests.workflows.fakes import FakeWorld
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow

HERE = Path(__file__).parent
CLAIM = 125040

# a path drives one practice to its end and names the children whose histories it keeps
Children = dict[str, WorkflowHandle]
Path_ = Callable[[Practice], Awaitable[Children]]


async def pay(p: Practice, cents: int, reference: str) -> None:
    await p.send(UpdateName.PAYMENT, PaymentCmd(cents, await p.today(), reference))


async def handed_over_to_payment(p: Practice) -> Children:
    """The reminder letter, then the debt paid in full while the phone phase waits."""
    await p.next_step_is(Step.PHONE_PHASE)
    await pay(p, CLAIM, "BON-1")
    return {}


async def promise_broken(p: Practice) -> Children:
    """A promise on the first call, its date and grace gone by unpaid: the escalation resumes
    (the second letter), then the debt is paid."""
    await p.first_call()
    promise = CallOutcomeCmd(
        outcome=CallOutcome.PROMISE,
        promised_date=await p.today() + timedelta(days=3),
        promised_amount_cents=CLAIM,
    )
    await p.send(UpdateName.CALL_OUTCOME, promise)
    await p.until(lambda: p.world.snapshot.status == "paused_promise", "the pause")
    await p.env.sleep(timedelta(days=7))
    await p.until(lambda: "second_letter" in p.world.letter_kinds(), "the second letter")
    await pay(p, CLAIM, "BON-1")
    return {}


async def _plan(p: Practice) -> WorkflowHandle:
    await p.next_step_is(Step.PHONE_PHASE)
    today = await p.today()
    instalments = [Instalment(today + timedelta(days=30 * n), 62520) for n in (1, 2)]
    proposal = ProposalCmd(proposal_id="plan-1", kind=ProposalKind.PLAN, instalments=instalments)
    await p.send(UpdateName.PROPOSAL, proposal)
    await p.until(lambda: p.world.snapshot.status == "paused_plan", "the plan")
    return p.env.client.get_workflow_handle(plan_workflow_id(p.inp.practice_id, "plan-1"))


async def plan_completed(p: Practice) -> Children:
    """A plan of two instalments: the reminder before the first, both paid, the practice paid."""
    plan = await _plan(p)
    await p.env.sleep(timedelta(days=28))
    await p.until(lambda: "plan_reminder" in p.world.kinds(), "the reminder")
    await pay(p, 62520, "R-1")
    await p.env.sleep(timedelta(days=30))
    await pay(p, 62520, "R-2")
    return {"plan_completed": plan}


async def plan_broken(p: Practice) -> Children:
    """A plan whose first instalment is paid in part: the warning, the breach, the escalation
    back on the phone phase, then a withdrawal."""
    plan = await _plan(p)
    await pay(p, 20000, "R-1")
    await p.env.sleep(timedelta(days=36))
    await p.until(lambda: "plan_warning" in p.world.kinds(), "the warning")
    await p.env.sleep(timedelta(days=6))
    await p.until(lambda: "plan_broken" in p.world.kinds(), "the breach")
    await p.waiting_for("call outcome (attempt 1/")
    await p.send(UpdateName.WITHDRAWAL, WithdrawalCmd())
    return {"plan_broken": plan}


async def dispute_accepted(p: Practice) -> Children:
    """A dispute during the phone phase, upheld: the practice closes."""
    await p.next_step_is(Step.PHONE_PHASE)
    await p.send(UpdateName.DISPUTE, DisputeCmd(dispute_id="d-1"))
    await p.until(lambda: p.world.snapshot.status == "paused_dispute", "the dispute pause")
    await p.env.sleep(timedelta(days=10))
    await p.send(UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd("d-1", upheld=True))
    return {}


async def dispute_rejected(p: Practice) -> Children:
    """A dispute with a call queued: the call withdrawn, ten days of nothing, the dispute
    rejected, the call queued again, then the debt paid."""
    await p.first_call()
    await p.send(UpdateName.DISPUTE, DisputeCmd(dispute_id="d-1"))
    await p.until(lambda: not p.world.open_of("call"), "the call withdrawn")
    await p.env.sleep(timedelta(days=10))
    await p.send(UpdateName.DISPUTE_RESOLUTION, DisputeResolutionCmd("d-1", upheld=False))
    await p.until(lambda: len(p.world.open_of("call")) == 1, "the call queued again")
    await pay(p, CLAIM, "BON-1")
    return {}


async def judicial(p: Practice) -> Children:
    """Authorised at once: the filing, the decree, its service, no opposition, the precetto,
    the pignoramento assigning part of the debt, then the rest paid."""
    await p.waiting_for("the creditor's authorisation")
    await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
    await p.until(lambda: p.world.judicial is not None, "the court steps")
    j = p.env.client.get_workflow_handle(judicial_workflow_id(p.inp.practice_id))

    async def court(update: str, cmd: object) -> None:
        await j.execute_update(update, cmd, result_type=CommandResult)

    async def stage(name: str) -> None:
        await p.until(lambda: p.world.judicial is not None and p.world.judicial.stage == name, name)

    today = await p.today()
    await court(JudicialUpdate.FILING, FilingCmd(filed_on=today))
    await court(JudicialUpdate.DECREE, DecreeCmd(issued_on=today))
    await stage("awaiting_service")
    await court(JudicialUpdate.SERVICE, ServiceCmd(served_on=today))
    await stage("opposition_term")
    await p.env.sleep(timedelta(days=75))
    await stage("decree_final")
    await court(JudicialUpdate.PRECETTO, PrecettoCmd(served_on=await p.today()))
    await stage("precetto_term")
    await p.env.sleep(timedelta(days=12))
    await stage("awaiting_pignoramento")
    await court(JudicialUpdate.PIGNORAMENTO, PignoramentoCmd(started_on=await p.today()))
    await court(
        JudicialUpdate.PIGNORAMENTO_OUTCOME,
        PignoramentoOutcomeCmd(outcome=SeizureOutcome.ASSIGNED, amount_cents=80000),
    )
    await p.until(
        lambda: p.world.snapshot.judicial_stage == "pignoramento_assigned", "the court's end"
    )
    await pay(p, CLAIM, "ASSIGN-1")
    return {"judicial": j}


async def judicial_eu(p: Practice) -> Children:
    """A debtor elsewhere in the EU, authorised at once: form A of the European payment order
    lodged in Germany, the order issued and served, no opposition in 30 days, declared
    enforceable (workflows/judicial_eu.py); then paid."""
    await p.waiting_for("the creditor's authorisation")
    await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
    await p.until(lambda: p.world.judicial is not None, "the court steps")
    j = p.env.client.get_workflow_handle(judicial_workflow_id(p.inp.practice_id))

    async def court(update: str, cmd: object) -> None:
        await j.execute_update(update, cmd, result_type=CommandResult)

    async def stage(name: str) -> None:
        await p.until(lambda: p.world.judicial is not None and p.world.judicial.stage == name, name)

    today = await p.today()
    await court(
        EuUpdate.APPLICATION,
        EuApplicationCmd(EuProcedure.PAYMENT_ORDER, filed_on=today, court_country="DE"),
    )
    await stage("eu_awaiting_issue")
    await court(EuUpdate.ISSUED, EuIssuedCmd(issued_on=today))
    await stage("eu_awaiting_service")
    await court(EuUpdate.SERVICE, EuServiceCmd(served_on=today))
    await stage("eu_response_term")
    await p.env.sleep(timedelta(days=35))
    await stage("eu_awaiting_decision")
    await court(EuUpdate.DECISION, EuDecisionCmd(EuDecision.ENFORCEABLE, await p.today()))
    await p.until(
        lambda: p.world.snapshot.judicial_stage == "eu_payment_order_enforceable",
        "the court's end",
    )
    await pay(p, CLAIM, "EPO-1")
    return {"judicial_eu": j}


# file name -> (the strategy, the path)
PATHS: dict[str, tuple[Callable[[], Strategy], Path_]] = {
    "practice_paid": (lambda: validate_strategy(Strategy()), handed_over_to_payment),
    "practice_promise_broken": (lambda: validate_strategy(Strategy()), promise_broken),
    "practice_plan_completed": (lambda: validate_strategy(Strategy()), plan_completed),
    "practice_plan_broken": (lambda: validate_strategy(Strategy()), plan_broken),
    "practice_dispute_accepted": (lambda: validate_strategy(Strategy()), dispute_accepted),
    "practice_dispute_rejected": (lambda: validate_strategy(Strategy()), dispute_rejected),
    "practice_judicial": (only_steps, judicial),
    "practice_judicial_eu": (only_steps, judicial_eu),
}
# the debtor's residence where a path needs it other than Italy
RESIDENCES = {"practice_judicial_eu": Residence.EU}


async def record(name: str) -> dict[str, str]:
    """Runs one path to the practice's end; its history and its children's, as JSON."""
    strategy, path = PATHS[name]
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        world = FakeWorld()
        inp = PracticeInput(
            # fixed per path: a release's files differ from the last one's only where code did
            practice_id=hashlib.sha256(name.encode()).hexdigest()[:32],
            creditor_id="creditor-1",
            debtor_kind=DebtorKind.CONSUMER,
            province="MI",
            invoices=overdue_invoices(CLAIM),
            strategy=strategy(),
            channels=world.channels,
            residence=RESIDENCES.get(name, Residence.ITALY),
        )
        async with Worker(
            env.client,
            task_queue="histories",
            workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
            activities=world.activities(),
        ):
            handle = await env.client.start_workflow(
                PracticeWorkflow.run,
                inp,
                id=workflow_id_for(inp.practice_id),
                task_queue="histories",
            )
            children = await path(Practice(env, handle, world, inp))
            outcome = await handle.result()
            print(f"{name}: {outcome}", file=sys.stderr)
            histories = {name: (await handle.fetch_history()).to_json()}
            for child, child_handle in children.items():
                histories[child] = (await child_handle.fetch_history()).to_json()
        return histories
    finally:
        await env.shutdown()


def provenance() -> str:
    """What the histories were recorded on, kept beside them (RECORDED.txt)."""
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    return f"commit {commit or 'unknown'}\ntemporalio {version('temporalio')}\n"


async def main(release: str, names: list[str]) -> None:
    if not release or "/" in release or release.startswith("."):
        raise SystemExit("usage: python -m tests.histories.record RELEASE [PATH ...]")
    unknown = sorted(set(names) - set(PATHS))
    if unknown:
        raise SystemExit(f"unknown paths {unknown}; the paths: {sorted(PATHS)}")
    out = HERE / release
    out.mkdir(exist_ok=True)
    for name in names or PATHS:
        for stem, text in (await record(name)).items():
            (out / f"{stem}.json").write_text(text)
    (out / "RECORDED.txt").write_text(provenance())
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "", sys.argv[2:]))
