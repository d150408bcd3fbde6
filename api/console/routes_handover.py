"""The hand-over (affidamento) in the console: one practice by form, many by CSV upload.

The form is POST /practices' own handler (practices.hand_over_practice) with the session's
Principal; the upload is `recupero import`'s own reading and checks (api/csv_import.py) sending
its chunks to POST /practices/batch's handler. Nothing here repeats their validation.

A form carries a one-time key generated when it is rendered; the practice's id is derived from
it, so the same form submitted twice (a double click, a resent POST) finds the practice the first
submission started instead of starting another.

An upload's progress lives in this process (`JOBS`): the hand-over itself is idempotent per file
(the batch endpoint derives each practice's id from its creditor and reference, so sending the
same file again starts nothing twice), and the job only reports how far the sending got. After a
restart of the process the progress is gone, but uploading the file again resumes it safely. The
console runs in the API's single process (`recupero run`); several API processes behind a
balancer would need this state in the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from babel import Locale
from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from temporalio.client import Client

from api import csv_import
from api.auth import Principal, Role, console_require
from api.console import i18n
from api.console.forms import euros, text
from api.console.security import ConsoleRequest
from api.console.templating import render, request_locale
from api.deps import DatabaseDep, SessionDep, SettingsDep, TemporalDep
from api.routers import practices
from api.schemas import PracticeBatch, PracticeCreate, rome_today
from config import Settings
from db.models import Creditor, Practice
from db.session import Database
from domain.addresses import known_countries
from domain.identifiers import FieldProblem
from domain.practice import DebtorKind

log = logging.getLogger(__name__)

router = APIRouter(prefix="/creditor/handover", tags=["console"])

Creditors = Annotated[Principal, console_require(Role.ADMIN, Role.CREDITOR)]
PAGE = "/console/creditor/handover"

# the practice's fields of the form: the CSV's columns, so one mapping of the API's `loc`
PRACTICE_FIELDS = csv_import.PRACTICE_COLUMNS
INVOICE_FIELDS = csv_import.INVOICE_COLUMNS
INVOICE_ROWS = 3  # the rows a new form shows; "Add an invoice" adds one
MAX_INVOICE_ROWS = 50
# a form's key -> its practice's id (per creditor: one key never names another's practice)
_FORM_IDS = uuid.UUID("0b7c3f64-2f1e-4d3a-8e55-6a9d2c1b4e70")
MAX_UPLOAD = 5 * 1024 * 1024
CHUNK = 50  # practices per batch request: the progress bar moves every chunk

ALREADY_SENT = i18n.N_("This form was already sent for another practice; check it and send again.")
NO_FILE = i18n.N_("Choose a CSV file to upload.")
TOO_LARGE = i18n.N_("The file is larger than 5 MB: split it into smaller files.")
NOT_UTF8 = i18n.N_("The file is not UTF-8 text: save it from the spreadsheet as CSV UTF-8.")
EMPTY = i18n.N_("The file has no practices.")


def _countries(code: str) -> list[tuple[str, str]]:
    """The countries a debtor may live in, by name in the reader's language, Italy first."""
    names = Locale.parse(code).territories
    found = sorted(
        ((c, str(names.get(c, c))) for c in known_countries() if c != "IT"),
        key=lambda pair: pair[1],
    )
    return [("IT", str(names.get("IT", "IT"))), *found]


def _form_practice_id(creditor_id: str, key: str) -> str:
    return uuid.uuid5(_FORM_IDS, f"{creditor_id}\n{key}").hex


async def _creditors(db: SessionDep, principal: Principal) -> list[Creditor]:
    if principal.role == Role.ADMIN:
        return list(await db.scalars(select(Creditor).order_by(Creditor.name)))
    return []


async def _form_page(
    request: Request,
    db: SessionDep,
    principal: Principal,
    form: dict[str, str],
    rows: int,
    *,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    focus: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "console/creditor_handover.html",
        {
            "form": form,
            "rows": range(rows),
            "errors": errors or {},
            "refusal": refusal,
            "focus": focus,
            "creditors": await _creditors(db, principal),
            "countries": _countries(request_locale(request)),
            "debtor_kinds": list(DebtorKind),
            "names": i18n.PRACTICE_VALUES,
            "invoice_fields": INVOICE_FIELDS,
        },
        status_code,
    )


@router.get("")
async def handover_page(
    request: Request, _r: ConsoleRequest, principal: Creditors, db: SessionDep
) -> Response:
    form = {"key": secrets.token_urlsafe(16), "creditor_id": principal.creditor_id or ""}
    return await _form_page(request, db, principal, form, INVOICE_ROWS)


def _read_form(posted: Any) -> tuple[dict[str, str], int]:
    """The posted fields by name (text only, cut to a sane length) and the invoice rows."""
    form = {name: text(posted.get(name))[:500] for name in (*PRACTICE_FIELDS, "key")}
    rows = 0
    while rows < MAX_INVOICE_ROWS and any(f"{name}-{rows}" in posted for name in INVOICE_FIELDS):
        for name in INVOICE_FIELDS:
            form[f"{name}-{rows}"] = text(posted.get(f"{name}-{rows}"))[:100]
        rows += 1
    for name in INVOICE_FIELDS:  # a post without any invoice row still shows (and reads) one
        form.setdefault(f"{name}-0", "")
    return form, max(rows, 1)


def _field_errors(
    exc: ValidationError | RequestValidationError, filled: list[int], code: str
) -> dict[str, str]:
    """The API's errors by form field: csv_import.locate maps a `loc` to (line, column) as for
    a CSV; here the "lines" are the form's invoice rows, an invoice's field is `<column>-<row>`.
    A refusal in fixed words (a debtor abroad's: domain.identifiers.FieldProblem) is shown in
    the reader's language (`code`)."""
    found: dict[str, str] = {}
    for error in exc.errors():
        loc = [p for p in error.get("loc", ()) if p != "body"]
        row, column = csv_import.locate(loc, filled)
        name = f"{column}-{row}" if column in INVOICE_FIELDS else column
        if name not in PRACTICE_FIELDS and column not in INVOICE_FIELDS:
            name = "reference"
        problem = (error.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):
            message = i18n.translate(code, problem.template) % problem.params
        else:
            message = str(error.get("msg", ""))
        found.setdefault(name, message)
    return found


@router.post("")
async def handover(
    request: Request,
    _r: ConsoleRequest,
    principal: Creditors,
    db: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> Response:
    """POST /practices with the form: its 422s next to their fields, the form as typed."""
    posted = await request.form()
    form, rows = _read_form(posted)
    if principal.role == Role.CREDITOR:
        form["creditor_id"] = principal.creditor_id or ""  # fixed: its own creditor
    if text(posted.get("action")) == "add_invoice":
        more = min(rows + 1, MAX_INVOICE_ROWS)
        # the keyboard's focus goes to the new row (htmx honours autofocus in what it swaps in)
        focus = f"invoice_number-{more - 1}"
        return await _form_page(request, db, principal, form, more, focus=focus)
    key = form["key"].strip()
    if not key:  # an old form without its key: a new key, nothing started
        form["key"] = secrets.token_urlsafe(16)
        return await _form_page(request, db, principal, form, rows, status_code=422)

    # the invoices' rows someone filled (an empty row is no invoice)
    filled = [r for r in range(rows) if any(form[f"{n}-{r}"].strip() for n in INVOICE_FIELDS)]
    body = csv_import.practice_body(dict(form))
    body["invoices"] = [
        csv_import.invoice_body(
            {n: form[f"{n}-{r}"] for n in INVOICE_FIELDS}
            | {"amount": euros(form[f"amount-{r}"]) or ""}
        )
        for r in filled
    ]
    practice_id = _form_practice_id(form["creditor_id"], key)
    already = await db.get(Practice, practice_id)
    if already is not None:
        if already.reference == body["reference"].strip():
            return RedirectResponse(f"/console/practices/{practice_id}", status_code=303)
        form["key"] = secrets.token_urlsafe(16)  # this form started another practice before
        return await _form_page(
            request,
            db,
            principal,
            form,
            rows,
            refusal=ALREADY_SENT,
            status_code=409,
        )
    lines = filled or [0]
    try:
        created = await practices.hand_over_practice(
            PracticeCreate.model_validate(body), db, temporal, settings, principal, practice_id
        )
    except (ValidationError, RequestValidationError) as exc:
        errors = _field_errors(exc, lines, request_locale(request))
        return await _form_page(request, db, principal, form, rows, errors=errors, status_code=422)
    except HTTPException as exc:
        if exc.status_code == 403:
            raise
        db.expunge_all()
        taken = await db.get(Practice, practice_id)
        if taken is not None:  # the same form sent twice at once: the other one started it
            return RedirectResponse(f"/console/practices/{practice_id}", status_code=303)
        if exc.status_code == 404:  # the creditor named in the form
            errors = {"creditor_id": str(exc.detail)}
            return await _form_page(
                request, db, principal, form, rows, errors=errors, status_code=422
            )
        errors = {"reference": str(exc.detail)} if exc.status_code == 409 else {}
        return await _form_page(
            request,
            db,
            principal,
            form,
            rows,
            errors=errors,
            refusal=None if errors else str(exc.detail),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/console/practices/{created.id}", status_code=303)


# --- many practices: the CSV upload ---------------------------------------------------------------


@dataclass
class Job:
    """An upload being handed over: how far it got, then what happened."""

    total: int
    creditor_ids: list[str]
    done: int = 0
    started: int = 0
    already_handed_over: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    task: asyncio.Task[None] | None = None
    finished_at: float | None = None  # time.monotonic()

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


# job id -> job; the id is the hash of who uploaded and the file (see the module's docstring)
JOBS: dict[str, Job] = {}
# finished jobs are forgotten after a day (their practices are in the portfolio), and the
# oldest finished ones first when there are more than this many
JOBS_KEPT = 1000
JOB_KEPT_FOR = 24 * 3600.0


def _forget_old_jobs() -> None:
    now = time.monotonic()
    finished = sorted(
        (job.finished_at, job_id) for job_id, job in JOBS.items() if job.finished_at is not None
    )
    for i, (at, job_id) in enumerate(finished):
        if now - at > JOB_KEPT_FOR or len(finished) - i > JOBS_KEPT:
            del JOBS[job_id]


def _handler_poster(
    principal: Principal, database: Database, temporal: Client, settings: Settings
) -> csv_import.Poster:
    """csv_import's chunks sent to POST /practices/batch's handler with the session's
    Principal, its answers shaped as the API's."""

    async def post(chunk: list[dict[str, Any]], dry_run: bool) -> tuple[int, Any]:
        async with database.session() as session:
            try:
                result = await practices.hand_over_batch(
                    body=PracticeBatch(practices=chunk),
                    session=session,
                    db=database,
                    temporal=temporal,
                    settings=settings,
                    principal=principal,
                    dry_run=dry_run,
                )
            except RequestValidationError as exc:
                return 422, {"detail": jsonable_encoder(exc.errors())}
            except HTTPException as exc:
                if exc.status_code == 403:
                    return 403, {"detail": exc.detail}
                raise csv_import.ImportFailed(str(exc.detail)) from exc
        return 200, result.model_dump(mode="json")

    return post


async def _run(job: Job, parsed: csv_import.Practices, post: csv_import.Poster) -> None:
    def advance(n: int) -> None:
        job.done += n

    try:
        report = await csv_import.send_practices(
            parsed, post, chunk_size=CHUNK, concurrency=2, progress=advance
        )
    except Exception as exc:  # the API's refusal, or the database away: shown on the page
        log.warning("console import stopped (%s)", type(exc).__name__)
        job.error = str(exc) if isinstance(exc, csv_import.ImportFailed) else type(exc).__name__
    else:
        job.started, job.already_handed_over = report.started, report.already_handed_over
        job.failed, job.failures = report.failed, report.failures[:50]
    job.finished_at = time.monotonic()


def _import_page(
    request: Request,
    *,
    errors: list[csv_import.LineError] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "console/creditor_import.html",
        {"line_errors": errors or [], "problem": problem, "max_mb": MAX_UPLOAD // (1024 * 1024)},
        status_code,
    )


@router.get("/import")
async def import_page(request: Request, _r: ConsoleRequest, principal: Creditors) -> Response:
    return _import_page(request)


@router.get("/import/template.csv")
async def import_template(_r: ConsoleRequest, principal: Creditors) -> Response:
    """The columns of `recupero import` and one example line (this creditor's id)."""
    due = rome_today()
    example = {
        "creditor_id": principal.creditor_id or "CREDITOR-ID",
        "reference": "FT-ROSSI-2026",
        "debtor_kind": "consumer",
        "debtor_name": "Mario Rossi",
        "tax_code": "RSSMRA85T10A562S",
        "vat_number": "",
        "email": "mario.rossi@example.it",
        "phone": "+393331234567",
        "pec": "",
        "street": "Via Roma 1",
        "city": "Milano",
        "postal_code": "20121",
        "province": "MI",
        "country": "IT",
        "invoice_number": "FT-2026-101",
        "issue_date": due.replace(day=1).isoformat(),
        "due_date": due.isoformat(),
        "amount": "1250.40",
    }
    buffer = io.StringIO()
    # the optional columns of a debtor abroad last, empty for an Italian one
    columns = (*csv_import.COLUMNS, *csv_import.OPTIONAL_COLUMNS)
    buffer.write(",".join(columns) + "\n")
    buffer.write(",".join(example.get(c, "") for c in columns) + "\n")
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="affidamento.csv"'},
    )


def _not_too_large(request: Request) -> None:
    """A body announced larger than the limit (and the form's few fields) is refused before the
    CSRF check reads it: the file is never spooled to disk."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_UPLOAD + 64 * 1024:
        raise HTTPException(status_code=413, detail="the file is larger than 5 MB")


@router.post("/import")
async def upload(
    request: Request,
    _size: Annotated[None, Depends(_not_too_large)],
    _r: ConsoleRequest,
    principal: Creditors,
    database: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Reads the file as `recupero import` does; any bad line: the table of them, nothing
    started. Otherwise the dry run per creditor, then the sending in the background."""
    if file is None or not file.filename:
        return _import_page(request, problem=NO_FILE, status_code=422)
    if file.size is not None and file.size > MAX_UPLOAD:
        return _import_page(request, problem=TOO_LARGE, status_code=413)
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        return _import_page(request, problem=TOO_LARGE, status_code=413)
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _import_page(request, problem=NOT_UTF8, status_code=422)
    parsed = csv_import.read_practices(io.StringIO(decoded, newline=""))
    if not parsed.errors and not parsed.bodies:
        return _import_page(request, problem=EMPTY, status_code=422)
    if parsed.errors:
        return _import_page(request, errors=parsed.errors, status_code=422)

    job_id = hashlib.sha256(f"{principal.id}\n".encode() + content).hexdigest()[:32]
    job = JOBS.get(job_id)
    if job is not None and not job.finished:  # the same file, still being sent
        return RedirectResponse(f"{PAGE}/import/{job_id}", status_code=303)
    post = _handler_poster(principal, database, temporal, settings)
    try:
        errors = await csv_import.check_practices(parsed, post)
    except csv_import.ImportFailed as exc:
        return _import_page(request, problem=str(exc), status_code=422)
    if errors:
        return _import_page(request, errors=errors, status_code=422)
    creditor_ids = sorted({str(b["creditor_id"]) for b in parsed.bodies})
    _forget_old_jobs()
    job = JOBS[job_id] = Job(total=len(parsed.bodies), creditor_ids=creditor_ids)
    # the task runs with this request's context: the caller named on each practice's hand-over
    job.task = asyncio.create_task(_run(job, parsed, post))
    return RedirectResponse(f"{PAGE}/import/{job_id}", status_code=303)


def _job(job_id: str, principal: Principal) -> Job:
    job = JOBS.get(job_id)
    if job is None or not (
        principal.role == Role.ADMIN or job.creditor_ids == [principal.creditor_id]
    ):
        raise HTTPException(status_code=404, detail="upload not found")
    return job


@router.get("/import/{job_id}")
async def import_progress(
    request: Request, job_id: str, _r: ConsoleRequest, principal: Creditors
) -> Response:
    job = _job(job_id, principal)
    return render(
        request,
        "console/creditor_import_progress.html",
        {"job": job, "job_id": job_id, "today": rome_today().isoformat()},
    )


@router.get("/import/{job_id}/status")
async def import_status(
    request: Request, job_id: str, _r: ConsoleRequest, principal: Creditors
) -> Response:
    """The progress fragment HTMX polls every second until the job is finished."""
    job = _job(job_id, principal)
    return render(
        request,
        "console/_import_status.html",
        {"job": job, "job_id": job_id, "today": rome_today().isoformat()},
    )
