"""A practice's whole short path (hand-over, reminder letter, a call ending in a promise, the
payment that closes it) on the real worker, with every logger at DEBUG (except the ones the
product's logging config keeps quiet, api/observe/logs.py QUIET): no line names the debtor,
their tax code, e-mail, phone or street; the lines about the practice carry its id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from api.observe import logs
from tests.api.helpers import (
    Api,
    eventually,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)
from tests.api.test_full_path import (
    LETTERS,
    api,  # noqa: F401 (the module's own database and worker)
    documents,
    post_ok,
    practice_when,
    seconds_strategy,
    take,
)

DEADLINE = 60.0


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every logger at DEBUG, the product's quiet ones as the product sets them, all lines also
    written as the product writes them (JSON with the context's ids)."""
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    for name in levels:
        logging.getLogger(name).setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)
    logs.quiet_loggers()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.make_formatter("json"))
    handler.addFilter(logs.ContextIds())
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_a_full_path_logs_no_personal_data(
    api: Api,  # noqa: F811
    every_log: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tenant = await new_creditor(api, seconds_strategy())
    _, operator = await new_user(api, "operator")
    payload = practice_payload(tenant.id, due_in_days=-90, province="MI")
    practice = await hand_over(api, tenant.headers, payload)
    pid = practice["id"]

    async def letter() -> list[object]:
        return [d for d in await documents(api, pid, tenant.headers) if d["kind"] in LETTERS]

    await eventually(letter, "the reminder letter", seconds=DEADLINE)
    await take(api, "calls", operator, pid, "call outcome (attempt 1/2)")
    promised = (rome_today() + timedelta(days=5)).isoformat()
    await post_ok(
        api,
        f"/practices/{pid}/call-outcomes",
        operator,
        {"outcome": "promise", "promised_date": promised, "promised_amount": "1250.40"},
    )
    await post_ok(
        api,
        f"/practices/{pid}/payments",
        tenant.headers,
        {"amount": "1250.40", "paid_on": rome_today().isoformat(), "reference": "CRO-LOG"},
    )
    await practice_when(api, pid, api.admin, "closed as paid", status="closed")

    lines = [json.loads(line) for line in every_log.getvalue().splitlines() if line.strip()]
    assert lines, "nothing was logged: the capture is broken"
    # the product's lines, and caplog's (every record's message and arguments)
    text = every_log.getvalue() + "\n" + caplog.text
    debtor = payload["debtor"]
    personal = {
        "name": debtor["name"],
        "tax code": debtor["tax_code"],
        "e-mail": debtor["email"],
        "phone": debtor["phone"],
        "phone (national)": debtor["phone"].removeprefix("+39"),
        "street": debtor["address"]["street"],
    }
    for what, value in personal.items():
        leaks = [line for line in text.splitlines() if value.lower() in line.lower()]
        assert not leaks, f"the debtor's {what} is in the logs: {leaks[:3]}"
    # the lines about this practice say which one
    assert any(line.get("practice_id") == pid for line in lines)
    assert any(line.get("workflow_id") == f"practice-{pid}" for line in lines)
