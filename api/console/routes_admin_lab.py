"""The admin's strategy lab page for one creditor: its named strategies, its segment rules and
its champion/challenger experiments (`/console/admin/creditors/{id}/lab`).

Every form goes through api/services/lab.py, the functions the /creditors/{id}/strategies,
/segments and /experiments routes call: the same models (SegmentsModel, ExperimentCreate), the
same checks, the same refusals, shown next to the field the API's 422 names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.auth import Principal, Role, console_require
from api.console.forms import euros, optional
from api.console.lab_results_view import CONTACT_NAMES, results_view
from api.console.routes_admin_creditors import error_paths
from api.console.security import ConsoleRequest
from api.console.templating import render, request_locale
from api.deps import SessionDep
from api.routers.lab import experiment_out
from api.schemas import StrategyModel
from api.schemas_lab import (
    ContactCostsModel,
    ExperimentCreate,
    ExperimentEnd,
    PromoteIn,
    SegmentsModel,
    SegmentsOut,
)
from api.services import creditors as creditors_service
from api.services import lab as service
from api.services import lab_results
from db.models import Creditor
from domain.segments import CONTACTS, DEBTOR_KINDS, REGIONS

router = APIRouter(prefix="/admin", tags=["console"])

Admin = Annotated[Principal, console_require(Role.ADMIN)]
# rows of the segments form: the rules saved, and this many empty ones to add rules
EMPTY_ROWS = 2
MAX_ROWS = 100
RULE_FIELDS = (
    "name",
    "strategy",
    "min_amount",
    "max_amount",
    "min_age_days",
    "max_age_days",
    "debtor_kinds",
    "regions",
    "provinces",
    "other_practices",
    "contacts",
)


def _url(creditor_id: str) -> str:
    return f"/console/admin/creditors/{creditor_id}/lab"


def _rule_rows(segments: SegmentsOut) -> list[dict[str, str]]:
    """The saved rules as the form's rows (lists as comma-separated text)."""
    rows = []
    for i, rule in enumerate(segments.rules):
        data = rule.model_dump(mode="json")
        row = {k: "" if data[k] is None else data[k] for k in RULE_FIELDS}
        for key in ("regions", "provinces"):
            row[key] = ", ".join(data[key])
        row["debtor_kinds"] = data["debtor_kinds"][0] if len(data["debtor_kinds"]) == 1 else ""
        row["other_practices"] = (
            "" if data["other_practices"] is None else "yes" if data["other_practices"] else "no"
        )
        row["contacts"] = data["contacts"]
        row["position"] = str(i + 1)
        rows.append(row)
    return rows


def _empty_row(position: int) -> dict[str, Any]:
    return {k: "" for k in RULE_FIELDS} | {"contacts": [], "position": str(position)}


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _segments_body(
    fields: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[int], dict[str, str]]:
    """The posted rows as PUT /segments' body (rows without a name are left out, rows marked
    `remove` too, the rest in the order of their positions), the rows to show again, the
    form row each rule came from, and the errors found before the model."""
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for i in range(MAX_ROWS):
        if f"rules.{i}.name" not in fields:
            break
        row: dict[str, Any] = {
            k: str(fields.get(f"rules.{i}.{k}", "") or "").strip() for k in RULE_FIELDS
        }
        row["contacts"] = [c for c in CONTACTS if fields.get(f"rules.{i}.contacts.{c}") == "on"]
        row["position"] = str(fields.get(f"rules.{i}.position", "") or "").strip()
        row["remove"] = fields.get(f"rules.{i}.remove") == "on"
        if row["position"] and not row["position"].isdigit():
            errors[f"rules.{i}.position"] = "must be a whole number"
        rows.append(row)
    kept = [i for i, row in enumerate(rows) if row["name"] and not row["remove"]]
    kept.sort(key=lambda i: int(rows[i]["position"]) if rows[i]["position"].isdigit() else i + 1)
    rules = []
    for i in kept:
        row = rows[i]
        other = {"yes": True, "no": False}.get(row["other_practices"])
        rules.append(
            {
                "name": row["name"],
                "strategy": row["strategy"],
                "min_amount": euros(row["min_amount"]),
                "max_amount": euros(row["max_amount"]),
                "min_age_days": optional(row["min_age_days"]),
                "max_age_days": optional(row["max_age_days"]),
                "debtor_kinds": [row["debtor_kinds"]] if row["debtor_kinds"] else [],
                "regions": _listed(row["regions"]),
                "provinces": _listed(row["provinces"]),
                "other_practices": other,
                "contacts": row["contacts"],
            }
        )
    body = {"rules": rules, "default_strategy": str(fields.get("default_strategy", "")).strip()}
    return body, rows, kept, errors


def _rules_back(errors: dict[str, str], kept: list[int]) -> dict[str, str]:
    """`rules.<k>.field` of the saved list back to the form's row it came from."""
    moved: dict[str, str] = {}
    for path, message in errors.items():
        parts = path.split(".")
        if len(parts) > 1 and parts[0] == "rules" and parts[1].isdigit():
            k = int(parts[1])
            if k < len(kept):
                parts[1] = str(kept[k])
        moved.setdefault(".".join(parts), message)
    return moved


async def _page(
    request: Request,
    db: SessionDep,
    creditor: Creditor,
    *,
    rows: list[dict[str, Any]] | None = None,
    default_strategy: str | None = None,
    forms: dict[str, dict[str, Any]] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    strategies = await service.named_strategies(db, creditor)
    segments = SegmentsOut.from_domain(await service.current_segments(db, creditor))
    if rows is None:  # the saved rules, and empty rows to add some; else the posted rows
        saved = _rule_rows(segments)
        rows = [*saved, *(_empty_row(len(saved) + n + 1) for n in range(EMPTY_ROWS))]
    experiments = [experiment_out(r) for r in await service.list_experiments(db, creditor)]
    return render(
        request,
        "console/admin_lab.html",
        {
            "creditor": creditor,
            "strategies": strategies,
            "segments": segments,
            "rows": rows,
            "default_strategy": default_strategy or segments.default_strategy,
            "experiments": experiments,
            "forms": forms or {},
            "errors": errors or {},
            "alert": alert,
            "notice": notice,
            "kinds": DEBTOR_KINDS,
            "regions": REGIONS,
            "contacts": CONTACTS,
        },
        status_code,
    )


@router.get("/creditors/{creditor_id}/lab")
async def lab_page(
    request: Request,
    creditor_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    saved: str | None = None,
) -> Response:
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    notice = {"strategy": "strategy", "segments": "segments", "experiment": "experiment"}.get(
        saved or ""
    )
    return await _page(request, db, creditor, notice=notice)


def _refusal(exc: HTTPException) -> str:
    if exc.status_code in (403, 404):
        raise exc
    return str(exc.detail)


@router.post("/creditors/{creditor_id}/lab/strategies")
async def add_strategy(
    request: Request,
    creditor_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    name: Annotated[str, Form(max_length=100)] = "",
    copy_from: Annotated[str, Form(max_length=100)] = "default",
) -> Response:
    """A new version of the named strategy, a copy of `copy_from` (PUT
    /creditors/{id}/strategies/{name} with that strategy); the strategy page edits it."""
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    form = {"name": name, "copy_from": copy_from}
    source = (await service.named_strategies(db, creditor)).get(copy_from)
    if source is None:
        errors = {"copy_from": f"no strategy named {copy_from!r}"}
        return await _page(
            request, db, creditor, forms={"strategy": form}, errors=errors, status_code=422
        )
    try:
        await service.save_named_strategy(
            db, creditor, name.strip(), StrategyModel.from_domain(source), admin
        )
    except RequestValidationError as exc:
        # the only field the service checks here is the name (the copy is a saved strategy)
        errors = {"strategy_name": next(iter(error_paths(exc).values()))}
        return await _page(
            request, db, creditor, forms={"strategy": form}, errors=errors, status_code=422
        )
    except HTTPException as exc:
        return await _page(
            request,
            db,
            creditor,
            forms={"strategy": form},
            alert=_refusal(exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(_url(creditor.id) + "?saved=strategy", status_code=303)


@router.post("/creditors/{creditor_id}/lab/segments")
async def save_segments(
    request: Request, creditor_id: str, _r: ConsoleRequest, admin: Admin, db: SessionDep
) -> Response:
    """The rules as PUT /creditors/{id}/segments saves them: a new version."""
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    body, rows, kept, errors = _segments_body(await request.form())
    default = str(body["default_strategy"])
    if not errors:
        try:
            await service.save_segments(db, creditor, SegmentsModel.model_validate(body), admin)
        except (ValidationError, RequestValidationError) as exc:
            errors = _rules_back(error_paths(exc), kept)
        except HTTPException as exc:
            return await _page(
                request,
                db,
                creditor,
                rows=rows,
                default_strategy=default,
                alert=_refusal(exc),
                status_code=exc.status_code,
            )
        else:
            return RedirectResponse(_url(creditor.id) + "?saved=segments", status_code=303)
    # the rows as posted, empty ones included: each error names its row's index
    return await _page(
        request,
        db,
        creditor,
        rows=rows,
        default_strategy=default,
        errors=errors,
        status_code=422,
    )


@router.post("/creditors/{creditor_id}/lab/experiments")
async def create_experiment(
    request: Request,
    creditor_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    segment: Annotated[str, Form(max_length=100)] = "",
    champion: Annotated[str, Form(max_length=100)] = "",
    champion_share: Annotated[str, Form(max_length=10)] = "",
    challenger: Annotated[str, Form(max_length=100)] = "",
    challenger_share: Annotated[str, Form(max_length=10)] = "",
    start: Annotated[str, Form(max_length=20)] = "",
    end: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Champion and one challenger (POST /creditors/{id}/experiments; the API takes more)."""
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    form = {
        "segment": segment,
        "champion": champion,
        "champion_share": champion_share,
        "challenger": challenger,
        "challenger_share": challenger_share,
        "start": start,
        "end": end,
    }
    try:
        body = ExperimentCreate.model_validate(
            {
                "segment": segment.strip(),
                "champion": {"strategy": champion, "share": champion_share.strip()},
                "challengers": [{"strategy": challenger, "share": challenger_share.strip()}],
                "start": start.strip(),
                "end": optional(end),
            }
        )
        await service.create_experiment(db, creditor, body, admin)
    except (ValidationError, RequestValidationError) as exc:
        errors = {_experiment_field(k): v for k, v in reversed(error_paths(exc).items())}
        return await _page(
            request, db, creditor, forms={"experiment": form}, errors=errors, status_code=422
        )
    except HTTPException as exc:
        return await _page(
            request,
            db,
            creditor,
            forms={"experiment": form},
            alert=_refusal(exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(_url(creditor.id) + "?saved=experiment", status_code=303)


def _experiment_field(path: str) -> str:
    """The API's field path as the form's input: champion.share -> champion_share,
    challengers.0.strategy -> challenger."""
    parts = path.split(".")
    if parts[0] == "champion":
        return "champion_share" if parts[-1] == "share" else "champion"
    if parts[0] == "challengers":
        if len(parts) > 2:
            return "challenger_share" if parts[-1] == "share" else "challenger"
        return "challenger_share"  # the shares' sum
    return parts[0]


@router.post("/creditors/{creditor_id}/lab/experiments/{experiment_id}/end")
async def end_experiment(
    request: Request,
    creditor_id: str,
    experiment_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    end: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Sets the experiment's last day (POST /creditors/{id}/experiments/{eid}/end)."""
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    form = {"end": end, "experiment_id": experiment_id}
    try:
        body = ExperimentEnd.model_validate({"end": end.strip()})
        await service.end_experiment(db, creditor, experiment_id, body.end)
    except (ValidationError, RequestValidationError) as exc:
        errors = {f"end-{experiment_id}": v for v in error_paths(exc).values()}
        return await _page(
            request, db, creditor, forms={"end": form}, errors=errors, status_code=422
        )
    except HTTPException as exc:
        return await _page(
            request,
            db,
            creditor,
            forms={"end": form},
            alert=_refusal(exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(_url(creditor.id) + "?saved=experiment", status_code=303)


# --- an experiment's results, the promotion of a challenger, the contacts' unit costs ----------


def _experiment_url(creditor_id: str, experiment_id: str) -> str:
    return f"{_url(creditor_id)}/experiments/{experiment_id}"


async def _experiment_page(
    request: Request,
    db: SessionDep,
    creditor: Creditor,
    experiment_id: str,
    *,
    effect: str = "",
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    """GET .../results's figures (the same service), with the promote form."""
    errors = dict(errors or {})
    points = lab_results.DEFAULT_EFFECT_POINTS
    text = effect.strip()
    if text and not text.isdigit():
        errors["effect"] = "must be a whole number"
    elif text:
        points = int(text)
    try:
        results = await lab_results.experiment_results(
            db, creditor, experiment_id, effect_points=points
        )
    except RequestValidationError as exc:
        errors |= {k.removeprefix("query."): v for k, v in error_paths(exc).items()}
        results = await lab_results.experiment_results(db, creditor, experiment_id)
    row = await service.experiment_for(db, creditor, experiment_id)
    return render(
        request,
        "console/admin_experiment.html",
        {
            "creditor": creditor,
            "experiment": experiment_out(row),
            "r": results_view(results, request_locale(request), creditor.id),
            "effect": effect,
            "form": form or {},
            "errors": errors,
            "alert": alert,
            "notice": notice,
        },
        422 if errors and status_code == 200 else status_code,
    )


@router.get("/creditors/{creditor_id}/lab/experiments/{experiment_id}")
async def experiment_page(
    request: Request,
    creditor_id: str,
    experiment_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    effect: Annotated[str, Query(max_length=10)] = "",
    promoted: str | None = None,
) -> Response:
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    return await _experiment_page(
        request,
        db,
        creditor,
        experiment_id,
        effect=effect,
        notice="promoted" if promoted else None,
    )


@router.post("/creditors/{creditor_id}/lab/experiments/{experiment_id}/promote")
async def promote_challenger(
    request: Request,
    creditor_id: str,
    experiment_id: str,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    arm: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """POST /creditors/{id}/experiments/{eid}/promote: the challenger becomes the segment's
    strategy for new practices."""
    creditor = await creditors_service.creditor_for(db, admin, creditor_id)
    form = {"arm": arm}
    try:
        body = PromoteIn.model_validate({"arm": arm.strip()})
        await lab_results.promote_challenger(db, creditor, experiment_id, body.arm, admin)
    except (ValidationError, RequestValidationError) as exc:
        return await _experiment_page(
            request, db, creditor, experiment_id, form=form, errors=error_paths(exc)
        )
    except HTTPException as exc:
        return await _experiment_page(
            request,
            db,
            creditor,
            experiment_id,
            form=form,
            alert=_refusal(exc),
            status_code=exc.status_code,
        )
    return RedirectResponse(
        _experiment_url(creditor.id, experiment_id) + "?promoted=1", status_code=303
    )


async def _costs_page(
    request: Request,
    db: SessionDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: bool = False,
    status_code: int = 200,
) -> Response:
    saved = await lab_results.unit_costs(db)
    return render(
        request,
        "console/admin_contact_costs.html",
        {
            "kinds": lab_results.CONTACT_KINDS,
            "names": CONTACT_NAMES,
            "form": form or {k: str(v) for k, v in saved.items()},
            "errors": errors or {},
            "notice": notice,
        },
        status_code,
    )


@router.get("/contact-costs")
async def contact_costs_page(
    request: Request, _r: ConsoleRequest, _admin: Admin, db: SessionDep, saved: str | None = None
) -> Response:
    return await _costs_page(request, db, notice=bool(saved))


@router.post("/contact-costs")
async def save_contact_costs(
    request: Request,
    _r: ConsoleRequest,
    admin: Admin,
    db: SessionDep,
    letter: Annotated[str, Form(max_length=20)] = "",
    sms: Annotated[str, Form(max_length=20)] = "",
    email: Annotated[str, Form(max_length=20)] = "",
    call: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """PUT /settings/contact-costs: every kind's cost in integer cents."""
    form = {"letter": letter, "sms": sms, "email": email, "call": call}
    try:
        body = ContactCostsModel.model_validate({k: v.strip() for k, v in form.items()})
        await lab_results.save_unit_costs(db, body.model_dump(), admin)
    except (ValidationError, RequestValidationError) as exc:
        return await _costs_page(request, db, form=form, errors=error_paths(exc), status_code=422)
    return RedirectResponse("/console/admin/contact-costs?saved=1", status_code=303)
