"""A provider's limit holds across worker processes (issue 17): two real worker processes send
a burst of due reminders through one Temporal dev server to a local stand-in for SendGrid or
Twilio that records when each request arrived. Counts, not durations: in any window the stand-in
never sees more than the shared bucket allows, and every message is sent exactly once. A 429's
Retry-After holds every worker; an outage parks the messages (the outbox says so) and the
practices' steps carry on once the provider is back."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.services.outbox import deliveries
from config import data_converter
from db.models import Delivery
from db.session import Database
from domain.activity_io import ReminderInput, SentResult
from tests.api.helpers import eventually
from tests.conftest import venv_binary
from tests.factories import create_creditor, create_practice
from tests.provider_limit_worker import WORKFLOW

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "AC" + "0" * 32


@dataclass
class Arrival:
    at: float  # time.time(): the workers' bucket reads the same clock
    worker: str  # which process sent it: each has its own API key
    key: str  # the message's idempotency key
    status: int  # what the stand-in answered


@dataclass
class Provider:
    """SendGrid's /v3/mail/send and Twilio's Messages.json; answers 503 while `down`, and the
    scripted answers first."""

    url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    scripted: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, status: int) -> list[Arrival]:
        with self.lock:
            return [a for a in self.arrivals if a.status == status]


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
            at = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            auth = self.headers.get("Authorization", "")
            if self.path == "/v3/mail/send":
                key = json.loads(body)["custom_args"]["idempotency_key"]
            else:
                # Twilio: the body names no key; the reminder's text carries the reference
                key = parse_qs(body.decode())["Body"][0]
            with state.lock:
                if state.scripted:
                    status, headers = state.scripted.pop(0)
                elif state.down:
                    status, headers = 503, {}
                else:
                    status, headers = (202 if self.path == "/v3/mail/send" else 201), {}
                state.arrivals.append(Arrival(at, auth, key, status))
                n = len(state.arrivals)
            if status == 201:
                payload = json.dumps({"sid": f"SM{n:032d}", "status": "queued"}).encode()
            elif status == 202:
                payload, headers = b"", {"X-Message-Id": f"sg-{n}"}
            else:
                payload = json.dumps({"code": 20429, "message": "busy", "status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

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


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_binary("temporal"),
        data_converter=data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@dataclass
class Workers:
    client: Client
    task_queue: str


@pytest.fixture
async def start_workers(
    dev_server: WorkflowEnvironment, database: Database, provider: Provider, tmp_path: Path
) -> AsyncIterator[Any]:
    """Starts two worker processes with the given rates; ends them after the test."""
    processes: list[asyncio.subprocess.Process] = []
    task_queue = f"limits-{uuid.uuid4().hex[:8]}"

    async def start(**rates: float | int) -> Workers:
        for n in (1, 2):
            ready = tmp_path / f"worker-{n}.ready"
            config = {
                "temporal": dev_server.client.service_client.config.target_host,
                "task_queue": task_queue,
                "ready_file": str(ready),
                "settings": {
                    "database_url": database.url,
                    # each process its own key: the stand-in tells the senders apart
                    "sendgrid_api_key": f"SG.worker-{n}",
                    "sendgrid_host": provider.url,
                    "twilio_account_sid": ACCOUNT,
                    "twilio_auth_token": f"worker-{n}",
                    "twilio_from": "+390200000000",
                    "twilio_base_url": provider.url,
                    **rates,
                },
            }
            with (tmp_path / f"worker-{n}.log").open("wb") as log:  # noqa: ASYNC230 - a local file
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "tests.provider_limit_worker",
                        cwd=ROOT,
                        env={**os.environ, "RECUPERO_TEST_WORKER": json.dumps(config)},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        for n, process in enumerate(processes, start=1):
            ready = tmp_path / f"worker-{n}.ready"

            async def is_ready(ready: Path = ready, process: Any = process) -> bool:
                if process.returncode is not None:
                    raise AssertionError(
                        f"worker process ended ({process.returncode}): see its log"
                    )
                return await asyncio.to_thread(ready.exists)

            await eventually(is_ready, f"worker {n} polling", seconds=120)
        return Workers(dev_server.client, task_queue)

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        await process.wait()


async def reminders(db: Database, count: int, *, email: bool, sms: bool) -> list[ReminderInput]:
    creditor = await create_creditor(db)
    inputs = []
    for _ in range(count):
        practice = await create_practice(db, creditor)
        inputs.append(
            ReminderInput(
                practice.id,
                f"{practice.id}:pre_due:before",
                "before",
                date(2026, 12, 14),
                41_000,
                email=email,
                sms=sms,
            )
        )
    return inputs


async def send_all(workers: Workers, inputs: list[ReminderInput]) -> list[SentResult]:
    handles = [
        await workers.client.start_workflow(
            WORKFLOW,
            i,
            id=f"reminder-{i.practice_id}",
            task_queue=workers.task_queue,
            result_type=SentResult,
        )
        for i in inputs
    ]
    return list(await asyncio.gather(*(h.result() for h in handles)))


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))


async def test_a_burst_respects_the_providers_limit_across_two_worker_processes(
    database: Database, provider: Provider, start_workers: Any
) -> None:
    rate, burst = 4.0, 2
    workers = await start_workers(sendgrid_rate=rate, sendgrid_burst=burst)
    inputs = await reminders(database, 30, email=True, sms=False)

    results = await send_all(workers, inputs)

    assert all(r.deliveries == ["email:sent"] for r in results)
    arrivals = provider.answered(202)
    # exactly once: one accepted request per message, and nothing refused or repeated
    assert sorted(a.key for a in arrivals) == sorted(f"{i.idempotency_key}:email" for i in inputs)
    assert len(provider.arrivals) == len(inputs)
    # both processes sent: the limit held between them, not inside one
    assert {a.worker for a in arrivals} == {"Bearer SG.worker-1", "Bearer SG.worker-2"}
    # In any 3 s the shared bucket hands out at most burst + rate * 3 = 14 tokens; a second more
    # of tokens (18) covers requests taking different times from the bucket to the stand-in on
    # a busy machine. Two buckets, one per process, send the 30 in about 3.3 s (26 or more in
    # 3 s); no limit, all 30 at once.
    window, slack = 3.0, 1.0
    most = most_in_any_window([a.at for a in arrivals], window)
    assert most <= burst + rate * (window + slack)
    async with database.session() as session:
        rows = (
            await session.scalars(select(Delivery).where(Delivery.provider == "sendgrid"))
        ).all()
    assert len(rows) == len(inputs) and {r.status for r in rows} == {"sent"}


async def test_a_429_holds_every_worker_for_its_retry_after(
    database: Database, provider: Provider, start_workers: Any
) -> None:
    workers = await start_workers(twilio_rate=20.0, twilio_burst=5)
    inputs = await reminders(database, 5, email=False, sms=True)
    retry_after = 3
    provider.scripted = [(429, {"Retry-After": str(retry_after)})]

    first = asyncio.ensure_future(send_all(workers, inputs[:1]))

    async def refused_once() -> list[Arrival]:
        return provider.answered(429)

    [refused] = await eventually(refused_once, "the 429", seconds=120)
    # the other practices' sends start after the 429: whichever process takes them waits
    results = await first
    results += await send_all(workers, inputs[1:])

    assert all(r.deliveries == ["sms:sent"] for r in results)
    sent = provider.answered(201)
    assert len(sent) == len(inputs) and len(provider.arrivals) == len(inputs) + 1
    # nothing reached the provider before its Retry-After was over (a lower bound: never
    # failed by a slow machine)
    assert min(a.at for a in sent) >= refused.at + retry_after - 0.01
    async with database.session() as session:
        rows = (await session.scalars(select(Delivery).where(Delivery.channel == "sms"))).all()
    assert {(r.status, r.retry_reason, r.retry_at) for r in rows} == {("sent", None, None)}


async def test_an_outage_parks_the_sends_and_the_practices_carry_on_once_it_is_over(
    database: Database, provider: Provider, start_workers: Any
) -> None:
    workers = await start_workers(sendgrid_rate=10.0, sendgrid_burst=5)
    inputs = await reminders(database, 3, email=True, sms=False)
    provider.down = True
    sending = asyncio.ensure_future(send_all(workers, inputs))

    # the outbox (GET /outbox's service) shows each message parked, with its next try
    async def all_parked() -> list[Delivery]:
        async with database.session() as session:
            rows, _ = await deliveries(session, channel="email")
        parked = len(rows) == len(inputs) and all(r.status == "parked" for r in rows)
        return rows if parked else []

    rows = await eventually(all_parked, "the messages parked", seconds=120)
    assert {r.retry_reason for r in rows} == {"provider_unavailable"}
    assert all(r.retry_at is not None and r.retry_at > r.created_at for r in rows)
    # the practices' steps wait, none failed
    for i in inputs:
        handle = workers.client.get_workflow_handle(f"reminder-{i.practice_id}")
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

    provider.down = False
    results = await sending

    assert all(r.deliveries == ["email:sent"] for r in results)
    accepted = provider.answered(202)
    assert sorted(a.key for a in accepted) == sorted(f"{i.idempotency_key}:email" for i in inputs)
    assert len(provider.answered(503)) >= len(inputs)
    async with database.session() as session:
        rows, _ = await deliveries(session, channel="email")
    assert {(r.status, r.retry_reason, r.retry_at) for r in rows} == {("sent", None, None)}
