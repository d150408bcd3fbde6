"""`recupero backup DIR` while the stack runs, `recupero restore DIR` once it is stopped: the
practices handed over before the backup all continue after the restore (payments recorded, the
practices close), what came after the backup is gone from both databases alike, and a restore
is refused while the stack runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Practice
from db.session import Database
from tests.api.helpers import rome_today
from tests.system.harness import ROOT, Stack, eventually
from tests.system.product import api_over, creditor, hand_over_many

pytestmark = pytest.mark.timeout(300)


def recupero(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """`recupero <args>` with the stack's settings, as its operator would run it."""
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env={**stack.env(), "RECUPERO_API_PORT": str(stack.api_port)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def backed_up(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


async def all_recorded(db: Database, ids: list[str]) -> bool:
    async with db.session() as session:
        waiting = await session.scalar(
            select(func.count())
            .select_from(Practice)
            .where(Practice.id.in_(ids), Practice.snapshot_version == 0)
        )
    return waiting == 0


async def pay(http: httpx.AsyncClient, headers: dict[str, str], pid: str, amount: str, ref: str):
    response = await http.post(
        f"/practices/{pid}/payments",
        headers=headers,
        json={"amount": amount, "paid_on": rome_today().isoformat(), "reference": ref},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_backup_while_running_then_restore_and_every_practice_continues(
    stack: Stack, stack_db: Database, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder: Path = tmp_path_factory.mktemp("backups") / "monday"
    stack.start_worker()
    base = stack.start_api()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        api = api_over(http, stack, stack_db)
        tenant = await creditor(api, reminder_wait="PT1H")
        kept = await hand_over_many(api, tenant, 4)
        await eventually(lambda: all_recorded(stack_db, kept), "every first record", 60)
        await pay(http, tenant.headers, kept[0], "50.00", "CRO-BEFORE")

        done = recupero(stack, "backup", str(folder))
        assert done.returncode == 0, done.stdout + done.stderr
        assert backed_up(folder) >= {"temporal.db", "recupero.db", "backup.json"}
        # a backup never overwrites another
        again = recupero(stack, "backup", str(folder))
        assert again.returncode != 0 and "not empty" in again.stderr

        # the office keeps working after the backup
        later = await hand_over_many(api, tenant, 2)
        await pay(http, tenant.headers, kept[1], "100.00", "CRO-AFTER")
        refused = recupero(stack, "restore", str(folder))
        assert refused.returncode != 0 and "running" in refused.stderr, refused.stderr

    stack.close()
    restored = recupero(stack, "restore", str(folder))
    assert restored.returncode == 0, restored.stdout + restored.stderr

    stack.start_temporal()
    stack.start_worker()
    base = stack.start_api()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        # the state of the backup: the payment before it, not the one after; nor the later
        # practices, in either database
        shown = [(await http.get(f"/practices/{p}", headers=tenant.headers)).json() for p in kept]
        assert [s["balance"] for s in shown] == ["1200.40", "1250.40", "1250.40", "1250.40"]
        for pid in later:
            gone = await http.get(f"/practices/{pid}", headers=tenant.headers)
            assert gone.status_code == 404, gone.text
        client = await stack.client()
        for pid in later:
            with pytest.raises(Exception, match="not found"):
                await client.get_workflow_handle(f"practice-{pid}").describe()

        # every practice of the backup continues in its workflow: paid in full, it closes
        for pid, view in zip(kept, shown, strict=True):
            paid = await pay(http, tenant.headers, pid, view["balance"], f"CRO-REST-{pid}")
            assert paid["balance"] == "0.00", paid

        async def all_closed() -> list[dict[str, Any]] | None:
            views = [
                (await http.get(f"/practices/{p}", headers=tenant.headers)).json() for p in kept
            ]
            return views if all(v["status"] == "closed" for v in views) else None

        views = await eventually(all_closed, "every restored practice closed as paid", 90)
        assert all(v["outcome"] == "paid" for v in views)
