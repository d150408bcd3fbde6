"""The lawyer's pages: the opinion requests, the court deadlines, and the court steps of a
judicial practice with its statement of account.

Every action is the API's own handler, called as a function with the session's Principal:
GET /worklists/opinions (worklists.opinions), POST /practices/{id}/legal-opinion
(practice_commands.record_legal_opinion), GET /worklists/deadlines (deadlines.deadlines),
GET /practices/{id} (practices.get_practice), POST /practices/{id}/judicial/<step> (the judicial
router's handlers), GET /practices/{id}/statement.pdf (statement.get_statement_pdf). Their
checks (role, the practice's lawyer, the phase, the workflow's refusals) are the API's, and so
are their errors: a field's next to it, a refusal in the alert."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from temporalio.client import Client

from api.access import console_practice_boundary
from api.auth import Principal, Role, console_require
from api.console.forms import attempt, optional, text
from api.console.security import ConsoleRequest
from api.console.templating import render
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.routers import deadlines, judicial, practice_commands, practices, statement, worklists
from api.schemas import CommandResultOut, LegalOpinionIn
from api.schemas_judicial import (
    DecreeIn,
    EuApplicationIn,
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
)
from api.services import eu_forms
from domain.court_seats import SEATS
from domain.eu_procedures import EuChoice, italian_courts_refused
from domain.judicial import LawsuitOutcome, SeizureKind, SeizureOutcome
from domain.judicial_eu import EuDecision, EuProcedure
from domain.practice import DebtorKind, Phase, Status

router = APIRouter(prefix="/lawyer", tags=["console"])
# another's practice is the 403 page before the form is read, as the API answers
PracticeBoundary = Depends(console_practice_boundary)

Lawyer = Annotated[Principal, console_require(Role.ADMIN, Role.LAWYER)]
OPINIONS = "/console/lawyer/opinions"
LIST_LENGTH = 200

Handler = Callable[..., Awaitable[CommandResultOut]]


@dataclass(frozen=True)
class Step:
    """A court step's form: the API's handler, its request model and the fields it posts."""

    handler: Handler
    model: type[BaseModel]
    fields: tuple[str, ...]


# the most used first: the order the forms appear in when several are expected
STEPS: dict[str, Step] = {
    "filing": Step(judicial.filing, FilingIn, ("filed_on", "court")),
    "decree": Step(judicial.decree, DecreeIn, ("issued_on", "decree_number", "opposition_days")),
    "service": Step(judicial.service, ServiceIn, ("served_on",)),
    "opposition": Step(judicial.opposition, OppositionIn, ("filed_on",)),
    "precetto": Step(judicial.precetto, PrecettoIn, ("served_on", "term_days")),
    "precetto-opposition": Step(judicial.precetto_opposition, PrecettoOppositionIn, ("filed_on",)),
    "pignoramento": Step(judicial.pignoramento, PignoramentoIn, ("started_on", "kind")),
    "pignoramento-outcome": Step(
        judicial.pignoramento_outcome, PignoramentoOutcomeIn, ("outcome", "amount")
    ),
    "lawsuit": Step(judicial.lawsuit, LawsuitIn, ("outcome", "next_hearing")),
    "precetto-opposition-outcome": Step(
        judicial.precetto_opposition_outcome,
        PrecettoOppositionOutcomeIn,
        ("upheld", "resumes_on"),
    ),
    # the EU path (issue 16): form A lodged instead of the ricorso, and what follows
    "eu-application": Step(
        judicial.eu_application,
        EuApplicationIn,
        ("procedure", "court_country", "court", "filed_on"),
    ),
    "eu-issued": Step(judicial.eu_issued, EuIssuedIn, ("issued_on",)),
    "eu-service": Step(judicial.eu_service, EuServiceIn, ("served_on",)),
    "eu-response": Step(judicial.eu_response, EuResponseIn, ("filed_on",)),
    "eu-decision": Step(judicial.eu_decision, EuDecisionIn, ("decision", "decided_on")),
}

# which forms the judicial workflow's stage expects (JudicialOut.stage); the workflow still
# decides: a step it does not expect now is its 409, shown in the alert
EXPECTED: dict[str, tuple[str, ...]] = {
    "awaiting_filing": ("filing",),
    "awaiting_decree": ("decree",),
    "awaiting_service": ("service",),
    "opposition_term": ("opposition",),
    "decree_final": ("precetto",),
    "precetto_term": ("precetto-opposition",),
    "awaiting_pignoramento": ("pignoramento", "precetto-opposition"),
    "pignoramento": ("pignoramento-outcome",),
    "lawsuit": ("lawsuit",),
    "precetto_opposed": ("precetto-opposition-outcome",),
    "eu_awaiting_issue": ("eu-issued",),
    "eu_awaiting_service": ("eu-service",),
    "eu_response_term": ("eu-response",),
    "eu_awaiting_decision": ("eu-decision",),
    "eu_ordinary": ("eu-decision",),
}
# the terms the creditor must meet (domain.court_calendar: `TermRule.creditor_meets`): their
# Deadline.last_day is the safe last day, the earliest of the readings the law is argued in
SAFE_KINDS = frozenset({"decree_service", "precetto_lapse"})
COURTS = sorted(f"Tribunale di {seat.tribunal}" for seat in SEATS.values())


# --- opinions ----------------------------------------------------------------------------------


async def _opinions(
    request: Request,
    db: SessionDep,
    principal: Principal,
    *,
    current: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    requests = await worklists.opinions(
        session=db, principal=principal, limit=LIST_LENGTH, offset=0
    )
    return render(
        request,
        "console/lawyer_opinions.html",
        {
            "requests": requests,
            "current": current,
            "form": form or {},
            "errors": errors or {},
            "refusal": refusal,
        },
        status_code,
    )


@router.get("/opinions")
async def opinions_page(
    request: Request, _r: ConsoleRequest, principal: Lawyer, db: SessionDep
) -> Response:
    return await _opinions(request, db, principal)


@router.post("/opinions/{practice_id}", dependencies=[PracticeBoundary])
async def record_opinion(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Lawyer,
    db: SessionDep,
    temporal: TemporalDep,
    recommend_action: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    form = {"recommend_action": recommend_action, "note": note}

    async def act() -> None:
        # the fields as the API receives them in JSON: the same parsing, the same messages
        # an unanswered question is an absent field, as in JSON without it
        # the action is the API's default: the judicial path the product runs, the injunction
        fields = {"recommend_action": optional(recommend_action), "note": note}
        body = LegalOpinionIn.model_validate({k: v for k, v in fields.items() if v is not None})
        await practice_commands.record_legal_opinion(
            practice_id=practice_id,
            body=body,
            session=db,
            temporal=temporal,
            principal=principal,
        )

    refused = await attempt(act)
    if refused:
        return await _opinions(
            request,
            db,
            principal,
            current=practice_id,
            form=form,
            errors=refused.errors,
            refusal=refused.message,
            status_code=refused.status_code,
        )
    return RedirectResponse(f"{OPINIONS}?recorded=1", status_code=303)


# --- deadlines ---------------------------------------------------------------------------------


@router.get("/deadlines")
async def deadlines_page(
    request: Request, _r: ConsoleRequest, principal: Lawyer, db: SessionDep
) -> Response:
    # sorted by the handler: the nearest last day first
    terms = await deadlines.deadlines(
        session=db, principal=principal, lawyer_id=None, limit=LIST_LENGTH, offset=0
    )
    return render(
        request, "console/lawyer_deadlines.html", {"terms": terms, "safe_kinds": SAFE_KINDS}
    )


# --- court steps -------------------------------------------------------------------------------


@router.get("/practices")
async def judicial_practices_page(
    request: Request, _r: ConsoleRequest, principal: Lawyer, db: SessionDep
) -> Response:
    """The practices in the judicial phase (GET /practices?phase=judicial), newest first, the
    closed ones left out: where a practice waiting to be filed, with no term yet, is found."""
    found = await practices.list_practices(
        session=db,
        principal=principal,
        status_=None,
        phase=Phase.JUDICIAL,
        creditor_id=None,
        reference=None,
        outcome=None,
        limit=LIST_LENGTH,
        offset=0,
    )
    open_ones = [p for p in found.items if p.status != Status.CLOSED]
    return render(request, "console/lawyer_practices.html", {"items": open_ones})


async def _court_page(
    request: Request,
    db: SessionDep,
    principal: Principal,
    practice_id: str,
    *,
    posted: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    practice = await practices.get_practice(
        practice_id=practice_id, session=db, principal=principal
    )
    stage = practice.judicial.stage if practice.judicial is not None else None
    expected = list(EXPECTED.get(stage or "", ()))
    country = practice.debtor.address.country if practice.debtor is not None else None
    eu = await _eu_choice(db, principal, practice_id, country)
    if stage == "awaiting_filing" and eu is not None and eu.eligible:
        expected.append("eu-application")
    kind = practice.debtor.kind if practice.debtor is not None else None
    if (
        "filing" in expected
        and posted != "filing"
        and italian_courts_refused(debtor_country=country, consumer=kind == DebtorKind.CONSUMER)
    ):
        # a consumer in another member state: the Italian ricorso is not offered (the API
        # refuses it with the same reason, api/routers/judicial.py)
        expected.remove("filing")
    if posted is not None and posted not in expected:
        expected.insert(0, posted)
    return render(
        request,
        "console/lawyer_court.html",
        {
            "practice": practice,
            "stage": stage,
            "expected": expected,
            "steps": STEPS,
            "posted": posted,
            "form": form or {},
            "errors": errors or {},
            "refusal": refusal,
            "courts": COURTS,
            "eu": eu,
            "safe_kinds": SAFE_KINDS,
            # the values of the fields chosen from a list, per step and field (labels in
            # the template, translated)
            "choices": {
                ("pignoramento", "kind"): [k.value for k in SeizureKind],
                ("pignoramento-outcome", "outcome"): [o.value for o in SeizureOutcome],
                ("lawsuit", "outcome"): [o.value for o in LawsuitOutcome],
                ("precetto-opposition-outcome", "upheld"): ["false", "true"],
                ("eu-application", "procedure"): [p.value for p in eu.eligible] if eu else [],
                ("eu-application", "court_country"): (
                    [eu.court_country, *eu.alternatives] if eu and eu.court_country else []
                ),
                ("eu-decision", "decision"): [d.value for d in EuDecision],
            },
        },
        status_code,
    )


async def _eu_choice(
    db: SessionDep, principal: Principal, practice_id: str, country: str | None
) -> EuChoice | None:
    """Which EU procedure applies (api.services.eu_forms, the API's GET judicial/eu): None for a
    debtor in Italy, or when the practice's statement cannot be made (its 409 is on the
    statement's link)."""
    if country == "IT":
        return None
    try:
        return (await eu_forms.eu_path(db, principal, practice_id)).choice
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        return None


@router.get("/practices/{practice_id}")
async def court_page(
    request: Request, practice_id: str, _r: ConsoleRequest, principal: Lawyer, db: SessionDep
) -> Response:
    return await _court_page(request, db, principal, practice_id)


async def _send_step(
    step: Step,
    practice_id: str,
    form: dict[str, str],
    db: SessionDep,
    temporal: Client,
    who: Principal,
) -> None:
    # an empty field is an absent one: the API's default applies (the law's opposition term...)
    values = {name: optional(form.get(name)) for name in step.fields}
    body = step.model.model_validate({k: v for k, v in values.items() if v is not None})
    await step.handler(
        practice_id=practice_id, body=body, session=db, temporal=temporal, principal=who
    )


@router.post("/practices/{practice_id}/steps/{name}", dependencies=[PracticeBoundary])
async def record_step(
    request: Request,
    practice_id: str,
    name: str,
    _r: ConsoleRequest,
    principal: Lawyer,
    db: SessionDep,
    temporal: TemporalDep,
) -> Response:
    step = STEPS.get(name)
    if step is None:
        raise HTTPException(status_code=404, detail="court step not found")
    posted = await request.form()
    # a step's own fields only, as typed, never cut: a value too long is the API's 422
    form = {field: text(posted.get(field)) for field in step.fields}

    async def act() -> None:
        await _send_step(step, practice_id, form, db, temporal, principal)

    refused = await attempt(act)
    if refused:
        return await _court_page(
            request,
            db,
            principal,
            practice_id,
            posted=name,
            form=form,
            errors=refused.errors,
            refusal=refused.message,
            status_code=refused.status_code,
        )
    return RedirectResponse(
        f"/console/lawyer/practices/{practice_id}?recorded={name}", status_code=303
    )


@router.get("/practices/{practice_id}/statement.pdf")
async def statement_pdf(
    practice_id: str,
    _r: ConsoleRequest,
    principal: Lawyer,
    db: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The API's statement PDF, as of today (the API's default)."""
    return await statement.get_statement_pdf(
        practice_id=practice_id, session=db, principal=principal, settings=settings, at=None
    )


@router.get("/practices/{practice_id}/form-a.pdf")
async def form_a_pdf(
    practice_id: str,
    _r: ConsoleRequest,
    principal: Lawyer,
    db: SessionDep,
    settings: SettingsDep,
    procedure: Annotated[EuProcedure | None, Query()] = None,
) -> Response:
    """The API's form A prefilled (api.services.eu_forms)."""
    return await eu_forms.form_a_pdf(db, principal, settings, practice_id, procedure)
