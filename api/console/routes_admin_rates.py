"""The admin's rates page: every known period (shipped and added), the periods begun that no
rate covers highlighted (domain.rates.missing_periods, what GET /health lists), and the form to
add a rate through api/services/rates.py, the function POST /rates calls (RateIn's checks, the
409 on an overlap), its errors next to the field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.auth import Principal, Role, console_require
from api.console.forms import field_errors, optional
from api.console.security import ConsoleRequest
from api.console.templating import render
from api.deps import NowDep, SessionDep
from api.schemas_judicial import RateIn, RateOut
from api.services import rates as service
from domain.calendar import rome_date
from domain.rates import RateKind

router = APIRouter(prefix="/admin", tags=["console"])

Admin = Annotated[Principal, console_require(Role.ADMIN)]


async def _page(
    request: Request,
    db: SessionDep,
    now: datetime,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    added: RateOut | None = None,
    status_code: int = 200,
) -> Response:
    missing = await service.missing_rates(db, rome_date(now))
    first = missing[0] if missing else None
    return render(
        request,
        "console/admin_rates.html",
        {
            "rates": await service.list_rates(db),
            "missing": missing,
            "kinds": list(RateKind),
            # the form starts on the first missing period, the one a statement will ask for
            "form": form
            or (
                {
                    "kind": first.kind.value,
                    "start": first.start.isoformat(),
                    "end": first.end.isoformat(),
                }
                if first is not None
                else {"kind": RateKind.LATE_PAYMENT_231.value}
            ),
            "errors": errors or {},
            "added": added,
        },
        status_code,
    )


@router.get("/rates")
async def rates_page(
    request: Request, _r: ConsoleRequest, _a: Admin, db: SessionDep, now: NowDep
) -> Response:
    return await _page(request, db, now)


@router.post("/rates")
async def add_rate(
    request: Request,
    _r: ConsoleRequest,
    _a: Admin,
    db: SessionDep,
    now: NowDep,
    kind: Annotated[str, Form(max_length=50)] = "",
    start: Annotated[str, Form(max_length=50)] = "",
    end: Annotated[str, Form(max_length=50)] = "",
    rate: Annotated[str, Form(max_length=50)] = "",
    source: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    form = {"kind": kind, "start": start, "end": end, "rate": rate, "source": source}
    try:
        body = RateIn.model_validate(
            {"kind": kind, "start": start, "end": optional(end), "rate": rate, "source": source}
        )
        added = await service.add_rate(db, body)
    except ValidationError as exc:
        return await _page(request, db, now, form=form, errors=field_errors(exc), status_code=422)
    except HTTPException as exc:
        if exc.status_code != 409:
            raise
        # the API's 409: the period overlaps a known one (named in the message)
        return await _page(
            request, db, now, form=form, errors={"start": str(exc.detail)}, status_code=409
        )
    return await _page(request, db, now, added=added, status_code=201)
