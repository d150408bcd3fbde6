"""A local HTTP server standing in for Stripe's API (tests never call external hosts), and
webhooks signed the way Stripe signs them.

The server implements POST /v1/checkout/sessions as Stripe does for what we use: it checks the
secret key (Bearer), reads the form-encoded parameters (`line_items[0][price_data][unit_amount]`
and so on), answers a Checkout Session with an id and a url, and honours Idempotency-Key (the
same key answers the same session and creates nothing). It keeps every request it received.

The session's url is a "Checkout page" this server serves (GET /c/pay/<id>): a Pay button that,
when `webhook_url` and `webhook_secret` are set, makes the fake deliver a signed
`checkout.session.completed` to the webhook (as Stripe does once the card is charged) and sends
the browser to the session's success_url.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class FakeStripe:
    secret_key: str
    url: str = ""
    # where the Checkout page's Pay button delivers the signed webhook (the API's /webhooks/stripe)
    webhook_url: str = ""
    webhook_secret: str = ""
    # (path, params, idempotency key) of every request received
    requests: list[tuple[str, dict[str, str], str | None]] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the HTTP status of each webhook the Checkout page delivered
    webhooks_delivered: list[int] = field(default_factory=list)
    _by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def checkout_requests(self) -> list[dict[str, str]]:
        return [p for path, p, _ in self.requests if path == "/v1/checkout/sessions"]

    def create_session(self, params: dict[str, str], key: str | None) -> dict[str, Any]:
        with self._lock:
            if key is not None and key in self._by_key:
                return self._by_key[key]
            session_id = f"cs_test_{next(self._ids):06d}{int(time.time() * 1000)}"
            session: dict[str, Any] = {
                "id": session_id,
                "object": "checkout.session",
                "url": f"{self.url}/c/pay/{session_id}",
                "mode": params.get("mode"),
                "status": "open",
                "payment_status": "unpaid",
                "currency": params.get("line_items[0][price_data][currency]"),
                "amount_total": int(params.get("line_items[0][price_data][unit_amount]", "0")),
                "client_reference_id": params.get("client_reference_id"),
                "metadata": {
                    k[len("metadata[") : -1]: v
                    for k, v in params.items()
                    if k.startswith("metadata[")
                },
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "payment_intent": None,
            }
            self.sessions[session_id] = session
            if key is not None:
                self._by_key[key] = session
            return session


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _session(self) -> dict[str, Any] | None:
            session_id = self.path.split("?")[0].removeprefix("/c/pay/")
            return fake.sessions.get(session_id) if self.path.startswith("/c/pay/") else None

        def do_GET(self) -> None:
            session = self._session()
            if session is None:
                self._answer(404, {"error": {"type": "invalid_request_error"}})
                return
            amount = f"{session['amount_total'] / 100:.2f}"
            page = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                "<title>Fake Stripe Checkout</title></head><body><main>"
                f"<h1>Pay EUR {amount}</h1>"
                f'<form method="post" action="/c/pay/{session["id"]}">'
                '<button type="submit">Pay</button></form></main></body></html>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def _pay(self, session: dict[str, Any]) -> None:
            """The card is charged: the signed webhook to the API, then back to success_url."""
            payload = session_event(
                "checkout.session.completed", session, payment_intent=f"pi_{session['id']}"
            )
            request = urllib.request.Request(
                fake.webhook_url,
                data=payload,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": sign(payload, fake.webhook_secret),
                },
            )
            with urllib.request.urlopen(request, timeout=60) as answer:
                fake.webhooks_delivered.append(answer.status)
            session.update(status="complete", payment_status="paid")
            self.send_response(303)
            self.send_header("Location", str(session["success_url"]))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            key = self.headers.get("Idempotency-Key")
            with fake._lock:
                fake.requests.append((self.path, params, key))
            session = self._session()
            if session is not None:
                self._pay(session)
                return
            if self.headers.get("Authorization") != f"Bearer {fake.secret_key}":
                self._answer(401, {"error": {"type": "invalid_request_error", "message": "key"}})
                return
            if self.path != "/v1/checkout/sessions":
                self._answer(404, {"error": {"type": "invalid_request_error"}})
                return
            self._answer(200, fake.create_session(params, key))

    return Handler


class StripeServer:
    """The fake on 127.0.0.1, a free port, served by a thread while the context is open."""

    def __init__(
        self,
        secret_key: str,
        webhook_url: str = "",
        webhook_secret: str = "",
        host_name: str = "127.0.0.1",
    ) -> None:
        """`host_name` names the server in its url: "localhost" makes it another site than an
        application on 127.0.0.1 for a browser (as Stripe's Checkout is: SameSite cookies)."""
        self.fake = FakeStripe(secret_key, webhook_url=webhook_url, webhook_secret=webhook_secret)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.fake.url = f"http://{host_name}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: HMAC-SHA256 of "{timestamp}.{payload}" with the endpoint's
    secret, as `t=<timestamp>,v1=<hex>` (our own code: the app verifies with the library)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def session_event(
    kind: str,
    session: dict[str, Any],
    *,
    payment_intent: str | None = None,
    amount_total: int | None = None,
    currency: str = "eur",
    created: int | None = None,
) -> bytes:
    """A Stripe event about a Checkout Session, as the webhook body Stripe sends."""
    obj = dict(session)
    if kind == "checkout.session.completed":
        obj.update(status="complete", payment_status="paid", payment_intent=payment_intent)
    elif kind == "checkout.session.expired":
        obj.update(status="expired")
    if amount_total is not None:
        obj["amount_total"] = amount_total
    obj["currency"] = currency
    event = {
        "id": f"evt_{int(time.time() * 1e6)}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()) if created is None else created,
        "type": kind,
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()
