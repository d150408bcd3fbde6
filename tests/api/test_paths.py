"""Longer paths on the real worker: the home visit and the legal path, through the work lists
of the people who act on them."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from db.contact_log import CONVERSATION
from db.models import ContactLog, ConversationDay
from tests.api.helpers import (
    ROME,
    Api,
    Headers,
    error_locs,
    eventually,
    fast_strategy,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
    unique_tax_code,
)


def only(*steps: str, **overrides: Any) -> dict[str, Any]:
    strategy = fast_strategy(**overrides)
    for setting in strategy["steps"]:
        setting["enabled"] = setting["step"] in steps or setting["step"] == "authorization"
    return strategy


async def view(api: Api, practice_id: str, headers: Headers) -> dict[str, Any]:
    response = await api.http.get(f"/practices/{practice_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def open_task(api: Api, worklist: str, headers: Headers, practice_id: str) -> Any:
    async def find() -> dict[str, Any] | None:
        response = await api.http.get(
            f"/worklists/{worklist}", headers=headers, params={"limit": 200}
        )
        assert response.status_code == 200, response.text
        return next((t for t in response.json()["items"] if t["practice_id"] == practice_id), None)

    return await eventually(find, f"a {worklist} task for {practice_id}", seconds=60)


async def test_home_visit_by_the_assigned_field_agent(api: Api) -> None:
    tenant = await new_creditor(
        api, only("contact_check", "reminder_letter", "home_visit", visit_outcome_timeout="PT120S")
    )
    # Aosta: no other test has an agent there, so this one is assigned
    agent_id, agent = await new_user(api, "field_agent", provinces=["AO"])
    practice = await hand_over(
        api, tenant.headers, practice_payload(tenant.id, due_in_days=-120, province="AO")
    )
    pid = practice["id"]
    # not assigned yet: an agent sees its visits' debtors only (api.access)
    not_yet = await api.http.get(f"/practices/{pid}", headers=agent)
    assert not_yet.status_code == 403

    visit = await open_task(api, "visits", agent, pid)
    assert visit["assignee_id"] == agent_id
    assert visit["debtor_name"] == "Mario Rossi"
    assert visit["address"]["street"] == "Via Roma 1"
    assert (await view(api, pid, agent))["debtor"]["name"] == "Mario Rossi"
    everything = (
        await api.http.get("/worklists/visits", headers=api.admin, params={"limit": 200})
    ).json()
    assert pid in {t["practice_id"] for t in everything["items"]}

    # a colleague in the same territory sees neither the practice nor the debtor, and cannot
    # report
    _, colleague = await new_user(api, "field_agent", provinces=["AO"])
    assert (await api.http.get(f"/practices/{pid}", headers=colleague)).status_code == 403
    assert (await api.http.get("/worklists/visits", headers=colleague)).json()["total"] == 0
    refused = await api.http.post(
        f"/practices/{pid}/visit-outcomes", headers=colleague, json={"outcome": "refused"}
    )
    assert refused.status_code == 403

    promised = (rome_today() + timedelta(days=7)).isoformat()
    reported = await api.http.post(
        f"/practices/{pid}/visit-outcomes",
        headers=agent,
        json={
            "outcome": "promise",
            "promised_date": promised,
            "promised_amount": "600.00",
            "note": "pagherà in due rate",
        },
    )
    assert reported.status_code == 200, reported.text
    assert reported.json()["status"] == "paused_promise"
    promise = (await view(api, pid, agent))["promise"]
    assert promise == {"promised_date": promised, "amount": "600.00", "source": "visit"}


async def test_legal_path_opinion_then_declined_authorization(api: Api) -> None:
    tenant = await new_creditor(
        api,
        only(
            "contact_check",
            "reminder_letter",
            "legal_opinion",
            opinion_timeout="PT120S",
            authorization_timeout="PT300S",
            authorization_reminder_interval="PT120S",
        ),
    )
    other = await new_creditor(api)
    lawyers = dict([await new_user(api, "lawyer"), await new_user(api, "lawyer")])
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-90))
    pid = practice["id"]

    await open_task(api, "opinions", api.admin, pid)
    lawyer_id = (await view(api, pid, api.admin))["lawyer_id"]
    assert lawyer_id is not None
    assigned = lawyers.get(lawyer_id, api.admin)
    await open_task(api, "opinions", assigned, pid)
    for other_id, headers in lawyers.items():
        if other_id != lawyer_id:
            response = await api.http.post(
                f"/practices/{pid}/legal-opinion", headers=headers, json={"recommend_action": True}
            )
            assert response.status_code == 403
            listed = (await api.http.get("/worklists/opinions", headers=headers)).json()
            assert pid not in {t["practice_id"] for t in listed["items"]}

    opinion = await api.http.post(
        f"/practices/{pid}/legal-opinion",
        headers=assigned,
        json={"recommend_action": True, "action": "decreto_ingiuntivo", "note": "credito provato"},
    )
    assert opinion.status_code == 200, opinion.text

    task = await open_task(api, "authorizations", tenant.headers, pid)
    assert task["claim"] == "1250.40"
    theirs = (await api.http.get("/worklists/authorizations", headers=other.headers)).json()
    assert pid not in {t["practice_id"] for t in theirs["items"]}
    stolen = await api.http.post(
        f"/practices/{pid}/legal-authorization", headers=other.headers, json={"authorized": True}
    )
    assert stolen.status_code == 403

    declined = await api.http.post(
        f"/practices/{pid}/legal-authorization", headers=tenant.headers, json={"authorized": False}
    )
    assert declined.status_code == 200, declined.text

    async def returned() -> dict[str, Any] | None:
        current = await view(api, pid, tenant.headers)
        return current if current["status"] == "closed" else None

    closed = await eventually(returned, "the practice to be returned")
    assert closed["outcome"] == "returned"


async def test_a_visit_outside_the_rules_is_accepted_flagged_and_takes_its_day(api: Api) -> None:
    """Issue 11, point 2: the visit happened on a Sunday (outside the hours): the outcome is
    accepted, the timeline flags it, and the Sunday's conversation of the debtor is taken."""
    tenant = await new_creditor(
        api, only("contact_check", "reminder_letter", "home_visit", visit_outcome_timeout="PT120S")
    )
    # Asti: no other test has an agent there, so this one is assigned
    agent_id, agent = await new_user(api, "field_agent", provinces=["AT"])
    tax_code = unique_tax_code()
    practice = await hand_over(
        api,
        tenant.headers,
        practice_payload(tenant.id, due_in_days=-120, province="AT", tax_code=tax_code),
    )
    pid = practice["id"]
    visit = await open_task(api, "visits", agent, pid)
    assert visit["assignee_id"] == agent_id
    assert "visitable_now" in visit and "hold" in visit

    today = rome_today()
    sunday = today - timedelta(days=today.weekday() + 1)  # the last Sunday before today
    visited_at = datetime.combine(sunday, time(11, 0), tzinfo=ROME)
    future = await api.http.post(
        f"/practices/{pid}/visit-outcomes",
        headers=agent,
        # (the API's clock in these tests is the next moment in the contact hours)
        json={"outcome": "refused", "visited_at": visited_at.replace(year=2099).isoformat()},
    )
    assert future.status_code == 422, future.text
    assert ["body", "visited_at"] in error_locs(future)
    ancient = await api.http.post(
        f"/practices/{pid}/visit-outcomes",
        headers=agent,
        json={"outcome": "refused", "visited_at": visited_at.replace(year=1900).isoformat()},
    )
    assert ancient.status_code == 422, ancient.text
    assert ["body", "visited_at"] in error_locs(ancient)

    reported = await api.http.post(
        f"/practices/{pid}/visit-outcomes",
        headers=agent,
        json={"outcome": "refused", "visited_at": visited_at.isoformat()},
    )
    assert reported.status_code == 200, reported.text
    events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    flagged = next(e for e in events if e["kind"] == "visit_outside_rules")
    assert "outside the contact hours" in flagged["summary"]
    async with api.db.session() as session:
        logged = (
            await session.scalars(
                select(ContactLog).where(
                    ContactLog.practice_id == pid, ContactLog.channel == "visit"
                )
            )
        ).all()
        days = (
            await session.scalars(
                select(ConversationDay.day).where(ConversationDay.debtor_key == tax_code)
            )
        ).all()
    assert [(c.kind, c.at.astimezone(ROME).date()) for c in logged] == [(CONVERSATION, sunday)]
    assert list(days) == [sunday]
