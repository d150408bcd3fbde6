"""The debtor's page in the debtor's language (issue 16): a debtor abroad reads it in their own
language (the practice's `language`) whatever the browser says, can switch to another, and the
one-time code comes in the page's language."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.models import Delivery, Practice
from tests.api.helpers import Api
from tests.api.test_debtor_page import csrf, enter, practice_with_link


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
