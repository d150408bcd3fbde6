"""The debtor's contact preferences through the API on the real server and worker: an opted-out
channel is never used by the practice's workflow (issue 13)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.models import Delivery
from tests.api.helpers import (
    Api,
    eventually,
    fast_strategy,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    unique_tax_code,
)


async def test_an_opted_out_email_is_never_sent(api: Api) -> None:
    """The debtor refused e-mails on one practice; its next practice (same codice fiscale,
    another creditor) sends its letter by post and no e-mail copy: the workflow's contact gate
    reads the same opt-outs."""
    _, operator = await new_user(api, "operator")
    tax_code = unique_tax_code()
    first = await new_creditor(api)
    quiet = await hand_over(api, first.headers, practice_payload(first.id, tax_code=tax_code))
    put = await api.http.put(
        f"/practices/{quiet['id']}/contact-preferences",
        headers=operator,
        json={"opt_out": ["email"], "preferred_window": None},
    )
    assert put.status_code == 200, put.text

    second = await new_creditor(api, fast_strategy())
    overdue = await hand_over(
        api,
        second.headers,
        practice_payload(second.id, tax_code=tax_code, due_in_days=-10),
    )
    pid = overdue["id"]

    async def refused() -> list[dict[str, Any]] | None:
        events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
        found = [e for e in events if e["kind"] == "contact_refused"]
        return found or None

    events = await eventually(refused, "the refused e-mail")
    assert events[0]["summary"] == "No email: the debtor opted out of email"
    async with api.db.session() as session:
        channels = set(
            await session.scalars(select(Delivery.channel).where(Delivery.practice_id == pid))
        )
    assert "email" not in channels
