"""Contact limits on a real SQLite file: reserve_conversation across creditors and practices of
one debtor, under concurrency, idempotent by key; opt-outs; and the API's call queue and
opt-out endpoint at a chosen time (the `now` dependency)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

import activities.contact_limits as module
from activities import PracticeActivities
from api.app import create_app
from api.auth import hash_key, new_key
from api.deps import get_now
from db import contact_log
from db.migrate import upgrade
from db.models import ContactLog, ConversationDay, DebtorOptOut, Practice, Task, User
from db.session import Database
from domain.activity_io import (
    ReleaseConversationInput,
    ReserveConversationInput,
    ReserveConversationResult,
)
from domain.calendar import ROME
from domain.contact_rules import (
    DAY_TAKEN,
    OUTSIDE_HOURS,
    OUTSIDE_LOCAL_HOURS,
    WEEK_FULL,
    ContactDecision,
    parse_hours,
)
from tests import pg
from tests.factories import (
    TAX_CODE,
    VAT_NUMBER,
    create_creditor,
    create_practice,
    create_user,
    make_settings,
)


def rome(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=ROME)


# an ordinary week, Monday 2026-11-23 .. Sunday 2026-11-29, and the next Monday
MON, TUE, WED, THU, FRI, SAT = (f"2026-11-{d}" for d in range(23, 29))
NEXT_MON = "2026-11-30"


@pytest.fixture
def acts(database: Database) -> PracticeActivities:
    return PracticeActivities(database, make_settings())


async def reserve(
    acts: PracticeActivities,
    practice: Practice,
    at: datetime,
    channel: str = "call",
    key: str | None = None,
) -> ReserveConversationResult:
    return await acts.reserve_conversation(
        ReserveConversationInput(
            practice_id=practice.id,
            idempotency_key=key or f"{practice.id}:{channel}:{uuid.uuid4().hex}",
            channel=channel,
            at=at,
        )
    )


async def count(db: Database, model: type[Any], *where: Any) -> int:
    async with db.session() as session:
        return (await session.scalar(select(func.count()).select_from(model).where(*where))) or 0


async def two_creditors_one_debtor(db: Database) -> tuple[Practice, Practice]:
    """The same person (same codice fiscale) owes two different creditors."""
    first, second = await create_creditor(db), await create_creditor(db)
    return await create_practice(db, first), await create_practice(db, second)


# -- limits ------------------------------------------------------------------------------------


async def test_three_conversations_a_week_across_creditors(
    database: Database, acts: PracticeActivities
) -> None:
    a, b = await two_creditors_one_debtor(database)
    assert (await reserve(acts, a, rome(MON, "10:00"))).granted
    assert (await reserve(acts, b, rome(TUE, "10:00"))).granted
    assert (await reserve(acts, a, rome(WED, "18:00"), channel="visit")).granted

    refused = await reserve(acts, b, rome(THU, "10:00"))
    assert (refused.granted, refused.next_slot, refused.reason) == (
        False,
        rome(NEXT_MON, "08:30"),
        WEEK_FULL,
    )
    assert not (await reserve(acts, a, rome(SAT, "09:00"))).granted
    assert await count(database, ContactLog) == 3
    assert await count(database, ConversationDay) == 3

    # the next calendar week starts afresh
    assert (await reserve(acts, b, rome(NEXT_MON, "08:30"))).granted


async def test_one_conversation_a_day(database: Database, acts: PracticeActivities) -> None:
    a, b = await two_creditors_one_debtor(database)
    assert (await reserve(acts, a, rome(FRI, "09:00"))).granted
    for practice, at in ((b, rome(FRI, "18:00")), (a, rome(FRI, "20:59"))):
        refused = await reserve(acts, practice, at)
        assert (refused.granted, refused.next_slot, refused.reason) == (
            False,
            rome(SAT, "08:30"),
            DAY_TAKEN,
        )
    assert (await reserve(acts, b, rome(SAT, "08:30"))).granted


async def test_outside_the_window_is_refused_with_the_next_opening(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await create_practice(database, await create_creditor(database))
    for channel in ("call", "visit", "email", "sms"):
        refused = await reserve(acts, practice, rome(SAT, "15:00"), channel=channel)
        assert (refused.granted, refused.next_slot, refused.reason) == (
            False,
            rome(NEXT_MON, "08:30"),
            OUTSIDE_HOURS,
        )
    # Easter Monday 2027
    refused = await reserve(acts, practice, rome("2027-03-29", "10:00"))
    assert refused.next_slot == rome("2027-03-30", "08:30")
    assert await count(database, ContactLog) == 0


async def test_the_monday_morning_wake_up_is_spread_over_the_windows_first_hours(
    database: Database,
) -> None:
    """Practices put off over the weekend are due at moments of Monday's first two hours (each
    practice its own, the same on every retry), not all at 08:30; every one of them is a
    moment the rules then allow."""
    acts = PracticeActivities(database, make_settings(contact_spread_minutes=120))
    creditor = await create_creditor(database)
    # forty debtors (each known by its practice only), not one debtor's forty practices
    practices = [await create_practice(database, creditor, debtor_tax_code=None) for _ in range(40)]
    opening = rome(NEXT_MON, "08:30")
    slots = []
    for practice in practices:
        for channel in ("email", "call"):
            refused = await reserve(acts, practice, rome(SAT, "16:00"), channel=channel)
            assert not refused.granted and refused.reason == OUTSIDE_HOURS
            assert refused.next_slot is not None
            assert opening <= refused.next_slot < rome(NEXT_MON, "10:30")
            slots.append(refused.next_slot)
        again = await reserve(acts, practice, rome(SAT, "17:00"), channel="email")
        assert again.next_slot == slots[-2]  # the practice's own moment, every time
    assert len(set(slots)) >= 35  # spread, not piled up at the opening
    # at its moment, each is granted: the spread never leaves the rules
    for practice, slot in zip(practices, slots[1::2], strict=True):
        assert (await reserve(acts, practice, slot, channel="call")).granted


async def test_the_debtor_is_its_tax_code_or_vat_number_or_else_the_practice(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    company = await create_practice(
        database,
        creditor,
        debtor_kind="business",
        debtor_tax_code=None,
        debtor_vat_number=VAT_NUMBER,
    )
    # the company's 11-digit codice fiscale is its partita IVA: the same debtor
    same_company = await create_practice(
        database, creditor, debtor_kind="business", debtor_tax_code=VAT_NUMBER
    )
    unknown = await create_practice(database, creditor, debtor_tax_code=None)
    other_unknown = await create_practice(database, creditor, debtor_tax_code=None)
    assert (await reserve(acts, company, rome(MON, "10:00"))).granted
    assert not (await reserve(acts, same_company, rome(MON, "11:00"))).granted
    # a person with no identifiers is only itself
    assert (await reserve(acts, unknown, rome(MON, "10:00"))).granted
    assert (await reserve(acts, other_unknown, rome(MON, "10:00"))).granted
    # and the person with the default tax code is someone else again
    person = await create_practice(database, creditor)
    assert person.debtor_tax_code == TAX_CODE
    assert (await reserve(acts, person, rome(MON, "10:00"))).granted


async def test_messages_need_the_window_only_and_do_not_count(
    database: Database, acts: PracticeActivities
) -> None:
    practice = await create_practice(database, await create_creditor(database))
    assert (await reserve(acts, practice, rome(MON, "09:00"))).granted
    for channel in ("email", "sms", "email"):
        assert (await reserve(acts, practice, rome(MON, "10:00"), channel=channel)).granted
    assert await count(database, ContactLog, ContactLog.kind == "message") == 3
    assert await count(database, ConversationDay) == 1
    assert (await reserve(acts, practice, rome(TUE, "09:00"))).granted


# -- concurrency and idempotency ---------------------------------------------------------------


async def test_concurrent_reservations_for_one_debtor_grant_exactly_one(
    database: Database, acts: PracticeActivities
) -> None:
    """Many workers asking at the same moment for practices of the same debtor (two creditors,
    six practices, two engines on one SQLite file): exactly one gets the day's conversation."""
    practices = []
    for _ in range(2):
        creditor = await create_creditor(database)
        practices += [await create_practice(database, creditor) for _ in range(3)]
    other_worker = Database(database.url)
    try:
        workers = [acts, PracticeActivities(other_worker, make_settings())]
        results = await asyncio.gather(
            *(
                reserve(workers[n % 2], practices[n % len(practices)], rome(WED, "10:00"))
                for n in range(24)
            )
        )
    finally:
        await other_worker.dispose()
    granted = [r for r in results if r.granted]
    assert len(granted) == 1
    assert all(
        (r.next_slot, r.reason) == (rome(THU, "08:30"), DAY_TAKEN) for r in results if not r.granted
    )
    assert await count(database, ConversationDay) == 1
    assert await count(database, ContactLog, ContactLog.kind == "conversation") == 1


async def test_concurrent_reservations_on_different_days_keep_three_a_week(
    database: Database, acts: PracticeActivities
) -> None:
    """The weekly guard: with two conversations already, requests for four different days of the
    week racing each other leave exactly one more."""
    a, b = await two_creditors_one_debtor(database)
    assert (await reserve(acts, a, rome(MON, "10:00"))).granted
    assert (await reserve(acts, b, rome(TUE, "10:00"))).granted
    days = [WED, THU, FRI, SAT]
    results = await asyncio.gather(
        *(reserve(acts, (a, b)[n % 2], rome(days[n % 4], "10:00")) for n in range(16))
    )
    assert sum(r.granted for r in results) == 1
    assert {r.reason for r in results if not r.granted} <= {WEEK_FULL, DAY_TAKEN}
    assert await count(database, ConversationDay) == 3


async def test_a_stale_read_is_caught_by_the_unique_constraints(
    database: Database, acts: PracticeActivities, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What two concurrent transactions may both see on PostgreSQL (READ COMMITTED): no
    conversation yet. The first read of each reservation here misses the committed ones; the
    database still refuses the second conversation of the day and the fourth of the week."""
    real = contact_log.conversations_since
    stale_rounds = [0]

    async def stale_once(*args: Any, **kwargs: Any) -> Any:
        stale_rounds[0] += 1
        if stale_rounds[0] % 2 == 1:
            return {}
        return await real(*args, **kwargs)

    a, b = await two_creditors_one_debtor(database)
    assert (await reserve(acts, a, rome(MON, "10:00"))).granted
    monkeypatch.setattr(module, "conversations_since", stale_once)
    refused = await reserve(acts, b, rome(MON, "11:00"))
    assert (refused.granted, refused.next_slot, refused.reason) == (
        False,
        rome(TUE, "08:30"),
        DAY_TAKEN,
    )
    assert stale_rounds[0] == 2  # the unique (debtor, day) refused the first round

    monkeypatch.setattr(module, "conversations_since", real)
    assert (await reserve(acts, b, rome(TUE, "10:00"))).granted
    assert (await reserve(acts, a, rome(WED, "10:00"))).granted
    stale_rounds[0] = 0
    monkeypatch.setattr(module, "conversations_since", stale_once)
    refused = await reserve(acts, b, rome(THU, "10:00"))
    assert (refused.granted, refused.next_slot, refused.reason) == (
        False,
        rome(NEXT_MON, "08:30"),
        WEEK_FULL,
    )
    assert await count(database, ConversationDay) == 3


async def test_a_retry_with_the_same_key_returns_the_same_grant(
    database: Database, acts: PracticeActivities
) -> None:
    a, b = await two_creditors_one_debtor(database)
    key = f"{a.id}:phone:call:1"
    first = await reserve(acts, a, rome(MON, "10:00"), key=key)
    again = await reserve(acts, a, rome(MON, "10:00"), key=key)
    # even a retry at a later moment (the worker restarted) finds its grant
    later = await reserve(acts, a, rome(MON, "22:00"), key=key)
    assert first == again == later
    assert first.granted
    concurrent = await asyncio.gather(
        *(reserve(acts, b, rome(TUE, "10:00"), key=f"{b.id}:call:1") for _ in range(8))
    )
    assert all(r.granted for r in concurrent)
    assert await count(database, ContactLog) == 2
    assert await count(database, ConversationDay) == 2


async def test_a_released_call_stops_counting(database: Database, acts: PracticeActivities) -> None:
    a, b = await two_creditors_one_debtor(database)
    key = f"{a.id}:call:1"
    assert (await reserve(acts, a, rome(MON, "10:00"), key=key)).granted
    assert not (await reserve(acts, b, rome(MON, "11:00"))).granted

    released = await acts.release_conversation(ReleaseConversationInput(a.id, key))
    assert released.released
    assert not (await acts.release_conversation(ReleaseConversationInput(a.id, key))).released
    assert await count(database, ContactLog, ContactLog.kind == "attempt") == 1
    assert await count(database, ConversationDay) == 0

    assert (await reserve(acts, b, rome(MON, "11:00"))).granted


async def test_the_schema_itself_refuses_a_second_conversation_a_day_and_a_fourth_a_week(
    database: Database, acts: PracticeActivities
) -> None:
    """The guard does not depend on the code reading first: the database refuses."""
    practice = await create_practice(database, await create_creditor(database))
    assert (await reserve(acts, practice, rome(MON, "10:00"))).granted

    async def insert(day: date, slot: int) -> None:
        async with database.session() as session, session.begin():
            row = ContactLog(
                idempotency_key=uuid.uuid4().hex,
                debtor_key=TAX_CODE,
                practice_id=practice.id,
                channel="call",
                kind="conversation",
                at=rome(day.isoformat(), "12:00"),
            )
            session.add(row)
            await session.flush()
            session.add(
                ConversationDay(
                    contact_id=row.id,
                    debtor_key=TAX_CODE,
                    day=day,
                    week=date(2026, 11, 23),
                    week_slot=slot,
                )
            )

    with pytest.raises(IntegrityError):  # the same day
        await insert(date(2026, 11, 23), 2)
    with pytest.raises(IntegrityError):  # the same weekly slot
        await insert(date(2026, 11, 24), 1)
    with pytest.raises(IntegrityError):  # a fourth slot
        await insert(date(2026, 11, 24), 4)


# -- opt-outs and bad input --------------------------------------------------------------------


async def test_an_opt_out_refuses_that_channel_for_every_practice_of_the_debtor(
    database: Database, acts: PracticeActivities
) -> None:
    a, b = await two_creditors_one_debtor(database)
    async with database.session() as session, session.begin():
        session.add(DebtorOptOut(debtor_key=TAX_CODE, channel="call", practice_id=a.id))
        session.add(DebtorOptOut(debtor_key=TAX_CODE, channel="sms", practice_id=a.id))
    for practice in (a, b):
        refused = await reserve(acts, practice, rome(MON, "10:00"))
        assert (refused.granted, refused.next_slot, refused.reason) == (
            False,
            None,
            "the debtor opted out of call",
        )
        assert not (await reserve(acts, practice, rome(MON, "10:00"), channel="sms")).granted
    assert (await reserve(acts, b, rome(MON, "10:00"), channel="email")).granted
    assert (await reserve(acts, b, rome(MON, "10:00"), channel="visit")).granted


@pytest.mark.parametrize(
    ("channel", "at"),
    [
        ("post", rome(MON, "10:00")),
        ("phone", rome(MON, "10:00")),
        ("call", datetime(2026, 11, 23, 10, 0)),  # naive
    ],
)
async def test_bad_input_fails_for_good(
    database: Database, acts: PracticeActivities, channel: str, at: datetime
) -> None:
    practice = await create_practice(database, await create_creditor(database))
    with pytest.raises(ApplicationError) as raised:
        await reserve(acts, practice, at, channel=channel)
    assert raised.value.non_retryable and raised.value.type == "InvalidInput"


# -- the API: the call queue and opt-outs ------------------------------------------------------


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def app_db(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Database, Clock]]:
    """The app on its own migrated database, without Temporal (the call queue and the
    opt-outs never reach it), at a time the test sets."""
    settings = make_settings(
        data_dir=tmp_path,
        database_url=pg.database_url(tmp_path, "api.db"),
        admin_key=new_key(),
    )
    upgrade(settings.database_url)
    app = create_app(settings, temporal_client=cast(Client, object()))
    clock = Clock(rome(MON, "10:00"))
    app.dependency_overrides[get_now] = clock
    db = Database(settings.database_url)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        http.headers["Authorization"] = f"Bearer {settings.admin_key}"
        yield http, db, clock
    await db.dispose()
    pg.drop_database(settings.database_url)


async def user_headers(db: Database, role: str, **fields: Any) -> dict[str, str]:
    key = new_key()
    await create_user(db, role, key_hash=hash_key(key), **fields)
    return {"Authorization": f"Bearer {key}"}


async def queue_call(db: Database, practice: Practice, key: str | None = None) -> str:
    """A call task as the phone phase opens it; its conversation, when the test reserves one
    as the workflow does before queueing, has a key under the task's (`<task key>:call:<n>`)."""
    task = Task(
        idempotency_key=key or uuid.uuid4().hex,
        practice_id=practice.id,
        kind="call",
        detail="1/1",
    )
    async with db.session() as session, session.begin():
        session.add(task)
    return task.id


async def listed(http: httpx.AsyncClient, headers: dict[str, str] | None = None) -> set[str]:
    response = await http.get("/worklists/calls", headers=headers or {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return {item["practice_id"] for item in body["items"]}


async def test_the_call_queue_follows_the_window_and_the_limits(
    app_db: tuple[httpx.AsyncClient, Database, Clock],
) -> None:
    http, db, clock = app_db
    operator = await user_headers(db, "operator")
    a, b = await two_creditors_one_debtor(db)
    loner = await create_practice(db, await create_creditor(db), debtor_tax_code=None)
    for practice in (a, b, loner):
        await queue_call(db, practice, key=f"{practice.id}:call:1")
    everyone = {a.id, b.id, loner.id}

    assert await listed(http, operator) == everyone
    for outside in (rome(SAT, "15:00"), rome(FRI, "21:00"), rome("2026-11-29", "11:00")):
        clock.at = outside
        assert await listed(http, operator) == set()
    clock.at = rome("2026-12-08", "10:00")  # a Tuesday, a public holiday
    assert await listed(http, operator) == set()

    # practice a holds Wednesday's conversation: its call stays, b's call waits for Thursday
    acts = PracticeActivities(db, make_settings())
    assert (await reserve(acts, a, rome(WED, "09:00"), key=f"{a.id}:call:1:call:1")).granted
    clock.at = rome(WED, "10:00")
    assert await listed(http, operator) == {a.id, loner.id}

    supervisors = await http.get("/worklists/calls", params={"all": "true"})
    held = {i["practice_id"]: i for i in supervisors.json()["items"]}
    assert set(held) == everyone
    assert held[b.id]["callable_now"] is False
    assert held[b.id]["hold"] == DAY_TAKEN
    assert datetime.fromisoformat(held[b.id]["callable_from"]) == rome(THU, "08:30")
    assert held[a.id]["callable_now"] and held[a.id]["callable_from"] is None
    # only a supervisor sees what is held back
    forbidden = await http.get("/worklists/calls", params={"all": "true"}, headers=operator)
    assert forbidden.status_code == 403

    # three this week (Wednesday, Thursday, Friday): nothing for this debtor until Monday
    assert (await reserve(acts, b, rome(THU, "09:00"))).granted
    assert (await reserve(acts, a, rome(FRI, "09:00"))).granted
    # (a's call stays: taking it moves the conversation it holds, Wednesday's, to Saturday)
    clock.at = rome(SAT, "10:00")
    assert await listed(http, operator) == {a.id, loner.id}
    supervisors = await http.get("/worklists/calls", params={"all": "true"})
    held = {i["practice_id"]: i for i in supervisors.json()["items"]}
    assert held[b.id]["hold"] == WEEK_FULL
    assert datetime.fromisoformat(held[b.id]["callable_from"]) == rome(NEXT_MON, "08:30")
    clock.at = rome(NEXT_MON, "08:30")
    assert await listed(http, operator) == everyone

    # outside the window the supervisors' view says when
    clock.at = rome(SAT, "16:00")
    supervisors = await http.get("/worklists/calls", params={"all": "true"})
    loner_item = next(i for i in supervisors.json()["items"] if i["practice_id"] == loner.id)
    assert loner_item["hold"] == OUTSIDE_HOURS
    assert datetime.fromisoformat(loner_item["callable_from"]) == rome(NEXT_MON, "08:30")


async def test_opt_outs_through_the_api(
    app_db: tuple[httpx.AsyncClient, Database, Clock],
) -> None:
    http, db, _clock = app_db
    a, b = await two_creditors_one_debtor(db)
    await queue_call(db, a)
    await queue_call(db, b)
    creditor_a = await user_headers(db, "creditor", creditor_id=a.creditor_id)
    operator = await user_headers(db, "operator")
    field_agent = await user_headers(db, "field_agent", provinces=["MI"])

    posted = await http.post(
        f"/practices/{a.id}/opt-outs", json={"channel": "call"}, headers=creditor_a
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["channel"] == "call" and posted.json()["practice_id"] == a.id
    again = await http.post(f"/practices/{b.id}/opt-outs", json={"channel": "call"})
    assert again.status_code == 200
    # the debtor's calls are gone from the queue, for both creditors' practices
    assert await listed(http, operator) == set()
    held = (await http.get("/worklists/calls", params={"all": "true"})).json()["items"]
    assert {(i["hold"], i["callable_from"]) for i in held} == {
        ("the debtor opted out of call", None)
    }

    sms = await http.post(f"/practices/{b.id}/opt-outs", json={"channel": "SMS"}, headers=operator)
    assert sms.status_code == 201 and sms.json()["channel"] == "sms"
    channels = await http.get(f"/practices/{b.id}/opt-outs")
    assert [o["channel"] for o in channels.json()] == ["call", "sms"]

    for channel in ("post", "visit", "pec", ""):
        refused = await http.post(f"/practices/{a.id}/opt-outs", json={"channel": channel})
        assert refused.status_code == 422, channel
        assert refused.json()["detail"][0]["loc"] == ["body", "channel"]
    assert (
        "legal minimum"
        in (await http.post(f"/practices/{a.id}/opt-outs", json={"channel": "post"})).json()[
            "detail"
        ][0]["msg"]
    )

    # another creditor's practice, a role that may not, an unknown practice
    other = await http.post(
        f"/practices/{b.id}/opt-outs", json={"channel": "email"}, headers=creditor_a
    )
    assert other.status_code == 403
    agent = await http.post(
        f"/practices/{a.id}/opt-outs", json={"channel": "email"}, headers=field_agent
    )
    assert agent.status_code == 403
    missing = await http.post("/practices/nope/opt-outs", json={"channel": "email"})
    assert missing.status_code == 404
    async with db.session() as session:
        assert (await session.scalar(select(func.count()).select_from(DebtorOptOut))) == 2


def take(task_id: str) -> str:
    return f"/worklists/calls/{task_id}/take"


async def conversation_days(db: Database, practice: Practice) -> list[date]:
    async with db.session() as session:
        return sorted(
            (
                await session.scalars(
                    select(ConversationDay.day).where(
                        ConversationDay.debtor_key == contact_log.practice_debtor_key(practice)
                    )
                )
            ).all()
        )


async def test_a_calls_conversation_counts_on_the_day_the_call_is_taken(
    app_db: tuple[httpx.AsyncClient, Database, Clock],
) -> None:
    """Issue 11, point 1: practice a's call is queued on Wednesday at 20:50 (the workflow
    reserves Wednesday), an operator takes it on Thursday at 09:00; practice b of the same
    debtor, another creditor's, may not be called on Thursday as well."""
    http, db, clock = app_db
    operator = await user_headers(db, "operator")
    a, b = await two_creditors_one_debtor(db)
    acts = PracticeActivities(db, make_settings())
    a_call = await queue_call(db, a, key=f"{a.id}:call:1")
    b_call = await queue_call(db, b, key=f"{b.id}:call:1")
    a_reservation = f"{a.id}:call:1:call:1"
    assert (await reserve(acts, a, rome(WED, "20:50"), key=a_reservation)).granted

    clock.at = rome(THU, "09:00")
    assert (await http.post(take(a_call), headers=operator)).status_code == 200
    # the conversation moved to the day it happens: Wednesday is free, Thursday is taken
    assert await conversation_days(db, a) == [date.fromisoformat(THU)]
    assert (await http.post(take(a_call), headers=operator)).status_code == 200  # a missed ring
    assert await conversation_days(db, a) == [date.fromisoformat(THU)]

    clock.at = rome(THU, "10:00")
    refused = await http.post(take(b_call), headers=operator)
    assert refused.status_code == 409, refused.text
    assert DAY_TAKEN in refused.json()["detail"]
    assert "2026-11-27T08:30:00+01:00" in refused.json()["detail"]
    assert b.id not in await listed(http, operator)
    assert not (await reserve(acts, b, rome(THU, "11:00"))).granted

    # nobody answered a's call: the workflow gives the conversation back under its key
    assert (await acts.release_conversation(ReleaseConversationInput(a.id, a_reservation))).released
    assert await conversation_days(db, a) == []
    clock.at = rome(THU, "10:30")
    assert (await http.post(take(b_call), headers=operator)).status_code == 200
    assert await conversation_days(db, b) == [date.fromisoformat(THU)]


async def test_taking_a_call_when_the_debtors_week_is_full_is_409_and_writes_nothing(
    app_db: tuple[httpx.AsyncClient, Database, Clock],
) -> None:
    http, db, clock = app_db
    operator = await user_headers(db, "operator")
    a, b = await two_creditors_one_debtor(db)
    acts = PracticeActivities(db, make_settings())
    a_call = await queue_call(db, a, key=f"{a.id}:call:1")
    for day in (MON, TUE, WED):
        assert (await reserve(acts, b, rome(day, "10:00"))).granted

    clock.at = rome(THU, "09:00")
    refused = await http.post(take(a_call), headers=operator)
    assert refused.status_code == 409, refused.text
    assert WEEK_FULL in refused.json()["detail"]
    async with db.session() as session:
        assert (await session.get(Task, a_call)) is not None
        assignee = await session.scalar(select(Task.assignee_id).where(Task.id == a_call))
    assert assignee is None
    assert await count(db, ContactLog, ContactLog.practice_id == a.id) == 0

    clock.at = rome(NEXT_MON, "09:00")
    assert (await http.post(take(a_call), headers=operator)).status_code == 200
    assert await count(db, ContactLog, ContactLog.practice_id == a.id) == 1


# -- home visits (issue 11, point 2) ------------------------------------------------------------


async def test_the_visit_list_shows_when_the_rules_allow_the_visit(
    app_db: tuple[httpx.AsyncClient, Database, Clock],
) -> None:
    http, db, clock = app_db
    agent = await create_user(db, "field_agent", provinces=["MI"])
    key = new_key()
    async with db.session() as session, session.begin():
        row = await session.get(User, agent.id)
        assert row is not None
        row.key_hash = hash_key(key)
    headers = {"Authorization": f"Bearer {key}"}
    a, b = await two_creditors_one_debtor(db)
    async with db.session() as session, session.begin():
        session.add(
            Task(
                idempotency_key=f"{a.id}:visit",
                practice_id=a.id,
                kind="visit",
                assignee_id=agent.id,
            )
        )

    clock.at = rome(THU, "10:00")
    (item,) = (await http.get("/worklists/visits", headers=headers)).json()["items"]
    assert (item["visitable_now"], item["visitable_from"], item["hold"]) == (True, None, None)

    acts = PracticeActivities(db, make_settings())
    assert (await reserve(acts, b, rome(THU, "09:00"))).granted  # b's call this morning
    (item,) = (await http.get("/worklists/visits", headers=headers)).json()["items"]
    assert (item["visitable_now"], item["hold"]) == (False, DAY_TAKEN)
    assert datetime.fromisoformat(item["visitable_from"]) == rome(FRI, "08:30")

    clock.at = rome("2026-11-29", "11:00")  # Sunday
    (item,) = (await http.get("/worklists/visits", headers=headers)).json()["items"]
    assert (item["visitable_now"], item["hold"]) == (False, OUTSIDE_HOURS)
    assert datetime.fromisoformat(item["visitable_from"]) == rome(NEXT_MON, "08:30")


async def visit(db: Database, practice: Practice, at: datetime) -> ContactDecision:
    async with db.session() as session:
        decision = await module.record_visit(
            session,
            practice_id=practice.id,
            debtor_key=contact_log.practice_debtor_key(practice),
            idempotency_key=f"{practice.id}:visit:{uuid.uuid4().hex}",
            at=at,
        )
        await session.commit()
    return decision


async def test_a_visit_takes_the_days_conversation_even_outside_the_rules(
    database: Database, acts: PracticeActivities
) -> None:
    a, b = await two_creditors_one_debtor(database)
    # within the rules: the day is taken for the calls of the debtor's other practices
    assert (await visit(database, a, rome(MON, "10:00"))).allowed
    refused = await reserve(acts, b, rome(MON, "11:00"))
    assert (refused.granted, refused.reason) == (False, DAY_TAKEN)

    # before the hours: it happened, so it is recorded (and the caller flags it); the day is
    # taken all the same
    early = await visit(database, a, rome(TUE, "07:30"))
    assert (early.allowed, early.reason) == (False, OUTSIDE_HOURS)
    refused = await reserve(acts, b, rome(TUE, "10:00"))
    assert (refused.granted, refused.reason) == (False, DAY_TAKEN)

    # a second conversation on a day already taken: recorded, over the limit, flagged
    assert (await reserve(acts, b, rome(WED, "09:00"))).granted
    twice = await visit(database, a, rome(WED, "18:00"))
    assert (twice.allowed, twice.reason) == (False, DAY_TAKEN)
    assert await conversation_days(database, a) == [date.fromisoformat(d) for d in (MON, TUE, WED)]
    assert await count(database, ContactLog, ContactLog.channel == "visit") == 3
    # four conversations this week: nothing more until Monday
    refused = await reserve(acts, b, rome(THU, "10:00"))
    assert (refused.granted, refused.reason) == (False, WEEK_FULL)
    late = await visit(database, a, rome(FRI, "10:00"))
    assert (late.allowed, late.reason) == (False, WEEK_FULL)


# -- the debtor's contact preferences (issue 13) ------------------------------------------------


async def test_contact_preferences_through_the_api_are_honoured_by_the_gate(
    app_db: tuple[httpx.AsyncClient, Database, Clock],
) -> None:
    http, db, _clock = app_db
    a, b = await two_creditors_one_debtor(db)
    operator = await user_headers(db, "operator")
    creditor = await user_headers(db, "creditor", creditor_id=a.creditor_id)
    acts = PracticeActivities(db, make_settings())
    assert (await reserve(acts, b, rome(MON, "10:00"), "email")).granted

    put = await http.put(
        f"/practices/{a.id}/contact-preferences",
        json={"opt_out": ["email"], "preferred_window": "evening"},
        headers=operator,
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"opt_out": ["email"], "preferred_window": "evening"}
    # the same debtor on the other creditor's practice: the same preferences
    got = await http.get(f"/practices/{b.id}/contact-preferences")
    assert got.json() == {"opt_out": ["email"], "preferred_window": "evening"}
    # the refusal is the opt-outs' own row: the opt-outs API sees it too
    assert [o["channel"] for o in (await http.get(f"/practices/{b.id}/opt-outs")).json()] == [
        "email"
    ]

    # an e-mail is not sent, ever; an SMS waits for the evening; at 18:00 it goes
    email = await reserve(acts, b, rome(MON, "10:00"), "email")
    assert (email.granted, email.next_slot, email.reason) == (
        False,
        None,
        "the debtor opted out of email",
    )
    sms = await reserve(acts, b, rome(MON, "10:00"), "sms")
    assert (sms.granted, sms.next_slot) == (False, rome(MON, "18:00"))
    assert sms.reason == "the debtor prefers the evening (18:00-21:00)"
    assert (await reserve(acts, b, rome(MON, "18:00"), "sms")).granted
    # a call on Saturday (no evening) waits for Monday evening, and refused by the rules on a
    # Sunday it is given the first evening the rules allow
    call = await reserve(acts, a, rome(SAT, "10:00"))
    assert (call.granted, call.next_slot) == (False, rome(NEXT_MON, "18:00"))
    sunday = await reserve(acts, a, rome("2026-11-29", "19:00"))
    assert (sunday.granted, sunday.next_slot, sunday.reason) == (
        False,
        rome(NEXT_MON, "18:00"),
        OUTSIDE_HOURS,
    )
    assert (await reserve(acts, a, rome(NEXT_MON, "18:30"))).granted
    # a visit is not shaped by the preference
    assert (await reserve(acts, b, rome("2026-12-01", "10:00"), "visit")).granted

    # nothing is withdrawn by leaving it out; null removes the window
    cleared = await http.put(
        f"/practices/{a.id}/contact-preferences",
        json={"opt_out": ["sms"], "preferred_window": None},
    )
    assert cleared.json() == {"opt_out": ["email", "sms"], "preferred_window": None}
    assert (await reserve(acts, a, rome("2026-12-02", "10:00"), "call")).granted

    for body, loc in (
        ({"opt_out": ["email", "post"]}, ["body", "opt_out", 1]),
        ({"opt_out": ["fax"]}, ["body", "opt_out", 0]),
        ({"preferred_window": "night"}, ["body", "preferred_window"]),
        ({"opt_out": "email"}, ["body", "opt_out"]),
    ):
        refused = await http.put(f"/practices/{a.id}/contact-preferences", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["detail"][0]["loc"] == loc
    assert (
        await http.put(f"/practices/{a.id}/contact-preferences", json={}, headers=creditor)
    ).status_code == 403
    assert (await http.get("/practices/nope/contact-preferences")).status_code == 404


async def test_the_call_queue_lists_first_the_debtors_who_prefer_now(
    app_db: tuple[httpx.AsyncClient, Database, Clock],
) -> None:
    http, db, clock = app_db
    operator = await user_headers(db, "operator")
    creditor = await create_creditor(db)
    practices = [await create_practice(db, creditor, debtor_tax_code=None) for _ in range(3)]
    morning, evening, none = practices
    for practice in practices:
        await queue_call(db, practice)
    for practice, window in ((morning, "morning"), (evening, "evening")):
        response = await http.put(
            f"/practices/{practice.id}/contact-preferences", json={"preferred_window": window}
        )
        assert response.status_code == 200

    async def order() -> list[tuple[str, str | None]]:
        response = await http.get("/worklists/calls", headers=operator)
        return [(i["practice_id"], i["preferred_window"]) for i in response.json()["items"]]

    clock.at = rome(MON, "10:00")
    assert await order() == [(morning.id, "morning"), (none.id, None), (evening.id, "evening")]
    clock.at = rome(MON, "19:00")
    assert await order() == [(evening.id, "evening"), (none.id, None), (morning.id, "morning")]
    # outside the rules' hours the preference shows nothing
    clock.at = rome(MON, "21:30")
    assert await order() == []


# -- debtors abroad (issue 16) -----------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
THANKSGIVING = "2026-11-26"  # Thursday of this week: a US federal holiday, a day like any in Italy


def at(zone: ZoneInfo, day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=zone)


async def new_yorker(db: Database) -> Practice:
    """A consumer in New York (her SSN as her tax number), read from the practice's row."""
    return await create_practice(
        db,
        await create_creditor(db),
        debtor_name="Jane Roe",
        debtor_tax_code="536904399",
        phone="+12024561111",
        street="1 Main St",
        city="New York",
        postal_code="10001",
        province="",
        region="NY",
        country="US",
        time_zone="America/New_York",
        language="en",
    )


async def berliner(db: Database) -> Practice:
    return await create_practice(
        db,
        await create_creditor(db),
        debtor_name="Max Muster",
        debtor_tax_code="36574261809",
        phone="+493012345678",
        street="Unter den Linden 1",
        city="Berlin",
        postal_code="10117",
        province="",
        country="DE",
        time_zone="Europe/Berlin",
        language="de",
    )


async def test_a_debtor_abroad_is_contacted_in_its_own_hours_and_days(
    database: Database, acts: PracticeActivities
) -> None:
    jane = await new_yorker(database)
    # Monday 10:00 in Rome is 04:00 in New York: refused until 08:30 there (14:30 in Rome)
    refused = await reserve(acts, jane, rome(MON, "10:00"))
    assert (refused.granted, refused.next_slot, refused.reason) == (
        False,
        rome(MON, "14:30"),
        OUTSIDE_LOCAL_HOURS,
    )
    # the reason and the moment name no country or zone: the workflow records both
    assert refused.next_slot is not None and refused.next_slot.tzinfo == ROME
    # Monday 22:00 in Rome, closed for an Italian debtor, is 16:00 in New York
    assert (await reserve(acts, jane, rome(MON, "22:00"))).granted
    async with database.session() as session:
        logged = (await session.scalars(select(ContactLog.debtor_key))).all()
    assert logged == ["US:536904399"]
    # Tuesday 02:00 in Rome is still Monday 20:00 in New York: that day is taken
    refused = await reserve(acts, jane, rome(TUE, "02:00"))
    assert (refused.granted, refused.reason) == (False, DAY_TAKEN)
    assert refused.next_slot == at(NEW_YORK, TUE, "08:30")
    assert await conversation_days(database, jane) == [date.fromisoformat(MON)]

    # Thanksgiving: no call, no e-mail in New York; the next morning there
    for channel in ("call", "email"):
        refused = await reserve(acts, jane, at(NEW_YORK, THANKSGIVING, "11:00"), channel=channel)
        assert (refused.granted, refused.reason) == (False, OUTSIDE_LOCAL_HOURS), channel
        assert refused.next_slot == at(NEW_YORK, FRI, "08:30")
    # the same moment for a debtor in Milan is an ordinary Thursday afternoon
    milan = await create_practice(database, await create_creditor(database))
    assert (await reserve(acts, milan, at(NEW_YORK, THANKSGIVING, "11:00"))).granted


async def test_a_german_public_holiday_and_the_agencys_hours_for_germany(
    database: Database,
) -> None:
    max_ = await berliner(database)
    italian_hours = PracticeActivities(database, make_settings())
    # German Unity Day, Saturday 3 October 2026: closed in Germany until Monday
    refused = await reserve(italian_hours, max_, at(BERLIN, "2026-10-03", "10:00"))
    assert (refused.granted, refused.next_slot) == (False, at(BERLIN, "2026-10-05", "08:30"))
    # Liberation Day, Saturday 25 April 2026, closes Italy, not Germany
    assert (await reserve(italian_hours, max_, at(BERLIN, "2026-04-25", "10:00"))).granted

    # the agency's own hours for Germany (RECUPERO_CONTACT_HOURS): 08:00 on a Monday is inside
    german_hours = PracticeActivities(
        database,
        make_settings(contact_hours={"DE": parse_hours({"mon": "08:00-20:00"})}),
    )
    monday_eight = at(BERLIN, MON, "08:00")
    assert not (await reserve(italian_hours, max_, monday_eight, channel="email")).granted
    assert (await reserve(german_hours, max_, monday_eight, channel="email")).granted
    # and no hours on a Tuesday: the next opening is the next Monday
    refused = await reserve(german_hours, max_, at(BERLIN, TUE, "10:00"), channel="email")
    assert refused.next_slot == at(BERLIN, NEXT_MON, "08:00")


async def test_the_call_queue_and_the_take_in_the_debtors_time_zone(
    app_db: tuple[httpx.AsyncClient, Database, Clock],
) -> None:
    http, db, clock = app_db
    operator = await user_headers(db, "operator")
    jane = await new_yorker(db)
    milan = await create_practice(db, await create_creditor(db))
    jane_call = await queue_call(db, jane, key=f"{jane.id}:call:1")
    await queue_call(db, milan, key=f"{milan.id}:call:1")

    clock.at = rome(MON, "10:00")  # 04:00 in New York
    assert await listed(http, operator) == {milan.id}
    supervisors = await http.get("/worklists/calls", params={"all": "true"})
    held = {i["practice_id"]: i for i in supervisors.json()["items"]}
    assert held[jane.id]["hold"] == OUTSIDE_LOCAL_HOURS
    assert datetime.fromisoformat(held[jane.id]["callable_from"]) == rome(MON, "14:30")

    clock.at = rome(MON, "22:00")  # Rome is closed, New York's afternoon
    assert await listed(http, operator) == {jane.id}
    clock.at = at(NEW_YORK, THANKSGIVING, "10:00")  # 16:00 in Rome
    assert await listed(http, operator) == {milan.id}

    # the same debtor owes another creditor: one conversation a day, her day
    again = await new_yorker(db)
    await queue_call(db, again, key=f"{again.id}:call:1")
    clock.at = rome(MON, "22:00")
    assert (await http.post(take(jane_call), headers=operator)).status_code == 200
    assert await conversation_days(db, jane) == [date.fromisoformat(MON)]
    clock.at = rome(TUE, "02:30")  # still Monday (20:30) in New York: her day is taken
    assert again.id not in await listed(http, operator)
    clock.at = rome(TUE, "15:00")  # Tuesday 09:00 in New York: a new day
    assert again.id in await listed(http, operator)
