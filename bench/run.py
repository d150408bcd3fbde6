"""Recupero bench: hand-over and update rates through the API next to raw Temporal rates, API
latency, and the worker's memory with many practices parked on timers. One run, one stack.

    .venv/bin/python bench/run.py --practices 500 --signals 500 --waiting 2000 --concurrency 16

It starts, in a temporary directory: the Temporal dev server (the venv's `temporal`, SQLite
file, the same pragmas as `recupero run`), the read model (migrated SQLite), the product's worker
(`cli.py worker`, a subprocess), the API (`cli.py api`, uvicorn on loopback, a subprocess) and a
bench worker (a subprocess of this script) that runs only the reference workflows: `BenchEmpty`
(raw starts, updates, signals) and `BenchParked` (raw parked: one row written by a local
activity, then a timer; raw recorded updates: an update whose handler writes one row).
Everything is stopped and deleted at the end (--keep keeps the directory and its logs).

Practices are handed over with invoices due in 300 days and a strategy with every optional step
off: each workflow writes the read model three times (handed over, step started, next action)
and parks on a durable timer until the due date. That is all the worker does meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import httpx  # noqa: E402
from empty_workflow import ROWS_TABLE, EmptyWorkflow, ParkedWorkflow, RowWriter  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from config import Settings  # noqa: E402
from domain.strategy import STEP_ORDER, Step  # noqa: E402

RAW_QUEUE = "bench-raw"
PRODUCT_QUEUE = "bench-practices"
GIB = 1024**3
TICKS = os.sysconf("SC_CLK_TCK")


# --- the processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def rss_bytes(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes."""
    values = {"VmRSS": 0, "VmHWM": 0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in values:
            values[key] = int(rest.split()[0]) * 1024
    return values["VmRSS"], values["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # after the ")": state is fields[0]; utime, stime are stat fields 14 and 15 (1-based)
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Stack:
    tmp: Path
    env: dict[str, str]
    temporal_port: int
    api_port: int
    admin_key: str
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def db_path(self) -> Path:
        return self.tmp / "recupero.db"

    @property
    def raw_db_path(self) -> Path:
        """The raw worker's SQLite file: the one-row table of BenchParked (empty_workflow.py)."""
        return self.tmp / "raw.db"

    def spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        with open(self.tmp / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.procs[name] = proc
        return proc

    def cpu(self) -> dict[str, float]:
        out = {name: cpu_seconds(p.pid) for name, p in self.procs.items()}
        out["bench client"] = time.process_time()
        return out

    def stop(self) -> None:
        for name in ("api", "worker", "raw worker", "temporal"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGINT if name != "temporal" else signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_stack(tmp: Path, extra_env: dict[str, str] | None = None) -> Stack:
    from api.auth import new_key

    temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
    admin_key = new_key()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SENDGRID_", "TWILIO_", "RECUPERO_"))
    }
    env.update(
        RECUPERO_DATA_DIR=str(tmp),
        RECUPERO_TEMPORAL_PORT=str(temporal_port),
        RECUPERO_TEMPORAL_UI_PORT=str(ui_port),
        RECUPERO_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}",
        RECUPERO_API_HOST="127.0.0.1",
        RECUPERO_API_PORT=str(api_port),
        RECUPERO_ADMIN_KEY=admin_key,
        RECUPERO_TASK_QUEUE=PRODUCT_QUEUE,
        BENCH_RAW_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'raw.db'}",
    )
    env.update(extra_env or {})
    stack = Stack(tmp, env, temporal_port, api_port, admin_key)
    try:  # a part that does not come up: stop the others before giving up
        binary = Path(sys.executable).parent / "temporal"
        stack.spawn(
            "temporal",
            [
                str(binary if binary.exists() else "temporal"),
                "server",
                "start-dev",
                "--db-filename",
                str(tmp / "temporal.db"),
                "--port",
                str(temporal_port),
                "--ui-port",
                str(ui_port),
                "--ip",
                "127.0.0.1",
                "--sqlite-pragma",
                "journal_mode=wal",
                "--sqlite-pragma",
                "synchronous=normal",
                "--log-level",
                "warn",
            ],
        )
        wait_for(lambda: port_open(temporal_port), "the Temporal dev server", stack)
        python = sys.executable
        subprocess.run(
            [python, "cli.py", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        stack.spawn("api", [python, "cli.py", "api"])
        stack.spawn("worker", [python, "cli.py", "worker"])
        stack.spawn("raw worker", [python, str(Path(__file__).resolve()), "--raw-worker"])
        wait_for(lambda: api_healthy(stack), "the API", stack)
    except BaseException:
        stack.stop()
        raise
    return stack


def api_healthy(stack: Stack) -> bool:
    try:
        return httpx.get(f"{stack.api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(ready: Callable[[], bool], what: str, stack: Stack, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        for name, proc in stack.procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited ({proc.returncode}); see {stack.tmp}/{name}.log")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready within {seconds:.0f} s; logs in {stack.tmp}")
        time.sleep(0.2)


async def run_raw_worker() -> None:
    """The bench worker (a subprocess): the reference workflows only, on their own task queue."""
    from config import load_settings
    from worker import workflow_runner

    client = await connect(os.environ["RECUPERO_TEMPORAL_ADDRESS"])
    settings = load_settings()
    writer = RowWriter(os.environ["BENCH_RAW_DATABASE_URL"])
    await writer.create_table()
    # the product worker's runner and cache size: the raw figures differ only by the work
    worker = Worker(
        client,
        task_queue=RAW_QUEUE,
        workflows=[EmptyWorkflow, ParkedWorkflow],
        activities=[writer.record],
        workflow_runner=workflow_runner(settings),
        max_cached_workflows=settings.worker_cache_size,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()


async def connect(address: str) -> Client:
    for _ in range(120):  # the port is open a moment before the frontend answers
        try:
            return await Client.connect(address)
        except RuntimeError:
            await asyncio.sleep(0.5)
    raise SystemExit(f"could not connect to Temporal at {address}")


# --- load ----------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    errors: int
    first_error: str
    cpu: dict[str, float]
    started: float = 0.0  # time.perf_counter() when the measurement began

    def failed(self) -> str:
        return f"; {self.errors}/{self.count} failed" if self.errors else ""

    @property
    def rate(self) -> float:
        return (self.count - self.errors) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def quiet(stack: Stack, seconds: float = 180.0) -> None:
    """Waits until the stack is idle (under 0.15 CPU-s per second in all its processes): a
    phase is measured on a stack that has finished the work of the previous one, the raw
    worker's backlog of first workflow tasks included."""
    deadline = time.monotonic() + seconds
    before = sum(stack.cpu().values())
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = sum(stack.cpu().values())
        if now - before < 0.15:
            return
        before = now
    print(f"  (the stack was still busy after {seconds:.0f} s; measuring anyway)", flush=True)


async def load(
    stack: Stack,
    name: str,
    count: int,
    concurrency: int,
    one: Callable[[int], Awaitable[None]],
) -> Phase:
    """Runs one(i) for i in range(count) from `concurrency` concurrent clients."""
    counter: Iterator[int] = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []

    async def client() -> None:
        while (i := next(counter)) < count:
            started = time.perf_counter()
            try:
                await one(i)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:80])
                continue
            latencies.append(time.perf_counter() - started)

    await quiet(stack)
    cpu_before = stack.cpu()
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    cpu_after = stack.cpu()
    cpu = {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after}
    kinds = "; ".join(f"{n} x {e}" for e, n in Counter(errors).most_common(3))
    phase = Phase(name, count, seconds, latencies, len(errors), kinds, cpu, started)
    note = f", {phase.errors} errors ({kinds})" if errors else ""
    load1 = os.getloadavg()[0]
    print(
        f"  {name}: {count} in {seconds:.1f} s = {phase.rate:.1f}/s{note} (load {load1:.1f})",
        flush=True,
    )
    return phase


class ApiError(Exception):
    pass


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise ApiError(f"{response.status_code} {response.text[:200]}")
    return response


def hand_over_body(creditor_id: str, reference: str) -> dict[str, object]:
    today = date.today()
    return {
        "creditor_id": creditor_id,
        "reference": reference,
        "debtor": {
            "kind": "consumer",
            "name": "Mario Rossi",
            "tax_code": "RSSMRA85T10A562S",
            "address": {
                "street": "Via Roma 1",
                "city": "Milano",
                "postal_code": "20121",
                "province": "MI",
                "country": "IT",
            },
        },
        "invoices": [
            {
                "number": "FT-1",
                "issue_date": (today - timedelta(days=10)).isoformat(),
                "due_date": (today + timedelta(days=300)).isoformat(),
                "amount": "1000.00",
            }
        ],
    }


# Every optional step off: a practice due ahead parks on the timer to its due date (the pre-due
# step, without reminders). Authorisation cannot be switched off; its waits are long anyway.
PARKING_STRATEGY = {
    "steps": [
        {"step": step, "enabled": False}
        # every step the creditor may switch off: the authorisation cannot be
        for step in STEP_ORDER
        if step != Step.AUTHORIZATION
    ],
    "authorization_reminder_interval": "P30D",
    "authorization_timeout": "P365D",
}


def parked(stack: Stack, creditor_id: str) -> int:
    """Practices of the creditor whose workflow has reached its timer (read model)."""
    with contextlib.closing(sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 5000")
        row = db.execute(
            "SELECT count(*) FROM practices WHERE creditor_id = ? AND next_step = 'out_of_court'",
            (creditor_id,),
        ).fetchone()
    return int(row[0])


async def wait_parked(stack: Stack, creditor_id: str, total: int, since: float) -> float:
    """Waits until `total` practices are parked; the seconds from `since` until then."""
    deadline = time.monotonic() + 1800
    last = -1
    while (n := await asyncio.to_thread(parked, stack, creditor_id)) < total:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {n}/{total} practices parked after 30 minutes")
        if n != last:
            last = n
        await asyncio.sleep(0.2)
    return time.perf_counter() - since


def raw_rows(stack: Stack, kind: str) -> int:
    """Rows the raw worker's local activity has written (BenchParked), of one kind."""
    if not stack.raw_db_path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{stack.raw_db_path}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 5000")
        try:
            row = db.execute(
                f"SELECT count(*) FROM {ROWS_TABLE} WHERE kind = ?", (kind,)
            ).fetchone()
        except sqlite3.OperationalError:  # the raw worker has not created its table yet
            return 0
    return int(row[0])


async def raw_parked(
    stack: Stack, client: Client, name: str, count: int, concurrency: int, prefix: str
) -> tuple[Phase, float]:
    """`count` BenchParked workflows started from `concurrency` clients, as the product's
    hand-overs are; the start phase and the seconds from the first start until every one has
    written its row (its timer is set in the workflow task completion that follows)."""
    before = await asyncio.to_thread(raw_rows, stack, "parked")

    async def start(i: int) -> None:
        await client.start_workflow(ParkedWorkflow.run, id=f"{prefix}-{i}", task_queue=RAW_QUEUE)

    phase = await load(stack, name, count, concurrency, start)
    deadline = time.monotonic() + 1800
    while (n := await asyncio.to_thread(raw_rows, stack, "parked")) < before + count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {n - before}/{count} raw workflows parked after 30 minutes")
        await asyncio.sleep(0.2)
    settle = time.perf_counter() - phase.started
    print(
        f"    all {count} raw parked {settle:.1f} s after the first start"
        f" ({count / settle:.1f}/s end to end)",
        flush=True,
    )
    return phase, settle


def api_available(openapi: dict[str, object], path: str) -> bool:
    paths = openapi.get("paths", {})
    return isinstance(paths, dict) and path in paths


def cli_has_import() -> bool:
    done = subprocess.run(
        [sys.executable, "cli.py", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    return "import" in done.stdout.split("positional arguments", 1)[-1].split("options", 1)[0]


def practice_workflow_ids(stack: Stack, practice_ids: list[str]) -> list[str]:
    """The workflow ids of these practices, from the read model."""
    with contextlib.closing(sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 5000")
        found = dict(db.execute("SELECT id, workflow_id FROM practices").fetchall())
    return [found[pid] for pid in practice_ids]


def handed_over(stack: Stack, creditor_id: str) -> int:
    """Practices of the creditor in the read model."""
    with contextlib.closing(sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 5000")
        row = db.execute(
            "SELECT count(*) FROM practices WHERE creditor_id = ?", (creditor_id,)
        ).fetchone()
    return int(row[0])


async def bench_batch(
    stack: Stack, http: httpx.AsyncClient, creditor: str, run_id: str, args: argparse.Namespace
) -> Phase:
    """--batch practices through POST /practices/batch, --batch-size per request."""
    size, total = args.batch_size, args.batch
    chunks = [range(start, min(total, start + size)) for start in range(0, total, size)]
    started = 0

    async def one(i: int) -> None:
        nonlocal started
        body = {"practices": [hand_over_body(creditor, f"BB-{run_id}-{j}") for j in chunks[i]]}
        result = expect(await http.post("/practices/batch", json=body), 200).json()
        started += int(result["started"])
        if result.get("failed"):
            raise ApiError(f"{result['failed']} rows failed")

    phase = await load(stack, "POST /practices/batch", len(chunks), args.batch_concurrency, one)
    phase.count, phase.errors = total, total - started  # the rate is in practices
    print(f"    = {started} practices started, {phase.rate:.1f} practices/s", flush=True)
    return phase


async def bench_import(stack: Stack, creditor: str, run_id: str, args: argparse.Namespace) -> Phase:
    """--batch practices from a CSV through `recupero import` (a subprocess), timed whole."""
    path = stack.tmp / "import.csv"
    today = date.today()
    with path.open("w", newline="") as f:
        f.write(
            "creditor_id,reference,debtor_kind,debtor_name,tax_code,vat_number,email,phone,pec,"
            "street,city,postal_code,province,country,invoice_number,issue_date,due_date,amount\n"
        )
        for j in range(args.batch):
            f.write(
                f"{creditor},IM-{run_id}-{j},consumer,Mario Rossi,RSSMRA85T10A562S,,,,,"
                f"Via Roma 1,Milano,20121,MI,IT,FT-1,{(today - timedelta(days=10)).isoformat()},"
                f"{(today + timedelta(days=300)).isoformat()},1000.00\n"
            )
    before = handed_over(stack, creditor)
    command = [
        sys.executable,
        "cli.py",
        "import",
        str(path),
        "--api",
        stack.api_url,
        "--key",
        stack.admin_key,
        "--chunk-size",
        str(args.batch_size),
        "--concurrency",
        str(args.batch_concurrency),
    ]

    async def one(_: int) -> None:
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=stack.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _err = await proc.communicate()
        if proc.returncode != 0:
            raise ApiError(f"exit {proc.returncode}: {out.decode()[-200:]}")

    phase = await load(stack, "recupero import", 1, 1, one)
    phase.count = args.batch
    phase.errors = args.batch - (handed_over(stack, creditor) - before)
    print(f"    = {phase.count - phase.errors} practices, {phase.rate:.1f} practices/s", flush=True)
    return phase


async def finish_all(client: Client, workflow_ids: list[str], concurrency: int) -> None:
    """Signals `finish` to these reference workflows, `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def finish(workflow_id: str) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await client.get_workflow_handle(workflow_id).signal("finish")

    await asyncio.gather(*(finish(w) for w in workflow_ids))


async def end_to_end(
    stack: Stack, creditor: str, since: float, count: int, raw_parked_rate: float
) -> Row:
    """Waits until every practice handed over so far is parked on its timer: the phase's rate
    from its first request until its last practice was parked, next to raw parked."""
    settle = await wait_parked(stack, creditor, handed_over(stack, creditor), since)
    rate = count / settle
    print(f"    all parked {settle:.1f} s after the first request ({rate:.1f}/s)", flush=True)
    return parked_row("  hand-over until parked", rate, raw_parked_rate)


def parked_row(label: str, rate: float, raw_parked_rate: float) -> Row:
    """A hand-over's end-to-end rate against raw parked (the issue's target: 70%)."""
    ratio = rate / raw_parked_rate if raw_parked_rate else 0.0
    return Row(
        label,
        f"{rate:.1f}/s",
        f"{raw_parked_rate:.1f}/s raw parked",
        f"{ratio:.0%}",
        ">= 70%",
        "yes" if ratio >= 0.7 else "NO",
    )


def handover_rows(label: str, phase: Phase, raw: Phase) -> list[Row]:
    ratio = phase.rate / raw.rate if raw.rate else 0.0
    return [
        Row(
            label,
            f"{phase.rate:.1f}/s{phase.failed()}",
            f"{raw.rate:.1f}/s raw starts",
            f"{ratio:.0%}",
            ">= 80%",
            "yes" if ratio >= 0.8 else "NO",
        ),
        Row(
            "  latency per request p50 / p99",
            f"{phase.pct(0.5):.0f} / {phase.pct(0.99):.0f} ms",
        ),
    ]


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    figure: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


async def bench(args: argparse.Namespace, stack: Stack) -> list[Row]:
    c = args.concurrency
    n = args.practices
    run_id = uuid.uuid4().hex[:6]
    rows: list[Row] = []
    phases: list[Phase] = []
    client = await connect(stack.address)
    headers = {"Authorization": f"Bearer {stack.admin_key}"}
    limits = httpx.Limits(max_connections=c, max_keepalive_connections=c)
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers=headers, limits=limits, timeout=120
    ) as http:
        creditor = expect(
            await http.post(
                "/creditors",
                json={
                    "name": "Bench S.r.l.",
                    "vat_number": "00743110157",
                    "iban": "IT60X0542811101000000123456",
                },
            ),
            201,
        ).json()["id"]
        expect(await http.put(f"/creditors/{creditor}/strategy", json=PARKING_STRATEGY), 200)
        openapi = (await http.get("/openapi.json")).json()
        worker_pid = stack.procs["worker"].pid
        rss_start, _ = rss_bytes(worker_pid)

        # 1. hand-over: raw starts of the empty workflow, then practices through the API
        print("hand-over", flush=True)

        # the workflows started on the raw worker, in order (to tell which ones it still caches)
        raw_started: list[int] = []

        async def raw_round(name: str, count: int, prefix: str) -> Phase:
            async def start(i: int) -> None:
                await client.start_workflow(
                    EmptyWorkflow.run, id=f"{prefix}-{i}", task_queue=RAW_QUEUE
                )

            raw_started.append(count)
            return await load(stack, name, count, c, start)

        raw_rounds = itertools.count(1)

        async def raw_before(label: str, count: int) -> Phase:
            """Raw starts measured right before a bulk phase, on the machine as it is then:
            shared cores vary from minute to minute, a ratio compares neighbours."""
            prefix = f"bench-{run_id}-r{next(raw_rounds)}"
            return await raw_round(f"raw start (before {label})", count, prefix)

        # the updates and signals below go to these workflows: bench-<run>-<i>
        raw_starts = await raw_round("raw start (empty workflow)", n, f"bench-{run_id}")
        # the recorded updates below go to these workflows: bench-<run>-p-<i>
        parked_start, parked_settle = await raw_parked(
            stack, client, "raw parked (start, one row, timer)", n, c, f"bench-{run_id}-p"
        )
        parked_rate = n / parked_settle
        raw_started.append(n)
        raw_before_targets = sum(raw_started)  # the recorded updates' targets are the last ones
        practice_ids: list[str] = []

        async def hand_over(i: int) -> None:
            body = hand_over_body(creditor, f"B-{run_id}-{i}")
            practice_ids.append(expect(await http.post("/practices", json=body), 201).json()["id"])

        api_starts = await load(stack, "POST /practices", n, c, hand_over)
        settle = await wait_parked(stack, creditor, len(practice_ids), api_starts.started)
        print(
            f"  all {len(practice_ids)} parked on their timer {settle:.1f} s after the first"
            f" POST ({len(practice_ids) / settle:.1f} practices/s end to end)",
            flush=True,
        )
        phases += [raw_starts, parked_start, api_starts]
        ratio = api_starts.rate / raw_starts.rate if raw_starts.rate else 0.0
        rows.append(
            Row(
                "hand-over: POST /practices",
                f"{api_starts.rate:.1f}/s{api_starts.failed()}",
                f"{raw_starts.rate:.1f}/s raw starts{raw_starts.failed()}",
                f"{ratio:.0%}",
                ">= 80%",
                "yes" if ratio >= 0.8 else "NO",
            )
        )
        rows.append(parked_row("  hand-over until parked", len(practice_ids) / settle, parked_rate))
        rows.append(
            Row(
                "  API latency p50 / p99",
                f"{api_starts.pct(0.5):.0f} / {api_starts.pct(0.99):.0f} ms",
                f"{raw_starts.pct(0.5):.0f} / {raw_starts.pct(0.99):.0f} ms raw",
            )
        )
        # bulk hand-overs, where the product has them
        # Each bulk phase starts on a stack that has finished the previous one (every practice
        # parked), as the raw starts do; its end-to-end rate counts until its own are parked.
        if api_available(openapi, "/practices/batch") and args.batch:
            raw_batch = await raw_before("the batch", args.batch)
            batch_parked, batch_settle = await raw_parked(
                stack,
                client,
                "raw parked (before the batch)",
                args.batch,
                c,
                f"bench-{run_id}-pb",
            )
            raw_started.append(args.batch)
            parked_rate = args.batch / batch_settle
            batch = await bench_batch(stack, http, creditor, run_id, args)
            phases += [raw_batch, batch_parked, batch]
            rows += handover_rows(
                f"POST /practices/batch ({args.batch_size}/request)", batch, raw_batch
            )
            rows.append(await end_to_end(stack, creditor, batch.started, args.batch, parked_rate))
        else:
            rows.append(Row("POST /practices/batch", "not available"))
        if cli_has_import() and args.batch:
            raw_import = await raw_before("the import", args.batch)
            imported = await bench_import(stack, creditor, run_id, args)
            phases += [raw_import, imported]
            rows += handover_rows(
                f"recupero import (CSV, chunks of {args.batch_size})", imported, raw_import
            )
            # against the last raw parked figure (the batch's, or that of POST /practices)
            rows.append(
                await end_to_end(stack, creditor, imported.started, args.batch, parked_rate)
            )
        else:
            rows.append(Row("recupero import", "not available"))
        await wait_parked(stack, creditor, handed_over(stack, creditor), time.perf_counter())

        # 2. the portfolio filled up to --waiting practices parked on their timers, before the
        # updates: with more practices handed over after the first ones than the worker caches,
        # the first ones have been evicted, as the raw worker's first parked workflows have
        print("filling", flush=True)
        rss_after_handover, _ = rss_bytes(worker_pid)
        extra = max(0, args.waiting - handed_over(stack, creditor))
        fill_size = 500  # practices per POST /practices/batch

        async def fill(i: int) -> None:
            rows = range(i * fill_size, min(extra, (i + 1) * fill_size))
            body = {"practices": [hand_over_body(creditor, f"W-{run_id}-{j}") for j in rows]}
            result = expect(await http.post("/practices/batch", json=body), 200).json()
            if result["failed"]:
                raise ApiError(f"{result['failed']} rows failed")

        since = time.perf_counter()
        if extra:
            requests = -(-extra // fill_size)
            fill_c = min(c, args.fill_concurrency)
            fill_phase = await load(
                stack, "POST /practices/batch (filling)", requests, fill_c, fill
            )
            phases.append(fill_phase)
        waiting = handed_over(stack, creditor)
        await wait_parked(stack, creditor, waiting, since)
        # 3. updates: raw updates to the empty workflows, then payments through the API
        print("updates", flush=True)
        u = args.signals
        paid_on = date.today().isoformat()

        async def raw_update(i: int) -> None:
            handle = client.get_workflow_handle(f"bench-{run_id}-{i % n}")
            await handle.execute_update("ping", i, result_type=int)

        raw_updates = await load(stack, "raw update (empty workflow)", u, c, raw_update)

        async def raw_recorded_update(i: int) -> None:
            handle = client.get_workflow_handle(f"bench-{run_id}-p-{i % n}")
            await handle.execute_update("record", i, result_type=int)

        recorded_before = await asyncio.to_thread(raw_rows, stack, "update")
        raw_recorded = await load(stack, "raw recorded update (one row)", u, c, raw_recorded_update)
        recorded = await asyncio.to_thread(raw_rows, stack, "update") - recorded_before
        if recorded != u - raw_recorded.errors:  # an update answers after its row is written
            print(f"    ! {recorded} rows for {u - raw_recorded.errors} recorded updates")

        def payments(tag: str) -> Callable[[int], Awaitable[None]]:
            async def payment(i: int) -> None:
                pid = practice_ids[i % len(practice_ids)]
                # a reference of its own: the same one again is a retry, answered without a
                # second payment
                reference = f"CRO-{run_id}-{tag}-{i}"
                body = {"amount": "0.01", "paid_on": paid_on, "reference": reference}
                expect(await http.post(f"/practices/{pid}/payments", json=body), 200)

            return payment

        api_updates = await load(stack, "POST /practices/{id}/payments", u, c, payments("c"))

        # Whether the targets were still in their worker's cache: a workflow evicted is replayed
        # from its history before its update runs. Both rounds above go to the first workflows
        # each worker started, evicted if more than its cache size came after them; the rounds
        # below go to the same ones again, now cached, so each ratio compares like with like.
        cache = int(stack.env.get("RECUPERO_WORKER_CACHE_SIZE", Settings.worker_cache_size))
        raw_after = sum(raw_started) - raw_before_targets
        product_after = handed_over(stack, creditor) - len(practice_ids)
        cold = raw_after >= cache and product_after >= cache
        print(
            f"    started after the targets: {raw_after} raw, {product_after} practices; "
            f"cache {cache}: " + ("both evicted" if cold else "NOT both evicted"),
            flush=True,
        )
        recorded_before = await asyncio.to_thread(raw_rows, stack, "update")
        raw_recorded_hot = await load(
            stack, "raw recorded update, cached", u, c, raw_recorded_update
        )
        recorded = await asyncio.to_thread(raw_rows, stack, "update") - recorded_before
        if recorded != u - raw_recorded_hot.errors:
            print(f"    ! {recorded} rows for {u - raw_recorded_hot.errors} recorded updates")
        api_updates_hot = await load(stack, "POST .../payments, cached", u, c, payments("h"))

        # Where a payment's cost lies: the same update sent straight to the practices' workflows
        # with the product's client (the workflow's and the engine's part, no HTTP), and the
        # API's floor (GET /health: one database ping and one Temporal call, no workflow)
        from config import data_converter
        from domain.practice import PaymentCmd, UpdateName

        product_client = await Client.connect(stack.address, data_converter=data_converter)
        workflow_ids = practice_workflow_ids(stack, practice_ids)
        paid_today = date.today()

        async def direct_payment(i: int) -> None:
            handle = product_client.get_workflow_handle(workflow_ids[i % len(workflow_ids)])
            command = PaymentCmd(amount_cents=1, paid_on=paid_today, reference=f"DIR-{run_id}-{i}")
            await handle.execute_update(UpdateName.PAYMENT, command)

        direct_updates = await load(stack, "payment update, no API", u, c, direct_payment)

        async def health(_: int) -> None:
            expect(await http.get("/health"), 200)

        api_floor = await load(stack, "GET /health (the API's floor)", u, c, health)

        async def raw_signal(i: int) -> None:
            await client.get_workflow_handle(f"bench-{run_id}-{i % n}").signal("poke", i)

        # for reference: a signal is answered by the server alone, before any worker sees it;
        # the product's commands are updates, answered by the workflow (see bench/README.md)
        raw_signals = await load(stack, "raw signal (empty workflow)", u, c, raw_signal)
        phases += [raw_updates, raw_recorded, api_updates, raw_recorded_hot, api_updates_hot]
        phases += [direct_updates, api_floor, raw_signals]
        for label, product, raw in (
            (
                "update: POST .../payments 0.01, " + ("evicted" if cold else "partly evicted"),
                api_updates,
                raw_recorded,
            ),
            ("update: POST .../payments 0.01, cached", api_updates_hot, raw_recorded_hot),
        ):
            ratio = product.rate / raw.rate if raw.rate else 0.0
            rows.append(
                Row(
                    label,
                    f"{product.rate:.1f}/s{product.failed()}",
                    f"{raw.rate:.1f}/s raw recorded updates{raw.failed()}",
                    f"{ratio:.0%}",
                    ">= 70%",
                    "yes" if ratio >= 0.7 else "NO",
                )
            )
        # The ceiling of that ratio on this machine: a payment through the API does at least
        # the raw recorded update's work and one authenticated HTTP request's (GET /health:
        # the API's floor, one database ping and one Temporal call). CPU-s of every process,
        # the bench client's included, as the machine's cores are shared by all of them.
        raw_cpu = sum(raw_recorded_hot.cpu.values()) / raw_recorded_hot.count
        floor_cpu = raw_cpu + sum(api_floor.cpu.values()) / api_floor.count
        paid_cpu = sum(api_updates_hot.cpu.values()) / api_updates_hot.count
        rows.append(
            Row(
                "  ceiling: raw recorded + GET /health",
                f"{floor_cpu * 1000:.1f} ms CPU",
                f"{raw_cpu * 1000:.1f} ms CPU raw recorded; payment {paid_cpu * 1000:.1f} ms",
                f"{raw_cpu / floor_cpu:.0%}",
                ">= 70%",
                "yes" if raw_cpu / floor_cpu >= 0.7 else "NO: a floor",
            )
        )
        raw_ratio = api_updates.rate / raw_updates.rate if raw_updates.rate else 0.0
        rows.append(
            Row(
                "  next to raw updates (no row)",
                "",
                f"{raw_updates.rate:.1f}/s raw updates{raw_updates.failed()}",
                f"{raw_ratio:.0%}",
            )
        )
        rows.append(
            Row(
                "  API latency p50 / p99",
                f"{api_updates.pct(0.5):.0f} / {api_updates.pct(0.99):.0f} ms",
                f"{raw_recorded.pct(0.5):.0f} / {raw_recorded.pct(0.99):.0f} ms raw recorded",
            )
        )
        # the reference for outcomes is the raw signal rate
        signal_ratio = api_updates.rate / raw_signals.rate if raw_signals.rate else 0.0
        rows.append(
            Row(
                "  next to raw signals",
                "",
                f"{raw_signals.rate:.1f}/s raw signals",
                f"{signal_ratio:.0%}",
            )
        )
        for label, phase in (
            ("  the same update, no API", direct_updates),
            ("  GET /health, the API's floor", api_floor),
        ):
            rows.append(
                Row(
                    label,
                    f"{phase.rate:.1f}/s{phase.failed()}",
                    "of raw signals",
                    f"{phase.rate / raw_signals.rate:.0%}" if raw_signals.rate else "",
                )
            )
        # the reference workflows end (the server's memory below is the product's)
        ending = [f"bench-{run_id}-{i}" for i in range(n)]
        ending += [f"bench-{run_id}-p-{i}" for i in range(n)]
        if args.batch:
            ending += [f"bench-{run_id}-pb-{i}" for i in range(args.batch)]
        await finish_all(client, ending, c)

        # 4. memory: the worker with --waiting practices parked on timers
        print("memory", flush=True)
        await asyncio.sleep(2)
        rss, hwm = rss_bytes(worker_pid)
        server_rss, _ = rss_bytes(stack.procs["temporal"].pid)
        api_rss, _ = rss_bytes(stack.procs["api"].pid)
        rows.append(
            Row(
                f"worker RSS, {waiting} practices waiting",
                f"{rss / 2**20:.0f} MiB",
                f"peak {hwm / 2**20:.0f} MiB; idle {rss_start / 2**20:.0f}, after "
                f"{len(practice_ids)}: {rss_after_handover / 2**20:.0f}",
                "",
                "< 1 GiB",
                "yes" if rss < GIB else "NO",
            )
        )
        rows.append(
            Row(
                "  (Temporal server RSS / API RSS)",
                f"{server_rss / 2**20:.0f} / {api_rss / 2**20:.0f} MiB",
            )
        )
    print_cpu(phases)
    return rows


def print_cpu(phases: list[Phase]) -> None:
    names = ["temporal", "worker", "api", "raw worker", "bench client"]
    print("\nCPU seconds per process during each phase (2 cores = 2 CPU-s per second)")
    print(f"{'phase':34} {'wall s':>7} " + " ".join(f"{n:>12}" for n in names))
    for p in phases:
        cells = " ".join(f"{p.cpu.get(n, 0.0):12.1f}" for n in names)
        print(f"{p.name:34} {p.seconds:7.1f} {cells}")


def print_rows(rows: list[Row]) -> None:
    header = Row("measure", "figure", "reference (same run)", "ratio", "target", "met")
    widths = [
        max(len(getattr(r, f)) for r in [header, *rows])
        for f in ("what", "figure", "reference", "ratio", "target", "met")
    ]
    print()
    for r in [header, *rows]:
        cells = (r.what, r.figure, r.reference, r.ratio, r.target, r.met)
        print("  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practices", type=int, default=500, help="hand-overs measured")
    parser.add_argument("--signals", type=int, default=500, help="updates measured")
    parser.add_argument(
        "--waiting", type=int, default=10_000, help="practices parked for the memory figure"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument(
        "--fill-concurrency",
        type=int,
        default=2,
        help="batch requests (500 practices each) in flight filling up to --waiting",
    )
    parser.add_argument(
        "--batch", type=int, default=500, help="practices via POST /practices/batch and import"
    )
    parser.add_argument("--batch-size", type=int, default=200, help="practices per request")
    parser.add_argument("--batch-concurrency", type=int, default=4, help="batch requests in flight")
    parser.add_argument(
        "--worker-cache",
        type=int,
        help="workflows both workers cache (RECUPERO_WORKER_CACHE_SIZE; the product's default)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp directory and logs")
    parser.add_argument("--raw-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_worker:
        asyncio.run(run_raw_worker())
        return
    tmp = Path(tempfile.mkdtemp(prefix="recupero-bench-"))
    print(
        f"recupero bench: {args.practices} practices, {args.signals} updates, "
        f"{args.waiting} waiting, concurrency {args.concurrency}; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} before the start; {tmp}",
        flush=True,
    )
    stack: Stack | None = None
    try:
        cache = {"RECUPERO_WORKER_CACHE_SIZE": str(args.worker_cache)} if args.worker_cache else {}
        stack = start_stack(tmp, cache)
        rows = asyncio.run(bench(args, stack))
        print_rows(rows)
    finally:
        if stack is not None:
            stack.stop()
        if args.keep:
            print(f"logs and databases kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
