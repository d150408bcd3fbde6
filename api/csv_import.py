"""`recupero import FILE.csv`: a bulk hand-over from a CSV with one line per invoice.

The lines are grouped into practices by (creditor_id, reference) and checked here with the API's
own validation (api.schemas.PracticeCreate and the hand-over's invoice checks), so every bad line
is reported with its line number and column before anything is sent. The practices then go to
the API's POST /practices/batch in chunks: one code path for single and bulk hand-overs, with
its idempotency (a re-run of the same file starts nothing twice). A dry run of every chunk comes
first, so what only the server can check (unknown creditor, another creditor's rows) also stops
the import before anything starts.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from pydantic import ValidationError

from api.schemas import PracticeCreate, invoice_number_errors
from domain.money import as_typed_by_people

COLUMNS = (
    "creditor_id",
    "reference",
    "debtor_kind",
    "debtor_name",
    "tax_code",
    "vat_number",
    "email",
    "phone",
    "pec",
    "street",
    "city",
    "postal_code",
    "province",
    "country",
    "invoice_number",
    "issue_date",
    "due_date",
    "amount",
)
# columns a file may have (debtors abroad, issue 16): empty or absent, the country's defaults
# (api/schemas.py AddressIn, DebtorIn)
OPTIONAL_COLUMNS = ("region", "time_zone", "language")
INVOICE_COLUMNS = ("invoice_number", "issue_date", "due_date", "amount")
# the practice's columns: every line of one practice must agree on them
PRACTICE_COLUMNS = tuple(c for c in COLUMNS if c not in INVOICE_COLUMNS) + OPTIONAL_COLUMNS
_INVOICE_FIELDS = {"number": "invoice_number"}
_DEBTOR_FIELDS = {"kind": "debtor_kind", "name": "debtor_name"}


@dataclass(frozen=True)
class LineError:
    line: int
    column: str
    msg: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column}: {self.msg}"


@dataclass
class Practices:
    """The file's practices (bodies of POST /practices) and, for each, its invoices' lines."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    lines: list[list[int]] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


@dataclass
class ImportReport:
    practices: int = 0
    started: int = 0
    already_handed_over: int = 0
    failed: int = 0
    errors: list[LineError] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    practice_ids: list[str] = field(default_factory=list)


class ImportFailed(Exception):
    """The API refused the import as a whole (authentication, permissions, unreachable...)."""


def practice_body(first: dict[str, str]) -> dict[str, Any]:
    """The body of POST /practices from a line's practice columns (invoices still empty); the
    console's hand-over form has the same fields."""

    def optional(column: str) -> str | None:
        return first.get(column) or None

    italian = (first["country"] or "IT").strip().upper() == "IT"

    return {
        "creditor_id": first["creditor_id"],
        "reference": first["reference"],
        "debtor": {
            "kind": first["debtor_kind"],
            "name": first["debtor_name"],
            "tax_code": optional("tax_code"),
            "vat_number": optional("vat_number"),
            "email": optional("email"),
            "phone": optional("phone"),
            "pec": optional("pec"),
            "address": {
                "street": first["street"],
                "city": first["city"],
                "postal_code": first["postal_code"],
                # abroad there is no province: an empty cell is none (in Italy, as before, an
                # empty one is refused as no province code)
                "province": first["province"] if italian else optional("province"),
                "country": first["country"] or "IT",
                "region": first.get("region") or "",
                "time_zone": optional("time_zone"),
            },
            "language": optional("language"),
        },
        "invoices": [],
    }


def invoice_body(row: dict[str, str]) -> dict[str, Any]:
    """An invoice of POST /practices from a line's invoice columns."""
    return {
        "number": row["invoice_number"],
        "issue_date": row["issue_date"],
        "due_date": row["due_date"],
        # "1250,40" and "1.250,40" as a spreadsheet in Italian writes them, or "1250.40"
        "amount": as_typed_by_people(row["amount"]),
    }


def locate(loc: Sequence[str | int], lines: list[int]) -> tuple[int, str]:
    """A field of a practice (pydantic's loc inside PracticeCreate) -> (line, column)."""
    parts = list(loc)
    if parts[:1] == ["invoices"]:
        index = parts[1] if len(parts) > 1 and isinstance(parts[1], int) else 0
        line = lines[index] if index < len(lines) else lines[0]
        name = str(parts[2]) if len(parts) > 2 else "number"
        return line, _INVOICE_FIELDS.get(name, name)
    if parts[:1] == ["debtor"]:
        if len(parts) > 1 and parts[1] == "address":
            return lines[0], str(parts[2]) if len(parts) > 2 else "street"
        name = str(parts[1]) if len(parts) > 1 else "debtor_name"
        return lines[0], _DEBTOR_FIELDS.get(name, name)
    return lines[0], ".".join(str(p) for p in parts) or "reference"


def read_practices(source: TextIO) -> Practices:
    """Parses and validates the whole file; `errors` lists every bad line (numbered from 1,
    the header being line 1)."""
    result = Practices()
    head = source.readline()
    try:
        dialect: Any = csv.Sniffer().sniff(head, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(head + source.read()), dialect=dialect)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS and c not in OPTIONAL_COLUMNS]
    if missing or unknown:
        if missing:
            result.errors.append(LineError(1, ",".join(missing), "missing column(s)"))
        if unknown:
            result.errors.append(LineError(1, ",".join(unknown), "unknown column(s)"))
        return result
    reader.fieldnames = header

    index: dict[tuple[str, str], int] = {}
    firsts: list[dict[str, str]] = []
    for raw in reader:
        line = reader.line_num
        if None in raw:
            result.errors.append(LineError(line, "-", "more values than columns"))
            continue
        row = {k: (v or "").strip() for k, v in raw.items()}
        row.update({c: "" for c in OPTIONAL_COLUMNS if c not in row})
        if not any(row.values()):
            continue  # a blank line
        key = (row["creditor_id"], row["reference"])
        at = index.get(key)
        if at is None:
            at = index[key] = len(result.bodies)
            result.bodies.append(practice_body(row))
            result.lines.append([])
            firsts.append(row)
        else:
            first_line = result.lines[at][0]
            result.errors.extend(
                LineError(line, c, f"differs from line {first_line} of the same practice")
                for c in PRACTICE_COLUMNS
                if row[c] != firsts[at][c]
            )
        result.lines[at].append(line)
        result.bodies[at]["invoices"].append(invoice_body(row))

    for body, lines in zip(result.bodies, result.lines, strict=True):
        try:
            practice = PracticeCreate.model_validate(body)
        except ValidationError as exc:
            for error in exc.errors():
                line, column = locate(error["loc"], lines)
                result.errors.append(LineError(line, column, error["msg"]))
            continue
        for loc, msg in invoice_number_errors(practice):
            line, column = locate(loc, lines)
            result.errors.append(LineError(line, column, msg))
    result.errors.sort(key=lambda e: e.line)
    return result


class Progress:
    """A one-line progress bar on stderr (a line per step when stderr is not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.done, self.width = total, 0, width
        self.stream = stream or sys.stderr

    def advance(self, n: int) -> None:
        self.done += n
        filled = self.width * self.done // max(self.total, 1)
        text = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} practices"
        if self.stream.isatty():
            self.stream.write("\r" + text + ("\n" if self.done >= self.total else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


# POST /practices/batch for a chunk (the practices, whether a dry run) -> (status code, JSON
# body). The command asks it over HTTP (http_poster); the console calls the API's handler with
# the session's Principal (api/console/routes_handover.py): one check, one sending, two doors.
Poster = Callable[[list[dict[str, Any]], bool], Awaitable[tuple[int, Any]]]


def http_poster(client: httpx.AsyncClient) -> Poster:
    async def post(chunk: list[dict[str, Any]], dry_run: bool) -> tuple[int, Any]:
        try:
            response = await client.post(
                "/practices/batch",
                json={"practices": chunk},
                params={"dry_run": "true"} if dry_run else None,
            )
        except httpx.HTTPError as exc:
            raise ImportFailed(
                f"the API is not answering ({exc!r}); nothing more was sent"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:200]}
        if response.status_code not in (200, 403, 422):
            detail = body.get("detail") if isinstance(body, dict) else body
            raise ImportFailed(f"the API answered {response.status_code}: {detail}")
        return response.status_code, body

    return post


async def check_practices(practices: Practices, post: Poster) -> list[LineError]:
    """What only the server knows, asked before anything starts: whether each creditor exists
    and may be handed over for by this caller. A dry run of one practice per creditor (every
    row was already validated with the API's own models by read_practices) instead of sending
    the whole file twice. Returns the lines it refuses (empty: the file may be sent)."""
    errors: list[LineError] = []
    probes: dict[str, int] = {}
    for i, body in enumerate(practices.bodies):
        probes.setdefault(str(body["creditor_id"]), i)

    def of_creditor(creditor: object) -> list[int]:
        return [i for i, b in enumerate(practices.bodies) if b["creditor_id"] == creditor]

    async def probe(rows: list[int]) -> None:
        status, answer = await post([practices.bodies[i] for i in rows], True)
        if status == 403:
            if len(rows) > 1:  # which creditor is refused: ask for each alone
                for row in rows:
                    await probe([row])
                return
            # a creditor this caller may not hand over for: wrong on every practice of it
            for i in of_creditor(practices.bodies[rows[0]]["creditor_id"]):
                line, column = locate(["creditor_id"], practices.lines[i])
                errors.append(LineError(line, column, str(answer.get("detail", ""))))
            return
        if status != 422:
            return
        for error in answer["detail"]:
            at = rows[int(error["row"])]
            # an unknown creditor is wrong on every practice of it
            targets = (
                of_creditor(practices.bodies[at]["creditor_id"])
                if list(error["loc"]) == ["creditor_id"]
                else [at]
            )
            for i in targets:
                line, column = locate(error["loc"], practices.lines[i])
                errors.append(LineError(line, column, error["msg"]))

    await probe(list(probes.values()))
    errors.sort(key=lambda e: e.line)
    return errors


async def send_practices(
    practices: Practices,
    post: Poster,
    *,
    chunk_size: int = 200,
    concurrency: int = 4,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Sends checked practices in chunks, `concurrency` requests in flight; the batch endpoint's
    idempotency makes a second sending of the same file start nothing twice."""
    report = ImportReport(practices=len(practices.bodies))
    chunks = [
        (start, practices.bodies[start : start + chunk_size])
        for start in range(0, len(practices.bodies), chunk_size)
    ]
    gate = asyncio.Semaphore(concurrency)

    async def send(start: int, chunk: list[dict[str, Any]]) -> None:
        async with gate:
            status, body = await post(chunk, False)
        if status != 200:  # the data changed since the dry run
            raise ImportFailed(f"the API refused practices {start}-{start + len(chunk) - 1}")
        report.started += body["started"]
        report.already_handed_over += body["already_handed_over"]
        report.failed += body["failed"]
        report.failures.extend(
            f"line {practices.lines[start + r['row']][0]}: {r['reference']}: {r['detail']}"
            for r in body["practices"]
            if r["status"] == "failed"
        )
        report.practice_ids.extend(
            r["practice_id"] for r in body["practices"] if r["practice_id"] is not None
        )
        if progress is not None:
            progress(len(chunk))

    await asyncio.gather(*(send(start, chunk) for start, chunk in chunks))
    return report


async def import_practices(
    practices: Practices,
    client: httpx.AsyncClient,
    *,
    chunk_size: int = 200,
    concurrency: int = 4,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Sends validated practices to POST /practices/batch: first check_practices (a refused
    creditor -> the report's errors, nothing started), then send_practices. Raises ImportFailed
    when the API refuses the import as a whole."""
    if practices.errors or not practices.bodies:
        return ImportReport(practices=len(practices.bodies), errors=list(practices.errors))
    post = http_poster(client)
    errors = await check_practices(practices, post)
    if errors:
        return ImportReport(practices=len(practices.bodies), errors=errors)
    return await send_practices(
        practices, post, chunk_size=chunk_size, concurrency=concurrency, progress=progress
    )


async def run_import(
    path: Path,
    api: str,
    key: str,
    *,
    chunk_size: int = 200,
    concurrency: int = 4,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """The command: prints bad lines or the outcome; returns the exit status (0 all handed
    over, 1 nothing started because of bad lines or a refusal, 2 some practices failed)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as source:
            practices = read_practices(source)
    except (OSError, UnicodeDecodeError) as exc:
        # the reason without the traceback: a wrong path, a directory, an unreadable file, or a
        # spreadsheet saved in another encoding than UTF-8
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        print(f"cannot read {path}: {reason}; nothing was sent", file=sys.stderr)
        return 1
    if practices.errors:
        for error in practices.errors:
            print(error, file=sys.stderr)
        print(f"{len(practices.errors)} error(s); nothing was sent", file=sys.stderr)
        return 1
    bar = Progress(len(practices.bodies))
    async with httpx.AsyncClient(
        base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=600, transport=transport
    ) as client:
        try:
            report = await import_practices(
                practices,
                client,
                chunk_size=chunk_size,
                concurrency=concurrency,
                progress=bar.advance,
            )
        except ImportFailed as exc:
            print(f"import stopped: {exc}", file=sys.stderr)
            return 1
    if report.errors:
        for error in report.errors:
            print(error, file=sys.stderr)
        print(f"{len(report.errors)} error(s); nothing was started", file=sys.stderr)
        return 1
    for failure in report.failures:
        print(failure, file=sys.stderr)
    print(
        f"{report.practices} practices: {report.started} started, "
        f"{report.already_handed_over} already handed over, {report.failed} failed"
        + (" (re-run the same file to retry them)" if report.failed else "")
    )
    return 2 if report.failed else 0
