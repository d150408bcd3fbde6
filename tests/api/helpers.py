"""Builders and waits shared by the API tests."""

from __future__ import annotations

import asyncio
import copy
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update
from stdnum import luhn
from stdnum.it import codicefiscale
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)

from config import Settings
from db.models import Practice
from db.session import Database
from domain.contact_rules import next_window_start
from domain.strategy import STEP_ORDER

ROME = ZoneInfo("Europe/Rome")
Headers = dict[str, str]


class StartRecorder(Interceptor):
    """Records every workflow start the app attempts; can make the next one fail."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.fail_next: Exception | None = None

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _RecordingOutbound(next, self)


class _RecordingOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, recorder: StartRecorder) -> None:
        super().__init__(next)
        self.recorder = recorder

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        self.recorder.started.append(input.id)
        if self.recorder.fail_next is not None:
            failure, self.recorder.fail_next = self.recorder.fail_next, None
            raise failure
        return await super().start_workflow(input)


@dataclass
class Api:
    http: httpx.AsyncClient
    settings: Settings
    db: Database
    temporal: Client
    recorder: StartRecorder
    admin: Headers = field(default_factory=dict)

    @property
    def app(self) -> FastAPI:
        """The app behind `http` (its dependency overrides put the API at a chosen time)."""
        return cast(FastAPI, cast(httpx.ASGITransport, self.http._transport).app)


@dataclass
class Tenant:
    """A creditor and a user acting for it."""

    id: str
    headers: Headers
    user_id: str


def in_contact_hours() -> datetime:
    """The API's clock in these tests (`app.dependency_overrides[api.deps.get_now]`): the next
    moment inside the contact hours, so the call queue (domain.contact_rules) shows the calls
    at night and on Sundays too."""
    return next_window_start(datetime.now(ROME))


def rome_today() -> date:
    return datetime.now(ROME).date()


_tax_codes = itertools.count(1)


def unique_tax_code() -> str:
    """A valid codice fiscale per practice: the daily and weekly conversation limits count per
    debtor across practices, so tests must not share one debtor by accident."""
    n = next(_tax_codes)
    # RSSMRA + year 85 + month T + a day 01-31, then a comune code that varies with n
    stem = f"RSSMRA85T{(n % 31) + 1:02d}A{(n // 31) % 1000:03d}"
    return stem + codicefiscale.calc_check_digit(stem)


def bearer(key: str) -> Headers:
    return {"Authorization": f"Bearer {key}"}


def vat_number() -> str:
    """A fresh valid partita IVA (7 digits, office 015, Luhn check digit)."""
    base = f"{secrets.randbelow(9_999_998) + 1:07d}015"
    return base + luhn.calc_check_digit(base)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4).upper()}"


def fast_strategy(**overrides: Any) -> dict[str, Any]:
    """Seconds-long waits so practices move on the real server while a test watches."""
    strategy: dict[str, Any] = {
        "steps": [{"step": s.value, "enabled": True, "wait_after": "PT1S"} for s in STEP_ORDER],
        "pre_due_reminder_lead": "PT1S",
        "call_attempts": 1,
        "call_retry_interval": "PT1S",
        "call_outcome_timeout": "PT5S",
        "trace_timeout": "PT5S",
        "visit_outcome_timeout": "PT5S",
        "opinion_timeout": "PT5S",
        "demand_term": "PT1S",
        "authorization_reminder_interval": "PT5S",
        "authorization_timeout": "PT5S",
        "promise_grace": "PT5S",
        "letter_texts": {},
    }
    strategy.update(overrides)
    return strategy


def practice_payload(
    creditor_id: str,
    reference: str | None = None,
    *,
    due_in_days: int = 60,
    amounts: tuple[str, ...] = ("1250.40",),
    province: str = "MI",
    tax_code: str | None = None,
) -> dict[str, Any]:
    """The hand-over of the API contract; due dates ahead by default, so the practice waits
    quietly in the pre-due phase unless a test wants it to move."""
    due = rome_today() + timedelta(days=due_in_days)
    return {
        "creditor_id": creditor_id,
        "reference": reference or unique("FT-ROSSI"),
        "debtor": {
            "kind": "consumer",
            "name": "Mario Rossi",
            "tax_code": tax_code or unique_tax_code(),
            "email": "mario.rossi@example.it",
            "phone": "+393331234567",
            "pec": None,
            "address": {
                "street": "Via Roma 1",
                "city": "Milano",
                "postal_code": "20121",
                "province": province,
                "country": "IT",
            },
        },
        "invoices": [
            {
                "number": f"FT-2026-{100 + n}",
                "issue_date": min(due - timedelta(days=30), rome_today()).isoformat(),
                "due_date": due.isoformat(),
                "amount": amount,
            }
            for n, amount in enumerate(amounts, start=1)
        ],
    }


DELETE = object()


def with_change(payload: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of payload with one value replaced (or removed, for value=DELETE)."""
    changed = copy.deepcopy(payload)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


async def new_creditor(api: Api, strategy: dict[str, Any] | None = None) -> Tenant:
    created = await api.http.post(
        "/creditors",
        headers=api.admin,
        json={
            "name": unique("Forniture Lombarde S.r.l."),
            "vat_number": vat_number(),
            "iban": "IT60X0542811101000000123456",
            "email": "amministrazione@example.it",
        },
    )
    assert created.status_code == 201, created.text
    creditor_id = created.json()["id"]
    saved = await api.http.put(
        f"/creditors/{creditor_id}/strategy", headers=api.admin, json=strategy or fast_strategy()
    )
    assert saved.status_code == 200, saved.text
    user_id, headers = await new_user(api, "creditor", creditor_id=creditor_id)
    return Tenant(id=creditor_id, headers=headers, user_id=user_id)


async def new_user(api: Api, role: str, **fields: Any) -> tuple[str, Headers]:
    response = await api.http.post(
        "/users", headers=api.admin, json={"role": role, "name": unique(role), **fields}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], bearer(body["key"])


async def hand_over(api: Api, headers: Headers, payload: dict[str, Any]) -> dict[str, Any]:
    response = await api.http.post("/practices", headers=headers, json=payload)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def practice_rows(api: Api, creditor_id: str, reference: str) -> int:
    async with api.db.session() as session:
        count = await session.scalar(
            select(func.count(Practice.id)).where(
                Practice.creditor_id == creditor_id, Practice.reference == reference
            )
        )
    return int(count or 0)


async def eventually(check: Callable[[], Awaitable[Any]], what: str, seconds: float = 30.0) -> Any:
    """Polls check() until it returns something truthy, or fails after `seconds`."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}; last: {last!r}")


def error_locs(response: httpx.Response) -> list[list[str | int]]:
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [list(item["loc"]) for item in detail]


async def assign_directly(
    api: Api, practice_id: str, after: str = "handed_over", **columns: Any
) -> None:
    """Writes what the workflow's assignment activities write (field_agent_id, lawyer_id) on a
    practice whose workflow has recorded the event `after`: the workflow's read-model writes
    carry its own assignments and would overwrite one made before them."""

    async def recorded() -> bool:
        response = await api.http.get(f"/practices/{practice_id}/events", headers=api.admin)
        return response.status_code == 200 and after in {e["kind"] for e in response.json()}

    await eventually(recorded, f"the {after} event of {practice_id}")
    async with api.db.session() as session, session.begin():
        await session.execute(update(Practice).where(Practice.id == practice_id).values(columns))
