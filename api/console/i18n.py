"""Languages: Italian first, English second, from gettext catalogues in locale/.

The .po files are the source; they are compiled into memory when first needed (babel's mofile
writer) instead of committing .mo files: no build step, and no binary that can silently lag
behind its .po (`make messages` extracts and updates the .po files)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from babel.support import Translations

from domain.calendar import ROME  # one definition of the practice's zone
from domain.catalogues import LOCALE_DIR as LOCALE_DIR  # the catalogues' folder, for the tests
from domain.catalogues import compiled, jinja_callables

LOCALES = ("it", "en")
# the debtor's page speaks the letters' languages too (issue 16: debtors abroad); locale/de, fr
# and es translate its texts (api/debtor, templates/debtor), the console's stay it/en
DEBTOR_LOCALES = ("it", "en", "de", "fr", "es")
DEFAULT_LOCALE = "it"


@functools.cache
def translations(locale: str) -> Translations:
    return compiled(locale, "messages")


def negotiate(
    preference: str | None,
    accept_language: str | None,
    locales: tuple[str, ...] = LOCALES,
) -> str:
    """The user's preference, else the best of Accept-Language, else Italian."""
    if preference in locales:
        return preference
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().split("-")[0].lower()
        if language in locales and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


@dataclass(frozen=True)
class Language:
    """What a template needs of its locale: the translation callables (Jinja's newstyle
    semantics: placeholders filled after translating, escaped when autoescaping) and the
    formatters."""

    code: str
    gettext: Callable[..., str]
    ngettext: Callable[..., str]

    def money(self, cents: int) -> str:
        return format_currency(Decimal(cents) / 100, "EUR", locale=self.code)

    def euros(self, amount: str) -> str:
        """An amount as the API's views give it ("1250.40", "0.00"), in the locale."""
        return format_currency(Decimal(amount), "EUR", locale=self.code)

    def date(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.code)

    def datetime(self, value: datetime) -> str:
        return format_datetime(value.astimezone(ROME), format="short", locale=self.code)

    def timeline(self, kind: str, summary: str, data: Mapping[str, object]) -> str:
        """A timeline line in this language (api/console/timeline.py)."""
        from api.console.timeline import timeline_line  # it builds on this module

        return timeline_line(self.code, kind, summary, data)

    def waiting(self, waiting_for: str) -> str:
        """What a practice waits for, in this language (api/console/timeline.py)."""
        from api.console.timeline import waiting_text

        return waiting_text(self.code, waiting_for)


@functools.cache
def language(code: str) -> Language:
    gettext, ngettext = jinja_callables(translations(code))
    return Language(code=code, gettext=gettext, ngettext=ngettext)


def N_(message: str) -> str:
    """Marks a message for extraction (babel.cfg) where it is translated later."""
    return message


ROLE_NAMES = {
    "admin": N_("Administrator"),
    "creditor": N_("Creditor"),
    "operator": N_("Operator"),
    "field_agent": N_("Field agent"),
    "correspondent": N_("Foreign correspondent"),
    "lawyer": N_("Lawyer"),
}


# the fixed words of a hand-over's refusals for a debtor abroad (domain.identifiers,
# domain.addresses, api/schemas.py: FieldProblem templates), shown next to the form's fields
HANDOVER_ABROAD = (
    N_("not a valid %(number)s: %(reason)s"),
    N_("required for a consumer debtor in %(country)s (%(number)s)"),
    N_("required for a business debtor in %(country)s (%(number)s)"),
    N_("a consumer has no VAT number; hand it over as a business"),
    N_("not a valid phone number for %(country)s"),
    N_("required for an address in %(country)s"),
    N_("not valid for an address in %(country)s"),
    N_("not a country code (ISO 3166-1 alpha-2, e.g. DE, FR, GB)"),
    N_("an Italian province is for addresses in Italy; abroad give the region"),
    N_("a region is for addresses abroad; in Italy give the province"),
    N_("required: %(country)s has several time zones"),
    N_("not a time zone of %(country)s"),
    N_("not a language code (ISO 639-1, e.g. it, de, fr, en)"),
)


def translate(code: str, message: str) -> str:
    """A message of Python code (flash texts, error pages) in the given language."""
    return translations(code).gettext(message)


# the practice's states, phases, outcomes, debtor kinds and steps as people read them (the API's
# values are the keys); the portfolio, the practice page and the CSV export use them
PRACTICE_VALUES = {
    "active": N_("In progress"),
    "paused_promise": N_("Paused: promise to pay"),
    "paused_dispute": N_("Paused: dispute"),
    "paused_proposal": N_("Paused: proposal to approve"),
    "paused_plan": N_("Repayment plan running"),
    "paused_settlement": N_("Settlement waiting for payment"),
    "closed": N_("Closed"),
    "pre_due": N_("Before the due date"),
    "out_of_court": N_("Out of court"),
    "judicial": N_("Judicial"),
    "paid": N_("Paid in full"),
    "withdrawn": N_("Withdrawn"),
    "returned": N_("Returned to the creditor"),
    "dispute_upheld": N_("Dispute upheld"),
    "settled": N_("Settled"),
    "deceased": N_("Debtor deceased"),
    "insolvency": N_("Insolvency"),
    "unable_to_pay": N_("Unable to pay"),
    "consumer": N_("Consumer"),
    "business": N_("Business"),
    "pre_due_reminders": N_("Reminders before the due date"),
    "pre_due_reminder": N_("Reminder of the due date"),
    "contact_check": N_("Contact check"),
    "reminder_letter": N_("Reminder letter"),
    "phone_phase": N_("Phone calls"),
    "second_letter": N_("Second letter"),
    "skip_tracing": N_("Tracing the debtor"),
    "home_visit": N_("Home visit"),
    "legal_notice": N_("Legal notice"),
    "formal_demand": N_("Formal demand"),
    "legal_opinion": N_("Lawyer's opinion"),
    "authorization": N_("Your authorisation of legal action"),
}

# a print batch's postage (domain/postage.py): the zone of Poste Italiane's tariffs and the
# service the mail house posts each letter with
POSTAGE_NAMES = {
    "italy": N_("Italy"),
    "zone_1": N_("Zone 1: Europe and the Mediterranean basin"),
    "zone_2": N_("Zone 2: Africa, Asia, the Americas"),
    "zone_3": N_("Zone 3: Oceania"),
    "posta_ordinaria": N_("Ordinary mail"),
    "raccomandata_ar": N_("Raccomandata A/R"),
    "posta_internazionale": N_("International mail"),
    "raccomandata_internazionale": N_("Raccomandata internazionale"),
}

# The refusals people meet on the console's forms: the API's and the workflow's messages are
# English (they are the API's), the pages say them in the reader's language (render() looks
# a page's `refusal` and field `errors` up here; one not listed is shown as the API gave it)
REFUSALS = (
    N_("no call outcome is expected now"),
    N_("no visit outcome is expected now"),
    N_("no skip tracing result is expected now"),
    N_("no lawyer's opinion is expected now"),
    N_("no authorisation is expected now"),
    N_("no proposal waits for a decision"),
    N_("no dispute is open"),
    N_("no court steps are running"),
    N_("the court steps have not ended"),
    N_("the practice is closed"),
    N_("the practice is already under watch"),
    N_("a payment with this reference is recorded"),
    N_("the promised date is in the past"),
    N_("a promise needs an amount"),
    N_("a promise needs a date"),
    N_("amount must be positive"),
    N_("Field required"),
    N_("a foreign correspondent needs at least one country"),
    N_("only foreign correspondents cover countries"),
    N_("IT is not abroad: Italian debtors are visited by field agents"),
    N_("List should have at least 1 item after validation, not 0"),
    # assigning a home visit (api/services/visits.py)
    N_("no active user with this id"),
    N_("not a field agent or a foreign correspondent"),
    N_("this foreign correspondent does not cover the debtor's country"),
    N_("the home visit is no longer open: nothing was assigned"),
)


def refusal_text(code: str, message: str) -> str:
    """An API or workflow refusal in the reader's language, when the catalogue has it."""
    return translations(code).gettext(message) if message else message
