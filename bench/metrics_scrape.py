"""How long the business gauges of GET /metrics take on a read model of a few thousand rows
(api/observe/metrics.py): `python bench/metrics_scrape.py [practices]` on a fresh SQLite file."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.observe.metrics import business_gauges
from api.schemas import rome_today
from db.migrate import upgrade
from db.models import ContactLog, ConversationDay, Creditor, Delivery, Practice, Task
from db.session import Database

PHASES = ("pre_due", "out_of_court", "judicial")
STATUSES = ("active", "suspended", "closed")


async def main(count: int) -> None:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    db = Database(url)
    now = datetime.now(UTC)
    async with db.session() as session, session.begin():
        creditor = Creditor(
            name="Bench S.r.l.",
            vat_number="01234567897",
            iban="IT60X0542811101000000123456",
            email="a@example.it",
        )
        session.add(creditor)
        await session.flush()
        for n in range(count):
            pid = f"p{n:031d}"
            session.add(
                Practice(
                    id=pid,
                    creditor_id=creditor.id,
                    reference=f"R{n}",
                    workflow_id=f"practice-{pid}",
                    debtor_kind="consumer",
                    debtor_name="x",
                    street="x",
                    city="x",
                    postal_code="20121",
                    province="MI",
                    country="IT",
                    invalid_channels=[],
                    claim_cents=100,
                    balance_cents=100,
                    paid_cents=0,
                    strategy={},
                    phase=PHASES[n % 3],
                    status=STATUSES[n % 3],
                )
            )
        await session.flush()  # the rows below point at the practices
        for n in range(count):
            pid = f"p{n:031d}"
            for channel in ("email", "post"):
                session.add(
                    Delivery(
                        idempotency_key=f"d{n}{channel}",
                        practice_id=pid,
                        channel=channel,
                        recipient="x",
                        status=("outbox", "sent")[n % 2],
                        provider="outbox",
                    )
                )
            session.add(
                Task(
                    idempotency_key=f"t{n}",
                    practice_id=pid,
                    kind=("call", "visit")[n % 2],
                    status=("open", "done")[n % 2],
                )
            )
            log = ContactLog(
                idempotency_key=f"c{n}",
                debtor_key=f"k{n}",
                practice_id=pid,
                channel="call",
                kind="conversation",
                at=now - timedelta(days=n % 7),
            )
            session.add(log)
        await session.flush()
    async with db.session() as session, session.begin():
        for n, log_id in enumerate(
            (
                await session.scalars(
                    ContactLog.__table__.select().with_only_columns(ContactLog.id)
                )
            ).all()
        ):
            day = rome_today() - timedelta(days=n % 7)
            session.add(
                ConversationDay(
                    contact_id=log_id,
                    debtor_key=f"k{n}",
                    day=day,
                    week=day - timedelta(days=day.weekday()),
                    week_slot=1,
                )
            )
    timings = []
    for _ in range(20):
        async with db.session() as session:
            started = time.perf_counter()
            await business_gauges(session)
            timings.append(time.perf_counter() - started)
    timings.sort()
    print(
        f"{count} practices, {2 * count} deliveries, {count} tasks, {count} conversations: "
        f"business gauges median {timings[10] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms"
    )
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
