"""Letters and debtor messages: what the PDFs and texts say, and what they never say."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
import segno
from pypdf import PdfReader
from sqlalchemy import select
from temporalio.exceptions import ApplicationError

from activities import PracticeActivities
from db.models import Delivery, Document
from db.session import Database
from domain.activity_io import LetterInput, ReminderInput
from domain.money import format_euros
from domain.payment_qr import epc_payload
from domain.strategy import LETTER_KINDS
from tests.factories import IBAN, create_creditor, create_practice, create_user, make_settings

FORBIDDEN = re.compile(r"recupero\s+crediti", re.IGNORECASE)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    # one line of words: table cells and wrapped lines come out with varying whitespace
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


@pytest.fixture
def acts(database: Database) -> PracticeActivities:
    return PracticeActivities(database, make_settings())


async def letter_pdf(db: Database, document_id: str | None) -> str:
    assert document_id is not None
    async with db.session() as session:
        document = await session.get(Document, document_id)
    assert document is not None
    assert document.content.startswith(b"%PDF")
    return pdf_text(document.content)


async def deliveries_of(db: Database, practice_id: str) -> list[Delivery]:
    async with db.session() as session:
        rows = await session.execute(
            select(Delivery).where(Delivery.practice_id == practice_id).order_by(Delivery.channel)
        )
        return list(rows.scalars())


@pytest.mark.parametrize("kind", LETTER_KINDS)
async def test_every_letter_prints_what_the_debtor_needs_to_pay(
    database: Database, acts: PracticeActivities, kind: str
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.send_letter(
        LetterInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:{kind}:1",
            kind=kind,
            balance_cents=practice.balance_cents,
            pay_by=date(2026, 12, 10),
        )
    )
    text = await letter_pdf(database, result.document_id)

    assert format_euros(125_050) in text  # the total: 840.50 + 410.00
    for number, amount in (("2026/0117", 84_050), ("2026/0342", 41_000)):
        assert number in text
        assert format_euros(amount) in text
    assert "01/04/2026" in text and "03/06/2026" in text  # due dates
    assert IBAN in text
    assert practice.reference in text
    assert creditor.name in text
    assert "Mario Rossi" in text
    assert "Via Giuseppe Verdi 12" in text and "20121 Milano (MI)" in text
    settings = acts.settings
    for contact in (settings.agency_name, settings.agency_phone, settings.agency_email):
        assert contact in text
    assert "Causale" in text
    assert not FORBIDDEN.search(text)
    assert result.deliveries == ["post:outbox", "email:outbox"]

    async with database.session() as session:
        document = await session.get(Document, result.document_id)
    assert document is not None
    assert document.filename == f"{kind}-{practice.reference}.pdf"


async def test_total_due_is_the_balance_with_payments_shown(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, paid_cents=20_000)
    result = await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:second", "second_letter", balance_cents=105_050)
    )
    text = await letter_pdf(database, result.document_id)
    assert "Totale dovuto € 1.050,50" in text
    assert "Totale fatture € 1.250,50" in text
    assert "- € 200,00" in text


async def test_formal_demand_is_on_the_lawyers_letterhead_with_the_term(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    lawyer = await create_user(database, "lawyer", name="Avv. Giulia Bianchi")
    result = await acts.send_letter(
        LetterInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:formal_demand:1",
            kind="formal_demand",
            balance_cents=practice.balance_cents,
            pay_by=date(2026, 12, 10),
            lawyer_id=lawyer.id,
        )
    )
    text = await letter_pdf(database, result.document_id)
    assert text.startswith("Avv. Giulia Bianchi Studio legale")
    assert "10 dicembre 2026" in text
    assert "art. 1454 c.c." in text
    assert "art. 2943 c.c." in text
    assert "diffido formalmente" in text
    assert result.skipped == []


async def test_formal_demand_without_a_lawyer_falls_back_to_the_agency(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.send_letter(
        LetterInput(
            practice.id,
            f"{practice.id}:formal_demand:1",
            "formal_demand",
            balance_cents=practice.balance_cents,
            pay_by=date(2026, 12, 10),
            lawyer_id="no-such-user",
        )
    )
    text = await letter_pdf(database, result.document_id)
    assert text.startswith(acts.settings.agency_name)
    assert "diffidiamo formalmente" in text
    assert "10 dicembre 2026" in text
    assert any(s.startswith("lawyer:") for s in result.skipped)


async def test_friendly_and_firm_letters_read_differently(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    texts = {}
    for kind in ("reminder_letter", "second_letter", "legal_notice"):
        result = await acts.send_letter(
            LetterInput(practice.id, f"{practice.id}:{kind}", kind, practice.balance_cents)
        )
        texts[kind] = await letter_pdf(database, result.document_id)

    assert "semplice dimenticanza" in texts["reminder_letter"]
    assert "cortesemente" in texts["reminder_letter"]
    for firm in ("second_letter", "legal_notice"):
        assert "dimenticanza" not in texts[firm]
    assert "formalmente" in texts["second_letter"]
    assert "Preavviso di azione giudiziale" in texts["legal_notice"]
    assert "decreto ingiuntivo" in texts["legal_notice"]
    assert "decreto ingiuntivo" not in texts["reminder_letter"]


async def test_text_override_replaces_the_body_but_not_the_amounts(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    override = (
        "Egregio {{ debtor_name }}, la pratica {{ reference }} di {{ creditor_name }} "
        "presenta un saldo di {{ amount }}.\n\nLa preghiamo di regolarizzare."
    )
    result = await acts.send_letter(
        LetterInput(
            practice.id,
            f"{practice.id}:reminder",
            "reminder_letter",
            practice.balance_cents,
            text_override=override,
        )
    )
    text = await letter_pdf(database, result.document_id)
    assert (
        f"Egregio Mario Rossi, la pratica {practice.reference} di {creditor.name} "
        "presenta un saldo di € 1.250,50." in text
    )
    assert "La preghiamo di regolarizzare." in text
    assert "dimenticanza" not in text  # the standard body is gone
    assert "2026/0117" in text and "2026/0342" in text
    assert "€ 840,50" in text and "Totale dovuto € 1.250,50" in text
    assert IBAN in text
    assert result.skipped == []


async def test_text_override_cannot_inject_markup_or_escape_the_sandbox(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)

    hiding = "<style>table, .payment { display: none }</style>Paghi subito."
    result = await acts.send_letter(
        LetterInput(
            practice.id, "k-hide", "reminder_letter", practice.balance_cents, True, False, hiding
        )
    )
    text = await letter_pdf(database, result.document_id)
    assert "<style>" in text  # printed as text, not applied
    assert "2026/0117" in text and IBAN in text and "Totale dovuto" in text

    escaping = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    result = await acts.send_letter(
        LetterInput(
            practice.id,
            "k-escape",
            "reminder_letter",
            practice.balance_cents,
            True,
            False,
            escaping,
        )
    )
    text = await letter_pdf(database, result.document_id)
    assert "subclasses" not in text and "semplice dimenticanza" in text
    assert result.skipped == ["text_override: not usable, standard text used"]


async def test_override_with_the_forbidden_wording_is_not_used(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.send_letter(
        LetterInput(
            practice.id,
            "k-forbidden",
            "reminder_letter",
            practice.balance_cents,
            text_override="Questa è una pratica di Recupero   Crediti.",
        )
    )
    text = await letter_pdf(database, result.document_id)
    assert not FORBIDDEN.search(text)
    assert "semplice dimenticanza" in text
    assert result.skipped == ["text_override: not usable, standard text used"]


async def test_a_name_with_the_forbidden_wording_stops_the_letter(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database, name="Nord Recupero Crediti S.p.A.")
    practice = await create_practice(database, creditor)
    with pytest.raises(ApplicationError) as caught:
        await acts.send_letter(
            LetterInput(practice.id, "k-name", "reminder_letter", practice.balance_cents)
        )
    assert caught.value.type == "ForbiddenWording"
    assert caught.value.non_retryable
    assert await deliveries_of(database, practice.id) == []


async def test_email_copy_carries_the_pdf_and_a_discreet_subject(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, pec="mario.rossi@pec.example.it")
    result = await acts.send_letter(
        LetterInput(
            practice.id,
            f"{practice.id}:legal_notice",
            "legal_notice",
            practice.balance_cents,
            email_copy=True,
            pec_copy=True,
        )
    )
    assert result.deliveries == ["post:outbox", "email:outbox", "pec:outbox"]
    rows = {d.channel: d for d in await deliveries_of(database, practice.id)}
    assert rows["post"].recipient == "debtor:postal"
    assert rows["email"].recipient == "mario.rossi@example.com"
    assert rows["pec"].recipient == "mario.rossi@pec.example.it"
    for row in rows.values():
        assert row.document_id == result.document_id
        assert not FORBIDDEN.search(row.subject) and not FORBIDDEN.search(row.body)
    subject = rows["email"].subject
    assert subject == f"Comunicazione da {acts.settings.agency_name} – rif. {practice.reference}"
    assert "€" not in subject and "pagamento" not in subject.lower()
    assert "in allegato" in rows["email"].body


async def test_copies_are_skipped_without_a_usable_address(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, email=None, pec="non-una-pec")
    result = await acts.send_letter(
        LetterInput(practice.id, "k-skip", "reminder_letter", practice.balance_cents, True, True)
    )
    assert result.deliveries == ["post:outbox"]
    assert result.skipped == ["email: no address", "pec: not valid"]

    bounced = await create_practice(database, creditor, invalid_channels=["email"])
    result = await acts.send_letter(
        LetterInput(bounced.id, "k-bounced", "reminder_letter", bounced.balance_cents)
    )
    assert result.skipped == ["email: marked invalid"]


async def test_a_wrong_postal_address_keeps_the_letter_but_sends_no_post(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, invalid_channels=["address"])
    letter = LetterInput(
        practice.id, f"{practice.id}:second_letter:1", "second_letter", 125_050, post=False
    )
    result = await acts.send_letter(letter)
    assert result.deliveries == ["email:outbox"]
    assert result.skipped == ["post: address known to be wrong"]
    assert practice.reference in await letter_pdf(database, result.document_id)
    rows = await deliveries_of(database, practice.id)
    assert [(d.channel, d.document_id) for d in rows] == [("email", result.document_id)]

    # a retry finds the same document and still writes no post delivery
    assert await acts.send_letter(letter) == result
    assert len(await deliveries_of(database, practice.id)) == 1

    # nothing at all to send to: the letter is still on file
    unreachable = await create_practice(database, creditor, email=None)
    result = await acts.send_letter(
        LetterInput(unreachable.id, "k-nowhere", "reminder_letter", 125_050, post=False)
    )
    assert result.document_id is not None and result.deliveries == []
    assert result.skipped == ["post: address known to be wrong", "email: no address"]
    assert await deliveries_of(database, unreachable.id) == []


@pytest.mark.parametrize(
    ("moment", "phrase"), [("before", "scade il pagamento"), ("due_today", "oggi, 3 giugno 2026")]
)
async def test_pre_due_reminders_are_courteous_and_discreet(
    database: Database, acts: PracticeActivities, moment: str, phrase: str
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.send_pre_due_reminder(
        ReminderInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:pre_due:{moment}",
            moment=moment,
            due_date=date(2026, 6, 3),
            amount_cents=41_000,
        )
    )
    assert result.deliveries == ["email:outbox", "sms:outbox"]
    rows = {d.channel: d for d in await deliveries_of(database, practice.id)}
    email, sms = rows["email"], rows["sms"]

    assert phrase in email.body
    assert "€ 410,00" in email.body and "2026/0342" in email.body
    assert "2026/0117" not in email.body  # due on another date
    assert IBAN in email.body and practice.reference in email.body
    assert (
        email.subject == f"Comunicazione da {acts.settings.agency_name} – rif. {practice.reference}"
    )

    assert sms.recipient == "+393331234567"
    assert sms.body.startswith("Gentile cliente, per una comunicazione che la riguarda visiti")
    assert "ci chiami al +39 02 1234567" in sms.body
    assert practice.reference in sms.body
    assert "€" not in sms.body and "pagamento" not in sms.body and "Rossi" not in sms.body
    # with the link to the debtor's page: two SMS segments at most (GSM-7, 153 each)
    assert len(sms.body) <= 306
    for text in (email.subject, email.body, sms.body):
        assert not FORBIDDEN.search(text)


async def test_reminder_skips_missing_channels(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, phone=None, invalid_channels=["email"])
    result = await acts.send_pre_due_reminder(
        ReminderInput(practice.id, "k-none", "before", date(2026, 6, 3), 41_000)
    )
    assert result.deliveries == []
    assert result.skipped == ["email: marked invalid", "sms: no number"]


async def test_unknown_letter_kind_or_moment_is_not_retried(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    with pytest.raises(ApplicationError) as letter:
        await acts.send_letter(LetterInput(practice.id, "k", "postcard", 100))
    with pytest.raises(ApplicationError) as reminder:
        await acts.send_pre_due_reminder(
            ReminderInput(practice.id, "k", "after", date(2026, 6, 3), 100)
        )
    assert letter.value.non_retryable and reminder.value.non_retryable


# --- the payment QR code -----------------------------------------------------------------------


async def letter_document(db: Database, document_id: str | None) -> bytes:
    assert document_id is not None
    async with db.session() as session:
        document = await session.get(Document, document_id)
    assert document is not None
    return document.content


def qr_modules(image: Any, size: int) -> list[list[bool]]:
    """Reads a QR code's modules back from the image in the PDF: the centre of each one
    (the image is segno's PNG, scale 8 with a border of 4 modules)."""
    gray = image.convert("L")
    scale = gray.width // (size + 8)
    return [
        [
            gray.getpixel(((4 + col) * scale + scale // 2, (4 + row) * scale + scale // 2)) < 128
            for col in range(size)
        ]
        for row in range(size)
    ]


@pytest.mark.parametrize("kind", LETTER_KINDS)
async def test_every_letter_carries_the_payment_qr_code_and_still_prints_the_iban(
    database: Database, acts: PracticeActivities, kind: str
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:{kind}:1", kind, 125_040, email_copy=False)
    )
    content = await letter_document(database, result.document_id)
    reader = PdfReader(io.BytesIO(content))
    # WeasyPrint shares one resource dictionary between pages: a two-page letter lists the
    # same image on both
    images = list({image.data: image for page in reader.pages for image in page.images}.values())
    # the payment's QR code, then the debtor page's (tests/test_debtor_links_in_letters.py)
    assert len(images) == 2
    text = pdf_text(content)
    assert f"IBAN {IBAN}" in text
    assert "Inquadri il codice con l'app della sua banca" in text

    # the image is the EPC QR code of exactly this transfer
    expected = segno.make(
        epc_payload(
            beneficiary=creditor.name,
            iban=IBAN,
            amount_cents=125_040,
            remittance=practice.reference,
        ),
        error="m",
        micro=False,
        boost_error=False,
        encoding="utf-8",
    )
    size = len(expected.matrix)
    assert qr_modules(images[0].image, size) == [[bool(m) for m in row] for row in expected.matrix]


async def test_a_balance_a_qr_code_cannot_carry_leaves_the_letter_without_one(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:reminder_letter:1", "reminder_letter", 0)
    )
    content = await letter_document(database, result.document_id)
    # only the debtor page's QR code is left (one image, however many pages list it)
    images = {i.data for page in PdfReader(io.BytesIO(content)).pages for i in page.images}
    assert len(images) == 1
    text = pdf_text(content)
    assert f"IBAN {IBAN}" in text and "Inquadri il codice con l'app della sua banca" not in text


# -- issue 11 point 5: the letters print the term the practice acts on ------------------------


@pytest.mark.parametrize("kind", ["reminder_letter", "second_letter", "legal_notice"])
async def test_a_letter_prints_the_day_the_practice_acts_on_not_a_fixed_term(
    database: Database, acts: PracticeActivities, kind: str
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.send_letter(
        LetterInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:{kind}:term",
            kind=kind,
            balance_cents=practice.balance_cents,
            pay_by=date(2026, 12, 21),
        )
    )
    text = await letter_pdf(database, result.document_id)
    assert "entro il 21 dicembre 2026" in text
    assert not re.search(r"\d+ giorni", text), text  # no term written into the template


async def test_a_letter_without_a_term_asks_to_pay_promptly(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:r:0", "reminder_letter", practice.balance_cents)
    )
    text = await letter_pdf(database, result.document_id)
    assert "al più presto" in text and not re.search(r"\d+ giorni", text)


async def test_a_creditors_own_text_gets_the_term_too(
    database: Database, acts: PracticeActivities
) -> None:
    from activities.context import today_in_rome

    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    pay_by = date.fromordinal(today_in_rome().toordinal() + 14)
    result = await acts.send_letter(
        LetterInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:second:override",
            kind="second_letter",
            balance_cents=practice.balance_cents,
            text_override="Saldi entro il {{ pay_by }} (cioè tra {{ term_days }} giorni).",
            pay_by=pay_by,
        )
    )
    assert result.skipped == []
    text = await letter_pdf(database, result.document_id)
    months = "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre".split()
    months += ["novembre", "dicembre"]
    printed = f"{pay_by.day} {months[pay_by.month - 1]} {pay_by.year}"
    assert f"Saldi entro il {printed} (cioè tra 14 giorni)." in text
