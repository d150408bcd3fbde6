"""The creditor's portal in the console: the portfolio is GET /practices' query (the same
visibility, the same filters), its CSV export, the practice's page and the creditor's actions,
each through the API's own handler with the session's Principal."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from markupsafe import escape

from api.console import routes_creditor
from api.console.timeline import timeline_line
from tests.api.helpers import (
    Api,
    eventually,
    fast_strategy,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)
from tests.api.test_console_logins import csrf, log_in, person
from tests.api.test_paths import only, open_task


async def test_a_creditor_filters_its_portfolio_and_exports_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await new_creditor(api)
    other = await new_creditor(api)
    small = await hand_over(api, tenant.headers, practice_payload(tenant.id, amounts=("100.00",)))
    large = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    foreign = await hand_over(api, other.headers, practice_payload(other.id))

    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    landed = await log_in(api, user["email"], password)
    assert landed.headers["location"] == "/console/creditor/practices"

    page = await api.http.get("/console/creditor/practices")
    assert page.status_code == 200, page.text
    assert small["reference"] in page.text and large["reference"] in page.text
    assert foreign["reference"] not in page.text  # visible_practices: its own creditor's only
    assert "1.250,40\xa0€" in page.text and "100,00\xa0€" in page.text

    # the amount range, and the API's answer to the same filter is the same list
    filtered = await api.http.get(
        "/console/creditor/practices", params={"claim_from": "500", "debtor_kind": "consumer"}
    )
    assert large["reference"] in filtered.text and small["reference"] not in filtered.text
    same = await api.http.get("/practices", headers=tenant.headers, params={"claim_from": "500"})
    assert [p["id"] for p in same.json()["items"]] == [large["id"]]

    # a bad bound: the API's 422 message next to its field; an unknown status too
    bad = await api.http.get("/console/creditor/practices", params={"claim_to": "12,5x"})
    assert bad.status_code == 422 and 'id="claim_to-error"' in bad.text
    bad = await api.http.get("/console/creditor/practices", params={"status": "nonsense"})
    assert bad.status_code == 422 and 'id="status-error"' in bad.text
    # another creditor's portfolio, asked by id: the API's refusal
    refused = await api.http.get("/console/creditor/practices", params={"creditor_id": other.id})
    assert refused.status_code == 403

    exported = await api.http.get("/console/creditor/practices.csv", params={"claim_to": "500"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Riferimento", "Debitore", "Tipo debitore"]
    assert [r[0] for r in rows[1:]] == [small["reference"]]
    assert rows[1][1] == "Mario Rossi" and rows[1][2] == "Consumatore" and rows[1][7] == "100,00"
    # nothing more personal than the page shows: no tax code, e-mail, phone or address
    assert "mario.rossi@example.it" not in exported.text and "Via Roma" not in exported.text

    # read in batches of one: the keyset walks every row once, in the list's order
    monkeypatch.setattr(routes_creditor, "EXPORT_BATCH", 1)
    full = await api.http.get("/console/creditor/practices.csv")
    references = [r.split(";")[0] for r in full.text.lstrip("\ufeff").splitlines()[1:]]
    assert references == [large["reference"], small["reference"]]  # newest first


async def test_an_operator_cannot_open_the_portfolio(api: Api) -> None:
    user, password = await person(api, role="operator")
    await log_in(api, user["email"], password)
    for path in ("/console/creditor/practices", "/console/creditor/practices.csv"):
        refused = await api.http.get(path)
        assert refused.status_code == 403, path


async def test_an_admin_sees_any_creditors_portfolio(api: Api) -> None:
    tenant = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    user, password = await person(api, role="admin")
    await log_in(api, user["email"], password)
    page = await api.http.get("/console/creditor/practices", params={"creditor_id": tenant.id})
    assert page.status_code == 200 and practice["reference"] in page.text
    assert ">1 pratica<" in page.text  # that creditor's only
    creditor = (await api.http.get(f"/creditors/{tenant.id}", headers=api.admin)).json()
    assert f"<td>{html.escape(creditor['name'])}</td>" in page.text


async def test_the_practice_page_its_letters_a_direct_payment_and_a_withdrawal(api: Api) -> None:
    tenant = await new_creditor(api, fast_strategy(call_outcome_timeout="PT120S"))
    other = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-45))
    pid = practice["id"]
    foreign = await hand_over(api, other.headers, practice_payload(other.id))

    async def letter() -> dict[str, Any] | None:
        docs = (await api.http.get(f"/practices/{pid}/documents", headers=tenant.headers)).json()
        return next((d for d in docs if d["kind"] == "reminder_letter"), None)

    sent = await eventually(letter, "the reminder letter", seconds=60)

    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    await log_in(api, user["email"], password)
    # the events first: the page, rendered after, shows each of them (the workflow goes on)
    events = (await api.http.get(f"/practices/{pid}/events", headers=tenant.headers)).json()
    page = await api.http.get(f"/console/practices/{pid}")
    assert page.status_code == 200, page.text
    api_view = (await api.http.get(f"/practices/{pid}", headers=tenant.headers)).json()
    assert practice["reference"] in page.text and "Mario Rossi" in page.text
    assert "1.250,40\xa0€" in page.text
    # the first event as the console says it (in the page's language, from the event's values)
    first = events[0]
    line = timeline_line("it", first["kind"], first["summary"], first["data"])
    assert html.escape(line, quote=False) in page.text
    # every line so far (hand-over, steps, the debtor analysis, the letter...) is said in
    # Italian: none is shown as the workflow recorded it, in English
    for event in events:
        said = timeline_line("it", event["kind"], event["summary"], event["data"])
        assert said != event["summary"], event
        assert str(escape(said)) in page.text
    assert api_view["current_step"] is not None
    link = f"/console/practices/{pid}/documents/{sent['id']}"
    assert f'href="{link}"' in page.text
    pdf = await api.http.get(link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert len(pdf.content) == sent["size"]
    statement_pdf = await api.http.get(f"/console/practices/{pid}/statement.pdf")
    assert statement_pdf.status_code == 200 and statement_pdf.content.startswith(b"%PDF")

    # another creditor's practice is the 403 page, and its letters and statement too
    for path in ("", "/statement.pdf", f"/documents/{sent['id']}"):
        refused = await api.http.get(f"/console/practices/{foreign['id']}{path}")
        assert refused.status_code == 403, path
        assert foreign["reference"] not in refused.text
    assert (await api.http.get("/console/practices/nope")).status_code == 404

    # a payment: the API's 422 next to its field, then accepted
    token = csrf(page)
    today = rome_today().isoformat()
    bad = await api.http.post(
        f"/console/practices/{pid}/payments",
        data={"csrf_token": token, "amount": "10,5x", "paid_on": today, "reference": "CRO 1"},
    )
    assert bad.status_code == 422 and 'id="amount-error"' in bad.text
    assert 'value="10,5x"' in bad.text  # what was typed stays in the form
    paid = await api.http.post(
        f"/console/practices/{pid}/payments",
        data={"csrf_token": token, "amount": "250.40", "paid_on": today, "reference": "CRO 1"},
    )
    assert paid.status_code == 303, paid.text
    after = (await api.http.get(f"/practices/{pid}", headers=tenant.headers)).json()
    assert after["balance"] == "1000.00"
    # the same bank reference again: the API's 409, in the alert
    again = await api.http.post(
        f"/console/practices/{pid}/payments",
        data={"csrf_token": token, "amount": "10.00", "paid_on": today, "reference": "CRO 1"},
    )
    assert again.status_code == 409 and 'role="alert"' in again.text
    # on another creditor's practice the command is refused before anything is sent
    foreign_payment = await api.http.post(
        f"/console/practices/{foreign['id']}/payments",
        data={"csrf_token": token, "amount": "10.00", "paid_on": today, "reference": "CRO 2"},
    )
    assert foreign_payment.status_code == 403

    unconfirmed = await api.http.post(
        f"/console/practices/{pid}/withdrawal", data={"csrf_token": token, "reason": "pagato"}
    )
    assert unconfirmed.status_code == 422 and 'id="confirm-error"' in unconfirmed.text
    withdrawn = await api.http.post(
        f"/console/practices/{pid}/withdrawal",
        data={"csrf_token": token, "reason": "accordo diretto", "confirm": "yes"},
    )
    assert withdrawn.status_code == 303, withdrawn.text
    closed = (await api.http.get(f"/practices/{pid}", headers=tenant.headers)).json()
    assert closed["status"] == "closed" and closed["outcome"] == "withdrawn"
    page = await api.http.get(f"/console/practices/{pid}")
    assert "accordo diretto" in page.text
    # no command on a closed practice; its letter's link to the debtor's page can still be
    # revoked (a letter that went to the wrong address shows the creditor and the amount)
    actions = re.findall(r'action="/console/practices/[^"]+"', page.text)
    assert actions == [f'action="/console/practices/{pid}/debtor-links/revoke"'], actions


async def test_an_operator_opens_a_practice_but_cannot_withdraw_it(api: Api) -> None:
    tenant = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    user, password = await person(api, role="operator")
    await log_in(api, user["email"], password)
    page = await api.http.get(f"/console/practices/{practice['id']}")
    assert page.status_code == 200 and practice["reference"] in page.text
    assert "/withdrawal" not in page.text
    refused = await api.http.post(
        f"/console/practices/{practice['id']}/withdrawal",
        data={"csrf_token": csrf(page), "confirm": "yes"},
    )
    assert refused.status_code == 403
    api_view = (await api.http.get(f"/practices/{practice['id']}", headers=tenant.headers)).json()
    assert api_view["status"] != "closed"


async def test_the_creditor_decides_legal_action_and_a_dispute_from_its_task_list(
    api: Api,
) -> None:
    tenant = await new_creditor(
        api,
        only(
            "contact_check",
            authorization_timeout="PT300S",
            authorization_reminder_interval="PT120S",
        ),
    )
    other = await new_creditor(api)
    asked = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-90))
    disputed = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    theirs = await hand_over(api, other.headers, practice_payload(other.id))
    opened = await api.http.post(
        f"/practices/{disputed['id']}/disputes",
        headers=tenant.headers,
        json={"reason": "merce mai consegnata"},
    )
    assert opened.status_code == 201, opened.text
    await open_task(api, "authorizations", tenant.headers, asked["id"])

    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    await log_in(api, user["email"], password)
    page = await api.http.get("/console/creditor/tasks")
    assert page.status_code == 200, page.text
    assert asked["reference"] in page.text and disputed["reference"] in page.text
    assert theirs["reference"] not in page.text
    token = csrf(page)
    # the practice's page says what it waits for, in Italian
    waiting = await api.http.get(f"/console/practices/{asked['id']}")
    assert "<dd>la vostra autorizzazione all&#39;azione legale</dd>" in waiting.text

    # the dispute: a reduction on a rejected dispute is the API's 422, next to that field
    rejected_with_reduction = await api.http.post(
        f"/console/creditor/tasks/{disputed['id']}/dispute",
        data={
            "csrf_token": token,
            "dispute_id": opened.json()["dispute_id"],
            "upheld": "false",
            "reduce_by": "100.00",
        },
    )
    assert rejected_with_reduction.status_code == 422
    assert f'id="reduce_by-{disputed["id"]}-error"' in rejected_with_reduction.text
    # a dispute that is not the open one: the API's 409 in the alert
    wrong = await api.http.post(
        f"/console/creditor/tasks/{disputed['id']}/dispute",
        data={"csrf_token": token, "dispute_id": "0" * 32, "upheld": "false"},
    )
    assert wrong.status_code == 409 and 'role="alert"' in wrong.text
    resolved = await api.http.post(
        f"/console/creditor/tasks/{disputed['id']}/dispute",
        data={
            "csrf_token": token,
            "dispute_id": opened.json()["dispute_id"],
            "upheld": "true",
            "reduce_by": "250.40",
            "note": "un articolo danneggiato",
        },
    )
    assert resolved.status_code == 303, resolved.text
    after = (await api.http.get(f"/practices/{disputed['id']}", headers=tenant.headers)).json()
    assert after["balance"] == "1000.00" and after["open_dispute_id"] is None

    # legal action on another creditor's practice: the API's 403
    stolen = await api.http.post(
        f"/console/creditor/tasks/{theirs['id']}/authorization",
        data={"csrf_token": token, "authorized": "true"},
    )
    assert stolen.status_code == 403
    # no decision chosen: the API's message for `authorized`
    undecided = await api.http.post(
        f"/console/creditor/tasks/{asked['id']}/authorization", data={"csrf_token": token}
    )
    assert undecided.status_code == 422
    assert f'id="authorized-{asked["id"]}-error"' in undecided.text
    declined = await api.http.post(
        f"/console/creditor/tasks/{asked['id']}/authorization",
        data={"csrf_token": token, "authorized": "false", "note": "non conviene"},
    )
    assert declined.status_code == 303, declined.text

    async def returned() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{asked['id']}", headers=tenant.headers)).json()
        return view if view["status"] == "closed" else None

    closed = await eventually(returned, "the practice to be returned")
    assert closed["outcome"] == "returned"
    page = await api.http.get("/console/creditor/tasks")
    assert asked["reference"] not in page.text and disputed["reference"] not in page.text


async def test_an_operator_has_no_task_list(api: Api) -> None:
    user, password = await person(api, role="operator")
    await log_in(api, user["email"], password)
    assert (await api.http.get("/console/creditor/tasks")).status_code == 403


async def test_the_creditor_approves_a_proposal_outside_its_bounds(api: Api) -> None:
    tenant = await new_creditor(api)
    _, operator = await new_user(api, "operator")
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-10))
    pid = practice["id"]
    settle_by = (rome_today() + timedelta(days=15)).isoformat()
    proposed = await api.http.post(
        f"/practices/{pid}/proposals",
        headers=operator,
        json={"kind": "settlement", "amount": "500.00", "settle_by": settle_by},
    )
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["within_bounds"] is False

    async def waiting() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{pid}", headers=tenant.headers)).json()
        deal = view.get("plan")
        return view if deal and deal["state"] == "awaiting_approval" else None

    await eventually(waiting, "the proposal to wait for the creditor")
    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    await log_in(api, user["email"], password)
    page = await api.http.get("/console/creditor/tasks")
    assert practice["reference"] in page.text and "500,00\xa0€" in page.text
    assert f'value="{proposed.json()["proposal_id"]}"' in page.text

    stale = await api.http.post(
        f"/console/creditor/tasks/{pid}/proposal",
        data={"csrf_token": csrf(page), "proposal_id": "0" * 32, "approved": "true"},
    )
    assert stale.status_code == 409 and 'role="alert"' in stale.text
    approved = await api.http.post(
        f"/console/creditor/tasks/{pid}/proposal",
        data={
            "csrf_token": csrf(page),
            "proposal_id": proposed.json()["proposal_id"],
            "approved": "true",
            "note": "va bene così",
        },
    )
    assert approved.status_code == 303, approved.text

    async def in_force() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{pid}", headers=tenant.headers)).json()
        return view if view["plan"]["state"] == "active" else None

    view = await eventually(in_force, "the settlement to be in force")
    assert view["status"] == "paused_settlement"
    notes = (await api.http.get(f"/practices/{pid}/notes", headers=tenant.headers)).json()
    assert any(n["text"] == "va bene così" and n["author_id"] == user["id"] for n in notes)


async def test_each_practice_action_is_refused_in_the_console_exactly_when_the_api_refuses_it(
    api: Api,
) -> None:
    """Every role (a creditor: this practice's and another's) against every practice action of
    the console and its API twin, on a closed practice so nothing changes: a 403 in one is a
    403 in the other."""
    tenant = await new_creditor(api)
    other = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, province="MI"))
    pid = practice["id"]
    closed = await api.http.post(
        f"/practices/{pid}/withdrawal", headers=tenant.headers, json={"reason": "x"}
    )
    assert closed.status_code == 200, closed.text
    today = rome_today().isoformat()
    actions: list[tuple[str, str, dict[str, Any], str, dict[str, str]]] = [
        # (API method, API path, API body, console path, console form; GET when no form)
        ("GET", f"/practices/{pid}", {}, f"/console/practices/{pid}", {}),
        (
            "GET",
            f"/practices/{pid}/statement.pdf",
            {},
            f"/console/practices/{pid}/statement.pdf",
            {},
        ),
        (
            "POST",
            f"/practices/{pid}/payments",
            {"amount": "1.00", "paid_on": today, "reference": "R"},
            f"/console/practices/{pid}/payments",
            {"amount": "1.00", "paid_on": today, "reference": "R"},
        ),
        (
            "POST",
            f"/practices/{pid}/withdrawal",
            {"reason": ""},
            f"/console/practices/{pid}/withdrawal",
            {"confirm": "yes"},
        ),
        (
            "POST",
            f"/practices/{pid}/legal-authorization",
            {"authorized": True},
            f"/console/creditor/tasks/{pid}/authorization",
            {"authorized": "true"},
        ),
        (
            "POST",
            f"/practices/{pid}/disputes/{'0' * 32}/resolution",
            {"upheld": False},
            f"/console/creditor/tasks/{pid}/dispute",
            {"dispute_id": "0" * 32, "upheld": "false"},
        ),
        (
            "POST",
            f"/practices/{pid}/proposals/{'0' * 32}/decision",
            {"approved": True},
            f"/console/creditor/tasks/{pid}/proposal",
            {"proposal_id": "0" * 32, "approved": "true"},
        ),
    ]
    roles: list[tuple[str, dict[str, Any]]] = [
        ("admin", {}),
        ("operator", {}),
        ("lawyer", {}),
        ("field_agent", {"provinces": ["MI"]}),
        ("field_agent", {"provinces": ["NU"]}),
        ("creditor", {"creditor_id": tenant.id}),
        ("creditor", {"creditor_id": other.id}),
    ]
    for role, extra in roles:
        _, headers = await new_user(api, role, **extra)
        user, password = await person(api, role=role, **extra)
        await log_in(api, user["email"], password)
        token = csrf(await api.http.get("/console/account"))
        for method, path, body, console_path, form in actions:
            answer = await api.http.request(method, path, headers=headers, json=body or None)
            if form:
                shown = await api.http.post(console_path, data={"csrf_token": token, **form})
            else:
                shown = await api.http.get(console_path)
            assert (answer.status_code == 403) == (shown.status_code == 403), (
                role,
                extra,
                path,
                answer.status_code,
                shown.status_code,
            )
            assert shown.status_code < 500, (role, console_path, shown.text[:300])


async def test_the_portal_escapes_names_and_speaks_english_when_asked(api: Api) -> None:
    tenant = await new_creditor(api)
    payload = practice_payload(tenant.id)
    payload["debtor"]["name"] = "<script>alert(1)</script>"
    practice = await hand_over(api, tenant.headers, payload)
    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    await log_in(api, user["email"], password)
    for path in ("/console/creditor/practices", f"/console/practices/{practice['id']}"):
        page = await api.http.get(path)
        assert "<script>alert(1)</script>" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path

    english = await api.http.get("/console/creditor/practices", headers={"Accept-Language": "en"})
    assert "<h1>Practices</h1>" in english.text and "€1,250.40" in english.text
    assert "Before the due date" in english.text

    # a bad filter on the export: the portfolio page with the field's error, no file
    bad = await api.http.get("/console/creditor/practices.csv", params={"claim_from": "-5"})
    assert bad.status_code == 422 and 'id="claim_from-error"' in bad.text
    assert bad.headers["content-type"].startswith("text/html")


async def test_hand_over_dates_filter_the_list_and_extreme_ones_are_no_error(api: Api) -> None:
    tenant = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    today = rome_today()
    cases = [
        ({"handed_over_from": today.isoformat(), "handed_over_to": today.isoformat()}, True),
        ({"handed_over_from": (today + timedelta(days=1)).isoformat()}, False),
        ({"handed_over_to": (today - timedelta(days=1)).isoformat()}, False),
        ({"handed_over_from": "0001-01-01", "handed_over_to": "9999-12-31"}, True),
        ({"handed_over_to": "0001-01-01"}, False),
    ]
    for params, listed in cases:
        answer = await api.http.get("/practices", headers=tenant.headers, params=params)
        assert answer.status_code == 200, (params, answer.text)
        assert ([p["id"] for p in answer.json()["items"]] == [practice["id"]]) is listed, params


async def test_the_timeline_speaks_the_readers_language(api: Api) -> None:
    """The workflow records its events' summaries in English; the practice page says them in
    the person's language from the event's values (Italian first, English on request)."""
    tenant = await new_creditor(api)
    practice = await hand_over(
        api, tenant.headers, practice_payload(tenant.id, amounts=("1000.00", "250.40"))
    )

    async def step_started() -> bool:
        events = await api.http.get(f"/practices/{practice['id']}/events", headers=api.admin)
        return "step_started" in {e["kind"] for e in events.json()}

    await eventually(step_started, "the first step's start")
    paid = await api.http.post(
        f"/practices/{practice['id']}/payments",
        headers=tenant.headers,
        json={"amount": "100.00", "paid_on": rome_today().isoformat(), "reference": "CRO 1"},
    )
    assert paid.status_code == 200, paid.text
    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    await log_in(api, user["email"], password)
    url = f"/console/practices/{practice['id']}"

    italian = await api.http.get(url)
    assert italian.status_code == 200, italian.text
    assert "Pratica affidata: 2 fatture, credito 1.250,40\xa0€" in italian.text
    assert "Fase: Promemoria prima della scadenza" in italian.text
    assert "Pagamento di 100,00\xa0€ ricevuto il" in italian.text
    assert "saldo 1.150,40\xa0€" in italian.text
    assert "Practice handed over" not in italian.text and "Step:" not in italian.text
    # the workflow's refusal, shown on the form, in the reader's language too
    authorize = f"/console/creditor/tasks/{practice['id']}/authorization"
    token = csrf(await api.http.get("/console/account"))
    refused = await api.http.post(authorize, data={"csrf_token": token, "authorized": "true"})
    assert refused.status_code == 409
    assert "nessuna autorizzazione è attesa ora" in refused.text

    account = await api.http.get("/console/account")
    switched = await api.http.post(
        "/console/account/language", data={"csrf_token": csrf(account), "locale": "en"}
    )
    assert switched.status_code == 303
    english = await api.http.get(url)
    assert "Practice handed over: 2 invoices, claim €1,250.40" in english.text
    assert "Step: Reminders before the due date" in english.text
    assert "Payment of €100.00 received on" in english.text and "balance €1,150.40" in english.text
    assert "Pratica affidata" not in english.text
    refused = await api.http.post(authorize, data={"csrf_token": token, "authorized": "true"})
    assert refused.status_code == 409 and "no authorisation is expected now" in refused.text
