"""Configuration from environment variables (documented in the README)."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import TypeAdapter
from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from domain.contact_rules import ContactRulesError, Hours, parse_hours


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    temporal_address: str
    temporal_namespace: str
    task_queue: str
    api_host: str
    api_port: int
    temporal_port: int
    temporal_ui_port: int
    admin_key: str
    agency_name: str
    agency_email: str
    agency_phone: str
    sendgrid_api_key: str
    sendgrid_from: str
    sendgrid_host: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_from: str
    twilio_base_url: str
    # SendGrid's Signed Event Webhook verification key (base64 DER, as SendGrid shows it)
    sendgrid_webhook_public_key: str = ""
    # where providers reach the API (https://recupero.example.it): Twilio signs this URL
    public_url: str = ""
    # the agency's certified mailbox (PEC): with host and sender set, PEC copies go out by SMTP
    pec_host: str = ""
    pec_port: int = 465
    pec_user: str = ""
    pec_password: str = ""
    pec_from: str = ""
    # False: TLS from the first byte (SMTPS, port 465); True: STARTTLS (port 587)
    pec_starttls: bool = False
    # each provider's sending rate (messages a second) and burst, shared by all the workers
    # (activities/rate_limit.py); set them to the account's limits. A rate of 0: no limit
    sendgrid_rate: float = 50.0
    sendgrid_burst: int = 100
    twilio_rate: float = 10.0
    twilio_burst: int = 20
    pec_rate: float = 2.0
    pec_burst: int = 5
    # a contact the rules put off (a night, a weekend, a day's limit) is due at a moment the
    # practice decides within this many minutes of the window's opening, not all at the opening
    # (domain.contact_rules.spread_slot); 0: at the opening
    contact_spread_minutes: int = 120
    # a practice row that has waited this long for its workflow was cut off mid hand-over (the
    # API died between its commit and the workflow start): the API starts it (api/handover.py);
    # 0 turns that off. The sweep is a Temporal Schedule (schedules.py) run every
    # min(30, this) seconds
    stranded_after_seconds: int = 60
    # the day's print batch is closed at this time (HH:MM, Europe/Rome) on working days: its
    # letters are fixed for the mail house, later ones go to the next working day's batch
    print_cutoff: str = "16:00"
    # the daily rate check alerts the admin when a rate period starting within this many weeks
    # has no known rate (schedules.py, activities/scheduled.py)
    rate_notice_weeks: int = 6
    # run the workflows in Temporal's sandbox, which checks at run time for non-deterministic
    # calls (worker.py); off by default: the workflow tests run every path in it
    workflow_sandbox: bool = False
    # practices a worker keeps in memory between their steps (Temporal's sticky cache): a command
    # to one of them is answered without replaying its history. About 0.12 MiB each
    worker_cache_size: int = 4000
    # the web console (api/console): a session ends after this long without a request...
    session_idle_minutes: int = 30
    # ...and this long after the login whatever happens
    session_absolute_hours: int = 12
    # this many wrong passwords in a row lock the account for login_lockout_minutes
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    # how long an invitation link works
    invitation_hours: int = 72
    # True: admins and creditors must turn on two-factor login (TOTP) before any other page
    two_factor_required: bool = False
    # the secret the debtor's links are derived from (api/services/debtor_links.py): a retried
    # letter carries the same link. Empty: a random one kept in data_dir/debtor-link-secret
    # (several worker hosts must then share RECUPERO_DEBTOR_LINK_SECRET)
    debtor_link_secret: str = ""
    # card payments through Stripe Checkout (api/services/card_payments.py): both set turn them
    # on; without them the card option is absent and nothing pretends to take a card
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    # the address of Stripe's API; empty: the library's own (https://api.stripe.com). Tests
    # point it at a local server standing in for Stripe
    stripe_api_base: str = ""
    # the bearer token a Prometheus scrape presents to GET /metrics (an admin's API key works
    # too); empty: only admins read it
    metrics_token: str = ""
    # where the worker serves the Temporal SDK's own metrics (host:port); empty: nowhere
    worker_metrics_address: str = ""
    # the agency's own contact hours for debtors in a country (country -> hours, parsed by
    # domain.contact_rules.parse_hours); a country not named keeps the Italian code's hours.
    # RECUPERO_CONTACT_HOURS='{"DE": {"mon": "08:00-20:00", ..., "sat": "09:00-13:00"}}'
    contact_hours: dict[str, Hours] = field(default_factory=dict)
    # Temporal Worker Versioning (worker.py, docs/ARCHITECTURE.md "Upgrades"): the name of the
    # Worker Deployment the workers belong to; empty: unversioned workers (a Temporal server older
    # than 1.29.1). `recupero run` sets "recupero" unless the variable says otherwise
    worker_deployment: str = ""
    # this build's id in the deployment; empty: derived from the workflow, domain and activity
    # code (worker.code_build_id), the same on every host running the same code
    worker_build_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Tests only (no environment variable sets it): the clock the contact rules read, so tests
    # against a real-time server can run at night. The product always uses the real time.
    contact_clock: Callable[[datetime], datetime] | None = None


def load_settings() -> Settings:
    data_dir = Path(_env("RECUPERO_DATA_DIR", "./data")).resolve()
    temporal_port = int(_env("RECUPERO_TEMPORAL_PORT", "7233"))
    return Settings(
        data_dir=data_dir,
        database_url=_env("RECUPERO_DATABASE_URL")
        or f"sqlite+aiosqlite:///{data_dir / 'recupero.db'}",
        temporal_address=_env("RECUPERO_TEMPORAL_ADDRESS") or f"localhost:{temporal_port}",
        temporal_namespace=_env("RECUPERO_TEMPORAL_NAMESPACE", "default"),
        task_queue=_env("RECUPERO_TASK_QUEUE", "recupero-practices"),
        api_host=_env("RECUPERO_API_HOST", "127.0.0.1"),
        api_port=int(_env("RECUPERO_API_PORT", "8000")),
        temporal_port=temporal_port,
        temporal_ui_port=int(_env("RECUPERO_TEMPORAL_UI_PORT", "8233")),
        admin_key=_env("RECUPERO_ADMIN_KEY"),
        agency_name=_env("RECUPERO_AGENCY_NAME", "Studio Servizi Creditizi"),
        agency_email=_env("RECUPERO_AGENCY_EMAIL", "pratiche@example.it"),
        agency_phone=_env("RECUPERO_AGENCY_PHONE", "+39 02 0000000"),
        sendgrid_api_key=_env("SENDGRID_API_KEY"),
        sendgrid_from=_env("RECUPERO_EMAIL_FROM", "pratiche@example.it"),
        sendgrid_host=_env("SENDGRID_HOST", "https://api.sendgrid.com"),
        twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
        twilio_from=_env("TWILIO_FROM_NUMBER"),
        twilio_base_url=_env("TWILIO_BASE_URL"),
        sendgrid_webhook_public_key=_env("SENDGRID_WEBHOOK_PUBLIC_KEY"),
        public_url=_env("RECUPERO_PUBLIC_URL").rstrip("/"),
        pec_host=_env("RECUPERO_PEC_HOST"),
        pec_port=int(_env("RECUPERO_PEC_PORT", "465")),
        pec_user=_env("RECUPERO_PEC_USER"),
        pec_password=_env("RECUPERO_PEC_PASSWORD"),
        pec_from=_env("RECUPERO_PEC_FROM"),
        pec_starttls=_env("RECUPERO_PEC_STARTTLS", "false").lower() in ("1", "true", "yes", "on"),
        sendgrid_rate=_rate("RECUPERO_SENDGRID_RATE", "50"),
        sendgrid_burst=_burst("RECUPERO_SENDGRID_BURST", "100"),
        twilio_rate=_rate("RECUPERO_TWILIO_RATE", "10"),
        twilio_burst=_burst("RECUPERO_TWILIO_BURST", "20"),
        pec_rate=_rate("RECUPERO_PEC_RATE", "2"),
        pec_burst=_burst("RECUPERO_PEC_BURST", "5"),
        contact_spread_minutes=_minutes("RECUPERO_CONTACT_SPREAD_MINUTES", "120"),
        stranded_after_seconds=int(_env("RECUPERO_STRANDED_AFTER_SECONDS", "60")),
        print_cutoff=_env("RECUPERO_PRINT_CUTOFF", "16:00"),
        rate_notice_weeks=int(_env("RECUPERO_RATE_NOTICE_WEEKS", "6")),
        worker_cache_size=int(_env("RECUPERO_WORKER_CACHE_SIZE", "4000")),
        workflow_sandbox=_env("RECUPERO_WORKFLOW_SANDBOX", "false").lower()
        in ("1", "true", "yes", "on"),
        session_idle_minutes=int(_env("RECUPERO_SESSION_IDLE_MINUTES", "30")),
        session_absolute_hours=int(_env("RECUPERO_SESSION_ABSOLUTE_HOURS", "12")),
        login_max_failures=int(_env("RECUPERO_LOGIN_MAX_FAILURES", "5")),
        login_lockout_minutes=int(_env("RECUPERO_LOGIN_LOCKOUT_MINUTES", "15")),
        invitation_hours=int(_env("RECUPERO_INVITATION_HOURS", "72")),
        debtor_link_secret=_env("RECUPERO_DEBTOR_LINK_SECRET"),
        two_factor_required=_env("RECUPERO_TWO_FACTOR_REQUIRED", "false").lower()
        in ("1", "true", "yes", "on"),
        stripe_secret_key=_env("STRIPE_SECRET_KEY"),
        stripe_webhook_secret=_env("STRIPE_WEBHOOK_SECRET"),
        stripe_api_base=_env("RECUPERO_STRIPE_API_BASE").rstrip("/"),
        metrics_token=_env("RECUPERO_METRICS_TOKEN"),
        worker_metrics_address=_env("RECUPERO_WORKER_METRICS_ADDRESS"),
        contact_hours=parse_contact_hours(_env("RECUPERO_CONTACT_HOURS")),
        worker_deployment=_env("RECUPERO_WORKER_DEPLOYMENT"),
        worker_build_id=_env("RECUPERO_WORKER_BUILD_ID"),
    )


def _rate(name: str, default: str) -> float:
    """Messages a second, >= 0 (0: no limit); a bad value stops the start, naming the variable."""
    raw = _env(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of messages a second, not {raw!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be 0 (no limit) or a positive number, not {raw!r}")
    return value


def _burst(name: str, default: str) -> int:
    raw = _env(name, default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number of messages, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {raw!r}")
    return value


def _minutes(name: str, default: str) -> int:
    raw = _env(name, default)
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number of minutes, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, not {raw!r}")
    return value


def parse_contact_hours(raw: str) -> dict[str, Hours]:
    """RECUPERO_CONTACT_HOURS: a JSON object of countries (ISO 3166-1 alpha-2) and their hours.
    Italy is not among them: its hours are the code of conduct's. A bad value stops the start
    (a ValueError naming the variable), it is never half-read."""
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"RECUPERO_CONTACT_HOURS is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ValueError("RECUPERO_CONTACT_HOURS must be an object of countries")
    hours: dict[str, Hours] = {}
    for country, spec in parsed.items():
        code = str(country).strip().upper()
        if len(code) != 2 or not code.isalpha() or code == "IT":
            raise ValueError(f"RECUPERO_CONTACT_HOURS: {country!r} is not a foreign country code")
        if not isinstance(spec, dict) or not all(isinstance(v, str) for v in spec.values()):
            raise ValueError(f"RECUPERO_CONTACT_HOURS: {code} must map days to 'HH:MM-HH:MM'")
        try:
            hours[code] = parse_hours(spec)
        except ContactRulesError as exc:
            raise ValueError(f"RECUPERO_CONTACT_HOURS: {code}: {exc}") from exc
    return hours


# The worker makes a payload converter per workflow run, and the pydantic one starts with an
# empty cache of TypeAdapters: building the adapter of PracticeInput (the strategy, the
# invoices) again for every new practice was a good part of the worker's CPU. The adapters only
# depend on the (passed-through, shared) domain types, so one process-wide cache serves all runs.
_type_adapters = functools.lru_cache(maxsize=1024)(TypeAdapter)


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """temporalio.contrib.pydantic's converter (the same JSON on the wire), its TypeAdapters
    cached once per process instead of once per workflow run."""

    def __init__(self) -> None:
        super().__init__()
        for converter in self.converters.values():
            if isinstance(converter, PydanticJSONPlainPayloadConverter):
                converter._type_adapter = _type_adapters


data_converter = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)


async def connect_temporal(
    settings: Settings,
    wait_seconds: float = 60.0,
    *,
    interceptors: Sequence[Interceptor] = (),
    runtime: Runtime | None = None,
) -> Client:
    """The Temporal client every process uses: the pydantic converter carries the domain
    dataclasses (dates included) across the workflow boundary.

    A frontend opens its port a moment before it answers ("Frontend is not healthy yet"), and in
    docker-compose the API and workers may start before the server: connecting is retried for
    `wait_seconds` before the error is raised. `interceptors`: the tracing one when traces are
    exported (api/observe/tracing.py); `runtime`: the worker's, serving the SDK's metrics."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=data_converter,
                interceptors=interceptors,
                runtime=runtime,
            )
        except RuntimeError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.5)
