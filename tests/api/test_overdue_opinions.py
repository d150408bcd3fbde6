"""GET /worklists/overdue-opinions (issue 11, point 13): the admin's list of opinion requests
the lawyer left unanswered after the strategy's reminders. The tasks are written with the
factories as the workflow's `_opinion_overdue` opens them (tests/workflows covers the workflow)."""

from __future__ import annotations

import secrets

from sqlalchemy import update

from db.models import Task
from tests.api.helpers import Api, new_user
from tests.factories import create_creditor, create_practice


async def test_the_admin_sees_the_overdue_opinions_and_the_lawyer_does_not(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    practice = await create_practice(
        api.db, await create_creditor(api.db), lawyer_id=lawyer_id, debtor_name="Carla Bianchi"
    )
    key = f"{practice.id}:legal_opinion:{secrets.token_hex(4)}"
    tasks = [
        Task(
            idempotency_key=f"{key}:opinion",
            practice_id=practice.id,
            kind="opinion",
            assignee_id=lawyer_id,
        ),
        Task(
            idempotency_key=f"{key}:opinion-overdue",
            practice_id=practice.id,
            kind="opinion_overdue",
            detail="no opinion after 3 reminder(s)",
        ),
    ]
    async with api.db.session() as session, session.begin():
        session.add_all(tasks)

    listed = await api.http.get(
        "/worklists/overdue-opinions", headers=api.admin, params={"limit": 200}
    )
    assert listed.status_code == 200, listed.text
    item = next(i for i in listed.json()["items"] if i["practice_id"] == practice.id)
    assert item["detail"] == "no opinion after 3 reminder(s)"
    assert item["assignee_id"] == lawyer_id  # the lawyer to chase
    assert item["debtor_name"] == "Carla Bianchi"
    # the lawyer's own list still has the request; the overdue list is the admin's
    mine = (await api.http.get("/worklists/opinions", headers=lawyer)).json()
    assert [i["practice_id"] for i in mine["items"]] == [practice.id]
    refused = await api.http.get("/worklists/overdue-opinions", headers=lawyer)
    assert refused.status_code == 403

    # answered: both tasks close (the workflow's close_tasks) and the request leaves the list
    async with api.db.session() as session, session.begin():
        await session.execute(
            update(Task).where(Task.practice_id == practice.id).values(status="done")
        )
    listed = await api.http.get(
        "/worklists/overdue-opinions", headers=api.admin, params={"limit": 200}
    )
    assert practice.id not in {i["practice_id"] for i in listed.json()["items"]}
