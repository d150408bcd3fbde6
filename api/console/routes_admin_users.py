"""The admin's users page: list, invite (role, creditor, provinces, countries), change role, a
foreign correspondent's countries, deactivate.

Creating, listing and changing users go through api/services/users.py, the functions the API's
/users router calls: the same validation (UserCreate), the same refusals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from api.auth import Principal, Role, console_require
from api.console import i18n, logins
from api.console.forms import field_errors, optional
from api.console.security import ConsoleRequest
from api.console.templating import render, request_locale
from api.deps import NowDep, SessionDep, SettingsDep, TemporalDep
from api.schemas import UserCountriesChange, UserCreate
from api.services import users as service
from api.services import visits
from db.models import Creditor, User

router = APIRouter(prefix="/admin", tags=["console"])

Admin = Annotated[Principal, console_require(Role.ADMIN)]
PAGE = "/console/admin/users"


async def _page(
    request: Request,
    db: SessionDep,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    invitation: dict[str, str] | None = None,
    editing: dict[str, str] | None = None,
    picked: int = 0,
    status_code: int = 200,
) -> Response:
    creditors = list(await db.scalars(select(Creditor).order_by(Creditor.name)))
    return render(
        request,
        "console/admin_users.html",
        {
            "users": await service.list_users(db),
            "creditors": creditors,
            "roles": list(Role),
            "form": form or {"role": Role.OPERATOR.value},
            "errors": errors or {},
            "invitation": invitation,
            # a correspondent's countries form sent back: its user, value and error
            "editing": editing or {},
            # waiting visits a correspondent just took (api.services.visits.pick_up_waiting)
            "picked": picked,
            "invitation_hours": request.app.state.settings.invitation_hours,
        },
        status_code,
    )


def _validator_words(message: str) -> str:
    """A field validator's message without pydantic's "Value error, ": the words the
    console's catalogue has (api/console/i18n.py REFUSALS), which render() translates."""
    return message.removeprefix("Value error, ")


def _codes(text: str) -> list[str]:
    """Codes typed as "MI MB" or "CH, US"."""
    return [code for code in text.replace(",", " ").split() if code]


async def _email_taken(db: SessionDep, email: str) -> bool:
    found = await db.scalar(
        select(User.id)
        .where(func.lower(User.email) == logins.email_key(email), User.active)
        .limit(1)
    )
    return found is not None


@router.get("/users")
async def users_page(
    request: Request,
    _r: ConsoleRequest,
    _a: Admin,
    db: SessionDep,
    visits_assigned: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    return await _page(request, db, picked=visits_assigned)


@router.post("/users")
async def invite_user(
    request: Request,
    _r: ConsoleRequest,
    principal: Admin,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    now: NowDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    phone: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=50)] = "",
    creditor_id: Annotated[str, Form(max_length=100)] = "",
    provinces: Annotated[str, Form(max_length=1000)] = "",
    countries: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    form = {
        "name": name,
        "email": email,
        "phone": phone,
        "role": role,
        "creditor_id": creditor_id,
        "provinces": provinces,
        "countries": countries,
    }
    errors: dict[str, str] = {}
    try:
        body = UserCreate(
            name=name,
            email=optional(email),
            phone=optional(phone),
            role=role,  # type: ignore[arg-type]  # pydantic validates the string into a Role
            creditor_id=optional(creditor_id),
            provinces=_codes(provinces),
            countries=_codes(countries),
        )
    except ValidationError as exc:
        errors = field_errors(exc)
        if "countries" in errors:
            errors["countries"] = _validator_words(errors["countries"])
    if not email.strip():
        # the console's own rules: a person logs in with an e-mail address, one person's
        # (this also makes a re-sent form, a reload of the answer, create nobody twice)
        errors.setdefault("email", "required")
    elif not errors.get("email") and await _email_taken(db, email):
        errors["email"] = "taken"
    if errors:
        return await _page(request, db, form=form, errors=errors, status_code=422)
    try:
        user, _key = await service.create_user(db, body)
    except RequestValidationError as exc:
        return await _page(request, db, form=form, errors=field_errors(exc), status_code=422)
    token = await logins.invite(db, settings, user, now)
    invitation = {"name": user.name, "url": logins.invitation_url(settings, token)}
    # a correspondent takes the visits that waited for its countries
    picked = await visits.pick_up_waiting(db, temporal, principal, user)
    return await _page(request, db, invitation=invitation, picked=picked, status_code=201)


@router.post("/users/{user_id}/role")
async def change_role(
    user_id: str,
    _r: ConsoleRequest,
    _a: Admin,
    db: SessionDep,
    role: Annotated[Role, Form()],
) -> Response:
    await service.change_role(db, user_id, role)
    return RedirectResponse(PAGE, status_code=303)


@router.post("/users/{user_id}/countries")
async def set_countries(
    request: Request,
    user_id: str,
    _r: ConsoleRequest,
    principal: Admin,
    db: SessionDep,
    temporal: TemporalDep,
    countries: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A foreign correspondent's countries: PUT /users/{id}/countries's validation and service,
    and the waiting visits of its new countries go to it."""
    error = None
    try:
        body = UserCountriesChange(countries=_codes(countries))
        user = await service.set_countries(db, user_id, body.countries)
    except ValidationError as exc:
        error = field_errors(exc).get("countries")
    except RequestValidationError as exc:
        error = field_errors(exc).get("countries")
    if error is None:
        picked = await visits.pick_up_waiting(db, temporal, principal, user)
        return RedirectResponse(f"{PAGE}?countries=1&visits_assigned={picked}", status_code=303)
    # a validator's own words, next to the field in the page's language
    error = i18n.refusal_text(request_locale(request), _validator_words(error))
    editing = {"user_id": user_id, "countries": countries, "error": error}
    return await _page(request, db, editing=editing, status_code=422)


@router.post("/users/{user_id}/deactivate")
async def deactivate(user_id: str, _r: ConsoleRequest, _a: Admin, db: SessionDep) -> Response:
    await service.deactivate(db, user_id)
    return RedirectResponse(PAGE, status_code=303)


@router.post("/users/{user_id}/invitation")
async def new_invitation(
    request: Request,
    user_id: str,
    _r: ConsoleRequest,
    _a: Admin,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    """A new one-time link for an active user (a lost link, a forgotten password, a user made
    through the API): the earlier links stop working; the password changes only when the link
    is used."""
    user = await db.get(User, user_id)
    if user is None or not user.active:
        raise HTTPException(status_code=404)
    token = await logins.invite(db, settings, user, now)
    invitation = {"name": user.name, "url": logins.invitation_url(settings, token)}
    return await _page(request, db, invitation=invitation)
