"""The court steps of an authorised practice (DOMAIN.md steps 12 to 14), a child of the practice.

The lawyer reports what happened in court (filing, the decree, its service, an opposition, the
precetto, the pignoramento) and this workflow holds every legal deadline that follows as a durable
timer on the court calendar, reminding the lawyer before each one, so that nothing lapses unseen.
A lapse it cannot prevent (a decree never served, a precetto never followed by enforcement) is
recorded and the lawyer is told, and the step can be done again.

The practice cancels it when the debt is paid or settled, or the creditor stops the court steps.

Court steps given a history bound (JudicialInput.history_bound) continue as new where they wait for
the lawyer's next act with no term running (a new ricorso, the lawsuit's hearings, a new precetto)
once the run's history comes within a stretch's events of it (or the server suggests it); the next
run resumes there with JudicialState. Those without a bound (all those started before) never do:
their commands are unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import ActivityName, NotifyInput, RecordJudicialInput
    from domain.actor import acting as _acting
    from domain.actor import current_actor
    from domain.calendar import at_rome, rome_date
    from domain.court_calendar import (
        DECREE_SERVICE,
        DECREE_SERVICE_ABROAD,
        OPPOSITION,
        OPPOSITION_EU,
        OPPOSITION_NON_EU,
        PRECETTO_LAPSE,
        PRECETTO_TERM,
        Deadline,
        TermRule,
        compute_deadline,
        reminder_dates,
    )
    from domain.court_seats import find_seat, patron_days
    from domain.judicial import (
        CLAIM_FILED_SIGNAL,
        JUDICIAL_ENDED_SIGNAL,
        JUDICIAL_SEQ_BASE,
        JUDICIAL_STATE_QUERY,
        JUDICIAL_WORKFLOW_NAME,
        DeadlineStatus,
        DeadlineView,
        DecreeCmd,
        FilingCmd,
        JudicialInput,
        JudicialSnapshot,
        JudicialState,
        JudicialUpdate,
        LawsuitOutcome,
        LawsuitUpdateCmd,
        OppositionCmd,
        PignoramentoCmd,
        PignoramentoOutcomeCmd,
        PrecettoCmd,
        PrecettoOppositionCmd,
        PrecettoOppositionOutcomeCmd,
        Residence,
        SeizureOutcome,
        ServiceCmd,
        Stage,
    )
    from domain.money import format_euros
    from domain.practice import CommandResult, TimelineEvent
    from workflows.continuation import past_bound

from workflows.activity_options import DB_TIMEOUT, RETRY, SEND_TIMEOUT
from workflows.judicial_eu import EuCourtSteps, conflict, invalid

REMINDER_CLOCK = time(9, 0)
# A lawyer who records a case's history (a decree issued months ago, then its service) needs a
# moment to enter the next act before a term that ran out in the past is declared lapsed.
CATCH_UP_GRACE = timedelta(days=1)
# The events the court steps add at most between two of the lawyer's turns (a decree that lapses
# unserved, a precetto that lapses: the filing, the terms, three reminders each, the lapse, the
# notices and read-model writes). A run hands over this far below its bound, so it stays under it
# (measured in tests/workflows/test_continue_as_new.py: about 80).
STRETCH_EVENTS = 120
# Patch id (workflow.patched): deadlines computed from then on show a term the creditor must meet
# at its safe last day (the lapse waits for the rule's own reading), apply the patron saint's day
# of the court's seat, and let an opposition to the precetto suspend its lapse (art. 481 c. 2).
# Court steps started before replay the rule's reading alone.
COURT_TERMS_V2 = "court_terms_v2"

SERVICE_RULES = {
    Residence.ITALY: DECREE_SERVICE,
    Residence.EU: DECREE_SERVICE_ABROAD,
    Residence.NON_EU: DECREE_SERVICE_ABROAD,
}
OPPOSITION_RULES = {
    Residence.ITALY: OPPOSITION,
    Residence.EU: OPPOSITION_EU,
    Residence.NON_EU: OPPOSITION_NON_EU,
}


@workflow.defn(name=JUDICIAL_WORKFLOW_NAME)
class JudicialWorkflow(EuCourtSteps):
    @workflow.init
    def __init__(self, inp: JudicialInput) -> None:
        self.inp = inp
        self.stage = Stage.AWAITING_FILING
        self.seq = JUDICIAL_SEQ_BASE
        self.version = 0
        self.pending_events: list[TimelineEvent] = []
        self.flush_lock = asyncio.Lock()
        self.deadlines: dict[str, DeadlineView] = {}
        self.filed_on: date | None = None
        self.court = ""
        self.precetto_opposition_cmd: PrecettoOppositionCmd | None = None
        self.precetto_opposition_result: PrecettoOppositionOutcomeCmd | None = None
        self.decree: DecreeCmd | None = None
        self.service_deadline: Deadline | None = None
        self.served_on: date | None = None
        self.opposition_filed_on: date | None = None
        self.lawsuit: LawsuitUpdateCmd | None = None
        self.final_on: date | None = None
        self.precetto: PrecettoCmd | None = None
        self.enforcement_from: date | None = None
        self.precetto_lapse: Deadline | None = None
        self.pignoramento: PignoramentoCmd | None = None
        self.seizure: PignoramentoOutcomeCmd | None = None
        self.outcome: str | None = None
        self.resume_at: Stage | None = None  # where a continued run picks up (None: the start)
        if inp.state is not None:
            self._restore(inp.state)

    @workflow.run
    async def run(self, inp: JudicialInput) -> str:
        if self.resume_at is None:
            self._event("judicial_started", "Court steps opened: the lawyer files the ricorso")
        try:
            await self._proceed()
        except (asyncio.CancelledError, ActivityError) as err:
            # paid, settled or stopped by the creditor: nothing further in court. A cancel that
            # comes while one of our activities runs (a write, a notice) arrives as that
            # activity's ActivityError, not as asyncio's CancelledError: left uncaught, the run
            # ended "cancelled" and the practice waited for ever for the court steps' end
            if not is_cancelled_exception(err):
                raise
            self.stage = Stage.STOPPED
            self.outcome = "stopped"
            for kind, view in self.deadlines.items():
                if view.status == DeadlineStatus.OPEN:
                    self.deadlines[kind] = replace(view, status=DeadlineStatus.CANCELLED)
            self._event("judicial_stopped", "Court steps stopped")
            await self._tell_lawyer("stopped", "judicial_event", event="stopped")
            await self._flush()
        outcome = self.outcome or "done"
        if inp.history_bound is not None:
            # the parent's newest run may not be the one that started us: it hears the end here
            try:
                await workflow.get_external_workflow_handle(inp.parent_workflow_id).signal(
                    JUDICIAL_ENDED_SIGNAL, outcome
                )
            except ApplicationError:
                pass  # the parent is gone (terminated): nobody left to tell
        return outcome

    async def _proceed(self) -> None:
        resume = self.resume_at
        if resume in (None, Stage.AWAITING_FILING):
            await self._until_served(resumed=resume is not None)
            if self.eu is not None:  # form A lodged instead: the EU path (judicial_eu.py)
                await self._eu_proceed()
                return
            resume = None
        if resume in (None, Stage.LAWSUIT):
            if not await self._until_final(resumed=resume is not None):
                return
            resume = None
        await self._until_enforced(resumed=resume is not None)
        self.stage = Stage.PIGNORAMENTO
        await self._flush()
        await workflow.wait_condition(lambda: self.seizure is not None)
        assert self.seizure is not None
        self.stage = Stage.DONE
        self.outcome = f"pignoramento_{self.seizure.outcome.value}"
        await self._flush()

    async def _until_served(self, resumed: bool) -> None:
        """From the ricorso to the decree's service (`resumed`: a continued run, waiting for a
        new ricorso: the run before wrote this stage)."""
        while True:  # a decree that lapses unserved needs a new ricorso
            if resumed:
                resumed = False
            else:
                self.stage = Stage.AWAITING_FILING
                await self._flush()
            await self._lawyers_turn(lambda: self.filed_on is not None or self.eu is not None)
            if self.eu is not None:
                return
            assert self.filed_on is not None
            await workflow.get_external_workflow_handle(self.inp.parent_workflow_id).signal(
                CLAIM_FILED_SIGNAL, self.filed_on
            )
            self.stage = Stage.AWAITING_DECREE
            await self._flush()
            await workflow.wait_condition(lambda: self.decree is not None)
            assert self.decree is not None
            self.service_deadline = self._deadline(
                "decree_service", SERVICE_RULES[self.inp.residence], self.decree.issued_on
            )
            self.stage = Stage.AWAITING_SERVICE
            served = await self._until("decree_service", lambda: self.served_on is not None)
            if served:
                break
            self._lapsed("decree_service")
            self._event(
                "decree_lapsed",
                "Decree not served in time: it lapsed (art. 644 c.p.c.); a new ricorso is needed",
            )
            await self._tell_lawyer(
                f"decree-lapsed-{self.decree.issued_on.isoformat()}",
                "judicial_event",
                event="decree_lapsed",
                last_day=self._law_day("decree_service").isoformat(),
            )
            self.filed_on = None
            self.decree = None

    async def _until_final(self, resumed: bool) -> bool:
        """From the service to the final decree; False when an opposition revoked it
        (`resumed`: a continued run in the lawsuit)."""
        assert self.decree is not None and self.served_on is not None
        if resumed:
            opposed = True
        else:
            term = self._deadline(
                "opposition",
                OPPOSITION_RULES[self.inp.residence],
                self.served_on,
                self.decree.opposition_days,
            )
            self.stage = Stage.OPPOSITION_TERM
            opposed = await self._until(
                "opposition", lambda: self.opposition_filed_on is not None, remind=False
            )
        if opposed:
            if not resumed:
                self.stage = Stage.LAWSUIT
                await self._flush()
            await self._lawyers_turn(
                lambda: self.lawsuit is not None and self.lawsuit.outcome != LawsuitOutcome.PENDING
            )
            assert self.lawsuit is not None
            if self.lawsuit.outcome == LawsuitOutcome.LOST:
                self.stage = Stage.DONE
                self.outcome = "opposition_upheld"
                self._event("lawsuit_lost", "Opposition upheld: the decree is revoked")
                await self._flush()
                return False
            self.final_on = rome_date(workflow.now())
            self._event("decree_final", "Opposition rejected: the decree is confirmed")
        else:
            self.final_on = term.last_day + timedelta(days=1)
            self._set_status("opposition", DeadlineStatus.MET)
            self._event(
                "decree_final",
                f"No opposition by {term.last_day.isoformat()}: the decree is final",
            )
            await self._tell_lawyer(
                "decree-final",
                "judicial_event",
                event="decree_final",
                last_day=term.last_day.isoformat(),
            )
        return True

    async def _until_enforced(self, resumed: bool) -> None:
        """From the final decree to the pignoramento's start (`resumed`: a continued run waiting
        for a precetto)."""
        while True:  # a precetto that lapses needs a new one
            if resumed:
                resumed = False
            else:
                self.stage = Stage.DECREE_FINAL
                self.precetto = None
                await self._flush()
            await self._lawyers_turn(lambda: self.precetto is not None)
            assert self.precetto is not None
            served = self.precetto.served_on
            dilatory = self._deadline(
                "precetto_term", PRECETTO_TERM, served, self.precetto.term_days
            )
            self.enforcement_from = dilatory.may_act_from
            self.precetto_lapse = self._deadline("precetto_lapse", PRECETTO_LAPSE, served)
            self.stage = Stage.PRECETTO_TERM
            await self._until("precetto_term", lambda: False, remind=False, catch_up=False)
            self._set_status("precetto_term", DeadlineStatus.MET)
            self.stage = Stage.AWAITING_PIGNORAMENTO
            started: bool | None = await self._until(
                "precetto_lapse",
                lambda: self.pignoramento is not None or self._precetto_opposed(),
            )
            if self._precetto_opposed() and self.pignoramento is None:
                started = await self._precetto_opposition(served)
                if started is None:
                    continue  # the precetto is void: a new one
            if started:
                return
            self._lapsed("precetto_lapse")
            self._event(
                "precetto_lapsed",
                "No enforcement within 90 days: the precetto lapsed (art. 481 c.p.c.)",
            )
            await self._tell_lawyer(
                f"precetto-lapsed-{served.isoformat()}",
                "judicial_event",
                event="precetto_lapsed",
                last_day=self._law_day("precetto_lapse").isoformat(),
            )

    # --- continue-as-new ---------------------------------------------------------------------

    async def _lawyers_turn(self, done: Callable[[], bool]) -> None:
        """Waits for the lawyer's next act. With a history bound, a run past it continues as new
        here: no term runs and nothing of the run is in flight, so JudicialState is all of it."""
        while True:
            await workflow.wait_condition(
                lambda: done() or past_bound(self.inp.history_bound, STRETCH_EVENTS)
            )
            if done():
                return
            # a command being handled finishes (and writes its events) in this run
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self.pending_events:
                await self._flush()
                continue  # a command may have come meanwhile
            if done():
                return
            workflow.continue_as_new(replace(self.inp, state=self._carried()))

    def _carried(self) -> JudicialState:
        return JudicialState(
            stage=self.stage,
            seq=self.seq,
            version=self.version,
            deadlines=list(self.deadlines.values()),
            filed_on=self.filed_on,
            court=self.court,
            decree=self.decree,
            service_deadline=self.service_deadline,
            served_on=self.served_on,
            opposition_filed_on=self.opposition_filed_on,
            lawsuit=self.lawsuit,
            final_on=self.final_on,
            precetto=self.precetto,
            enforcement_from=self.enforcement_from,
            precetto_lapse=self.precetto_lapse,
        )

    def _restore(self, state: JudicialState) -> None:
        self.resume_at = self.stage = state.stage
        self.seq = state.seq
        self.version = state.version
        self.deadlines = {d.kind: d for d in state.deadlines}
        self.filed_on = state.filed_on
        self.court = state.court
        self.decree = state.decree
        self.service_deadline = state.service_deadline
        self.served_on = state.served_on
        self.opposition_filed_on = state.opposition_filed_on
        self.lawsuit = state.lawsuit
        self.final_on = state.final_on
        self.precetto = state.precetto
        self.enforcement_from = state.enforcement_from
        self.precetto_lapse = state.precetto_lapse

    # --- the opposition to the precetto (art. 481 c. 2 c.p.c.) ------------------------------

    def _precetto_opposed(self) -> bool:
        return self.precetto_opposition_cmd is not None and self.precetto_opposition_result is None

    async def _precetto_opposition(self, served: date) -> bool | None:
        """The lapse is suspended while the opposition runs. Upheld: None (the precetto is void).
        Rejected: the lapse resumes for the days left (art. 627 c.p.c.); True when the
        pignoramento then starts in time, False when it lapses."""
        assert self.precetto_opposition_cmd is not None
        filed_on = self.precetto_opposition_cmd.filed_on
        self._set_status("precetto_lapse", DeadlineStatus.SUSPENDED)
        self.stage = Stage.PRECETTO_OPPOSED
        await self._flush()
        # enforcement may still begin (unless a judge suspends the precetto, art. 615 c. 1)
        await workflow.wait_condition(
            lambda: self.precetto_opposition_result is not None or self.pignoramento is not None
        )
        if self.pignoramento is not None:
            self._set_status("precetto_lapse", DeadlineStatus.MET)
            return True
        outcome = self.precetto_opposition_result
        assert outcome is not None
        self.precetto_opposition_cmd = None
        self.precetto_opposition_result = None
        if outcome.upheld:
            self._set_status("precetto_lapse", DeadlineStatus.CANCELLED)
            self._event("precetto_void", "Opposition to the precetto upheld: a new one is needed")
            return None
        # the day of the opposition counted as run: the creditor's term never comes out later
        left = max((PRECETTO_LAPSE.days or 90) - (filed_on - served).days, 1)
        self.precetto_lapse = self._deadline(
            "precetto_lapse", PRECETTO_LAPSE, outcome.resumes_on, left, keyed_by=served
        )
        self.stage = Stage.AWAITING_PIGNORAMENTO
        return await self._until(
            "precetto_lapse", lambda: self.pignoramento is not None, catch_up=True
        )

    # --- deadlines ---------------------------------------------------------------------------

    def _deadline(
        self,
        kind: str,
        rule: TermRule,
        start: date,
        days: int | None = None,
        keyed_by: date | None = None,
    ) -> Deadline:
        if workflow.patched(COURT_TERMS_V2):
            local = patron_days(self.court, start.year, start.year + 2)
            deadline = compute_deadline(rule, start, days, extra_holidays=local)
        else:
            deadline = compute_deadline(rule, start, days, safe_side=False)
        explanation = deadline.explanation
        seat = find_seat(self.court)
        if seat is not None:
            explanation += f"; {seat.describe()}"
        later = deadline.law_last_day > deadline.last_day
        self.deadlines[kind] = DeadlineView(
            kind=kind,
            last_day=deadline.last_day,
            ends_at=deadline.ends_at,
            rule=rule.source,
            explanation=explanation,
            status=DeadlineStatus.OPEN,
            start=keyed_by or start,
            law_last_day=deadline.law_last_day if later else None,
            law_ends_at=deadline.law_ends_at if later else None,
        )
        self._event(
            "deadline",
            f"Deadline: {rule.name}, last day {deadline.last_day.isoformat()} ({rule.source})",
            deadline=kind,
            last_day=deadline.last_day.isoformat(),
        )
        return deadline

    def _law_day(self, kind: str) -> date:
        """The day a term ran out under the rule's reading (after its safe last day, if later)."""
        view = self.deadlines[kind]
        return view.law_last_day or view.last_day

    def _set_status(self, kind: str, status: DeadlineStatus) -> None:
        self.deadlines[kind] = replace(self.deadlines[kind], status=status)

    def _lapsed(self, kind: str) -> None:
        self._set_status(kind, DeadlineStatus.LAPSED)

    async def _until(
        self, kind: str, done: Callable[[], bool], remind: bool = True, catch_up: bool = True
    ) -> bool:
        """Waits for `done()` until the deadline of `kind` runs out, reminding the lawyer on the
        reminder days at 09:00; True when `done()` came first."""
        view = self.deadlines[kind]
        await self._flush()
        days = (
            reminder_dates(view.last_day, self.inp.reminder_days, saturday_counts=False)
            if remind
            else []
        )
        for day in days:
            at = at_rome(day, REMINDER_CLOCK)
            if at <= workflow.now():
                continue
            if await self._wait(done, at - workflow.now()):
                break
            await self._tell_lawyer(
                f"{kind}-{view.start}-{day.isoformat()}",
                "judicial_deadline",
                deadline=kind,
                last_day=view.last_day.isoformat(),
                rule=view.rule,
            )
            self._event("deadline_reminder", f"Lawyer reminded: {kind} ends {view.last_day}")
        if done():
            self._set_status(kind, DeadlineStatus.MET)
            return True
        remaining = view.ends_at - workflow.now()
        if remaining <= timedelta(0) and catch_up:
            remaining = CATCH_UP_GRACE
        if remaining > timedelta(0) and await self._wait(done, remaining):
            self._set_status(kind, DeadlineStatus.MET)
            return True
        if not done() and view.law_ends_at is not None and view.law_ends_at > view.ends_at:
            # the safe last day passed: under the rule's own reading the term still runs
            self._event(
                "deadline_safe_day_passed",
                f"Safe last day {view.last_day} passed: under the rule's reading ({view.rule})"
                f" the term runs to {view.law_last_day}",
                deadline=kind,
            )
            await self._flush()
            later = view.law_ends_at - workflow.now()
            if later > timedelta(0) and await self._wait(done, later):
                self._set_status(kind, DeadlineStatus.MET)
                return True
        return done()

    async def _wait(self, done: Callable[[], bool], timeout: timedelta) -> bool:
        try:
            await workflow.wait_condition(done, timeout=timeout)
            return True
        except TimeoutError:
            return False

    # --- the lawyer's commands ---------------------------------------------------------------

    def _today(self) -> date:
        return rome_date(workflow.now())

    def _not_future(self, day: date, field: str) -> None:
        if day > self._today():
            raise invalid(f"{field} {day.isoformat()} is in the future", field)

    def _expect(self, *stages: Stage) -> None:
        if self.stage not in stages:
            raise conflict(f"not expected now: the court steps are at '{self.stage.value}'")

    def _ok(self, message: str) -> CommandResult:
        return CommandResult(accepted=True, message=message, status=self.stage.value)

    @workflow.update(name=JudicialUpdate.FILING)
    async def filing(self, cmd: FilingCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.filed_on = cmd.filed_on
        self.court = cmd.court
        self._event(
            "ricorso_filed",
            f"Ricorso per decreto ingiuntivo filed on {cmd.filed_on}"
            + (f" with the Tribunale di {cmd.court}" if cmd.court else ""),
            filed_on=cmd.filed_on.isoformat(),
        )
        await self._flush()
        return self._ok("filing recorded")

    @filing.validator
    def _check_filing(self, cmd: FilingCmd) -> None:
        self._expect(Stage.AWAITING_FILING)
        if self.eu is not None:
            raise conflict("form A of an EU procedure was lodged instead")
        self._not_future(cmd.filed_on, "filed_on")
        if cmd.court and find_seat(cmd.court) is None:
            raise invalid(f"{cmd.court!r} is not the seat of an Italian tribunal", "court")

    @workflow.update(name=JudicialUpdate.DECREE)
    async def decree_issued(self, cmd: DecreeCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.decree = cmd
        self._event(
            "decree_issued",
            f"Decreto ingiuntivo issued on {cmd.issued_on}",
            issued_on=cmd.issued_on.isoformat(),
        )
        await self._flush()
        return self._ok("decree recorded")

    @decree_issued.validator
    def _check_decree(self, cmd: DecreeCmd) -> None:
        self._expect(Stage.AWAITING_DECREE)
        self._not_future(cmd.issued_on, "issued_on")
        assert self.filed_on is not None
        if cmd.issued_on < self.filed_on:
            raise invalid("the decree cannot be issued before the filing", "issued_on")
        if cmd.opposition_days is not None:
            rule = OPPOSITION_RULES[self.inp.residence]
            low, high = rule.min_days or 1, rule.max_days or 365
            if not low <= cmd.opposition_days <= high:
                raise invalid(
                    f"the judge may set {low} to {high} days ({rule.source})", "opposition_days"
                )

    @workflow.update(name=JudicialUpdate.SERVICE)
    async def decree_served(self, cmd: ServiceCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.served_on = cmd.served_on
        self._event(
            "decree_served",
            f"Decree served on {cmd.served_on}",
            served_on=cmd.served_on.isoformat(),
        )
        await self._flush()
        return self._ok("service recorded")

    @decree_served.validator
    def _check_service(self, cmd: ServiceCmd) -> None:
        self._expect(Stage.AWAITING_SERVICE)
        self._not_future(cmd.served_on, "served_on")
        assert self.decree is not None and self.service_deadline is not None
        if cmd.served_on < self.decree.issued_on:
            raise invalid("a service before the decree was issued", "served_on")
        if cmd.served_on > self.service_deadline.law_last_day:
            raise invalid(
                f"the decree lapsed on {self.service_deadline.law_last_day} (art. 644 c.p.c.)",
                "served_on",
            )

    @workflow.update(name=JudicialUpdate.OPPOSITION)
    async def opposition(self, cmd: OppositionCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.opposition_filed_on = cmd.filed_on
        self._event(
            "opposition",
            f"Opposition filed on {cmd.filed_on}: the case becomes a lawsuit",
            filed_on=cmd.filed_on.isoformat(),
        )
        await self._flush()
        return self._ok("opposition recorded")

    @opposition.validator
    def _check_opposition(self, cmd: OppositionCmd) -> None:
        self._expect(Stage.OPPOSITION_TERM)
        self._not_future(cmd.filed_on, "filed_on")
        assert self.served_on is not None
        if cmd.filed_on < self.served_on:
            raise invalid("an opposition before the decree was served", "filed_on")

    @workflow.update(name=JudicialUpdate.LAWSUIT)
    async def lawsuit_update(self, cmd: LawsuitUpdateCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.lawsuit = cmd
        hearing = f"; next hearing {cmd.next_hearing}" if cmd.next_hearing else ""
        self._event("lawsuit", f"Lawsuit: {cmd.outcome.value}{hearing}", outcome=cmd.outcome)
        await self._flush()
        return self._ok("lawsuit updated")

    @lawsuit_update.validator
    def _check_lawsuit(self, cmd: LawsuitUpdateCmd) -> None:
        self._expect(Stage.LAWSUIT)

    @workflow.update(name=JudicialUpdate.PRECETTO)
    async def precetto_served(self, cmd: PrecettoCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.precetto = cmd
        self._event(
            "precetto_served",
            f"Atto di precetto served on {cmd.served_on}",
            served_on=cmd.served_on.isoformat(),
        )
        await self._flush()
        return self._ok("precetto recorded")

    @precetto_served.validator
    def _check_precetto(self, cmd: PrecettoCmd) -> None:
        if self.stage in (
            Stage.AWAITING_FILING,
            Stage.AWAITING_DECREE,
            Stage.AWAITING_SERVICE,
            Stage.OPPOSITION_TERM,
            Stage.LAWSUIT,
        ):
            raise conflict("a precetto needs a final (enforceable) decree")
        self._expect(Stage.DECREE_FINAL)
        self._not_future(cmd.served_on, "served_on")
        assert self.final_on is not None
        if cmd.served_on < self.final_on:
            raise invalid(f"the decree is final from {self.final_on}", "served_on")
        if cmd.term_days < 10:
            raise invalid("the precetto's term is not less than 10 days (art. 480)", "term_days")

    @workflow.update(name=JudicialUpdate.PIGNORAMENTO)
    async def pignoramento_started(self, cmd: PignoramentoCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.pignoramento = cmd
        self._event(
            "pignoramento",
            f"Pignoramento ({cmd.kind.value}) started on {cmd.started_on}",
            started_on=cmd.started_on.isoformat(),
            seizure=cmd.kind,
        )
        await self._flush()
        return self._ok("pignoramento recorded")

    @pignoramento_started.validator
    def _check_pignoramento(self, cmd: PignoramentoCmd) -> None:
        if self.stage == Stage.PRECETTO_TERM:
            raise invalid(
                f"no enforcement before {self.enforcement_from} (art. 482 c.p.c.)", "started_on"
            )
        self._expect(Stage.AWAITING_PIGNORAMENTO, Stage.PRECETTO_OPPOSED)
        self._not_future(cmd.started_on, "started_on")
        assert self.enforcement_from is not None and self.precetto_lapse is not None
        if cmd.started_on < self.enforcement_from:
            raise invalid(f"no enforcement before {self.enforcement_from}", "started_on")
        if self.stage == Stage.AWAITING_PIGNORAMENTO and (
            cmd.started_on > self.precetto_lapse.law_last_day
        ):
            raise invalid(
                f"the precetto lapsed on {self.precetto_lapse.law_last_day}", "started_on"
            )

    @workflow.update(name=JudicialUpdate.PRECETTO_OPPOSITION)
    async def precetto_opposition(self, cmd: PrecettoOppositionCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.precetto_opposition_cmd = cmd
        self._event(
            "precetto_opposed",
            f"Opposition to the precetto filed on {cmd.filed_on}: its 90-day lapse is suspended"
            " (art. 481 c. 2 c.p.c.)",
            filed_on=cmd.filed_on.isoformat(),
        )
        await self._flush()
        return self._ok("opposition to the precetto recorded")

    @precetto_opposition.validator
    def _check_precetto_opposition(self, cmd: PrecettoOppositionCmd) -> None:
        if self.precetto_opposition_cmd is not None:
            raise conflict("an opposition to the precetto is already pending")
        self._expect(Stage.PRECETTO_TERM, Stage.AWAITING_PIGNORAMENTO)
        self._not_future(cmd.filed_on, "filed_on")
        assert self.precetto is not None
        if cmd.filed_on < self.precetto.served_on:
            raise invalid("an opposition before the precetto was served", "filed_on")
        if self.precetto_lapse is not None and cmd.filed_on > self.precetto_lapse.law_last_day:
            raise invalid(f"the precetto lapsed on {self.precetto_lapse.law_last_day}", "filed_on")

    @workflow.update(name=JudicialUpdate.PRECETTO_OPPOSITION_OUTCOME)
    async def precetto_opposition_outcome(self, cmd: PrecettoOppositionOutcomeCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.precetto_opposition_result = cmd
        result = "upheld" if cmd.upheld else f"rejected, the lapse resumes on {cmd.resumes_on}"
        self._event(
            "precetto_opposition_outcome",
            f"Opposition to the precetto {result}",
            upheld=cmd.upheld,
            resumes_on=cmd.resumes_on.isoformat(),
        )
        await self._flush()
        return self._ok("outcome of the opposition to the precetto recorded")

    @precetto_opposition_outcome.validator
    def _check_precetto_opposition_outcome(self, cmd: PrecettoOppositionOutcomeCmd) -> None:
        if self.precetto_opposition_cmd is None or self.precetto_opposition_result is not None:
            raise conflict("no opposition to the precetto is pending")
        self._not_future(cmd.resumes_on, "resumes_on")
        if cmd.resumes_on < self.precetto_opposition_cmd.filed_on:
            raise invalid("the term resumes after the opposition was filed", "resumes_on")

    @workflow.update(name=JudicialUpdate.PIGNORAMENTO_OUTCOME)
    async def pignoramento_outcome(self, cmd: PignoramentoOutcomeCmd) -> CommandResult:
        _acting(cmd.actor)  # the events this command causes name its sender
        self.seizure = cmd
        amount = f": {format_euros(cmd.amount_cents)} assigned" if cmd.amount_cents else ""
        self._event(
            "pignoramento_outcome",
            f"Pignoramento {cmd.outcome.value}{amount}",
            outcome=cmd.outcome,
            amount_cents=cmd.amount_cents,
        )
        await self._flush()
        return self._ok("outcome recorded")

    @pignoramento_outcome.validator
    def _check_outcome(self, cmd: PignoramentoOutcomeCmd) -> None:
        self._expect(Stage.PIGNORAMENTO)
        if cmd.outcome == SeizureOutcome.ASSIGNED and not cmd.amount_cents:
            raise invalid("an assignment needs the amount assigned", "amount")

    @workflow.query(name=JUDICIAL_STATE_QUERY)
    def state(self) -> JudicialSnapshot:
        return self._snapshot()

    # --- bookkeeping -------------------------------------------------------------------------

    def _event(self, kind: str, summary: str, **data: Any) -> None:
        self.seq += 1
        self.pending_events.append(
            TimelineEvent(
                seq=self.seq,
                at=workflow.now(),
                kind=kind,
                summary=summary,
                actor=current_actor(),
                data={k: (v.value if hasattr(v, "value") else v) for k, v in data.items()},
            )
        )

    def _snapshot(self) -> JudicialSnapshot:
        return JudicialSnapshot(
            version=self.version,
            stage=self.stage,
            deadlines=list(self.deadlines.values()),
            filed_on=self.filed_on,
            decree_issued_on=self.decree.issued_on if self.decree else None,
            decree_served_on=self.served_on,
            opposition_filed_on=self.opposition_filed_on,
            final_on=self.final_on,
            precetto_served_on=self.precetto.served_on if self.precetto else None,
            enforcement_from=self.enforcement_from,
            pignoramento_started_on=self.pignoramento.started_on if self.pignoramento else None,
            outcome=self.outcome,
            assigned_cents=self.seizure.amount_cents if self.seizure else None,
            lawyer_id=self.inp.lawyer_id,
            court=self.court,
            eu=self.eu,
        )

    async def _flush(self) -> None:
        async with self.flush_lock:
            events, self.pending_events = self.pending_events, []
            self.version += 1
            await workflow.execute_activity(
                ActivityName.RECORD_JUDICIAL,
                RecordJudicialInput(
                    practice_id=self.inp.practice_id, events=events, snapshot=self._snapshot()
                ),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=RETRY,
            )

    async def _tell_lawyer(self, key: str, template: str, **params: str | int | None) -> None:
        if self.inp.lawyer_id is None:
            return
        await workflow.execute_activity(
            ActivityName.NOTIFY,
            NotifyInput(
                practice_id=self.inp.practice_id,
                idempotency_key=f"{self.inp.practice_id}:judicial:{key}",
                to=self.inp.lawyer_id,
                template=template,
                params=dict(params),
            ),
            start_to_close_timeout=SEND_TIMEOUT,
            retry_policy=RETRY,
        )
