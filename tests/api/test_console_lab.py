"""The admin's strategy lab page and the step order on the strategy page, in-process: the same
checks as the API (the messages next to the same fields), and what they save read back through
the API."""

from __future__ import annotations

from typing import Any

from domain.strategy import STEP_ORDER
from tests.api.helpers import Api, error_locs, new_creditor, rome_today
from tests.api.test_console_admin import CREDITORS, as_role, field_error, post_form, strategy_form
from tests.api.test_console_logins import csrf


async def test_the_strategy_page_moves_steps_and_keeps_the_law_s_order(api: Api) -> None:
    tenant = await new_creditor(api)
    await as_role(api, "admin")
    url = f"{CREDITORS}/{tenant.id}/strategy"
    page = await api.http.get(url)
    demand, phone = STEP_ORDER.index(STEP_ORDER[8]), STEP_ORDER.index(STEP_ORDER[3])
    assert STEP_ORDER[demand].value == "formal_demand" and STEP_ORDER[phone].value == "phone_phase"
    # the formal demand to the phone phase's place and back: they swap
    data = strategy_form(page, **{f"steps.{demand}.position": "4", f"steps.{phone}.position": "9"})
    saved = await api.http.post(url, data={"csrf_token": csrf(page), **data})
    assert saved.status_code == 303, saved.text[:2000]
    got = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    order = [s["step"] for s in got["steps"]]
    assert order.index("formal_demand") == 3 and order.index("phone_phase") == 8
    # the page shows the saved order
    page = await api.http.get(url)
    assert page.text.index('value="formal_demand"') < page.text.index('value="phone_phase"')

    # the authorisation first: the API's 422 on `steps`, shown above the steps
    last = len(STEP_ORDER) - 1
    data = strategy_form(page, **{f"steps.{last}.position": "0"})
    refused = await api.http.post(url, data={"csrf_token": csrf(page), **data})
    assert refused.status_code == 422
    body: dict[str, Any] = {**got, "steps": [got["steps"][last], *got["steps"][:last]]}
    answer = await api.http.put(f"/creditors/{tenant.id}/strategy", headers=api.admin, json=body)
    assert answer.status_code == 422
    assert ["body", "steps"] in error_locs(answer)
    assert field_error(refused, "steps") == answer.json()["detail"][0]["msg"]
    again = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    assert again == got  # nothing saved


async def test_the_lab_page_saves_what_the_api_saves(api: Api) -> None:
    tenant = await new_creditor(api)
    await as_role(api, "admin")
    lab = f"{CREDITORS}/{tenant.id}/lab"
    page = await api.http.get(lab)
    assert page.status_code == 200, page.text[:2000]

    # a named strategy, a copy of the default
    bad = await post_form(
        api, lab, f"{lab}/strategies", {"name": "Bad Name", "copy_from": "default"}
    )
    assert bad.status_code == 422
    answer = await api.http.put(
        f"/creditors/{tenant.id}/strategies/Bad%20Name",
        headers=api.admin,
        json=(await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json(),
    )
    assert field_error(bad, "strategy_name") == answer.json()["detail"][0]["msg"]
    made = await post_form(
        api, lab, f"{lab}/strategies", {"name": "gentle", "copy_from": "default"}
    )
    assert made.status_code == 303, made.text[:2000]
    names = [
        s["name"]
        for s in (
            await api.http.get(f"/creditors/{tenant.id}/strategies", headers=api.admin)
        ).json()
    ]
    assert names == ["default", "gentle"]

    # segment rules: an unknown province is the API's 422 next to the row's input
    rule = {
        "rules.0.position": "1",
        "rules.0.name": "north",
        "rules.0.strategy": "gentle",
        "rules.0.min_amount": "1.000,00",
        "rules.0.max_amount": "",
        "rules.0.min_age_days": "",
        "rules.0.max_age_days": "90",
        "rules.0.debtor_kinds": "consumer",
        "rules.0.regions": "lombardia, piemonte",
        "rules.0.provinces": "XX",
        "rules.0.other_practices": "no",
        "rules.0.contacts.phone": "on",
        "rules.1.position": "2",
        "rules.1.name": "",
        "default_strategy": "default",
    }
    refused = await post_form(api, lab, f"{lab}/segments", rule)
    assert refused.status_code == 422
    answer = await api.http.put(
        f"/creditors/{tenant.id}/segments",
        headers=api.admin,
        json={"rules": [{"name": "north", "strategy": "gentle", "provinces": ["XX"]}]},
    )
    assert field_error(refused, "rules-0-provinces") == answer.json()["detail"][0]["msg"]
    saved = await post_form(api, lab, f"{lab}/segments", rule | {"rules.0.provinces": "to"})
    assert saved.status_code == 303, saved.text[:3000]
    segments = (await api.http.get(f"/creditors/{tenant.id}/segments", headers=api.admin)).json()
    assert segments["version"] == 1
    assert segments["rules"] == [
        {
            "name": "north",
            "strategy": "gentle",
            "min_amount": "1000.00",
            "max_amount": None,
            "min_age_days": None,
            "max_age_days": 90,
            "debtor_kinds": ["consumer"],
            "regions": ["lombardia", "piemonte"],
            "provinces": ["TO"],
            "other_practices": False,
            "contacts": ["phone"],
        }
    ]
    # the page shows the rule again, ready to edit
    page = await api.http.get(lab)
    assert 'value="north"' in page.text and 'value="lombardia, piemonte"' in page.text

    # an experiment: shares not summing to 100 are refused next to the challenger's share
    today = rome_today().isoformat()
    experiment = {
        "segment": "north",
        "champion": "gentle",
        "champion_share": "90",
        "challenger": "default",
        "challenger_share": "20",
        "start": today,
        "end": "",
    }
    refused = await post_form(api, lab, f"{lab}/experiments", experiment)
    assert refused.status_code == 422
    answer = await api.http.post(
        f"/creditors/{tenant.id}/experiments",
        headers=api.admin,
        json={
            "segment": "north",
            "champion": {"strategy": "gentle", "share": 90},
            "challengers": [{"strategy": "default", "share": 20}],
            "start": today,
        },
    )
    assert field_error(refused, "challenger_share") == answer.json()["detail"][0]["msg"]
    started = await post_form(
        api, lab, f"{lab}/experiments", experiment | {"challenger_share": "10"}
    )
    assert started.status_code == 303, started.text[:3000]
    listed = (await api.http.get(f"/creditors/{tenant.id}/experiments", headers=api.admin)).json()
    assert [(a["strategy"], a["share"]) for a in listed[0]["arms"]] == [
        ("gentle", 90),
        ("default", 10),
    ]
    experiment_id = listed[0]["id"]
    # the same experiment again overlaps: the API's 409, in the page's alert
    overlapping = await post_form(
        api, lab, f"{lab}/experiments", experiment | {"challenger_share": "10"}
    )
    assert overlapping.status_code == 409
    ended = await post_form(api, lab, f"{lab}/experiments/{experiment_id}/end", {"end": today})
    assert ended.status_code == 303
    listed = (await api.http.get(f"/creditors/{tenant.id}/experiments", headers=api.admin)).json()
    assert listed[0]["end"] == today


async def test_only_the_admin_opens_the_lab(api: Api) -> None:
    tenant = await new_creditor(api)
    for role, extra in (("creditor", {"creditor_id": tenant.id}), ("operator", {})):
        await as_role(api, role, **extra)
        page = await api.http.get(f"{CREDITORS}/{tenant.id}/lab")
        assert page.status_code == 403


async def test_a_named_strategy_is_edited_on_its_own_page(api: Api) -> None:
    tenant = await new_creditor(api)
    await as_role(api, "admin")
    lab = f"{CREDITORS}/{tenant.id}/lab"
    made = await post_form(
        api, lab, f"{lab}/strategies", {"name": "gentle", "copy_from": "default"}
    )
    assert made.status_code == 303
    page = await api.http.get(lab)
    assert f'href="{CREDITORS}/{tenant.id}/strategies/gentle"' in page.text
    url = f"{CREDITORS}/{tenant.id}/strategies/gentle"
    page = await api.http.get(url)
    assert page.status_code == 200
    assert f'action="{url}"' in page.text
    demand, phone = 8, 3
    data = strategy_form(page, **{f"steps.{demand}.position": "4", f"steps.{phone}.position": "9"})
    saved = await api.http.post(url, data={"csrf_token": csrf(page), **data})
    assert saved.status_code == 303, saved.text[:2000]
    assert saved.headers["location"] == url + "?saved=1"
    got = (
        await api.http.get(f"/creditors/{tenant.id}/strategies/gentle", headers=api.admin)
    ).json()
    assert got["version"] == 2
    order = [s["step"] for s in got["strategy"]["steps"]]
    assert order.index("formal_demand") < order.index("phone_phase")
    # the default strategy is untouched
    default = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    assert [s["step"] for s in default["steps"]] == [s.value for s in STEP_ORDER]
    # a name never saved has no page
    assert (await api.http.get(f"{CREDITORS}/{tenant.id}/strategies/nothing")).status_code == 404
