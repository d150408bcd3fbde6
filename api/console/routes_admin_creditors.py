"""The admin's creditors pages: list and register creditors; a creditor's strategy (edit, its
versions, the path with dates it sets out for a practice handed over today).

Registering and saving go through api/services/creditors.py, the functions the /creditors
router calls: the same pydantic models (CreditorCreate, StrategyModel), the same
validate_strategy, the same refusals, shown next to the field the API's 422 names."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.auth import Principal, Role, console_require
from api.console.forms import field_errors, optional
from api.console.security import ConsoleRequest
from api.console.templating import render
from api.deps import NowDep, SessionDep
from api.schemas import CreditorCreate, StrategyModel
from api.services import creditors as service
from api.services import lab
from api.strategies import creditor_strategy, strategy_from_json
from db.models import Creditor
from domain.calendar import rome_date
from domain.segments import DEFAULT_STRATEGY
from domain.strategy import ALLOCATIONS, STEP_ORDER, Strategy
from domain.strategy_path import strategy_path

router = APIRouter(prefix="/admin", tags=["console"])

Admin = Annotated[Principal, console_require(Role.ADMIN)]
PAGE = "/console/admin/creditors"

# the strategy's fields with their own input on the form; the others are edited as JSON
DURATION_INPUTS = (
    "call_retry_interval",
    "call_outcome_timeout",
    "trace_timeout",
    "visit_outcome_timeout",
    "opinion_timeout",
    "demand_term",
    "authorization_timeout",
    "debtor_link_validity",  # how long the link printed in a letter opens the debtor's page
)
FORM_FIELDS = frozenset(
    {"steps", "call_attempts", "allocation", "claim_interest", *DURATION_INPUTS}
)
OTHER = "other"  # the JSON textarea's name, and the key of errors on fields it holds


def error_paths(exc: ValidationError | RequestValidationError) -> dict[str, str]:
    """{dotted path: message} (`steps.0.wait_after`), the first message per path: the field a
    strategy's 422 names, deeper than forms.field_errors' first part."""
    found: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "path")]
        found.setdefault(".".join(loc) or "__all__", str(error.get("msg", "")))
    return found


# -- creditors -------------------------------------------------------------------------------


async def _creditors_page(
    request: Request,
    db: SessionDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: Creditor | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "console/admin_creditors.html",
        {
            "creditors": await service.list_creditors(db),
            "form": form or {},
            "errors": errors or {},
            "created": created,
        },
        status_code,
    )


@router.get("/creditors")
async def creditors_page(
    request: Request, _r: ConsoleRequest, _a: Admin, db: SessionDep
) -> Response:
    return await _creditors_page(request, db)


@router.post("/creditors")
async def create_creditor(
    request: Request,
    _r: ConsoleRequest,
    _a: Admin,
    db: SessionDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    vat_number: Annotated[str, Form(max_length=100)] = "",
    iban: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    form = {"name": name, "vat_number": vat_number, "iban": iban, "email": email}
    try:
        body = CreditorCreate(
            name=name.strip(), vat_number=vat_number, iban=iban, email=optional(email)
        )
        creditor = await service.create_creditor(db, body)
    except ValidationError as exc:
        return await _creditors_page(
            request, db, form=form, errors=field_errors(exc), status_code=422
        )
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        # the API's 409: this partita IVA is registered already
        return await _creditors_page(
            request, db, form=form, errors={"vat_number": str(exc.detail)}, status_code=409
        )
    return await _creditors_page(request, db, created=creditor, status_code=201)


# -- a creditor's strategy -------------------------------------------------------------------


def _strategy_form(model: StrategyModel) -> dict[str, Any]:
    """The form's values for a strategy: the main fields, and the others as JSON."""
    data = model.model_dump(mode="json")
    form: dict[str, Any] = {name: data[name] for name in FORM_FIELDS if name != "steps"}
    form["steps"] = [{**row, "position": str(i + 1)} for i, row in enumerate(data["steps"])]
    rest = {k: v for k, v in data.items() if k not in FORM_FIELDS}
    form[OTHER] = json.dumps(rest, indent=2, ensure_ascii=False)
    return form


def _form_body(fields: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The posted form as StrategyModel's input, the values to show again, and the errors
    found before the model (a JSON textarea that is not a JSON object, a position that is not
    a number). Each row names its step (`steps.<i>.step`, the canonical one when absent) and
    its place (`steps.<i>.position`): the steps run in the order of the positions, ties and
    rows without one keeping the form's order. Errors on a step name the form's row
    (`_rows_back`)."""
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for i, step in enumerate(STEP_ORDER):
        position = str(fields.get(f"steps.{i}.position", "") or "").strip()
        if position and not position.isdigit():
            errors[f"steps.{i}.position"] = "must be a whole number"
        rows.append(
            {
                "step": str(fields.get(f"steps.{i}.step") or step.value),
                "enabled": fields.get(f"steps.{i}.enabled") == "on",
                "wait_after": str(fields.get(f"steps.{i}.wait_after", "")).strip(),
                "position": position,
            }
        )
    order = sorted(
        range(len(rows)),
        key=lambda i: int(rows[i]["position"]) if rows[i]["position"].isdigit() else i + 1,
    )
    body: dict[str, Any] = {}
    other = str(fields.get(OTHER, "") or "{}")
    try:
        parsed = json.loads(other)
    except json.JSONDecodeError as exc:
        errors[OTHER] = f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        parsed = {}
    if not isinstance(parsed, dict):
        errors[OTHER] = "must be a JSON object"
        parsed = {}
    # the form's own inputs win over the same names in the JSON
    body.update({k: v for k, v in parsed.items() if k not in FORM_FIELDS})
    body["steps"] = [{k: rows[i][k] for k in ("step", "enabled", "wait_after")} for i in order]
    for name in DURATION_INPUTS:
        body[name] = str(fields.get(name, "")).strip()
    body["call_attempts"] = str(fields.get("call_attempts", "")).strip()
    body["allocation"] = str(fields.get("allocation", ""))
    body["claim_interest"] = fields.get("claim_interest") == "on"
    form = {k: v for k, v in body.items() if k in FORM_FIELDS}
    form["steps"] = rows
    form[OTHER] = other
    form[ROW_ORDER] = order
    return body, form, errors


ROW_ORDER = "_order"  # the form's key holding, for each step as posted, the row it came from


def _rows_back(errors: dict[str, str], order: list[int]) -> dict[str, str]:
    """`steps.<k>.field` of the ordered list back to the form's row it came from."""
    moved: dict[str, str] = {}
    for path, message in errors.items():
        parts = path.split(".")
        if len(parts) > 1 and parts[0] == "steps" and parts[1].isdigit():
            k = int(parts[1])
            if k < len(order):
                parts[1] = str(order[k])
        moved.setdefault(".".join(parts), message)
    return moved


def _placed(errors: dict[str, str]) -> dict[str, str]:
    """Errors by the input that shows them: a main field's under its own name, any other
    field's under the JSON textarea (prefixed by its path)."""
    placed: dict[str, str] = {}
    for path, message in errors.items():
        if path == OTHER or path.split(".")[0] in FORM_FIELDS:
            placed.setdefault(path, message)
        else:
            placed.setdefault(OTHER, f"{path}: {message}")
    return placed


async def _strategy_page(
    request: Request,
    db: SessionDep,
    creditor: Creditor,
    today: date,
    *,
    strategy: Strategy | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
    name: str = DEFAULT_STRATEGY,
) -> Response:
    """The page of the named strategy (`default`: the one PUT /creditors/{id}/strategy edits).
    The preview shows `strategy` (a form previewed, not saved), else the current one; none
    while the form has errors."""
    if name == DEFAULT_STRATEGY:
        current = creditor_strategy(creditor)
        versions = await service.strategy_versions(db, creditor)
    else:
        current = await lab.named_strategy(db, creditor, name)
        versions = await lab.named_strategy_versions(db, creditor, name)
    shown = strategy or current
    return render(
        request,
        "console/admin_strategy.html",
        {
            "creditor": creditor,
            "name": name,
            "default_name": DEFAULT_STRATEGY,
            "url": _strategy_url(creditor.id, name),
            "current_version": current.version,
            "form": form or _strategy_form(StrategyModel.from_domain(current)),
            "errors": errors or {},
            "steps": STEP_ORDER,
            "durations": DURATION_INPUTS,
            "allocations": ALLOCATIONS,
            "versions": [
                {
                    "row": row,
                    "current": row.version == current.version,
                    "strategy": strategy_from_json(row.strategy),
                }
                for row in reversed(versions)
            ],
            "today": today,
            "path": [] if errors else strategy_path(shown, today),
            "previewing": strategy is not None,
            "saved": saved,
        },
        status_code,
    )


def _strategy_url(creditor_id: str, name: str = DEFAULT_STRATEGY) -> str:
    if name == DEFAULT_STRATEGY:
        return f"{PAGE}/{creditor_id}/strategy"
    return f"{PAGE}/{creditor_id}/strategies/{name}"


@router.get("/creditors/{creditor_id}/strategy")
async def strategy_page(
    request: Request,
    creditor_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    now: NowDep,
    saved: bool = False,
) -> Response:
    creditor = await service.creditor_for(db, admin, creditor_id)
    return await _strategy_page(request, db, creditor, rome_date(now), saved=saved)


@router.get("/creditors/{creditor_id}/strategies/{name}")
async def named_strategy_page(
    request: Request,
    creditor_id: str,
    name: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    now: NowDep,
    saved: bool = False,
) -> Response:
    """A named strategy's page (the lab page adds one; 404 for a name never saved)."""
    creditor = await service.creditor_for(db, admin, creditor_id)
    return await _strategy_page(request, db, creditor, rome_date(now), saved=saved, name=name)


async def _checked(
    request: Request, db: SessionDep, creditor: Creditor, today: date, name: str
) -> tuple[StrategyModel | None, dict[str, Any], Response | None]:
    """The posted strategy as the API's model and domain check accept it, or the page with
    the errors next to their fields (422, the API's messages)."""
    body, form, errors = _form_body(await request.form())
    model: StrategyModel | None = None
    if not errors:
        try:
            model = StrategyModel.model_validate(body)
            service.checked_strategy(model)
        except (ValidationError, RequestValidationError) as exc:
            errors = _rows_back(error_paths(exc), form[ROW_ORDER])
            model = None
    if model is None:
        page = await _strategy_page(
            request,
            db,
            creditor,
            today,
            form=form,
            errors=_placed(errors),
            status_code=422,
            name=name,
        )
        return None, form, page
    return model, form, None


async def _save(
    request: Request, db: SessionDep, admin: Principal, creditor_id: str, name: str, today: date
) -> Response:
    creditor = await service.creditor_for(db, admin, creditor_id)
    if name != DEFAULT_STRATEGY:
        await lab.named_strategy(db, creditor, name)  # a new name is added on the lab page
    model, form, refused = await _checked(request, db, creditor, today, name)
    if model is None:
        assert refused is not None
        return refused
    try:
        await lab.save_named_strategy(db, creditor, name, model, admin)
    except RequestValidationError as exc:  # the same check again, as the router does it
        return await _strategy_page(
            request,
            db,
            creditor,
            today,
            form=form,
            errors=_placed(_rows_back(error_paths(exc), form[ROW_ORDER])),
            status_code=422,
            name=name,
        )
    # after a save, a reload must not save again
    return RedirectResponse(_strategy_url(creditor.id, name) + "?saved=1", status_code=303)


async def _preview(
    request: Request, db: SessionDep, admin: Principal, creditor_id: str, name: str, today: date
) -> Response:
    creditor = await service.creditor_for(db, admin, creditor_id)
    if name != DEFAULT_STRATEGY:
        await lab.named_strategy(db, creditor, name)
    model, form, refused = await _checked(request, db, creditor, today, name)
    if model is None:
        assert refused is not None
        return refused
    strategy = service.checked_strategy(model)
    return await _strategy_page(
        request, db, creditor, today, strategy=strategy, form=form, name=name
    )


@router.post("/creditors/{creditor_id}/strategy")
async def save_strategy(
    request: Request,
    creditor_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    now: NowDep,
) -> Response:
    """A new version of the strategy, checked as PUT /creditors/{id}/strategy checks it."""
    return await _save(request, db, admin, creditor_id, DEFAULT_STRATEGY, rome_date(now))


@router.post("/creditors/{creditor_id}/strategy/preview")
async def preview_strategy(
    request: Request,
    creditor_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    now: NowDep,
) -> Response:
    """The path the form's strategy would set out, without saving it."""
    return await _preview(request, db, admin, creditor_id, DEFAULT_STRATEGY, rome_date(now))


@router.post("/creditors/{creditor_id}/strategies/{name}")
async def save_named_strategy(
    request: Request,
    creditor_id: str,
    name: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    now: NowDep,
) -> Response:
    """A new version of a named strategy, checked as PUT /creditors/{id}/strategies/{name}."""
    return await _save(request, db, admin, creditor_id, name, rome_date(now))


@router.post("/creditors/{creditor_id}/strategies/{name}/preview")
async def preview_named_strategy(
    request: Request,
    creditor_id: str,
    name: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    now: NowDep,
) -> Response:
    """The path a named strategy's form would set out, without saving it."""
    return await _preview(request, db, admin, creditor_id, name, rome_date(now))
