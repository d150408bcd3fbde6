"""Recupero bench: an experiment's results (api/services/lab_results.experiment_results, the
function behind GET /creditors/{id}/experiments/{eid}/results and the console's pages) over an
experiment of many practices on SQLite. A script that prints figures, not a test.

    .venv/bin/python bench/lab_results.py --practices 20000 --runs 5

It migrates a fresh SQLite read model, inserts in bulk one creditor, one 90/10 experiment, the
practices (handed over over the last year, a third of them paying one to three times, some
closed), a call outcome and two deliveries each, a promise kept or broken on every fifth, and
reads the results `--runs` times, printing the median and the slowest time and the rows the
practices' tables hold.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert  # noqa: E402

from api.services.lab_results import experiment_results  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import (  # noqa: E402
    ContactLog,
    Creditor,
    Delivery,
    Event,
    ExperimentRow,
    InvoiceRow,
    Practice,
    new_id,
)
from db.session import Database  # noqa: E402


def fill(url: str, practices: int, seed: int) -> tuple[str, str]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    creditor_id, experiment_id = new_id(), new_id()
    engine = create_engine(url.replace("+aiosqlite", ""))
    rows: dict[str, list[dict[str, Any]]] = {
        "practices": [],
        "invoices": [],
        "events": [],
        "deliveries": [],
        "contacts": [],
    }
    for n in range(practices):
        pid = new_id()
        created = now - timedelta(days=rng.randint(0, 365), hours=rng.randint(0, 23))
        placed = rng.randint(5_000, 500_000)
        arm = "champion" if rng.random() < 0.9 else "challenger-1"
        paid = 0
        seq = 0
        if rng.random() < 1 / 3:
            for _ in range(rng.randint(1, 3)):
                day = (created + timedelta(days=rng.randint(1, 200))).date()
                cents = rng.randint(1_000, placed // 2)
                paid += cents
                seq += 1
                rows["events"].append(
                    {
                        "practice_id": pid,
                        "seq": seq,
                        "at": created,
                        "kind": "payment",
                        "summary": "",
                        "data": {"amount_cents": cents, "paid_on": day.isoformat()},
                    }
                )
        closed = paid >= placed or rng.random() < 0.1
        seq += 1
        rows["events"].append(
            {
                "practice_id": pid,
                "seq": seq,
                "at": created,
                "kind": "call_outcome",
                "summary": "",
                "data": {"outcome": rng.choice(["no_answer", "reached", "promise", "refused"])},
            }
        )
        if n % 5 == 0:
            seq += 1
            rows["events"].append(
                {
                    "practice_id": pid,
                    "seq": seq,
                    "at": created,
                    "kind": rng.choice(["promise_kept", "promise_broken"]),
                    "summary": "",
                    "data": {},
                }
            )
        rows["practices"].append(
            {
                "id": pid,
                "creditor_id": creditor_id,
                "reference": f"B-{n}",
                "workflow_id": f"bench-{pid}",
                "debtor_kind": "consumer",
                "debtor_name": "Bench",
                "street": "Via Roma 1",
                "city": "Milano",
                "postal_code": "20121",
                "province": "MI",
                "claim_cents": placed,
                "balance_cents": max(0, placed - paid),
                "paid_cents": paid,
                "status": "closed" if closed else "active",
                "outcome": ("paid" if paid >= placed else "returned") if closed else None,
                "closed_at": created + timedelta(days=rng.randint(10, 300)) if closed else None,
                "created_at": created,
                "updated_at": created,
                "experiment_id": experiment_id,
                "experiment_arm": arm,
                "strategy_name": "default" if arm == "champion" else "firm",
            }
        )
        rows["invoices"].append(
            {
                "id": new_id(),
                "practice_id": pid,
                "number": "F-1",
                "issue_date": created.date(),
                "due_date": created.date(),
                "amount_cents": placed,
            }
        )
        for channel in ("post", rng.choice(["email", "sms"])):
            rows["deliveries"].append(
                {
                    "id": new_id(),
                    "idempotency_key": new_id(),
                    "practice_id": pid,
                    "channel": channel,
                    "recipient": "x",
                    "status": "sent",
                    "provider": "outbox",
                    "created_at": created,
                }
            )
        rows["contacts"].append(
            {
                "id": new_id(),
                "idempotency_key": new_id(),
                "debtor_key": f"practice:{pid}",
                "practice_id": pid,
                "channel": "call",
                "kind": "conversation",
                "at": created,
                "created_at": created,
            }
        )
    with engine.begin() as conn:
        conn.execute(
            insert(Creditor),
            [{"id": creditor_id, "name": "Bench", "vat_number": "1", "iban": "IT", "strategy": {}}],
        )
        conn.execute(
            insert(ExperimentRow),
            [
                {
                    "id": experiment_id,
                    "creditor_id": creditor_id,
                    "segment": "default",
                    "arms": [
                        {"strategy": "default", "share": 90},
                        {"strategy": "firm", "share": 10},
                    ],
                    "starts_on": (now - timedelta(days=366)).date(),
                    "created_at": now,
                }
            ],
        )
        for model, key in (
            (Practice, "practices"),
            (InvoiceRow, "invoices"),
            (Event, "events"),
            (Delivery, "deliveries"),
            (ContactLog, "contacts"),
        ):
            for i in range(0, len(rows[key]), 5_000):
                conn.execute(insert(model), rows[key][i : i + 5_000])
    engine.dispose()
    print(
        f"rows: {len(rows['practices'])} practices, {len(rows['events'])} events, "
        f"{len(rows['deliveries'])} deliveries, {len(rows['contacts'])} contacts"
    )
    return creditor_id, experiment_id


async def measure(url: str, creditor_id: str, experiment_id: str, runs: int) -> list[float]:
    db = Database(url)
    times = []
    try:
        for _ in range(runs):
            async with db.session() as session:
                creditor = await session.get(Creditor, creditor_id)
                assert creditor is not None
                start = time.perf_counter()
                results = await experiment_results(session, creditor, experiment_id)
                times.append(time.perf_counter() - start)
        print("arms:", [(a.arm, a.practices) for a in results.arms])
    finally:
        await db.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--practices", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(url)
        creditor_id, experiment_id = fill(url, args.practices, args.seed)
        times = asyncio.run(measure(url, creditor_id, experiment_id, args.runs))
    print(
        f"experiment_results over {args.practices} practices: median "
        f"{statistics.median(times) * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms "
        f"({args.runs} runs)"
    )


if __name__ == "__main__":
    main()
