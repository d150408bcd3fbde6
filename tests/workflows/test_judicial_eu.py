"""The court steps on the EU path (workflows/judicial_eu.py): the European payment order and the
European small claims procedure, their terms on the court calendar of the court's member state
(Reg. 1182/71), on the time-skipping test server."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from domain.eu_procedures import EPO_ISSUE, EPO_OPPOSITION, SMALL_CLAIMS_ANSWER, compute_eu_deadline
from domain.judicial import FilingCmd, JudicialUpdate, Residence
from domain.judicial_eu import (
    EuApplicationCmd,
    EuDecision,
    EuDecisionCmd,
    EuIssuedCmd,
    EuProcedure,
    EuResponseCmd,
    EuServiceCmd,
    EuUpdate,
)
from domain.practice import RejectionType
from tests.workflows.conftest import Practice, only_steps
from tests.workflows.test_judicial import authorised, court, deadline


async def _apply(p: Practice, j: WorkflowHandle, procedure: EuProcedure, day: date) -> None:
    await court(
        j,
        EuUpdate.APPLICATION,
        EuApplicationCmd(procedure=procedure, filed_on=day, court_country="DE", court="AG Wedding"),
    )


async def test_an_unopposed_payment_order_is_declared_enforceable(start) -> None:
    async with start(strategy=only_steps(), residence=Residence.EU) as p:
        j = await authorised(p)
        today = await p.today()
        await _apply(p, j, EuProcedure.PAYMENT_ORDER, today)
        await p.until(lambda: p.world.judicial.stage == "eu_awaiting_issue", "the issue")
        # the consumer's interest switches rate from the filing, as for a ricorso
        await p.until(lambda: p.world.snapshot.claim_filed_on == today, "the filing date")
        issue = deadline(p, "epo_issue")
        assert issue.rule == "art. 12(1) Reg. 1896/2006"
        assert issue.last_day == compute_eu_deadline(EPO_ISSUE, today, "DE").last_day
        assert p.world.judicial.eu.procedure == "eu_payment_order"
        assert p.world.judicial.eu.court_country == "DE"

        with pytest.raises(WorkflowUpdateFailedError) as err:  # the Italian path is closed
            await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today))
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]

        await court(j, EuUpdate.ISSUED, EuIssuedCmd(issued_on=today))
        await p.until(lambda: p.world.judicial.stage == "eu_awaiting_service", "the service")
        await court(j, EuUpdate.SERVICE, EuServiceCmd(served_on=today))
        await p.until(lambda: p.world.judicial.stage == "eu_response_term", "the opposition term")
        term = deadline(p, "epo_opposition")
        expected = compute_eu_deadline(EPO_OPPOSITION, today, "DE")
        assert term.rule == "art. 16(2) Reg. 1896/2006"
        assert term.last_day == expected.last_day >= today + timedelta(days=30)
        assert term.ends_at == expected.ends_at and term.status == "open"

        await p.env.sleep(term.ends_at - await p.env.get_current_time())
        await p.until(lambda: p.world.judicial.stage == "eu_awaiting_decision", "the declaration")
        assert deadline(p, "epo_opposition").status == "met"
        assert "eu_unopposed" in p.world.judicial_kinds()
        assert any(n.params.get("event") == "eu_unopposed" for n in p.world.notifications)

        with pytest.raises(WorkflowUpdateFailedError) as err:  # a decision before the service
            await court(
                j,
                EuUpdate.DECISION,
                EuDecisionCmd(EuDecision.ENFORCEABLE, decided_on=today - timedelta(days=1)),
            )
        assert err.value.cause.details == ("decided_on",)  # type: ignore[union-attr]
        await court(j, EuUpdate.DECISION, EuDecisionCmd(EuDecision.ENFORCEABLE, await p.today()))
        await p.until(
            lambda: p.world.snapshot.judicial_stage == "eu_payment_order_enforceable", "the end"
        )
        assert p.world.judicial.stage == "done"


async def test_an_opposed_payment_order_goes_to_ordinary_proceedings(start) -> None:
    async with start(strategy=only_steps(), residence=Residence.EU) as p:
        j = await authorised(p)
        today = await p.today()
        await _apply(p, j, EuProcedure.PAYMENT_ORDER, today)
        await court(j, EuUpdate.ISSUED, EuIssuedCmd(issued_on=today))
        await court(j, EuUpdate.SERVICE, EuServiceCmd(served_on=today))
        await p.until(lambda: p.world.judicial.stage == "eu_response_term", "the opposition term")
        await p.env.sleep(timedelta(days=10))
        await court(j, EuUpdate.RESPONSE, EuResponseCmd(filed_on=await p.today()))
        await p.until(lambda: p.world.judicial.stage == "eu_ordinary", "ordinary proceedings")
        assert deadline(p, "epo_opposition").status == "met"
        with pytest.raises(WorkflowUpdateFailedError) as err:  # opposed: no declaration
            await court(
                j, EuUpdate.DECISION, EuDecisionCmd(EuDecision.ENFORCEABLE, await p.today())
            )
        assert err.value.cause.details == ("decision",)  # type: ignore[union-attr]
        await court(j, EuUpdate.DECISION, EuDecisionCmd(EuDecision.WON, await p.today()))
        await p.until(lambda: p.world.snapshot.judicial_stage == "eu_payment_order_won", "end")


async def test_small_claims_answer_term_and_the_judgment_term(start) -> None:
    async with start(strategy=only_steps(), residence=Residence.EU) as p:
        j = await authorised(p)
        today = await p.today()
        await _apply(p, j, EuProcedure.SMALL_CLAIMS, today)
        await p.until(lambda: p.world.judicial.stage == "eu_awaiting_service", "the service")
        assert deadline(p, "esc_service").rule == "art. 5(2) Reg. 861/2007"
        with pytest.raises(WorkflowUpdateFailedError) as err:  # no order in small claims
            await court(j, EuUpdate.ISSUED, EuIssuedCmd(issued_on=today))
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]
        await court(j, EuUpdate.SERVICE, EuServiceCmd(served_on=today))
        await p.until(lambda: p.world.judicial.stage == "eu_response_term", "the answer term")
        answer = deadline(p, "esc_answer")
        assert answer.rule == "art. 5(3) Reg. 861/2007"
        assert answer.last_day == compute_eu_deadline(SMALL_CLAIMS_ANSWER, today, "DE").last_day
        await p.env.sleep(timedelta(days=3))
        answered = await p.today()
        await court(j, EuUpdate.RESPONSE, EuResponseCmd(filed_on=answered))
        await p.until(lambda: p.world.judicial.stage == "eu_awaiting_decision", "the judgment")
        judgment = deadline(p, "esc_judgment")
        assert judgment.rule == "art. 7(1) Reg. 861/2007" and judgment.start == answered
        await court(j, EuUpdate.DECISION, EuDecisionCmd(EuDecision.LOST, await p.today()))
        await p.until(lambda: p.world.snapshot.judicial_stage == "eu_small_claims_lost", "end")
        assert deadline(p, "esc_judgment").status == "met"


async def test_an_eu_application_for_a_debtor_in_italy_is_refused(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await _apply(p, j, EuProcedure.PAYMENT_ORDER, await p.today())
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]


async def test_a_court_in_denmark_is_refused(start) -> None:
    async with start(strategy=only_steps(), residence=Residence.EU) as p:
        j = await authorised(p)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await court(
                j,
                EuUpdate.APPLICATION,
                EuApplicationCmd(EuProcedure.SMALL_CLAIMS, await p.today(), court_country="DK"),
            )
        assert err.value.cause.details == ("court_country",)  # type: ignore[union-attr]
