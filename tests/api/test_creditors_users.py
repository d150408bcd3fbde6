"""Creditors, their strategy, and users."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import Api, error_locs, fast_strategy, new_creditor, vat_number


def creditor_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Ferramenta Bianchi S.p.A.",
        "vat_number": vat_number(),
        "iban": "IT60X0542811101000000123456",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"vat_number": "12345678901"}, ["body", "vat_number"]),
        ({"iban": "IT60X0542811101000000123457"}, ["body", "iban"]),
        ({"email": "amministrazione"}, ["body", "email"]),
        ({"name": ""}, ["body", "name"]),
    ],
    ids=["vat", "iban", "email", "name"],
)
async def test_creditor_bad_input(api: Api, overrides: dict[str, Any], loc: list[str]) -> None:
    before = (await api.http.get("/creditors", headers=api.admin)).json()
    response = await api.http.post("/creditors", headers=api.admin, json=creditor_body(**overrides))
    assert response.status_code == 422, response.text
    assert loc in error_locs(response)
    assert (await api.http.get("/creditors", headers=api.admin)).json() == before


async def test_creditor_created_normalised_and_unique_by_vat(api: Api) -> None:
    vat = vat_number()
    response = await api.http.post(
        "/creditors", headers=api.admin, json=creditor_body(vat_number=f"IT{vat}")
    )
    assert response.status_code == 201, response.text
    assert response.json()["vat_number"] == vat
    again = await api.http.post("/creditors", headers=api.admin, json=creditor_body(vat_number=vat))
    assert again.status_code == 409


async def test_strategy_defaults_then_saved(api: Api) -> None:
    created = await api.http.post("/creditors", headers=api.admin, json=creditor_body())
    creditor_id = created.json()["id"]
    default = (await api.http.get(f"/creditors/{creditor_id}/strategy", headers=api.admin)).json()
    assert default["demand_term"] == "P15D"
    assert [s["step"] for s in default["steps"]][0] == "pre_due_reminders"
    assert default["steps"][2] == {"step": "reminder_letter", "enabled": True, "wait_after": "P15D"}

    # a partial step list: the rest keeps its defaults, everything comes back in order
    body = {
        "steps": [{"step": "home_visit", "enabled": False}],
        "letter_texts": {"reminder_letter": "Gentile {{ debtor_name }}, il saldo risulta aperto."},
    }
    saved = await api.http.put(f"/creditors/{creditor_id}/strategy", headers=api.admin, json=body)
    assert saved.status_code == 200, saved.text
    steps = {s["step"]: s for s in saved.json()["steps"]}
    assert len(steps) == 11
    assert steps["home_visit"] == {"step": "home_visit", "enabled": False, "wait_after": "P7D"}
    got = (await api.http.get(f"/creditors/{creditor_id}/strategy", headers=api.admin)).json()
    assert got == saved.json()


@pytest.mark.parametrize(
    ("strategy", "loc"),
    [
        (
            fast_strategy(steps=[{"step": "phone_phase", "wait_after": "7 days"}]),
            ["body", "steps", 0, "wait_after"],
        ),
        (
            fast_strategy(
                steps=[{"step": "phone_phase"}, {"step": "second_letter", "wait_after": "P1M"}]
            ),
            ["body", "steps", 1, "wait_after"],
        ),
        (
            fast_strategy(steps=[{"step": "authorization", "enabled": False}]),
            ["body", "steps", 0, "enabled"],
        ),
        (fast_strategy(steps=[{"step": "court"}]), ["body", "steps", 0, "step"]),
        (
            fast_strategy(steps=[{"step": "phone_phase"}, {"step": "phone_phase"}]),
            ["body", "steps", 1, "step"],
        ),
        (fast_strategy(call_attempts=0), ["body", "call_attempts"]),
        (fast_strategy(opinion_reminders=-1), ["body", "opinion_reminders"]),
        (fast_strategy(opinion_reminders=21), ["body", "opinion_reminders"]),
        (fast_strategy(trace_timeout="soon"), ["body", "trace_timeout"]),
        (fast_strategy(call_retry_interval="PT0S"), ["body", "call_retry_interval"]),
        (fast_strategy(demand_term="P400D"), ["body", "demand_term"]),
        (fast_strategy(letter_texts={"postcard": "Ciao"}), ["body", "letter_texts", "postcard"]),
        (
            fast_strategy(letter_texts={"second_letter": "Gentile {{ nome "}),
            ["body", "letter_texts", "second_letter"],
        ),
        (
            fast_strategy(letter_texts={"formal_demand": "{% for x in y %}"}),
            ["body", "letter_texts", "formal_demand"],
        ),
    ],
    ids=[
        "duration",
        "months",
        "authorization-off",
        "unknown-step",
        "step-twice",
        "attempts",
        "opinion-reminders-negative",
        "opinion-reminders-too-many",
        "timeout",
        "zero-interval",
        "term",
        "letter-kind",
        "template-syntax",
        "template-block",
    ],
)
async def test_bad_strategy_is_422_naming_the_field(
    api: Api, strategy: dict[str, Any], loc: list[str | int]
) -> None:
    tenant = await new_creditor(api)
    before = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    response = await api.http.put(
        f"/creditors/{tenant.id}/strategy", headers=api.admin, json=strategy
    )
    assert response.status_code == 422, response.text
    assert loc in error_locs(response), response.json()
    after = (await api.http.get(f"/creditors/{tenant.id}/strategy", headers=api.admin)).json()
    assert after == before


async def test_creditor_sees_only_its_own_creditor(api: Api) -> None:
    a, b = await new_creditor(api), await new_creditor(api)
    assert (await api.http.get(f"/creditors/{a.id}", headers=a.headers)).status_code == 200
    assert (await api.http.get(f"/creditors/{a.id}", headers=b.headers)).status_code == 403
    assert (await api.http.get(f"/creditors/{a.id}/strategy", headers=b.headers)).status_code == 403
    assert (
        await api.http.put(f"/creditors/{a.id}/strategy", headers=b.headers, json={})
    ).status_code == 403
    # the strategy is the agency's to edit (its admin, as in the console): a creditor reads its
    # own and steers its practices by its decisions, it does not rewrite how they are worked
    own = (await api.http.get(f"/creditors/{a.id}/strategy", headers=a.headers)).json()
    edited = await api.http.put(f"/creditors/{a.id}/strategy", headers=a.headers, json=own)
    assert edited.status_code == 403, edited.text
    assert (await api.http.get("/creditors/unknown", headers=api.admin)).status_code == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"role": "creditor"}, ["body", "creditor_id"]),
        ({"role": "operator", "creditor_id": "x"}, ["body", "creditor_id"]),
        ({"role": "field_agent"}, ["body", "provinces"]),
        ({"role": "field_agent", "provinces": ["MI", "ZZ"]}, ["body", "provinces", 1]),
        ({"role": "lawyer", "provinces": ["MI"]}, ["body", "provinces"]),
        ({"role": "boss"}, ["body", "role"]),
        ({"role": "operator", "email": "x@"}, ["body", "email"]),
        ({"role": "creditor", "creditor_id": "f" * 32}, ["body", "creditor_id"]),
    ],
    ids=[
        "creditor-needs-id",
        "id-only-for-creditors",
        "agent-needs-provinces",
        "bad-province",
        "provinces-only-for-agents",
        "role",
        "email",
        "unknown-creditor",
    ],
)
async def test_bad_user_is_422(api: Api, body: dict[str, Any], loc: list[str | int]) -> None:
    before = len((await api.http.get("/users", headers=api.admin)).json())
    response = await api.http.post("/users", headers=api.admin, json={"name": "Anna", **body})
    assert response.status_code == 422, response.text
    assert loc in error_locs(response), response.json()
    assert len((await api.http.get("/users", headers=api.admin)).json()) == before


async def test_user_key_shown_once_and_works(api: Api) -> None:
    response = await api.http.post(
        "/users",
        headers=api.admin,
        json={"role": "field_agent", "name": "Luca Verdi", "provinces": ["mb", "MI", "MI"]},
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["key"].startswith("rk_") and len(user["key"]) > 40
    assert user["provinces"] == ["MB", "MI"]
    headers = {"Authorization": f"Bearer {user['key']}"}
    assert (await api.http.get("/worklists/visits", headers=headers)).status_code == 200
    listed = (await api.http.get("/users?role=field_agent", headers=api.admin)).json()
    assert any(u["id"] == user["id"] and "key" not in u for u in listed)


async def test_a_strategy_change_keeps_versions(api: Api) -> None:
    """Point 10: each PUT is a new version with who saved it; a practice records the version
    it runs, and keeps it after the creditor changes the strategy again."""
    from tests.api.helpers import hand_over, new_creditor, new_user, practice_payload

    tenant = await new_creditor(api)  # saved once by the admin: version 1
    versions = f"/creditors/{tenant.id}/strategy/versions"
    # saved by a named admin (the strategy is the agency's to edit): its id on the version
    editor_id, editor = await new_user(api, "admin")
    second = await api.http.put(
        f"/creditors/{tenant.id}/strategy",
        headers=editor,
        json=fast_strategy(allocation="costs_interest_principal"),
    )
    assert second.status_code == 200, second.text
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id))
    assert practice["strategy_version"] == 2
    third = await api.http.put(
        f"/creditors/{tenant.id}/strategy", headers=api.admin, json=fast_strategy()
    )
    assert third.status_code == 200, third.text
    listed = await api.http.get(versions, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [(v["version"], v["current"]) for v in body] == [(1, False), (2, False), (3, True)]
    assert [v["saved_by"] for v in body] == [
        {"id": "admin", "role": "admin"},
        {"id": editor_id, "role": "admin"},
        {"id": "admin", "role": "admin"},
    ]
    assert body[1]["strategy"]["allocation"] == "costs_interest_principal"
    assert body[2]["strategy"]["allocation"] == "law"
    view = (await api.http.get(f"/practices/{practice['id']}", headers=api.admin)).json()
    assert view["strategy_version"] == 2  # the version it runs, not the creditor's newest
    other = await new_creditor(api)
    refused = await api.http.get(versions, headers=other.headers)
    assert refused.status_code == 403
