"""Jinja2 rendering of letters (HTML, then PDF with WeasyPrint), of e-mail / SMS texts and of
notifications to the agency's side.

Letters and messages are in Italian. The agency's templates are trusted files; a creditor's
letter text is not, so it is rendered in a sandbox, escaped, and placed by the template between
the parts nobody may remove (amounts, invoices, payment instructions, contacts).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from temporalio.exceptions import ApplicationError

from domain.money import format_euros
from domain.payment_qr import epc_payload

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# Garante privacy, 30 November 2005: nothing a debtor or a third party sees may say "recupero
# crediti". The product keeps the phrase (and its inflections) out of everything it sends.
_FORBIDDEN = re.compile(r"recuper\w*\W+(?:\w{1,5}\W+)?credit\w*", re.IGNORECASE)

_MONTHS = (
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
)


class ForbiddenWording(ApplicationError):
    """Not retryable: the wording comes from a name in the settings, the creditor's registry or a
    template, and only a person can change those."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} contains wording that reveals debt collection; check the agency and "
            "creditor names and the templates",
            type="ForbiddenWording",
            non_retryable=True,
        )


def has_forbidden_wording(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def ensure_discreet(text: str, what: str) -> str:
    """Raises when `what` (a letter, a subject...) contains the forbidden wording."""
    if has_forbidden_wording(text):
        raise ForbiddenWording(what)
    return text


def italian_date(value: date | None) -> str:
    """date(2026, 11, 24) -> '24 novembre 2026'."""
    if value is None:
        return ""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def short_date(value: date | None) -> str:
    """date(2026, 11, 4) -> '04/11/2026'."""
    return value.strftime("%d/%m/%Y") if value is not None else ""


@dataclass
class InvoiceLine:
    number: str
    issue_date: date
    due_date: date
    amount_cents: int


@dataclass
class Breakdown:
    """What the debtor owes on the letter's date, from the statement of account: printed when
    the practice claims interest."""

    at: date
    principal_cents: int
    interest_cents: int
    costs_cents: int
    total_cents: int


@dataclass
class LetterView:
    """Everything a letter prints. Built from the database by activities.letters."""

    kind: str
    title: str
    letter_date: date
    reference: str
    sender_name: str  # the letterhead: the agency, or the lawyer for the formal demand
    sender_subtitle: str
    creditor_name: str
    creditor_iban: str
    debtor_name: str
    debtor_business: bool
    address_lines: list[str]
    invoices: list[InvoiceLine]
    balance_cents: int
    agency_name: str
    agency_email: str
    agency_phone: str
    pay_by: date | None = None
    lawyer_name: str | None = None
    body_override: Markup | None = None
    notes: list[str] = field(default_factory=list)
    breakdown: Breakdown | None = None
    # the EPC payment QR code as a PNG data URI; None when the transfer cannot be encoded
    payment_qr: str | None = None
    # the debtor's own page (api/debtor): its short address and a QR code of it
    debtor_link: str | None = None
    debtor_link_qr: str | None = None

    @property
    def invoices_total_cents(self) -> int:
        return sum(i.amount_cents for i in self.invoices)


def payment_qr_data_uri(*, beneficiary: str, iban: str, amount_cents: int, remittance: str) -> str:
    """The EPC QR code of a SEPA credit transfer (domain.payment_qr) as a PNG data URI, for an
    <img> in a letter. A raster image rather than SVG: WeasyPrint embeds it as it is, sharp at
    any size since each module is a block of pixels. Raises PaymentQrError (a ValueError) when
    the transfer cannot be encoded."""
    payload = epc_payload(
        beneficiary=beneficiary, iban=iban, amount_cents=amount_cents, remittance=remittance
    )
    # EPC069-12: error correction level M, no ECI, UTF-8 as the payload's third line declares
    code = segno.make(payload, error="m", micro=False, boost_error=False, encoding="utf-8")
    uri: str = code.png_data_uri(scale=8, border=4)
    return uri


class Renderer:
    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self.templates_dir = templates_dir
        self.env = Environment(
            loader=FileSystemLoader(templates_dir),
            autoescape=select_autoescape(enabled_extensions=("html.j2",)),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["euros"] = format_euros
        self.env.filters["italian_date"] = italian_date
        self.env.filters["short_date"] = short_date
        self.sandbox = SandboxedEnvironment(autoescape=False)

    def letter_html(self, view: LetterView) -> str:
        html = self.env.get_template(f"letters/{view.kind}.html.j2").render(letter=view)
        # checked on the text without tags, so markup between the words cannot hide them
        ensure_discreet(re.sub(r"<[^>]+>", " ", html), f"letter {view.kind}")
        return html

    def message(self, name: str, *, discreet: bool = True, **context: Any) -> str:
        """A text template under templates/messages (e-mail subject or body, SMS). discreet=False
        only for messages to the agency's side, which the debtor and third parties never see."""
        text = self.env.get_template(f"messages/{name}.txt.j2").render(**context).strip()
        return ensure_discreet(text, f"message {name}") if discreet else text

    def notification(self, name: str, **context: Any) -> tuple[str, str]:
        """The subject and body of a message to the agency's side, from
        templates/notifications/<name>.subject.txt.j2 and <name>.body.txt.j2. Not checked for
        discretion: the creditor, its lawyer and the field agents know what the practice is."""
        subject = self.env.get_template(f"notifications/{name}.subject.txt.j2").render(**context)
        body = self.env.get_template(f"notifications/{name}.body.txt.j2").render(**context)
        # one line, whatever a name from the database holds: a subject is a mail header
        return " ".join(subject.split()), body.strip()

    def override(self, text: str, variables: dict[str, str]) -> Markup | None:
        """A creditor's body paragraph: sandboxed, escaped (so it cannot hide or restyle what
        the template prints around it), blank lines become paragraphs. None when it cannot be
        used, and the letter falls back to the template's own text."""
        try:
            rendered = self.sandbox.from_string(text).render(**variables)
        except (SecurityError, TemplateError):
            return None
        if has_forbidden_wording(rendered) or not rendered.strip():
            return None
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", rendered) if p.strip()]
        return Markup("\n").join(
            Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in p.splitlines()))
            for p in paragraphs
        )

    async def pdf(self, html: str) -> bytes:
        # WeasyPrint is CPU-bound and synchronous: keep it off the event loop that also runs
        # the other activities and the worker's heartbeats.
        return await asyncio.to_thread(self._pdf, html)

    def _pdf(self, html: str) -> bytes:
        # imported lazily: loading Pango costs the worker's start-up
        from weasyprint import HTML

        document: bytes = HTML(string=html, base_url=str(self.templates_dir)).write_pdf()
        return document
