"""The court steps after the creditor's authorisation, on the time-skipping test server.

Court dates the lawyer reports lie in the past (they happened); the deadlines that follow are
computed on the court calendar and wait as durable timers."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from domain.judicial import (
    DecreeCmd,
    FilingCmd,
    JudicialUpdate,
    LawsuitOutcome,
    LawsuitUpdateCmd,
    OppositionCmd,
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
    CostCmd,
    PaymentCmd,
    RejectionType,
    StopJudicialCmd,
    UpdateName,
)
from tests.workflows.conftest import Practice, only_steps

CLAIM = 125040


async def authorised(p: Practice) -> WorkflowHandle:
    await p.waiting_for("the creditor's authorisation")
    await p.send(UpdateName.AUTHORIZATION, AuthorizationCmd(authorized=True))
    await p.until(lambda: p.world.judicial is not None, "the court steps")
    return p.env.client.get_workflow_handle(judicial_workflow_id(p.inp.practice_id))


async def court(handle: WorkflowHandle, update: str, cmd: object) -> CommandResult:
    return await handle.execute_update(update, cmd, result_type=CommandResult)


def deadline(p: Practice, kind: str):
    assert p.world.judicial is not None
    return next(d for d in p.world.judicial.deadlines if d.kind == kind)


async def test_no_opposition_through_to_pignoramento(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        today = await p.today()
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today))
        await p.until(lambda: p.world.snapshot.claim_filed_on == today, "the filing date")
        assert p.world.snapshot.claims_interest is True
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=today))
        await p.until(lambda: p.world.judicial.stage == "awaiting_service", "the service term")
        service = deadline(p, "decree_service")
        assert service.rule == "art. 644 c.p.c." and service.last_day >= today + timedelta(60)
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=today))
        await p.until(lambda: p.world.judicial.stage == "opposition_term", "the opposition term")
        opposition = deadline(p, "opposition")
        assert opposition.rule == "art. 641 c.p.c."
        assert (opposition.last_day - today).days >= 40

        with pytest.raises(WorkflowUpdateFailedError) as err:  # not before the decree is final
            await court(j, JudicialUpdate.PRECETTO, PrecettoCmd(served_on=today))
        assert err.value.cause.type == RejectionType.CONFLICT  # type: ignore[union-attr]

        await p.env.sleep(opposition.ends_at - await p.env.get_current_time())
        await p.until(lambda: p.world.judicial.stage == "decree_final", "the final decree")
        assert "decree_final" in p.world.judicial_kinds()
        served = await p.today()
        await court(j, JudicialUpdate.PRECETTO, PrecettoCmd(served_on=served))
        await p.until(lambda: p.world.judicial.stage == "precetto_term", "the precetto's term")
        with pytest.raises(WorkflowUpdateFailedError) as err:  # art. 482: not before the term
            await court(j, JudicialUpdate.PIGNORAMENTO, PignoramentoCmd(started_on=served))
        assert err.value.cause.details == ("started_on",)  # type: ignore[union-attr]
        # ten clear days (art. 480), moved past a holiday: never enforceable before day 11
        assert p.world.judicial.enforcement_from >= served + timedelta(days=11)

        await p.env.sleep(timedelta(days=12))
        await p.until(lambda: p.world.judicial.stage == "awaiting_pignoramento", "enforcement")
        await court(j, JudicialUpdate.PIGNORAMENTO, PignoramentoCmd(started_on=await p.today()))
        await court(
            j,
            JudicialUpdate.PIGNORAMENTO_OUTCOME,
            PignoramentoOutcomeCmd(outcome=SeizureOutcome.ASSIGNED, amount_cents=80000),
        )
        await p.until(
            lambda: p.world.snapshot.judicial_stage == "pignoramento_assigned",
            "the court steps' end",
        )
        assert deadline(p, "precetto_lapse").status == "met"
        # the practice stays open for what the debtor still owes
        assert (await p.state()).status == "active"
        await p.send(
            UpdateName.PAYMENT,
            PaymentCmd(amount_cents=CLAIM, paid_on=await p.today(), reference="ASSIGN-1"),
        )
        assert await p.handle.result() == "paid"


async def test_opposition_turns_it_into_a_lawsuit(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        today = await p.today()
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=today, opposition_days=30))
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=today))
        await p.until(lambda: p.world.judicial.stage == "opposition_term", "the opposition term")
        assert "30 days" in deadline(p, "opposition").explanation
        await p.env.sleep(timedelta(days=5))
        await court(j, JudicialUpdate.OPPOSITION, OppositionCmd(filed_on=await p.today()))
        await p.until(lambda: p.world.judicial.stage == "lawsuit", "the lawsuit")
        assert deadline(p, "opposition").status == "met"
        await court(
            j,
            JudicialUpdate.LAWSUIT,
            LawsuitUpdateCmd(
                outcome=LawsuitOutcome.PENDING, next_hearing=await p.today() + timedelta(days=90)
            ),
        )
        await court(j, JudicialUpdate.LAWSUIT, LawsuitUpdateCmd(outcome=LawsuitOutcome.LOST))
        await p.until(lambda: p.world.snapshot.judicial_stage == "opposition_upheld", "the end")
        assert p.world.judicial.stage == "done"


async def test_a_decree_never_served_lapses_with_warnings(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        today = await p.today()
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=today))
        await p.until(lambda: p.world.judicial.stage == "awaiting_service", "the service term")
        service = deadline(p, "decree_service")
        await p.env.sleep(service.ends_at - await p.env.get_current_time() + timedelta(hours=1))
        await p.until(lambda: "decree_lapsed" in p.world.judicial_kinds(), "the lapse")
        reminders = [n for n in p.world.notifications if n.template == "judicial_deadline"]
        assert len(reminders) == 3  # 10, 3 and 1 days before
        assert all(
            n.to == "lawyer-1" and n.params["deadline"] == "decree_service" for n in reminders
        )
        assert any(n.params.get("event") == "decree_lapsed" for n in p.world.notifications)
        await p.until(lambda: p.world.judicial.stage == "awaiting_filing", "a new ricorso")
        assert deadline(p, "decree_service").status == "lapsed"
        with pytest.raises(WorkflowUpdateFailedError):  # served after the lapse: refused
            await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=await p.today()))


async def test_a_precetto_without_enforcement_lapses(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        long_ago = await p.today() - timedelta(days=200)
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=long_ago))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=long_ago))
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=long_ago + timedelta(1)))
        # the opposition term ran out months ago: final once the lawyer had a day to record
        # an opposition that might have come
        await p.env.sleep(timedelta(days=1, minutes=1))
        await p.until(lambda: p.world.judicial.stage == "decree_final", "the final decree")
        served = await p.today()
        await court(j, JudicialUpdate.PRECETTO, PrecettoCmd(served_on=served))
        await p.until(lambda: p.world.judicial.stage == "precetto_term", "the precetto's term")
        lapse = deadline(p, "precetto_lapse")
        assert lapse.rule == "art. 481 c.p.c."
        await p.env.sleep(lapse.ends_at - await p.env.get_current_time() + timedelta(hours=1))
        await p.until(lambda: "precetto_lapsed" in p.world.judicial_kinds(), "the lapse")
        await p.until(lambda: p.world.judicial.stage == "decree_final", "a new precetto")
        assert deadline(p, "precetto_lapse").status == "lapsed"


async def test_a_payment_during_the_court_steps_stops_them_and_tells_the_lawyer(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=await p.today()))
        await p.send(
            UpdateName.PAYMENT,
            PaymentCmd(amount_cents=CLAIM, paid_on=await p.today(), reference="BON-1"),
        )
        assert await p.handle.result() == "paid"
        assert await j.result() == "stopped"
        assert p.world.judicial.stage == "stopped"
        assert any(
            n.params.get("event") == "stopped" and n.to == "lawyer-1" for n in p.world.notifications
        )


async def test_the_creditor_can_stop_the_court_steps(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        await p.send(UpdateName.STOP_JUDICIAL, StopJudicialCmd())
        assert await j.result() == "stopped"
        assert (await p.state()).status == "active"  # still open for payments
        with pytest.raises(WorkflowUpdateFailedError):
            await p.send(UpdateName.STOP_JUDICIAL, StopJudicialCmd())


async def test_court_steps_stopped_while_their_record_is_written_still_end_stopped(
    start,
) -> None:
    """The stop reaches the court steps while an activity of theirs runs: they still write the
    stop, tell the lawyer and end "stopped" (an activity's cancellation is an ActivityError,
    not asyncio's CancelledError)."""
    async with start(strategy=only_steps()) as p:
        p.world.hold_judicial_stage = "awaiting_decree"
        j = await authorised(p)
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=await p.today()))
        try:
            await p.until(p.world.judicial_held.is_set, "the held write of the filing")
            # the practice's stop waits for the court steps' end: it never came
            await asyncio.wait_for(p.send(UpdateName.STOP_JUDICIAL, StopJudicialCmd()), 30)
            await p.until(
                lambda: any(n.params.get("event") == "stopped" for n in p.world.notifications),
                "the lawyer told of the stop",
            )
        finally:  # the worker's shutdown waits for the held activity
            p.world.release_judicial.set()
        assert await j.result() == "stopped"
        assert p.world.judicial.stage == "stopped"
        assert "judicial_stopped" in p.world.judicial_kinds()


async def test_a_decree_served_on_20_july_runs_its_opposition_term_across_august(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=date(2026, 6, 1)))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=date(2026, 7, 1)))
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=date(2026, 7, 20)))
        await p.env.sleep(timedelta(days=1, minutes=1))  # the catch-up day for an opposition
        await p.until(lambda: p.world.judicial.stage == "decree_final", "the final decree")
        opposition = deadline(p, "opposition")
        # 40 days from 20 July: 11 days in July, August suspended, 29 in September → 29 Sept
        assert opposition.last_day == date(2026, 9, 29)
        assert "August" in opposition.explanation
        assert p.world.judicial.final_on == date(2026, 9, 30)


async def test_bad_court_dates_are_refused(start) -> None:
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        today = await p.today()
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today + timedelta(days=1)))
        assert err.value.cause.details == ("filed_on",)  # type: ignore[union-attr]
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=today))
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=today - timedelta(1)))
        assert err.value.cause.details == ("issued_on",)  # type: ignore[union-attr]
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=today))
        with pytest.raises(WorkflowUpdateFailedError) as err:  # a service before the decree
            await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=today - timedelta(1)))
        assert err.value.cause.details == ("served_on",)  # type: ignore[union-attr]


async def test_once_authorised_the_balance_includes_interest_and_costs(start) -> None:
    from tests.workflows.fakes import FakeWorld

    world = FakeWorld(interest_cents=3210)
    async with start(world=world, strategy=only_steps()) as p:
        await authorised(p)
        state = await p.state()
        assert state.claims_interest and state.balance_cents == CLAIM + 3210
        assert state.interest_cents == 3210
        result = await p.send(
            UpdateName.COST, CostCmd(amount_cents=5000, incurred_on=await p.today())
        )
        assert result.balance_cents == CLAIM + 3210 + 5000
        assert world.statements[-1].costs[0].amount_cents == 5000
        # paying the principal alone leaves interest and costs owed (art. 1194 c.c.)
        partial = await p.send(
            UpdateName.PAYMENT,
            PaymentCmd(amount_cents=CLAIM, paid_on=await p.today(), reference="BON-1"),
        )
        assert partial.status == "active" and partial.balance_cents == 3210 + 5000
        # the debtor pays today's total and a little more: closed, the excess to refund
        await p.send(
            UpdateName.PAYMENT,
            PaymentCmd(amount_cents=3210 + 5000 + 100, paid_on=await p.today(), reference="BON-2"),
        )
        assert await p.handle.result() == "paid"
        overpaid = [e for e in world.events.values() if e.kind == "overpaid"]
        assert overpaid and overpaid[0].data["overpaid_cents"] == 100


# -- issue 11: the court's seat, safe last days, the opposition to the precetto ---------------


async def test_an_opposition_to_the_precetto_suspends_its_lapse(start) -> None:
    """Art. 481 c. 2 c.p.c.: opposed on day 20, the precetto does not lapse while the opposition
    runs; rejected, its 90 days resume for the 70 left, from the day the lawyer reports."""
    from domain.court_calendar import PRECETTO_LAPSE, compute_deadline
    from domain.judicial import PrecettoOppositionCmd, PrecettoOppositionOutcomeCmd

    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        long_ago = await p.today() - timedelta(days=200)
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=long_ago))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=long_ago))
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=long_ago + timedelta(1)))
        await p.env.sleep(timedelta(days=1, minutes=1))
        await p.until(lambda: p.world.judicial.stage == "decree_final", "the final decree")
        served = await p.today()
        await court(j, JudicialUpdate.PRECETTO, PrecettoCmd(served_on=served))
        await p.env.sleep(timedelta(days=20))
        await p.until(lambda: p.world.judicial.stage == "awaiting_pignoramento", "enforcement")
        opposed = await p.today()
        await court(j, JudicialUpdate.PRECETTO_OPPOSITION, PrecettoOppositionCmd(filed_on=opposed))
        await p.until(lambda: p.world.judicial.stage == "precetto_opposed", "the suspension")
        assert deadline(p, "precetto_lapse").status == "suspended"

        await p.env.sleep(timedelta(days=150))  # far past the 90 days
        await p.until(lambda: p.world.judicial.version > 0, "a write")
        assert "precetto_lapsed" not in p.world.judicial_kinds()
        assert p.world.judicial.stage == "precetto_opposed"

        resumes = await p.today()
        await court(
            j,
            JudicialUpdate.PRECETTO_OPPOSITION_OUTCOME,
            PrecettoOppositionOutcomeCmd(upheld=False, resumes_on=resumes),
        )
        await p.until(lambda: p.world.judicial.stage == "awaiting_pignoramento", "the resumption")
        lapse = deadline(p, "precetto_lapse")
        left = 90 - (opposed - served).days
        assert lapse.status == "open"
        assert lapse.last_day == compute_deadline(PRECETTO_LAPSE, resumes, left).last_day
        await court(j, JudicialUpdate.PIGNORAMENTO, PignoramentoCmd(started_on=resumes))
        await p.until(lambda: p.world.judicial.stage == "pignoramento", "the pignoramento")
        assert "precetto_lapsed" not in p.world.judicial_kinds()


async def test_the_decree_service_shows_the_safe_last_day_and_lapses_at_the_law_s(start) -> None:
    """Issued 15 June 2026: the creditor is shown Friday 14 August (if the August suspension
    does not apply to art. 644, debated); a service on 1 September is still within the law's
    reading (Monday 14 September) and accepted; the filing records the court, Rome."""
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=date(2026, 6, 1), court="Xyz"))
        assert err.value.cause.details == ("court",)  # type: ignore[union-attr]
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=date(2026, 6, 1), court="Roma"))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=date(2026, 6, 15)))
        await p.until(lambda: p.world.judicial.stage == "awaiting_service", "the service term")
        service = deadline(p, "decree_service")
        assert service.last_day == date(2026, 8, 14)
        assert service.law_last_day == date(2026, 9, 14)
        assert "safe last day" in service.explanation and "Tribunale di Roma" in service.explanation
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=date(2026, 9, 15)))
        assert err.value.cause.details == ("served_on",)  # type: ignore[union-attr]
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=date(2026, 9, 1)))
        await p.until(lambda: p.world.judicial.stage != "awaiting_service", "the service")
        assert "decree_lapsed" not in p.world.judicial_kinds()


async def test_the_patron_day_of_the_court_s_seat_extends_the_opposition_term(start) -> None:
    """Served Wednesday 20 May 2026 on a decree of the Tribunale di Roma: 40 days end on Monday
    29 June, Saints Peter and Paul, Rome's holiday: the debtor may oppose on Tuesday 30 June."""
    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=date(2026, 5, 1), court="Roma"))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=date(2026, 5, 4)))
        await court(j, JudicialUpdate.SERVICE, ServiceCmd(served_on=date(2026, 5, 20)))
        await p.until(lambda: p.world.judicial.stage == "opposition_term", "the opposition term")
        opposition = deadline(p, "opposition")
        assert opposition.last_day == date(2026, 6, 30)
        assert "local holiday" in opposition.explanation


async def test_a_decree_lapses_only_when_the_rules_reading_has_run_out(start) -> None:
    """The 60 days end on a Saturday: the creditor is shown that Saturday (safe), but the decree
    lapses only after the day the rule's reading gives (the Monday, art. 155 c. 5 c.p.c.)."""
    from domain.calendar import end_of_rome_day
    from domain.court_calendar import DECREE_SERVICE, compute_deadline

    async with start(strategy=only_steps()) as p:
        j = await authorised(p)
        today = await p.today()
        # a decree issued in the last weeks whose term ends on a Saturday (or is otherwise read
        # two ways) still in the future
        issued = next(
            today - timedelta(days=k)
            for k in range(40)
            if compute_deadline(DECREE_SERVICE, today - timedelta(days=k)).law_last_day
            > compute_deadline(DECREE_SERVICE, today - timedelta(days=k)).last_day
        )
        expected = compute_deadline(DECREE_SERVICE, issued)
        assert expected.last_day > today
        await court(j, JudicialUpdate.FILING, FilingCmd(filed_on=issued))
        await court(j, JudicialUpdate.DECREE, DecreeCmd(issued_on=issued))
        await p.until(lambda: p.world.judicial.stage == "awaiting_service", "the service term")
        assert deadline(p, "decree_service").last_day == expected.last_day
        saturday_over = end_of_rome_day(expected.last_day) + timedelta(hours=1)
        await p.env.sleep(saturday_over - await p.env.get_current_time())
        await p.until(lambda: "deadline_safe_day_passed" in p.world.judicial_kinds(), "the note")
        assert "decree_lapsed" not in p.world.judicial_kinds()
        law_over = end_of_rome_day(expected.law_last_day) + timedelta(hours=1)
        await p.env.sleep(law_over - await p.env.get_current_time())
        await p.until(lambda: "decree_lapsed" in p.world.judicial_kinds(), "the lapse")
