"""The debtor's own actions on the debtor's page (api/debtor/routes_propose, routes_dispute,
routes_contacts) over HTTP, on the real server and worker: each refusal next to its field in
the page's language, the debtor as the actor on the timeline, a form sent twice acting once,
a closed practice refusing every action with a clear message."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from api.services import debtor_links
from db.models import DebtorContactPreference, DebtorOptOut, Document, Practice
from tests.api.helpers import (
    Api,
    eventually,
    fast_strategy,
    hand_over,
    new_creditor,
    practice_payload,
    rome_today,
    unique_tax_code,
)
from tests.api.test_debtor_page import csrf, enter, practice_with_link
from tests.test_evidence import EXE, tiny_pdf

KEY = re.compile(r'name="key" value="([0-9a-f]{32})"')


async def on_the_page(api: Api, **payload: Any) -> tuple[str, str]:
    """A practice, its debtor on its page (Italian): the practice's id and the page's token."""
    body, token, tax_code = await practice_with_link(api, **payload)
    entered = await enter(api, token, tax_code)
    assert entered.status_code == 303, entered.text
    api.http.cookies.set("recupero_debtor_lang", "it")
    page = await api.http.get("/d/me")
    assert page.status_code == 200, page.text
    return body["id"], csrf(page)


async def keys(api: Api) -> list[str]:
    page = await api.http.get("/d/me")
    return KEY.findall(page.text)


async def events(api: Api, pid: str, kind: str) -> list[dict[str, Any]]:
    response = await api.http.get(f"/practices/{pid}/events", headers=api.admin)
    assert response.status_code == 200
    return [e for e in response.json() if e["kind"] == kind]


def field_error(page: httpx.Response, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error"[^>]*>([^<]+)</p>', page.text)
    assert found, f"no error next to {field}"
    return found.group(1)


async def test_a_plan_inside_the_bounds_starts_and_a_second_submit_acts_once(api: Api) -> None:
    pid, token = await on_the_page(api)
    proposal_key = (await keys(api))[0]
    form = {
        "csrf_token": token,
        "key": proposal_key,
        "kind": "plan",
        "instalment_count": "3",
        "first_due_date": (rome_today() + timedelta(days=10)).isoformat(),
    }
    sent = await api.http.post("/d/me/proposal", data=form)
    assert sent.status_code == 303, sent.text
    again = await api.http.post("/d/me/proposal", data=form)
    assert again.status_code == 303, again.text  # the same form: shown, not sent again
    proposals = await events(api, pid, "proposal")
    assert len(proposals) == 1 and proposals[0]["actor"]["kind"] == "debtor"
    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["plan"]["state"] == "active" and len(view["plan"]["instalments"]) == 3
    page = await api.http.get("/d/me")
    assert 'data-testid="proposal-started"' in page.text


async def test_a_settlement_outside_the_bounds_waits_with_the_answer_by_date(api: Api) -> None:
    pid, token = await on_the_page(api)
    form = {
        "csrf_token": token,
        "key": (await keys(api))[0],
        "kind": "settlement",
        "amount": "600,00",  # as an Italian types it; far below the creditor's 80%
        "settle_by": (rome_today() + timedelta(days=5)).isoformat(),
    }
    sent = await api.http.post("/d/me/proposal", data=form)
    assert sent.status_code == 303, sent.text
    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["plan"]["state"] == "awaiting_approval"
    assert view["plan"]["settlement_amount"] == "600.00"
    page = await api.http.get("/d/me")
    waiting = re.search(r'data-testid="proposal-waiting">([^<]+)<', page.text)
    assert waiting and "risponderà entro il" in waiting.group(1), page.text


async def test_each_form_names_its_field_in_italian_and_sends_nothing(api: Api) -> None:
    pid, token = await on_the_page(api)
    proposal_key, dispute_key = await keys(api)
    bad_plan = await api.http.post(
        "/d/me/proposal",
        data={
            "csrf_token": token,
            "key": proposal_key,
            "kind": "plan",
            "instalment_count": "3",
            "first_due_date": (rome_today() - timedelta(days=1)).isoformat(),
        },
    )
    assert bad_plan.status_code == 422
    assert "la data della prima rata" in field_error(bad_plan, "first_due_date").lower()
    assert 'value="3"' in bad_plan.text  # what the debtor typed is kept
    too_many = await api.http.post(
        "/d/me/proposal",
        data={
            "csrf_token": token,
            "key": proposal_key,
            "kind": "plan",
            "instalment_count": "500",
            "first_due_date": rome_today().isoformat(),
        },
    )
    assert too_many.status_code == 422
    assert "numero di rate" in field_error(too_many, "instalment_count")
    no_settlement = await api.http.post(
        "/d/me/proposal",
        data={"csrf_token": token, "key": proposal_key, "kind": "settlement", "amount": "abc"},
    )
    assert no_settlement.status_code == 422
    assert "importo" in field_error(no_settlement, "amount")
    assert "giorno" in field_error(no_settlement, "settle_by")
    bad_file = await api.http.post(
        "/d/me/dispute",
        data={"csrf_token": token, "key": dispute_key, "reason": "Pagata a marzo"},
        files=[("files", ("ricevuta.pdf", EXE, "application/pdf"))],
    )
    assert bad_file.status_code == 422
    assert "PDF, JPEG o PNG" in field_error(bad_file, "files")
    no_reason = await api.http.post(
        "/d/me/dispute", data={"csrf_token": token, "key": dispute_key, "reason": " "}
    )
    assert no_reason.status_code == 422 and field_error(no_reason, "reason")
    bad_email = await api.http.post(
        "/d/me/contacts", data={"csrf_token": token, "email": "not-an-address"}
    )
    assert bad_email.status_code == 422
    assert "indirizzo e-mail" in field_error(bad_email, "email")
    # and in English when the debtor chose it
    api.http.cookies.set("recupero_debtor_lang", "en")
    english = await api.http.post("/d/me/contacts", data={"csrf_token": token, "phone": "12"})
    assert english.status_code == 422
    assert "Enter a valid phone number" in field_error(english, "phone")
    assert "accepts at once up to 12 monthly instalments" in english.text
    api.http.cookies.set("recupero_debtor_lang", "it")
    bad_window = await api.http.post(
        "/d/me/preferences", data={"csrf_token": token, "preferred_window": "midnight"}
    )
    assert bad_window.status_code == 422 and field_error(bad_window, "preferred_window")
    # nothing happened
    assert await events(api, pid, "proposal") == []
    assert await events(api, pid, "dispute_opened") == []
    assert await events(api, pid, "contacts_updated") == []
    async with api.db.session() as session:
        stored = await session.scalar(
            select(func.count(Document.id)).where(
                Document.practice_id == pid, Document.kind == "dispute_evidence"
            )
        )
    assert stored == 0
    # and without the form's CSRF token: refused before anything
    forged = await api.http.post("/d/me/contacts", data={"email": "new@example.it"})
    assert forged.status_code == 403


async def test_a_dispute_with_a_pdf_stops_contact_once_for_two_submits(api: Api) -> None:
    pid, token = await on_the_page(api)
    dispute_key = (await keys(api))[1]
    form = {"csrf_token": token, "key": dispute_key, "reason": "La fattura è già stata pagata"}
    files = [("files", ("ricevuta.pdf", tiny_pdf(), "application/pdf"))]
    sent = await api.http.post("/d/me/dispute", data=form, files=files)
    assert sent.status_code == 303, sent.text
    again = await api.http.post("/d/me/dispute", data=form, files=files)
    assert again.status_code == 303, again.text
    opened = await events(api, pid, "dispute_opened")
    assert len(opened) == 1 and opened[0]["actor"]["kind"] == "debtor"
    documents = (await api.http.get(f"/practices/{pid}/documents", headers=api.admin)).json()
    evidence = [d for d in documents if d["kind"] == "dispute_evidence"]
    assert [d["filename"] for d in evidence] == ["ricevuta.pdf"]
    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["status"] == "paused_dispute"
    page = await api.http.get("/d/me")
    assert 'data-testid="disputed"' in page.text


async def test_contacts_and_preferences_by_the_debtor(api: Api) -> None:
    pid, token = await on_the_page(api)
    form = {"csrf_token": token, "email": "nuovo.indirizzo@example.it", "phone": ""}
    assert (await api.http.post("/d/me/contacts", data=form)).status_code == 303
    assert (await api.http.post("/d/me/contacts", data=form)).status_code == 303
    updated = await events(api, pid, "contacts_updated")
    assert len(updated) == 1 and updated[0]["actor"]["kind"] == "debtor"
    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["debtor"]["email"] == "nuovo.indirizzo@example.it"
    prefs = {"csrf_token": token, "opt_out": ["sms"], "preferred_window": "morning"}
    assert (await api.http.post("/d/me/preferences", data=prefs)).status_code == 303
    assert (await api.http.post("/d/me/preferences", data=prefs)).status_code == 303
    async with api.db.session() as session:
        refusals = list(
            await session.scalars(
                select(DebtorOptOut.channel).where(DebtorOptOut.practice_id == pid)
            )
        )
        window = await session.scalar(
            select(DebtorContactPreference.preferred_window).where(
                DebtorContactPreference.practice_id == pid
            )
        )
    assert refusals == ["sms"] and window == "morning"
    page = await api.http.get("/d/me")
    assert 'data-testid="refused"' in page.text and "SMS" in page.text
    assert '<option value="morning" selected>' in page.text
    # a channel the page does not offer to refuse
    calls = await api.http.post("/d/me/preferences", data={"csrf_token": token, "opt_out": "call"})
    assert calls.status_code == 422 and field_error(calls, "opt_out")


async def test_a_closed_practice_refuses_every_action_clearly(api: Api) -> None:
    pid, token = await on_the_page(api)
    proposal_key, dispute_key = await keys(api)
    withdrawn = await api.http.post(
        f"/practices/{pid}/withdrawal", headers=api.admin, json={"reason": ""}
    )
    assert withdrawn.status_code == 200, withdrawn.text

    async def closed() -> bool:
        view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
        return bool(view["status"] == "closed")

    await eventually(closed, "the practice closed")
    message = "Questa posizione è chiusa"
    for path, data in (
        ("/d/me/proposal", {"key": proposal_key, "kind": "settlement", "amount": "600"}),
        ("/d/me/dispute", {"key": dispute_key, "reason": "Non dovuto"}),
        ("/d/me/contacts", {"email": "altro@example.it"}),
        ("/d/me/preferences", {"preferred_window": "evening"}),
    ):
        refused = await api.http.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 409, (path, refused.text)
        assert message in refused.text, path
    assert await events(api, pid, "contacts_updated") == []


async def test_a_required_down_payment_is_told_and_sends_a_plan_to_the_creditor(
    api: Api,
) -> None:
    strategy = fast_strategy(
        plan_bounds={
            "max_instalments": 12,
            "min_instalment": "50.00",
            "max_discount_percent": 20,
            "min_down_payment_percent": 10,
        }
    )
    creditor = await new_creditor(api, strategy)
    tax_code = unique_tax_code()
    body = await hand_over(api, creditor.headers, practice_payload(creditor.id, tax_code=tax_code))
    async with api.db.session() as session:
        practice = await session.get(Practice, body["id"])
        assert practice is not None
        _, link = await debtor_links.issue(session, practice, datetime.now(UTC))
    assert (await enter(api, link, tax_code)).status_code == 303
    api.http.cookies.set("recupero_debtor_lang", "it")
    page = await api.http.get("/d/me")
    assert "un acconto di almeno il 10%" in page.text
    sent = await api.http.post(
        "/d/me/proposal",
        data={
            "csrf_token": csrf(page),
            "key": KEY.findall(page.text)[0],
            "kind": "plan",
            "instalment_count": "2",
            "first_due_date": (rome_today() + timedelta(days=3)).isoformat(),
        },
    )
    assert sent.status_code == 303, sent.text
    view = (await api.http.get(f"/practices/{body['id']}", headers=api.admin)).json()
    assert view["plan"]["state"] == "awaiting_approval"
