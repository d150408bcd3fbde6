"""The scheduled work on Temporal Schedules (schedules.py), on a real dev server (the
time-skipping test server does not implement schedules: CreateSchedule is "unimplemented"), a
fresh read model per test and the real worker: ensure_schedules creates each schedule once and
updates a changed one; each schedule, triggered, does its work (a stranded hand-over started, the
day's print batch closed, a missing rate alerted)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.routers.print_batches import letters_to_post
from config import Settings
from db.models import Delivery, Practice, PrintBatch, new_id
from db.session import Database
from domain.practice import workflow_id_for
from domain.print_days import cutoff_at, days_due, parse_cutoff, previous_posting_day
from domain.rates import RateKind, missing_periods, published_rates
from domain.scheduled import PrintCutoffResult, RateCheckResult, StrandedSweepResult
from schedules import SCHEDULES, ensure_schedules, schedule_id
from tests.conftest import venv_binary
from tests.factories import create_creditor, create_practice, create_user, make_settings
from worker import build_worker


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    return make_settings(
        data_dir=tmp_path,
        database_url=database.url,
        task_queue=f"scheduled-{uuid.uuid4().hex[:8]}",
        # the rows the tests write have no workflow: only the sweep's own test sweeps them
        stranded_after_seconds=0,
        # the sandbox catches a non-deterministic call in the scheduled workflows
        workflow_sandbox=True,
    )


@pytest.fixture
async def client(
    dev_server: WorkflowEnvironment, settings: Settings, database: Database
) -> AsyncIterator[Client]:
    """The dev server's client with this test's worker polling its task queue; the test's
    schedules deleted at the end."""
    async with build_worker(dev_server.client, database, settings):
        yield dev_server.client
    for work in SCHEDULES:
        try:
            await dev_server.client.get_schedule_handle(schedule_id(settings, work)).delete()
        except Exception:  # noqa: BLE001 - not created by this test
            pass


async def eventually(check: Callable[[], Awaitable[Any]], what: str, seconds: float = 30) -> Any:
    for _ in range(int(seconds / 0.2)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def triggered(client: Client, settings: Settings, name: str, result_type: type) -> Any:
    """Triggers the schedule `name` now and returns its run's result."""
    handle = client.get_schedule_handle(f"{settings.task_queue}-{name}")
    # the last ten runs only are listed: a run is new by its id (the time is part of it)
    before = {a.action.workflow_id for a in (await handle.describe()).info.recent_actions}
    if before:
        await asyncio.sleep(1.1)  # a run's id carries its second: two in one second are one
    await handle.trigger()

    async def run_started() -> str | None:
        actions = (await handle.describe()).info.recent_actions
        new = [a.action.workflow_id for a in actions if a.action.workflow_id not in before]
        return new[-1] if new else None

    workflow_id = await eventually(run_started, f"schedule {name}'s run")
    return await client.get_workflow_handle(workflow_id, result_type=result_type).result()


async def listed(client: Client, prefix: str) -> list[str]:
    return sorted([s.id async for s in await client.list_schedules() if s.id.startswith(prefix)])


async def test_ensure_schedules_twice_creates_each_once_and_updates_a_changed_one(
    client: Client, settings: Settings
) -> None:
    settings = dataclasses.replace(settings, stranded_after_seconds=5)
    first = await ensure_schedules(client, settings)
    second = await ensure_schedules(client, settings)
    prefix = f"{settings.task_queue}-"
    expected = sorted(f"{prefix}{w.name}" for w in SCHEDULES)
    assert sorted(first) == sorted(second) == expected

    async def all_listed() -> bool:
        return await listed(client, prefix) == expected

    await eventually(all_listed, "the schedules in the list, each once")

    cutoff = client.get_schedule_handle(f"{prefix}print-cutoff")
    shown = await cutoff.describe()
    calendar = shown.schedule.spec.calendars[0]
    assert [r.start for r in calendar.hour] == [16] and [r.start for r in calendar.minute] == [0]
    assert [(r.start, r.end) for r in calendar.day_of_week] == [(1, 5)]
    assert shown.schedule.spec.time_zone_name == "Europe/Rome"
    assert shown.schedule.policy.overlap.name == "SKIP"

    # a person pauses one in the Temporal UI; the agency moves its cut-off and the rate notice
    await cutoff.pause(note="the mail house is closed this week")
    changed = dataclasses.replace(settings, print_cutoff="17:30", rate_notice_weeks=9)
    assert sorted(await ensure_schedules(client, changed)) == expected
    shown = await cutoff.describe()
    calendar = shown.schedule.spec.calendars[0]
    assert [r.start for r in calendar.hour] == [17] and [r.start for r in calendar.minute] == [30]
    assert shown.schedule.state.paused  # still paused: a person's decision
    action = shown.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    rates = await client.get_schedule_handle(f"{prefix}rate-check").describe()
    rate_action = rates.schedule.action
    assert isinstance(rate_action, ScheduleActionStartWorkflow)
    (payload,) = rate_action.args
    assert pydantic_data_converter.payload_converter.from_payload(payload)["weeks_ahead"] == 9
    assert await listed(client, prefix) == expected

    # the stranded sweep turned off (0): its schedule goes
    off = dataclasses.replace(settings, stranded_after_seconds=0)
    assert f"{prefix}stranded-sweep" not in await ensure_schedules(client, off)

    async def sweep_gone() -> bool:
        return f"{prefix}stranded-sweep" not in await listed(client, prefix)

    await eventually(sweep_gone, "the stranded sweep's schedule deleted")


async def test_the_stranded_sweep_starts_a_hand_over_cut_before_its_workflow(
    client: Client, settings: Settings, database: Database
) -> None:
    creditor = await create_creditor(database)
    practice_id = new_id()
    await create_practice(
        database, creditor, id=practice_id, workflow_id=workflow_id_for(practice_id)
    )
    settings = dataclasses.replace(settings, stranded_after_seconds=1)
    await ensure_schedules(client, settings)
    await asyncio.sleep(1.1)  # older than stranded_after_seconds: no hand-over still holds it
    result = await triggered(client, settings, "stranded-sweep", StrandedSweepResult)
    # the schedule's own runs (every second) may have started it first: once, whoever did
    handle = client.get_workflow_handle(workflow_id_for(practice_id))
    description = await handle.describe()
    assert description.status is not None and description.status.name == "RUNNING"
    assert result.started in (0, 1)

    async def recorded() -> bool:
        async with database.session() as session:
            row = await session.get(Practice, practice_id)
            return row is not None and row.snapshot_version > 0

    await eventually(recorded, "the started workflow's first record")
    again = await triggered(client, settings, "stranded-sweep", StrandedSweepResult)
    assert again.started == 0
    history = [e async for e in handle.fetch_history_events()]
    assert sum(1 for e in history if e.HasField("workflow_execution_started_event_attributes")) == 1
    await handle.terminate(reason="test done")


async def _post_letter(database: Database, practice: Practice, at: datetime) -> str:
    delivery = Delivery(
        idempotency_key=f"{practice.id}:letter:{uuid.uuid4().hex}:post",
        practice_id=practice.id,
        channel="post",
        recipient="debtor:postal",
        subject="Sollecito",
        status="outbox",
        provider="outbox",
        created_at=at,
    )
    async with database.session() as session, session.begin():
        session.add(delivery)
    return delivery.id


async def test_the_cutoff_closes_the_days_batch_and_later_letters_wait_for_the_next(
    client: Client, settings: Settings, database: Database
) -> None:
    cutoff = parse_cutoff(settings.print_cutoff)
    now = datetime.now(UTC)
    (day,) = days_due(now, cutoff, None)  # the latest working day whose cut-off has passed
    previous = previous_posting_day(day)
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    minute = timedelta(minutes=1)
    before_window = await _post_letter(database, practice, cutoff_at(previous, cutoff) - minute)
    first = await _post_letter(database, practice, cutoff_at(previous, cutoff) + minute)
    last = await _post_letter(database, practice, cutoff_at(day, cutoff) - minute)
    after_cutoff = await _post_letter(database, practice, cutoff_at(day, cutoff) + minute)
    await ensure_schedules(client, settings)

    result = await triggered(client, settings, "print-cutoff", PrintCutoffResult)
    assert [(b.day, b.total) for b in result.closed] == [(day, 2)]
    async with database.session() as session:
        items = [item.delivery_id for item, _ in await letters_to_post(session, day, False)]
    assert items == [first, last]
    assert before_window not in items and after_cutoff not in items

    # a letter written late into the closed window (a retried send) no longer changes the list
    await _post_letter(database, practice, cutoff_at(day, cutoff) - 2 * minute)
    again = await triggered(client, settings, "print-cutoff", PrintCutoffResult)
    assert again.closed == []
    async with database.session() as session:
        assert [i.delivery_id for i, _ in await letters_to_post(session, day, False)] == items
        assert len((await session.scalars(select(PrintBatch))).all()) == 1


async def test_the_rate_check_alerts_the_admin_of_a_rate_not_known_weeks_ahead(
    client: Client, settings: Settings, database: Database
) -> None:
    today = datetime.now(UTC).date()
    table = published_rates()
    # a notice reaching past the last shipped period, whenever the test runs
    last = max(d for kind in RateKind if (d := table.last_day_covered(kind)) is not None)
    weeks = max(1, (last - today).days // 7 + 2)
    expected = missing_periods(table, today + timedelta(weeks=weeks))
    assert expected, "the horizon reaches a period nobody added"
    admin = await create_user(database, "admin", email=None)
    settings = dataclasses.replace(settings, rate_notice_weeks=weeks)
    await ensure_schedules(client, settings)

    result = await triggered(client, settings, "rate-check", RateCheckResult)
    assert [(m.kind, m.start, m.end) for m in result.missing] == [
        (g.kind.value, g.start, g.end) for g in expected
    ]
    assert result.notified == len(expected)
    async with database.session() as session:
        notes = (
            await session.scalars(select(Delivery).where(Delivery.channel == "notification"))
        ).all()
    assert sorted(n.recipient for n in notes) == [f"user:{admin.id}"] * len(expected)
    assert all("POST /rates" in n.body for n in notes)
    assert any(g.start.strftime("%d/%m/%Y") in n.subject for g in expected for n in notes)

    # the next day's run logs them again but writes no second notification
    again = await triggered(client, settings, "rate-check", RateCheckResult)
    assert again.notified == 0 and len(again.missing) == len(expected)
    async with database.session() as session:
        count = len(
            (
                await session.scalars(select(Delivery).where(Delivery.channel == "notification"))
            ).all()
        )
    assert count == len(expected)


async def test_the_retention_sweep_erases_a_debtor_kept_past_its_creditors_period(
    client: Client, settings: Settings, database: Database
) -> None:
    now = datetime.now(UTC)
    creditor = await create_creditor(database, retention_days=30)
    due = await create_practice(
        database, creditor, status="closed", outcome="paid", closed_at=now - timedelta(days=31)
    )
    kept = await create_practice(
        database, creditor, status="closed", outcome="paid", closed_at=now - timedelta(days=29)
    )
    await ensure_schedules(client, settings)

    assert await triggered(client, settings, "retention-sweep", int) == 1
    async with database.session() as session:
        erased = await session.get(Practice, due.id)
        still = await session.get(Practice, kept.id)
    assert erased is not None and erased.erased_at is not None and not erased.debtor_name
    assert erased.claim_cents == due.claim_cents and erased.outcome == "paid"
    assert still is not None and still.erased_at is None and still.debtor_name
    # the next night finds nothing more to erase
    assert await triggered(client, settings, "retention-sweep", int) == 0


def test_days_due_closes_missed_working_days_in_order() -> None:
    cutoff = parse_cutoff("16:00")
    rome = cutoff_at(date(2026, 12, 7), cutoff).tzinfo  # a Monday
    # Monday 7 December 2026 at 16:05: Friday 4 was closed; nothing else is due but Monday
    monday = datetime(2026, 12, 7, 16, 5, tzinfo=rome)
    assert days_due(monday, cutoff, date(2026, 12, 4)) == [date(2026, 12, 7)]
    # before the cut-off: nothing
    assert days_due(monday - timedelta(minutes=10), cutoff, date(2026, 12, 4)) == []
    # the worker was down since Wednesday's batch: Thursday, Friday and Monday, in order
    assert days_due(monday, cutoff, date(2026, 12, 2)) == [
        date(2026, 12, 3),
        date(2026, 12, 4),
        date(2026, 12, 7),
    ]
    # 8 December (Immacolata) is a holiday: its run closes nothing, the 9th takes its letters
    holiday = datetime(2026, 12, 8, 16, 5, tzinfo=rome)
    assert days_due(holiday, cutoff, date(2026, 12, 7)) == []
    assert previous_posting_day(date(2026, 12, 9)) == date(2026, 12, 7)
    # a batch never closed before: only the latest day
    assert days_due(monday, cutoff, None) == [date(2026, 12, 7)]
    with pytest.raises(ValueError, match="RECUPERO_PRINT_CUTOFF"):
        parse_cutoff("4pm")
