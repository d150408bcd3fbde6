"""The admin's outbox (GET /outbox's data, filtered by practice and channel) and the day's print
batch (GET /print-batches/{day}'s list as a table, its ZIP for download). The API's routes take
API keys; these take the console's session and call the same functions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal, Role, console_require
from api.console import i18n
from api.console.forms import optional
from api.console.security import ConsoleRequest
from api.console.templating import render
from api.deps import NowDep, SessionDep
from api.routers import print_batches
from api.routers.outbox import delivery_out
from api.services import outbox as service
from api.services.print_batches import closed_batch
from domain.calendar import rome_date

router = APIRouter(prefix="/admin", tags=["console"])

Admin = Annotated[Principal, console_require(Role.ADMIN)]
PAGE_SIZE = 50
PREFIX = "/console/admin"
# notifications: messages to the agency's staff without an e-mail address (the rate warnings)
CHANNELS = ("email", "sms", "post", "pec", "notification")


@router.get("/outbox")
async def outbox_page(
    request: Request,
    _r: ConsoleRequest,
    _a: Admin,
    db: SessionDep,
    now: NowDep,
    practice_id: Annotated[str, Query(max_length=100)] = "",
    channel: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    wanted_channel = channel if channel in CHANNELS else None
    rows, total = await service.deliveries(
        db,
        practice_id=optional(practice_id),
        channel=wanted_channel,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return render(
        request,
        "console/admin_outbox.html",
        {
            "deliveries": [delivery_out(row) for row in rows],
            "total": total,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "practice_id": practice_id.strip(),
            "channel": wanted_channel or "",
            "channels": CHANNELS,
            "today": rome_date(now),
        },
    )


@router.get("/print-batches/{day}")
async def print_batch_page(
    request: Request,
    day: str,
    _r: ConsoleRequest,
    _a: Admin,
    db: SessionDep,
    show_all: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    """The letters to post of a day, as GET /print-batches/{day}?format=json lists them."""
    wanted = print_batches.parse_day(day)
    batch = await print_batches.letters_to_post(db, wanted, show_all)
    closed = await closed_batch(db, wanted)
    return render(
        request,
        "console/admin_print_batch.html",
        {
            "day": wanted,
            "items": [item for item, _ in batch],
            "show_all": show_all,
            "postage": i18n.POSTAGE_NAMES,
            "closed_at": closed.closed_at if closed is not None else None,
        },
    )


@router.get("/print-batches/{day}/zip")
async def print_batch_zip(
    day: str,
    _r: ConsoleRequest,
    _a: Admin,
    db: SessionDep,
    show_all: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    """The ZIP GET /print-batches/{day} gives: each letter's PDF and manifest.csv."""
    wanted: date = print_batches.parse_day(day)
    batch = await print_batches.letters_to_post(db, wanted, show_all)
    return Response(
        content=print_batches.zip_batch(wanted, batch),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="print-batch-{wanted}.zip"'},
    )


@router.get("/print-batches")
async def print_batch_of_day(
    _r: ConsoleRequest,
    _a: Admin,
    now: NowDep,
    day: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The day chosen in the outbox's form (today when none): its batch's page."""
    chosen = print_batches.parse_day(day.strip() or rome_date(now).isoformat())
    return RedirectResponse(f"{PREFIX}/print-batches/{chosen.isoformat()}", status_code=303)
