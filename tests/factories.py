"""Rows for tests: creditors, practices with invoices, users, and settings without credentials.

Values are valid by the rules of domain/identifiers.py (IBAN, codice fiscale, partita IVA,
phone, e-mail), so code that re-validates them treats them as good unless a test says otherwise.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from config import Settings
from db.ledger_backfill import backfill_ledger
from db.models import Creditor, InvoiceRow, Practice, User
from db.session import Database
from domain.practice import workflow_id_for

IBAN = "IT60X0542811101000000123456"
TAX_CODE = "RSSMRA85T10A562S"
VAT_NUMBER = "12345670017"
CREDITOR_VAT_NUMBER = "07654320154"

_counter = itertools.count(1)


def make_settings(**overrides: Any) -> Settings:
    """Settings with no provider credentials: every channel writes to the outbox."""
    base = Settings(
        data_dir=Path("/nonexistent"),
        database_url="sqlite+aiosqlite://",
        temporal_address="localhost:7233",
        temporal_namespace="default",
        task_queue="recupero-test",
        api_host="127.0.0.1",
        api_port=8000,
        temporal_port=7233,
        temporal_ui_port=8233,
        admin_key="",
        agency_name="Studio Servizi Creditizi",
        debtor_link_secret="tests-debtor-link-secret",
        agency_email="pratiche@studio-servizi.example.it",
        agency_phone="+39 02 1234567",
        sendgrid_api_key="",
        sendgrid_from="noreply@studio-servizi.example.it",
        sendgrid_host="https://api.sendgrid.com",
        twilio_account_sid="",
        twilio_auth_token="",
        twilio_from="",
        twilio_base_url="",
        # the rules' own earliest moments, which most tests assert; the spread over the
        # window's first hours is tested with it set (tests/test_contact_limits.py)
        contact_spread_minutes=0,
    )
    return replace(base, **overrides)


def invoice(number: str, issue: date, due: date, amount_cents: int) -> InvoiceRow:
    return InvoiceRow(number=number, issue_date=issue, due_date=due, amount_cents=amount_cents)


def default_invoices() -> list[InvoiceRow]:
    return [
        invoice("2026/0117", date(2026, 3, 2), date(2026, 4, 1), 84_050),
        invoice("2026/0342", date(2026, 5, 4), date(2026, 6, 3), 41_000),
    ]


async def create_creditor(db: Database, **overrides: Any) -> Creditor:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Forniture Lombarde {n} S.r.l.",
        "vat_number": CREDITOR_VAT_NUMBER,
        "iban": IBAN,
        "email": f"amministrazione{n}@forniture.example.it",
        "strategy": {},
    }
    values.update(overrides)
    creditor = Creditor(**values)
    async with db.session() as session, session.begin():
        session.add(creditor)
    return creditor


async def create_practice(
    db: Database,
    creditor: Creditor,
    invoices: list[InvoiceRow] | None = None,
    **overrides: Any,
) -> Practice:
    """A consumer practice in Milan with e-mail and mobile phone, balance = sum of invoices."""
    n = next(_counter)
    rows = default_invoices() if invoices is None else invoices
    total = sum(i.amount_cents for i in rows)
    values: dict[str, Any] = {
        "creditor_id": creditor.id,
        "reference": f"PR-2026-{n:05d}",
        "debtor_kind": "consumer",
        "debtor_name": "Mario Rossi",
        "debtor_tax_code": TAX_CODE,
        "email": "mario.rossi@example.com",
        "phone": "+39 333 1234567",
        "pec": None,
        "street": "Via Giuseppe Verdi 12",
        "city": "Milano",
        "postal_code": "20121",
        "province": "MI",
        "country": "IT",
        "invalid_channels": [],
        "claim_cents": total,
        "balance_cents": total,
        "paid_cents": 0,
        "strategy": {},
    }
    values.update(overrides)
    practice = Practice(**values, invoices=rows)
    practice.workflow_id = values.get("workflow_id") or workflow_id_for(f"test-{n}")
    async with db.session() as session, session.begin():
        session.add(practice)
    return practice


async def create_user(db: Database, role: str, **overrides: Any) -> User:
    n = next(_counter)
    values: dict[str, Any] = {
        "role": role,
        "name": f"{role.replace('_', ' ').title()} {n}",
        "email": f"{role}{n}@studio-servizi.example.it",
        "provinces": [],
        "key_hash": hashlib.sha256(f"key-{role}-{n}".encode()).hexdigest(),
        "active": True,
    }
    values.update(overrides)
    user = User(**values)
    async with db.session() as session, session.begin():
        session.add(user)
    return user


async def backfill(db: Database) -> int:
    """The ledger of hand-made timeline events, built as migration 0019 builds it for the
    practices recorded before the ledger (db/ledger_backfill.py): tests that write events by
    hand stand for such practices."""
    async with db.engine.begin() as conn:
        return await conn.run_sync(backfill_ledger)
