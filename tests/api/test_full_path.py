"""The acceptance criterion, through the API alone: a practice handed over by the creditor walks
the whole out-of-court path on the real worker, with every person acting through their own work
list, into the judicial phase, and a full payment closes it.

The module runs on a database and a worker of its own (same Temporal dev server): assignment
picks the oldest field agent of a province and the least busy lawyer, so users other tests leave
behind in the shared database would otherwise take the visit and the opinion.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.deps import get_now
from db.migrate import upgrade
from db.session import Database
from domain.contact_rules import DAY_TAKEN
from domain.judicial import JUDICIAL_SEQ_BASE
from tests.api.conftest import make_settings
from tests.api.helpers import (
    Api,
    Headers,
    StartRecorder,
    eventually,
    fast_strategy,
    hand_over,
    in_contact_hours,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
    unique,
)
from worker import build_worker

DEADLINE = 60.0  # seconds a test waits for the practice to reach the next point
WORKLISTS = ("calls", "visits", "opinions", "traces", "authorizations")
LETTERS = ("reminder_letter", "second_letter", "legal_notice", "formal_demand")
CREDITOR_EMAIL = "amministrazione@example.it"  # what new_creditor registers
DEBTOR_EMAIL = "mario.rossi@example.it"  # what practice_payload hands over


@pytest.fixture(scope="module")
async def api(
    temporal_env: WorkflowEnvironment,
    app_client: Client,
    recorder: StartRecorder,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Api]:
    """The conftest harness, on a fresh database and task queue."""
    settings = make_settings(tmp_path_factory.mktemp("full-path"))
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        worker = build_worker(temporal_env.client, db, settings)
        app = create_app(settings, temporal_client=app_client)
        app.dependency_overrides[get_now] = in_contact_hours
        async with (
            worker,
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://recupero.test"
            ) as http,
        ):
            yield Api(
                http=http,
                settings=settings,
                db=db,
                temporal=temporal_env.client,
                recorder=recorder,
                admin={"Authorization": f"Bearer {settings.admin_key}"},
            )
    finally:
        await db.dispose()


def seconds_strategy() -> dict[str, Any]:
    """Every step on, seconds between steps; whatever waits for a person waits long enough that
    nothing times out while the test acts."""
    strategy = fast_strategy(
        call_attempts=2,
        call_retry_interval="PT1S",
        call_outcome_timeout="PT60S",
        trace_timeout="PT60S",
        visit_outcome_timeout="PT60S",
        opinion_timeout="PT60S",
        demand_term="PT2S",
        authorization_reminder_interval="PT60S",
        authorization_timeout="PT120S",
        promise_grace="PT60S",
    )
    for setting in strategy["steps"]:
        setting["wait_after"] = "PT2S" if setting["step"] in LETTERS else "PT1S"
    assert all(s["enabled"] for s in strategy["steps"])
    return strategy


async def get_json(api: Api, url: str, headers: Headers, **params: Any) -> Any:
    response = await api.http.get(url, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def post_ok(api: Api, url: str, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.http.post(url, headers=headers, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def practice_when(
    api: Api, pid: str, headers: Headers, what: str, **expected: Any
) -> dict[str, Any]:
    """GET /practices/{pid} until every given field has the given value."""

    async def check() -> dict[str, Any] | None:
        current: dict[str, Any] = await get_json(api, f"/practices/{pid}", headers)
        return current if all(current[k] == v for k, v in expected.items()) else None

    result: dict[str, Any] = await eventually(check, what, seconds=DEADLINE)
    return result


async def task_in(
    api: Api, worklist: str, headers: Headers, pid: str, attempt: int = 1
) -> dict[str, Any]:
    """The practice's open task in `worklist` as `headers` sees it."""

    async def find() -> dict[str, Any] | None:
        page = await get_json(api, f"/worklists/{worklist}", headers, limit=200)
        return next(
            (t for t in page["items"] if t["practice_id"] == pid and t["attempt"] == attempt),
            None,
        )

    task: dict[str, Any] = await eventually(
        find, f"{worklist} task (attempt {attempt}) for {pid}", seconds=DEADLINE
    )
    return task


async def take(
    api: Api, worklist: str, headers: Headers, pid: str, waiting_for: str, attempt: int = 1
) -> dict[str, Any]:
    """A person picks the practice's task from their work list, then waits until the practice
    says it waits for them: the workflow lists the task before it starts waiting for the answer,
    and an answer sent in between is refused with a 409."""
    task = await task_in(api, worklist, headers, pid, attempt)
    await practice_when(api, pid, api.admin, f"waiting for {waiting_for}", waiting_for=waiting_for)
    return task


async def documents(api: Api, pid: str, headers: Headers) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = await get_json(api, f"/practices/{pid}/documents", headers)
    return docs


async def pdf(api: Api, pid: str, headers: Headers, document_id: str) -> bytes:
    response = await api.http.get(f"/practices/{pid}/documents/{document_id}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return response.content


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


async def outbox(api: Api, pid: str) -> list[dict[str, Any]]:
    page = await get_json(api, "/outbox", api.admin, practice_id=pid, limit=200)
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_a_practice_walks_the_whole_path_to_the_judicial_phase_and_is_paid(
    api: Api,
) -> None:
    tenant = await new_creditor(api, seconds_strategy())
    _, operator = await new_user(api, "operator")
    agent_id, agent = await new_user(api, "field_agent", provinces=["MI"])
    lawyer_name = unique("Avv. Giulia Bianchi")
    lawyer_email = "studio.bianchi@example.it"
    lawyer_id, lawyer = await new_user(api, "lawyer", name=lawyer_name, email=lawyer_email)

    # the creditor hands over with its own key: overdue invoices, so collection starts at once
    payload = practice_payload(tenant.id, due_in_days=-90, province="MI")
    reference = payload["reference"]
    practice = await hand_over(api, tenant.headers, payload)
    pid = practice["id"]
    assert practice["creditor_id"] == tenant.id
    assert (practice["status"], practice["phase"]) == ("active", "out_of_court")
    assert practice["claim"] == practice["balance"] == "1250.40"

    # contact check, then the reminder letter: a PDF the creditor can download
    async def reminder_letter() -> list[dict[str, Any]]:
        return [d for d in await documents(api, pid, tenant.headers) if d["kind"] in LETTERS]

    letters = await eventually(reminder_letter, "the reminder letter", seconds=DEADLINE)
    assert [d["kind"] for d in letters] == ["reminder_letter"]
    assert letters[0]["media_type"] == "application/pdf" and letters[0]["size"] > 0
    await pdf(api, pid, tenant.headers, letters[0]["id"])

    # phone phase: the operator takes the call; nobody answers, then the debtor refuses
    call = await take(api, "calls", operator, pid, "call outcome (attempt 1/2)")
    assert (call["phone"], call["debtor_name"], call["detail"]) == (
        "+393331234567",
        "Mario Rossi",
        "1/2",
    )
    await post_ok(api, f"/practices/{pid}/call-outcomes", operator, {"outcome": "no_answer"})
    call = await take(api, "calls", operator, pid, "call outcome (attempt 2/2)", attempt=2)
    assert call["detail"] == "2/2"
    await post_ok(api, f"/practices/{pid}/call-outcomes", operator, {"outcome": "refused"})

    # second letter, skip tracing skipped (the first letter got through), then the home visit:
    # the field agent for Milan sees it in its work list and reports a refusal
    visit = await take(api, "visits", agent, pid, "home visit outcome")
    assert visit["assignee_id"] == agent_id
    assert visit["debtor_name"] == "Mario Rossi"
    assert (visit["address"]["street"], visit["address"]["province"]) == ("Via Roma 1", "MI")
    # the debtor refused the call today: its visit list says the day's conversation is taken;
    # the agent visits all the same, and the timeline flags it (issue 11, point 2)
    assert (visit["visitable_now"], visit["hold"]) == (False, DAY_TAKEN)
    assert (await get_json(api, f"/practices/{pid}", agent))["field_agent_id"] == agent_id
    await post_ok(api, f"/practices/{pid}/visit-outcomes", agent, {"outcome": "refused"})

    # notice of legal action, the formal demand with its two-second term, and the lawyer's
    # opinion, asked of the lawyer in its work list
    opinion = await take(api, "opinions", lawyer, pid, "the lawyer's opinion")
    assert opinion["assignee_id"] == lawyer_id
    assert (opinion["claim"], opinion["debtor_kind"]) == ("1250.40", "consumer")
    letters = [d for d in await documents(api, pid, tenant.headers) if d["kind"] in LETTERS]
    assert [d["kind"] for d in letters] == list(LETTERS)
    for letter in letters:
        await pdf(api, pid, tenant.headers, letter["id"])
    demand = pdf_text(await pdf(api, pid, tenant.headers, letters[-1]["id"]))
    assert demand.startswith(f"{lawyer_name} Studio legale"), demand[:200]
    assert lawyer_email in demand[:300]
    await post_ok(
        api,
        f"/practices/{pid}/legal-opinion",
        lawyer,
        {"recommend_action": True, "action": "decreto_ingiuntivo", "note": "credito provato"},
    )

    # the creditor's authorisation, from the creditor's work list
    request = await take(api, "authorizations", tenant.headers, pid, "the creditor's authorisation")
    assert (request["reference"], request["claim"]) == (reference, "1250.40")
    authorised = await post_ok(
        api, f"/practices/{pid}/legal-authorization", tenant.headers, {"authorized": True}
    )
    assert authorised["status"] == "active"
    in_court = await practice_when(api, pid, tenant.headers, "the judicial phase", phase="judicial")

    assert (in_court["status"], in_court["outcome"]) == ("active", None)
    assert (in_court["field_agent_id"], in_court["lawyer_id"]) == (agent_id, lawyer_id)
    # from the authorisation the practice claims late interest too: the balance is the
    # statement of account's total (interest at the legal rate for a consumer, art. 1284 c.c.)
    assert in_court["paid"] == "0.00"
    assert Decimal(in_court["balance"]) > Decimal("1250.40")
    statement = await api.http.get(f"/practices/{pid}/statement", headers=tenant.headers)
    assert statement.status_code == 200, statement.text
    assert statement.json()["totals"]["total"]["outstanding"] == in_court["balance"]

    # a full payment by the creditor closes it
    paid = await post_ok(
        api,
        f"/practices/{pid}/payments",
        tenant.headers,
        {
            "amount": in_court["balance"],
            "paid_on": rome_today().isoformat(),
            "reference": unique("CRO"),
        },
    )
    assert (paid["status"], paid["balance"]) == ("closed", "0.00")
    closed = await practice_when(api, pid, tenant.headers, "the closure", status="closed")
    assert (closed["outcome"], closed["balance"]) == ("paid", "0.00")
    assert closed["paid"] == in_court["balance"]
    assert (closed["phase"], closed["waiting_for"], closed["next_step"]) == ("judicial", None, None)

    # the creditor hears of the closure last, after the workflow closed its tasks
    async def closure_notice() -> bool:
        return any(
            d["subject"].startswith(f"Pratica {reference} chiusa") for d in await outbox(api, pid)
        )

    await eventually(closure_notice, "the creditor's closure notice", seconds=DEADLINE)
    for worklist in WORKLISTS:
        page = await get_json(api, f"/worklists/{worklist}", api.admin, limit=200)
        assert pid not in {t["practice_id"] for t in page["items"]}, worklist

    await assert_timeline(api, pid, tenant.headers, letters)
    await assert_outbox(api, pid, letters, agent_id, lawyer_email, reference)


async def assert_timeline(
    api: Api, pid: str, headers: Headers, letters: list[dict[str, Any]]
) -> None:
    events: list[dict[str, Any]] = await get_json(api, f"/practices/{pid}/events", headers)
    # each workflow numbers its own events: the practice's from 1, the court steps' above
    # JUDICIAL_SEQ_BASE; the timeline interleaves them by time
    own = [e["seq"] for e in events if e["seq"] < JUDICIAL_SEQ_BASE]
    assert own == list(range(1, len(own) + 1))
    court = [e["seq"] for e in events if e["seq"] >= JUDICIAL_SEQ_BASE]
    assert court == sorted(court) and len(set(court)) == len(court)
    moments = [datetime.fromisoformat(e["at"]) for e in events]
    assert moments == sorted(moments)
    step = "step_started"
    assert [(e["kind"], e["data"].get("step")) for e in events if e["kind"] == step] == [
        (step, s)
        for s in (
            "contact_check",
            "reminder_letter",
            "phone_phase",
            "second_letter",
            "skip_tracing",
            "home_visit",
            "legal_notice",
            "formal_demand",
            "legal_opinion",
            "authorization",
        )
    ]
    kinds = [e["kind"] for e in events]
    judicial = kinds.index("phase_changed") + 1
    # out of court, exactly this; then whatever the judicial phase records, and the payment
    # that closes the practice last
    assert kinds[:judicial] == [
        "handed_over",
        step,
        "contacts_checked",
        step,
        "letter_sent",
        "email_copy_sent",
        step,
        "call_queued",
        "call_outcome",
        "call_queued",
        "call_outcome",
        step,
        "letter_sent",
        "email_copy_sent",
        step,
        "step_skipped",
        step,
        "visit_assigned",
        "visit_outcome",
        "visit_outside_rules",
        step,
        "letter_sent",
        "email_copy_sent",
        step,
        "lawyer_assigned",
        "letter_sent",
        "email_copy_sent",
        "demand_term_expired",
        step,
        "opinion_requested",
        "legal_opinion",
        step,
        "authorization_requested",
        "authorization",
        "phase_changed",
    ]
    # the payment closes the practice; only the end of the court steps it stops may follow
    paid = kinds.index("payment")
    assert kinds[paid : paid + 2] == ["payment", "closed"]
    later = kinds[judicial:paid] + kinds[paid + 2 :]
    assert "payment" not in later and "closed" not in later
    assert set(later).isdisjoint(kinds[:judicial]), later

    def data(kind: str, key: str) -> list[Any]:
        return [e["data"].get(key) for e in events if e["kind"] == kind]

    assert data("letter_sent", "letter") == list(LETTERS)
    assert data("letter_sent", "document_id") == [d["id"] for d in letters]
    assert data("call_outcome", "outcome") == ["no_answer", "refused"]
    assert data("visit_outcome", "outcome") == ["refused"]
    assert data("legal_opinion", "recommend_action") == [True]
    assert data("authorization", "authorized") == [True]
    assert data("phase_changed", "phase") == ["judicial"]
    [paid_cents] = data("payment", "amount_cents")
    assert paid_cents > 125040  # the principal and the interest claimed since the authorisation
    assert data("payment", "balance_cents") == [0]
    assert data("closed", "outcome") == ["paid"]
    skipped = next(e for e in events if e["kind"] == "step_skipped")
    assert "Skip tracing" in skipped["summary"]
    # the timeline never carries the debtor's personal data
    for event in events:
        for personal in ("Rossi", "mario.rossi", "3331234567", "Via Roma", "RSSMRA85T10A562S"):
            assert personal not in event["summary"], event


async def assert_outbox(
    api: Api,
    pid: str,
    letters: list[dict[str, Any]],
    agent_id: str,
    lawyer_email: str,
    reference: str,
) -> None:
    """Each letter went by post with an e-mail copy to the debtor; the agent, the lawyer and the
    creditor heard what concerned them; nothing went twice, nothing pretends to be sent."""
    deliveries = await outbox(api, pid)
    # GET /outbox does not show the idempotency key: one delivery per message is what shows
    messages = Counter(
        (d["channel"], d["recipient"], d["subject"], d["document_id"]) for d in deliveries
    )
    assert [m for m, n in messages.items() if n > 1] == []
    assert {(d["status"], d["provider"], d["sent_at"]) for d in deliveries} == {
        ("outbox", "outbox", None)
    }

    for letter in letters:
        sent = sorted(
            (d["channel"], d["recipient"]) for d in deliveries if d["document_id"] == letter["id"]
        )
        assert sent == [("email", DEBTOR_EMAIL), ("post", "debtor:postal")], letter["kind"]

    letter_ids = {d["id"] for d in letters}
    assert {d["document_id"] for d in deliveries} <= letter_ids | {None}
    notices = Counter(
        (d["channel"], d["recipient"], d["subject"].split(" – ")[0].split(":")[0])
        for d in deliveries
        if d["document_id"] is None
    )
    expected = {
        ("notification", f"user:{agent_id}", "Nuova visita assegnata"),
        ("email", lawyer_email, "Richiesta di parere"),
        ("email", lawyer_email, "Azione legale autorizzata"),
        ("email", CREDITOR_EMAIL, "Autorizzazione richiesta"),
        ("email", CREDITOR_EMAIL, f"Pratica {reference} chiusa"),
    }
    assert {n: notices[n] for n in expected} == dict.fromkeys(expected, 1), notices
    to_creditor = [d for d in deliveries if d["recipient"] == CREDITOR_EMAIL]
    assert all(reference in d["subject"] and reference in d["body"] for d in to_creditor)
