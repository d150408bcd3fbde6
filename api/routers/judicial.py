"""Costs, the court steps and the creditor's stop: commands to a practice in (or towards) the
judicial phase.

- POST /practices/{id}/costs (admin, lawyer, operator): a legal or collection cost, owed by the
  debtor, to the practice's workflow (UpdateName.COST). The description is free text: it is kept
  as a practice note (kind "cost") once the workflow has accepted the cost, never sent to it.
- POST /practices/{id}/judicial/<step> (admin, the practice's lawyer): what happened in court, to
  the judicial workflow (`domain.judicial.judicial_workflow_id`). 409 when the practice is not in
  the judicial phase or its judicial workflow is not running; the workflow's refusals map like
  the practice's (a step not expected now 409, a wrong value 422 naming the field). Dates of what
  happened cannot be in the future (422 here, before the workflow is asked).
- The EU path (issue 16; domain/eu_procedures.py, workflows/judicial_eu.py), admin and the
  practice's lawyer: GET /practices/{id}/judicial/eu (which procedure applies and where),
  GET /practices/{id}/judicial/eu/form-a.pdf (form A prefilled, api/services/eu_forms.py),
  POST /practices/{id}/judicial/eu-<step> (application, issued, service, response, decision).
- POST /practices/{id}/judicial/stop (admin, creditor): the creditor stops the court steps
  (UpdateName.STOP_JUDICIAL to the practice's workflow); the practice stays open for payments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from api.access import load_practice, practice_boundary
from api.auth import Principal, Role, require
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.errors import CLOSED_MESSAGE, conflict, invalid, send_update, unavailable
from api.idempotency import read_idempotency_key
from api.routers.practice_commands import _note, _open_practice, _result, _send
from api.schemas import CommandResultOut, NoteKind
from api.schemas_judicial import (
    CostIn,
    DecreeIn,
    EuApplicationIn,
    EuChoiceOut,
    EuDecisionIn,
    EuIssuedIn,
    EuResponseIn,
    EuServiceIn,
    FilingIn,
    LawsuitIn,
    OppositionIn,
    PignoramentoIn,
    PignoramentoOutcomeIn,
    PrecettoIn,
    PrecettoOppositionIn,
    PrecettoOppositionOutcomeIn,
    ServiceIn,
    StopJudicialIn,
)
from api.services import eu_forms
from db.models import Practice
from domain.eu_procedures import italian_courts_refused
from domain.judicial import (
    DecreeCmd,
    FilingCmd,
    JudicialUpdate,
    LawsuitUpdateCmd,
    OppositionCmd,
    PignoramentoCmd,
    PignoramentoOutcomeCmd,
    PrecettoCmd,
    PrecettoOppositionCmd,
    PrecettoOppositionOutcomeCmd,
    ServiceCmd,
    judicial_workflow_id,
)
from domain.judicial_eu import (
    EuApplicationCmd,
    EuDecisionCmd,
    EuIssuedCmd,
    EuProcedure,
    EuResponseCmd,
    EuServiceCmd,
    EuUpdate,
)
from domain.money import parse_euros
from domain.practice import CostCmd, DebtorKind, Phase, Status, StopJudicialCmd, UpdateName

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/practices/{practice_id}",
    # another's practice is a 403 before its body is read (api/access.py)
    dependencies=[Depends(practice_boundary), Depends(read_idempotency_key)],
    tags=["judicial"],
    responses={
        403: {"description": "Wrong role, or not the practice's lawyer."},
        404: {"description": "Unknown practice."},
        409: {
            "description": "The practice is closed, not in the judicial phase, its court steps "
            "are not running, or the step is not expected now."
        },
        422: {"description": "Bad input (a date in the future...); `loc` names the field."},
    },
)

CostUser = Annotated[Principal, require(Role.ADMIN, Role.LAWYER, Role.OPERATOR)]
Lawyer = Annotated[Principal, require(Role.ADMIN, Role.LAWYER)]
Stopper = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]

NOT_JUDICIAL = "the practice is not in the judicial phase"


@router.post("/costs", response_model=CommandResultOut)
async def record_cost(
    practice_id: str,
    body: CostIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: CostUser,
) -> CommandResultOut:
    """A legal or collection cost the debtor owes from `incurred_on`; it is added to the balance
    and to the statement of account. The description is kept with the practice's notes."""
    practice = await _open_practice(session, principal, practice_id)
    command = CostCmd(
        amount_cents=parse_euros(body.amount), incurred_on=body.incurred_on, kind=body.kind
    )
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.COST,
        command,
        ["body", "amount"],
        note=_note(principal, practice, NoteKind.COST, body.description),
    )


@router.post("/judicial/stop", response_model=CommandResultOut)
async def stop_judicial(
    practice_id: str,
    body: StopJudicialIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Stopper,
) -> CommandResultOut:
    """The creditor stops the court steps. The practice stays open: payments are still
    recorded and the statement still runs."""
    practice = await _open_practice(session, principal, practice_id)
    if practice.phase != Phase.JUDICIAL.value:
        raise conflict(NOT_JUDICIAL)
    return await _send(
        session,
        temporal,
        practice,
        UpdateName.STOP_JUDICIAL,
        StopJudicialCmd(),
        note=_note(principal, practice, NoteKind.JUDICIAL_STOP, body.note),
    )


async def _judicial_practice(
    session: SessionDep, principal: Principal, practice_id: str
) -> Practice:
    # a lawyer reaches only the practices assigned to it (api.access)
    practice = await load_practice(session, principal, practice_id)
    if practice.status == Status.CLOSED.value:
        raise conflict(CLOSED_MESSAGE)
    if practice.phase != Phase.JUDICIAL.value:
        raise conflict(NOT_JUDICIAL)
    return practice


async def _ensure_running(temporal: Client, practice_id: str) -> str:
    workflow_id = judicial_workflow_id(practice_id)
    try:
        description = await temporal.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise conflict("the court steps of this practice have not started") from exc
        log.warning("describe %s failed: %s", workflow_id, exc.status.name)
        raise unavailable("the workflow service is not answering; retry later") from exc
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise conflict("the court steps of this practice are over (done or stopped)")
    return workflow_id


async def _judicial(
    session: SessionDep,
    temporal: Client,
    principal: Principal,
    practice_id: str,
    update: str,
    command: Any,
    invalid_loc: Sequence[str | int],
    refuse: Callable[[Practice], str | None] | None = None,
) -> CommandResultOut:
    practice = await _judicial_practice(session, principal, practice_id)
    if refuse is not None and (reason := refuse(practice)) is not None:
        raise conflict(reason)
    workflow_id = await _ensure_running(temporal, practice_id)
    result = await send_update(temporal, workflow_id, update, command, invalid_loc=invalid_loc)
    return _result(result)


@router.post("/judicial/filing", response_model=CommandResultOut)
async def filing(
    practice_id: str, body: FilingIn, session: SessionDep, temporal: TemporalDep, principal: Lawyer
) -> CommandResultOut:
    """The ricorso per decreto ingiuntivo was filed. For a consumer, interest runs at the
    late-payment rate from that day (art. 1284 c. 4 c.c.)."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.FILING,
        FilingCmd(filed_on=body.filed_on, court=body.court),
        ["body", "filed_on"],
        refuse=lambda practice: italian_courts_refused(
            debtor_country=practice.country,
            consumer=practice.debtor_kind == DebtorKind.CONSUMER.value,
        ),
    )


@router.post("/judicial/decree", response_model=CommandResultOut)
async def decree(
    practice_id: str, body: DecreeIn, session: SessionDep, temporal: TemporalDep, principal: Lawyer
) -> CommandResultOut:
    """The judge issued the decreto ingiuntivo: it must be served within 60 days (90 abroad)
    or it lapses (art. 644 c.p.c.)."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.DECREE,
        DecreeCmd(
            issued_on=body.issued_on,
            opposition_days=body.opposition_days,
            decree_number=body.decree_number,
        ),
        ["body", "issued_on"],
    )


@router.post("/judicial/service", response_model=CommandResultOut)
async def service(
    practice_id: str, body: ServiceIn, session: SessionDep, temporal: TemporalDep, principal: Lawyer
) -> CommandResultOut:
    """The decree was served: the opposition term starts (art. 641 c.p.c.)."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.SERVICE,
        ServiceCmd(served_on=body.served_on),
        ["body", "served_on"],
    )


@router.post("/judicial/opposition", response_model=CommandResultOut)
async def opposition(
    practice_id: str,
    body: OppositionIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The debtor opposed the decree: it becomes a lawsuit."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.OPPOSITION,
        OppositionCmd(filed_on=body.filed_on),
        ["body", "filed_on"],
    )


@router.post("/judicial/lawsuit", response_model=CommandResultOut)
async def lawsuit(
    practice_id: str, body: LawsuitIn, session: SessionDep, temporal: TemporalDep, principal: Lawyer
) -> CommandResultOut:
    """How the opposition lawsuit stands: pending (with the next hearing), won or lost."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.LAWSUIT,
        LawsuitUpdateCmd(outcome=body.outcome, next_hearing=body.next_hearing),
        ["body", "outcome"],
    )


@router.post("/judicial/precetto", response_model=CommandResultOut)
async def precetto(
    practice_id: str,
    body: PrecettoIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The atto di precetto was served: no enforcement before its term (art. 480 c.p.c.), and
    it lapses unless enforcement begins within 90 days (art. 481 c.p.c.)."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.PRECETTO,
        PrecettoCmd(served_on=body.served_on, term_days=body.term_days),
        ["body", "served_on"],
    )


@router.post("/judicial/precetto-opposition", response_model=CommandResultOut)
async def precetto_opposition(
    practice_id: str,
    body: PrecettoOppositionIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The debtor opposed the precetto (artt. 615, 617 c.p.c.): its 90-day lapse is suspended
    until the opposition ends (art. 481 c. 2 c.p.c.); enforcement may still begin."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.PRECETTO_OPPOSITION,
        PrecettoOppositionCmd(filed_on=body.filed_on),
        ["body", "filed_on"],
    )


@router.post("/judicial/precetto-opposition-outcome", response_model=CommandResultOut)
async def precetto_opposition_outcome(
    practice_id: str,
    body: PrecettoOppositionOutcomeIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """How the opposition to the precetto ended: upheld (a new precetto is needed) or rejected
    (the lapse resumes from `resumes_on` for the days left, art. 627 c.p.c.)."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.PRECETTO_OPPOSITION_OUTCOME,
        PrecettoOppositionOutcomeCmd(upheld=body.upheld, resumes_on=body.resumes_on),
        ["body", "resumes_on"],
    )


@router.post("/judicial/pignoramento", response_model=CommandResultOut)
async def pignoramento(
    practice_id: str,
    body: PignoramentoIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The seizure started (movable, real estate, or amounts owed to the debtor)."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.PIGNORAMENTO,
        PignoramentoCmd(started_on=body.started_on, kind=body.kind),
        ["body", "started_on"],
    )


@router.post("/judicial/pignoramento-outcome", response_model=CommandResultOut)
async def pignoramento_outcome(
    practice_id: str,
    body: PignoramentoOutcomeIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The seizure's outcome: an amount assigned to the creditor, or nothing found."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        JudicialUpdate.PIGNORAMENTO_OUTCOME,
        PignoramentoOutcomeCmd(
            outcome=body.outcome,
            amount_cents=parse_euros(body.amount) if body.amount is not None else None,
        ),
        ["body", "amount"],
    )


# --- the EU path -----------------------------------------------------------------------------


@router.get("/judicial/eu", response_model=EuChoiceOut)
async def eu_choice(practice_id: str, session: SessionDep, principal: Lawyer) -> EuChoiceOut:
    """Which EU procedure applies to a debtor in another member state (European payment order,
    Reg. 1896/2006; small claims up to EUR 5,000, Reg. 861/2007), the member state whose courts
    have jurisdiction and why (a consumer's own, art. 18(2) Reg. 1215/2012)."""
    path = await eu_forms.eu_path(session, principal, practice_id)
    choice = path.choice
    return EuChoiceOut(
        eligible=list(choice.eligible),
        recommended=choice.recommended,
        court_country=choice.court_country,
        forum=choice.forum,
        alternatives=list(choice.alternatives),
        reasons=list(choice.reasons),
        principal=path.statement.totals.principal.outstanding,
    )


@router.get(
    "/judicial/eu/form-a.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "Form A prefilled."}},
)
async def eu_form_a(
    practice_id: str,
    session: SessionDep,
    principal: Lawyer,
    settings: SettingsDep,
    procedure: Annotated[EuProcedure | None, Query()] = None,
) -> Response:
    """Form A of the procedure (omitted: the one recommended), prefilled from the practice: the
    court's member state, the parties, jurisdiction, cross-border nature, bank details,
    principal, interest, costs and the evidence. 409 when no EU procedure applies, 422
    (`procedure`) when that one does not."""
    return await eu_forms.form_a_pdf(session, principal, settings, practice_id, procedure)


@router.post("/judicial/eu-application", response_model=CommandResultOut)
async def eu_application(
    practice_id: str,
    body: EuApplicationIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """Form A was lodged with a court of `court_country`: the court steps take the EU path
    instead of the decreto ingiuntivo."""
    path = await eu_forms.eu_path(session, principal, practice_id)
    if body.procedure not in path.choice.eligible:
        raise invalid(["body", "procedure"], "; ".join(path.choice.reasons))
    if path.choice.court_country and body.court_country not in (
        path.choice.court_country,
        *path.choice.alternatives,
    ):
        raise invalid(
            ["body", "court_country"],
            f"the courts of {path.choice.court_country} have jurisdiction ({path.choice.forum})",
        )
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        EuUpdate.APPLICATION,
        EuApplicationCmd(
            procedure=body.procedure,
            filed_on=body.filed_on,
            court_country=body.court_country,
            court=body.court,
        ),
        ["body", "filed_on"],
    )


@router.post("/judicial/eu-issued", response_model=CommandResultOut)
async def eu_issued(
    practice_id: str,
    body: EuIssuedIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The court issued the European payment order (form E, art. 12 Reg. 1896/2006)."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        EuUpdate.ISSUED,
        EuIssuedCmd(issued_on=body.issued_on),
        ["body", "issued_on"],
    )


@router.post("/judicial/eu-service", response_model=CommandResultOut)
async def eu_service(
    practice_id: str,
    body: EuServiceIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The order (or the small claim with answer form C) was served on the debtor: the 30 days
    to oppose (art. 16(2) Reg. 1896/2006) or to answer (art. 5(3) Reg. 861/2007) start."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        EuUpdate.SERVICE,
        EuServiceCmd(served_on=body.served_on),
        ["body", "served_on"],
    )


@router.post("/judicial/eu-response", response_model=CommandResultOut)
async def eu_response(
    practice_id: str,
    body: EuResponseIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The debtor opposed the order (form F: ordinary proceedings follow, art. 17) or answered
    the small claim (form C: the court judges within 30 days, art. 7(1))."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        EuUpdate.RESPONSE,
        EuResponseCmd(filed_on=body.filed_on),
        ["body", "filed_on"],
    )


@router.post("/judicial/eu-decision", response_model=CommandResultOut)
async def eu_decision(
    practice_id: str,
    body: EuDecisionIn,
    session: SessionDep,
    temporal: TemporalDep,
    principal: Lawyer,
) -> CommandResultOut:
    """The court declared the order enforceable (form G, art. 18 Reg. 1896/2006) or gave
    judgment (won or lost)."""
    return await _judicial(
        session,
        temporal,
        principal,
        practice_id,
        EuUpdate.DECISION,
        EuDecisionCmd(decision=body.decision, decided_on=body.decided_on),
        ["body", "decided_on"],
    )
