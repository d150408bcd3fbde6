"""record_judicial, compute_statement and the statement's breakdown in letters, against a migrated
SQLite read model (the activities called directly, as the worker would)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from temporalio.exceptions import ApplicationError

from activities import PracticeActivities
from db.models import Deadline, Document, Event, Practice, RatePeriodRow
from db.session import Database
from domain.activity_io import (
    CostLine,
    LetterInput,
    PaymentLine,
    RecordJudicialInput,
    ReductionLine,
    StatementInput,
)
from domain.calendar import end_of_rome_day
from domain.judicial import (
    JUDICIAL_SEQ_BASE,
    DeadlineStatus,
    DeadlineView,
    JudicialSnapshot,
    Stage,
)
from domain.money import format_euros
from domain.practice import TimelineEvent
from tests.factories import create_creditor, create_practice, create_user, invoice, make_settings


@pytest.fixture
def acts(database: Database) -> PracticeActivities:
    return PracticeActivities(database, make_settings())


def deadline(
    kind: str, start: date, last_day: date, status: DeadlineStatus = DeadlineStatus.OPEN
) -> DeadlineView:
    return DeadlineView(
        kind=kind,
        last_day=last_day,
        ends_at=end_of_rome_day(last_day),
        rule="art. 644 c.p.c." if kind == "decree_service" else "art. 641 c.p.c.",
        explanation=f"{kind} from {start.isoformat()}",
        status=status,
        start=start,
    )


def event(seq: int, kind: str, **data: str | int | bool | None) -> TimelineEvent:
    return TimelineEvent(
        seq=seq, at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), kind=kind, summary=kind, data=data
    )


# --- record_judicial -------------------------------------------------------------------------

ISSUED = date(2026, 3, 2)
SERVED = date(2026, 3, 20)


def awaiting_service(lawyer_id: str) -> RecordJudicialInput:
    return RecordJudicialInput(
        practice_id="",
        events=[event(JUDICIAL_SEQ_BASE + 1, "decree_issued", issued_on=ISSUED.isoformat())],
        snapshot=JudicialSnapshot(
            version=2,
            stage=Stage.AWAITING_SERVICE,
            deadlines=[deadline("decree_service", ISSUED, date(2026, 5, 4))],
            decree_issued_on=ISSUED,
            lawyer_id=lawyer_id,
        ),
    )


def served(lawyer_id: str) -> RecordJudicialInput:
    return RecordJudicialInput(
        practice_id="",
        events=[event(JUDICIAL_SEQ_BASE + 2, "decree_served", served_on=SERVED.isoformat())],
        snapshot=JudicialSnapshot(
            version=3,
            stage=Stage.OPPOSITION_TERM,
            deadlines=[
                deadline("decree_service", ISSUED, date(2026, 5, 4), DeadlineStatus.MET),
                deadline("opposition", SERVED, date(2026, 4, 29)),
            ],
            decree_issued_on=ISSUED,
            decree_served_on=SERVED,
            lawyer_id=lawyer_id,
        ),
    )


async def judicial_rows(db: Database, practice_id: str) -> tuple[Practice, list[Deadline], int]:
    async with db.session() as session:
        practice = await session.get(Practice, practice_id)
        assert practice is not None
        deadlines = list(
            await session.scalars(
                select(Deadline).where(Deadline.practice_id == practice_id).order_by(Deadline.kind)
            )
        )
        events = list(await session.scalars(select(Event).where(Event.practice_id == practice_id)))
    return practice, deadlines, len(events)


async def test_record_judicial_is_idempotent(database: Database, acts: PracticeActivities) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, phase="judicial")
    lawyer = await create_user(database, "lawyer")
    first = awaiting_service(lawyer.id)
    first.practice_id = practice.id
    await acts.record_judicial(first)
    await acts.record_judicial(first)  # a retry: nothing twice

    row, deadlines, events = await judicial_rows(database, practice.id)
    assert events == 1
    assert row.judicial_version == 2
    assert row.judicial is not None and row.judicial["stage"] == "awaiting_service"
    assert row.judicial["decree_issued_on"] == "2026-03-02"
    assert [(d.kind, d.start, d.last_day, d.status, d.lawyer_id) for d in deadlines] == [
        ("decree_service", ISSUED, date(2026, 5, 4), "open", lawyer.id)
    ]
    assert deadlines[0].rule == "art. 644 c.p.c."
    assert deadlines[0].ends_at == end_of_rome_day(date(2026, 5, 4))


async def test_an_older_snapshot_never_replaces_a_newer_one(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, phase="judicial")
    lawyer = await create_user(database, "lawyer")
    older, newer = awaiting_service(lawyer.id), served(lawyer.id)
    older.practice_id = newer.practice_id = practice.id

    await acts.record_judicial(newer)
    await acts.record_judicial(older)  # arrives late (a retry of an earlier flush)

    row, deadlines, events = await judicial_rows(database, practice.id)
    assert events == 2  # the late one's events are still recorded
    assert row.judicial_version == 3
    assert row.judicial is not None and row.judicial["stage"] == "opposition_term"
    # the deadlines are the newer snapshot's: the service term met, the opposition term open
    assert [(d.kind, d.status) for d in deadlines] == [
        ("decree_service", "met"),
        ("opposition", "open"),
    ]


async def test_a_deadline_the_new_snapshot_drops_is_cancelled(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, phase="judicial")
    first = awaiting_service("lawyer-1")
    first.practice_id = practice.id
    await acts.record_judicial(first)
    stopped = RecordJudicialInput(
        practice_id=practice.id,
        events=[],
        snapshot=JudicialSnapshot(version=5, stage=Stage.STOPPED, lawyer_id="lawyer-1"),
    )
    await acts.record_judicial(stopped)
    _, deadlines, _ = await judicial_rows(database, practice.id)
    assert [(d.kind, d.status) for d in deadlines] == [("decree_service", "cancelled")]


async def test_judicial_events_must_be_numbered_above_the_base(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    bad = awaiting_service("lawyer-1")
    bad.practice_id = practice.id
    bad.events = [event(7, "decree_issued")]
    with pytest.raises(ApplicationError) as caught:
        await acts.record_judicial(bad)
    assert caught.value.non_retryable


# --- compute_statement -----------------------------------------------------------------------


async def business_practice(db: Database) -> Practice:
    """Two invoices, 1,000.00 due 31 January 2025 and 2,000.00 due 28 February 2025."""
    creditor = await create_creditor(db)
    invoices = [
        invoice("1", date(2025, 1, 1), date(2025, 1, 31), 100000),
        invoice("2", date(2025, 2, 1), date(2025, 2, 28), 200000),
    ]
    return await create_practice(
        db, creditor, invoices, debtor_kind="business", debtor_vat_number="12345670017"
    )


async def test_compute_statement_with_interest(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await business_practice(database)
    result = await acts.compute_statement(
        StatementInput(
            practice_id=practice.id,
            at=date(2025, 5, 31),
            payments=[
                PaymentLine(date(2025, 4, 30), 100000, "second"),
                PaymentLine(date(2025, 3, 31), 50000, "first"),
            ],
            claim_interest=True,
            allocation="costs_interest_principal",  # the mandate's order, as the example
        )
    )
    # tests/domain/test_statement.py's first example, worked by hand there: 1,640.94 principal,
    # 15.54 interest, costs paid, 1,656.48 outstanding
    assert result.principal_outstanding_cents == 164094
    assert result.interest_outstanding_cents == 1554
    assert result.costs_outstanding_cents == 0
    assert result.total_outstanding_cents == 165648
    assert result.overpaid_cents == 0


async def test_compute_statement_without_interest(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await business_practice(database)
    result = await acts.compute_statement(
        StatementInput(
            practice_id=practice.id,
            at=date(2026, 11, 20),  # no late-payment rate is known then: none is needed
            payments=[PaymentLine(date(2025, 3, 31), 50000, "first")],
            costs=[CostLine(date(2025, 3, 1), 12000, "legal")],
            reductions=[ReductionLine(date(2025, 6, 1), 30000)],
            claim_interest=False,
        )
    )
    # 500.00 pays the 120.00 cost, then 380.00 of invoice 1 (-> 620.00); the reduction of
    # 300.00 takes invoice 1 to 320.00. No interest, no EUR 40.
    assert result.interest_outstanding_cents == 0
    assert result.costs_outstanding_cents == 0
    assert result.principal_outstanding_cents == 32000 + 200000
    assert result.total_outstanding_cents == 232000


async def test_a_missing_rate_fails_non_retryably_naming_kind_and_day(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await business_practice(database)
    with pytest.raises(ApplicationError) as caught:
        await acts.compute_statement(
            StatementInput(practice_id=practice.id, at=date(2026, 9, 30), claim_interest=True)
        )
    error = caught.value
    assert error.non_retryable
    assert error.type == "RateUnknown"
    assert "2026-07-01" in error.message and "late_payment_231" in error.message
    assert list(error.details) == ["late_payment_231", "2026-07-01"]


async def test_the_admins_rates_extend_the_shipped_history(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await business_practice(database)
    async with database.session() as session, session.begin():
        session.add(
            RatePeriodRow(
                kind="late_payment_231",
                start=date(2026, 7, 1),
                end=date(2026, 12, 31),
                rate=Decimal("10.150"),
                source="test",
            )
        )
    with_rate = await acts.compute_statement(
        StatementInput(practice_id=practice.id, at=date(2026, 9, 30), claim_interest=True)
    )
    assert with_rate.interest_outstanding_cents > 0


async def test_bad_statement_input_is_not_retried(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await business_practice(database)
    for bad in (
        StatementInput(practice_id=practice.id, at=date(2024, 12, 1)),  # before the invoices
        StatementInput(
            practice_id=practice.id,
            at=date(2025, 5, 1),
            payments=[PaymentLine(date(2025, 3, 1), 0)],
        ),
        StatementInput(practice_id=practice.id, at=date(2025, 5, 1), allocation="whatever"),
    ):
        with pytest.raises(ApplicationError) as caught:
            await acts.compute_statement(bad)
        assert caught.value.non_retryable and caught.value.type == "InvalidInput"


# --- letters print the statement's breakdown ----------------------------------------------------


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


async def letter_text(db: Database, acts: PracticeActivities, practice: Practice) -> str:
    result = await acts.send_letter(
        LetterInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:second_letter:1",
            kind="second_letter",
            balance_cents=practice.balance_cents,
        )
    )
    async with db.session() as session:
        document = await session.get(Document, result.document_id)
    assert document is not None
    return pdf_text(document.content)


async def test_a_letter_prints_the_breakdown_when_interest_is_claimed(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    # a consumer: the legal rate is shipped up to the end of 2026
    practice = await create_practice(database, creditor, strategy={"claim_interest": True})
    text = await letter_text(database, acts, practice)
    assert "Dettaglio del dovuto" in text
    assert "Interessi di mora maturati" in text
    assert "Capitale residuo" in text
    assert format_euros(practice.balance_cents) in text  # still the amount due it was given


async def test_no_breakdown_when_interest_is_not_claimed(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    text = await letter_text(database, acts, practice)
    assert "Dettaglio del dovuto" not in text
