"""POST /practices: the hand-over, its validation, and that it is all-or-nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from db.models import Practice
from tests.api.helpers import (
    DELETE,
    Api,
    Tenant,
    error_locs,
    hand_over,
    new_creditor,
    practice_payload,
    practice_rows,
    rome_today,
    with_change,
)

Payload = dict[str, Any]


def _business(payload: Payload, vat: Any) -> Payload:
    changed = with_change(payload, ("debtor", "kind"), "business")
    changed = with_change(changed, ("debtor", "tax_code"), None)
    return with_change(changed, ("debtor", "vat_number"), vat)


def _two_invoices_same_number(payload: Payload) -> Payload:
    changed = with_change(payload, ("invoices",), payload["invoices"] * 2)
    return changed


BAD_INPUTS: list[tuple[str, Callable[[Payload], Payload], list[str | int]]] = [
    (
        "negative amount",
        lambda p: with_change(p, ("invoices", 0, "amount"), "-10.00"),
        ["body", "invoices", 0, "amount"],
    ),
    (
        "zero amount",
        lambda p: with_change(p, ("invoices", 0, "amount"), "0.00"),
        ["body", "invoices", 0, "amount"],
    ),
    (
        "three decimals",
        lambda p: with_change(p, ("invoices", 0, "amount"), "12.345"),
        ["body", "invoices", 0, "amount"],
    ),
    (
        "not a number",
        lambda p: with_change(p, ("invoices", 0, "amount"), "mille"),
        ["body", "invoices", 0, "amount"],
    ),
    (
        "float amount",
        lambda p: with_change(p, ("invoices", 0, "amount"), 1250.4),
        ["body", "invoices", 0, "amount"],
    ),
    (
        "due before issue",
        lambda p: with_change(p, ("invoices", 0, "due_date"), "2020-01-01"),
        ["body", "invoices", 0, "due_date"],
    ),
    (
        "issued in the future",
        lambda p: with_change(p, ("invoices", 0, "issue_date"), "2999-01-01"),
        ["body", "invoices", 0, "issue_date"],
    ),
    (
        "due decades ahead",
        lambda p: with_change(p, ("invoices", 0, "due_date"), "2999-01-01"),
        ["body", "invoices", 0, "due_date"],
    ),
    (
        "malformed date",
        lambda p: with_change(p, ("invoices", 0, "issue_date"), "2026-13-01"),
        ["body", "invoices", 0, "issue_date"],
    ),
    (
        "bad codice fiscale",
        lambda p: with_change(p, ("debtor", "tax_code"), "RSSMRA85T10A562X"),
        ["body", "debtor", "tax_code"],
    ),
    (
        "consumer without codice fiscale",
        lambda p: with_change(p, ("debtor", "tax_code"), DELETE),
        ["body", "debtor", "tax_code"],
    ),
    ("bad partita IVA", lambda p: _business(p, "12345678901"), ["body", "debtor", "vat_number"]),
    (
        "business without partita IVA",
        lambda p: _business(p, None),
        ["body", "debtor", "vat_number"],
    ),
    (
        "a business debt marked consumer credit (point 15: consumers only)",
        lambda p: with_change(_business(p, "00743110157"), ("consumer_credit",), True),
        ["body", "consumer_credit"],
    ),
    (
        "consumer with partita IVA",
        lambda p: with_change(p, ("debtor", "vat_number"), "00743110157"),
        ["body", "debtor", "vat_number"],
    ),
    (
        "bad e-mail",
        lambda p: with_change(p, ("debtor", "email"), "mario.rossi"),
        ["body", "debtor", "email"],
    ),
    ("bad phone", lambda p: with_change(p, ("debtor", "phone"), "12"), ["body", "debtor", "phone"]),
    ("bad PEC", lambda p: with_change(p, ("debtor", "pec"), "pec@"), ["body", "debtor", "pec"]),
    (
        "unknown province",
        lambda p: with_change(p, ("debtor", "address", "province"), "XX"),
        ["body", "debtor", "address", "province"],
    ),
    (
        "bad postal code",
        lambda p: with_change(p, ("debtor", "address", "postal_code"), "2012"),
        ["body", "debtor", "address", "postal_code"],
    ),
    ("no invoices", lambda p: with_change(p, ("invoices",), []), ["body", "invoices"]),
    ("duplicate invoice numbers", _two_invoices_same_number, ["body", "invoices", 1, "number"]),
    (
        "misspelt field",
        lambda p: with_change(p, ("invoices", 0, "ammount"), "1.00"),
        ["body", "invoices", 0, "ammount"],
    ),
    (
        "empty debtor name",
        lambda p: with_change(p, ("debtor", "name"), "  "),
        ["body", "debtor", "name"],
    ),
    ("no reference", lambda p: with_change(p, ("reference",), DELETE), ["body", "reference"]),
]


@pytest.fixture(scope="module")
async def tenant(api: Api) -> Tenant:
    return await new_creditor(api)


async def assert_nothing_written(api: Api, tenant: Tenant, reference: str, starts: int) -> None:
    assert await practice_rows(api, tenant.id, reference) == 0
    assert len(api.recorder.started) == starts, "a workflow start was attempted"


@pytest.mark.parametrize(
    ("change", "loc"), [(c, loc) for _, c, loc in BAD_INPUTS], ids=[n for n, _, _ in BAD_INPUTS]
)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    api: Api,
    tenant: Tenant,
    change: Callable[[Payload], Payload],
    loc: list[str | int],
) -> None:
    payload = practice_payload(tenant.id)
    bad = change(payload)
    starts = len(api.recorder.started)
    response = await api.http.post("/practices", headers=tenant.headers, json=bad)
    assert response.status_code == 422, response.text
    assert loc in error_locs(response), response.json()
    await assert_nothing_written(api, tenant, payload["reference"], starts)


async def test_hand_over_starts_the_workflow_without_personal_data(
    api: Api, tenant: Tenant
) -> None:
    payload = practice_payload(tenant.id, amounts=("1250.40", "99.60"))
    payload["invoices"][1]["number"] = "FT-2026-999"
    practice = await hand_over(api, tenant.headers, payload)

    assert practice["reference"] == payload["reference"]
    assert practice["status"] == "active"
    assert practice["phase"] == "pre_due"
    assert practice["claim"] == practice["balance"] == "1350.00"
    assert practice["paid"] == "0.00"
    assert [i["amount"] for i in practice["invoices"]] == ["1250.40", "99.60"]
    assert practice["debtor"]["name"] == "Mario Rossi"
    assert practice["debtor"]["phone"] == "+393331234567"
    assert practice["strategy"]["call_attempts"] == 1
    assert practice["workflow_id"] == f"practice-{practice['id']}"

    handle = api.temporal.get_workflow_handle(practice["workflow_id"])
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    assert description.task_queue == api.settings.task_queue
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    sent = b"".join(p.data for p in started.input.payloads)
    assert practice["id"].encode() in sent
    for personal in (
        b"Mario",
        b"Rossi",
        b"RSSMRA85T10A562S",
        b"example.it",
        b"3331234567",
        b"Via Roma",
    ):
        assert personal not in sent, personal

    # the workflow records its first event through the real activities
    async def handed_over() -> bool:
        events = await api.http.get(f"/practices/{practice['id']}/events", headers=tenant.headers)
        return any(e["kind"] == "handed_over" for e in events.json())

    from tests.api.helpers import eventually

    await eventually(handed_over, "the handed_over event")


async def test_overdue_invoices_start_out_of_court(api: Api, tenant: Tenant) -> None:
    payload = practice_payload(tenant.id, due_in_days=-40)
    practice = await hand_over(api, api.admin, payload)
    assert practice["phase"] == "out_of_court"
    # withdraw it at once: this test only looks at the phase
    done = await api.http.post(
        f"/practices/{practice['id']}/withdrawal", headers=tenant.headers, json={"reason": "test"}
    )
    assert done.status_code == 200, done.text


async def test_due_today_is_still_pre_due(api: Api, tenant: Tenant) -> None:
    payload = practice_payload(tenant.id, due_in_days=0)
    assert payload["invoices"][0]["due_date"] == rome_today().isoformat()
    practice = await hand_over(api, tenant.headers, payload)
    assert practice["phase"] == "pre_due"


async def test_duplicate_reference_is_409_for_the_same_creditor_only(
    api: Api, tenant: Tenant
) -> None:
    payload = practice_payload(tenant.id)
    await hand_over(api, tenant.headers, payload)
    starts = len(api.recorder.started)
    again = await api.http.post("/practices", headers=tenant.headers, json=payload)
    assert again.status_code == 409, again.text
    assert "reference" in again.json()["detail"]
    assert await practice_rows(api, tenant.id, payload["reference"]) == 1
    assert len(api.recorder.started) == starts

    other = await new_creditor(api)
    elsewhere = await hand_over(api, other.headers, {**payload, "creditor_id": other.id})
    assert elsewhere["reference"] == payload["reference"]


async def test_unknown_creditor_is_404(api: Api) -> None:
    payload = practice_payload("0" * 32)
    starts = len(api.recorder.started)
    response = await api.http.post("/practices", headers=api.admin, json=payload)
    assert response.status_code == 404, response.text
    assert len(api.recorder.started) == starts


async def test_creditor_cannot_hand_over_for_another(api: Api, tenant: Tenant) -> None:
    other = await new_creditor(api)
    payload = practice_payload(other.id)
    starts = len(api.recorder.started)
    response = await api.http.post("/practices", headers=tenant.headers, json=payload)
    assert response.status_code == 403, response.text
    await assert_nothing_written(api, other, payload["reference"], starts)


async def test_failed_workflow_start_keeps_nothing(api: Api, tenant: Tenant) -> None:
    payload = practice_payload(tenant.id)
    api.recorder.fail_next = RPCError("injected", RPCStatusCode.UNAVAILABLE, b"")
    response = await api.http.post("/practices", headers=tenant.headers, json=payload)
    assert response.status_code == 503, response.text
    assert await practice_rows(api, tenant.id, payload["reference"]) == 0
    # the reference is free again: a retry succeeds
    await hand_over(api, tenant.headers, payload)


async def test_failed_commit_starts_no_workflow(
    api: Api, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = practice_payload(tenant.id)
    real_commit = AsyncSession.commit

    async def failing_commit(self: AsyncSession) -> None:
        # only the hand-over's own session fails; the worker's sessions commit normally
        if any(
            isinstance(o, Practice) and o.reference == payload["reference"]
            for o in [*self.identity_map.values(), *self.new]
        ):
            raise OSError("disk full (injected)")
        await real_commit(self)

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    starts = len(api.recorder.started)
    response = await api.http.post("/practices", headers=tenant.headers, json=payload)
    monkeypatch.undo()

    assert response.status_code == 503, response.text
    assert await practice_rows(api, tenant.id, payload["reference"]) == 0
    assert len(api.recorder.started) == starts
    # nothing was kept: the same hand-over goes through afterwards
    await hand_over(api, tenant.headers, payload)


async def test_a_row_left_without_its_workflow_is_started_once(api: Api, tenant: Tenant) -> None:
    """An API killed between committing a practice and starting its workflow: the stranded-row
    sweep starts the workflow from the row, and later sweeps (of any API process) start nothing
    more."""
    from api.handover import StrandedSweeper
    from api.routers.practices import new_practice
    from api.schemas import PracticeCreate
    from db.models import new_id, utcnow
    from domain.strategy import Strategy

    # the database is shared with the other tests: this sweep looks at this test's rows only
    since = utcnow()
    payload = practice_payload(tenant.id, due_in_days=-30)
    practice, _ = new_practice(
        PracticeCreate.model_validate(payload), tenant.id, Strategy(), new_id()
    )
    async with api.db.session() as session:
        session.add(practice)
        await session.commit()

    sweeper = StrandedSweeper(api.db, api.temporal, api.settings)
    # a row this fresh may still be in the hands of its hand-over
    assert await sweeper.sweep(timedelta(minutes=1), since) == 0
    assert await sweeper.sweep(timedelta(0), since) == 1
    handle = api.temporal.get_workflow_handle(practice.workflow_id)
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING

    async def recorded() -> bool:
        shown = await api.http.get(f"/practices/{practice.id}", headers=tenant.headers)
        events = await api.http.get(f"/practices/{practice.id}/events", headers=tenant.headers)
        return shown.json()["phase"] == "out_of_court" and any(
            e["kind"] == "handed_over" for e in events.json()
        )

    from tests.api.helpers import eventually

    await eventually(recorded, "the started workflow's first record")
    assert await sweeper.sweep(timedelta(0), since) == 0
    # another process's sweeper, which never saw it, finds it recorded (or running) too
    assert await StrandedSweeper(api.db, api.temporal, api.settings).sweep(timedelta(0), since) == 0
    history = [e async for e in handle.fetch_history_events()]
    assert sum(1 for e in history if e.HasField("workflow_execution_started_event_attributes")) == 1
    await handle.terminate(reason="test done")


async def test_the_hand_over_gives_the_workflow_the_reminders_spread() -> None:
    """The pre-due reminders' spread reaches the workflow in its input, from the settings of
    whoever starts it (a hand-over, the stranded-row sweep): the workflow cannot read them."""
    from typing import cast

    from temporalio.client import Client

    from api.handover import start_practice_workflow
    from domain.practice import Channels, DebtorKind, PracticeInput
    from domain.strategy import Strategy
    from tests.factories import make_settings

    class Starts:
        def __init__(self) -> None:
            self.inputs: list[PracticeInput] = []

        async def start_workflow(self, name: str, arg: PracticeInput, **_: Any) -> None:
            self.inputs.append(arg)

    built = PracticeInput(
        practice_id="p-1",
        creditor_id="c-1",
        debtor_kind=DebtorKind.CONSUMER,
        province="MI",
        invoices=[],
        strategy=Strategy(),
        channels=Channels(),
    )
    assert built.reminder_spread_minutes == 0  # an input from before the spread: none
    client = Starts()
    settings = make_settings(contact_spread_minutes=45)
    assert await start_practice_workflow(cast(Client, client), settings, "practice-p-1", built)
    assert [i.reminder_spread_minutes for i in client.inputs] == [45]
    assert client.inputs[0].practice_id == "p-1" and built.reminder_spread_minutes == 0
