"""Jinja2 rendering of letters (HTML, then PDF with WeasyPrint), of e-mail / SMS texts and of
notifications to the agency's side.

Letters and messages are written in the debtor's language (issue 16: Italian, English, German,
French, Spanish): the templates' texts are Italian, the source the translations are made from,
in `{% trans %}` blocks; locale/<lang>/LC_MESSAGES/letters.po translate them (`make messages`
extracts them with babel-letters.cfg). Amounts and dates are formatted by Babel for the debtor's
locale. A formal demand to a debtor who is not Italian prints the Italian legal text, which
prevails, followed by its translation, as agencies do.

The agency's templates are trusted files; a creditor's letter text is not, so it is rendered in
a sandbox, escaped, and placed by the template between the parts nobody may remove (amounts,
invoices, payment instructions, contacts).
"""

from __future__ import annotations

import asyncio
import functools
import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from gettext import NullTranslations
from pathlib import Path
from typing import Any

import segno
from babel import localedata
from babel.dates import format_date, get_date_format
from babel.numbers import format_currency, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from temporalio.exceptions import ApplicationError

from domain.catalogues import LOCALE_DIR, compiled, jinja_callables
from domain.money import format_euros
from domain.payment_qr import epc_payload
from domain.strategy import LETTER_LANGUAGES

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# the letters a debtor who is not Italian receives in Italian with a translation after it: the
# Italian text has the legal effect (art. 1454 c.c., the notice of default)
BILINGUAL_KINDS = frozenset({"formal_demand"})

# Garante privacy, 30 November 2005: nothing a debtor or a third party sees may say "recupero
# crediti". The product keeps the phrase (and its inflections) out of everything it sends.
# Letters abroad keep to it in their own languages too.
_FORBIDDEN = re.compile(
    r"recuper\w*\W+(?:\w{1,5}\W+)?credit\w*"
    r"|debt\W+collect\w*|inkasso\w*|recouvrement\W+(?:\w{1,5}\W+)?cr[ée]ance\w*"
    r"|cobro\W+(?:\w{1,5}\W+)?deuda\w*|recobro\w*",
    re.IGNORECASE,
)

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


def N_(message: str) -> str:
    """Marks a text for extraction into the letters' catalogue (babel-letters.cfg)."""
    return message


# the letters' titles, Italian as the templates (translated with the "letters" catalogue)
ITALIAN_TITLES = {
    "reminder_letter": N_("Sollecito di pagamento"),
    "second_letter": N_("Secondo sollecito di pagamento"),
    "legal_notice": N_("Preavviso di azione giudiziale"),
    "formal_demand": N_("Diffida ad adempiere e costituzione in mora"),
    # consumer credit: Directive (EU) 2023/2225 art. 36(3), before any court step
    "debt_advice_notice": N_("Informativa sui servizi di consulenza sul debito"),
}


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


def letter_language(language: str | None) -> str:
    """The language a debtor is written to: theirs when the letters exist in it, else Italian."""
    code = (language or "it").strip().lower()
    return code if code in LETTER_LANGUAGES else "it"


@functools.cache
def babel_locale(language: str, country: str | None = None) -> str:
    """The locale amounts and dates are formatted in: the language as spoken in the debtor's
    country when CLDR knows the pair (de_AT writes "€ 1.234,56", de_DE "1.234,56 €"), else the
    language alone."""
    code = letter_language(language)
    if country:
        candidate = f"{code}_{country.strip().upper()}"
        if localedata.exists(candidate):  # CLDR's own data, never a guessed fallback
            return candidate
    return code


@dataclass(frozen=True)
class Formats:
    """Amounts and dates for one locale. Italian keeps the house style the letters always had
    (domain.money.format_euros: "€ 1.234,56"; "24 novembre 2026"); the other languages are
    Babel's (CLDR): "1.234,56 €" de, "1 234,56 €" fr (narrow no-break space), "€1,234.56" en."""

    locale: str = "it"

    @property
    def italian(self) -> bool:
        return self.locale.split("_")[0] == "it"

    def money(self, cents: int) -> str:
        if self.italian:
            return format_euros(cents)
        return format_currency(Decimal(cents) / 100, "EUR", locale=self.locale)

    def long_date(self, value: date | None) -> str:
        if value is None:
            return ""
        if self.italian:
            return italian_date(value)
        return format_date(value, format="long", locale=self.locale)

    def percent(self, rate: str) -> str:
        """An annual rate as a decimal string ("11.15": the statement's) as a percentage: the
        house style "11,15%" in Italian, the locale's otherwise ("11,15 %" de, "11.15%" en),
        every decimal of the published rate kept."""
        if self.italian:
            return rate.replace(".", ",") + "%"
        return format_percent(Decimal(rate) / 100, locale=self.locale, decimal_quantization=False)

    def short_date(self, value: date | None) -> str:
        """The locale's numeric date with the year in full: 04/11/2026, 04.11.2026, 11/4/2026."""
        if value is None:
            return ""
        if self.italian:
            return short_date(value)
        pattern = re.sub(r"y+", "yyyy", get_date_format("short", locale=self.locale).pattern)
        return format_date(value, format=pattern, locale=self.locale)


@functools.cache
def letter_translations(language: str) -> NullTranslations:
    """The letters' catalogue (domain "letters") of a language, compiled in memory as the
    console's. Italian is the templates' own text: no catalogue."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "letters.po"
    if language == "it" or not po.exists():
        return NullTranslations()
    return compiled(language, "letters")


def translate(language: str, message: str) -> str:
    """A text marked in Python (the letters' titles) in a letter language."""
    return letter_translations(letter_language(language)).gettext(message)


def _callables(language: str) -> dict[str, Any]:
    """gettext and ngettext for a render (domain/catalogues.py)."""
    gettext, ngettext = jinja_callables(letter_translations(language))
    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


def _formats(context: Context) -> Formats:
    found = context.get("formats")
    return found if isinstance(found, Formats) else Formats()


@pass_context
def _euros_filter(context: Context, cents: int) -> str:
    return _formats(context).money(cents)


@pass_context
def _long_date_filter(context: Context, value: date | None) -> str:
    return _formats(context).long_date(value)


@pass_context
def _short_date_filter(context: Context, value: date | None) -> str:
    return _formats(context).short_date(value)


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
    # the language the letter is written in (letter_language) and the Babel locale of its
    # amounts and dates (babel_locale)
    language: str = "it"
    locale: str = "it"
    # a bilingual letter (BILINGUAL_KINDS) to a debtor who is not Italian: the creditor's
    # Italian text, when it has one, for the Italian original
    original_override: Markup | None = None
    # filled by Renderer.letter_html: the Italian original printed before the translation
    original: Markup | None = None
    original_title: str | None = None

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
            extensions=["jinja2.ext.i18n"],
        )
        # one msgid per paragraph whatever the template's line breaks
        self.env.policies["ext.i18n.trimmed"] = True
        # the Italian callables by default: notifications are Italian (the letters, messages
        # and the statement pass their language's)
        self.env.globals.update(_callables("it"))
        self.env.filters["euros"] = _euros_filter
        self.env.filters["long_date"] = _long_date_filter
        self.env.filters["italian_date"] = _long_date_filter  # the name older templates use
        self.env.filters["short_date"] = _short_date_filter
        self.sandbox = SandboxedEnvironment(autoescape=False)

    def language_context(self, language: str, locale: str | None = None) -> dict[str, Any]:
        """What a template needs to speak a letter language: the "letters" catalogue's gettext,
        `language` (for <html lang>) and the Formats of `locale` (default: the language's)."""
        code = letter_language(language)
        return {
            **_callables(code),
            "language": code,
            "formats": Formats(locale or code),
        }

    def letter_html(self, view: LetterView) -> str:
        template = self.env.get_template(f"letters/{view.kind}.html.j2")
        if view.kind in BILINGUAL_KINDS and view.language != "it":
            view = replace(view, **self._original(view))
        html = template.render(letter=view, **self.language_context(view.language, view.locale))
        # checked on the text without tags, so markup between the words cannot hide them
        ensure_discreet(re.sub(r"<[^>]+>", " ", html), f"letter {view.kind}")
        return html

    def _original(self, view: LetterView) -> dict[str, Any]:
        """The Italian text of a bilingual letter: its body (the creditor's Italian text, when it
        has one), its term and its legal statements, rendered from the letter's own blocks with
        the Italian catalogue and formats, then placed by letters/_original.html.j2."""
        italian = replace(
            view,
            language="it",
            locale="it",
            title=ITALIAN_TITLES.get(view.kind, view.title),
            body_override=view.original_override,
        )
        template = self.env.get_template(f"letters/{view.kind}.html.j2")
        context = template.new_context({"letter": italian, **self.language_context("it")})

        def block(name: str) -> Markup:
            render = template.blocks.get(name)
            return Markup("".join(render(context))) if render is not None else Markup("")

        body = italian.body_override or block("body")
        original = self.env.get_template("letters/_original.html.j2").render(
            letter=italian,
            body=body,
            term=block("term") if view.pay_by is not None else Markup(""),
            legal=block("legal"),
            **self.language_context("it"),
        )
        return {"original": Markup(original), "original_title": italian.title}

    def message(
        self,
        name: str,
        *,
        discreet: bool = True,
        language: str = "it",
        country: str | None = None,
        **context: Any,
    ) -> str:
        """A text template under templates/messages (e-mail subject or body, SMS), in the
        debtor's language. discreet=False only for messages to the agency's side, which the
        debtor and third parties never see."""
        values = {**context, **self.language_context(language, babel_locale(language, country))}
        text = self.env.get_template(f"messages/{name}.txt.j2").render(**values).strip()
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
