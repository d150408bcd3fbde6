"""Real processes for the system tests: a Temporal dev server persisted in a temp dir, worker
processes (tests/system/launch.py) and `recupero api`, each on free loopback ports, each killed
in teardown. Nothing here talks to anything but 127.0.0.1."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api.auth import new_key
from db.migrate import upgrade
from db.models import Delivery
from db.session import Database
from tests.conftest import venv_binary

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
MESSAGE_CHANNELS = ("post", "email", "sms", "pec")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_port(process: subprocess.Popen[bytes], port: int, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not port_open(port):
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}): {log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not open port {port}: {log.read_text()[-3000:]}")
        time.sleep(0.1)


def _kill(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@dataclass
class Stack:
    """One product installation in a temp dir: its Temporal dev server, workers and API."""

    data_dir: Path
    temporal_port: int = field(default_factory=free_port)
    task_queue: str = field(default_factory=lambda: f"system-{uuid.uuid4().hex[:8]}")
    admin_key: str = field(default_factory=new_key)
    temporal: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    api: subprocess.Popen[bytes] | None = None
    api_port: int = 0
    # settings of this installation beyond the ones below (RECUPERO_LOGIN_MAX_FAILURES, ...)
    extra_env: dict[str, str] = field(default_factory=dict)
    # the module `python -m` runs as the API: `cli` (the product's own `recupero api`), or a
    # test module that wraps it (tests/browser/api_in_contact_hours.py)
    api_module: str = "cli"
    _logs: int = 0

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.data_dir / 'recupero.db'}"

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RECUPERO_", "SENDGRID_", "TWILIO_"))
        }
        env.update(
            RECUPERO_DATA_DIR=str(self.data_dir),
            RECUPERO_DATABASE_URL=self.database_url,
            RECUPERO_TEMPORAL_ADDRESS=f"127.0.0.1:{self.temporal_port}",
            RECUPERO_TEMPORAL_PORT=str(self.temporal_port),
            RECUPERO_TASK_QUEUE=self.task_queue,
            RECUPERO_ADMIN_KEY=self.admin_key,
            # a hand-over cut by a killed API is picked up within seconds, not a minute
            RECUPERO_STRANDED_AFTER_SECONDS="3",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def _log(self, name: str) -> Path:
        self._logs += 1
        return self.data_dir / f"{self._logs:02d}-{name}.log"

    def _spawn(self, command: list[str], name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self._log(name)
        with open(log, "wb") as out:  # the child keeps its own descriptor
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT
            )
        return process, log

    def migrate(self) -> None:
        upgrade(self.database_url)

    def start_temporal(self) -> None:
        """The dev server on --db-filename in the data dir: a restart keeps every workflow."""
        assert self.temporal is None or self.temporal.poll() is not None
        self.temporal, log = self._spawn(
            [
                venv_binary("temporal"),
                "server",
                "start-dev",
                "--db-filename",
                str(self.data_dir / "temporal.db"),
                "--port",
                str(self.temporal_port),
                "--headless",
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
                "--ip",
                "127.0.0.1",
                "--log-level",
                "error",
            ],
            "temporal",
        )
        _wait_port(self.temporal, self.temporal_port, "the Temporal dev server", log)
        # the port opens a moment before the frontend answers ("Frontend is not healthy yet"):
        # a started stack is one a client can use at once. In a thread, since async tests call
        # this from inside their event loop
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, self.client()).result()

    def kill_temporal(self) -> None:
        _kill(self.temporal)

    def start_worker(self) -> subprocess.Popen[bytes]:
        process, _ = self._spawn([sys.executable, "-m", "tests.system.launch"], "worker")
        self.workers.append(process)
        return process

    def kill_worker(self, process: subprocess.Popen[bytes]) -> None:
        _kill(process)

    def start_api(self) -> str:
        """`recupero api` (migrations, the admin key, uvicorn) on a free port; its base URL."""
        self.api_port = self.api_port or free_port()
        env_port = {"RECUPERO_API_PORT": str(self.api_port)}
        log = self._log("api")
        with open(log, "wb") as out:
            self.api = subprocess.Popen(
                [sys.executable, "-m", self.api_module, "api"],
                cwd=ROOT,
                env={**self.env(), **env_port},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_port(self.api, self.api_port, "the API", log)
        return f"http://127.0.0.1:{self.api_port}"

    @contextmanager
    def running(self) -> Iterator[Stack]:
        """The whole installation started (migrations, Temporal, a worker, the API) for the
        `with` block, every process stopped after it: a test module's one stack."""
        try:
            self.migrate()
            self.start_temporal()
            self.start_worker()
            self.start_api()
            yield self
        finally:
            self.close()

    def kill_api(self) -> None:
        _kill(self.api)

    def close(self) -> None:
        """Every process this stack started, workers first."""
        for process in self.workers:
            _kill(process)
        _kill(self.api)
        _kill(self.temporal)

    async def client(self) -> Client:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                return await Client.connect(
                    f"127.0.0.1:{self.temporal_port}", data_converter=pydantic_data_converter
                )
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)


async def eventually(
    check: Callable[[], Awaitable[Any]], what: str, seconds: float = 60.0, every: float = 0.5
) -> Any:
    """Polls check() until it returns something truthy; exceptions count as not yet (a server
    that is restarting), the last one is reported."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await check()
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}; last: {last!r}")


async def duplicate_deliveries(db: Database) -> list[tuple[Any, ...]]:
    """Deliveries that exist more than once: the same idempotency key (the unique index makes
    that impossible, checked anyway), or the same practice + step + occurrence + channel.

    Keys are `<practice>:<step>:<occurrence>:...`; in these tests every step runs once."""
    async with db.session() as session:
        by_key = (
            await session.execute(
                select(Delivery.idempotency_key, func.count())
                .group_by(Delivery.idempotency_key)
                .having(func.count() > 1)
            )
        ).all()
        rows = (
            await session.execute(
                select(Delivery.practice_id, Delivery.idempotency_key, Delivery.channel)
            )
        ).all()
    seen: dict[tuple[str | None, str, str], int] = {}
    for practice_id, key, channel in rows:
        if channel not in MESSAGE_CHANNELS:
            continue  # notifications to staff go to several people per step
        step = key.split(":")[1] if key.count(":") >= 1 else key
        name = (practice_id, step, channel)
        seen[name] = seen.get(name, 0) + 1
    return [tuple(r) for r in by_key] + [(*k, n) for k, n in seen.items() if n > 1]
