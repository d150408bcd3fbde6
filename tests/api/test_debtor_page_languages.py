"""The debtor's page in the debtor's language (issue 16): a debtor abroad reads it in their own
language (the practice's `language`) whatever the browser says, can switch to another, and the
one-time code and the statement's PDF come in the page's language."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from babel.dates import format_date
from sqlalchemy import select

from activities.rendering import italian_date
from db.models import Delivery, Practice
from domain.money import format_euros
from tests.api.helpers import Api, rome_today
from tests.api.test_debtor_page import csrf, enter, practice_with_link
from tests.api.test_statement import pdf_text


async def abroad(api: Api, language: str) -> tuple[dict[str, Any], str, str]:
    """A practice whose debtor is written to in `language` (the hand-over's, stored)."""
    body, token, tax_code = await practice_with_link(api)
    async with api.db.session() as session, session.begin():
        practice = await session.get(Practice, body["id"])
        assert practice is not None
        practice.language = language
    return body, token, tax_code


@pytest.mark.parametrize(
    ("language", "confirm", "heading", "amount"),
    [
        ("de", "bestätigen Sie, dass Sie es sind", "Ihr Vorgang bei", "1.250,40\xa0€"),
        (
            "fr",
            "confirmez qu'il s'agit bien de vous",
            "Votre dossier auprès de",
            "1\u202f250,40\xa0€",
        ),
        ("es", "confirme que es usted", "Su expediente con", "1.250,40\xa0€"),
        ("en", "confirm it is you", "Your position with", "€1,250.40"),
    ],
)
async def test_the_page_speaks_the_debtors_language(
    api: Api, language: str, confirm: str, heading: str, amount: str
) -> None:
    _, token, tax_code = await abroad(api, language)
    api.http.cookies.clear()
    # an Italian browser: the debtor's language still wins
    link = await api.http.get(f"/d/{token}", headers={"Accept-Language": "it-IT,it;q=0.9"})
    assert link.status_code == 200
    assert f'<html lang="{language}">' in link.text
    assert confirm in link.text and amount in link.text
    page = await enter(api, token, tax_code)
    assert page.status_code == 303
    me = await api.http.get("/d/me", headers={"Accept-Language": "it-IT,it;q=0.9"})
    assert me.status_code == 200
    assert f'<html lang="{language}">' in me.text and heading in me.text
    assert "La sua posizione" not in me.text


async def test_the_debtor_can_switch_the_page_to_another_language(api: Api) -> None:
    _, token, tax_code = await abroad(api, "de")
    await enter(api, token, tax_code)
    switched = await api.http.get("/d/lang/fr?back=/d/me")
    assert switched.status_code == 303 and switched.headers["location"] == "/d/me"
    me = await api.http.get("/d/me")
    assert '<html lang="fr">' in me.text and "Votre dossier auprès de" in me.text
    # the language list offers the five
    for name in ("Italiano", "English", "Deutsch", "Français", "Español"):
        assert name in me.text


async def test_an_italian_debtor_keeps_italian_or_the_browsers_english(api: Api) -> None:
    _, token, _ = await practice_with_link(api)
    api.http.cookies.clear()
    italian = await api.http.get(f"/d/{token}")
    assert '<html lang="it">' in italian.text
    english = await api.http.get(f"/d/{token}", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text


async def test_the_one_time_code_comes_in_the_pages_language(api: Api) -> None:
    body, token, _ = await abroad(api, "es")
    api.http.cookies.clear()
    page: httpx.Response = await api.http.get(f"/d/{token}")
    sent = await api.http.post(
        f"/d/{token}/code/send", data={"csrf_token": csrf(page), "channel": "email"}
    )
    assert sent.status_code == 303, sent.text
    async with api.db.session() as session:
        email = await session.scalar(
            select(Delivery).where(
                Delivery.practice_id == body["id"], Delivery.idempotency_key.like("debtor-code:%")
            )
        )
    assert email is not None
    assert "es su codigo de acceso" in email.body
    assert email.subject.endswith(": código de acceso")


def test_every_text_of_the_debtors_page_is_translated_into_german_french_and_spanish() -> None:
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    method_map = [
        ("api/debtor/**.py", "python"),
        ("templates/debtor/**.html", "jinja2"),
    ]
    options = {"templates/debtor/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "translate": (2,)}
    texts = {
        message if isinstance(message, str) else message[0]
        for _f, _l, message, _c, _x in extract_from_dir(
            str(root), method_map, options, keywords=keywords
        )
    }
    assert "Your position with %(creditor)s" in texts
    for language in ("de", "fr", "es"):
        with (root / "locale" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalogue = {str(m.id): m for m in read_po(handle) if m.id}
        missing = [t for t in texts if t not in catalogue or not catalogue[t].string]
        assert missing == [], f"translate these in locale/{language}/LC_MESSAGES/messages.po"
        assert not any(m.fuzzy for m in catalogue.values())


async def abroad_in(api: Api, language: str, country: str) -> tuple[dict[str, Any], str, str]:
    """A debtor living in `country` and written to in `language`."""
    body, token, tax_code = await abroad(api, language)
    async with api.db.session() as session, session.begin():
        practice = await session.get(Practice, body["id"])
        assert practice is not None
        practice.country = country
    return body, token, tax_code


async def statement_text(api: Api, token: str, tax_code: str, **headers: str) -> str:
    entered = await enter(api, token, tax_code)
    assert entered.status_code == 303
    pdf = await api.http.get("/d/me/statement.pdf", headers=headers)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    return pdf_text(pdf.content)


@pytest.mark.parametrize(
    ("language", "country", "title", "headings", "amount"),
    [
        (
            "de",
            "DE",
            "Kontoauszug zum",
            ("Rechnungen", "Rechnung Nr.", "Offener Gesamtbetrag", "Übersicht", "Schuldner"),
            # Babel's de_DE; pdf_text gives the no-break space as a space
            "1.250,40 €",
        ),
        (
            "fr",
            "FR",
            "Relevé de compte au",
            ("Factures", "Facture n°", "Total restant dû", "Récapitulatif", "Débiteur"),
            # fr_FR: a narrow no-break space between the thousands
            "1 250,40 €",
        ),
    ],
)
async def test_the_statement_pdf_speaks_the_debtors_language(
    api: Api,
    language: str,
    country: str,
    title: str,
    headings: tuple[str, ...],
    amount: str,
) -> None:
    _, token, tax_code = await abroad_in(api, language, country)
    # an Italian browser: the debtor's language wins, as on the page
    text = await statement_text(api, token, tax_code, **{"Accept-Language": "it-IT,it;q=0.9"})
    assert f"{title} {format_date(rome_today(), format='long', locale=language)}" in text
    for heading in headings:
        assert heading in text, heading
    assert "FT-2026-101" in text and amount in text
    assert "Estratto conto" not in text and "Riepilogo" not in text
    # the law's order of allocation, its references as they are
    assert "art. 1193, comma 1, c.c." in text and "art. 1194 c.c." in text


async def test_the_statement_pdf_follows_the_language_chosen_on_the_page(api: Api) -> None:
    _, token, tax_code = await abroad_in(api, "de", "DE")
    await enter(api, token, tax_code)
    switched = await api.http.get("/d/lang/fr?back=/d/me")
    assert switched.status_code == 303
    pdf = await api.http.get("/d/me/statement.pdf")
    text = pdf_text(pdf.content)
    # French as the page; the amounts as French writes them
    assert "Relevé de compte au" in text and "1 250,40 €" in text
    assert "Kontoauszug" not in text


async def test_an_italian_debtors_statement_pdf_stays_italian(api: Api) -> None:
    _, token, tax_code = await practice_with_link(api)
    text = await statement_text(api, token, tax_code)
    assert f"Estratto conto al {italian_date(rome_today())}" in text
    for heading in ("Fatture", "Fattura n.", "Totale residuo", "Riepilogo", "Debitore"):
        assert heading in text, heading
    assert format_euros(125040) in text and "art. 1194 c.c." in text
    # an English browser turns the page, and so its PDF, into English
    english = await api.http.get("/d/me/statement.pdf", headers={"Accept-Language": "en"})
    assert "Statement of account as at" in pdf_text(english.content)
    assert "€1,250.40" in pdf_text(english.content)
