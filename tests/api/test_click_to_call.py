"""Click-to-call (POST /worklists/calls/{task_id}/take) on the real app and database: the operator
takes a call from the queue under the contact rules, and Twilio rings the operator's phone and
then dials the debtor, or, without Twilio, the operator gets the number to dial by hand.

Twilio is a local HTTP server answering like its Calls.json; the calls are open `call` tasks on
practices written with the factories (their workflows are not needed to take a call).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import select, update

from api.app import create_app
from api.deps import get_now
from config import Settings
from db.contact_log import CONVERSATION, practice_debtor_key
from db.models import ContactLog, Practice, Task
from tests.api.helpers import (
    ROME,
    Api,
    Headers,
    error_locs,
    in_contact_hours,
    new_user,
    unique_tax_code,
)
from tests.factories import create_creditor, create_practice

DEBTOR_PHONE = "+393331234567"
OPERATOR_PHONE = "+393337654321"
AGENCY_NUMBER = "+390212345678"
ACCOUNT_SID = "AC" + "1" * 32


# --- a local stand-in for Twilio -------------------------------------------------------------


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeTwilio:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    # statuses to answer with, in order; when empty, 201 with a new call
    failures: list[int] = field(default_factory=list)


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    state = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            state.requests.append(Recorded(self.path, dict(self.headers), form))
            if state.failures:
                status = state.failures.pop(0)
                error = {"code": 21211, "message": "refused", "status": status}
                self._answer(status, error)
            elif self.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json":
                sid = f"CA{secrets.token_hex(16)}"
                self._answer(
                    201,
                    {
                        "sid": sid,
                        "account_sid": ACCOUNT_SID,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "status": "queued",
                        "direction": "outbound-api",
                        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
                    },
                )
            else:
                self._answer(404, {"code": 20404, "message": "not found", "status": 404})

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


# --- apps on the shared database, with and without Twilio, on a clock the test sets ----------


@dataclass
class Clock:
    now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now if self.now is not None else in_contact_hours()


@dataclass
class Apps:
    twilio: httpx.AsyncClient  # Twilio configured, pointed at the local server
    manual: httpx.AsyncClient  # no credentials; the base URL still points at the local server
    clock: Clock


@pytest.fixture(scope="module")
async def apps(api: Api, twilio: FakeTwilio) -> AsyncIterator[Apps]:
    clock = Clock()
    with_twilio = dataclasses.replace(
        api.settings,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token="twilio-token-for-tests",
        twilio_from=AGENCY_NUMBER,
        twilio_base_url=twilio.url,
    )
    # a base URL but no credentials: anything reaching the server would be a pretended call
    without = dataclasses.replace(api.settings, twilio_base_url=twilio.url)

    def app_for(settings: Settings) -> Any:
        app = create_app(settings, temporal_client=api.temporal)
        app.dependency_overrides[get_now] = clock
        return app

    twilio_app, manual_app = app_for(with_twilio), app_for(without)
    async with (
        twilio_app.router.lifespan_context(twilio_app),
        manual_app.router.lifespan_context(manual_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=twilio_app), base_url="http://recupero.test"
        ) as twilio_http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manual_app), base_url="http://recupero.test"
        ) as manual_http,
    ):
        yield Apps(twilio=twilio_http, manual=manual_http, clock=clock)


@pytest.fixture(autouse=True)
def fresh(apps: Apps, twilio: FakeTwilio) -> Iterator[None]:
    apps.clock.now = None
    twilio.requests.clear()
    twilio.failures.clear()
    yield
    apps.clock.now = None


@pytest.fixture
async def opened(api: Api) -> AsyncIterator[list[str]]:
    """Ids of the tasks a test opened; closed afterwards so the shared queue stays short."""
    ids: list[str] = []
    yield ids
    async with api.db.session() as session, session.begin():
        await session.execute(
            update(Task).where(Task.id.in_(ids), Task.status == "open").values(status="done")
        )


async def open_call(
    api: Api, opened: list[str], *, kind: str = "call", tax_code: str | None = None
) -> tuple[Practice, str]:
    """A practice of a debtor of its own (unless `tax_code` says otherwise) with an open task."""
    creditor = await create_creditor(api.db)
    practice = await create_practice(
        api.db, creditor, debtor_tax_code=tax_code or unique_tax_code(), phone=DEBTOR_PHONE
    )
    task = Task(
        idempotency_key=f"{practice.id}:{kind}:{secrets.token_hex(4)}",
        practice_id=practice.id,
        kind=kind,
        detail="attempt 1",
    )
    async with api.db.session() as session, session.begin():
        session.add(task)
    opened.append(task.id)
    return practice, task.id


async def task_row(api: Api, task_id: str) -> Task:
    async with api.db.session() as session:
        return (await session.execute(select(Task).where(Task.id == task_id))).scalar_one()


async def operator_with_phone(api: Api, phone: str | None = OPERATOR_PHONE) -> tuple[str, Headers]:
    return await new_user(api, "operator", **({"phone": phone} if phone else {}))


def take(task_id: str) -> str:
    return f"/worklists/calls/{task_id}/take"


def next_sunday_noon() -> datetime:
    today = datetime.now(ROME).date()
    sunday = today + timedelta(days=(6 - today.weekday()) or 7)
    return datetime(sunday.year, sunday.month, sunday.day, 12, 0, tzinfo=ROME)


# --- the operator's phone on the user ----------------------------------------------------------


async def test_a_user_phone_is_stored_in_e164_and_checked(api: Api) -> None:
    created = await api.http.post(
        "/users",
        headers=api.admin,
        json={"role": "operator", "name": "Giulia", "phone": "333 765 4321"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == OPERATOR_PHONE
    listed = (await api.http.get("/users?role=operator", headers=api.admin)).json()
    assert any(u["id"] == created.json()["id"] and u["phone"] == OPERATOR_PHONE for u in listed)

    bad = await api.http.post(
        "/users", headers=api.admin, json={"role": "operator", "name": "Giulia", "phone": "12"}
    )
    assert bad.status_code == 422
    assert ["body", "phone"] in error_locs(bad)


# --- taking a call -----------------------------------------------------------------------------


async def test_taking_a_call_assigns_it_and_another_operator_gets_409(
    api: Api, apps: Apps, twilio: FakeTwilio, opened: list[str]
) -> None:
    practice, task_id = await open_call(api, opened)
    first_id, first = await operator_with_phone(api)
    _, second = await operator_with_phone(api)

    taken = await apps.manual.post(take(task_id), headers=first)
    assert taken.status_code == 200, taken.text
    assert taken.json() == {
        "task_id": task_id,
        "practice_id": practice.id,
        "assignee_id": first_id,
        "connected": "manual",
        "call_sid": None,
        "phone": DEBTOR_PHONE,
    }
    assert (await task_row(api, task_id)).assignee_id == first_id
    queue = (await api.http.get("/worklists/calls", headers=first, params={"limit": 200})).json()
    listed = next(c for c in queue["items"] if c["id"] == task_id)
    assert listed["assignee_id"] == first_id

    # the operator who has it may take it again (a missed ring); nobody else may
    assert (await apps.manual.post(take(task_id), headers=first)).status_code == 200
    other = await apps.manual.post(take(task_id), headers=second)
    assert other.status_code == 409
    assert "another operator" in other.json()["detail"]
    by_admin = await apps.manual.post(take(task_id), headers=api.admin)
    assert by_admin.status_code == 409
    assert (await task_row(api, task_id)).assignee_id == first_id

    # without Twilio's credentials nothing went out, though its URL was set
    assert twilio.requests == []


async def test_outside_the_contact_hours_is_409_with_the_reason(
    api: Api, apps: Apps, twilio: FakeTwilio, opened: list[str]
) -> None:
    _, task_id = await open_call(api, opened)
    _, operator = await operator_with_phone(api)
    apps.clock.now = next_sunday_noon()

    for client in (apps.manual, apps.twilio):
        refused = await client.post(take(task_id), headers=operator)
        assert refused.status_code == 409, refused.text
        assert "outside the contact hours" in refused.json()["detail"]
    assert (await task_row(api, task_id)).assignee_id is None
    assert twilio.requests == []

    apps.clock.now = None  # back in the contact hours
    assert (await apps.manual.post(take(task_id), headers=operator)).status_code == 200


async def test_over_the_debtors_daily_conversation_is_409(
    api: Api, apps: Apps, opened: list[str]
) -> None:
    """The debtor already talked to the agency today about another practice of its own: the
    call is held back as the queue holds it back."""
    tax_code = unique_tax_code()
    practice, task_id = await open_call(api, opened, tax_code=tax_code)
    other, _ = await open_call(api, opened, tax_code=tax_code)
    async with api.db.session() as session, session.begin():
        session.add(
            ContactLog(
                idempotency_key=f"{other.id}:conversation:{secrets.token_hex(4)}",
                debtor_key=practice_debtor_key(practice),
                practice_id=other.id,
                channel="call",
                kind=CONVERSATION,
                at=in_contact_hours(),
            )
        )
    _, operator = await operator_with_phone(api)

    refused = await apps.manual.post(take(task_id), headers=operator)
    assert refused.status_code == 409, refused.text
    assert "already had a conversation" in refused.json()["detail"]
    assert (await task_row(api, task_id)).assignee_id is None


async def test_not_a_call_or_no_longer_open(api: Api, apps: Apps, opened: list[str]) -> None:
    _, operator = await operator_with_phone(api)
    _, visit_id = await open_call(api, opened, kind="visit")
    assert (await apps.manual.post(take(visit_id), headers=operator)).status_code == 404
    assert (await apps.manual.post(take("f" * 32), headers=operator)).status_code == 404

    _, task_id = await open_call(api, opened)
    async with api.db.session() as session, session.begin():
        await session.execute(update(Task).where(Task.id == task_id).values(status="done"))
    closed = await apps.manual.post(take(task_id), headers=operator)
    assert closed.status_code == 409
    assert "no longer open" in closed.json()["detail"]


async def test_only_operators_and_the_admin_take_calls(
    api: Api, apps: Apps, opened: list[str]
) -> None:
    _, task_id = await open_call(api, opened)
    for role, extra in (
        ("field_agent", {"provinces": ["MI"]}),
        ("lawyer", {}),
    ):
        _, headers = await new_user(api, role, **extra)
        assert (await apps.manual.post(take(task_id), headers=headers)).status_code == 403
    creditor = await create_creditor(api.db)
    _, creditor_user = await new_user(api, "creditor", creditor_id=creditor.id)
    assert (await apps.manual.post(take(task_id), headers=creditor_user)).status_code == 403
    assert (await apps.manual.post(take(task_id))).status_code == 401
    assert (await task_row(api, task_id)).assignee_id is None

    taken = await apps.manual.post(take(task_id), headers=api.admin)
    assert taken.status_code == 200 and taken.json()["connected"] == "manual"


# --- with Twilio -------------------------------------------------------------------------------


async def test_twilio_rings_the_operator_then_dials_the_debtor(
    api: Api,
    apps: Apps,
    twilio: FakeTwilio,
    opened: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, task_id = await open_call(api, opened)
    operator_id, operator = await operator_with_phone(api)

    with caplog.at_level(logging.INFO):
        taken = await apps.twilio.post(take(task_id), headers=operator)
    assert taken.status_code == 200, taken.text
    body = taken.json()
    assert body["connected"] == "ringing_operator"
    assert body["call_sid"].startswith("CA") and body["phone"] is None
    assert body["assignee_id"] == operator_id
    assert (await task_row(api, task_id)).assignee_id == operator_id

    assert len(twilio.requests) == 1
    request = twilio.requests[0]
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert request.headers["Authorization"].startswith("Basic ")
    assert request.form["To"] == OPERATOR_PHONE  # the operator's phone rings first
    assert request.form["From"] == AGENCY_NUMBER
    assert request.form["Twiml"] == (
        f'<Response><Dial callerId="{AGENCY_NUMBER}">{DEBTOR_PHONE}</Dial></Response>'
    )
    # a live operator on the line: nothing recorded, nothing played
    assert not {"Record", "Url", "MachineDetection"} & set(request.form)

    # the numbers go to Twilio only, never to the product's logs (nor twilio's own)
    ours = [r for r in caplog.records if r.name.startswith(("api", "activities", "twilio"))]
    assert any(body["call_sid"] in r.getMessage() for r in ours)
    for number in (DEBTOR_PHONE, OPERATOR_PHONE, AGENCY_NUMBER):
        assert not [r for r in ours if number[3:] in r.getMessage()]


async def test_twilio_but_an_operator_without_a_phone_dials_by_hand(
    api: Api, apps: Apps, twilio: FakeTwilio, opened: list[str]
) -> None:
    _, task_id = await open_call(api, opened)
    _, operator = await operator_with_phone(api, phone=None)

    taken = await apps.twilio.post(take(task_id), headers=operator)
    assert taken.status_code == 200, taken.text
    assert taken.json()["connected"] == "manual"
    assert taken.json()["phone"] == DEBTOR_PHONE
    assert twilio.requests == []


async def test_twilio_refusing_the_call_is_502_and_the_call_stays_taken(
    api: Api, apps: Apps, twilio: FakeTwilio, opened: list[str]
) -> None:
    _, task_id = await open_call(api, opened)
    operator_id, operator = await operator_with_phone(api)
    twilio.failures.append(400)

    refused = await apps.twilio.post(take(task_id), headers=operator)
    assert refused.status_code == 502, refused.text
    assert DEBTOR_PHONE not in refused.text and OPERATOR_PHONE not in refused.text
    assert (await task_row(api, task_id)).assignee_id == operator_id

    again = await apps.twilio.post(take(task_id), headers=operator)
    assert again.status_code == 200 and again.json()["connected"] == "ringing_operator"
    assert len(twilio.requests) == 2
