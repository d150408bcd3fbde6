"""Practices: the hand-over (one, or many at once: POST /practices/batch), the lists, one practice,
its timeline and its letters.

The commands people send a practice (payments, outcomes...) are in practice_commands.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from temporalio.client import Client

from api.access import load_practice, visible_practices
from api.auth import Principal, Role, calling_actor, require
from api.deps import DatabaseDep, SessionDep, SettingsDep, TemporalDep
from api.errors import conflict, forbidden, invalid, not_found, unavailable
from api.handover import search_attributes_for, start_practice_workflow, workflow_input_for
from api.schemas import (
    MAX_OFFSET,
    ActorOut,
    BatchResult,
    BatchRowOut,
    BatchRowStatus,
    DocumentOut,
    EventOut,
    NoteKind,
    NoteOut,
    PracticeBatch,
    PracticeCreate,
    PracticeOut,
    PracticePage,
    invoice_number_errors,
    rome_today,
)
from api.services import access_log, practice_pages
from api.services.lab import (
    Choice,
    choose_strategy,
    debtor_keys,
    debtors_with_practices,
    handover_facts,
    load_lab,
)
from api.strategies import strategy_to_json
from api.views import practice_out, practice_summary
from config import Settings
from db.models import (
    Creditor,
    Deadline,
    Document,
    Event,
    InvoiceRow,
    Practice,
    PracticeNote,
    new_id,
)
from db.session import Database
from domain.calendar import ROME
from domain.money import AmountError, parse_euros
from domain.practice import (
    DebtorKind,
    Invoice,
    Outcome,
    Phase,
    PracticeInput,
    Status,
    workflow_id_for,
)
from domain.strategy import Strategy

log = logging.getLogger(__name__)

router = APIRouter(prefix="/practices", tags=["practices"])

AnyUser = Annotated[Principal, require(*Role)]
HandOver = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]


def _duplicate_reference(reference: str) -> Exception:
    return conflict(f"this creditor already has a practice with reference {reference!r}")


# --- the hand-over's pieces, shared by POST /practices and POST /practices/batch ----------------

# How many rows of a batch are being written and started at once.
BATCH_CONCURRENCY = 32
# Batch practices get an id derived from (creditor, reference), hence a known workflow id: a
# re-run of a batch that died between a workflow start and its commit finds that workflow.
_BATCH_IDS = uuid.UUID("6f1e0c2a-4b8d-5e3f-9a7c-1d2b3c4e5f60")


def batch_practice_id(creditor_id: str, reference: str) -> str:
    return uuid.uuid5(_BATCH_IDS, f"{creditor_id}\n{reference}").hex


def new_practice(
    body: PracticeCreate, creditor_id: str, chosen: Strategy | Choice, practice_id: str
) -> tuple[Practice, PracticeInput]:
    """The read-model row of a validated hand-over and its workflow's input. `chosen` is what
    the creditor's segments and experiments chose (api/services/lab.py: recorded on the row), or
    a bare strategy (recorded without how it was chosen)."""
    choice = chosen if isinstance(chosen, Choice) else None
    strategy = chosen.strategy if isinstance(chosen, Choice) else chosen
    invoices = [
        Invoice(
            number=inv.number,
            issue_date=inv.issue_date,
            due_date=inv.due_date,
            amount_cents=parse_euros(inv.amount),
        )
        for inv in body.invoices
    ]
    total = sum(inv.amount_cents for inv in invoices)
    # due today is not late yet: the practice starts with the reminders on the due date
    today = rome_today()
    phase = Phase.PRE_DUE if any(inv.due_date >= today for inv in invoices) else Phase.OUT_OF_COURT
    workflow_id = workflow_id_for(practice_id)
    debtor, address = body.debtor, body.debtor.address
    practice = Practice(
        id=practice_id,
        creditor_id=creditor_id,
        reference=body.reference,
        workflow_id=workflow_id,
        debtor_kind=debtor.kind.value,
        debtor_name=debtor.name,
        debtor_tax_code=debtor.tax_code,
        debtor_vat_number=debtor.vat_number,
        email=debtor.email,
        phone=debtor.phone,
        pec=debtor.pec,
        street=address.street,
        city=address.city,
        postal_code=address.postal_code,
        # "" abroad: no Italian province (field agents' territories are provinces)
        province=address.province or "",
        country=address.country,
        region=address.region,
        # the validators set both (the country's defaults when not given)
        time_zone=address.time_zone or "Europe/Rome",
        language=debtor.language or "it",
        invalid_channels=[],
        claim_cents=total,
        balance_cents=total,
        paid_cents=0,
        status=Status.ACTIVE.value,
        phase=phase.value,
        snapshot={},
        snapshot_version=0,
        strategy=strategy_to_json(strategy),
        strategy_version=strategy.version,
        strategy_name=choice.strategy_name if choice else None,
        segments_version=choice.segments_version if choice else None,
        segment_rule=choice.segment_rule if choice else None,
        experiment_id=choice.experiment_id if choice else None,
        experiment_arm=choice.experiment_arm if choice else None,
        consumer_credit=body.consumer_credit,
        invoices=[
            InvoiceRow(
                number=inv.number,
                issue_date=inv.issue_date,
                due_date=inv.due_date,
                amount_cents=inv.amount_cents,
            )
            for inv in invoices
        ],
    )
    # the hand-over's event names who handed it over (the request's caller, point 10)
    return practice, replace(workflow_input_for(practice, strategy), handed_over_by=calling_actor())


class DuplicateReference(Exception):
    """The creditor already has a practice with this reference (the unique constraint)."""


class StartFailed(Exception):
    """The workflow could not be started; the row was removed again, nothing was kept."""


class CommitFailed(Exception):
    """The row could not be committed; no workflow was started."""


# SQLite has one writer at a time. Concurrent hand-overs of one process queue on this lock (per
# engine) for their short write transaction instead of in SQLite's busy timeout, which a few
# hundred at once outlast ("database is locked").
_sqlite_writers: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def _one_writer(session: AsyncSession) -> contextlib.AbstractAsyncContextManager[Any]:
    bind = session.bind
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return contextlib.nullcontext()
    lock = _sqlite_writers.get(bind.sync_engine)
    if lock is None:
        lock = _sqlite_writers[bind.sync_engine] = asyncio.Lock()
    return lock


async def save_and_start(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    practice: Practice,
    workflow_input: PracticeInput,
    *,
    existing_workflow_ok: bool = False,
) -> bool:
    """Writes the practice, then starts its workflow: both or neither.

    The row is committed first, in a short transaction that never waits on Temporal, so the
    workflow's first record always finds it. If the start fails the row is deleted again; if
    this process dies between the commit and the start, the stranded-row sweep of
    api/handover.py starts the workflow later. Returns whether this call started the workflow:
    with `existing_workflow_ok` (batch ids, see batch_practice_id) a workflow already there
    under the practice's id is kept.
    """
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        # only reads so far (the key, the creditor, the reference): give the connection back to
        # the pool while this call waits its turn for the write
        await session.commit()
    practice_id, workflow_id = practice.id, practice.workflow_id
    async with _one_writer(session):
        session.add(practice)
        try:
            await session.commit()
        except IntegrityError as exc:
            # the reference is taken, perhaps by a concurrent hand-over that won the race
            await session.rollback()
            raise DuplicateReference(practice.reference) from exc
        except Exception as exc:
            await session.rollback()
            log.warning("practice %s: commit failed (%s)", practice_id, type(exc).__name__)
            raise CommitFailed(type(exc).__name__) from exc

    try:
        started = await start_practice_workflow(
            temporal, settings, workflow_id, workflow_input, search_attributes_for(practice)
        )
    except Exception as exc:
        log.warning("practice %s: workflow start failed (%s)", practice_id, type(exc).__name__)
        await _unsave(session, temporal, practice)
        raise StartFailed(type(exc).__name__) from exc
    if not started and not existing_workflow_ok:
        # a fresh random id cannot have a workflow: whatever holds it is not this practice's
        await _unsave(session, temporal, practice)
        raise StartFailed("WorkflowAlreadyStartedError")
    log.info(
        "practice %s handed over for creditor %s%s",
        practice_id,
        practice.creditor_id,
        "" if started else " (its workflow was already running)",
    )
    return started


async def _unsave(session: AsyncSession, temporal: Client, practice: Practice) -> None:
    """Takes back the row of a practice whose workflow did not start. A start that failed on its
    way back (a timeout) may still have created the workflow: then the row stays, and the
    stranded-row sweep confirms it."""
    try:
        await temporal.get_workflow_handle(practice.workflow_id).describe()
    except Exception:
        pass  # not there (or Temporal away, which is why the start failed): take the row back
    else:
        log.warning("practice %s: the start failed but its workflow exists", practice.id)
        return
    try:
        async with _one_writer(session):
            await session.delete(practice)
            await session.commit()
    except Exception:
        await session.rollback()
        log.exception(
            "practice %s: could not take back the row of a failed start; the stranded-row "
            "sweep will start its workflow",
            practice.id,
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PracticeOut,
    responses={
        403: {"description": "A creditor user handing over for another creditor."},
        404: {"description": "Unknown creditor_id."},
        409: {"description": "The creditor already has a practice with this reference."},
        422: {"description": "Bad input; `loc` names the field."},
        503: {"description": "The workflow could not be started; nothing was saved."},
    },
)
async def hand_over(
    body: PracticeCreate,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    principal: HandOver,
) -> PracticeOut:
    """Hands over one debtor's unpaid invoices (affido) and starts the practice's workflow.

    The practice row and its workflow exist together or not at all: the row is committed, then
    the workflow started; a failed start takes the row back (503), and a hand-over cut between
    the two (the API killed) has its workflow started by the API within a minute or two. An
    unknown creditor is a 404 (the creditor is a
    resource named in the body, not a malformed value).
    """
    return await hand_over_practice(body, session, temporal, settings, principal, new_id())


async def hand_over_practice(
    body: PracticeCreate,
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    principal: Principal,
    practice_id: str,
) -> PracticeOut:
    """POST /practices with the practice's id chosen by the caller: the console derives it from
    its form's one-time key, so a form submitted twice names the practice it already started."""
    if principal.role == Role.CREDITOR and body.creditor_id != principal.creditor_id:
        raise forbidden("a creditor user hands over practices only for its own creditor")
    for loc, msg in invoice_number_errors(body)[:1]:
        raise invalid(["body", *loc], msg)

    creditor = await session.get(Creditor, body.creditor_id)
    if creditor is None:
        raise not_found("creditor")
    taken = await session.scalar(
        select(Practice.id).where(
            Practice.creditor_id == body.creditor_id, Practice.reference == body.reference
        )
    )
    if taken is not None:
        raise _duplicate_reference(body.reference)

    lab = await load_lab(session, creditor)
    known = await debtors_with_practices(session, debtor_keys(body), lab)
    today = rome_today()
    choice = choose_strategy(lab, handover_facts(body, today, bool(known)), practice_id, today)
    practice, workflow_input = new_practice(body, creditor.id, choice, practice_id)
    try:
        await save_and_start(session, temporal, settings, practice, workflow_input)
    except DuplicateReference as exc:
        raise _duplicate_reference(body.reference) from exc
    except StartFailed as exc:
        raise unavailable(
            "the practice's workflow could not be started; nothing was saved"
        ) from exc
    except CommitFailed as exc:
        raise unavailable("the practice could not be saved; nothing was kept, retry") from exc
    return practice_out(practice, principal)


# --- bulk hand-over (affido massivo) -----------------------------------------------------------


def _validate_batch(
    rows: list[dict[str, Any]],
) -> tuple[list[tuple[int, PracticeCreate]], list[dict[str, Any]]]:
    """Every row through the single hand-over's validation (PracticeCreate and
    invoice_number_errors), plus the batch's own: a (creditor, reference) twice is a bad row.
    Returns the valid rows with their index and the errors, each naming its row."""
    valid: list[tuple[int, PracticeCreate]] = []
    errors: list[dict[str, Any]] = []
    first_at: dict[tuple[str, str], int] = {}
    for row, raw in enumerate(rows):
        try:
            body = PracticeCreate.model_validate(raw)
        except ValidationError as exc:
            errors.extend(
                {"row": row, "loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in exc.errors()
            )
            continue
        row_errors = [
            {"row": row, "loc": loc, "msg": msg, "type": "value_error"}
            for loc, msg in invoice_number_errors(body)
        ]
        key = (body.creditor_id, body.reference)
        if key in first_at:
            row_errors.append(
                {
                    "row": row,
                    "loc": ["reference"],
                    "msg": f"reference {body.reference!r} of this creditor is also at row "
                    f"{first_at[key]}",
                    "type": "duplicate_reference",
                }
            )
        else:
            first_at[key] = row
        errors.extend(row_errors)
        if not row_errors:
            valid.append((row, body))
    return valid, errors


async def _existing_practices(
    session: AsyncSession, bodies: list[PracticeCreate]
) -> dict[tuple[str, str], str]:
    """(creditor, reference) -> id of the practices already handed over."""
    wanted: dict[str, list[str]] = {}
    for body in bodies:
        wanted.setdefault(body.creditor_id, []).append(body.reference)
    found: dict[tuple[str, str], str] = {}
    for creditor_id, references in wanted.items():
        for i in range(0, len(references), 500):
            rows = await session.execute(
                select(Practice.reference, Practice.id).where(
                    Practice.creditor_id == creditor_id,
                    Practice.reference.in_(references[i : i + 500]),
                )
            )
            found.update({(creditor_id, ref): pid for ref, pid in rows})
    return found


async def _bulk_hand_over(
    db: Database,
    temporal: Client,
    settings: Settings,
    valid: list[tuple[int, PracticeCreate]],
    existing: dict[tuple[str, str], str],
    choices: dict[int, Choice],
) -> list[BatchRowOut] | None:
    """The batch's new rows in one write transaction, then their workflows started
    BATCH_CONCURRENCY at a time; a row whose start fails is taken back (`failed`). The same
    guarantees as one save_and_start per row (row first, then workflow; the stranded-row sweep
    for a process killed in between) for one commit instead of one per row. None when the
    commit hit a reference handed over meanwhile by a concurrent request: nothing was written,
    and the caller goes row by row, which tells those rows apart."""
    results: dict[int, BatchRowOut] = {}
    new: list[tuple[int, Practice, PracticeInput]] = []
    for row, item in valid:
        key = (item.creditor_id, item.reference)
        if key in existing:
            results[row] = BatchRowOut(
                row=row,
                reference=item.reference,
                practice_id=existing[key],
                status=BatchRowStatus.ALREADY_HANDED_OVER,
            )
            continue
        practice, workflow_input = new_practice(
            item, item.creditor_id, choices[row], batch_practice_id(*key)
        )
        new.append((row, practice, workflow_input))
    if new:
        async with db.session() as session:
            async with _one_writer(session):
                session.add_all([practice for _, practice, _ in new])
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
                    return None
            gate = asyncio.Semaphore(BATCH_CONCURRENCY)

            async def start(practice: Practice, workflow_input: PracticeInput) -> bool | Exception:
                async with gate:
                    try:
                        return await start_practice_workflow(
                            temporal,
                            settings,
                            practice.workflow_id,
                            workflow_input,
                            search_attributes_for(practice),
                        )
                    except Exception as exc:  # noqa: BLE001 - reported on the row
                        return exc

            outcomes = await asyncio.gather(*(start(p, i) for _, p, i in new))
            for (row, practice, _), outcome in zip(new, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    log.warning(
                        "practice %s: workflow start failed (%s)",
                        practice.id,
                        type(outcome).__name__,
                    )
                    await _unsave(session, temporal, practice)
                    results[row] = BatchRowOut(
                        row=row,
                        reference=practice.reference,
                        practice_id=None,
                        status=BatchRowStatus.FAILED,
                        detail=f"not handed over, nothing saved ({type(outcome).__name__}); "
                        "re-run the batch",
                    )
                    continue
                results[row] = BatchRowOut(
                    row=row,
                    reference=practice.reference,
                    practice_id=practice.id,
                    # its workflow was already there: started by an earlier, cut attempt
                    status=BatchRowStatus.STARTED
                    if outcome
                    else BatchRowStatus.ALREADY_HANDED_OVER,
                )
    return [results[row] for row, _ in valid]


@router.post(
    "/batch",
    response_model=BatchResult,
    responses={
        403: {"description": "A creditor user handing over rows of another creditor."},
        422: {
            "description": "Bad rows; nothing was started. `detail` lists every one: "
            '`{"row": 3, "loc": ["debtor", "tax_code"], "msg": "...", "type": "..."}` '
            "(row counts from 0, loc is inside the row)."
        },
    },
)
async def hand_over_batch(
    body: PracticeBatch,
    session: SessionDep,
    db: DatabaseDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    principal: HandOver,
    dry_run: Annotated[
        bool, Query(description="Validate and report what would happen; start nothing.")
    ] = False,
) -> BatchResult:
    """Hands over many practices at once (affido massivo), each row the body of POST /practices.

    Every row is validated first; if any is bad the answer is a 422 listing all bad rows and
    nothing is written or started. Then the new rows are written in one transaction and their
    workflows started BATCH_CONCURRENCY at a time; a row whose workflow could not be started is
    taken back, so each row and its workflow exist together or not at all, as with POST
    /practices. Idempotent: a row whose
    (creditor_id, reference) is already handed over is reported as `already_handed_over` and not
    started again, so a re-run of the same batch starts nothing twice. A row that could not be
    handed over (Temporal unreachable...) is `failed` with nothing saved; re-run the batch.
    """
    if principal.role == Role.CREDITOR:
        others = [
            row
            for row, raw in enumerate(body.practices)
            if isinstance(raw.get("creditor_id"), str)
            and raw["creditor_id"] != principal.creditor_id
        ]
        if others:
            raise forbidden(
                "a creditor user hands over practices only for its own creditor "
                f"(rows {', '.join(map(str, others[:20]))}{'...' if len(others) > 20 else ''})"
            )
    valid, errors = _validate_batch(body.practices)
    creditor_ids = {item.creditor_id for _, item in valid}
    creditors = {
        c.id: c
        for c in await session.scalars(select(Creditor).where(Creditor.id.in_(creditor_ids)))
    }
    errors.extend(
        {"row": row, "loc": ["creditor_id"], "msg": "unknown creditor", "type": "not_found"}
        for row, item in valid
        if item.creditor_id not in creditors
    )
    if errors:
        errors.sort(key=lambda e: int(e["row"]))
        raise RequestValidationError(errors)

    existing = await _existing_practices(session, [item for _, item in valid])
    # each row's strategy, chosen as a single hand-over chooses it; "other practices" are those
    # handed over before this batch
    labs = {cid: await load_lab(session, c) for cid, c in creditors.items()}
    known = await debtors_with_practices(
        session, set().union(*(debtor_keys(item) for _, item in valid)), *labs.values()
    )
    today = rome_today()
    choices = {
        row: choose_strategy(
            labs[item.creditor_id],
            handover_facts(item, today, bool(debtor_keys(item) & known)),
            batch_practice_id(item.creditor_id, item.reference),
            today,
        )
        for row, item in valid
    }
    await session.rollback()  # the rows are written in sessions of their own
    gate = asyncio.Semaphore(BATCH_CONCURRENCY)

    async def one(row: int, item: PracticeCreate) -> BatchRowOut:
        key = (item.creditor_id, item.reference)
        if key in existing:
            return BatchRowOut(
                row=row,
                reference=item.reference,
                practice_id=existing[key],
                status=BatchRowStatus.ALREADY_HANDED_OVER,
            )
        practice_id = batch_practice_id(*key)
        if dry_run:
            return BatchRowOut(
                row=row,
                reference=item.reference,
                practice_id=practice_id,
                status=BatchRowStatus.WOULD_START,
            )
        practice, workflow_input = new_practice(item, item.creditor_id, choices[row], practice_id)
        async with gate, db.session() as row_session:
            try:
                started = await save_and_start(
                    row_session,
                    temporal,
                    settings,
                    practice,
                    workflow_input,
                    existing_workflow_ok=True,
                )
            except DuplicateReference:
                # handed over meanwhile by a concurrent request
                taken = await row_session.scalar(
                    select(Practice.id).where(
                        Practice.creditor_id == item.creditor_id,
                        Practice.reference == item.reference,
                    )
                )
                return BatchRowOut(
                    row=row,
                    reference=item.reference,
                    practice_id=taken,
                    status=BatchRowStatus.ALREADY_HANDED_OVER,
                )
            except Exception as exc:  # StartFailed, CommitFailed, a database error...
                known = isinstance(exc, StartFailed | CommitFailed)
                if not known:
                    log.warning("batch row %d: hand-over failed", row, exc_info=True)
                return BatchRowOut(
                    row=row,
                    reference=item.reference,
                    practice_id=None,
                    status=BatchRowStatus.FAILED,
                    detail=f"not handed over, nothing saved "
                    f"({exc if known else type(exc).__name__}); re-run the batch",
                )
        return BatchRowOut(
            row=row,
            reference=item.reference,
            practice_id=practice_id,
            status=BatchRowStatus.STARTED if started else BatchRowStatus.ALREADY_HANDED_OVER,
        )

    results = None
    if not dry_run:
        results = await _bulk_hand_over(db, temporal, settings, valid, existing, choices)
    if results is None:  # a dry run, or a reference taken meanwhile: row by row
        results = list(await asyncio.gather(*(one(row, item) for row, item in valid)))
    counts = Counter(r.status for r in results)
    log.info(
        "batch of %d practices: %d started, %d already handed over, %d failed%s",
        len(results),
        counts[BatchRowStatus.STARTED],
        counts[BatchRowStatus.ALREADY_HANDED_OVER],
        counts[BatchRowStatus.FAILED],
        " (dry run)" if dry_run else "",
    )
    return BatchResult(
        started=counts[BatchRowStatus.STARTED],
        already_handed_over=counts[BatchRowStatus.ALREADY_HANDED_OVER],
        failed=counts[BatchRowStatus.FAILED],
        would_start=counts[BatchRowStatus.WOULD_START],
        practices=list(results),
    )


def practice_filters(
    principal: Principal,
    *,
    status_: Status | None = None,
    phase: Phase | None = None,
    creditor_id: str | None = None,
    reference: str | None = None,
    outcome: Outcome | None = None,
    debtor_kind: DebtorKind | None = None,
    handed_over_from: date | None = None,
    handed_over_to: date | None = None,
    claim_from: str | None = None,
    claim_to: str | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE clause of the practices list: what the caller may see (api/access.py) and the
    filters. GET /practices and the console's portfolio (page and CSV export) both use it.
    Hand-over dates are days in Rome, both ends included; the claim bounds are euros."""
    if (
        principal.role == Role.CREDITOR
        and creditor_id is not None
        and creditor_id != principal.creditor_id
    ):
        raise forbidden("a creditor user sees only its own creditor's practices")
    conditions = [visible_practices(principal)]
    if status_ is not None:
        conditions.append(Practice.status == status_.value)
    if phase is not None:
        conditions.append(Practice.phase == phase.value)
    if creditor_id is not None:
        conditions.append(Practice.creditor_id == creditor_id)
    if reference is not None:
        conditions.append(Practice.reference == reference)
    if outcome is not None:
        conditions.append(Practice.outcome == outcome.value)
    if debtor_kind is not None:
        conditions.append(Practice.debtor_kind == debtor_kind.value)
    # days far outside any hand-over are clamped to the range every practice is in: the same
    # answer, without a datetime out of range (year 1 in Rome is before year 1 in UTC)
    if handed_over_from is not None:
        conditions.append(Practice.created_at >= _rome_midnight(_in_range(handed_over_from)))
    if handed_over_to is not None:
        after_last = _in_range(handed_over_to) + timedelta(days=1)
        conditions.append(Practice.created_at < _rome_midnight(after_last))
    bounds: dict[str, int] = {}
    for name, text in (("claim_from", claim_from), ("claim_to", claim_to)):
        if text is None:
            continue
        try:
            bounds[name] = parse_euros(text, allow_zero=True)
        except AmountError as exc:
            raise invalid(["query", name], str(exc)) from exc
    if "claim_from" in bounds:
        conditions.append(Practice.claim_cents >= bounds["claim_from"])
    if "claim_to" in bounds:
        conditions.append(Practice.claim_cents <= bounds["claim_to"])
    return conditions


_FIRST_DAY, _LAST_DAY = date(1970, 1, 1), date(9000, 12, 31)


def _in_range(day: date) -> date:
    return min(max(day, _FIRST_DAY), _LAST_DAY)


def _rome_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ROME)


@router.get("", response_model=PracticePage)
async def list_practices(
    session: SessionDep,
    principal: AnyUser,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    phase: Phase | None = None,
    creditor_id: str | None = None,
    reference: str | None = None,
    outcome: Outcome | None = None,
    debtor_kind: DebtorKind | None = None,
    handed_over_from: Annotated[
        date | None, Query(description="Handed over on or after this day (Rome).")
    ] = None,
    handed_over_to: Annotated[
        date | None, Query(description="Handed over on or before this day (Rome).")
    ] = None,
    claim_from: Annotated[
        str | None, Query(max_length=20, description="Claim at least this, in euros.")
    ] = None,
    claim_to: Annotated[
        str | None, Query(max_length=20, description="Claim at most this, in euros.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Deprecated: prefer `cursor`.")
    ] = 0,
    cursor: Annotated[
        str | None,
        Query(
            max_length=practice_pages.MAX_CURSOR_LENGTH,
            description="The page after or before another: its `next_cursor` or "
            "`previous_cursor`, with the same filters (not with `offset`).",
        ),
    ] = None,
) -> PracticePage:
    """Practices the caller may see, newest first: a creditor its own, a field agent those of
    its territory and its visits, the other roles all. Page by `cursor` (keyset: every page as
    fast as the first, none repeats or skips a practice while others are handed over)."""
    position = None if cursor is None else practice_pages.decode_cursor(cursor)
    if position is not None and offset:
        raise invalid(["query", "cursor"], "give a cursor or an offset, not both")
    conditions = practice_filters(
        principal,
        status_=status_,
        phase=phase,
        creditor_id=creditor_id,
        reference=reference,
        outcome=outcome,
        debtor_kind=debtor_kind,
        handed_over_from=handed_over_from,
        handed_over_to=handed_over_to,
        claim_from=claim_from,
        claim_to=claim_to,
    )
    if offset:
        page = await practice_pages.offset_page(session, conditions, limit=limit, offset=offset)
    else:
        page = await practice_pages.keyset_page(session, conditions, limit=limit, cursor=position)
    return PracticePage(
        items=[practice_summary(p, principal) for p in page.practices],
        total=await practice_pages.count(session, conditions),
        limit=limit,
        offset=offset,
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
    )


PRACTICE_ORDER = practice_pages.PRACTICE_ORDER


@router.get(
    "/{practice_id}",
    response_model=PracticeOut,
    responses={403: {"description": "Another creditor's practice."}, 404: {}},
)
async def get_practice(practice_id: str, session: SessionDep, principal: AnyUser) -> PracticeOut:
    practice = await load_practice(session, principal, practice_id, with_invoices=True)
    deadlines = await session.scalars(
        select(Deadline)
        .where(Deadline.practice_id == practice_id)
        .order_by(Deadline.last_day, Deadline.kind, Deadline.start)
    )
    out = practice_out(practice, principal, list(deadlines))
    if out.debtor is not None:  # the debtor's data was handed out: who, which, when
        await access_log.record_access(session, principal, access_log.What.PRACTICE, [practice.id])
    return out


@router.get("/{practice_id}/events", response_model=list[EventOut])
async def list_events(practice_id: str, session: SessionDep, principal: AnyUser) -> list[EventOut]:
    """The timeline, oldest first (by time, then sequence: the court steps' events are numbered
    from 1,000,000). Summaries never carry the debtor's personal data."""
    await load_practice(session, principal, practice_id)
    rows = await session.scalars(
        select(Event).where(Event.practice_id == practice_id).order_by(Event.at, Event.seq)
    )
    return [
        EventOut(
            seq=e.seq,
            at=e.at,
            kind=e.kind,
            summary=e.summary,
            data=dict(e.data or {}),
            actor=(
                ActorOut.model_validate(
                    {"kind": e.actor_kind, "id": e.actor_id, "role": e.actor_role}
                )
                if e.actor_kind
                else None
            ),
        )
        for e in rows
    ]


@router.get("/{practice_id}/notes", response_model=list[NoteOut])
async def list_notes(practice_id: str, session: SessionDep, principal: AnyUser) -> list[NoteOut]:
    """The notes and reasons people gave with their commands (a call's note, a dispute's
    reason...), oldest first. Notes often speak of the debtor's life, so they are shown to those
    who may see the debtor's personal data (a field agent: only on its assigned practices)."""
    await load_practice(session, principal, practice_id)  # 404/403 as for the practice
    rows = await session.scalars(
        select(PracticeNote)
        .where(PracticeNote.practice_id == practice_id)
        .order_by(PracticeNote.created_at, PracticeNote.id)
    )
    return [
        NoteOut(
            id=n.id,
            kind=NoteKind(n.kind),
            text=n.text,
            author_id=n.author_id,
            created_at=n.created_at,
        )
        for n in rows
    ]


async def _documents_practice(
    session: SessionDep, principal: Principal, practice_id: str
) -> Practice:
    # letters print the debtor's name and address: those who may see the practice may see them
    # (api.access: a field agent only its visits' debtors)
    return await load_practice(session, principal, practice_id)


@router.get("/{practice_id}/documents", response_model=list[DocumentOut])
async def list_documents(
    practice_id: str, session: SessionDep, principal: AnyUser
) -> list[DocumentOut]:
    await _documents_practice(session, principal, practice_id)
    rows = await session.execute(
        # the content is left out: a list should not pull every PDF into memory
        select(
            Document.id,
            Document.kind,
            Document.filename,
            Document.media_type,
            func.length(Document.content),
            Document.created_at,
        )
        .where(Document.practice_id == practice_id)
        .order_by(Document.created_at, Document.id)
    )
    return [
        DocumentOut(
            id=r[0],
            kind=r[1],
            filename=r[2],
            media_type=r[3],
            size=r[4] or 0,
            created_at=r[5],
        )
        for r in rows
    ]


@router.get(
    "/{practice_id}/documents/{document_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The letter."}},
)
async def get_document(
    practice_id: str, document_id: str, session: SessionDep, principal: AnyUser
) -> Response:
    await _documents_practice(session, principal, practice_id)
    document = await session.get(Document, document_id)
    if document is None or document.practice_id != practice_id:
        raise not_found("document")
    filename = "".join(c for c in document.filename if c.isascii() and c not in '"\\\r\n')
    await access_log.record_access(
        session, principal, access_log.What.DOCUMENT, [practice_id], target_id=document.id
    )
    return Response(
        content=document.content,
        media_type=document.media_type or "application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename or document.id}"'},
    )
