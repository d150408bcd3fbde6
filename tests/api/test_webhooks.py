"""Provider callbacks on the real app, database, Temporal server and worker: SendGrid's Signed
Event Webhook (an ECDSA P-256 key made here, signed as SendGrid signs), Twilio's status
callbacks (signed by twilio's own RequestValidator), PEC receipts, and the raccomandata's
tracking number.

A contact that stops working is marked on the practice and sent to its workflow as the
`contact_invalid` update. Until the workflow has that update it refuses it: the API records the
report all the same and answers 200, which is what these tests hold it to (the event's
workflow_update is "rejected" then, "accepted" once the workflow handles it).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from api.app import create_app
from db.models import Delivery, DeliveryEvent, Document, Practice
from tests.api.helpers import (
    Api,
    Tenant,
    eventually,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)

PUBLIC_URL = "https://recupero.example.it"
TWILIO_TOKEN = "twilio-auth-token-for-tests"
EMAIL = "mario.rossi@example.it"
PHONE = "+393331234567"
PEC = "mario.rossi@pec.example.it"
WORKFLOW_ANSWERS = {"accepted", "rejected"}


# --- an app that knows the providers' keys -----------------------------------------------------


@dataclass
class Hooks:
    http: httpx.AsyncClient
    key: ec.EllipticCurvePrivateKey


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """How SendGrid shows the verification key: base64 of the DER SubjectPublicKeyInfo."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def sendgrid_headers(
    key: ec.EllipticCurvePrivateKey, body: bytes, timestamp: str | None = None
) -> dict[str, str]:
    """SendGrid signs timestamp + payload with ECDSA over SHA-256 (DER signature, base64)."""
    timestamp = timestamp or str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode("ascii"),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


def twilio_signature(url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(TWILIO_TOKEN).compute_signature(url, params))


@pytest.fixture(scope="module")
async def hooks(api: Api) -> AsyncIterator[Hooks]:
    """The same database and Temporal as `api`, with the providers' verification keys, served
    under an internal address while providers know the public one."""
    key = ec.generate_private_key(ec.SECP256R1())
    settings = dataclasses.replace(
        api.settings,
        sendgrid_webhook_public_key=public_key_b64(key),
        twilio_auth_token=TWILIO_TOKEN,
        public_url=PUBLIC_URL,
    )
    app = create_app(settings, temporal_client=api.temporal)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://10.0.0.7:8000"
        ) as http,
    ):
        yield Hooks(http=http, key=key)


@pytest.fixture(scope="module")
async def tenant(api: Api) -> Tenant:
    return await new_creditor(api)


# --- practices and deliveries ------------------------------------------------------------------


async def settled_practice(api: Api, tenant: Tenant, **debtor: Any) -> dict[str, Any]:
    """A handed-over practice whose workflow sleeps (pre-due), so nothing rewrites its row
    while a test looks at it."""
    payload = practice_payload(tenant.id)
    payload["debtor"].update(debtor)
    practice = await hand_over(api, tenant.headers, payload)

    async def sleeping() -> dict[str, Any] | None:
        view = (await api.http.get(f"/practices/{practice['id']}", headers=api.admin)).json()
        return view if view["next_action_at"] is not None else None

    await eventually(sleeping, "the workflow to sleep")
    return practice


async def add_delivery(api: Api, practice_id: str, channel: str, **values: Any) -> Delivery:
    """A message of the practice as the channels leave it after sending."""
    defaults: dict[str, Any] = {
        "email": {"recipient": EMAIL, "provider": "sendgrid", "status": "sent"},
        "sms": {"recipient": PHONE, "provider": "twilio", "status": "sent"},
        "pec": {"recipient": PEC, "provider": "outbox", "status": "outbox"},
        "post": {"recipient": "debtor:postal", "provider": "outbox", "status": "outbox"},
    }[channel]
    row = Delivery(
        idempotency_key=f"{practice_id}:{secrets.token_hex(4)}:{channel}",
        practice_id=practice_id,
        channel=channel,
        subject="Comunicazione",
        body="",
        **{**defaults, **values},
    )
    async with api.db.session() as session, session.begin():
        session.add(row)
    return row


async def delivery(api: Api, delivery_id: str) -> Delivery:
    async with api.db.session() as session:
        row = await session.get(Delivery, delivery_id)
    assert row is not None
    return row


async def invalid_channels(api: Api, practice_id: str) -> list[str]:
    async with api.db.session() as session:
        row = await session.get(Practice, practice_id)
    assert row is not None
    return list(row.invalid_channels or [])


async def events_of(api: Api, practice_id: str) -> list[dict[str, Any]]:
    response = await api.http.get(f"/practices/{practice_id}/delivery-events", headers=api.admin)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def stored_events(api: Api, delivery_id: str) -> list[DeliveryEvent]:
    async with api.db.session() as session:
        rows = await session.scalars(
            select(DeliveryEvent).where(DeliveryEvent.delivery_id == delivery_id)
        )
        return list(rows)


def sg_event(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "email": EMAIL,
        "timestamp": int(time.time()),
        "event": kind,
        "sg_event_id": secrets.token_urlsafe(16),
        "sg_message_id": "not-ours.filterdrecv-1",
        **fields,
    }


async def post_sendgrid(hooks: Hooks, events: list[dict[str, Any]]) -> httpx.Response:
    body = json.dumps(events).encode()
    return await hooks.http.post(
        "/webhooks/sendgrid", content=body, headers=sendgrid_headers(hooks.key, body)
    )


# --- SendGrid ----------------------------------------------------------------------------------


async def test_signed_sendgrid_events_are_recorded_on_the_delivery(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    sent = await add_delivery(api, practice["id"], "email", provider_message_id="sg-msg-1")
    events = [
        # matched by the delivery id we send as a custom arg
        sg_event("delivered", delivery_id=sent.id, idempotency_key=sent.idempotency_key),
        # matched by SendGrid's message id alone (it starts with the X-Message-Id we kept)
        sg_event("open", sg_message_id="sg-msg-1.recvd-5f8c-1-0"),
        sg_event("processed", delivery_id=sent.id),  # not a kind we record
        sg_event("delivered", delivery_id="no-such-delivery"),  # not ours
    ]
    response = await post_sendgrid(hooks, events)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "recorded": 2,
        "already_recorded": 0,
        "ignored": 2,
        "contacts_invalidated": 0,
    }
    row = await delivery(api, sent.id)
    assert row.delivery_status == "opened" and row.delivery_status_at is not None

    # SendGrid retries what it thinks failed: the same events change nothing
    again = await post_sendgrid(hooks, events)
    assert again.json()["recorded"] == 0 and again.json()["already_recorded"] == 2
    assert len(await stored_events(api, sent.id)) == 2
    # an "open" arriving before "delivered" does not move the status back
    late = await post_sendgrid(hooks, [sg_event("delivered", delivery_id=sent.id)])
    assert late.json()["recorded"] == 1
    assert (await delivery(api, sent.id)).delivery_status == "opened"
    assert await invalid_channels(api, practice["id"]) == []


async def test_a_hard_bounce_marks_the_email_invalid_and_tells_the_workflow(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    pid = practice["id"]
    soft = await add_delivery(api, pid, "email")
    response = await post_sendgrid(
        hooks,
        [sg_event("bounce", type="blocked", status="4.7.1", reason="busy", delivery_id=soft.id)],
    )
    assert response.json()["recorded"] == 1 and response.json()["contacts_invalidated"] == 0
    assert (await delivery(api, soft.id)).delivery_status == "soft_bounce"
    assert await invalid_channels(api, pid) == []

    hard = await add_delivery(api, pid, "email")
    bounce = sg_event(
        "bounce",
        type="bounce",
        status="5.1.1",
        reason=f"550 5.1.1 <{EMAIL}>: Recipient address rejected: User unknown",
        bounce_classification="Invalid Address",
        idempotency_key=hard.idempotency_key,  # matched by our idempotency key
    )
    response = await post_sendgrid(hooks, [bounce])
    assert response.status_code == 200, response.text
    assert response.json()["contacts_invalidated"] == 1
    assert (await delivery(api, hard.id)).delivery_status == "hard_bounce"
    assert await invalid_channels(api, pid) == ["email"]

    [event] = [e for e in await events_of(api, pid) if e["delivery_id"] == hard.id]
    assert event["kind"] == "hard_bounce" and event["invalid_reason"] == "hard_bounce"
    assert event["workflow_update"] in WORKFLOW_ANSWERS
    assert event["data"] == {
        "event": "bounce",
        "type": "bounce",
        "status": "5.1.1",
        "classification": "Invalid Address",
    }
    assert "marked invalid" in event["summary"]
    # the provider's free text and the address stay out of what we keep
    listed = json.dumps(await events_of(api, pid))
    assert EMAIL not in listed and "User unknown" not in listed
    # the practice shows the e-mail as not to be used
    view = (await api.http.get(f"/practices/{pid}", headers=api.admin)).json()
    assert view["debtor"]["invalid_channels"] == ["email"]
    # the workflow's timeline names the provider that reported it (issue 11 point 10)
    timeline = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    told = [e for e in timeline if e["kind"] == "contact_invalid"]
    assert len(told) == (1 if event["workflow_update"] == "accepted" else 0)
    assert all(e["actor"] == {"kind": "provider", "id": "sendgrid", "role": None} for e in told)


async def test_a_late_bounce_of_an_address_since_replaced_changes_nothing(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    pid = practice["id"]
    old = await add_delivery(api, pid, "email", recipient="vecchio.indirizzo@example.it")
    response = await post_sendgrid(hooks, [sg_event("bounce", type="bounce", delivery_id=old.id)])
    assert response.status_code == 200 and response.json()["contacts_invalidated"] == 0
    assert await invalid_channels(api, pid) == []
    [event] = await stored_events(api, old.id)
    assert event.workflow_update == "skipped" and event.invalid_reason == "hard_bounce"


async def test_dropped_for_a_bounced_address_marks_it_invalid_other_drops_do_not(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    pid = practice["id"]
    unsubscribed = await add_delivery(api, pid, "email")
    await post_sendgrid(
        hooks, [sg_event("dropped", reason="Unsubscribed Address", delivery_id=unsubscribed.id)]
    )
    assert (await delivery(api, unsubscribed.id)).delivery_status == "dropped"
    assert await invalid_channels(api, pid) == []
    suppressed = await add_delivery(api, pid, "email")
    await post_sendgrid(
        hooks, [sg_event("dropped", reason="Bounced Address", delivery_id=suppressed.id)]
    )
    assert await invalid_channels(api, pid) == ["email"]
    [event] = await stored_events(api, suppressed.id)
    assert event.invalid_reason == "suppressed"


async def test_sendgrid_requests_that_do_not_verify_are_refused(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    sent = await add_delivery(api, practice["id"], "email")
    body = json.dumps([sg_event("bounce", type="bounce", delivery_id=sent.id)]).encode()
    good = sendgrid_headers(hooks.key, body)
    stranger = ec.generate_private_key(ec.SECP256R1())
    attempts: list[tuple[bytes, dict[str, str]]] = [
        # the body changed after signing
        (body.replace(b'"bounce"', b'"delivered"', 1), good),
        # another timestamp than the one signed
        (body, {**good, "X-Twilio-Email-Event-Webhook-Timestamp": str(int(time.time()) + 1)}),
        # signed by someone else's key
        (body, sendgrid_headers(stranger, body)),
        # not a signature at all, or none
        (body, {**good, "X-Twilio-Email-Event-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl"}),
        (body, {**good, "X-Twilio-Email-Event-Webhook-Signature": "%%%"}),
        (body, {"Content-Type": "application/json"}),
    ]
    for content, headers in attempts:
        response = await hooks.http.post("/webhooks/sendgrid", content=content, headers=headers)
        assert response.status_code == 403, (headers, response.text)
    # the app without a configured key refuses even a well-signed request
    unconfigured = await api.http.post("/webhooks/sendgrid", content=body, headers=good)
    assert unconfigured.status_code == 403
    assert await stored_events(api, sent.id) == []
    assert await invalid_channels(api, practice["id"]) == []

    # a signed body that is not a list of events is a 400, not a crash
    odd = b'{"event": "delivered"}'
    refused = await hooks.http.post(
        "/webhooks/sendgrid", content=odd, headers=sendgrid_headers(hooks.key, odd)
    )
    assert refused.status_code == 400


# --- Twilio ------------------------------------------------------------------------------------


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


async def post_twilio(
    hooks: Hooks, params: dict[str, str], signature: str | None = None
) -> httpx.Response:
    url = f"{PUBLIC_URL}/webhooks/twilio"
    return await hooks.http.post(
        "/webhooks/twilio",
        data=params,
        headers={"X-Twilio-Signature": signature or twilio_signature(url, params)},
    )


def status_params(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": PHONE,
        "From": "+15005550006",
        "ApiVersion": "2010-04-01",
        **extra,
    }


async def test_twilio_status_callbacks_signed_by_twilio_are_recorded(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    sid = message_sid()
    sms = await add_delivery(api, practice["id"], "sms", provider_message_id=sid)
    for status in ("sent", "delivered"):
        response = await post_twilio(hooks, status_params(sid, status))
        assert response.status_code == 200, response.text
        assert response.json()["recorded"] == 1
    assert (await delivery(api, sms.id)).delivery_status == "delivered"
    # the same callback again is no new event
    again = await post_twilio(hooks, status_params(sid, "delivered"))
    assert again.json()["already_recorded"] == 1
    # statuses we do not record and SIDs that are not ours are acknowledged and ignored
    for params in (status_params(sid, "queued"), status_params(message_sid(), "delivered")):
        ignored = await post_twilio(hooks, params)
        assert ignored.status_code == 200 and ignored.json()["ignored"] == 1
    assert await invalid_channels(api, practice["id"]) == []


async def test_twilio_callbacks_that_do_not_verify_are_refused(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    sid = message_sid()
    sms = await add_delivery(api, practice["id"], "sms", provider_message_id=sid)
    signed = status_params(sid, "delivered")
    signature = twilio_signature(f"{PUBLIC_URL}/webhooks/twilio", signed)
    tampered = {**signed, "MessageStatus": "failed", "ErrorCode": "30003"}
    assert (await post_twilio(hooks, tampered, signature)).status_code == 403
    # signed for the address the app listens on, not the public one Twilio was given
    internal = twilio_signature("http://10.0.0.7:8000/webhooks/twilio", signed)
    assert (await post_twilio(hooks, signed, internal)).status_code == 403
    # signed with another account's token
    other = str(
        RequestValidator("another-token").compute_signature(f"{PUBLIC_URL}/webhooks/twilio", signed)
    )
    assert (await post_twilio(hooks, signed, other)).status_code == 403
    missing = await hooks.http.post("/webhooks/twilio", data=signed)
    assert missing.status_code == 403
    # the app without an auth token refuses a well-signed callback
    unconfigured = await api.http.post(
        "/webhooks/twilio", data=signed, headers={"X-Twilio-Signature": signature}
    )
    assert unconfigured.status_code == 403
    assert await stored_events(api, sms.id) == []
    # and the genuine one is taken
    assert (await post_twilio(hooks, signed, signature)).status_code == 200


async def test_a_failed_sms_marks_the_phone_invalid(api: Api, hooks: Hooks, tenant: Tenant) -> None:
    practice = await settled_practice(api, tenant)
    pid = practice["id"]
    sid = message_sid()
    sms = await add_delivery(api, pid, "sms", provider_message_id=sid)
    response = await post_twilio(hooks, status_params(sid, "failed", ErrorCode="30003"))
    assert response.status_code == 200, response.text
    assert response.json()["contacts_invalidated"] == 1
    assert (await delivery(api, sms.id)).delivery_status == "failed"
    assert await invalid_channels(api, pid) == ["phone"]
    [event] = await events_of(api, pid)
    assert event["channel"] == "sms" and event["invalid_reason"] == "sms_failed"
    assert event["data"] == {"status": "failed", "error_code": "30003"}
    assert event["workflow_update"] in WORKFLOW_ANSWERS
    assert PHONE not in json.dumps(event)


async def test_an_sms_failed_for_the_account_leaves_the_number_usable(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    sid = message_sid()
    sms = await add_delivery(api, practice["id"], "sms", provider_message_id=sid)
    # 30007: Twilio filtered the message; nothing says the number is wrong
    response = await post_twilio(hooks, status_params(sid, "undelivered", ErrorCode="30007"))
    assert response.json() == {
        "recorded": 1,
        "already_recorded": 0,
        "ignored": 0,
        "contacts_invalidated": 0,
    }
    assert (await delivery(api, sms.id)).delivery_status == "undelivered"
    assert await invalid_channels(api, practice["id"]) == []


# --- PEC receipts ------------------------------------------------------------------------------


async def test_pec_receipts_forwarded_by_the_admin(api: Api, hooks: Hooks, tenant: Tenant) -> None:
    practice = await settled_practice(api, tenant, pec=PEC)
    pid = practice["id"]
    pec = await add_delivery(api, pid, "pec")
    _, operator = await new_user(api, "operator")

    body = {"delivery_id": pec.id, "kind": "accettazione"}
    assert (await api.http.post("/webhooks/pec-receipt", json=body)).status_code == 401
    assert (
        await api.http.post("/webhooks/pec-receipt", json=body, headers=operator)
    ).status_code == 403
    accepted = await api.http.post("/webhooks/pec-receipt", json=body, headers=api.admin)
    assert accepted.status_code == 200 and accepted.json()["recorded"] == 1
    row = await delivery(api, pec.id)
    # a receipt proves the person sent what the outbox held
    assert (row.status, row.delivery_status) == ("sent", "accepted")
    assert row.sent_at is not None
    twice = await api.http.post("/webhooks/pec-receipt", json=body, headers=api.admin)
    assert twice.json()["already_recorded"] == 1

    not_delivered = await api.http.post(
        "/webhooks/pec-receipt",
        json={
            "delivery_id": pec.id,
            "kind": "mancata_consegna",
            # after the acceptance above: the delivery events are listed in time order
            "received_at": datetime.now(ZoneInfo("Europe/Rome")).isoformat(),
        },
        headers=api.admin,
    )
    assert not_delivered.status_code == 200, not_delivered.text
    assert not_delivered.json()["contacts_invalidated"] == 1
    assert (await delivery(api, pec.id)).delivery_status == "not_delivered"
    assert await invalid_channels(api, pid) == ["pec"]
    last = (await events_of(api, pid))[-1]
    assert last["invalid_reason"] == "pec_not_delivered"
    assert last["workflow_update"] in WORKFLOW_ANSWERS

    email = await add_delivery(api, pid, "email")
    for wrong, status, loc in (
        ({"delivery_id": email.id, "kind": "consegna"}, 422, ["body", "delivery_id"]),
        ({"delivery_id": pec.id, "kind": "ricevuta"}, 422, ["body", "kind"]),
        (
            {"delivery_id": pec.id, "kind": "consegna", "received_at": "2026-11-24T10:15:00"},
            422,
            ["body", "received_at"],
        ),
        ({"delivery_id": "nope", "kind": "consegna"}, 404, None),
    ):
        response = await api.http.post("/webhooks/pec-receipt", json=wrong, headers=api.admin)
        assert response.status_code == status, (wrong, response.text)
        if loc is not None:
            assert [e["loc"] for e in response.json()["detail"]] == [loc]


async def test_a_report_on_a_closed_practice_is_recorded_all_the_same(
    api: Api, hooks: Hooks, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    pid = practice["id"]
    sent = await add_delivery(api, pid, "email")
    closed = await api.http.post(
        f"/practices/{pid}/withdrawal", headers=tenant.headers, json={"reason": "settled"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    response = await post_sendgrid(hooks, [sg_event("bounce", type="bounce", delivery_id=sent.id)])
    assert response.status_code == 200, response.text
    assert await invalid_channels(api, pid) == ["email"]
    [event] = await stored_events(api, sent.id)
    assert event.workflow_update == "rejected"


# --- the raccomandata's tracking number --------------------------------------------------------


async def letter_on_file(api: Api, practice_id: str, *, post: bool = True) -> tuple[str, str]:
    document = Document(
        practice_id=practice_id,
        idempotency_key=f"{practice_id}:{secrets.token_hex(4)}:pdf",
        kind="reminder_letter",
        filename="reminder_letter.pdf",
        content=b"%PDF-1.7\n",
    )
    async with api.db.session() as session, session.begin():
        session.add(document)
    delivery_id = ""
    if post:
        delivery_id = (await add_delivery(api, practice_id, "post", document_id=document.id)).id
    return document.id, delivery_id


async def test_the_raccomandata_tracking_number_shows_in_the_outbox(
    api: Api, tenant: Tenant
) -> None:
    practice = await settled_practice(api, tenant)
    pid = practice["id"]
    document_id, delivery_id = await letter_on_file(api, pid)
    _, operator = await new_user(api, "operator")
    path = f"/practices/{pid}/documents/{document_id}/tracking"
    today = rome_today().isoformat()

    response = await api.http.post(
        path, headers=operator, json={"tracking_number": "rr 1234 5678 9it", "sent_on": today}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["tracking_number"], body["sent_on"], body["status"]) == (
        "RR123456789IT",
        today,
        "sent",
    )
    assert body["delivery_status"] == "posted"
    outbox = await api.http.get(
        "/outbox", headers=api.admin, params={"practice_id": pid, "channel": "post"}
    )
    [listed] = outbox.json()["items"]
    assert listed["id"] == delivery_id and listed["tracking_number"] == "RR123456789IT"
    assert listed["sent_on"] == today
    [event] = await events_of(api, pid)
    assert event["kind"] == "posted" and event["provider"] == "post"

    # a correction replaces the number
    fixed = await api.http.post(
        path, headers=api.admin, json={"tracking_number": "RR987654321IT", "sent_on": today}
    )
    assert fixed.json()["tracking_number"] == "RR987654321IT"


async def test_tracking_numbers_are_checked(api: Api, tenant: Tenant) -> None:
    practice = await settled_practice(api, tenant)
    pid = practice["id"]
    document_id, _ = await letter_on_file(api, pid)
    path = f"/practices/{pid}/documents/{document_id}/tracking"
    today = rome_today()
    good = {"tracking_number": "RR123456789IT", "sent_on": today.isoformat()}
    for body, loc in (
        ({**good, "sent_on": (today + timedelta(days=1)).isoformat()}, ["body", "sent_on"]),
        ({**good, "sent_on": (today - timedelta(days=3)).isoformat()}, ["body", "sent_on"]),
        ({**good, "tracking_number": "12"}, ["body", "tracking_number"]),
        ({**good, "tracking_number": "RR<script>"}, ["body", "tracking_number"]),
    ):
        response = await api.http.post(path, headers=api.admin, json=body)
        assert response.status_code == 422, (body, response.text)
        assert [e["loc"] for e in response.json()["detail"]] == [loc]
    assert (await api.http.post(path, headers=tenant.headers, json=good)).status_code == 403
    unknown = await api.http.post(
        f"/practices/{pid}/documents/nope/tracking", headers=api.admin, json=good
    )
    assert unknown.status_code == 404
    no_post, _ = await letter_on_file(api, pid, post=False)
    refused = await api.http.post(
        f"/practices/{pid}/documents/{no_post}/tracking", headers=api.admin, json=good
    )
    assert refused.status_code == 409
