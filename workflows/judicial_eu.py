"""The court steps on the EU path (issue 16): the European payment order (Reg. 1896/2006) and
the European small claims procedure (Reg. 861/2007) before a court of another member state.

A mixin of `JudicialWorkflow` (workflows/judicial.py): its update handlers and `_eu_proceed`,
which the court steps run instead of the decreto ingiuntivo once the lawyer reports form A
lodged (`EuUpdate.APPLICATION`) while they wait for the filing. Court steps that never receive
that update (every one recorded so far) issue exactly the commands they did: no patch needed.

The terms come from domain/eu_procedures.py (Reg. 1182/71, the court's member state's holidays).
The debtor's terms (30 days to oppose an order, art. 16(2) Reg. 1896/2006; 30 days to answer a
small claim, art. 5(3) Reg. 861/2007) run as durable timers: when one ends unused the lawyer is
told that the court now declares the order enforceable (art. 18) or gives judgment (art. 7(3)).
The court's own terms (to issue, to serve, to judge) are on the calendar for the lawyer to
follow up; nothing lapses with them. The EU path never continues as new: it is a few months of
a handful of events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol, cast

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.actor import acting as _acting
    from domain.eu_procedures import (
        EPO_ISSUE,
        EPO_OPPOSITION,
        EU_COURT_STATES,
        SMALL_CLAIMS_ANSWER,
        SMALL_CLAIMS_JUDGMENT,
        SMALL_CLAIMS_SERVICE,
        EuTermRule,
        compute_eu_deadline,
    )
    from domain.judicial import (
        CLAIM_FILED_SIGNAL,
        DeadlineStatus,
        DeadlineView,
        JudicialInput,
        Residence,
        Stage,
    )
    from domain.judicial_eu import (
        EuApplicationCmd,
        EuDecision,
        EuDecisionCmd,
        EuIssuedCmd,
        EuProcedure,
        EuResponseCmd,
        EuServiceCmd,
        EuUpdate,
        EuView,
    )
    from domain.practice import CommandResult, RejectionType


class _Host(Protocol):
    """What the EU steps use of JudicialWorkflow."""

    inp: JudicialInput
    stage: Stage
    outcome: str | None
    deadlines: dict[str, DeadlineView]
    eu: EuView | None

    def _event(self, kind: str, summary: str, **data: Any) -> None: ...

    async def _flush(self) -> None: ...

    async def _until(
        self, kind: str, done: Callable[[], bool], remind: bool = True, catch_up: bool = True
    ) -> bool: ...

    async def _tell_lawyer(self, key: str, template: str, **params: str | int | None) -> None: ...

    def _expect(self, *stages: Stage) -> None: ...

    def _not_future(self, day: date, field: str) -> None: ...

    def _ok(self, message: str) -> CommandResult: ...

    def _set_status(self, kind: str, status: DeadlineStatus) -> None: ...


# the court steps' refusals, the Italian ones' too (workflows/judicial.py imports them)
def invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, field, type=RejectionType.INVALID, non_retryable=True)


def conflict(message: str) -> ApplicationError:
    return ApplicationError(message, type=RejectionType.CONFLICT, non_retryable=True)


def _eu_deadline(host: _Host, kind: str, rule: EuTermRule, start: date) -> None:
    assert host.eu is not None
    deadline = compute_eu_deadline(rule, start, host.eu.court_country)
    host.deadlines[kind] = DeadlineView(
        kind=kind,
        last_day=deadline.last_day,
        ends_at=deadline.ends_at,
        rule=rule.source,
        explanation=deadline.explanation,
        status=DeadlineStatus.OPEN,
        start=start,
    )
    host._event(
        "deadline",
        f"Deadline: {rule.name}, last day {deadline.last_day.isoformat()} ({rule.source})",
        deadline=kind,
        last_day=deadline.last_day.isoformat(),
    )


class EuCourtSteps:
    """The EU path's commands and steps, mixed into JudicialWorkflow. The handlers' `self` is
    left unannotated (Temporal takes an annotated first parameter for the command's) and cast
    to `_Host`."""

    eu: EuView | None = None  # set by the application: the EU path is taken
    # JudicialWorkflow's, which the EU steps set (declared here for the type checker)
    stage: Stage
    outcome: str | None

    async def _eu_proceed(self: _Host) -> None:
        eu = self.eu
        assert eu is not None and eu.filed_on is not None
        # the claim is filed in court: a consumer's interest switches rate (art. 1284 c. 4 c.c.)
        await workflow.get_external_workflow_handle(self.inp.parent_workflow_id).signal(
            CLAIM_FILED_SIGNAL, eu.filed_on
        )
        if eu.procedure == EuProcedure.PAYMENT_ORDER:
            self.stage = Stage.EU_AWAITING_ISSUE
            _eu_deadline(self, "epo_issue", EPO_ISSUE, eu.filed_on)
            await self._flush()
            await workflow.wait_condition(lambda: eu.issued_on is not None)
            self._set_status("epo_issue", DeadlineStatus.MET)
            self.stage = Stage.EU_AWAITING_SERVICE
            await self._flush()
            await workflow.wait_condition(lambda: eu.served_on is not None)
            assert eu.served_on is not None
            _eu_deadline(self, "epo_opposition", EPO_OPPOSITION, eu.served_on)
            self.stage = Stage.EU_RESPONSE_TERM
            opposed = await self._until(
                "epo_opposition", lambda: eu.response_on is not None, remind=False
            )
            if opposed:
                self.stage = Stage.EU_ORDINARY
                self._event(
                    "eu_ordinary",
                    "Opposed: the case goes on as ordinary civil proceedings in the court's "
                    "member state (art. 17 Reg. 1896/2006)",
                )
                await self._tell_lawyer("eu-opposed", "judicial_event", event="eu_opposed")
            else:
                self._set_status("epo_opposition", DeadlineStatus.MET)
                self.stage = Stage.EU_AWAITING_DECISION
                last = self.deadlines["epo_opposition"].last_day
                self._event(
                    "eu_unopposed",
                    f"No opposition by {last.isoformat()}: the court declares the order "
                    "enforceable (art. 18 Reg. 1896/2006, form G)",
                )
                await self._tell_lawyer(
                    "eu-unopposed",
                    "judicial_event",
                    event="eu_unopposed",
                    last_day=last.isoformat(),
                )
        else:
            self.stage = Stage.EU_AWAITING_SERVICE
            _eu_deadline(self, "esc_service", SMALL_CLAIMS_SERVICE, eu.filed_on)
            await self._flush()
            await workflow.wait_condition(lambda: eu.served_on is not None)
            assert eu.served_on is not None
            self._set_status("esc_service", DeadlineStatus.MET)
            _eu_deadline(self, "esc_answer", SMALL_CLAIMS_ANSWER, eu.served_on)
            self.stage = Stage.EU_RESPONSE_TERM
            answered = await self._until(
                "esc_answer", lambda: eu.response_on is not None, remind=False
            )
            if answered:
                assert eu.response_on is not None
                _eu_deadline(self, "esc_judgment", SMALL_CLAIMS_JUDGMENT, eu.response_on)
            else:
                self._set_status("esc_answer", DeadlineStatus.MET)
                last = self.deadlines["esc_answer"].last_day
                self._event(
                    "eu_unanswered",
                    f"No answer by {last.isoformat()}: the court gives judgment (art. 7(3) "
                    "Reg. 861/2007)",
                )
                await self._tell_lawyer(
                    "eu-unanswered",
                    "judicial_event",
                    event="eu_unanswered",
                    last_day=last.isoformat(),
                )
            self.stage = Stage.EU_AWAITING_DECISION
        await self._flush()
        await workflow.wait_condition(lambda: eu.decision is not None)
        assert eu.decision is not None
        if "esc_judgment" in self.deadlines:
            self._set_status("esc_judgment", DeadlineStatus.MET)
        self.stage = Stage.DONE
        self.outcome = f"{eu.procedure.value}_{eu.decision.value}"
        await self._flush()

    # --- the lawyer's commands ---------------------------------------------------------------

    @workflow.update(name=EuUpdate.APPLICATION)
    async def eu_application(self, cmd: EuApplicationCmd) -> CommandResult:
        h = cast(_Host, self)
        _acting(cmd.actor)  # the events this command causes name its sender
        court = cmd.court_country.strip().upper()
        h.eu = EuView(
            procedure=cmd.procedure, court_country=court, court=cmd.court, filed_on=cmd.filed_on
        )
        name = (
            "European payment order (Reg. 1896/2006)"
            if cmd.procedure == EuProcedure.PAYMENT_ORDER
            else "European small claims procedure (Reg. 861/2007)"
        )
        h._event(
            "eu_application",
            f"Form A of the {name} lodged on {cmd.filed_on} with a court in {court}",
            filed_on=cmd.filed_on.isoformat(),
            procedure=cmd.procedure,
            court_country=court,
        )
        await h._flush()
        return h._ok("application recorded")

    @eu_application.validator
    def _check_eu_application(self, cmd: EuApplicationCmd) -> None:
        h = cast(_Host, self)
        h._expect(Stage.AWAITING_FILING)
        if h.eu is not None:
            raise conflict("an EU application is already recorded")
        if h.inp.residence != Residence.EU:
            raise conflict("the EU procedures are for a debtor in another EU member state")
        h._not_future(cmd.filed_on, "filed_on")
        if cmd.court_country.strip().upper() not in EU_COURT_STATES:
            raise invalid(
                "the court must be in an EU member state other than Denmark (art. 2(3) of both "
                "regulations)",
                "court_country",
            )

    @workflow.update(name=EuUpdate.ISSUED)
    async def eu_issued(self, cmd: EuIssuedCmd) -> CommandResult:
        h = cast(_Host, self)
        _acting(cmd.actor)
        assert h.eu is not None
        h.eu.issued_on = cmd.issued_on
        h._event(
            "eu_issued",
            f"European payment order issued on {cmd.issued_on} (form E)",
            issued_on=cmd.issued_on.isoformat(),
        )
        await h._flush()
        return h._ok("order recorded")

    @eu_issued.validator
    def _check_eu_issued(self, cmd: EuIssuedCmd) -> None:
        h = cast(_Host, self)
        h._expect(Stage.EU_AWAITING_ISSUE)
        assert h.eu is not None and h.eu.filed_on is not None
        if h.eu.issued_on is not None:
            raise conflict("the order is already recorded")
        h._not_future(cmd.issued_on, "issued_on")
        if cmd.issued_on < h.eu.filed_on:
            raise invalid("the order cannot be issued before the application", "issued_on")

    @workflow.update(name=EuUpdate.SERVICE)
    async def eu_service(self, cmd: EuServiceCmd) -> CommandResult:
        h = cast(_Host, self)
        _acting(cmd.actor)
        assert h.eu is not None
        h.eu.served_on = cmd.served_on
        h._event(
            "eu_served",
            f"Served on the debtor on {cmd.served_on}",
            served_on=cmd.served_on.isoformat(),
        )
        await h._flush()
        return h._ok("service recorded")

    @eu_service.validator
    def _check_eu_service(self, cmd: EuServiceCmd) -> None:
        h = cast(_Host, self)
        h._expect(Stage.EU_AWAITING_SERVICE)
        assert h.eu is not None and h.eu.filed_on is not None
        if h.eu.served_on is not None:
            raise conflict("the service is already recorded")
        h._not_future(cmd.served_on, "served_on")
        if cmd.served_on < (h.eu.issued_on or h.eu.filed_on):
            raise invalid("a service before what it serves", "served_on")

    @workflow.update(name=EuUpdate.RESPONSE)
    async def eu_response(self, cmd: EuResponseCmd) -> CommandResult:
        h = cast(_Host, self)
        _acting(cmd.actor)
        assert h.eu is not None
        h.eu.response_on = cmd.filed_on
        what = (
            "Statement of opposition (form F)"
            if h.eu.procedure == EuProcedure.PAYMENT_ORDER
            else "The defendant's answer (form C)"
        )
        h._event(
            "eu_response", f"{what} lodged on {cmd.filed_on}", filed_on=cmd.filed_on.isoformat()
        )
        await h._flush()
        return h._ok("response recorded")

    @eu_response.validator
    def _check_eu_response(self, cmd: EuResponseCmd) -> None:
        h = cast(_Host, self)
        h._expect(Stage.EU_RESPONSE_TERM)
        assert h.eu is not None and h.eu.served_on is not None
        if h.eu.response_on is not None:
            raise conflict("the response is already recorded")
        h._not_future(cmd.filed_on, "filed_on")
        if cmd.filed_on < h.eu.served_on:
            raise invalid("a response before the service", "filed_on")

    @workflow.update(name=EuUpdate.DECISION)
    async def eu_decision(self, cmd: EuDecisionCmd) -> CommandResult:
        h = cast(_Host, self)
        _acting(cmd.actor)
        assert h.eu is not None
        h.eu.decision = cmd.decision
        h.eu.decided_on = cmd.decided_on
        h._event(
            "eu_decision",
            f"Court's decision on {cmd.decided_on}: {cmd.decision.value}",
            decision=cmd.decision,
            decided_on=cmd.decided_on.isoformat(),
        )
        await h._flush()
        return h._ok("decision recorded")

    @eu_decision.validator
    def _check_eu_decision(self, cmd: EuDecisionCmd) -> None:
        h = cast(_Host, self)
        h._expect(Stage.EU_AWAITING_DECISION, Stage.EU_ORDINARY)
        assert h.eu is not None and h.eu.served_on is not None
        if h.eu.decision is not None:
            raise conflict("the decision is already recorded")
        h._not_future(cmd.decided_on, "decided_on")
        if cmd.decided_on < h.eu.served_on:
            raise invalid("a decision before the service", "decided_on")
        if cmd.decision == EuDecision.ENFORCEABLE and (
            h.eu.procedure != EuProcedure.PAYMENT_ORDER or h.stage == Stage.EU_ORDINARY
        ):
            raise invalid(
                "a declaration of enforceability ends an unopposed payment order only", "decision"
            )
