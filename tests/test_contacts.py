"""check_contacts: which channels are usable, and findings that name no personal data."""

from __future__ import annotations

from datetime import date

import pytest

from activities import PracticeActivities
from db.session import Database
from domain.activity_io import CheckContactsInput
from domain.practice import Channels
from tests.factories import VAT_NUMBER, create_creditor, create_practice, invoice, make_settings


@pytest.fixture
def acts(database: Database) -> PracticeActivities:
    return PracticeActivities(database, make_settings())


async def test_a_complete_consumer_file(database: Database, acts: PracticeActivities) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor)
    result = await acts.check_contacts(CheckContactsInput(practice.id))

    assert result.channels == Channels(email=True, phone=True, pec=False, address=True)
    assert result.findings[:3] == [
        "e-mail address valid",
        "phone number valid (mobile)",
        "address complete",
    ]
    assert "tax code valid" in result.findings
    assert "claim EUR 1,000 to 5,000" in result.findings
    assert "2 invoices" in result.findings
    text = " ".join(result.findings)
    for personal in ("Rossi", "example.com", "333", "Verdi", "RSSMRA"):
        assert personal not in text


async def test_a_business_with_a_pec_and_a_landline(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(
        database,
        creditor,
        invoices=[invoice("F1", date(2026, 1, 5), date(2026, 2, 4), 45_000)],
        debtor_kind="business",
        debtor_name="Officine Rossi S.n.c.",
        debtor_tax_code=None,
        debtor_vat_number=VAT_NUMBER,
        email=None,
        phone="02 12345678",
        pec="officinerossi@pec.example.it",
    )
    result = await acts.check_contacts(CheckContactsInput(practice.id))
    assert result.channels == Channels(email=False, phone=True, pec=True, address=True)
    assert "no e-mail address" in result.findings
    assert "phone number valid (landline)" in result.findings
    assert "business debtor: PEC available" in result.findings
    assert "VAT number valid" in result.findings
    assert "claim under EUR 1,000" in result.findings


async def test_wrong_and_invalid_contacts_are_dropped(
    database: Database, acts: PracticeActivities
) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(
        database,
        creditor,
        debtor_kind="business",
        debtor_vat_number="12345678901",
        debtor_tax_code=None,
        email="not-an-address",
        phone="+39 333 1234567",
        invalid_channels=["phone", "address"],
        paid_cents=10_000,
    )
    result = await acts.check_contacts(CheckContactsInput(practice.id))
    assert result.channels == Channels(email=False, phone=False, pec=False, address=False)
    assert "e-mail address not valid" in result.findings
    assert "phone number marked invalid" in result.findings
    assert "postal address marked invalid (letter returned or moved)" in result.findings
    assert "business debtor: no PEC on file" in result.findings
    assert "VAT number not valid" in result.findings
    assert "part of the claim already paid: some ability to pay" in result.findings
    assert result.findings[-1] == "no usable contact: skip tracing needed"


async def test_an_incomplete_address(database: Database, acts: PracticeActivities) -> None:
    creditor = await create_creditor(database)
    practice = await create_practice(database, creditor, postal_code="")
    result = await acts.check_contacts(CheckContactsInput(practice.id))
    assert result.channels.address is False
    assert "address incomplete: missing postal code" in result.findings


async def test_a_debtor_abroad_is_checked_by_its_countrys_rules(
    database: Database, acts: PracticeActivities
) -> None:
    """Issue 16: a German company's VAT number and a New Yorker's SSN are valid by their own
    country's rules, not as a partita IVA or codice fiscale; the findings name neither."""
    creditor = await create_creditor(database)
    company = await create_practice(
        database,
        creditor,
        debtor_kind="business",
        debtor_name="Beispiel GmbH",
        debtor_tax_code=None,
        debtor_vat_number="DE136695976",
        phone="+493012345678",
        street="Unter den Linden 1",
        city="Berlin",
        postal_code="10117",
        province="",
        country="DE",
        time_zone="Europe/Berlin",
    )
    result = await acts.check_contacts(CheckContactsInput(company.id))
    assert "VAT number valid" in result.findings
    assert "address abroad" in result.findings
    consumer = await create_practice(
        database,
        creditor,
        debtor_tax_code="536904399",
        phone="+12024561111",
        street="1 Main St",
        city="New York",
        postal_code="10001",
        province="",
        region="NY",
        country="US",
        time_zone="America/New_York",
    )
    result = await acts.check_contacts(CheckContactsInput(consumer.id))
    assert "tax code valid" in result.findings
    assert "phone number valid (landline)" in result.findings or (
        "phone number valid (mobile)" in result.findings
    )
    text = " ".join(result.findings)
    for personal in ("136695976", "536904399", "Berlin", "New York", "DE", "US"):
        assert personal not in text, personal
