"""The activities behind debtors abroad (issue 16) on the database: the home visit's assignee by
country (foreign correspondents), the visit notice naming the country, and the debtor's own
clock for the pre-due reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from activities import PracticeActivities
from db.models import Delivery, Practice, Task
from db.session import Database
from domain.activity_io import (
    AssignInput,
    AssignVisitInput,
    CloseTasksInput,
    LocalMomentsInput,
    NotifyInput,
    OpenTaskInput,
)
from domain.contact_rules import parse_hours
from tests.factories import create_creditor, create_practice, create_user, make_settings

BASE = datetime(2025, 1, 1, tzinfo=UTC)
ABROAD = {"province": "", "street": "Main street 1", "postal_code": "10001", "city": "X"}


@pytest.fixture
def acts(database: Database) -> PracticeActivities:
    return PracticeActivities(database, make_settings())


async def field_agent_of(db: Database, practice_id: str) -> str | None:
    async with db.session() as session:
        practice = await session.get(Practice, practice_id)
        assert practice is not None
        return practice.field_agent_id


async def test_a_debtor_outside_the_eu_goes_to_the_least_busy_correspondent_of_its_country(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    swiss_old = await create_user(database, "correspondent", countries=["CH"], created_at=BASE)
    swiss_new = await create_user(
        database, "correspondent", countries=["CH", "LI"], created_at=BASE + timedelta(days=1)
    )
    american = await create_user(
        database, "correspondent", countries=["US"], created_at=BASE - timedelta(days=1)
    )
    await create_user(database, "correspondent", countries=["CH"], active=False, created_at=BASE)
    # a field agent of Milan: never a debtor abroad's, whatever the province the workflow passes
    await create_user(database, "field_agent", provinces=["MI"], created_at=BASE)

    zurich = await create_practice(database, creditor, country="CH", **ABROAD)
    first = await acts.assign_field_agent(AssignInput(zurich.id, "k1", "MI"))
    assert (first.user_id, first.correspondent) == (swiss_old.id, True)
    assert first.reason == "covers the debtor's country, 0 open visits"
    assert "CH" not in first.reason  # the result goes into the workflow's history
    assert await field_agent_of(database, zurich.id) == swiss_old.id
    again = await acts.assign_field_agent(AssignInput(zurich.id, "k1", "MI"))
    assert (again.user_id, again.reason) == (swiss_old.id, "already assigned")

    # the oldest has an open visit now: the next Swiss debtor goes to the other one
    await acts.open_task(OpenTaskInput(zurich.id, "v1", "visit", assignee_id=swiss_old.id))
    geneva = await create_practice(database, creditor, country="CH", **ABROAD)
    assert (await acts.assign_field_agent(AssignInput(geneva.id, "k2"))).user_id == swiss_new.id
    new_york = await create_practice(database, creditor, country="US", **ABROAD)
    assert (await acts.assign_field_agent(AssignInput(new_york.id, "k3"))).user_id == american.id

    # nobody covers Norway: no one, and the workflow is told it is a correspondent's visit
    oslo = await create_practice(database, creditor, country="NO", **ABROAD)
    nobody = await acts.assign_field_agent(AssignInput(oslo.id, "k4", "MI"))
    assert (nobody.user_id, nobody.correspondent) == (None, True)
    assert nobody.reason == "no foreign correspondent covers the debtor's country"
    assert await field_agent_of(database, oslo.id) is None


async def test_a_debtor_in_the_eu_goes_to_a_correspondent_only_if_one_covers_its_country(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    danish = await create_user(database, "correspondent", countries=["DK"], created_at=BASE)
    copenhagen = await create_practice(database, creditor, country="DK", **ABROAD)
    assigned = await acts.assign_field_agent(AssignInput(copenhagen.id, "k1"))
    assert (assigned.user_id, assigned.correspondent) == (danish.id, True)
    # France: nobody covers it, and an EU country is not a correspondent's by default
    paris = await create_practice(database, creditor, country="FR", **ABROAD)
    skipped = await acts.assign_field_agent(AssignInput(paris.id, "k2"))
    assert (skipped.user_id, skipped.correspondent) == (None, False)
    assert skipped.reason == "no field agent covers province "


async def test_a_debtor_who_moved_abroad_leaves_its_field_agent_for_a_correspondent(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    agent = await create_user(database, "field_agent", provinces=["MI"], created_at=BASE)
    swiss = await create_user(database, "correspondent", countries=["CH"], created_at=BASE)
    practice = await create_practice(database, creditor)
    assert (await acts.assign_field_agent(AssignInput(practice.id, "k1"))).user_id == agent.id
    async with database.session() as session, session.begin():
        row = await session.get(Practice, practice.id)
        assert row is not None
        row.country, row.province = "CH", ""
    moved = await acts.assign_field_agent(AssignInput(practice.id, "k2"))
    assert (moved.user_id, moved.correspondent) == (swiss.id, True)
    assert await field_agent_of(database, practice.id) == swiss.id


async def test_the_visit_notice_names_the_country_abroad(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    swiss = await create_user(database, "correspondent", countries=["CH"])
    practice = await create_practice(database, creditor, country="CH", **ABROAD)
    key = f"{practice.id}:notify"
    await acts.notify(NotifyInput(practice.id, key, swiss.id, "visit_assigned", {}))
    async with database.session() as session:
        row = (
            await session.execute(
                select(Delivery).where(Delivery.idempotency_key.startswith(f"{key}:"))
            )
        ).scalar_one()
    assert row.recipient == swiss.email
    assert "paese CH" in row.body and "provincia" not in row.body


async def test_local_moments_are_the_debtors_own(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    new_york = await create_practice(
        database, creditor, country="US", time_zone="America/New_York", **ABROAD
    )
    milan = await create_practice(database, creditor)
    # 8 March 2026: the day the United States move their clocks (Europe on 29 March)
    days = [date(2026, 3, 7), date(2026, 3, 8)]
    there = await acts.local_moments(LocalMomentsInput(new_york.id, days, time(9, 0)))
    ny = ZoneInfo("America/New_York")
    assert there.at_clock == [datetime.combine(d, time(9, 0), tzinfo=ny) for d in days]
    assert [m.astimezone(UTC).hour for m in there.at_clock] == [14, 13]
    assert there.day_ends == [datetime(2026, 3, 8, tzinfo=ny), datetime(2026, 3, 9, tzinfo=ny)]
    assert all(m.tzinfo == UTC for m in there.at_clock + there.day_ends)
    here = await acts.local_moments(LocalMomentsInput(milan.id, days[:1], time(9, 0)))
    assert here.at_clock == [datetime(2026, 3, 7, 8, 0, tzinfo=UTC)]


async def test_local_moments_spread_the_reminders_in_the_debtors_hours_and_holidays(
    database: Database,
) -> None:
    # the agency's hours for the United States: weekdays 08:00-10:00, so 09:00 there moves by
    # at most the half hour the window leaves
    hours = {day: "08:00-10:00" for day in ("mon", "tue", "wed", "thu", "fri")}
    settings = make_settings(contact_hours={"US": parse_hours(hours)})
    acts = PracticeActivities(database, settings)
    creditor = await create_creditor(database)
    # a fixed id: its offset is about half of the half hour (the hash of spread_slot)
    new_york = await create_practice(
        database,
        creditor,
        id="practice-ny-1",
        country="US",
        time_zone="America/New_York",
        **ABROAD,
    )
    ny = ZoneInfo("America/New_York")
    # Thursday 3 December 2026, and Thanksgiving (Thursday 26 November), closed in the US
    days = [date(2026, 12, 3), date(2026, 11, 26)]
    lead = timedelta(days=3)
    spread = await acts.local_moments(
        LocalMomentsInput(new_york.id, days, time(9, 0), spread_minutes=120, lead_seconds=259200)
    )
    nine = [datetime.combine(d, time(9, 0), tzinfo=ny) for d in days]
    assert nine[0] + timedelta(minutes=10) < spread.at_clock[0] < nine[0] + timedelta(minutes=20)
    assert spread.before[0] == spread.at_clock[0] - lead  # Monday: the same window, offset
    # the holiday: the rules put the reminder off when it comes; the early one, on Monday 23
    # November, is spread
    assert spread.at_clock[1] == nine[1]
    assert nine[1] - lead < spread.before[1] <= nine[1] - lead + timedelta(minutes=30)
    assert all(m.tzinfo == UTC for m in spread.at_clock + spread.before)
    plain = await acts.local_moments(LocalMomentsInput(new_york.id, days, time(9, 0)))
    assert plain.at_clock == nine and plain.before == []
    assert plain.day_ends == spread.day_ends


async def test_the_admins_assignment_sets_the_open_visit_and_the_practice_once(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    chosen = await create_user(database, "correspondent", countries=["NO"])
    oslo = await create_practice(database, creditor, country="NO", **ABROAD)
    # no open visit yet: nothing changes
    early = await acts.assign_visit(AssignVisitInput(oslo.id, chosen.id))
    assert not early.assigned
    assert await field_agent_of(database, oslo.id) is None

    await acts.open_task(OpenTaskInput(oslo.id, "oslo:visit", "visit"))
    first = await acts.assign_visit(AssignVisitInput(oslo.id, chosen.id))
    assert (first.assigned, first.unchanged) == (True, False)
    retry = await acts.assign_visit(AssignVisitInput(oslo.id, chosen.id))
    assert (retry.assigned, retry.unchanged) == (True, True)
    assert await field_agent_of(database, oslo.id) == chosen.id
    async with database.session() as session:
        task = (await session.scalars(select(Task).where(Task.practice_id == oslo.id))).one()
        assert task.assignee_id == chosen.id

    # the visit closed: a late assignment leaves the practice's agent alone
    await acts.close_tasks(CloseTasksInput(oslo.id, "visit", "done", "met"))
    other = await create_user(database, "field_agent", provinces=["MI"])
    late = await acts.assign_visit(AssignVisitInput(oslo.id, other.id))
    assert not late.assigned
    assert await field_agent_of(database, oslo.id) == chosen.id
