"""Debtors abroad (issue 16): every letter, e-mail and SMS in the debtor's language (Italian,
English, German, French, Spanish), amounts and dates as the locale writes them, the formal
demand in Italian with its translation, and the creditor's own texts per language."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from activities import PracticeActivities
from activities.rendering import Formats, Renderer, babel_locale, letter_language
from db.models import Delivery, Document
from db.session import Database
from domain.activity_io import LetterInput, ReminderInput
from domain.strategy import LETTER_KINDS, Strategy, StrategyError, validate_strategy
from tests.factories import create_creditor, create_practice, invoice, make_settings
from tests.test_letters import FORBIDDEN

NNBSP = "\u202f"  # CLDR's French group separator: the narrow no-break space
# the GSM 03.38 basic character set: an SMS outside it is sent as UCS-2, 70 characters a segment
GSM_7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# the debtor's country and language, the balance as the locale writes it, the pay-by date
# (10 December 2026) and words of each letter's title
DEBTORS: dict[str, dict[str, Any]] = {
    "it": {
        "country": "IT",
        "amount": "€ 1.234,56",
        "day": "10 dicembre 2026",
        "titles": {
            "reminder_letter": "Sollecito di pagamento",
            "second_letter": "Secondo sollecito di pagamento",
            "legal_notice": "Preavviso di azione giudiziale",
            "formal_demand": "Diffida ad adempiere e costituzione in mora",
            "debt_advice_notice": "Informativa sui servizi di consulenza sul debito",
        },
    },
    "en": {
        "country": "GB",
        "amount": "€1,234.56",
        "day": "10 December 2026",
        "titles": {
            "reminder_letter": "Payment reminder",
            "second_letter": "Second payment reminder",
            "legal_notice": "Notice of intended legal action",
            "formal_demand": "Formal demand for payment and notice of default",
            "debt_advice_notice": "Information on debt advice services",
        },
    },
    "de": {
        "country": "DE",
        "amount": "1.234,56 €",
        "day": "10. Dezember 2026",
        "titles": {
            "reminder_letter": "Zahlungserinnerung",
            "second_letter": "Zweite Zahlungserinnerung",
            "legal_notice": "Ankündigung gerichtlicher Schritte",
            "formal_demand": "Zahlungsaufforderung mit Fristsetzung und Inverzugsetzung",
            "debt_advice_notice": "Hinweis auf Schuldnerberatungsstellen",
        },
    },
    "fr": {
        "country": "FR",
        "amount": f"1{NNBSP}234,56 €",
        "day": "10 décembre 2026",
        "titles": {
            "reminder_letter": "Rappel de paiement",
            "second_letter": "Deuxième rappel de paiement",
            "legal_notice": "Préavis d'action en justice",
            "formal_demand": "Mise en demeure de payer",
            "debt_advice_notice": "Information sur les services de conseil en matière de dettes",
        },
    },
    "es": {
        "country": "ES",
        "amount": "1.234,56 €",
        "day": "10 de diciembre de 2026",
        "titles": {
            "reminder_letter": "Recordatorio de pago",
            "second_letter": "Segundo recordatorio de pago",
            "legal_notice": "Aviso previo de acciones judiciales",
            "formal_demand": "Requerimiento de pago y constitución en mora",
            "debt_advice_notice": "Información sobre los servicios de asesoramiento en materia "
            "de deudas",
        },
    },
}
PAY_BY = date(2026, 12, 10)
BALANCE = 123_456


async def letter_text(db: Database, document_id: str | None) -> str:
    """The PDF's text on one line, its no-break spaces as spaces but the narrow no-break space
    kept (tests.test_letters.pdf_text folds every kind of space)."""
    assert document_id is not None
    async with db.session() as session:
        document = await session.get(Document, document_id)
    assert document is not None and document.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(document.content))
    raw = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"[ \t\r\n\xa0]+", " ", raw)


@pytest.fixture
def acts(database: Database) -> PracticeActivities:
    return PracticeActivities(database, make_settings())


async def debtor_in(database: Database, language: str, /, **overrides: Any) -> Any:
    creditor = await create_creditor(database)
    where = {
        "IT": {},
        "GB": {"street": "10 Downing Street", "city": "London", "postal_code": "SW1A 2AA"},
        "DE": {"street": "Hauptstraße 5", "city": "Berlin", "postal_code": "10115"},
        "FR": {"street": "12 rue de Rivoli", "city": "Paris", "postal_code": "75001"},
        "ES": {"street": "Calle Mayor 3", "city": "Madrid", "postal_code": "28013"},
    }
    country = DEBTORS[language]["country"]
    values: dict[str, Any] = {"country": country, "language": language, **where[country]}
    if country != "IT":
        values["province"] = ""
    values.update(overrides)
    return await create_practice(
        database,
        creditor,
        invoices=[invoice("2026/0117", date(2026, 3, 2), date(2026, 4, 1), BALANCE)],
        **values,
    )


def test_the_locale_follows_the_language_and_the_country() -> None:
    assert letter_language("de") == "de" and letter_language("pt") == "it"
    assert letter_language(None) == "it"
    assert babel_locale("de", "DE") == "de_DE" and babel_locale("de", "AT") == "de_AT"
    assert babel_locale("en", "GB") == "en_GB" and babel_locale("en", "ZZ") == "en"
    # the amounts the brief names, Babel's (CLDR) per locale
    assert Formats("de").money(BALANCE) == "1.234,56\xa0€"
    assert Formats("fr").money(BALANCE) == f"1{NNBSP}234,56\xa0€"
    assert Formats("en").money(BALANCE) == "€1,234.56"
    assert Formats("de_AT").money(BALANCE) == "€\xa01.234,56"
    # Italian keeps the letters' house style
    assert Formats("it_IT").money(BALANCE) == "€ 1.234,56"
    assert Formats("de").short_date(date(2026, 11, 4)) == "04.11.2026"
    assert Formats("it").short_date(date(2026, 11, 4)) == "04/11/2026"
    assert Formats("es").long_date(date(2026, 11, 4)) == "4 de noviembre de 2026"


@pytest.mark.parametrize("kind", LETTER_KINDS)
@pytest.mark.parametrize("language", list(DEBTORS))
async def test_every_letter_in_every_language(
    database: Database, acts: PracticeActivities, kind: str, language: str
) -> None:
    expected = DEBTORS[language]
    practice = await debtor_in(database, language)
    result = await acts.send_letter(
        LetterInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:{kind}:lang",
            kind=kind,
            balance_cents=BALANCE,
            pay_by=PAY_BY,
        )
    )
    text = await letter_text(database, result.document_id)
    assert expected["amount"] in text, text
    assert expected["titles"][kind] in text
    if kind != "debt_advice_notice":  # it states no term
        assert expected["day"] in text
    assert "2026/0117" in text and practice.reference in text
    assert not FORBIDDEN.search(text)
    others = [DEBTORS[o]["titles"][kind] for o in DEBTORS if o not in (language, "it")]
    assert not any(title in text for title in others)
    if language != "it" and kind != "formal_demand":
        # all in the debtor's language: no Italian sentence left
        assert "Come pagare" not in text and "Distinti saluti" not in text
        assert DEBTORS["it"]["titles"][kind] not in text


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
async def test_the_formal_demand_abroad_is_the_italian_text_then_its_translation(
    database: Database, acts: PracticeActivities, language: str
) -> None:
    practice = await debtor_in(database, language)
    result = await acts.send_letter(
        LetterInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:formal_demand:bilingual",
            kind="formal_demand",
            balance_cents=BALANCE,
            pay_by=PAY_BY,
        )
    )
    text = await letter_text(database, result.document_id)
    italian = "ai sensi e per gli effetti dell'art. 1454 c.c., la diffidiamo formalmente"
    prevails = {
        "en": "the Italian text prevails",
        "de": "ist der italienische Text maßgebend",
        "fr": "le texte italien fait foi",
        "es": "prevalece el texto italiano",
    }[language]
    translated = {
        "en": "Article 1454 of the Italian Civil Code",
        "de": "Art. 1454 des italienischen Zivilgesetzbuches",
        "fr": "l'article 1454 du Code civil italien",
        "es": "artículo 1454 del Código Civil italiano",
    }[language]
    # the Italian original, its amount and term in Italian, the note, then the translation
    assert "Testo originale in lingua italiana" in text
    original_at = text.index(italian)
    assert "€ 1.234,56 entro il 10 dicembre 2026" in text
    assert "costituzione in mora e interrompe la prescrizione" in text
    assert original_at < text.index(prevails) < text.index(translated)
    assert DEBTORS[language]["amount"] in text[text.index(translated) :]
    assert DEBTORS[language]["day"] in text[text.index(translated) :]


async def test_an_italian_debtor_gets_the_formal_demand_in_italian_only(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await debtor_in(database, "it")
    result = await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:fd", "formal_demand", BALANCE, pay_by=PAY_BY)
    )
    text = await letter_text(database, result.document_id)
    assert "Testo originale" not in text and "Traduzione" not in text
    assert text.count("ai sensi e per gli effetti dell'art. 1454 c.c.") == 1


async def test_a_language_without_letters_is_written_to_in_italian(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await debtor_in(database, "it", language="pt")
    result = await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:rl", "reminder_letter", BALANCE, pay_by=PAY_BY)
    )
    text = await letter_text(database, result.document_id)
    assert "Sollecito di pagamento" in text and "€ 1.234,56" in text


# -- the creditor's own texts per language -----------------------------------------------------


async def test_the_creditors_text_in_the_debtors_language_else_the_standard_one(
    database: Database, acts: PracticeActivities
) -> None:
    german = await debtor_in(database, "de")
    texts = {
        "it": "Testo del creditore: saldo {{ amount }} entro il {{ pay_by }}.",
        "de": "Eigener Text des Gläubigers: Saldo {{ amount }} bis zum {{ pay_by }}.",
    }
    result = await acts.send_letter(
        LetterInput(
            german.id,
            f"{german.id}:rl:own",
            "reminder_letter",
            BALANCE,
            pay_by=PAY_BY,
            text_override=texts["it"],
            text_overrides=texts,
        )
    )
    text = await letter_text(database, result.document_id)
    assert "Eigener Text des Gläubigers: Saldo 1.234,56 € bis zum 10. Dezember 2026." in text
    assert "Testo del creditore" not in text
    assert result.skipped == []

    # no French text: a French debtor gets the standard French letter, not the Italian text
    french = await debtor_in(database, "fr")
    result = await acts.send_letter(
        LetterInput(
            french.id,
            f"{french.id}:rl:own",
            "reminder_letter",
            BALANCE,
            pay_by=PAY_BY,
            text_override=texts["it"],
            text_overrides=texts,
        )
    )
    text = await letter_text(database, result.document_id)
    assert "Testo del creditore" not in text and "Eigener Text" not in text
    assert "Il peut s'agir d'un simple oubli" in text

    # an Italian debtor: the Italian text, as before issue 16
    italian = await debtor_in(database, "it")
    result = await acts.send_letter(
        LetterInput(
            italian.id,
            f"{italian.id}:rl:own",
            "reminder_letter",
            BALANCE,
            pay_by=PAY_BY,
            text_override=texts["it"],
        )
    )
    text = await letter_text(database, result.document_id)
    assert "Testo del creditore: saldo € 1.234,56 entro il 10 dicembre 2026." in text


async def test_the_formal_demand_abroad_prints_the_creditors_italian_and_translated_texts(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await debtor_in(database, "es")
    texts = {
        "it": "Diffida del creditore: {{ amount }} entro il {{ pay_by }}.",
        "es": "Requerimiento del acreedor: {{ amount }} a más tardar el {{ pay_by }}.",
    }
    result = await acts.send_letter(
        LetterInput(
            practice.id,
            f"{practice.id}:fd:own",
            "formal_demand",
            BALANCE,
            pay_by=PAY_BY,
            text_overrides=texts,
        )
    )
    text = await letter_text(database, result.document_id)
    italian = "Diffida del creditore: € 1.234,56 entro il 10 dicembre 2026."
    spanish = "Requerimiento del acreedor: 1.234,56 € a más tardar el 10 de diciembre de 2026."
    assert italian in text and spanish in text
    assert text.index(italian) < text.index("prevalece el texto italiano") < text.index(spanish)


def test_a_strategy_names_the_language_of_a_letter_text() -> None:
    checked = validate_strategy(
        Strategy(letter_texts={"formal_demand": "x", "formal_demand:de": "y"})
    )
    assert checked.letter_texts["formal_demand:de"] == "y"
    with pytest.raises(StrategyError) as refused:
        validate_strategy(Strategy(letter_texts={"formal_demand:pt": "x"}))
    assert refused.value.field_path == "letter_texts.formal_demand:pt"
    with pytest.raises(StrategyError):
        validate_strategy(Strategy(letter_texts={"summons:de": "x"}))


# -- e-mails and SMS ----------------------------------------------------------------------------


async def deliveries(database: Database, practice_id: str) -> dict[str, Delivery]:
    async with database.session() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.practice_id == practice_id))
        return {row.channel: row for row in rows}


@pytest.mark.parametrize(
    ("language", "greeting", "sms_start", "subject"),
    [
        ("en", "Dear Mario Rossi,", "Dear customer, about a matter", "Message from"),
        ("de", "Guten Tag Mario Rossi,", "Guten Tag, wir haben eine Mitteilung", "Mitteilung von"),
        ("fr", "Bonjour Mario Rossi,", "Bonjour, pour une communication", "Communication de"),
        ("es", "Estimado/a Mario Rossi:", "Estimado cliente, para una", "Comunicación de"),
    ],
)
async def test_reminders_by_email_and_sms_in_the_debtors_language(
    database: Database,
    acts: PracticeActivities,
    language: str,
    greeting: str,
    sms_start: str,
    subject: str,
) -> None:
    practice = await debtor_in(database, language)
    await acts.send_pre_due_reminder(
        ReminderInput(
            practice_id=practice.id,
            idempotency_key=f"{practice.id}:pre_due:before",
            moment="before",
            due_date=date(2026, 4, 1),
            amount_cents=BALANCE,
        )
    )
    rows = await deliveries(database, practice.id)
    email, sms = rows["email"], rows["sms"]
    assert email.body.startswith(greeting)
    assert DEBTORS[language]["amount"].replace(" ", "\xa0") in email.body
    assert Formats(babel_locale(language, practice.country)).long_date(date(2026, 4, 1)) in (
        email.body
    )
    assert "Gentile" not in email.body and "Cordiali saluti" not in email.body
    assert email.subject.startswith(f"{subject} {acts.settings.agency_name}")
    assert sms.body.startswith(sms_start)
    assert "€" not in sms.body and "Rossi" not in sms.body
    assert len(sms.body) <= 306
    assert set(sms.body) <= GSM_7, set(sms.body) - GSM_7
    for text in (email.subject, email.body, sms.body):
        assert not FORBIDDEN.search(text)


async def test_the_letters_email_copy_is_in_the_debtors_language(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await debtor_in(database, "fr")
    await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:ln", "legal_notice", BALANCE, email_copy=True)
    )
    email = (await deliveries(database, practice.id))["email"]
    assert email.subject.startswith("Communication de") and "réf." in email.subject
    assert "Veuillez trouver ci-joint, en copie, le courrier" in email.body


def test_the_one_time_code_is_in_the_pages_language() -> None:
    renderer = Renderer()
    text = renderer.message(
        "debtor_code", language="de", code="123456", minutes=10, agency_name="Studio"
    )
    assert text == (
        "123456 ist Ihr Zugangscode, gültig 10 Minuten. Geben Sie ihn an niemanden weiter. - Studio"
    )
    assert renderer.message("debtor_code_subject", language="es", agency_name="Studio") == (
        "Studio: código de acceso"
    )


# -- the catalogues ----------------------------------------------------------------------------


def test_every_text_of_the_letters_is_translated_into_every_language() -> None:
    """What the templates and activities say (babel-letters.cfg: the statement of account's
    too) is in each catalogue, each translated, with the same placeholders: `make messages` then
    translate."""
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[1]
    method_map = [
        ("activities/rendering.py", "python"),
        ("activities/letters.py", "python"),
        ("api/routers/statement.py", "python"),
        ("templates/letters/**.j2", "jinja2"),
        ("templates/messages/**.j2", "jinja2"),
        ("templates/statement/**.j2", "jinja2"),
    ]
    options = {
        "templates/letters/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"},
        "templates/messages/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"},
        "templates/statement/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"},
    }
    texts = {
        str(message)
        for _f, _l, message, _c, _x in extract_from_dir(
            str(root), method_map, options, keywords={"N_": None, "gettext": None, "_": None}
        )
    }
    assert "Diffida ad adempiere e costituzione in mora" in texts and "Studio legale" in texts
    assert "Estratto conto al %(at)s" in texts and "spese stragiudiziali" in texts
    for language in ("en", "de", "fr", "es"):
        with (root / "locale" / language / "LC_MESSAGES" / "letters.po").open("rb") as handle:
            catalogue = {str(m.id): m for m in read_po(handle) if m.id}
        missing = [t for t in texts if t not in catalogue or not catalogue[t].string]
        assert missing == [], f"translate these in locale/{language}/LC_MESSAGES/letters.po"
        assert not any(m.fuzzy for m in catalogue.values())
        for text in texts:
            placeholders = sorted(re.findall(r"%\((\w+)\)s", text))
            translated = str(catalogue[text].string)
            if text not in ("Gentile %(name)s,", "Spettabile %(name)s,"):
                assert sorted(re.findall(r"%\((\w+)\)s", translated)) == placeholders, text
