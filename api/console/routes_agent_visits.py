"""The field agent's visits, phone-sized: the open home visits assigned to them, with the
address and the contact window, and the outcome form. A foreign correspondent (a debtor abroad)
has the same screen with its own visits; the admin sees every visit, those nobody was assigned
marked (no correspondent covers the debtor's country).

Every action is the API's own handler, called as a function with the session's Principal:
GET /worklists/visits (worklists.visits: a field agent gets only the visits assigned to it, so
only their addresses, the personal-data rule of api/access.py) and POST
/practices/{id}/visit-outcomes (practice_commands.record_visit_outcome: only the assigned agent
reports). Their errors are shown on the page: a field's next to it, a refusal in the alert.
The admin's list has on each visit the form to assign or reassign it
(api.services.visits.assign_visit, the service of POST /practices/{id}/visit/assignee)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.access import console_practice_boundary
from api.auth import Principal, Role, console_require
from api.console import i18n
from api.console.forms import address_fields, attempt, euros, optional
from api.console.proposals import PLAN_ROWS, proposal_form, send_proposal
from api.console.security import ConsoleRequest
from api.console.templating import render, request_locale
from api.console.timeline import contact_reason
from api.deps import NowDep, SessionDep, TemporalDep, get_database, get_settings
from api.errors import conflict, invalid
from api.roles import VISITORS
from api.routers import practice_commands, worklists
from api.schemas import VisitAssigneeIn, VisitOutcomeIn
from api.services import visits as visit_service
from domain.calendar import rome_date
from domain.contact_rules import may_contact, next_window_start, window_end
from domain.practice import VisitOutcome

router = APIRouter(prefix="/agent", tags=["console"])
# another's practice is the 403 page before the form is read, as the API answers
PracticeBoundary = Depends(console_practice_boundary)

Agent = Annotated[Principal, console_require(Role.ADMIN, *VISITORS)]
Admin = Annotated[Principal, console_require(Role.ADMIN)]
PAGE = "/console/agent/visits"
LIST_LENGTH = 200


async def _visits(
    request: Request,
    db: SessionDep,
    principal: Principal,
    now: datetime,
    *,
    current: str | None = None,
    proposing: bool = False,
    assigning: bool = False,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    visits = await worklists.visits(
        session=db,
        principal=principal,
        now=now,
        settings=get_settings(request),
        limit=LIST_LENGTH,
        offset=0,
    )
    # the admin (re)assigns each visit: the active visitors who may make it (api.services.visits)
    visitors = (
        await visit_service.eligible_by_practice(
            db, {v.practice_id: v.address.country for v in visits.items}
        )
        if principal.role == Role.ADMIN
        else None
    )
    # the contact rules' window (UNIREC code): a visit now, or when the next window opens
    window = (
        {"open": True, "until": window_end(now)}
        if may_contact(now)
        else {"open": False, "from": next_window_start(now)}
    )
    if errors and current not in {visit.practice_id for visit in visits.items}:
        # a practice not on this list (the admin's, say) has no form here to show its
        # messages next to: they go in the alert, in the page's language
        code = request_locale(request)
        messages = [i18n.refusal_text(code, m) for m in errors.values()]
        refusal = "; ".join(m for m in (refusal, *messages) if m)
    return render(
        request,
        "console/agent_visits.html",
        {
            "visits": visits,
            "window": window,
            "current": current,
            "proposing": proposing,
            "assigning": assigning,
            "visitors": visitors,
            "plan_rows": PLAN_ROWS,
            "form": form or {},
            "errors": errors or {},
            "refusal": refusal,
            "outcomes": list(VisitOutcome),
            "today": rome_date(now),  # the date inputs' least day, in Rome
            # why a visit must wait (the contact rules' reason) in the page's language
            "contact_reason": partial(contact_reason, request_locale(request)),
        },
        status_code,
    )


def _new_address(form: dict[str, str]) -> dict[str, str | None] | None:
    """The moved debtor's address as AddressIn takes it: in Italy with its province, abroad
    with its country and region (the country alone prefilled is no address)."""
    address = address_fields(form, "new_")
    country = optional(form.get("new_country"))
    if country is None or country.upper() == "IT":
        return address
    if address is None:
        return None
    return address | {"province": None, "country": country, "region": form["new_region"].strip()}


@router.get("/visits")
async def visits_page(
    request: Request, _r: ConsoleRequest, principal: Agent, db: SessionDep, now: NowDep
) -> Response:
    return await _visits(request, db, principal, now)


@router.post("/visits/{practice_id}/outcome", dependencies=[PracticeBoundary])
async def record_outcome(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Agent,
    db: SessionDep,
    now: NowDep,
    temporal: TemporalDep,
    outcome: Annotated[str, Form(max_length=50)] = "",
    promised_date: Annotated[str, Form(max_length=20)] = "",
    promised_amount: Annotated[str, Form(max_length=50)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    # moved only: the new address, when the agent learned it
    new_street: Annotated[str, Form(max_length=400)] = "",
    new_city: Annotated[str, Form(max_length=200)] = "",
    new_postal_code: Annotated[str, Form(max_length=20)] = "",
    new_province: Annotated[str, Form(max_length=20)] = "",
    # a debtor abroad (a foreign correspondent's visit): the country and its region instead
    new_country: Annotated[str, Form(max_length=20)] = "",
    new_region: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form = {
        "outcome": outcome,
        "promised_date": promised_date,
        "promised_amount": promised_amount,
        "note": note,
        "new_street": new_street,
        "new_city": new_city,
        "new_postal_code": new_postal_code,
        "new_province": new_province,
        "new_country": new_country,
        "new_region": new_region,
    }

    async def act() -> None:
        # the fields as the API receives them in JSON: the same parsing, the same messages
        body = VisitOutcomeIn.model_validate(
            {
                "outcome": outcome,
                "promised_date": optional(promised_date),
                "promised_amount": euros(promised_amount),
                "new_address": _new_address(form),
                "note": note,
            }
        )
        await practice_commands.record_visit_outcome(
            practice_id=practice_id,
            body=body,
            session=db,
            temporal=temporal,
            principal=principal,
            now=now,
            db=get_database(request),
            settings=get_settings(request),
        )

    refused = await attempt(act, nested=("new_address",))
    if refused:
        return await _visits(
            request,
            db,
            principal,
            now,
            current=practice_id,
            form=form,
            errors=refused.errors,
            refusal=refused.message,
            status_code=refused.status_code,
        )
    return RedirectResponse(f"{PAGE}?recorded=1", status_code=303)


@router.post("/visits/{practice_id}/proposal", dependencies=[PracticeBoundary])
async def propose(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Agent,
    db: SessionDep,
    now: NowDep,
    temporal: TemporalDep,
) -> Response:
    form = proposal_form(await request.form())
    refused = await send_proposal(practice_id, form, db=db, temporal=temporal, principal=principal)
    if refused:
        return await _visits(
            request,
            db,
            principal,
            now,
            current=practice_id,
            proposing=True,
            form=form,
            errors=refused.errors,
            refusal=refused.message,
            status_code=refused.status_code,
        )
    return RedirectResponse(f"{PAGE}?proposed=1", status_code=303)


@router.post("/visits/{practice_id}/assignee", dependencies=[PracticeBoundary])
async def assign(
    request: Request,
    practice_id: str,
    _r: ConsoleRequest,
    principal: Admin,
    db: SessionDep,
    now: NowDep,
    temporal: TemporalDep,
    user_id: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The admin gives the visit to the chosen field agent or correspondent: the API's service,
    its refusals next to the field or in the alert."""

    async def act() -> None:
        if not user_id.strip():
            raise invalid(["body", "user_id"], "Field required")
        body = VisitAssigneeIn.model_validate({"user_id": user_id})
        result = await visit_service.assign_visit(
            db, temporal, principal, practice_id, body.user_id
        )
        if not result.accepted:  # the visit closed meanwhile
            raise conflict(result.message)

    refused = await attempt(act)
    if refused:
        return await _visits(
            request,
            db,
            principal,
            now,
            current=practice_id,
            assigning=True,
            form={"user_id": user_id},
            errors=refused.errors,
            refusal=refused.message,
            status_code=refused.status_code,
        )
    return RedirectResponse(f"{PAGE}?assigned=1", status_code=303)
