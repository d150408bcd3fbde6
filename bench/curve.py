"""Recupero bench: the curve. How the stack's memory, disk, CPU per operation and API latency
grow with the number of practices waiting, on one machine, in one run.

    .venv/bin/python bench/curve.py --top 100000

It starts the same stack as bench/run.py (Temporal dev server on SQLite, the migrated read
model, the product's worker and API as subprocesses, in a temporary directory) and fills it in
steps: 1,000, 10,000, 100,000 practices parked on their timers (every decade from 1,000 up to
--top, and --top itself; --steps 1000,5000 names them). At each step, on an idle stack:

- the worker's, the Temporal server's and the API's RSS (VmRSS);
- the size on disk of both databases (Temporal's and the read model, with their -wal files);
- CPU per hand-over: --sample practices handed over through POST /practices/batch, the CPU
  seconds of the server, the worker and the API from the first request until every one is
  parked and the stack is idle again, divided by --sample;
- CPU per payment: --sample payments of 0.01 through POST /practices/{id}/payments to practices
  drawn at random from all those waiting (at 100,000 most are no longer in the worker's cache),
  measured the same way;
- the API's p50 / p99 on the practice list (GET /practices?creditor_id=..&limit=50, the first
  page and pages further on by their cursor) and on the practice page (GET /practices/{id}, a
  practice drawn at random), --requests of each, one at a time.

Practices are handed over as in bench/run.py: invoices due in 300 days, every optional step off,
so a practice writes the read model once and parks on the timer to its due date.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from run import (
    PARKING_STRATEGY,
    ApiError,
    Stack,
    expect,
    hand_over_body,
    handed_over,
    quiet,
    rss_bytes,
    start_stack,
    wait_parked,
)

FILL_SIZE = 500  # practices per POST /practices/batch while filling
FILL_CHUNK = 10_000  # filled, then waited for until parked, so the backlog stays bounded
PROCESSES = ("temporal", "worker", "api")
MIB = 2**20


def steps_up_to(top: int) -> list[int]:
    """1,000, 10,000, 100,000 ... below --top, then --top."""
    steps, step = [], 1000
    while step < top:
        steps.append(step)
        step *= 10
    return [*steps, top]


def disk_bytes(path: Path) -> int:
    """A SQLite database's size on disk: the file, its write-ahead log and shared memory."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            total += (path.parent / (path.name + suffix)).stat().st_blocks * 512
    return total


def sample_practices(stack: Stack, creditor_id: str, count: int) -> list[str]:
    with contextlib.closing(sqlite3.connect(f"file:{stack.db_path}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 5000")
        rows = db.execute(
            "SELECT id FROM practices WHERE creditor_id = ? ORDER BY random() LIMIT ?",
            (creditor_id, count),
        ).fetchall()
    return [str(r[0]) for r in rows]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class Step:
    waiting: int
    rss: dict[str, int]
    disk_temporal: int
    disk_read_model: int
    cpu_handover: dict[str, float]  # CPU-ms per hand-over, per process
    cpu_payment: dict[str, float]
    list_ms: tuple[float, float]  # p50, p99
    page_ms: tuple[float, float]
    handover_rate: float  # practices/s until parked, for the record
    payment_rate: float


class Curve:
    def __init__(self, stack: Stack, http: httpx.AsyncClient, args: argparse.Namespace) -> None:
        self.stack, self.http, self.args = stack, http, args
        self.run_id = uuid.uuid4().hex[:6]
        self.references = 0
        self.creditor = ""

    def cpu(self) -> dict[str, float]:
        cpu = self.stack.cpu()
        return {name: cpu.get(name, 0.0) for name in PROCESSES}

    async def setup(self) -> None:
        body = {
            "name": "Bench S.r.l.",
            "vat_number": "00743110157",
            "iban": "IT60X0542811101000000123456",
        }
        self.creditor = expect(await self.http.post("/creditors", json=body), 201).json()["id"]
        strategy = f"/creditors/{self.creditor}/strategy"
        expect(await self.http.put(strategy, json=PARKING_STRATEGY), 200)

    async def batch(self, count: int, size: int, concurrency: int) -> None:
        """`count` new practices through POST /practices/batch, `size` a request."""
        first = self.references
        self.references += count
        chunks = [
            range(start, min(first + count, start + size))
            for start in range(first, first + count, size)
        ]
        gate = asyncio.Semaphore(concurrency)

        async def one(rows: range) -> None:
            body = {
                "practices": [hand_over_body(self.creditor, f"C-{self.run_id}-{j}") for j in rows]
            }
            async with gate:
                result = expect(await self.http.post("/practices/batch", json=body), 200).json()
            if result["failed"]:
                raise ApiError(f"{result['failed']} rows failed")

        await asyncio.gather(*(one(rows) for rows in chunks))

    async def fill(self, up_to: int) -> None:
        while (have := handed_over(self.stack, self.creditor)) < up_to:
            count = min(FILL_CHUNK, up_to - have)
            since = time.perf_counter()
            await self.batch(count, FILL_SIZE, self.args.fill_concurrency)
            settle = await wait_parked(self.stack, self.creditor, have + count, since)
            print(
                f"  filled {have + count} ({count / settle:.1f}/s, load {os.getloadavg()[0]:.1f})",
                flush=True,
            )

    async def step(self, waiting: int) -> Step:
        sample = self.args.sample
        await self.fill(waiting - sample)
        # CPU per hand-over: the sample from the first request until parked and idle again
        await quiet(self.stack)
        before, since = self.cpu(), time.perf_counter()
        have = handed_over(self.stack, self.creditor)
        await self.batch(sample, self.args.batch_size, self.args.batch_concurrency)
        settle = await wait_parked(self.stack, self.creditor, have + sample, since)
        await quiet(self.stack)
        after = self.cpu()
        cpu_handover = {k: (after[k] - before[k]) / sample * 1000 for k in PROCESSES}

        # CPU per payment: to practices drawn from every one waiting
        targets = sample_practices(self.stack, self.creditor, sample)
        paid_on = date.today().isoformat()
        gate = asyncio.Semaphore(self.args.concurrency)

        async def pay(i: int, practice_id: str) -> None:
            body = {"amount": "0.01", "paid_on": paid_on, "reference": f"CRO-{waiting}-{i}"}
            async with gate:
                url = f"/practices/{practice_id}/payments"
                expect(await self.http.post(url, json=body), 200)

        await quiet(self.stack)
        before, started = self.cpu(), time.perf_counter()
        await asyncio.gather(*(pay(i, p) for i, p in enumerate(targets)))
        paid_in = time.perf_counter() - started
        await quiet(self.stack)
        after = self.cpu()
        cpu_payment = {k: (after[k] - before[k]) / len(targets) * 1000 for k in PROCESSES}

        # the API's latency, one request at a time, on an idle stack
        listing: list[float] = []
        cursor: str | None = None
        for _ in range(self.args.requests):
            params = {"creditor_id": self.creditor, "limit": "50"}
            if cursor:
                params["cursor"] = cursor
            t = time.perf_counter()
            page = expect(await self.http.get("/practices", params=params), 200).json()
            listing.append(time.perf_counter() - t)
            cursor = page.get("next_cursor")  # deeper pages, then the first again
        pages: list[float] = []
        for practice_id in sample_practices(self.stack, self.creditor, self.args.requests):
            t = time.perf_counter()
            expect(await self.http.get(f"/practices/{practice_id}"), 200)
            pages.append(time.perf_counter() - t)

        await asyncio.sleep(1)
        return Step(
            waiting=handed_over(self.stack, self.creditor),
            rss={k: rss_bytes(self.stack.procs[k].pid)[0] for k in PROCESSES},
            disk_temporal=disk_bytes(self.stack.tmp / "temporal.db"),
            disk_read_model=disk_bytes(self.stack.db_path),
            cpu_handover=cpu_handover,
            cpu_payment=cpu_payment,
            list_ms=(pct(listing, 0.5), pct(listing, 0.99)),
            page_ms=(pct(pages, 0.5), pct(pages, 0.99)),
            handover_rate=sample / settle,
            payment_rate=len(targets) / paid_in,
        )


def print_steps(steps: list[Step]) -> None:
    def cpu(d: dict[str, float]) -> str:
        return f"{sum(d.values()):.1f} ({d['temporal']:.1f}/{d['worker']:.1f}/{d['api']:.1f})"

    header = (
        "waiting",
        "worker RSS",
        "server RSS",
        "API RSS",
        "Temporal db",
        "read model",
        "CPU-ms/hand-over (srv/wrk/api)",
        "CPU-ms/payment (srv/wrk/api)",
        "list p50/p99",
        "page p50/p99",
        "hand-over/s",
        "payment/s",
    )
    lines = [header]
    for s in steps:
        lines.append(
            (
                f"{s.waiting:,}",
                f"{s.rss['worker'] / MIB:.0f} MiB",
                f"{s.rss['temporal'] / MIB:.0f} MiB",
                f"{s.rss['api'] / MIB:.0f} MiB",
                f"{s.disk_temporal / MIB:.1f} MiB",
                f"{s.disk_read_model / MIB:.1f} MiB",
                cpu(s.cpu_handover),
                cpu(s.cpu_payment),
                f"{s.list_ms[0]:.0f} / {s.list_ms[1]:.0f} ms",
                f"{s.page_ms[0]:.0f} / {s.page_ms[1]:.0f} ms",
                f"{s.handover_rate:.1f}",
                f"{s.payment_rate:.1f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    for line in lines:
        print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))


async def curve(args: argparse.Namespace, stack: Stack) -> list[Step]:
    headers = {"Authorization": f"Bearer {stack.admin_key}"}
    limits = httpx.Limits(max_connections=args.concurrency)
    steps: list[Step] = []
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers=headers, limits=limits, timeout=300
    ) as http:
        bench = Curve(stack, http, args)
        await bench.setup()
        for waiting in args.steps:
            print(f"step: {waiting:,} waiting", flush=True)
            steps.append(await bench.step(waiting))
            print_steps(steps[-1:])
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--top", type=int, default=100_000, help="practices waiting at the end")
    parser.add_argument(
        "--steps", help="comma-separated waiting counts (default: 1,000, 10,000 ... up to --top)"
    )
    parser.add_argument("--sample", type=int, default=500, help="hand-overs and payments a step")
    parser.add_argument("--requests", type=int, default=200, help="API requests of each kind")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent payments")
    parser.add_argument("--batch-size", type=int, default=250, help="sample's practices a request")
    parser.add_argument("--batch-concurrency", type=int, default=4, help="sample's requests")
    parser.add_argument("--fill-concurrency", type=int, default=2, help="filling requests")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory and logs")
    args = parser.parse_args()
    args.steps = (
        sorted(int(s) for s in args.steps.split(",")) if args.steps else steps_up_to(args.top)
    )
    if args.steps[0] <= args.sample:
        parser.error("every step must be above --sample")
    tmp = Path(tempfile.mkdtemp(prefix="recupero-curve-"))
    print(
        f"recupero curve: steps {', '.join(f'{s:,}' for s in args.steps)}; sample {args.sample};"
        f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {tmp}",
        flush=True,
    )
    stack: Stack | None = None
    try:
        stack = start_stack(tmp)
        steps = asyncio.run(curve(args, stack))
        print("\nthe curve (CPU-ms: the server's + the worker's + the API's)")
        print_steps(steps)
    finally:
        if stack is not None:
            stack.stop()
        if args.keep:
            print(f"logs and databases kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
