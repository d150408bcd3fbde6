"""api/services/erasure.py on the database (SQLite and PostgreSQL): every place a debtor's
personal data lives is erased or kept as the scope says, idempotently; rows the debtor's other
practices share go only with the last copy; the sweep picks each creditor's own period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from api.services import erasure
from db.models import (
    ContactLog,
    ConversationDay,
    DebtorContactPreference,
    DebtorLink,
    DebtorOptOut,
    DebtorSession,
    Delivery,
    Document,
    ErasureRequest,
    InvoiceRow,
    Practice,
    PracticeNote,
)
from db.session import Database
from tests.factories import TAX_CODE, create_creditor, create_practice

NOW = datetime(2036, 6, 1, 10, 0, tzinfo=UTC)


async def _closed(db: Database, retention_days: int = 3653, **overrides: object) -> Practice:
    creditor = await create_creditor(db, retention_days=retention_days)
    values: dict[str, object] = {
        "status": "closed",
        "outcome": "paid",
        "closed_at": NOW - timedelta(days=40),
    }
    values.update(overrides)
    return await create_practice(db, creditor, **values)


async def _fill(db: Database, practice: Practice) -> None:
    """A row in every table holding the debtor's data."""
    pid = practice.id
    async with db.session() as session, session.begin():
        document = Document(
            practice_id=pid,
            idempotency_key=f"{pid}:letter",
            kind="formal_demand",
            filename="diffida.pdf",
            content=b"%PDF-1.7 Mario Rossi",
        )
        session.add(document)
        await session.flush()
        for channel, recipient in (("email", "mario@example.com"), ("post", "Via Verdi 12")):
            session.add(
                Delivery(
                    idempotency_key=f"{pid}:{channel}",
                    practice_id=pid,
                    channel=channel,
                    recipient=recipient,
                    subject="Sollecito",
                    body="Gentile Mario Rossi",
                    document_id=document.id if channel == "post" else None,
                    status="outbox",
                    provider="outbox",
                )
            )
        session.add(PracticeNote(practice_id=pid, kind="call_outcome", text="vive a Milano"))
        session.add(PracticeNote(practice_id=pid, kind="dispute", text="contesta la fattura"))
        link = DebtorLink(
            practice_id=pid,
            token_hash=pid * 2,
            expires_at=NOW + timedelta(days=30),
        )
        session.add(link)
        await session.flush()
        session.add(DebtorSession(id=pid * 2, link_id=link.id, practice_id=pid, csrf_token="t"))
        contact = ContactLog(
            idempotency_key=f"{pid}:call",
            debtor_key=TAX_CODE,
            practice_id=pid,
            channel="call",
            kind="conversation",
            at=NOW - timedelta(days=50),
        )
        session.add(contact)
        await session.flush()
        session.add(
            ConversationDay(
                contact_id=contact.id,
                debtor_key=TAX_CODE,
                day=date(2036, 4, 12),
                week=date(2036, 4, 7),
                week_slot=1,
            )
        )
        session.add(DebtorOptOut(debtor_key=TAX_CODE, channel="sms", practice_id=pid))
        session.add(
            DebtorContactPreference(
                debtor_key=TAX_CODE, preferred_window="morning", practice_id=pid
            )
        )


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))  # type: ignore[arg-type]


async def _erase(db: Database, practice_id: str, scope: erasure.Scope) -> Practice:
    async with db.session() as session:
        practice = await session.get(Practice, practice_id)
        assert practice is not None
        await erasure.erase_practice(session, practice, scope, NOW)
        await session.commit()
        return practice


async def test_erasing_everything_leaves_only_what_the_reports_read(database: Database) -> None:
    db = database
    practice = await _closed(db)
    await _fill(db, practice)
    for _ in range(2):  # a second time changes nothing
        row = await _erase(db, practice.id, erasure.Scope.ALL)
        assert row.debtor_name == "" and row.debtor_tax_code is None
        assert row.debtor_vat_number is None
        assert (row.email, row.phone, row.pec) == (None, None, None)
        assert (row.street, row.city, row.postal_code) == ("", "", "")
        assert row.reference == f"erased-{practice.id}" and row.erased_at == NOW
        assert (row.province, row.claim_cents, row.status, row.outcome) == (
            "MI",
            practice.claim_cents,
            "closed",
            "paid",
        )
        pid = Document.practice_id == practice.id
        assert await _count(db, Document, pid) == 0
        assert await _count(db, PracticeNote, PracticeNote.practice_id == practice.id) == 0
        assert await _count(db, DebtorLink, DebtorLink.practice_id == practice.id) == 0
        assert await _count(db, DebtorSession, DebtorSession.practice_id == practice.id) == 0
        assert await _count(db, Delivery, Delivery.practice_id == practice.id) == 2
        assert (
            await _count(
                db, Delivery, Delivery.practice_id == practice.id, Delivery.recipient != ""
            )
            == 0
        )
        # the counts stay, the codice fiscale goes; no other practice: the debtor's rows go
        assert await _count(db, ContactLog, ContactLog.debtor_key == TAX_CODE) == 0
        assert await _count(db, ConversationDay, ConversationDay.debtor_key == TAX_CODE) == 0
        key = erasure.erased_key(practice.id)
        assert await _count(db, ConversationDay, ConversationDay.debtor_key == key) == 1
        assert await _count(db, DebtorOptOut, DebtorOptOut.debtor_key == TAX_CODE) == 0
        assert (
            await _count(
                db, DebtorContactPreference, DebtorContactPreference.debtor_key == TAX_CODE
            )
            == 0
        )
        assert await _count(db, InvoiceRow, InvoiceRow.practice_id == practice.id) == 2


async def test_contacts_only_keeps_identity_letters_and_the_claims_notes(
    database: Database,
) -> None:
    db = database
    practice = await _closed(db)
    await _fill(db, practice)
    # another creditor's practice of the same debtor, still open
    await create_practice(db, await create_creditor(db))
    row = await _erase(db, practice.id, erasure.Scope.CONTACTS)
    assert (row.email, row.phone, row.pec) == (None, None, None)
    assert row.debtor_name == "Mario Rossi" and row.debtor_tax_code == TAX_CODE
    assert row.city == "Milano" and row.erased_at is None
    assert await _count(db, Document, Document.practice_id == practice.id) == 1
    notes = await _count(db, PracticeNote, PracticeNote.practice_id == practice.id)
    assert notes == 1  # the dispute's reason, on the claim
    assert await _count(db, DebtorLink, DebtorLink.practice_id == practice.id) == 0
    async with db.session() as session:
        kept = dict(
            (
                await session.execute(
                    select(Delivery.channel, Delivery.recipient).where(
                        Delivery.practice_id == practice.id
                    )
                )
            ).all()
        )
    assert kept == {"email": "", "post": "Via Verdi 12"}
    # the other practice still holds the debtor: its refusals and preferences stay
    assert await _count(db, DebtorOptOut, DebtorOptOut.debtor_key == TAX_CODE) == 1
    assert (
        await _count(db, DebtorContactPreference, DebtorContactPreference.debtor_key == TAX_CODE)
        == 1
    )
    assert await _count(db, ContactLog, ContactLog.debtor_key == TAX_CODE) == 1


async def test_the_sweep_follows_each_creditors_period(database: Database) -> None:
    db = database
    short = await _closed(db, retention_days=30)  # closed 40 days ago: due
    long = await _closed(db, retention_days=60)  # not yet
    still_open = await create_practice(
        db, await create_creditor(db, retention_days=1), status="active"
    )
    async with db.session() as session:
        assert await erasure.due_practices(session, NOW, 10) == [short.id]
        batch = await erasure.erase_due(session, NOW, 10)
    assert (batch.erased, batch.more) == (1, False)
    async with db.session() as session:
        assert await erasure.due_practices(session, NOW, 10) == []
        later = NOW + timedelta(days=21)
        assert await erasure.due_practices(session, later, 10) == [long.id]
        one = await erasure.erase_due(session, later, 1)
        assert (one.erased, one.more) == (1, True)
        assert await erasure.erase_due(session, later, 1) == erasure.SweepBatch(0, False)
        row = await session.get(Practice, still_open.id)
        assert row is not None and row.erased_at is None


async def test_a_request_is_decided_by_the_practices_state(database: Database) -> None:
    db = database
    open_practice = await create_practice(db, await create_creditor(db))
    within = await _closed(db, retention_days=3653)
    past = await _closed(db, retention_days=30)
    recorder = erasure.Recorder("user", "u1", "operator")
    answers = {}
    async with db.session() as session:
        for practice in (open_practice, within, past):
            row = await session.get(Practice, practice.id)
            assert row is not None
            answers[practice.id] = await erasure.request_erasure(
                session, row, recorder, NOW.date(), NOW
            )
    refused = answers[open_practice.id]
    assert (refused.decision, refused.reason, refused.erased) == ("refused", "practice_open", [])
    partial = answers[within.id]
    assert (partial.decision, partial.reason) == ("partial", "legal_duty")
    assert partial.keep_until == (NOW - timedelta(days=40) + timedelta(days=3653)).date()
    assert "identity" in partial.kept and "contacts" in partial.erased
    erased = answers[past.id]
    # the same debtor's other practices (the factories' one codice fiscale) keep its opt-outs
    assert (erased.decision, erased.reason, erased.kept) == ("erased", "no_duty", ["preferences"])
    assert "preferences" not in erased.erased
    assert await _count(db, ErasureRequest) == 3
    async with db.session() as session:
        row = await session.get(Practice, past.id)
        assert row is not None and row.erased_at == NOW
        later = NOW + timedelta(minutes=1)
        again = await erasure.request_erasure(session, row, recorder, NOW.date(), later)
        assert (again.decision, again.reason) == ("erased", "already_erased")
        listed = await erasure.list_requests(session, practice_id=past.id)
        assert [r.id for r in listed] == [again.id, erased.id]  # newest first


async def test_a_debtor_known_by_one_practice_loses_its_refusals_with_it(
    database: Database,
) -> None:
    db = database
    practice = await _closed(db, debtor_tax_code=None)
    key = f"practice:{practice.id}"
    async with db.session() as session, session.begin():
        session.add(DebtorOptOut(debtor_key=key, channel="email", practice_id=practice.id))
    async with db.session() as session:
        row = await session.get(Practice, practice.id)
        assert row is not None
        erased = await erasure.erase_practice(session, row, erasure.Scope.CONTACTS, NOW)
        await session.commit()
    assert erasure.Category.PREFERENCES in erased
    assert await _count(db, DebtorOptOut, DebtorOptOut.debtor_key == key) == 0


async def test_a_debtor_abroad_keeps_its_refusals_while_another_practice_holds_it(
    database: Database,
) -> None:
    """Issue 16: a debtor abroad is keyed "<country>:<number>"; erasing one of its practices
    keeps its refusals while another practice of the debtor holds its data, and deletes them
    with the last one."""
    db = database
    abroad = {
        "debtor_kind": "business",
        "debtor_tax_code": None,
        "debtor_vat_number": "DE136695976",
        "province": "",
        "country": "DE",
        "time_zone": "Europe/Berlin",
    }
    first = await _closed(db, **abroad)
    second = await _closed(db, **abroad)
    key = "DE:DE136695976"
    async with db.session() as session, session.begin():
        session.add(DebtorOptOut(debtor_key=key, channel="call", practice_id=first.id))
    await _erase(db, first.id, erasure.Scope.ALL)
    assert await _count(db, DebtorOptOut, DebtorOptOut.debtor_key == key) == 1
    await _erase(db, second.id, erasure.Scope.ALL)
    assert await _count(db, DebtorOptOut, DebtorOptOut.debtor_key == key) == 0
