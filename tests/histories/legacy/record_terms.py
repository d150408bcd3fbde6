"""Records the histories guarding the legal-terms changes (issue 11 points 4, 7, 8), on the
code before them: run from a checkout of that code, first on the path, like record.py:

    PYTHONPATH=<old checkout> .venv/bin/python tests/histories/legacy/record_terms.py DIR

Writes DIR/practice_demand_term.json (a formal demand, its term run out, the lawyer's opinion,
the authorisation, the court steps opened, a payment) and DIR/judicial_terms.json (the court
steps: filing, decree, service, no opposition, a precetto whose 90 days run out, a second
precetto, the pignoramento and its outcome).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.calendar import rome_date
from domain.judicial import (
    DecreeCmd,
    FilingCmd,
    JudicialUpdate,
    PignoramentoCmd,
    PignoramentoOutcomeCmd,
    PrecettoCmd,
    SeizureOutcome,
    ServiceCmd,
    judicial_workflow_id,
)
from domain.practice import (
    AuthorizationCmd,
    CommandResult,
    DebtorKind,
    LegalOpinionCmd,
    PaymentCmd,
    PracticeInput,
    UpdateName,
    workflow_id_for,
)
from domain.strategy import Step
from tests.conftest import venv_binary
from tests.workflows.conftest import Practice, only_steps, overdue_invoices
from tests.workflows.fakes import FakeWorld
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow


async def main(out: Path) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        world = FakeWorld()
        inp = PracticeInput(
            practice_id="1123456789abcdef0123456789abcdef",
            creditor_id="creditor-1",
            debtor_kind=DebtorKind.CONSUMER,
            province="MI",
            invoices=overdue_invoices(125040),
            strategy=only_steps(Step.FORMAL_DEMAND, Step.LEGAL_OPINION, demand_term="P15D"),
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
            await p.until(lambda: "formal_demand" in world.letter_kinds(), "the formal demand")
            await env.sleep(timedelta(days=17))
            await p.waiting_for("the lawyer's opinion")
            await p.send(UpdateName.LEGAL_OPINION, LegalOpinionCmd(recommend_action=True))
            await p.waiting_for("the creditor's authorisation")
            await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
            await p.until(lambda: world.judicial is not None, "the court steps")
            j = env.client.get_workflow_handle(judicial_workflow_id(inp.practice_id))

            async def court(update: str, cmd: object) -> None:
                await j.execute_update(update, cmd, result_type=CommandResult)

            async def stage(name: str) -> None:
                await p.until(lambda: world.judicial is not None and world.judicial.stage == name)

            today = rome_date(await env.get_current_time())
            await court(JudicialUpdate.FILING, FilingCmd(filed_on=today))
            await court(JudicialUpdate.DECREE, DecreeCmd(issued_on=today))
            await stage("awaiting_service")
            await court(JudicialUpdate.SERVICE, ServiceCmd(served_on=today))
            await stage("opposition_term")
            await env.sleep(timedelta(days=75))
            await stage("decree_final")
            first = rome_date(await env.get_current_time())
            await court(JudicialUpdate.PRECETTO, PrecettoCmd(served_on=first))
            await stage("precetto_term")
            await env.sleep(timedelta(days=100))  # the precetto lapses
            await p.until(lambda: "precetto_lapsed" in world.judicial_kinds(), "the lapse")
            await stage("decree_final")
            second = rome_date(await env.get_current_time())
            await court(JudicialUpdate.PRECETTO, PrecettoCmd(served_on=second))
            await stage("precetto_term")
            await env.sleep(timedelta(days=12))
            await stage("awaiting_pignoramento")
            started = rome_date(await env.get_current_time())
            await court(JudicialUpdate.PIGNORAMENTO, PignoramentoCmd(started_on=started))
            await stage("pignoramento")
            await court(
                JudicialUpdate.PIGNORAMENTO_OUTCOME,
                PignoramentoOutcomeCmd(outcome=SeizureOutcome.NEGATIVE),
            )
            await stage("done")
            judicial_history = await j.fetch_history()
            await p.send(UpdateName.PAYMENT, PaymentCmd(125040, started, "BON-1"))
            await handle.result()
            history = await handle.fetch_history()
        (out / "practice_demand_term.json").write_text(history.to_json())
        (out / "judicial_terms.json").write_text(judicial_history.to_json())
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
