"""Recupero bench: the Monday-morning wake-up. --practices practices whose e-mail and call all
become due at the same opening of the contact window; how long until every one is sent or
queued, the API's latency meanwhile, the contact rules and the provider's rate limit.

    .venv/bin/python bench/wakeup.py --practices 20000 --lead 120

The stack is bench/run.py's (Temporal dev server on SQLite, read model, the product's worker and
API as subprocesses), with SendGrid and Twilio pointed at a fake HTTP server in this process
that answers as the providers do (202 and an X-Message-Id; 201 and a message sid) and records
when each request arrived.

The opening: the debtors live in Austria, and the agency's hours for Austria
(RECUPERO_CONTACT_HOURS, config.parse_contact_hours) open at the first whole minute --lead
minutes from the start, until 23:59 (Europe/Vienna), on that day only (every other day closed).
The worker's timers are Temporal's, on the real clock: a country's configurable hours are the
one way to put an opening minutes ahead without touching the product. The practices are handed
over (POST /practices/batch) with their invoices 30 days overdue and a strategy of two steps:
the reminder letter (its PDF rendered and posted at once, to the outbox: no postal provider; its
e-mail copy waits for the window) and, right after it (wait PT0S), the phone phase (its call
waits for the window too, then goes to the operators' queue as a task). Each debtor has a
practice of its own (no tax number, optional in Austria: the contact limits key on the
practice), so every practice may get its call that day. --lead must leave time to hand over and
render every letter before the opening (about 0.5 s a practice on a loaded 2-core machine);
the bench stops if the opening comes first.

Measured from the opening:
- time until every e-mail copy is sent (`email_copy_sent` events) and every call is queued
  (`call_queued` events), and the rate of each;
- the API's p50 / p99 meanwhile: one client, one request at a time, the practice list
  (GET /practices?creditor_id=..&limit=50) and a practice's page in turn (target: p99 < 500 ms);
- contact-rule violations: an e-mail that reached the provider before the opening, a
  `call_queued` or `email_copy_sent` event before it, a practice with more than one call queued;
- the provider's rate: the most e-mails SendGrid received in any 1 s and 10 s, against
  burst + rate x window when --sendgrid-rate is given.

--sendgrid-rate/--sendgrid-burst, --twilio-rate/--twilio-burst and --spread are passed to the
worker as RECUPERO_SENDGRID_RATE/BURST, RECUPERO_TWILIO_RATE/BURST and
RECUPERO_CONTACT_SPREAD_MINUTES (the shared token bucket per provider and the contact spread
of issue 17); a worker that does not read them ignores them, and the check of the rate then
says what the provider received unthrottled.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx
from run import ApiError, Stack, expect, start_stack

from domain.strategy import STEP_ORDER, Step

COUNTRY, ZONE = "AT", ZoneInfo("Europe/Vienna")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BATCH = 250  # practices per POST /practices/batch

# Only the reminder letter (its e-mail copy) and the phone phase (its call), one right after the
# other; authorisation cannot be switched off and comes after both.
WAKEUP_STRATEGY = {
    "steps": [
        {
            "step": step,
            "enabled": step in ("reminder_letter", "phone_phase"),
            "wait_after": "PT0S",
        }
        # every step the creditor may switch off: the authorisation cannot be
        for step in STEP_ORDER
        if step != Step.AUTHORIZATION
    ],
    "call_attempts": 1,
    "authorization_reminder_interval": "P30D",
    "authorization_timeout": "P365D",
}


# --- the providers -------------------------------------------------------------------------------


@dataclass
class Received:
    """What the fake providers received: (time.time(), path) per request."""

    requests: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def times(self, suffix: str) -> list[float]:
        with self.lock:
            return sorted(t for t, path in self.requests if path.endswith(suffix))


@contextlib.contextmanager
def fake_providers() -> Iterator[tuple[str, Received]]:
    """SendGrid's /v3/mail/send and Twilio's Messages.json on loopback, as tests/test_outbox.py
    fakes them."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with received.lock:
                received.requests.append((time.time(), self.path))
                n = len(received.requests)
            if self.path == "/v3/mail/send":
                self._answer(202, b"", {"X-Message-Id": f"sg-{n}"})
            elif self.path.endswith("/Messages.json"):
                body = {"sid": f"SM{n:032d}", "status": "queued", "to": "x", "body": ""}
                self._answer(201, json.dumps(body).encode(), {})
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
            pass  # one line a request would bury the bench's figures

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def provider_env(url: str, args: argparse.Namespace, opening: datetime) -> dict[str, str]:
    # only the opening's day has hours: the window is closed until then, whatever the hour now
    span = {DAYS[opening.weekday()]: f"{opening:%H:%M}-23:59"}
    env = {
        "SENDGRID_API_KEY": "SG.bench-key",
        "SENDGRID_HOST": url,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "bench-token",
        "TWILIO_FROM_NUMBER": "+390200000000",
        "TWILIO_BASE_URL": url,
        "RECUPERO_CONTACT_HOURS": json.dumps({COUNTRY: span}),
    }
    for name, value in (
        ("RECUPERO_SENDGRID_RATE", args.sendgrid_rate),
        ("RECUPERO_SENDGRID_BURST", args.sendgrid_burst),
        ("RECUPERO_TWILIO_RATE", args.twilio_rate),
        ("RECUPERO_TWILIO_BURST", args.twilio_burst),
        ("RECUPERO_CONTACT_SPREAD_MINUTES", args.spread),
    ):
        if value is not None:
            env[name] = str(value)
    return env


# --- the practices -------------------------------------------------------------------------------


def debtor_abroad(creditor_id: str, reference: str, n: int) -> dict[str, object]:
    today = date.today()
    return {
        "creditor_id": creditor_id,
        "reference": reference,
        "debtor": {
            "kind": "consumer",
            "name": "Max Mustermann",
            "email": f"debtor{n}@example.at",
            "phone": f"+4315{n:07d}",
            "address": {
                "street": "Stephansplatz 1",
                "city": "Wien",
                "postal_code": "1010",
                "country": COUNTRY,
            },
        },
        "invoices": [
            {
                "number": "FT-1",
                "issue_date": (today - timedelta(days=60)).isoformat(),
                "due_date": (today - timedelta(days=30)).isoformat(),
                "amount": "1000.00",
            }
        ],
    }


def read_model(stack: Stack, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 5000")
        return db.execute(sql, params).fetchall()


def count(stack: Stack, sql: str, *params: object) -> int:
    return int(read_model(stack, sql, *params)[0][0])


def waiting_for_window(stack: Stack, creditor: str) -> int:
    """Practices whose e-mail copy waits for the contact rules (the letter is posted)."""
    return count(
        stack,
        "SELECT count(*) FROM practices WHERE creditor_id = ? AND waiting_for LIKE '%contact%'",
        creditor,
    )


def events(stack: Stack, creditor: str, kind: str) -> list[tuple[str, datetime]]:
    rows = read_model(
        stack,
        "SELECT e.practice_id, e.at FROM events e JOIN practices p ON p.id = e.practice_id"
        " WHERE p.creditor_id = ? AND e.kind = ?",
        creditor,
        kind,
    )
    return [(str(pid), as_utc(at)) for pid, at in rows]


def events_count(stack: Stack, creditor: str, kind: str) -> int:
    return count(
        stack,
        "SELECT count(*) FROM events e JOIN practices p ON p.id = e.practice_id"
        " WHERE p.creditor_id = ? AND e.kind = ?",
        creditor,
        kind,
    )


def as_utc(value: object) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def most_in_window(times: list[float], window: float) -> int:
    """The most requests in any `window` seconds."""
    best = 0
    for i, t in enumerate(times):
        best = max(best, bisect.bisect_right(times, t + window - 1e-9) - i)
    return best


# --- the run -------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def hand_over(http: httpx.AsyncClient, creditor: str, total: int, concurrency: int) -> None:
    run_id = uuid.uuid4().hex[:6]
    gate = asyncio.Semaphore(concurrency)

    async def one(start: int) -> None:
        rows = range(start, min(total, start + BATCH))
        body = {"practices": [debtor_abroad(creditor, f"WU-{run_id}-{n}", n) for n in rows]}
        async with gate:
            result = expect(await http.post("/practices/batch", json=body), 200).json()
        if result["failed"]:
            raise ApiError(f"{result['failed']} rows failed: {json.dumps(result)[:300]}")

    await asyncio.gather(*(one(start) for start in range(0, total, BATCH)))


async def api_meanwhile(
    http: httpx.AsyncClient, creditor: str, practice_ids: list[str], stop: asyncio.Event
) -> tuple[list[float], list[float]]:
    """One client, one request at a time: the list, then a practice's page, until `stop`."""
    listing: list[float] = []
    pages: list[float] = []
    n = 0
    while not stop.is_set():
        t = time.perf_counter()
        params = {"creditor_id": creditor, "limit": "50"}
        expect(await http.get("/practices", params=params), 200)
        listing.append(time.perf_counter() - t)
        t = time.perf_counter()
        expect(await http.get(f"/practices/{practice_ids[n % len(practice_ids)]}"), 200)
        pages.append(time.perf_counter() - t)
        n += 1
        await asyncio.sleep(0.1)
    return listing, pages


async def wakeup(
    args: argparse.Namespace, stack: Stack, received: Received, opening: datetime
) -> None:
    total = args.practices
    headers = {"Authorization": f"Bearer {stack.admin_key}"}
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=300) as http:
        body = {
            "name": "Bench S.r.l.",
            "vat_number": "00743110157",
            "iban": "IT60X0542811101000000123456",
        }
        creditor = expect(await http.post("/creditors", json=body), 201).json()["id"]
        expect(await http.put(f"/creditors/{creditor}/strategy", json=WAKEUP_STRATEGY), 200)

        # before the opening: every practice handed over, its letter posted, its e-mail copy
        # waiting for the window
        started = time.perf_counter()
        await hand_over(http, creditor, total, args.batch_concurrency)
        while (n := await asyncio.to_thread(waiting_for_window, stack, creditor)) < total:
            if datetime.now(UTC) >= opening:
                raise SystemExit(
                    f"only {n}/{total} practices waiting for the window at its opening:"
                    " give a longer --lead"
                )
            await asyncio.sleep(1)
        margin = (opening - datetime.now(UTC)).total_seconds()
        print(
            f"  {total} practices handed over and waiting for the window in"
            f" {time.perf_counter() - started:.0f} s; {margin:.0f} s before the opening",
            flush=True,
        )
        practice_ids = [
            str(r[0])
            for r in await asyncio.to_thread(
                read_model, stack, "SELECT id FROM practices WHERE creditor_id = ?", creditor
            )
        ]
        stop = asyncio.Event()
        # the API's latency from a few seconds before the opening until the last is queued
        await asyncio.sleep(max(0.0, margin - 5))
        meanwhile = asyncio.create_task(api_meanwhile(http, creditor, practice_ids, stop))
        deadline = opening + timedelta(seconds=args.timeout)
        emails = calls = 0
        last_print = 0.0
        while True:
            emails = await asyncio.to_thread(events_count, stack, creditor, "email_copy_sent")
            calls = await asyncio.to_thread(events_count, stack, creditor, "call_queued")
            now = datetime.now(UTC)
            if emails >= total and calls >= total:
                break
            if now > deadline:
                print(f"  ! not done {args.timeout} s after the opening", flush=True)
                break
            if time.monotonic() - last_print > 10 and now > opening:
                last_print = time.monotonic()
                print(
                    f"  {(now - opening).total_seconds():.0f} s after the opening: {emails}"
                    f" e-mails sent, {calls} calls queued (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
            await asyncio.sleep(2)  # the times come from the events, not this poll
        stop.set()
        listing, pages = await meanwhile

    sent = await asyncio.to_thread(events, stack, creditor, "email_copy_sent")
    queued = await asyncio.to_thread(events, stack, creditor, "call_queued")
    mail_times = received.times("/v3/mail/send")
    sms_times = received.times("/Messages.json")

    def after(moments: list[datetime]) -> float:
        return (max(moments) - opening).total_seconds() if moments else float("nan")

    early_mail = sum(1 for t in mail_times if t < opening.timestamp())
    early_events = sum(1 for _, at in sent + queued if at < opening)
    calls_per_practice: dict[str, int] = {}
    for pid, _ in queued:
        calls_per_practice[pid] = calls_per_practice.get(pid, 0) + 1
    repeated = sum(1 for n in calls_per_practice.values() if n > 1)
    violations = early_mail + early_events + repeated
    all_done = after([at for _, at in sent + queued])

    print()
    print(f"the wake-up: {total} practices, window opening {opening.astimezone(ZONE):%H:%M} Vienna")
    print(
        f"  every one sent or queued:  {all_done:.1f} s after the opening"
        f" ({len(sent)}/{total} e-mails, {len(queued)}/{total} calls)"
    )
    print(
        f"  e-mails: last {after([a for _, a in sent]):.1f} s after the opening"
        f" ({len(sent) / after([a for _, a in sent]):.1f}/s)"
        if sent
        else "  e-mails: none sent"
    )
    print(
        f"  calls:   last {after([a for _, a in queued]):.1f} s after the opening"
        f" ({len(queued) / after([a for _, a in queued]):.1f}/s)"
        if queued
        else "  calls: none queued"
    )
    p99 = max(pct(listing, 0.99), pct(pages, 0.99))
    print(
        f"  API meanwhile: list p50 / p99 {pct(listing, 0.5):.0f} / {pct(listing, 0.99):.0f} ms,"
        f" practice page {pct(pages, 0.5):.0f} / {pct(pages, 0.99):.0f} ms"
        f" ({len(listing)} of each); target p99 < 500 ms: {'yes' if p99 < 500 else 'NO'}"
    )
    print(
        f"  contact-rule violations: {violations} ({early_mail} e-mails received before the"
        f" opening, {early_events} events before it, {repeated} practices with two calls)"
    )
    for name, times, rate, burst in (
        ("SendGrid", mail_times, args.sendgrid_rate, args.sendgrid_burst),
        ("Twilio", sms_times, args.twilio_rate, args.twilio_burst),
    ):
        if not times:
            print(f"  {name}: no request")
            continue
        one, ten = most_in_window(times, 1.0), most_in_window(times, 10.0)
        line = f"  {name}: {len(times)} requests, at most {one} in 1 s and {ten} in 10 s"
        if rate is not None:
            b = burst if burst is not None else rate
            ok = one <= b + rate and ten <= b + 10 * rate
            line += f"; limit {rate}/s, burst {b}: {'respected' if ok else 'EXCEEDED'}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--practices", type=int, default=20_000, help="practices woken up")
    parser.add_argument(
        "--lead", type=float, default=120, help="minutes from the start to the window's opening"
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds after the opening to give up"
    )
    parser.add_argument("--batch-concurrency", type=int, default=2, help="hand-over requests")
    parser.add_argument("--sendgrid-rate", type=float, help="RECUPERO_SENDGRID_RATE (per s)")
    parser.add_argument("--sendgrid-burst", type=float, help="RECUPERO_SENDGRID_BURST")
    parser.add_argument("--twilio-rate", type=float, help="RECUPERO_TWILIO_RATE (per s)")
    parser.add_argument("--twilio-burst", type=float, help="RECUPERO_TWILIO_BURST")
    parser.add_argument("--spread", type=float, help="RECUPERO_CONTACT_SPREAD_MINUTES")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory and logs")
    args = parser.parse_args()
    local = datetime.now(ZONE) + timedelta(minutes=args.lead)
    opening = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if opening.hour >= 23:
        parser.error("the window would open after 23:00 Vienna time: a longer or shorter --lead")
    if opening.date() in holidays.country_holidays(COUNTRY, years=opening.year):
        parser.error(f"{opening:%Y-%m-%d} is a public holiday in {COUNTRY}: another --lead")
    tmp = Path(tempfile.mkdtemp(prefix="recupero-wakeup-"))
    print(
        f"recupero wake-up: {args.practices} practices, the window opens at"
        f" {opening:%H:%M} Vienna; {os.cpu_count()} CPUs, load average"
        f" {os.getloadavg()[0]:.1f}; {tmp}",
        flush=True,
    )
    stack: Stack | None = None
    with fake_providers() as (url, received):
        try:
            stack = start_stack(tmp, provider_env(url, args, opening))
            asyncio.run(wakeup(args, stack, received, opening.astimezone(UTC)))
        finally:
            if stack is not None:
                stack.stop()
            if args.keep:
                print(f"logs and databases kept in {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
