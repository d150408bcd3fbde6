"""send_letter: the four letters of the out-of-court path, rendered to PDF and put on their ways.

The PDF is stored once per idempotency key; the post delivery follows unless the workflow says the
postal address is known to be wrong (LetterInput.post=False: the letter is still stored); an
e-mail copy and a PEC copy follow when asked for and possible. Each piece has its own key, so a
retry after a partial run completes what is missing and repeats nothing.
"""

from __future__ import annotations

import logging
import re
from datetime import date

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contacts import skip_reason, usable_contact
from activities.context import ActivityContext, PracticeFile, load_practice_file, today_in_rome
from activities.debtor_link import debtor_link, link_qr_data_uri
from activities.deliveries import Attachment, Message, add_to_result, write_outbox
from activities.rendering import (
    BILINGUAL_KINDS,
    ITALIAN_TITLES,
    N_,
    Breakdown,
    Formats,
    InvoiceLine,
    LetterView,
    babel_locale,
    letter_language,
    payment_qr_data_uri,
    translate,
)
from db.ledger import LedgerError, claims_interest, practice_ledger, rate_table
from db.models import Document, User
from domain.activity_io import ActivityName, LetterInput, SentResult
from domain.addresses import address_lines as foreign_address_lines
from domain.court_calendar import FORMAL_DEMAND, compute_deadline
from domain.payment_qr import PaymentQrError
from domain.practice import DebtorKind
from domain.rates import RateError
from domain.statement import StatementError
from domain.strategy import LETTER_KINDS

log = logging.getLogger(__name__)

# the titles in Italian: the post delivery's subject, which only the agency's outbox shows
TITLES = ITALIAN_TITLES


POSTAL_RECIPIENT = "debtor:postal"
POST_SKIPPED = "post: address known to be wrong"


def _safe_filename_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "pratica"


def address_lines(file: PracticeFile) -> list[str]:
    p = file.practice
    lines = ["Spett.le", p.debtor_name] if p.debtor_kind == DebtorKind.BUSINESS else [p.debtor_name]
    if p.country and p.country.upper() != "IT":
        # abroad: the country's postal format (line order, region, the country's name last)
        return lines + foreign_address_lines(
            name="",
            street=p.street,
            city=p.city,
            postal_code=p.postal_code,
            region=p.region or "",
            country=p.country.upper(),
        )
    lines.append(p.street)
    lines.append(f"{p.postal_code} {p.city} ({p.province})")
    return lines


def _payment_qr(file: PracticeFile, balance_cents: int) -> str | None:
    """The payment QR code for the balance; the letter goes without it (and says how to pay in
    words, as always) when the transfer cannot be encoded, e.g. a balance of zero."""
    try:
        return payment_qr_data_uri(
            beneficiary=file.creditor.name,
            iban=file.creditor.iban,
            amount_cents=balance_cents,
            remittance=file.practice.reference,
        )
    except PaymentQrError as exc:
        log.info("practice %s: letter without payment QR code (%s)", file.practice.id, exc)
        return None


class LetterActivities(ActivityContext):
    async def _lawyer(self, lawyer_id: str | None) -> User | None:
        if not lawyer_id:
            return None
        async with self.db.session() as session:
            user = await session.get(User, lawyer_id)
        if user is None or user.role != "lawyer" or not user.active:
            return None
        return user

    def _view(self, file: PracticeFile, input: LetterInput, lawyer: User | None) -> LetterView:
        practice, creditor, settings = file.practice, file.creditor, self.settings
        pay_by = input.pay_by
        if input.kind == "formal_demand" and pay_by is None:
            # the workflow always passes its term; art. 1454 c.c.'s 15 days, on the court
            # calendar, for a caller that did not
            pay_by = compute_deadline(FORMAL_DEMAND, today_in_rome()).last_day
        language = letter_language(practice.language)
        if input.kind == "formal_demand" and lawyer is not None:
            sender_name = lawyer.name
            office = translate(language, N_("Studio legale"))
            sender_subtitle = f"{office} – {lawyer.email}" if lawyer.email else office
        else:
            sender_name = settings.agency_name
            phone = translate(language, "tel.")
            sender_subtitle = f"{phone} {settings.agency_phone} – {settings.agency_email}"
        return LetterView(
            kind=input.kind,
            title=translate(language, TITLES[input.kind]),
            letter_date=today_in_rome(),
            reference=practice.reference,
            sender_name=sender_name,
            sender_subtitle=sender_subtitle,
            creditor_name=creditor.name,
            creditor_iban=creditor.iban,
            debtor_name=practice.debtor_name,
            debtor_business=practice.debtor_kind == DebtorKind.BUSINESS,
            address_lines=address_lines(file),
            invoices=[
                InvoiceLine(i.number, i.issue_date, i.due_date, i.amount_cents)
                for i in practice.invoices
            ],
            balance_cents=input.balance_cents,
            agency_name=settings.agency_name,
            agency_email=settings.agency_email,
            agency_phone=settings.agency_phone,
            pay_by=pay_by,
            lawyer_name=lawyer.name if lawyer is not None else None,
            payment_qr=_payment_qr(file, input.balance_cents),
            language=language,
            locale=babel_locale(language, practice.country),
        )

    async def _breakdown(
        self, file: PracticeFile, at: date, skipped: list[str]
    ) -> Breakdown | None:
        """Principal, interest and costs owed on the letter's date, when the practice claims
        interest. The letter goes without it (the amount due is the workflow's, as always) when
        the statement cannot be made, e.g. no rate is known yet for a recent day."""
        if not claims_interest(file.practice):
            return None
        try:
            async with self.db.session() as session:
                ledger = await practice_ledger(session, file.practice)
                rates = await rate_table(session)
            totals = ledger.account(at, rates).statement.totals
        except (RateError, StatementError, LedgerError) as exc:
            log.warning("practice %s: letter without the statement's breakdown", file.practice.id)
            skipped.append(f"breakdown: statement not available ({exc})")
            return None
        return Breakdown(
            at=at,
            principal_cents=totals.principal_outstanding_cents,
            interest_cents=totals.interest_outstanding_cents,
            costs_cents=totals.costs_outstanding_cents,
            total_cents=totals.total_outstanding_cents,
        )

    async def _document(
        self, file: PracticeFile, input: LetterInput, skipped: list[str], link: str
    ) -> Document:
        key = f"{input.idempotency_key}:pdf"
        async with self.db.session() as session:
            existing = (
                await session.execute(select(Document).where(Document.idempotency_key == key))
            ).scalar_one_or_none()
        if existing is not None:
            return existing

        lawyer = None
        if input.kind == "formal_demand":
            lawyer = await self._lawyer(input.lawyer_id)
            if lawyer is None:
                skipped.append("lawyer: none assigned or not active, agency letterhead used")
        view = self._view(file, input, lawyer)
        view.debtor_link = link
        view.debtor_link_qr = link_qr_data_uri(link)
        view.breakdown = await self._breakdown(file, view.letter_date, skipped)
        texts = dict(input.text_overrides)
        if input.text_override:
            texts.setdefault("it", input.text_override)
        # the creditor's text in the letter's language, else the standard text of that language
        # (never the creditor's Italian text to a German reader)
        own = texts.get(view.language)
        if own:
            view.body_override = self._override(own, view, view.language, view.locale)
            if view.body_override is None:
                skipped.append("text_override: not usable, standard text used")
        if input.kind in BILINGUAL_KINDS and view.language != "it" and texts.get("it"):
            # the Italian original the translation follows: the creditor's Italian text
            view.original_override = self._override(texts["it"], view, "it", "it")
        content = await self.renderer.pdf(self.renderer.letter_html(view))

        document = Document(
            practice_id=file.practice.id,
            idempotency_key=key,
            kind=input.kind,
            filename=f"{input.kind}-{_safe_filename_part(file.practice.reference)}.pdf",
            media_type="application/pdf",
            content=content,
        )
        try:
            async with self.db.session() as session, session.begin():
                session.add(document)
        except IntegrityError:
            async with self.db.session() as session:
                winner = (
                    await session.execute(select(Document).where(Document.idempotency_key == key))
                ).scalar_one_or_none()
            if winner is None:
                raise
            return winner
        log.info("letter %s rendered for practice %s", input.kind, file.practice.id)
        return document

    def _override(self, text: str, view: LetterView, language: str, locale: str) -> Markup | None:
        formats = Formats(locale)
        return self.renderer.override(
            text,
            {
                "debtor_name": view.debtor_name,
                "reference": view.reference,
                "amount": formats.money(view.balance_cents),
                "creditor_name": view.creditor_name,
                # the day the workflow acts on, and the days to it from the letter's date:
                # a creditor's own text prints the same term as the standard one
                "pay_by": formats.long_date(view.pay_by),
                "term_days": str((view.pay_by - view.letter_date).days)
                if view.pay_by is not None
                else "",
                "letter_date": formats.long_date(view.letter_date),
                "language": language,
            },
        )

    @activity.defn(name=ActivityName.SEND_LETTER)
    async def send_letter(self, input: LetterInput) -> SentResult:
        if input.kind not in LETTER_KINDS:
            raise ApplicationError(
                f"unknown letter kind {input.kind!r}; known: {', '.join(LETTER_KINDS)}",
                type="InvalidInput",
                non_retryable=True,
            )
        async with self.db.session() as session:
            file = await load_practice_file(session, input.practice_id, with_invoices=True)

        result = SentResult()
        link = await debtor_link(self.db, self.settings, file.practice, input.idempotency_key)
        document = await self._document(file, input, result.skipped, link)
        result.document_id = document.id
        title = TITLES[input.kind]

        if input.post:
            post = await write_outbox(
                self.db,
                Message(
                    idempotency_key=f"{input.idempotency_key}:post",
                    channel="post",
                    recipient=POSTAL_RECIPIENT,
                    subject=f"{title} – rif. {file.practice.reference}",
                    practice_id=file.practice.id,
                    document_id=document.id,
                ),
            )
            result.deliveries.append(post.label)
        else:
            # the letter stays on file (and goes by e-mail / PEC when asked), not to a
            # stranger's door
            result.skipped.append(POST_SKIPPED)

        copies = (("email", input.email_copy, self.email), ("pec", input.pec_copy, self.pec))
        for channel, wanted, sender in copies:
            if not wanted:
                continue
            address, reason = usable_contact(file, channel)
            if address is None:
                result.skipped.append(f"{channel}: {skip_reason(channel, reason)}")
                continue
            outcome = await sender.send(
                self._copy_message(file, input, document, channel, address, link)
            )
            add_to_result(result, outcome)
        return result

    def _copy_message(
        self,
        file: PracticeFile,
        input: LetterInput,
        document: Document,
        channel: str,
        address: str,
        link: str,
    ) -> Message:
        reference = file.practice.reference
        language = letter_language(file.practice.language)
        body = self.renderer.message(
            "letter_copy",
            language=language,
            country=file.practice.country,
            debtor_link=link,
            debtor_name=file.practice.debtor_name,
            reference=reference,
            agency_phone=self.settings.agency_phone,
            sender_name=self.settings.agency_name,
        )
        return Message(
            idempotency_key=f"{input.idempotency_key}:{channel}",
            channel=channel,
            recipient=address,
            subject=self.renderer.message(
                "email_subject",
                language=language,
                agency_name=self.settings.agency_name,
                reference=reference,
            ),
            body=body,
            practice_id=file.practice.id,
            document_id=document.id,
            attachments=[Attachment(document.filename, document.content, document.media_type)],
        )
