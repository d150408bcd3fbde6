"""Every letter, e-mail and SMS to the debtor carries the link to their own page (issue 13): the
short address printed and as a second QR code, issued inside the activity (never in Temporal),
the same link on a retry, only its hash in the database."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import segno
from pypdf import PdfReader
from sqlalchemy import select

from activities import PracticeActivities
from api.services import debtor_links
from db.models import DebtorLink, Delivery, Document
from db.session import Database
from domain.activity_io import LetterInput, ReminderInput
from tests.factories import create_creditor, create_practice, make_settings
from tests.test_letters import qr_modules

LINK = re.compile(r"https://pagina\.example\.it/d/([A-Za-z0-9_-]{32})")


async def test_a_letter_prints_the_short_address_and_a_second_qr_code(database: Database) -> None:
    acts = PracticeActivities(database, make_settings(public_url="https://pagina.example.it"))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    key = f"{practice.id}:reminder:1"
    result = await acts.send_letter(
        LetterInput(
            practice.id,
            key,
            "reminder_letter",
            125_050,
            email_copy=True,
            pay_by=date(2026, 12, 10),
        )
    )
    async with database.session() as session:
        document = await session.get(Document, result.document_id)
        assert document is not None
        reader = PdfReader(io.BytesIO(document.content))
        text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
        found = LINK.search(text)
        assert found is not None, text
        token = found.group(1)
        images = list({i.data: i for p in reader.pages for i in p.images}.values())
        assert len(images) == 2  # the payment's QR code, then the page's
        # the second one is the QR code of exactly this short address
        expected = segno.make(found.group(0), error="m", micro=False)
        size = len(expected.matrix)
        assert qr_modules(images[1].image, size) == [
            [bool(m) for m in row] for row in expected.matrix
        ]
        # the link works for this practice, and only its hash is stored
        link = await debtor_links.resolve(session, token, datetime.now(UTC))
        assert link is not None and link.practice_id == practice.id
        rows = list(await session.scalars(select(DebtorLink)))
        assert all(token not in (r.token_hash, r.idempotency_key) for r in rows)
        email = await session.scalar(
            select(Delivery).where(Delivery.practice_id == practice.id, Delivery.channel == "email")
        )
        assert email is not None and found.group(0) in email.body

    # a retry of the same activity: the same link, no second row
    await acts.send_letter(LetterInput(practice.id, key, "reminder_letter", 125_050))
    async with database.session() as session:
        links = await debtor_links.links_of(session, practice.id)
    assert len(links) == 1

    # the next letter: a new link; the first one keeps working
    second = await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:second:1", "second_letter", 125_050)
    )
    async with database.session() as session:
        document = await session.get(Document, second.document_id)
        assert document is not None
        reader = PdfReader(io.BytesIO(document.content))
        text = " ".join(" ".join(p.extract_text() or "" for p in reader.pages).split())
        other = LINK.search(text)
        assert other is not None and other.group(1) != token
        assert await debtor_links.resolve(session, token, datetime.now(UTC)) is not None
        assert len(await debtor_links.links_of(session, practice.id)) == 2


async def test_reminders_carry_the_link_in_the_email_and_the_sms(database: Database) -> None:
    acts = PracticeActivities(database, make_settings(public_url="https://pagina.example.it"))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    await acts.send_pre_due_reminder(
        ReminderInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:pre_due:before",
            moment="before",
            due_date=date(2026, 6, 3),
            amount_cents=41_000,
        )
    )
    async with database.session() as session:
        rows = {
            d.channel: d
            for d in await session.scalars(
                select(Delivery).where(Delivery.practice_id == practice.id)
            )
        }
    email_link = LINK.search(rows["email"].body)
    sms_link = LINK.search(rows["sms"].body)
    assert email_link is not None and sms_link is not None
    assert email_link.group(0) == sms_link.group(0)  # one link per reminder
