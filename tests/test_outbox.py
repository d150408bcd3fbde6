"""Exactly-once: outbox rows, providers behind local HTTP servers, the read-model writes, work
lists, assignments and notifications."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import func, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import (
    OutboxEmail,
    OutboxSms,
    PracticeActivities,
    SendGridEmail,
    TwilioSms,
    build_activities,
    email_channel_for,
    sms_channel_for,
)
from activities.channels import ProviderUnavailable
from activities.deliveries import Message
from db.models import Delivery, Document, Event, LedgerRow, Practice, Task
from db.session import Database
from domain import ledger
from domain.activity_io import (
    ActivityName,
    AssignInput,
    CloseTasksInput,
    LetterInput,
    NotifyInput,
    OpenTaskInput,
    RecordInput,
    ReminderInput,
)
from domain.actor import ActorKind
from domain.ledger import LedgerEntry
from domain.money import format_euros
from domain.practice import (
    Channels,
    Outcome,
    Phase,
    PracticeSnapshot,
    Status,
    TimelineEvent,
)
from domain.retention import SWEEP_RETENTION_ACTIVITY
from domain.scheduled import ScheduledName
from tests.factories import create_creditor, create_practice, create_user, make_settings

# twilio 9's async client still uses aiohttp's BasicAuth, which aiohttp 3.13+ deprecates
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:twilio.*"),
    # the same warning, raised where activities.channels wraps the client to read Retry-After
    pytest.mark.filterwarnings("ignore::DeprecationWarning:activities.channels"),
]

# --- a local stand-in for SendGrid and Twilio --------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class FakeProvider:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    # statuses to answer with, in order (a status, or a status and headers); when empty, success
    failures: list[int | tuple[int, dict[str, str]]] = field(default_factory=list)


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    state = FakeProvider(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(Recorded("POST", self.path, dict(self.headers), body))
            if state.failures:
                failure = state.failures.pop(0)
                status, headers = failure if isinstance(failure, tuple) else (failure, {})
                payload = json.dumps({"errors": [{"message": "refused"}], "status": status})
                self._answer(status, payload.encode(), headers)
            elif self.path == "/v3/mail/send":
                self._answer(202, b"", {"X-Message-Id": f"sg-{len(state.requests)}"})
            elif self.path.endswith("/Messages.json"):
                sid = f"SM{len(state.requests):032d}"
                payload = json.dumps({"sid": sid, "status": "queued", "to": "x", "body": ""})
                self._answer(201, payload.encode(), {})
            else:
                self._answer(404, b"{}", {})

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
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


def provider_settings(url: str) -> Any:
    return make_settings(
        sendgrid_api_key="SG.test-key",
        sendgrid_host=url,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="token",
        twilio_from="+390200000000",
        twilio_base_url=url,
    )


@pytest.fixture
def acts(database: Database) -> PracticeActivities:
    return PracticeActivities(database, make_settings())


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.session() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


async def delivery(db: Database, key: str) -> Delivery:
    async with db.session() as session:
        row = (
            await session.execute(select(Delivery).where(Delivery.idempotency_key == key))
        ).scalar_one()
        return row


# --- the outbox --------------------------------------------------------------------------------


async def test_send_letter_twice_with_one_key_writes_once(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, pec="rossi@pec.example.it")
    letter = LetterInput(
        practice.id, f"{practice.id}:reminder_letter:1", "reminder_letter", 125_050, True, True
    )
    first = await acts.send_letter(letter)
    again = await acts.send_letter(letter)

    assert again == first
    assert first.deliveries == ["post:outbox", "email:outbox", "pec:outbox"]
    assert await count(database, Document, Document.practice_id == practice.id) == 1
    assert await count(database, Delivery, Delivery.practice_id == practice.id) == 3
    for channel in ("post", "email", "pec"):
        row = await delivery(database, f"{letter.idempotency_key}:{channel}")
        assert (row.status, row.provider, row.channel) == ("outbox", "outbox", channel)
        assert row.document_id == first.document_id

    second = await acts.send_letter(
        LetterInput(practice.id, f"{practice.id}:second_letter:1", "second_letter", 125_050)
    )
    assert second.document_id != first.document_id
    assert await count(database, Document, Document.practice_id == practice.id) == 2
    assert await count(database, Delivery, Delivery.practice_id == practice.id) == 5


async def test_a_retry_after_a_partial_run_completes_what_is_missing(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    letter = LetterInput(practice.id, "partial:1", "reminder_letter", 125_050)
    first = await acts.send_letter(letter)
    async with database.session() as session, session.begin():
        row = (
            await session.execute(
                select(Delivery).where(Delivery.idempotency_key == "partial:1:email")
            )
        ).scalar_one()
        await session.delete(row)  # as if the worker died before the e-mail copy

    again = await acts.send_letter(letter)
    assert again.document_id == first.document_id
    assert again.deliveries == ["post:outbox", "email:outbox"]
    assert await count(database, Delivery, Delivery.practice_id == practice.id) == 2


async def test_channels_follow_the_settings(database: Database) -> None:
    assert isinstance(email_channel_for(database, make_settings()), OutboxEmail)
    assert isinstance(sms_channel_for(database, make_settings()), OutboxSms)
    configured = provider_settings("http://127.0.0.1:9")
    assert isinstance(email_channel_for(database, configured), SendGridEmail)
    assert isinstance(sms_channel_for(database, configured), TwilioSms)
    # a Twilio account without a sender number cannot send
    assert isinstance(
        sms_channel_for(database, make_settings(twilio_account_sid="AC1", twilio_auth_token="t")),
        OutboxSms,
    )


async def test_concurrent_outbox_writes_of_one_key_make_one_row(database: Database) -> None:
    outbox = OutboxEmail(database)
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    message = Message("race:1", "email", "a@example.com", "s", "b", practice.id)
    results = await asyncio.gather(*(outbox.send(message) for _ in range(5)))
    assert len({r.delivery_id for r in results}) == 1
    assert await count(database, Delivery, Delivery.idempotency_key == "race:1") == 1


# --- SendGrid ------------------------------------------------------------------------------------


async def test_sendgrid_sends_once_with_the_pdf_attached(
    database: Database, provider: FakeProvider
) -> None:
    acts = PracticeActivities(database, provider_settings(provider.url))
    assert isinstance(acts.email, SendGridEmail)
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    letter = LetterInput(practice.id, f"{practice.id}:legal_notice:1", "legal_notice", 125_050)

    result = await acts.send_letter(letter)
    assert result.deliveries == ["post:outbox", "email:sent"]
    assert len(provider.requests) == 1
    request = provider.requests[0]
    assert request.path == "/v3/mail/send"
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    mail = request.json()
    personalization = mail["personalizations"][0]
    assert personalization["to"] == [{"email": "mario.rossi@example.com"}]
    assert (
        mail["subject"] == f"Comunicazione da Studio Servizi Creditizi – rif. {practice.reference}"
    )
    assert mail["from"]["email"] == "noreply@studio-servizi.example.it"
    [attachment] = mail["attachments"]
    assert attachment["filename"] == f"legal_notice-{practice.reference}.pdf"
    assert attachment["type"] == "application/pdf"
    assert base64.b64decode(attachment["content"]).startswith(b"%PDF")

    row = await delivery(database, f"{letter.idempotency_key}:email")
    # the Event Webhook hands custom args back with every event: that is how it finds the row
    assert mail["custom_args"] == {
        "idempotency_key": f"{letter.idempotency_key}:email",
        "delivery_id": row.id,
    }
    assert (row.status, row.provider, row.provider_message_id) == ("sent", "sendgrid", "sg-1")
    assert row.sent_at is not None

    again = await acts.send_letter(letter)
    assert again == result
    assert len(provider.requests) == 1


async def test_sendgrid_outage_is_retried_and_sends_once(
    database: Database, provider: FakeProvider
) -> None:
    email = SendGridEmail(database, provider_settings(provider.url))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    message = Message("outage:1", "email", "a@example.com", "Oggetto", "Testo", practice.id)

    provider.failures = [503, 401]
    for _ in range(2):
        before = datetime.now(UTC)
        with pytest.raises(ProviderUnavailable) as raised:
            await email.send(message)
        row = await delivery(database, "outage:1")
        # parked, with when the retry comes: the delay the error hands Temporal
        assert (row.status, row.retry_reason) == ("parked", "provider_unavailable")
        assert raised.value.next_retry_delay == timedelta(seconds=1)
        assert row.retry_at is not None and row.retry_at >= before + timedelta(seconds=1)

    outcome = await email.send(message)  # what the activity's retry does
    assert outcome.status == "sent"
    assert await email.send(message) == outcome
    assert len(provider.requests) == 3
    assert await count(database, Delivery, Delivery.idempotency_key == "outage:1") == 1
    row = await delivery(database, "outage:1")
    assert (row.retry_reason, row.retry_at) == (None, None)


async def test_a_sendgrid_429_parks_the_delivery_for_its_retry_after(
    database: Database, provider: FakeProvider
) -> None:
    email = SendGridEmail(database, provider_settings(provider.url))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    message = Message("busy:1", "email", "a@example.com", "Oggetto", "Testo", practice.id)
    provider.failures = [(429, {"Retry-After": "7"})]
    with pytest.raises(ProviderUnavailable) as raised:
        await email.send(message)
    assert raised.value.next_retry_delay == timedelta(seconds=7)
    row = await delivery(database, "busy:1")
    assert (row.status, row.retry_reason) == ("parked", "rate_limited")
    # every worker's sends to SendGrid wait for the Retry-After, not only this one's
    assert await email.limiter.try_take("sendgrid") > 6
    assert len(provider.requests) == 1


async def test_a_twilio_429_parks_the_delivery_for_its_retry_after(
    database: Database, provider: FakeProvider
) -> None:
    sms = TwilioSms(database, provider_settings(provider.url))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    message = Message("tw-busy:1", "sms", "+393331234567", body="x", practice_id=practice.id)
    provider.failures = [(429, {"Retry-After": "5"})]
    with pytest.raises(ProviderUnavailable) as raised:
        await sms.send(message)
    assert raised.value.next_retry_delay == timedelta(seconds=5)
    row = await delivery(database, "tw-busy:1")
    assert (row.status, row.retry_reason) == ("parked", "rate_limited")


async def test_sendgrid_refusal_is_reported_not_retried_forever(
    database: Database, provider: FakeProvider
) -> None:
    acts = PracticeActivities(database, provider_settings(provider.url))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    provider.failures = [400]
    result = await acts.send_pre_due_reminder(
        ReminderInput(practice.id, "refused:1", "before", date(2026, 6, 3), 41_000, sms=False)
    )
    assert result.deliveries == []
    assert result.skipped == ["email: refused by sendgrid"]
    assert (await delivery(database, "refused:1:email")).status == "failed"


async def test_a_pending_delivery_is_never_sent_again(
    database: Database, provider: FakeProvider
) -> None:
    """A worker that died after the provider call but before recording it left a pending row:
    the retry must not send a second copy."""
    email = SendGridEmail(database, provider_settings(provider.url))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    async with database.session() as session, session.begin():
        session.add(
            Delivery(
                idempotency_key="crashed:1",
                practice_id=practice.id,
                channel="email",
                recipient="a@example.com",
                status="pending",
                provider="sendgrid",
            )
        )
    outcome = await email.send(Message("crashed:1", "email", "a@example.com", "s", "b"))
    assert outcome.label == "email:pending"
    assert provider.requests == []


async def test_unreachable_sendgrid_marks_the_delivery_failed(database: Database) -> None:
    email = SendGridEmail(database, provider_settings("http://127.0.0.1:9"))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    with pytest.raises(ProviderUnavailable):
        await email.send(Message("down:1", "email", "a@example.com", "s", "b", practice.id))
    assert (await delivery(database, "down:1")).status == "parked"


# --- Twilio --------------------------------------------------------------------------------------


async def test_twilio_sends_the_reminder_sms_once(
    database: Database, provider: FakeProvider
) -> None:
    settings = provider_settings(provider.url)
    acts = PracticeActivities(database, settings, email=OutboxEmail(database))
    assert isinstance(acts.sms, TwilioSms)
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    reminder = ReminderInput(
        practice.id, f"{practice.id}:pre_due:before", "before", date(2026, 6, 3), 41_000
    )

    result = await acts.send_pre_due_reminder(reminder)
    assert result.deliveries == ["email:outbox", "sms:sent"]
    [request] = provider.requests
    assert request.path == f"/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"
    form = request.form()
    assert form["To"] == "+393331234567"
    assert form["From"] == "+390200000000"
    assert form["Body"].startswith("Gentile cliente, per una comunicazione che la riguarda")
    assert practice.reference in form["Body"]
    assert "StatusCallback" not in form  # no public URL configured: no callbacks asked for
    expected_auth = base64.b64encode(f"{settings.twilio_account_sid}:token".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_auth}"

    row = await delivery(database, f"{reminder.idempotency_key}:sms")
    assert (row.status, row.provider) == ("sent", "twilio")
    assert row.provider_message_id == f"SM{1:032d}"

    assert await acts.send_pre_due_reminder(reminder) == result
    assert len(provider.requests) == 1


async def test_twilio_refusal_and_outage(database: Database, provider: FakeProvider) -> None:
    sms = TwilioSms(database, provider_settings(provider.url))
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)

    provider.failures = [400]
    refused = await sms.send(
        Message("tw-bad:1", "sms", "+393331234567", body="x", practice_id=practice.id)
    )
    assert refused.status == "failed"

    provider.failures = [500]
    message = Message("tw-down:1", "sms", "+393331234567", body="x", practice_id=practice.id)
    with pytest.raises(ProviderUnavailable):
        await sms.send(message)
    assert (await sms.send(message)).status == "sent"
    assert len(provider.requests) == 3


async def test_twilio_is_asked_for_status_callbacks_at_the_public_url(
    database: Database, provider: FakeProvider
) -> None:
    settings = replace(provider_settings(provider.url), public_url="https://recupero.example.it")
    sms = TwilioSms(database, settings)
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    await sms.send(Message("tw-cb:1", "sms", "+393331234567", body="x", practice_id=practice.id))
    [request] = provider.requests
    assert request.form()["StatusCallback"] == "https://recupero.example.it/webhooks/twilio"


# --- record_practice -----------------------------------------------------------------------------


def snapshot(version: int, **overrides: Any) -> PracticeSnapshot:
    values: dict[str, Any] = {
        "version": version,
        "status": Status.ACTIVE,
        "phase": Phase.OUT_OF_COURT,
        "balance_cents": 125_050,
        "paid_cents": 0,
        "claim_cents": 125_050,
        "current_step": "reminder_letter",
        "next_step": "phone_phase",
        "next_action_at": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "channels": Channels(email=True, phone=True, pec=False, address=True),
    }
    values.update(overrides)
    return PracticeSnapshot(**values)


def event(seq: int, kind: str = "letter_sent") -> TimelineEvent:
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC) + timedelta(minutes=seq)
    return TimelineEvent(seq=seq, at=at, kind=kind, summary=f"event {seq}", data={"n": seq})


async def test_record_practice_writes_the_ledger_once(
    database: Database, acts: PracticeActivities
) -> None:
    """The typed lines in the record's input go to ledger_lines, keyed by their event's seq: a
    retried record, or a later one carrying a line again, adds nothing twice."""
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    paid = event(2, "payment")
    line = LedgerEntry(2, paid.at, ledger.payment(date(2026, 11, 23), 5_000, "CRO-9", "FT-1"))
    cost = LedgerEntry(3, paid.at, ledger.cost(date(2026, 11, 20), 700, "legal"), ActorKind.USER)
    record = RecordInput(practice.id, [event(1), paid], snapshot(2), [line])
    await acts.record_practice(record)
    await acts.record_practice(record)
    await acts.record_practice(
        RecordInput(practice.id, [paid, event(3, "cost")], snapshot(3), [line, cost])
    )
    async with database.session() as session:
        rows = list(
            await session.scalars(
                select(LedgerRow)
                .where(LedgerRow.practice_id == practice.id)
                .order_by(LedgerRow.seq)
            )
        )
    assert [
        (r.seq, r.at, r.kind, r.day, r.amount_cents, r.reference, r.invoice_number, r.cost_kind,
         r.actor_kind)
        for r in rows
    ] == [
        (2, paid.at, "payment", date(2026, 11, 23), 5_000, "CRO-9", "FT-1", None, None),
        (3, paid.at, "cost", date(2026, 11, 20), 700, "", None, "legal", "user"),
    ]  # fmt: skip


async def load(db: Database, practice_id: str) -> Practice:
    async with db.session() as session:
        practice = await session.get(Practice, practice_id)
        assert practice is not None
        return practice


async def test_record_practice_retries_do_not_duplicate_events(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    record = RecordInput(practice.id, [event(1), event(2)], snapshot(2))
    await acts.record_practice(record)
    await acts.record_practice(record)
    await acts.record_practice(RecordInput(practice.id, [event(2), event(3)], snapshot(3)))

    async with database.session() as session:
        rows = (
            (
                await session.execute(
                    select(Event).where(Event.practice_id == practice.id).order_by(Event.seq)
                )
            )
            .scalars()
            .all()
        )
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].data == {"n": 1} and rows[0].summary == "event 1"

    stored = await load(database, practice.id)
    assert stored.snapshot_version == 3
    assert stored.current_step == "reminder_letter" and stored.phase == "out_of_court"
    assert stored.snapshot["next_action_at"] == "2026-12-01T09:00:00Z"
    assert stored.snapshot["channels"] == {
        "email": True,
        "phone": True,
        "pec": False,
        "address": True,
    }


async def test_an_older_snapshot_does_not_overwrite_a_newer_one(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    newer = snapshot(
        5,
        status=Status.CLOSED,
        outcome=Outcome.PAID,
        balance_cents=0,
        paid_cents=125_050,
        current_step=None,
        next_step=None,
        next_action_at=None,
    )
    await acts.record_practice(RecordInput(practice.id, [event(7, "closed")], newer))
    await acts.record_practice(RecordInput(practice.id, [event(6)], snapshot(4)))

    stored = await load(database, practice.id)
    assert (stored.snapshot_version, stored.status, stored.outcome) == (5, "closed", "paid")
    assert (stored.balance_cents, stored.paid_cents) == (0, 125_050)
    assert stored.snapshot["status"] == "closed"
    assert await count(database, Event, Event.practice_id == practice.id) == 2  # the events land


async def test_record_practice_keeps_invalid_channels(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)  # e-mail, phone, address; no PEC
    wrong_number = Channels(email=True, phone=False, pec=False, address=True)
    await acts.record_practice(RecordInput(practice.id, [], snapshot(1, channels=wrong_number)))
    assert (await load(database, practice.id)).invalid_channels == ["phone"]

    returned = Channels(email=False, phone=True, pec=False, address=False)
    await acts.record_practice(RecordInput(practice.id, [], snapshot(2, channels=returned)))
    assert (await load(database, practice.id)).invalid_channels == ["email", "address"]


async def test_record_practice_of_a_closed_practice_keeps_the_read_models_marks(
    database: Database, acts: PracticeActivities
) -> None:
    """A delivery report on a closed practice marks the contact although the workflow refuses
    it; the closed workflow's next snapshot, which still trusts the contact, must not wipe it."""
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    async with database.session() as session, session.begin():
        row = await session.get(Practice, practice.id)
        assert row is not None
        row.invalid_channels = ["email"]
    trusted = Channels(email=True, phone=True, pec=False, address=True)
    closed = snapshot(1, status=Status.CLOSED, channels=trusted)
    await acts.record_practice(RecordInput(practice.id, [], closed))
    assert (await load(database, practice.id)).invalid_channels == ["email"]


async def test_record_practice_is_not_held_up_by_a_busy_default_executor(
    database: Database, acts: PracticeActivities
) -> None:
    """Letters are drawn as PDFs in asyncio's default executor: with every one of its threads
    busy, the write that a command's answer waits on still goes through at once."""
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    loop = asyncio.get_running_loop()
    release = threading.Event()
    busy = [loop.run_in_executor(None, release.wait) for _ in range(64)]
    try:
        await asyncio.wait_for(
            acts.record_practice(RecordInput(practice.id, [event(1)], snapshot(1))), timeout=10
        )
    finally:
        release.set()
        await asyncio.gather(*busy)
    assert await count(database, Event, Event.practice_id == practice.id) == 1


async def test_activities_run_in_the_temporal_activity_environment(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    env = ActivityEnvironment()
    await env.run(acts.record_practice, RecordInput(practice.id, [event(1)], snapshot(1)))
    assert await count(database, Event, Event.practice_id == practice.id) == 1


def test_build_activities_registers_every_activity_name(database: Database) -> None:
    from temporalio.activity import _Definition

    names = {
        _Definition.must_from_callable(fn).name
        for fn in build_activities(database, make_settings())
    }
    expected = {v for k, v in vars(ActivityName).items() if not k.startswith("_")}
    # and the scheduled workflows' (schedules.py)
    expected |= {
        ScheduledName.SWEEP_STRANDED,
        ScheduledName.CLOSE_PRINT_BATCHES,
        ScheduledName.CHECK_RATES,
        SWEEP_RETENTION_ACTIVITY,
    }
    assert names == expected


# --- work lists ------------------------------------------------------------------------------


async def test_open_task_is_idempotent_and_close_tasks_closes_open_ones(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    call = OpenTaskInput(practice.id, f"{practice.id}:call:1", "call", detail="attempt 1")
    first = await acts.open_task(call)
    assert (await acts.open_task(call)).task_id == first.task_id
    visit = await acts.open_task(OpenTaskInput(practice.id, f"{practice.id}:visit:1", "visit"))
    assert visit.task_id != first.task_id
    assert await count(database, Task, Task.practice_id == practice.id) == 2

    await acts.close_tasks(CloseTasksInput(practice.id, kind="call", outcome="no_answer"))
    await acts.close_tasks(CloseTasksInput(practice.id, kind="call", outcome="again"))
    async with database.session() as session:
        tasks = {t.kind: t for t in (await session.execute(select(Task))).scalars()}
    assert tasks["call"].status == "done" and tasks["call"].outcome == "no_answer"
    assert tasks["call"].closed_at is not None
    assert tasks["visit"].status == "open"

    await acts.close_tasks(CloseTasksInput(practice.id, status="cancelled"))
    async with database.session() as session:
        visit_row = await session.get(Task, visit.task_id)
    assert visit_row is not None and visit_row.status == "cancelled"

    with pytest.raises(ApplicationError):
        await acts.close_tasks(CloseTasksInput(practice.id, status="open"))


async def test_assign_field_agent_by_province_and_load(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    rome_only = await create_user(database, "field_agent", provinces=["RM"], created_at=base)
    busy = await create_user(
        database, "field_agent", provinces=["MI", "MB"], created_at=base + timedelta(days=1)
    )
    free = await create_user(
        database, "field_agent", provinces=["mi"], created_at=base + timedelta(days=2)
    )
    await create_user(database, "field_agent", provinces=["MI"], active=False, created_at=base)
    other = await create_practice(database, creditor)
    await acts.open_task(OpenTaskInput(other.id, "busy-visit", "visit", assignee_id=busy.id))

    milan = await create_practice(database, creditor)
    result = await acts.assign_field_agent(AssignInput(milan.id, f"{milan.id}:visit"))
    assert result.user_id == free.id
    assert (await load(database, milan.id)).field_agent_id == free.id
    again = await acts.assign_field_agent(AssignInput(milan.id, f"{milan.id}:visit"))
    assert again.user_id == free.id

    # equal load: the oldest agent
    monza = await create_practice(database, creditor, province="MB")
    assert (await acts.assign_field_agent(AssignInput(monza.id, "k"))).user_id == busy.id

    # issue 11, point 11: the debtor's current address wins over the hand-over's province the
    # workflow passes (skip tracing found the debtor moved from Rome to Monza)
    moved = await create_practice(database, creditor, province="MB")
    moved_to = await acts.assign_field_agent(AssignInput(moved.id, "k2", "RM"))
    assert moved_to.user_id == busy.id
    assert moved_to.reason.startswith("covers province MB")
    # with no province on the practice, the hand-over's
    unknown = await create_practice(database, creditor, province="")
    assert (
        await acts.assign_field_agent(AssignInput(unknown.id, "k4", "RM"))
    ).user_id == rome_only.id

    naples = await create_practice(database, creditor, province="NA")
    nobody = await acts.assign_field_agent(AssignInput(naples.id, "k3"))
    assert nobody.user_id is None
    assert nobody.reason == "no field agent covers province NA"


async def test_assign_field_agent_replaces_an_agent_who_left(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    gone = await create_user(database, "field_agent", provinces=["MI"], active=False)
    present = await create_user(database, "field_agent", provinces=["MI"])
    practice = await create_practice(database, creditor, field_agent_id=gone.id)
    result = await acts.assign_field_agent(AssignInput(practice.id, "k"))
    assert result.user_id == present.id


async def test_assign_lawyer_by_open_practices(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    none = await acts.assign_lawyer(AssignInput(practice.id, "k"))
    assert none == none.__class__(user_id=None, reason="no lawyer registered")

    base = datetime(2025, 1, 1, tzinfo=UTC)
    loaded = await create_user(database, "lawyer", created_at=base)
    light = await create_user(database, "lawyer", created_at=base + timedelta(days=1))
    await create_practice(database, creditor, lawyer_id=loaded.id)
    await create_practice(database, creditor, lawyer_id=light.id, status="closed")

    result = await acts.assign_lawyer(AssignInput(practice.id, "k"))
    assert result.user_id == light.id
    assert (await load(database, practice.id)).lawyer_id == light.id
    assert (await acts.assign_lawyer(AssignInput(practice.id, "k"))).user_id == light.id


# --- notifications ---------------------------------------------------------------------------
# Subjects and bodies are written by the activity from templates/notifications, with what the
# database holds: the workflow sends a template name, ids, amounts and flags only.


async def test_notify_a_creditor_without_email_leaves_a_readable_notification(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database, email=None)
    await create_user(database, "creditor", creditor_id=creditor.id, email=None)
    practice = await create_practice(database, creditor)
    notice = NotifyInput(
        practice.id,
        f"{practice.id}:authorization-request:0",
        "creditor",
        "authorization_request",
        {"reminder": 0, "balance_cents": 125_050, "recommend_action": True},
    )
    result = await acts.notify(notice)
    assert result.deliveries == ["notification:outbox"]
    assert await acts.notify(notice) == result

    row = await delivery(database, f"{notice.idempotency_key}:creditor:{creditor.id}")
    assert (row.channel, row.recipient, row.status) == (
        "notification",
        f"creditor:{creditor.id}",
        "outbox",
    )
    assert row.subject == f"Autorizzazione richiesta – rif. {practice.reference}"
    assert "autorizzare" in row.body
    assert practice.reference in row.body and creditor.name in row.body


async def test_notify_reaches_the_creditor_and_users_by_email(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.notify(NotifyInput(practice.id, "n:1", "creditor", "closed"))
    assert result.deliveries == ["email:outbox"]
    row = await delivery(database, f"n:1:creditor:{creditor.id}")
    assert row.recipient == creditor.email

    # a creditor without its own address: its users with one
    bare = await create_creditor(database, email=None)
    u1 = await create_user(database, "creditor", creditor_id=bare.id)
    u2 = await create_user(database, "creditor", creditor_id=bare.id)
    bare_practice = await create_practice(database, bare)
    result = await acts.notify(NotifyInput(bare_practice.id, "n:2", "creditor", "closed"))
    assert result.deliveries == ["email:outbox", "email:outbox"]
    assert (await delivery(database, f"n:2:user:{u1.id}")).recipient == u1.email
    assert (await delivery(database, f"n:2:user:{u2.id}")).recipient == u2.email

    agent = await create_user(database, "field_agent", email=None)
    result = await acts.notify(
        NotifyInput(practice.id, "n:3", agent.id, "visit_assigned", {"province": "MI"})
    )
    assert result.deliveries == ["notification:outbox"]
    assert (await delivery(database, f"n:3:user:{agent.id}")).recipient == f"user:{agent.id}"


async def notified(
    db: Database,
    acts: PracticeActivities,
    practice: Practice,
    to: str,
    template: str,
    params: dict[str, str | int | bool | None],
    outcome: Outcome | None = None,
) -> Delivery:
    key = f"{practice.id}:{template}:{uuid.uuid4().hex}"
    result = await acts.notify(NotifyInput(practice.id, key, to, template, params, outcome))
    assert result.deliveries == ["email:outbox"]
    row = (await rows_with_prefix(db, key))[0]
    assert practice.reference in row.subject and practice.reference in row.body
    assert "\n" not in row.subject and "{" not in row.subject + row.body
    assert "Mario Rossi" not in row.subject + row.body  # the debtor stays in the work lists
    return row


async def rows_with_prefix(db: Database, key: str) -> list[Delivery]:
    async with db.session() as session:
        return list(
            (
                await session.execute(
                    select(Delivery).where(Delivery.idempotency_key.startswith(f"{key}:"))
                )
            ).scalars()
        )


async def test_notify_visit_assigned_tells_the_agent_the_province_and_the_balance(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, balance_cents=98_765)
    agent = await create_user(database, "field_agent", provinces=["MI"])
    row = await notified(database, acts, practice, agent.id, "visit_assigned", {"province": "MI"})
    assert row.recipient == agent.email
    assert row.subject == f"Nuova visita assegnata – rif. {practice.reference}"
    assert "provincia MI" in row.body
    assert creditor.name in row.body
    assert "€ 987,65" in row.body  # the balance the database holds


async def test_notify_opinion_request_counts_the_reminders(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    lawyer = await create_user(database, "lawyer")
    first = await notified(
        database,
        acts,
        practice,
        lawyer.id,
        "opinion_request",
        {"reminder": 0, "balance_cents": 123_456_78},
    )
    assert first.recipient == lawyer.email
    assert first.subject == f"Richiesta di parere – rif. {practice.reference}"
    assert "sollecito" not in first.subject + first.body
    # the workflow's amount wins over the read model's, which may not have caught up yet
    assert "€ 123.456,78" in first.body
    assert format_euros(practice.balance_cents) not in first.body

    second = await notified(
        database,
        acts,
        practice,
        lawyer.id,
        "opinion_request",
        {"reminder": 2, "balance_cents": 100_000},
    )
    assert second.subject == f"Richiesta di parere – sollecito 2 – rif. {practice.reference}"
    assert "sollecito 2" in second.body and "€ 1.000,00" in second.body


@pytest.mark.parametrize(
    ("recommend", "action", "phrase"),
    [
        (
            True,
            "decreto_ingiuntivo",
            "consiglia di procedere con il ricorso per decreto ingiuntivo",
        ),
        (True, "pignoramento_presso_terzi", "consiglia di procedere con pignoramento presso terzi"),
        (False, None, "sconsiglia l'azione giudiziale"),
        (None, None, "non ha espresso un parere"),
    ],
)
async def test_notify_authorization_request_states_the_lawyers_opinion(
    database: Database,
    acts: PracticeActivities,
    recommend: bool | None,
    action: str | None,
    phrase: str,
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    params: dict[str, str | int | bool | None] = {
        "reminder": 1,
        "balance_cents": 125_050,
        "recommend_action": recommend,
        "action": action,
    }
    row = await notified(database, acts, practice, "creditor", "authorization_request", params)
    assert row.recipient == creditor.email
    assert row.subject == f"Autorizzazione richiesta – sollecito 1 – rif. {practice.reference}"
    assert phrase in row.body
    assert "€ 1.250,50" in row.body and creditor.name in row.body


async def test_notify_authorized_reads_the_balance_from_the_database(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, balance_cents=50_001)
    lawyer = await create_user(database, "lawyer")
    row = await notified(database, acts, practice, lawyer.id, "authorized", {})
    assert row.subject == f"Azione legale autorizzata – rif. {practice.reference}"
    assert f"{creditor.name} ha autorizzato" in row.body
    assert "€ 500,01" in row.body


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ("paid", "pagata"),
        ("withdrawn", "revocata dal mandante"),
        ("returned", "restituita al mandante"),
        ("dispute_upheld", "contestazione accolta"),
    ],
)
async def test_notify_closed_states_the_outcome_and_the_amounts(
    database: Database, acts: PracticeActivities, outcome: str, words: str
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    params: dict[str, str | int | bool | None] = {
        "outcome": outcome,
        "paid_cents": 84_050,
        "balance_cents": 41_000,
    }
    row = await notified(database, acts, practice, "creditor", "closed", params)
    assert row.subject == f"Pratica {practice.reference} chiusa: {words}"
    assert f"chiusa: {words}" in row.body
    assert "Importo incassato: € 840,50" in row.body
    assert "Importo rimasto da pagare: € 410,00" in row.body


async def test_notify_closed_takes_the_outcome_field_when_params_have_none(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    row = await notified(
        database, acts, practice, "creditor", "closed", {"paid_cents": 125_050}, Outcome.PAID
    )
    assert row.subject == f"Pratica {practice.reference} chiusa: pagata"
    assert "€ 1.250,50" in row.body


@pytest.mark.parametrize(
    ("template", "params"),
    [
        ("letter_to_grandma", {}),
        ("opinion_request", {"reminder": "1"}),
        ("opinion_request", {"balance_cents": True}),
        ("authorization_request", {"recommend_action": 1}),
        ("closed", {"outcome": "forgotten"}),
    ],
)
async def test_notify_refuses_what_no_template_reads_without_retrying(
    database: Database,
    acts: PracticeActivities,
    template: str,
    params: dict[str, str | int | bool | None],
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    with pytest.raises(ApplicationError) as caught:
        await acts.notify(NotifyInput(practice.id, "bad", "creditor", template, params))
    assert caught.value.non_retryable
    assert caught.value.type == "InvalidInput"
    assert await count(database, Delivery, Delivery.practice_id == practice.id) == 0


async def test_the_end_decision_request_and_the_uncollectable_closure_read_well(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database, email=None)
    practice = await create_practice(database, creditor)
    key = f"{practice.id}:end-decision:1:1"
    await acts.notify(
        NotifyInput(
            practice.id,
            key,
            "creditor",
            "end_decision_request",
            {"reminder": 1, "balance_cents": 5},
        )
    )
    row = await delivery(database, f"{key}:creditor:{creditor.id}")
    assert row.subject == (
        "Pratica senza ulteriori azioni: decisione richiesta – sollecito 1 – "
        f"rif. {practice.reference}"
    )
    assert "inesigibile" in row.body and "osservazione" in row.body and "0,05" in row.body
    await acts.notify(
        NotifyInput(practice.id, "c:1", "creditor", "closed", outcome=Outcome.UNCOLLECTABLE)
    )
    closed = await delivery(database, f"c:1:creditor:{creditor.id}")
    assert "inesigibile" in closed.body
    await acts.notify(
        NotifyInput(practice.id, "d:1", "creditor", "dispute_request", {"reminder": 2})
    )
    dispute = await delivery(database, f"d:1:creditor:{creditor.id}")
    assert dispute.subject == f"Contestazione da decidere – sollecito 2 – rif. {practice.reference}"
    assert "non viene contattato" in dispute.body
