"""The strategy lab through the API: named strategies, segment rules, experiments, and what a
hand-over records from them (the read model and the workflow's search attributes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.handover import EXPERIMENT, EXPERIMENT_ARM
from domain.experiments import Arm, Experiment, arm_label, assign
from tests.api.helpers import (
    Api,
    error_locs,
    fast_strategy,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
    unique_tax_code,
)


def steps_in(*names: str) -> list[dict[str, Any]]:
    return [{"step": n, "enabled": True, "wait_after": "PT1S"} for n in names]


async def test_named_strategies_have_their_own_versions(api: Api) -> None:
    tenant = await new_creditor(api)
    base = f"/creditors/{tenant.id}/strategies"
    listed = (await api.http.get(base, headers=tenant.headers)).json()
    assert [(s["name"], s["version"]) for s in listed] == [("default", 1)]

    # the seeds' agency: the formal demand before the phone phase
    body = fast_strategy(steps=steps_in("formal_demand", "phone_phase"))
    first = await api.http.put(f"{base}/gentle", headers=api.admin, json=body)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    order = [s["step"] for s in first.json()["strategy"]["steps"]]
    assert order.index("formal_demand") < order.index("phone_phase")
    second = await api.http.put(f"{base}/gentle", headers=api.admin, json=body)
    assert second.json()["version"] == 2

    listed = (await api.http.get(base, headers=tenant.headers)).json()
    assert [(s["name"], s["version"]) for s in listed] == [("default", 1), ("gentle", 2)]
    versions = (await api.http.get(f"{base}/gentle/versions", headers=tenant.headers)).json()
    assert [(v["version"], v["current"]) for v in versions] == [(1, False), (2, True)]
    # the default strategy's own endpoints see only the default
    default_versions = await api.http.get(
        f"/creditors/{tenant.id}/strategy/versions", headers=api.admin
    )
    assert [v["version"] for v in default_versions.json()] == [1]
    # PUT .../strategies/default is PUT .../strategy
    again = await api.http.put(f"{base}/default", headers=api.admin, json=fast_strategy())
    assert again.json()["version"] == 2
    got = await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)
    assert got.json() == again.json()["strategy"]
    assert (await api.http.get(f"{base}/nothing", headers=api.admin)).status_code == 404


async def test_the_law_s_order_is_a_422_on_steps(api: Api) -> None:
    tenant = await new_creditor(api)
    bad = fast_strategy(steps=steps_in("authorization", "legal_opinion"))
    for url in (f"/creditors/{tenant.id}/strategies/x", f"/creditors/{tenant.id}/strategy"):
        response = await api.http.put(url, headers=api.admin, json=bad)
        assert response.status_code == 422, response.text
        assert ["body", "steps"] in error_locs(response)
    listed = (await api.http.get(f"/creditors/{tenant.id}/strategies", headers=api.admin)).json()
    assert [s["name"] for s in listed] == ["default"]  # nothing half-written
    bad_name = await api.http.put(
        f"/creditors/{tenant.id}/strategies/Bad%20Name", headers=api.admin, json=fast_strategy()
    )
    assert bad_name.status_code == 422
    assert ["path", "name"] in error_locs(bad_name)


async def test_who_may_read_and_edit(api: Api) -> None:
    tenant, other = await new_creditor(api), await new_creditor(api)
    _, operator = await new_user(api, "operator")
    segments = {"rules": [], "default_strategy": "default"}
    for url in ("strategies", "segments", "experiments"):
        assert (
            await api.http.get(f"/creditors/{tenant.id}/{url}", headers=tenant.headers)
        ).status_code == 200
        assert (
            await api.http.get(f"/creditors/{other.id}/{url}", headers=tenant.headers)
        ).status_code == 403
        assert (
            await api.http.get(f"/creditors/{tenant.id}/{url}", headers=operator)
        ).status_code == 403
    edits = [
        ("put", f"/creditors/{tenant.id}/strategies/gentle", fast_strategy()),
        ("put", f"/creditors/{tenant.id}/segments", segments),
        (
            "post",
            f"/creditors/{tenant.id}/experiments",
            {
                "segment": "default",
                "champion": {"strategy": "default", "share": 90},
                "challengers": [{"strategy": "default", "share": 10}],
                "start": rome_today().isoformat(),
            },
        ),
    ]
    for method, url, body in edits:
        response = await api.http.request(method, url, headers=tenant.headers, json=body)
        assert response.status_code == 403, (url, response.text)


async def test_segments_choose_the_strategy_at_hand_over(api: Api) -> None:
    tenant = await new_creditor(api)
    base = f"/creditors/{tenant.id}"
    for name in ("big", "repeat"):
        saved = await api.http.put(
            f"{base}/strategies/{name}", headers=api.admin, json=fast_strategy()
        )
        assert saved.status_code == 200, saved.text
    rules = {
        "rules": [
            {"name": "large", "strategy": "big", "min_amount": "5000.00"},
            {"name": "known", "strategy": "repeat", "other_practices": True},
            {"name": "missing", "strategy": "nowhere"},
        ],
        "default_strategy": "default",
    }
    refused = await api.http.put(f"{base}/segments", headers=api.admin, json=rules)
    assert refused.status_code == 422
    assert ["body", "rules", 2, "strategy"] in error_locs(refused)
    assert (await api.http.get(f"{base}/segments", headers=api.admin)).json()["version"] == 0
    rules["rules"] = rules["rules"][:2]
    saved = await api.http.put(f"{base}/segments", headers=api.admin, json=rules)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    assert saved.json()["rules"][0]["min_amount"] == "5000.00"

    large = await hand_over(api, tenant.headers, practice_payload(tenant.id, amounts=("6000.00",)))
    assert large["chosen_by"] == {
        "strategy_name": "big",
        "segments_version": 1,
        "segment_rule": "large",
        "experiment_id": None,
        "experiment_arm": None,
    }
    assert large["strategy_version"] == 1
    tax_code = unique_tax_code()
    first = await hand_over(api, tenant.headers, practice_payload(tenant.id, tax_code=tax_code))
    assert first["chosen_by"]["segment_rule"] == "default"
    assert first["chosen_by"]["strategy_name"] == "default"
    second = await hand_over(api, tenant.headers, practice_payload(tenant.id, tax_code=tax_code))
    assert second["chosen_by"]["segment_rule"] == "known"
    # the practice's page shows it too
    got = await api.http.get(f"/practices/{second['id']}", headers=tenant.headers)
    assert got.json()["chosen_by"]["strategy_name"] == "repeat"

    # the batch chooses the same way
    batch = await api.http.post(
        "/practices/batch",
        headers=tenant.headers,
        json={"practices": [practice_payload(tenant.id, amounts=("7000.00",))]},
    )
    assert batch.status_code == 200, batch.text
    practice_id = batch.json()["practices"][0]["practice_id"]
    got = await api.http.get(f"/practices/{practice_id}", headers=tenant.headers)
    assert got.json()["chosen_by"]["segment_rule"] == "large"


async def test_an_experiment_assigns_arms_for_good(api: Api) -> None:
    tenant = await new_creditor(api)
    base = f"/creditors/{tenant.id}"
    await api.http.put(f"{base}/strategies/challenger", headers=api.admin, json=fast_strategy())
    await api.http.put(
        f"{base}/segments",
        headers=api.admin,
        json={"rules": [{"name": "milan", "strategy": "default", "provinces": ["MI"]}]},
    )
    today = rome_today()
    body: dict[str, Any] = {
        "segment": "milan",
        "champion": {"strategy": "default", "share": 50},
        "challengers": [{"strategy": "challenger", "share": 50}],
        "start": today.isoformat(),
    }
    for change, loc in (
        ({"segment": "rome"}, ["body", "segment"]),
        ({"challengers": [{"strategy": "challenger", "share": 40}]}, ["body", "challengers"]),
        (
            {"challengers": [{"strategy": "nope", "share": 50}]},
            ["body", "challengers", 0, "strategy"],
        ),
        ({"start": (today - timedelta(days=1)).isoformat()}, ["body", "start"]),
    ):
        refused = await api.http.post(f"{base}/experiments", headers=api.admin, json=body | change)
        assert refused.status_code == 422, refused.text
        assert loc in error_locs(refused)
    created = await api.http.post(f"{base}/experiments", headers=api.admin, json=body)
    assert created.status_code == 201, created.text
    experiment_id = created.json()["id"]
    assert created.json()["running"] is True
    assert [a["arm"] for a in created.json()["arms"]] == ["champion", "challenger-1"]
    overlapping = await api.http.post(
        f"{base}/experiments",
        headers=api.admin,
        json=body | {"start": (today + timedelta(days=3)).isoformat()},
    )
    assert overlapping.status_code == 409
    # the segment cannot go while the experiment runs in it
    dropped = await api.http.put(f"{base}/segments", headers=api.admin, json={"rules": []})
    assert dropped.status_code == 409

    experiment = Experiment(
        experiment_id, "milan", (Arm("default", 50), Arm("challenger", 50)), today
    )
    seen = set()
    for _ in range(6):
        practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
        arm = assign(experiment, practice["id"])
        chosen = practice["chosen_by"]
        assert chosen["experiment_id"] == experiment_id
        assert chosen["experiment_arm"] == arm_label(experiment, arm)
        assert chosen["strategy_name"] == arm.strategy
        seen.add(chosen["experiment_arm"])
        described = await api.temporal.get_workflow_handle(practice["workflow_id"]).describe()
        attributes = described.typed_search_attributes
        assert attributes.get(EXPERIMENT) == experiment_id
        assert attributes.get(EXPERIMENT_ARM) == chosen["experiment_arm"]
    # outside the segment: no experiment
    rome = await hand_over(api, tenant.headers, practice_payload(tenant.id, province="RM"))
    assert rome["chosen_by"]["experiment_id"] is None
    described = await api.temporal.get_workflow_handle(rome["workflow_id"]).describe()
    assert described.typed_search_attributes.get(EXPERIMENT_ARM) is None

    ended = await api.http.post(
        f"{base}/experiments/{experiment_id}/end",
        headers=api.admin,
        json={"end": today.isoformat()},
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["end"] == today.isoformat()
    past = await api.http.post(
        f"{base}/experiments/{experiment_id}/end",
        headers=api.admin,
        json={"end": (today - timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 422
    listed = (await api.http.get(f"{base}/experiments", headers=tenant.headers)).json()
    assert [e["id"] for e in listed] == [experiment_id]
    missing = await api.http.post(
        f"{base}/experiments/nope/end", headers=api.admin, json={"end": today.isoformat()}
    )
    assert missing.status_code == 404


async def test_a_stranded_row_starts_with_its_arm(api: Api) -> None:
    """The stranded-row sweep starts a practice in an experiment with the arm its row
    recorded: the arm never changes, whoever starts the workflow."""
    from api.handover import StrandedSweeper
    from api.routers.practices import new_practice
    from api.schemas import PracticeCreate
    from api.services.lab import Choice
    from db.models import new_id, utcnow
    from domain.strategy import Strategy

    tenant = await new_creditor(api)
    since = utcnow()
    choice = Choice(
        strategy_name="default",
        strategy=Strategy(),
        segments_version=0,
        segment_rule="default",
        experiment_id="exp-stranded",
        experiment_arm="challenger-1",
    )
    practice, _ = new_practice(
        PracticeCreate.model_validate(practice_payload(tenant.id)), tenant.id, choice, new_id()
    )
    async with api.db.session() as session:
        session.add(practice)
        await session.commit()
    sweeper = StrandedSweeper(api.db, api.temporal, api.settings)
    assert await sweeper.sweep(timedelta(0), since) == 1
    handle = api.temporal.get_workflow_handle(practice.workflow_id)
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(EXPERIMENT) == "exp-stranded"
    assert attributes.get(EXPERIMENT_ARM) == "challenger-1"
    await handle.terminate(reason="test done")
