"""One set of rules (issue 12): every console action is refused exactly when the API refuses
the same action, and with the same kind of refusal.

Every unsafe route under /console is either in PARITY (with the API call it stands for and the
probes that post both) or in CONSOLE_ONLY (with the reason it has no API counterpart): a new
console action without an entry fails `test_every_console_action_has_an_entry`.

Each probe is sent by every role, and for the practice's actions in each tenant case (its own
creditor and another; the lawyer and the field agent it is assigned to, and others): once as a
console form (the person's session cookie and CSRF token) and once to the API (the API key of
the same user). The outcomes compare by kind: accepted (2xx, or the console's 303), or the
refusal's status: 403 and 404 (the console's refusal page), 409 and 422 (the console's form
shown again with the message).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from markupsafe import escape
from sqlalchemy import update

from api.console.i18n import refusal_text
from api.console.routes_admin_creditors import DURATION_INPUTS, OTHER
from api.console.routes_lawyer import STEPS
from api.schemas import StrategyModel
from db.models import Practice, Task
from domain.strategy import STEP_ORDER
from tests.api.helpers import (
    Api,
    Headers,
    assign_directly,
    bearer,
    fast_strategy,
    hand_over,
    new_creditor,
    practice_payload,
    rome_today,
)
from tests.api.test_console_logins import csrf, person

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Actor:
    """A user with both ways in: a console session (its own client) and an API key."""

    name: str
    role: str
    user_id: str
    console: httpx.AsyncClient
    token: str
    key: Headers


@dataclass(frozen=True)
class Targets:
    """What the probes act on: a quiet practice of creditor A (pre-due: no call, visit,
    opinion or authorisation awaited), with its lawyer and field agent assigned."""

    practice_id: str
    creditor_id: str
    user_id: str
    strategy: dict[str, Any]
    assigned: dict[str, str]
    call_id: str  # an open call on the practice (the operator's proposal and contacts forms)


Form = Callable[[Targets], dict[str, str]]
Body = Callable[[Targets], Any]


@dataclass(frozen=True)
class Probe:
    name: str
    console_url: str  # formatted with the Targets' fields
    form: Form
    api_method: str
    api_url: str
    body: Body
    # roles the API accepts for the action but the console's screen is not theirs (a 403
    # page there), with the reason: kept explicit, and checked to stay exactly that
    screen_only: tuple[frozenset[str], str] | None = None
    # a refusal of the same kind whose message is the console's own, with the reason
    same_message: tuple[bool, str] = (True, "")


def _fixed(value: Any) -> Callable[[Targets], Any]:
    return lambda _t: value


def _payment_form(_t: Targets) -> dict[str, str]:
    return {
        "amount": "1.00",
        "paid_on": rome_today().isoformat(),
        "reference": "CRO " + secrets.token_hex(6),
    }


def _payment_body(_t: Targets) -> dict[str, str]:
    return {
        "amount": "1.00",
        "paid_on": rome_today().isoformat(),
        "reference": "CRO " + secrets.token_hex(6),
    }


def _strategy_form(t: Targets) -> dict[str, str]:
    """The strategy page's form for the creditor's current strategy, as the page fills it."""
    data = t.strategy
    form: dict[str, str] = {}
    for i, step in enumerate(data["steps"]):
        if step["enabled"]:
            form[f"steps.{i}.enabled"] = "on"
        form[f"steps.{i}.wait_after"] = step["wait_after"]
    for name in DURATION_INPUTS:
        form[name] = data[name]
    form["call_attempts"] = str(data["call_attempts"])
    form["allocation"] = data["allocation"]
    if data["claim_interest"]:
        form["claim_interest"] = "on"
    shown = {"steps", "call_attempts", "allocation", "claim_interest", *DURATION_INPUTS}
    form[OTHER] = json.dumps({k: v for k, v in data.items() if k not in shown})
    return form


P = "/practices/{practice_id}"
C = "/console"
STEP_BODIES: dict[str, dict[str, str]] = {
    # a complete filing (the workflow refuses it: the practice is not on the judicial path);
    # the other steps empty (the request model's 422 first)
    "filing": {"filed_on": rome_today().isoformat(), "court": "Tribunale di Milano"},
}

PARITY: dict[str, list[Probe]] = {
    f"{C}/practices/{{practice_id}}/payments": [
        Probe("payment", f"{C}{P}/payments", _payment_form, "POST", f"{P}/payments", _payment_body),
        Probe(
            "payment-bad-amount",
            f"{C}{P}/payments",
            _fixed({"amount": "dieci", "paid_on": rome_today().isoformat(), "reference": "x"}),
            "POST",
            f"{P}/payments",
            _fixed({"amount": "dieci", "paid_on": rome_today().isoformat(), "reference": "x"}),
        ),
    ],
    f"{C}/practices/{{practice_id}}/withdrawal": [
        # a reason over the API's limit: a withdrawal cannot be undone, so the probe is refused
        Probe(
            "withdrawal",
            f"{C}{P}/withdrawal",
            _fixed({"reason": "x" * 2001, "confirm": "yes"}),
            "POST",
            f"{P}/withdrawal",
            _fixed({"reason": "x" * 2001}),
        )
    ],
    f"{C}/practices/{{practice_id}}/debtor-links/revoke": [
        # the practice has no link yet (no letter): accepted, nothing to revoke
        Probe(
            "revoke-debtor-links",
            f"{C}{P}/debtor-links/revoke",
            _fixed({"confirm": "yes"}),
            "POST",
            f"{P}/debtor-links/revoke",
            _fixed(None),
        )
    ],
    f"{C}/practices/{{practice_id}}/card-checkouts": [
        # without Stripe keys (the tests' settings): the API's 409, card payments are off
        Probe(
            "card-checkout",
            f"{C}{P}/card-checkouts",
            _fixed({"checkout_amount": "10,00", "key": "parity"}),
            "POST",
            f"{P}/card-checkouts",
            _fixed({"amount": "10.00"}),
        )
    ],
    # a request received tomorrow: the API's 422 (nothing recorded, nothing erased)
    f"{C}/practices/{{practice_id}}/erasure-requests": [
        Probe(
            "erasure-request",
            f"{C}{P}/erasure-requests",
            _fixed({"received_on": (rome_today() + timedelta(days=1)).isoformat()}),
            "POST",
            f"{P}/erasure-requests",
            _fixed({"received_on": (rome_today() + timedelta(days=1)).isoformat()}),
        )
    ],
    f"{C}/creditor/tasks/{{practice_id}}/authorization": [
        Probe(
            "authorization",
            f"{C}/creditor/tasks/{{practice_id}}/authorization",
            _fixed({"authorized": "true"}),
            "POST",
            f"{P}/legal-authorization",
            _fixed({"authorized": True}),
        )
    ],
    f"{C}/creditor/tasks/{{practice_id}}/dispute": [
        Probe(
            "dispute",
            f"{C}/creditor/tasks/{{practice_id}}/dispute",
            _fixed({"dispute_id": "no-such-dispute", "upheld": "false"}),
            "POST",
            f"{P}/disputes/no-such-dispute/resolution",
            _fixed({"upheld": False}),
        )
    ],
    f"{C}/creditor/tasks/{{practice_id}}/proposal": [
        Probe(
            "proposal-decision",
            f"{C}/creditor/tasks/{{practice_id}}/proposal",
            _fixed({"proposal_id": "no-such-proposal", "approved": "true"}),
            "POST",
            f"{P}/proposals/no-such-proposal/decision",
            _fixed({"approved": True}),
        )
    ],
    f"{C}/lawyer/opinions/{{practice_id}}": [
        Probe(
            "opinion",
            f"{C}/lawyer/opinions/{{practice_id}}",
            _fixed({"recommend_action": "true"}),
            "POST",
            f"{P}/legal-opinion",
            _fixed({"recommend_action": True}),
        )
    ],
    f"{C}/lawyer/practices/{{practice_id}}/steps/{{name}}": [
        Probe(
            f"step-{name}",
            f"{C}/lawyer/practices/{{practice_id}}/steps/{name}",
            _fixed(STEP_BODIES.get(name, {})),
            "POST",
            f"{P}/judicial/{name}",
            _fixed(STEP_BODIES.get(name, {})),
        )
        for name in STEPS
    ],
    f"{C}/operator/calls/{{task_id}}/take": [
        Probe(
            "take-call",
            f"{C}/operator/calls/no-such-task/take",
            _fixed({}),
            "POST",
            "/worklists/calls/no-such-task/take",
            _fixed(None),
        )
    ],
    f"{C}/operator/calls/{{task_id}}/outcome": [
        Probe(
            "call-outcome",
            f"{C}/operator/calls/{{call_id}}/outcome",
            _fixed({"outcome": "no_answer"}),
            "POST",
            f"{P}/call-outcomes",
            _fixed({"outcome": "no_answer"}),
        )
    ],
    f"{C}/agent/visits/{{practice_id}}/outcome": [
        Probe(
            "visit-outcome",
            f"{C}/agent/visits/{{practice_id}}/outcome",
            _fixed({"outcome": "not_found"}),
            "POST",
            f"{P}/visit-outcomes",
            _fixed({"outcome": "not_found"}),
        )
    ],
    f"{C}/agent/visits/{{practice_id}}/proposal": [
        Probe(
            "visit-proposal",
            f"{C}/agent/visits/{{practice_id}}/proposal",
            _fixed({"kind": "settlement", "amount": "abc", "settle_by": ""}),
            "POST",
            f"{P}/proposals",
            _fixed({"kind": "settlement", "amount": "abc", "settle_by": None}),
            screen_only=(
                frozenset({"operator", "creditor"}),
                "the visit's proposal form is on the field agent's visits screen; operators "
                "propose from the call (its own entry), creditors through the API",
            ),
        )
    ],
    f"{C}/agent/visits/{{practice_id}}/assignee": [
        # the user is checked before the workflow: an unknown one is the service's 422
        Probe(
            "visit-assignee-unknown-user",
            f"{C}/agent/visits/{{practice_id}}/assignee",
            _fixed({"user_id": "no-such-user"}),
            "POST",
            f"{P}/visit/assignee",
            _fixed({"user_id": "no-such-user"}),
        ),
        # the practice's own field agent, but no visit awaited: the workflow's 409
        Probe(
            "visit-assignee",
            f"{C}/agent/visits/{{practice_id}}/assignee",
            lambda t: {"user_id": t.assigned["field_agent_id"]},
            "POST",
            f"{P}/visit/assignee",
            lambda t: {"user_id": t.assigned["field_agent_id"]},
        ),
    ],
    f"{C}/operator/calls/{{task_id}}/proposal": [
        Probe(
            "call-proposal",
            f"{C}/operator/calls/{{call_id}}/proposal",
            _fixed({"kind": "settlement", "amount": "abc", "settle_by": ""}),
            "POST",
            f"{P}/proposals",
            _fixed({"kind": "settlement", "amount": "abc", "settle_by": None}),
            screen_only=(
                frozenset({"creditor", "field_agent"}),
                "the call's proposal form is on the operator's calls screen; field agents "
                "propose from the visit (its own entry), creditors through the API",
            ),
        )
    ],
    f"{C}/operator/calls/{{task_id}}/contacts": [
        Probe(
            "call-contacts",
            f"{C}/operator/calls/{{call_id}}/contacts",
            _fixed({"email": "not-an-address"}),
            "POST",
            f"{P}/contacts",
            _fixed({"email": "not-an-address"}),
            screen_only=(
                frozenset({"creditor", "field_agent"}),
                "the new contacts form is on the operator's call; a field agent's new address "
                "comes with the visit's outcome, creditors send contacts through the API",
            ),
        )
    ],
    f"{C}/creditor/handover": [
        # a hand-over with its reference missing: the API's 422 (nothing is started)
        Probe(
            "handover",
            f"{C}/creditor/handover",
            lambda t: {"creditor_id": t.creditor_id, "key": "parity", "debtor_kind": "consumer"},
            "POST",
            "/practices",
            lambda t: {"creditor_id": t.creditor_id, "debtor": {"kind": "consumer"}},
        )
    ],
    f"{C}/creditor/handover/import": [
        # no file: nothing to hand over (the API's batch of no practices)
        Probe(
            "handover-import",
            f"{C}/creditor/handover/import",
            _fixed({}),
            "POST",
            "/practices/batch",
            _fixed({"practices": []}),
            same_message=(
                False,
                "the upload's own message (no file chosen) stands for the batch's empty list",
            ),
        )
    ],
    f"{C}/admin/creditors": [
        Probe(
            "creditor",
            f"{C}/admin/creditors",
            _fixed(
                {"name": "Alfa S.r.l.", "vat_number": "123", "iban": "IT60X0542811101000000123456"}
            ),
            "POST",
            "/creditors",
            _fixed(
                {"name": "Alfa S.r.l.", "vat_number": "123", "iban": "IT60X0542811101000000123456"}
            ),
        )
    ],
    f"{C}/admin/creditors/{{creditor_id}}/strategy": [
        Probe(
            "strategy",
            f"{C}/admin/creditors/{{creditor_id}}/strategy",
            _strategy_form,
            "PUT",
            "/creditors/{creditor_id}/strategy",
            lambda t: t.strategy,
        )
    ],
    # the preview checks the posted strategy as a save does, without saving: the API's check of
    # the same body is PUT's (its 422), and who may edit it is who may preview it
    f"{C}/admin/creditors/{{creditor_id}}/strategy/preview": [
        Probe(
            "strategy-preview",
            f"{C}/admin/creditors/{{creditor_id}}/strategy/preview",
            lambda t: {**_strategy_form(t), "call_attempts": "0"},
            "PUT",
            "/creditors/{creditor_id}/strategy",
            lambda t: {**t.strategy, "call_attempts": 0},
        )
    ],
    # the strategy lab (api/console/routes_admin_lab.py): the admin's, as the API's edits are
    f"{C}/admin/creditors/{{creditor_id}}/lab/strategies": [
        Probe(
            "lab-strategy",
            f"{C}/admin/creditors/{{creditor_id}}/lab/strategies",
            _fixed({"name": "Bad Name", "copy_from": "default"}),
            "PUT",
            "/creditors/{creditor_id}/strategies/Bad%20Name",
            lambda t: t.strategy,
        )
    ],
    # a named strategy's page edits one the lab page added (a name never saved is its 404,
    # where PUT would create it): probed on `default`, which every creditor has
    f"{C}/admin/creditors/{{creditor_id}}/strategies/{{name}}": [
        Probe(
            "named-strategy",
            f"{C}/admin/creditors/{{creditor_id}}/strategies/default",
            _strategy_form,
            "PUT",
            "/creditors/{creditor_id}/strategies/default",
            lambda t: t.strategy,
        )
    ],
    f"{C}/admin/creditors/{{creditor_id}}/strategies/{{name}}/preview": [
        Probe(
            "named-strategy-preview",
            f"{C}/admin/creditors/{{creditor_id}}/strategies/default/preview",
            lambda t: {**_strategy_form(t), "call_attempts": "0"},
            "PUT",
            "/creditors/{creditor_id}/strategies/default",
            lambda t: {**t.strategy, "call_attempts": 0},
        )
    ],
    f"{C}/admin/creditors/{{creditor_id}}/lab/segments": [
        Probe(
            "lab-segments",
            f"{C}/admin/creditors/{{creditor_id}}/lab/segments",
            _fixed({"default_strategy": "nowhere"}),
            "PUT",
            "/creditors/{creditor_id}/segments",
            _fixed({"rules": [], "default_strategy": "nowhere"}),
        )
    ],
    f"{C}/admin/creditors/{{creditor_id}}/lab/experiments": [
        Probe(
            "lab-experiment",
            f"{C}/admin/creditors/{{creditor_id}}/lab/experiments",
            lambda _t: {
                "segment": "default",
                "champion": "default",
                "champion_share": "90",
                "challenger": "default",
                "challenger_share": "20",
                "start": rome_today().isoformat(),
            },
            "POST",
            "/creditors/{creditor_id}/experiments",
            lambda _t: {
                "segment": "default",
                "champion": {"strategy": "default", "share": 90},
                "challengers": [{"strategy": "default", "share": 20}],
                "start": rome_today().isoformat(),
            },
        )
    ],
    f"{C}/admin/creditors/{{creditor_id}}/lab/experiments/{{experiment_id}}/end": [
        Probe(
            "lab-experiment-end",
            f"{C}/admin/creditors/{{creditor_id}}/lab/experiments/no-such-experiment/end",
            lambda _t: {"end": rome_today().isoformat()},
            "POST",
            "/creditors/{creditor_id}/experiments/no-such-experiment/end",
            lambda _t: {"end": rome_today().isoformat()},
        )
    ],
    # promoting a challenger of an experiment that does not exist: the API's 404 for the
    # admin, a 403 for everyone else
    f"{C}/admin/creditors/{{creditor_id}}/lab/experiments/{{experiment_id}}/promote": [
        Probe(
            "lab-experiment-promote",
            f"{C}/admin/creditors/{{creditor_id}}/lab/experiments/no-such-experiment/promote",
            _fixed({"arm": "challenger-1"}),
            "POST",
            "/creditors/{creditor_id}/experiments/no-such-experiment/promote",
            _fixed({"arm": "challenger-1"}),
        )
    ],
    # the contacts' unit costs (the experiments' cost per euro): a negative cost, the 422
    f"{C}/admin/contact-costs": [
        Probe(
            "contact-costs",
            f"{C}/admin/contact-costs",
            _fixed({"letter": "-1", "sms": "8", "email": "1", "call": "150"}),
            "PUT",
            "/settings/contact-costs",
            _fixed({"letter": -1, "sms": 8, "email": 1, "call": 150}),
        )
    ],
    f"{C}/admin/creditors/{{creditor_id}}/retention": [
        Probe(
            "retention",
            f"{C}/admin/creditors/{{creditor_id}}/retention",
            _fixed({"retention_days": "0"}),
            "PUT",
            "/creditors/{creditor_id}/retention",
            _fixed({"retention_days": 0}),
            screen_only=(
                frozenset({"creditor"}),
                "the retention form is on the admin's creditor pages; a creditor shortens its "
                "own period through the API",
            ),
        )
    ],
    f"{C}/admin/rates": [
        Probe(
            "rate",
            f"{C}/admin/rates",
            _fixed({"kind": "legal", "start": "2031-01-01", "rate": "abc", "source": "DM"}),
            "POST",
            "/rates",
            _fixed({"kind": "legal", "start": "2031-01-01", "rate": "abc", "source": "DM"}),
        )
    ],
    f"{C}/admin/users": [
        Probe(
            "user",
            f"{C}/admin/users",
            _fixed({"name": "Ugo", "email": "ugo@example.it", "role": "nonsense"}),
            "POST",
            "/users",
            _fixed({"name": "Ugo", "email": "ugo@example.it", "role": "nonsense"}),
        )
    ],
    f"{C}/admin/users/{{user_id}}/role": [
        Probe(
            "user-role",
            f"{C}/admin/users/no-such-user/role",
            _fixed({"role": "operator"}),
            "PUT",
            "/users/no-such-user/role",
            _fixed({"role": "operator"}),
        )
    ],
    f"{C}/admin/users/{{user_id}}/countries": [
        # the creditor's user is no correspondent: the service's 422 on the field
        Probe(
            "user-countries",
            f"{C}/admin/users/{{user_id}}/countries",
            _fixed({"countries": "CH US"}),
            "PUT",
            "/users/{user_id}/countries",
            _fixed({"countries": ["CH", "US"]}),
        ),
        Probe(
            "user-countries-unknown-user",
            f"{C}/admin/users/no-such-user/countries",
            _fixed({"countries": "CH"}),
            "PUT",
            "/users/no-such-user/countries",
            _fixed({"countries": ["CH"]}),
        ),
    ],
    f"{C}/admin/users/{{user_id}}/deactivate": [
        Probe(
            "user-deactivate",
            f"{C}/admin/users/no-such-user/deactivate",
            _fixed({}),
            "POST",
            "/users/no-such-user/deactivate",
            _fixed(None),
        )
    ],
}

CONSOLE_ONLY: dict[str, str] = {
    f"{C}/login": "a person's login by e-mail and password; machines use API keys",
    f"{C}/login/code": "the TOTP second step of a console login",
    f"{C}/logout": "ends a console session; an API key has none",
    f"{C}/invitation/{{token}}": "the one-time link's password; API users get a key instead",
    f"{C}/account/language": "the console's language, a preference of its pages",
    f"{C}/account/totp/start": "TOTP enrolment for the console login",
    f"{C}/account/totp/confirm": "TOTP enrolment for the console login",
    f"{C}/admin/users/{{user_id}}/invitation": (
        "a new one-time login link; the API hands out keys at creation instead"
    ),
}


def _console_routes(api: Api) -> set[str]:
    """The app's unsafe routes under /console, as mounted (the included routers' prefixes)."""
    transport = cast(httpx.ASGITransport, api.http._transport)
    app = cast(FastAPI, transport.app)
    return {
        str(context.path)
        for context in iter_route_contexts(app.router.routes)
        if isinstance(context.original_route, APIRoute)
        and str(context.path).startswith(C + "/")
        and (context.methods or set()) & UNSAFE
    }


async def test_every_console_action_has_an_entry(api: Api) -> None:
    routes = _console_routes(api)
    assert routes == set(PARITY) | set(CONSOLE_ONLY), (
        "console actions without a parity entry (or entries without an action): "
        f"{sorted(routes ^ (set(PARITY) | set(CONSOLE_ONLY)))}"
    )
    assert not set(PARITY) & set(CONSOLE_ONLY)


async def _actor(api: Api, name: str, role: str, **extra: Any) -> Actor:
    user, password = await person(api, role=role, **extra)
    transport = cast(httpx.ASGITransport, api.http._transport)
    client = httpx.AsyncClient(transport=transport, base_url=str(api.http.base_url))
    page = await client.get("/console/login")
    landed = await client.post(
        "/console/login",
        data={"csrf_token": csrf(page), "email": user["email"], "password": password},
    )
    assert landed.status_code == 303 and "login" not in landed.headers["location"], landed.text
    token = csrf(await client.get("/console/account"))
    return Actor(
        name=name,
        role=role,
        user_id=user["id"],
        console=client,
        token=token,
        key=bearer(user["key"]),
    )


@dataclass(frozen=True)
class World:
    targets: Targets
    actors: list[Actor]


@pytest.fixture(scope="module")
async def world(api: Api) -> AsyncIterator[World]:
    # long waits: the practice stays in its pre-due phase (and its assignments, which the
    # workflow's read-model writes would rewrite, stay) while the probes run
    slow = fast_strategy(
        steps=[{"step": s.value, "enabled": True, "wait_after": "P30D"} for s in STEP_ORDER],
        pre_due_reminder_lead="P1D",
    )
    own = await new_creditor(api, slow)
    other = await new_creditor(api, slow)
    actors = [
        await _actor(api, "admin", "admin"),
        await _actor(api, "operator", "operator"),
        await _actor(api, "creditor-own", "creditor", creditor_id=own.id),
        await _actor(api, "creditor-other", "creditor", creditor_id=other.id),
        await _actor(api, "lawyer-assigned", "lawyer"),
        await _actor(api, "lawyer-not-assigned", "lawyer"),
        await _actor(api, "agent-assigned", "field_agent", provinces=["MI"]),
        await _actor(api, "agent-not-assigned", "field_agent", provinces=["MI"]),
        # a foreign correspondent is a visitor like a field agent, not of this practice
        await _actor(api, "correspondent-not-assigned", "correspondent", countries=["CH"]),
    ]
    practice = await hand_over(api, own.headers, practice_payload(own.id))
    ids = {a.name: a.user_id for a in actors}
    await assign_directly(
        api,
        practice["id"],
        lawyer_id=ids["lawyer-assigned"],
        field_agent_id=ids["agent-assigned"],
    )
    async with api.db.session() as session, session.begin():
        call = Task(
            idempotency_key=f"parity-call-{secrets.token_hex(4)}",
            practice_id=practice["id"],
            kind="call",
        )
        session.add(call)
    strategy = await api.http.get(f"/creditors/{own.id}/strategy", headers=api.admin)
    assert strategy.status_code == 200
    model = StrategyModel.model_validate(strategy.json()).model_dump(mode="json")
    targets = Targets(
        practice_id=practice["id"],
        creditor_id=own.id,
        user_id=own.user_id,
        strategy=model,
        assigned={"lawyer_id": ids["lawyer-assigned"], "field_agent_id": ids["agent-assigned"]},
        call_id=call.id,
    )
    yield World(targets=targets, actors=actors)
    for actor in actors:
        await actor.console.aclose()


def _kind(status: int) -> str:
    return "accepted" if status < 400 else str(status)


PROBES = [probe for probes in PARITY.values() for probe in probes]


CASES = [(probe, False) for probe in PROBES] + [
    (probe, True) for probe in PROBES if "{practice_id}" in probe.console_url
]


@pytest.mark.parametrize(
    ("probe", "unknown"),
    CASES,
    ids=[p.name + ("-unknown-practice" if unknown else "") for p, unknown in CASES],
)
async def test_the_console_refuses_exactly_when_the_api_refuses(
    api: Api, world: World, probe: Probe, unknown: bool
) -> None:
    """Each probe on the practice (or creditor, user) of the world, and the practice's actions
    on a practice that does not exist too (a 404 for every role, in both)."""
    t = world.targets
    fields = {
        "practice_id": "no-such-practice" if unknown else t.practice_id,
        "creditor_id": t.creditor_id,
        "user_id": t.user_id,
        "call_id": t.call_id,
    }
    # the assignments again: an earlier probe's accepted command (a payment) has the workflow
    # write its read model, which carries its own (none) over the ones written directly
    async with api.db.session() as session, session.begin():
        await session.execute(
            update(Practice).where(Practice.id == t.practice_id).values(t.assigned)
        )
    mismatches: list[str] = []
    seen: list[str] = []
    for actor in world.actors:
        body = probe.body(t)
        answer = await api.http.request(
            probe.api_method,
            probe.api_url.format(**fields),
            headers=actor.key,
            **({} if body is None else {"json": body}),
        )
        page = await actor.console.post(
            probe.console_url.format(**fields),
            data=probe.form(t),
            headers={"X-CSRF-Token": actor.token},
        )
        api_kind, console_kind = _kind(answer.status_code), _kind(page.status_code)
        if probe.screen_only is not None and actor.role in probe.screen_only[0] and not unknown:
            if page.status_code != 403:
                mismatches.append(f"{actor.name}: screen-only changed: {page.status_code}")
            continue
        seen.append(f"{actor.name}: API {answer.status_code}, console {page.status_code}")
        if api_kind != console_kind:
            mismatches.append(
                f"{actor.name}: API {answer.status_code} {answer.text[:200]!r}, "
                f"console {page.status_code}"
            )
            continue
        if console_kind != "accepted":
            # a refusal is a page of the console, not the API's JSON: the refusal page for
            # 403/404, the form again (with its message) for 409/422
            assert page.headers["content-type"].startswith("text/html"), page.headers
            if console_kind in ("409", "422"):
                assert "<form" in page.text, (actor.name, page.text[:500])
            if console_kind in ("409", "422") and probe.same_message[0]:
                # with the API's message (in the page's language, Italian, escaped as the page
                # escapes it): the 409's detail,
                # or one of the 422's field messages
                detail = answer.json()["detail"]
                messages = [detail] if isinstance(detail, str) else [e["msg"] for e in detail]
                shown = [str(escape(refusal_text("it", m))) for m in messages]
                assert any(m in page.text for m in shown), (actor.name, shown, page.text[-3000:])
    assert not mismatches, "\n".join([*mismatches, "all:", *seen])
