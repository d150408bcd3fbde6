"""The daily print batch for the mail house: the day's letters to post, as PDFs in one ZIP with a
manifest of envelopes.

The mail house sees the envelope, not the debt: the manifest carries the address block, the
kind of letter and whether it goes by raccomandata A/R, never an amount, a subject or words such
as "recupero crediti". The letters themselves (the PDFs) are for the debtor's eyes only.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import literal, select

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.errors import invalid
from api.schemas import PrintBatchOut, PrintItem
from api.services.print_batches import closed_batch
from db.models import Delivery, Document, Practice, PrintBatchItem
from domain.addresses import address_lines as foreign_address_lines
from domain.calendar import at_rome
from domain.postage import postal_service, postal_zone

router = APIRouter(prefix="/print-batches", tags=["print batches"])

# letters with legal effect from their receipt go by raccomandata A/R
RACCOMANDATA_KINDS = frozenset({"formal_demand", "legal_notice"})

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = (
    "delivery_id",
    "reference",
    "file",
    "letter",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "address_line_4",
    "raccomandata_ar",
    "postal_zone",
    "postal_service",
    "tracking_number",
)

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(value: str) -> date:
    if _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise invalid(["path", "day"], "not a day: expected YYYY-MM-DD")


def address_block(practice: Practice) -> list[str]:
    """The envelope's address: name, street, postal code + city + province, country. Abroad
    the country's postal format (domain.addresses), its middle lines joined when it has more
    than the manifest's four (the name first, the country's name last)."""
    if practice.country and practice.country.upper() != "IT":
        lines = foreign_address_lines(
            name=practice.debtor_name,
            street=practice.street,
            city=practice.city,
            postal_code=practice.postal_code,
            region=practice.region or "",
            country=practice.country.upper(),
        )
        if len(lines) > 4:
            lines = [lines[0], lines[1], ", ".join(lines[2:-1]), lines[-1]]
        return lines
    return [
        practice.debtor_name,
        practice.street,
        f"{practice.postal_code} {practice.city} {practice.province}".strip(),
        practice.country,
    ]


def _file_name(position: int, document: Document | None) -> str | None:
    # numbered: one practice may have two letters of one kind on a day
    return None if document is None else f"{position:03d}-{document.filename}"


async def letters_to_post(
    session: SessionDep, day: date, show_all: bool
) -> list[tuple[PrintItem, Document | None]]:
    """The day's letters: a closed batch's fixed items (api/services/print_batches.py), in their
    order; for a day not closed (today before the cut-off, or a day from before batches) the
    post deliveries written that day so far."""
    batch = await closed_batch(session, day)
    conditions = [Delivery.channel == "post"]
    if batch is not None:
        query = (
            select(Delivery, Practice, Document, PrintBatchItem.position)
            .join(PrintBatchItem, PrintBatchItem.delivery_id == Delivery.id)
            .where(PrintBatchItem.batch_id == batch.id)
            .order_by(PrintBatchItem.position)
        )
    else:
        conditions += [
            Delivery.created_at >= at_rome(day),
            Delivery.created_at < at_rome(day + timedelta(days=1)),
        ]
        query = select(Delivery, Practice, Document, literal(0)).order_by(
            Delivery.created_at, Delivery.id
        )
    if not show_all:
        conditions.append(Delivery.tracking_number.is_(None))
    rows = await session.execute(
        query.join(Practice, Practice.id == Delivery.practice_id)
        .outerjoin(Document, Document.id == Delivery.document_id)
        .where(*conditions)
    )
    result: list[tuple[PrintItem, Document | None]] = []
    for listed, (delivery, practice, document, position) in enumerate(rows.all(), start=1):
        letter = document.kind if document is not None else ""
        item = PrintItem(
            delivery_id=delivery.id,
            practice_id=practice.id,
            reference=practice.reference,
            document_id=delivery.document_id,
            # a closed batch's file names keep their number whatever is filtered out
            file=_file_name(position or listed, document),
            letter=letter,
            address=address_block(practice),
            raccomandata=letter in RACCOMANDATA_KINDS,
            postal_zone=postal_zone(practice.country),
            postal_service=postal_service(practice.country, letter in RACCOMANDATA_KINDS),
            tracking_number=delivery.tracking_number,
            created_at=delivery.created_at,
        )
        result.append((item, document))
    return result


def manifest_csv(items: list[PrintItem]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST_COLUMNS)
    for item in items:
        lines = (item.address + ["", "", "", ""])[:4]
        writer.writerow(
            [
                item.delivery_id,
                item.reference,
                item.file or "",
                item.letter,
                *lines,
                "yes" if item.raccomandata else "no",
                item.postal_zone,
                item.postal_service,
                item.tracking_number or "",
            ]
        )
    return out.getvalue().encode("utf-8")


def zip_batch(day: date, batch: list[tuple[PrintItem, Document | None]]) -> bytes:
    buffer = io.BytesIO()
    # fixed timestamps: the same batch gives the same bytes
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo(MANIFEST, date_time=stamp), manifest_csv([i for i, _ in batch])
        )
        for item, document in batch:
            if document is not None and item.file is not None:
                archive.writestr(zipfile.ZipInfo(item.file, date_time=stamp), document.content)
    return buffer.getvalue()


@router.get(
    "/{day}",
    response_model=None,
    responses={
        200: {
            "description": "The ZIP (PDFs and manifest.csv), or with ?format=json the list.",
            "content": {"application/zip": {}, "application/json": {}},
            "model": PrintBatchOut,
        },
        403: {"description": "Wrong role."},
        422: {"description": "Not a day (YYYY-MM-DD)."},
    },
)
async def print_batch(
    day: str,
    session: SessionDep,
    _principal: Annotated[Principal, require(Role.ADMIN, Role.OPERATOR)],
    output: Annotated[
        Literal["zip", "json"],
        Query(alias="format", description="`zip` (default): PDFs and manifest; `json`: the list."),
    ] = "zip",
    show_all: Annotated[
        bool,
        Query(
            alias="all",
            description="Also the letters whose raccomandata tracking number is recorded "
            "(already posted).",
        ),
    ] = False,
) -> Response | PrintBatchOut:
    """The letters to post of a day (YYYY-MM-DD, Europe/Rome), without a tracking number yet
    (all of them with `?all=true`). Once the day's batch is closed at the agency's cut-off
    (RECUPERO_PRINT_CUTOFF, working days) the list is fixed: the post letters written from the
    previous working day's cut-off to this one's, in that order, and `closed_at` is set (JSON).
    Before that (`closed_at` null) it is the post letters written that day so far, oldest first.

    The ZIP holds each letter's PDF and `manifest.csv`: delivery id, practice reference, file
    name, kind of letter, the four lines of the address block (name; street; postal code, city
    and province; country), `raccomandata_ar` yes/no (yes for formal demands and notices of
    legal action), `postal_zone` (italy, zone_1 Europe and the Mediterranean basin, zone_2 Africa,
    Asia and the Americas, zone_3 Oceania: Poste Italiane's international tariffs),
    `postal_service` (posta_ordinaria, raccomandata_ar; abroad posta_internazionale,
    raccomandata_internazionale) and the tracking number once recorded. No amounts: the
    envelope must not tell anyone about the debt. Record each raccomandata's number with
    POST /practices/{id}/documents/{document_id}/tracking."""
    wanted = parse_day(day)
    batch = await letters_to_post(session, wanted, show_all)
    if output == "json":
        items = [item for item, _ in batch]
        closed = await closed_batch(session, wanted)
        return PrintBatchOut(
            day=wanted,
            total=len(items),
            items=items,
            closed_at=closed.closed_at if closed is not None else None,
        )
    return Response(
        content=zip_batch(wanted, batch),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="print-batch-{wanted}.zip"'},
    )
