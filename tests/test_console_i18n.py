"""The console's languages: the catalogues are complete and current, the locale is chosen as
documented, money and dates are the locale's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from api.console import i18n
from api.console.timeline import timeline_line, waiting_text

ROOT = Path(__file__).resolve().parents[1]


def extracted() -> set[str]:
    """What `make messages` would extract (babel.cfg's sources and keywords)."""
    found: set[str] = set()
    method_map = [
        ("api/console/**.py", "python"),
        ("templates/console/**.html", "jinja2"),
    ]
    options = {"templates/console/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "translate": (2,)}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(code: str) -> dict[str, str]:
    """{msgid: msgstr}; a fuzzy entry (a guess of `pybabel update`, which gettext ignores)
    counts as untranslated."""
    with (i18n.LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        messages = [m for m in read_po(handle) if m.id]
    return {
        str(m.id[0] if isinstance(m.id, tuple) else m.id): ""
        if m.fuzzy
        else str(m.string if isinstance(m.string, str) else all(m.string) and m.string[0])
        for m in messages
    }


def test_every_console_text_is_in_both_catalogues_and_translated_into_italian() -> None:
    texts = extracted()
    assert "Log in" in texts and "Administrator" in texts
    italian, english = catalogue("it"), catalogue("en")
    assert texts - set(italian) == set(), "run `make messages`"
    assert texts - set(english) == set(), "run `make messages`"
    assert [t for t in texts if not italian[t]] == [], "translate these in locale/it"
    assert i18n.translate("it", "Log in") == "Accedi"
    plural = i18n.translations("it").ngettext(
        "%(num)d call that may be made now", "%(num)d calls that may be made now", 2
    )
    assert plural == "%(num)d chiamate che si possono fare ora"
    assert i18n.translate("en", "Log in") == "Log in"


def test_the_locale_is_the_users_then_the_browsers_then_italian() -> None:
    assert i18n.negotiate("en", "it-IT") == "en"
    assert i18n.negotiate(None, "en-GB,en;q=0.9,it;q=0.8") == "en"
    assert i18n.negotiate(None, "it;q=0.5, en;q=0.9") == "en"
    assert i18n.negotiate(None, "de-DE, fr;q=0.8") == "it"
    assert i18n.negotiate(None, "en;q=0") == "it"
    assert i18n.negotiate(None, None) == "it"
    assert i18n.negotiate("xx", "garbage;q=x") == "it"


def test_money_and_dates_in_the_locale() -> None:
    italian, english = i18n.language("it"), i18n.language("en")
    assert italian.money(125040).replace("\xa0", " ") == "1.250,40 €"
    assert english.money(125040) == "€1,250.40"
    assert italian.date(date(2026, 12, 6)) == "6 dic 2026"
    # times are shown in Rome's time: 23:30 UTC on 31 December is already 1 January there
    assert italian.datetime(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)).startswith("01/01/27")


def test_amounts_as_the_api_gives_them_including_nothing_left() -> None:
    """A paid practice's balance is "0.00": the pages show it (it once went through the
    hand-over's parser, which refuses zero, and the lawyer's court page answered 500)."""
    assert i18n.language("it").euros("1250.40") == "1.250,40\xa0€"
    assert i18n.language("it").euros("0.00") == "0,00\xa0€"
    assert i18n.language("en").euros("0.00") == "€0.00"


def test_contact_rule_lines_and_waits_in_italian() -> None:
    deferred = timeline_line(
        "it",
        "contact_deferred",
        "Call deferred to 2026-12-07T08:30:00+01:00: the debtor already had a conversation "
        "on that day",
        {"channel": "call"},
    )
    assert deferred == (
        "Chiamata: contatto rinviato al 07/12/26, 08:30: il debitore ha già avuto una "
        "conversazione in quel giorno"
    )
    refused = timeline_line(
        "it", "contact_refused", "No sms: the debtor opted out of sms", {"channel": "sms"}
    )
    assert refused == "Niente SMS: il debitore ha rifiutato il canale SMS"
    letter = timeline_line(
        "it",
        "letter_sent",
        "Reminder letter sent for EUR 1,250.40 (email:sent, post:outbox)",
        {"letter": "reminder_letter", "balance_cents": 125040},
    )
    assert letter.endswith("1.250,40\xa0€ (e-mail: inviato, posta: nella coda da inviare)")
    checked = timeline_line(
        "it",
        "contacts_checked",
        "Debtor analysis: no e-mail address; address incomplete: missing street, city; 2 invoices",
        {},
    )
    assert checked == (
        "Analisi del debitore: nessun indirizzo e-mail; indirizzo incompleto: manca via, "
        "città; 2 fatture"
    )
    # a finding this version does not know is shown as recorded, not dropped
    assert "a new finding" in timeline_line(
        "it", "contacts_checked", "Debtor analysis: a new finding", {}
    )
    assert waiting_text("it", "payment promised by 2026-12-20") == (
        "il pagamento promesso entro il 20 dic 2026"
    )
    assert waiting_text("it", "the contact rules to allow a call") == (
        "che le regole di contatto consentano: chiamata"
    )
    assert waiting_text("en", "the contact rules to allow a call") == (
        "the contact rules to allow a call"
    )
    assert waiting_text("it", "something new") == "something new"
