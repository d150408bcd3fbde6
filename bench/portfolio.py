"""Recupero bench: the creditor's portfolio (console page and GET /practices) over 100,000
practices on SQLite. A script that prints figures, not a test.

    .venv/bin/python bench/portfolio.py --practices 100000 --requests 200

It migrates a fresh SQLite read model (alembic, db.migrate.upgrade: the schema `recupero run`
builds), inserts the practices' rows in bulk (no workflow: the list reads the read model only,
and joins nothing), starts the real application in process (api.app.create_app with its lifespan;
no Temporal server: no route measured here calls it) and sends each kind of request `--requests`
times through httpx.AsyncClient over ASGITransport, one at a time.

Server time is measured inside the ASGI application (a wrapper around the app: from the call
until the last body message is sent), so the client's own work is not in it; the SQL part of it
is the time between SQLAlchemy's before/after_cursor_execute events of the same request
(statement execution and fetching as the driver does it). The rest (session lookup in Python,
pydantic, Jinja rendering, the middleware) is "other".
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, event, insert, text  # noqa: E402
from temporalio.client import Client  # noqa: E402

from api.app import create_app  # noqa: E402
from api.auth import new_key  # noqa: E402
from api.console import logins, routes_creditor  # noqa: E402
from config import load_settings  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Creditor, Practice, User  # noqa: E402
from domain.practice import Outcome, Phase, Status  # noqa: E402

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'href="\?([^"]*cursor=[^"]*)" rel="next"')


# --- the data ------------------------------------------------------------------------------------


def practice_rows(count: int, creditors: list[str], now: datetime) -> list[dict[str, Any]]:
    """`count` practices' read-model rows: three creditors (50/30/20 %), hand-overs spread over
    two years, the states a real portfolio has (most closed or active, few paused), amounts from
    a few tens to tens of thousands of euros (log-uniform), consumers and businesses."""
    rng = random.Random(12)
    statuses = [
        (Status.ACTIVE, 40),
        (Status.PAUSED_PROMISE, 6),
        (Status.PAUSED_DISPUTE, 2),
        (Status.PAUSED_PROPOSAL, 1),
        (Status.PAUSED_PLAN, 8),
        (Status.PAUSED_SETTLEMENT, 1),
        (Status.CLOSED, 42),
    ]
    outcomes = [
        (Outcome.PAID, 45),
        (Outcome.WITHDRAWN, 8),
        (Outcome.RETURNED, 10),
        (Outcome.DISPUTE_UPHELD, 3),
        (Outcome.SETTLED, 15),
        (Outcome.DECEASED, 2),
        (Outcome.INSOLVENCY, 4),
        (Outcome.UNABLE_TO_PAY, 8),
        (Outcome.UNCOLLECTABLE, 5),
    ]
    provinces = ["MI", "RM", "TO", "NA", "BO", "FI", "VE", "BA", "PA", "GE"]
    span = timedelta(days=730).total_seconds()
    rows: list[dict[str, Any]] = []
    for n in range(count):
        creditor = rng.choices(creditors, weights=[50, 30, 20])[0]
        status = rng.choices([s for s, _ in statuses], weights=[w for _, w in statuses])[0]
        claim = int(10 ** rng.uniform(3.5, 6.7))  # 31.62 .. 50,118.72 euros, in cents
        created = now - timedelta(seconds=rng.uniform(0, span))
        age = (now - created).days
        phase = (
            Phase.PRE_DUE
            if age < 30
            else (Phase.JUDICIAL if rng.random() < 0.15 else Phase.OUT_OF_COURT)
        )
        outcome = None
        paid = rng.randrange(0, claim // 2 + 1) if rng.random() < 0.3 else 0
        if status is Status.CLOSED:
            outcome = rng.choices([o for o, _ in outcomes], weights=[w for _, w in outcomes])[0]
            paid = claim if outcome is Outcome.PAID else paid
        business = rng.random() < 0.35
        rows.append(
            {
                "id": secrets.token_hex(16),
                "creditor_id": creditor,
                "reference": f"B-{n:07d}",
                "workflow_id": f"practice-bench-{n}",
                "debtor_kind": "business" if business else "consumer",
                "debtor_name": f"Ditta {n} S.r.l." if business else f"Mario Rossi {n}",
                "debtor_tax_code": None,
                "street": "Via Roma 1",
                "city": "Milano",
                "postal_code": "20100",
                "province": rng.choice(provinces),
                "claim_cents": claim,
                "balance_cents": claim - paid,
                "paid_cents": paid,
                "status": status.value,
                "phase": phase.value,
                "outcome": outcome.value if outcome else None,
                "current_step": None if status is Status.CLOSED else "reminder",
                "next_step": None if status is Status.CLOSED else "phone_call",
                "next_action_at": None
                if status is Status.CLOSED
                else now + timedelta(days=rng.randint(1, 60)),
                "snapshot": {},
                "strategy": {},
                "invalid_channels": [],
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def fill(url: str, practices: int, now: datetime) -> tuple[list[str], str, str]:
    """The creditors, one creditor user's API key (stored as the API stores it), the rows; an
    ANALYZE at the end, as `recupero` would want after a bulk load (the bench says both)."""
    from api.auth import hash_key  # noqa: PLC0415 (the bench's only use)

    engine = create_engine(url.replace("+aiosqlite", ""))
    creditors = [secrets.token_hex(16) for _ in range(3)]
    key = new_key()
    user_id = secrets.token_hex(16)
    with engine.begin() as connection:
        connection.execute(
            insert(Creditor),
            [
                {
                    "id": creditor,
                    "name": f"Creditore {n}",
                    "vat_number": f"0074311015{n}",
                    "iban": "IT60X0542811101000000123456",
                }
                for n, creditor in enumerate(creditors)
            ],
        )
        connection.execute(
            insert(User),
            [
                {
                    "id": user_id,
                    "role": "creditor",
                    "name": "Bench",
                    "email": "bench-creditor@example.it",
                    "creditor_id": creditors[0],
                    "key_hash": hash_key(key),
                }
            ],
        )
        rows = practice_rows(practices, creditors, now)
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Practice), rows[start : start + 5000])
    with engine.begin() as connection:
        if ANALYZE:
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return creditors, key, user_id


ANALYZE = False
WARM_UP = 5
AMOUNT = {"claim_from": "1000", "claim_to": "5000"}


# --- measuring -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Timings:
    server: list[float] = dataclasses.field(default_factory=list)
    sql: list[float] = dataclasses.field(default_factory=list)
    cpu: list[float] = dataclasses.field(default_factory=list)
    render: list[float] = dataclasses.field(default_factory=list)


class Meter:
    """Server time per request (an ASGI wrapper) and SQL time per request (engine events)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last_server = 0.0
        self.last_cpu = 0.0
        self.sql = 0.0
        self.render = 0.0
        self._started: float | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, cpu = time.perf_counter(), time.process_time()
        self.sql = self.render = 0.0

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_server = time.perf_counter() - start
                self.last_cpu = time.process_time() - cpu

        await self.app(scope, receive, timed_send)

    def time_rendering(self) -> None:
        """The console page's template rendering (api.console.templating.render, as the
        portfolio's module calls it)."""
        module = vars(routes_creditor)
        original = module["render"]

        def render(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.render += time.perf_counter() - began

        module["render"] = render

    def watch(self, engine: Any) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def before(*_args: Any) -> None:
            self._started = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def after(*_args: Any) -> None:
            if self._started is not None:
                self.sql += time.perf_counter() - self._started
                self._started = None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--practices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after the load")
    parser.add_argument("--keep", action="store_true", help="keep the database, print its path")
    args = parser.parse_args()
    global ANALYZE
    ANALYZE = args.analyze

    directory = Path(tempfile.mkdtemp(prefix="recupero-portfolio-"))
    url = f"sqlite+aiosqlite:///{directory / 'recupero.db'}"
    now = datetime.now(UTC)
    began = time.perf_counter()
    upgrade(url)
    creditors, key, _user_id = fill(url, args.practices, now)
    print(
        f"{args.practices} practices inserted in {time.perf_counter() - began:.1f} s ({directory})"
    )

    settings = dataclasses.replace(
        load_settings(),
        data_dir=directory,
        database_url=url,
        admin_key=new_key(),
        stranded_after_seconds=0,
        two_factor_required=False,  # TOTP is the login's business, not the list's
    )
    app = create_app(settings, temporal_client=cast(Client, object()))
    meter = Meter(cast(ASGIApp, app))
    meter.time_rendering()
    async with app.router.lifespan_context(app):
        meter.watch(app.state.db.engine.sync_engine)
        transport = httpx.ASGITransport(app=cast(Any, meter))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await log_in(http, app, creditors[0])
            api = {"Authorization": f"Bearer {key}"}
            admin = {"Authorization": f"Bearer {settings.admin_key}"}
            month = (now - timedelta(days=200)).astimezone(UTC).date().replace(day=1)
            # page 201 (10,000 practices deep) of creditor 0's ~50,000, fewer on a smaller run
            depth = max(1, min(200, args.practices * 4 // 10 // 50))
            deep = await deep_cursor(http, pages=depth)
            api_deep = await api_deep_cursor(http, api, pages=depth)
            kinds: list[tuple[str, str, dict[str, str], dict[str, str]]] = [
                ("console: first page, unfiltered", "/console/creditor/practices", {}, {}),
                ("console: status=active", "/console/creditor/practices", {"status": "active"}, {}),
                (
                    "console: status=paused_dispute (rare)",
                    "/console/creditor/practices",
                    {"status": "paused_dispute"},
                    {},
                ),
                (
                    "console: amount 1,000-5,000",
                    "/console/creditor/practices",
                    {"claim_from": "1000", "claim_to": "5000"},
                    {},
                ),
                (
                    "console: amount >= 45,000 (rare)",
                    "/console/creditor/practices",
                    {"claim_from": "45000"},
                    {},
                ),
                (
                    "console: handed over in one month",
                    "/console/creditor/practices",
                    {
                        "handed_over_from": month.isoformat(),
                        "handed_over_to": (month + timedelta(days=30)).isoformat(),
                    },
                    {},
                ),
                (
                    "console: closed + paid + business",
                    "/console/creditor/practices",
                    {"status": "closed", "outcome": "paid", "debtor_kind": "business"},
                    {},
                ),
                (
                    f"console: page {depth + 1} by cursor",
                    "/console/creditor/practices",
                    {"cursor": deep},
                    {},
                ),
                ("API: GET /practices, limit 50", "/practices", {}, api),
                ("API: status=active, limit 50", "/practices", {"status": "active"}, api),
                (f"API: page {depth + 1} by cursor", "/practices", {"cursor": api_deep}, api),
                (
                    f"API: page {depth + 1} by offset (old way)",
                    "/practices",
                    {"offset": str(depth * 50)},
                    api,
                ),
                (f"API, admin: all {args.practices:,}, limit 50", "/practices", {}, admin),
                ("API, admin: amount 1,000-5,000", "/practices", AMOUNT, admin),
            ]
            print(
                f"\n{args.requests} requests each, one at a time, ms: server time p50 / p95 / p99,"
                " the SQL part of it p50 / p95, the process's CPU time p50 / p95, and the"
                " template's rendering p50 / p95 (console pages)"
            )
            print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores shared)")
            print(f"{'request':42} {'server':>20} {'SQL':>12} {'CPU':>12} {'rendering':>12}")
            for name, path, params, headers in kinds:
                timings = Timings()
                for _ in range(WARM_UP):  # the first requests of a kind compile its SQL
                    await http.get(path, params=params, headers=headers)
                for _ in range(args.requests):
                    answer = await http.get(path, params=params, headers=headers)
                    assert answer.status_code == 200, (name, answer.status_code, answer.text[:300])
                    timings.server.append(meter.last_server * 1000)
                    timings.sql.append(meter.sql * 1000)
                    timings.cpu.append(meter.last_cpu * 1000)
                    timings.render.append(meter.render * 1000)
                cells = [
                    " / ".join(f"{percentile(timings.server, q):.0f}" for q in (50, 95, 99)),
                    " / ".join(f"{percentile(timings.sql, q):.0f}" for q in (50, 95)),
                    " / ".join(f"{percentile(timings.cpu, q):.0f}" for q in (50, 95)),
                    " / ".join(f"{percentile(timings.render, q):.0f}" for q in (50, 95)),
                ]
                print(f"{name:42} {cells[0]:>20} {cells[1]:>12} {cells[2]:>12} {cells[3]:>12}")

            print(f"load average after: {os.getloadavg()[0]:.1f}")
            began = time.perf_counter()
            exported = await http.get("/console/creditor/practices.csv")
            rows = exported.text.count("\n") - 1
            print(
                f"\nCSV export of creditor 0's {rows} practices:"
                f" {time.perf_counter() - began:.2f} s"
            )
        await explain(app, creditors[0], month)
    if not args.keep:
        import shutil  # noqa: PLC0415

        shutil.rmtree(directory)


async def log_in(http: httpx.AsyncClient, app: Any, creditor_id: str) -> None:
    """A creditor user with a password, through the invitation link as people get one."""
    from db.models import User as UserRow  # noqa: PLC0415

    async with app.state.db.session() as session:
        user = UserRow(
            role="creditor",
            name="Pia",
            email="pia@example.it",
            creditor_id=creditor_id,
            key_hash=secrets.token_hex(32),
        )
        session.add(user)
        await session.flush()
        token = await logins.invite(session, app.state.settings, user, datetime.now(UTC))
        await session.commit()
    password = "pw-" + secrets.token_urlsafe(12)
    page = await http.get(f"/console/invitation/{token}")
    csrf = TOKEN.search(page.text)
    assert csrf, page.text[:300]
    accepted = await http.post(
        f"/console/invitation/{token}",
        data={"csrf_token": csrf.group(1), "password": password, "confirm": password},
    )
    assert accepted.status_code == 303, accepted.text[:300]
    page = await http.get("/console/login")
    csrf = TOKEN.search(page.text)
    assert csrf
    landed = await http.post(
        "/console/login",
        data={"csrf_token": csrf.group(1), "email": "pia@example.it", "password": password},
    )
    assert landed.status_code == 303, landed.text[:300]


async def deep_cursor(http: httpx.AsyncClient, pages: int) -> str:
    """The cursor of the console's page `pages` + 1, found by following the next links."""
    query = ""
    for _ in range(pages):
        page = await http.get(f"/console/creditor/practices?{query}")
        found = NEXT.search(page.text)
        assert found, "fewer pages than asked"
        query = found.group(1).replace("&amp;", "&")
    return str(httpx.QueryParams(query)["cursor"])


async def api_deep_cursor(http: httpx.AsyncClient, headers: dict[str, str], pages: int) -> str:
    params: dict[str, str] = {}
    for _ in range(pages):
        body = (await http.get("/practices", params=params, headers=headers)).json()
        params = {"cursor": body["next_cursor"]}
    return params["cursor"]


async def explain(app: Any, creditor_id: str, month: date) -> None:
    """EXPLAIN QUERY PLAN of the queries a page sends, as SQLAlchemy compiles them."""
    from sqlalchemy import select  # noqa: PLC0415

    from api.auth import Principal, Role  # noqa: PLC0415
    from api.routers.practices import practice_filters  # noqa: PLC0415
    from api.services import practice_pages  # noqa: PLC0415

    principal = Principal(
        id="bench", role=Role.CREDITOR, name="Bench", creditor_id=creditor_id, provinces=frozenset()
    )
    cases: dict[str, dict[str, Any]] = {
        "unfiltered": {},
        "status=active": {"status_": Status.ACTIVE},
        "amount 1,000-5,000": {"claim_from": "1000", "claim_to": "5000"},
        "one month": {"handed_over_from": month, "handed_over_to": month + timedelta(days=30)},
    }
    admin = dataclasses.replace(principal, role=Role.ADMIN, creditor_id=None)
    engine = app.state.db.engine
    print("\nEXPLAIN QUERY PLAN (SQLite)")
    amount: dict[str, Any] = {"claim_from": "1000", "claim_to": "5000"}
    for name, filters in [*cases.items(), ("admin, amount 1,000-5,000", amount)]:
        caller = admin if name.startswith("admin") else principal
        conditions = practice_filters(caller, **filters)
        cursor = practice_pages.Cursor(practice_pages.Direction.AFTER, datetime.now(UTC), "f" * 32)
        page = (
            select(Practice)
            .where(*conditions, practice_pages._beyond(cursor))
            .order_by(*practice_pages.PRACTICE_ORDER)
            .limit(51)
        )
        count = select(text("count(*)")).select_from(Practice).where(*conditions)
        for label, query in (("page", page), ("count", count)):
            compiled = query.compile(engine.sync_engine, compile_kwargs={"literal_binds": True})
            async with engine.connect() as connection:
                plan = await connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
                steps = "; ".join(row[3] for row in plan)
            print(f"  {name} ({label}): {steps}")


if __name__ == "__main__":
    asyncio.run(main())
