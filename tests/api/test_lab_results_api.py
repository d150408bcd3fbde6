"""An experiment's results through the API (JSON and CSV), who may read them, the contacts'
unit costs, and the promotion of a challenger: a 90/10 experiment read and promoted as the
README's walkthrough does it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import update

from api.services.lab_results import CSV_COLUMNS
from db.models import Event, ExperimentRow, Practice
from domain.calendar import ROME
from tests.api.helpers import (
    Api,
    error_locs,
    fast_strategy,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
)


async def _experiment(api: Api) -> tuple[Any, str, list[dict[str, Any]]]:
    """A creditor with a "firm" challenger at 10 % of its default segment, two practices
    handed over in it, the experiment's start moved 40 days back with them."""
    tenant = await new_creditor(api)
    base = f"/creditors/{tenant.id}"
    saved = await api.http.put(f"{base}/strategies/firm", headers=api.admin, json=fast_strategy())
    assert saved.status_code == 200, saved.text
    created = await api.http.post(
        f"{base}/experiments",
        headers=api.admin,
        json={
            "segment": "default",
            "champion": {"strategy": "default", "share": 90},
            "challengers": [{"strategy": "firm", "share": 10}],
            "start": rome_today().isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    experiment_id = created.json()["id"]
    practices = [
        await hand_over(api, tenant.headers, practice_payload(tenant.id)) for _ in range(2)
    ]
    back = rome_today() - timedelta(days=40)
    async with api.db.session() as session, session.begin():
        await session.execute(
            update(ExperimentRow).where(ExperimentRow.id == experiment_id).values(starts_on=back)
        )
        await session.execute(
            update(Practice)
            .where(Practice.experiment_id == experiment_id)
            .values(created_at=datetime.combine(back, time(10), tzinfo=ROME))
        )
        # the first practice's debtor paid 100 € ten days after the hand-over
        session.add(
            Event(
                practice_id=practices[0]["id"],
                seq=10_000,
                at=datetime.combine(back + timedelta(days=10), time(10), tzinfo=ROME),
                kind="payment",
                summary="",
                data={
                    "amount_cents": 10_000,
                    "paid_on": (back + timedelta(days=10)).isoformat(),
                    "reference": "CRO-1",
                },
            )
        )
    return tenant, experiment_id, practices


async def test_results_json_csv_and_who_reads_them(api: Api) -> None:
    tenant, experiment_id, practices = await _experiment(api)
    other = await new_creditor(api)
    _, operator = await new_user(api, "operator")
    url = f"/creditors/{tenant.id}/experiments/{experiment_id}/results"

    costs = {"letter": 250, "sms": 8, "email": 1, "call": 150}
    assert (
        await api.http.put("/settings/contact-costs", headers=tenant.headers, json=costs)
    ).status_code == 403
    put = await api.http.put("/settings/contact-costs", headers=api.admin, json=costs)
    assert put.status_code == 200 and put.json() == costs
    bad = await api.http.put("/settings/contact-costs", headers=api.admin, json=costs | {"sms": -1})
    assert bad.status_code == 422 and ["body", "sms"] in error_locs(bad)
    got = await api.http.get("/settings/contact-costs", headers=api.admin)
    assert got.json() == costs

    response = await api.http.get(url, headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["experiment_id"] == experiment_id and body["unit_costs"] == costs
    arms = {a["arm"]: a for a in body["arms"]}
    assert sum(a["practices"] for a in arms.values()) == 2
    assert [a["strategy"] for a in body["arms"]] == ["default", "firm"]
    paid_arm = next(
        a for a in body["arms"] if a["recovered"] == "100.00"
    )  # whichever arm the hash gave the first practice
    horizon30 = next(h for h in paid_arm["liquidation"] if h["days"] == 30)
    assert horizon30["recovered"] == "100.00" and horizon30["mature"] is True
    assert [h["days"] for h in paid_arm["liquidation"]] == [30, 60, 90, 180]
    # 2 practices, 40 days old: too few, and no 60/90/180-day figure yet
    assert body["too_early"] == ["sample_size", "days_60", "days_90", "days_180"]
    assert arms["champion"]["needed"] > arms["challenger-1"]["needed"] > 0
    assert body["effect_points"] == 5 and body["alpha"] == 0.05 and body["power"] == 0.8
    bigger = (await api.http.get(url, headers=api.admin, params={"effect": 20})).json()
    assert bigger["arms"][1]["needed"] < body["arms"][1]["needed"]
    refused = await api.http.get(url, headers=api.admin, params={"effect": 0})
    assert refused.status_code == 422 and ["query", "effect"] in error_locs(refused)

    exported = await api.http.get(f"{url}.csv", headers=tenant.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == CSV_COLUMNS
    assert [r[0] for r in rows[1:]] == ["champion", "challenger-1"]
    assert sorted(r[5] for r in rows[1:]) == ["0.00", "100.00"]

    for headers, status in ((other.headers, 403), (operator, 403)):
        assert (await api.http.get(url, headers=headers)).status_code == status
        assert (await api.http.get(f"{url}.csv", headers=headers)).status_code == status
    missing = f"/creditors/{tenant.id}/experiments/nope/results"
    assert (await api.http.get(missing, headers=api.admin)).status_code == 404
    assert practices


async def test_promote_the_challenger(api: Api) -> None:
    tenant, experiment_id, practices = await _experiment(api)
    url = f"/creditors/{tenant.id}/experiments/{experiment_id}/promote"
    denied = await api.http.post(url, headers=tenant.headers, json={"arm": "challenger-1"})
    assert denied.status_code == 403
    wrong = await api.http.post(url, headers=api.admin, json={"arm": "champion"})
    assert wrong.status_code == 422 and ["body", "arm"] in error_locs(wrong)
    promoted = await api.http.post(url, headers=api.admin, json={"arm": "challenger-1"})
    assert promoted.status_code == 200, promoted.text
    body = promoted.json()
    assert body["experiment"]["running"] is False
    assert body["experiment"]["end"] == (rome_today() - timedelta(days=1)).isoformat()
    segments = (
        await api.http.get(f"/creditors/{tenant.id}/segments", headers=tenant.headers)
    ).json()
    assert segments["default_strategy"] == "firm"
    assert segments["version"] == body["segments_version"]
    # the next hand-over runs the promoted strategy, outside any experiment
    fresh = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    assert fresh["chosen_by"]["strategy_name"] == "firm"
    assert fresh["chosen_by"]["experiment_id"] is None
    # the practices in flight keep theirs
    for practice in practices:
        got = await api.http.get(f"/practices/{practice['id']}", headers=tenant.headers)
        assert got.json()["chosen_by"] == practice["chosen_by"]
