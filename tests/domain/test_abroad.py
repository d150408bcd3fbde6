"""Debtors abroad (issue 16), the pure parts: tax and VAT numbers of DE, FR, ES, AT, GB, CH and
US checked by python-stdnum (real-format numbers, valid and with a wrong check digit), addresses
in their country's postal format, the language and zone a country implies, and the contact
rules in another time zone with the country's own public holidays."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from api.console import i18n
from api.schemas import (
    NOT_A_LANGUAGE,
    PROVINCE_ONLY_IN_ITALY,
    REGION_ONLY_ABROAD,
    TIME_ZONE_NOT_IN,
    TIME_ZONE_REQUIRED,
)
from config import parse_contact_hours
from domain import addresses, identifiers
from domain.addresses import address_lines, check_foreign_address
from domain.calendar import ROME
from domain.contact_rules import (
    DAY_TAKEN,
    ITALY,
    OUTSIDE_HOURS,
    OUTSIDE_LOCAL_HOURS,
    ContactRegime,
    ContactRulesError,
    check_conversation,
    check_message,
    debtor_key,
    holiday_subdivision,
    may_contact,
    next_window_start,
    parse_hours,
)
from domain.countries import default_language, default_time_zone
from domain.identifiers import (
    FieldProblem,
    business_tax_number,
    normalize_foreign_tax_number,
    normalize_foreign_vat_number,
    normalize_phone_in,
    personal_tax_number,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def rome(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=ROME)


def local(zone: ZoneInfo, day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=zone)


# -- identifiers -------------------------------------------------------------------------------

# (country, a consumer's tax number as people write it, stored as, the same with one digit wrong)
PERSONAL = [
    ("DE", "36 574 261 809", "36574261809", "36574261808"),
    ("FR", "30 23 217 600 053", "3023217600053", "3023217600054"),
    ("ES", "12345678-Z", "12345678Z", "12345678A"),
    ("AT", "59-119/9013", "591199013", "59-119/9014"),
    ("GB", "1955839661", "1955839661", "1955839662"),
    ("CH", "756.1234.5678.97", "7561234567897", "756.1234.5678.98"),
    ("US", "536-90-4399", "536904399", "000-12-3456"),
]
# (country, a VAT number as written on an invoice, stored as, with a wrong check digit)
VAT = [
    ("DE", "DE 136,695,976", "DE136695976", "DE136695978"),
    ("FR", "FR 40 303 265 045", "FR40303265045", "FR41303265045"),
    ("ES", "ES B-58378431", "ESB58378431", "ESB58378432"),
    ("AT", "ATU 135 856 27", "ATU13585627", "ATU13585626"),
    ("GB", "GB 980 7806 84", "GB980780684", "GB980780685"),
    ("CH", "CHE-107.787.577 MWST", "CHE107787577MWST", "CHE-107.787.578 MWST"),
]


@pytest.mark.parametrize(("country", "typed", "stored", "wrong"), PERSONAL)
def test_a_consumers_tax_number_abroad_is_checked_by_stdnum(
    country: str, typed: str, stored: str, wrong: str
) -> None:
    number = personal_tax_number(country)
    assert number is not None
    assert normalize_foreign_tax_number(typed, number) == stored
    with pytest.raises(FieldProblem) as refused:
        normalize_foreign_tax_number(wrong, number)
    assert refused.value.template == identifiers.NOT_VALID
    assert refused.value.params["number"] == number.name


@pytest.mark.parametrize(("country", "typed", "stored", "wrong"), VAT)
def test_a_vat_number_abroad_keeps_its_country_prefix(
    country: str, typed: str, stored: str, wrong: str
) -> None:
    assert normalize_foreign_vat_number(typed, country) == stored
    with pytest.raises(FieldProblem) as refused:
        normalize_foreign_vat_number(wrong, country)
    assert refused.value.template == identifiers.NOT_VALID
    # another country's number is not this country's
    with pytest.raises(FieldProblem):
        normalize_foreign_vat_number("IT00743110157", country)


def test_what_each_country_requires() -> None:
    # every resident has one: required for a consumer
    for country in ("DE", "ES", "FR"):
        number = personal_tax_number(country)
        assert number is not None and number.required, country
    # taxpayers only, or none every resident has: checked when given
    for country in ("AT", "CH", "GB", "US"):
        number = personal_tax_number(country)
        assert number is not None and not number.required, country
    # no VAT in the United States: a company's EIN is required instead
    assert identifiers.vat_module("US") is None
    ein = business_tax_number("US")
    assert ein is not None and ein.required and ein.module == "us.ein"
    assert normalize_foreign_tax_number("04-2103594", ein) == "042103594"
    with pytest.raises(FieldProblem):
        normalize_foreign_tax_number("07-2103594", ein)  # 07 is no IRS campus prefix
    # a country stdnum has no tax number module for: kept as typed, letters and digits
    assert normalize_foreign_tax_number(" ab-12 34 ", None) == "AB1234"
    with pytest.raises(FieldProblem):
        normalize_foreign_tax_number("---", None)


@pytest.mark.parametrize(
    ("country", "typed", "e164"),
    [
        ("DE", "030 12345678", "+493012345678"),
        ("FR", "01 42 68 53 00", "+33142685300"),
        ("ES", "912 345 678", "+34912345678"),
        ("AT", "01 5880", "+4315880"),
        ("GB", "020 7946 0958", "+442079460958"),
        ("CH", "044 668 18 00", "+41446681800"),
        ("US", "(202) 456-1111", "+12024561111"),
        # a debtor abroad with an Italian mobile
        ("DE", "+39 333 1234567", "+393331234567"),
    ],
)
def test_a_phone_without_its_prefix_is_the_debtors_countrys(
    country: str, typed: str, e164: str
) -> None:
    assert normalize_phone_in(typed, country) == e164


def test_a_phone_wrong_for_the_country_names_it() -> None:
    with pytest.raises(FieldProblem) as refused:
        normalize_phone_in("030 12", "DE")
    assert str(refused.value) == "not a valid phone number for DE"


def test_every_refusal_abroad_is_in_the_consoles_catalogue() -> None:
    """The console translates a FieldProblem by its template: each must be one `make messages`
    extracts (api/console/i18n.py HANDOVER_ABROAD)."""
    templates = {
        identifiers.NOT_VALID,
        identifiers.REQUIRED_FOR_CONSUMER,
        identifiers.REQUIRED_FOR_BUSINESS,
        identifiers.CONSUMER_HAS_NO_VAT,
        identifiers.NOT_A_PHONE,
        addresses.REQUIRED_IN,
        addresses.INVALID_IN,
        addresses.UNKNOWN_COUNTRY,
        PROVINCE_ONLY_IN_ITALY,
        REGION_ONLY_ABROAD,
        TIME_ZONE_REQUIRED,
        TIME_ZONE_NOT_IN,
        NOT_A_LANGUAGE,
    }
    assert templates == set(i18n.HANDOVER_ABROAD)
    italian = i18n.translations("it")
    for template in templates:
        assert italian.gettext(template) != template, template


# -- addresses, languages, zones ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "city", "postal", "region", "stored"),
    [
        ("DE", "Berlin", "10117", "", "10117"),
        ("FR", "Paris", "75008", "", "75008"),
        ("ES", "Madrid", "28013", "M", "28013"),
        ("AT", "Wien", "1010", "", "1010"),
        ("GB", "London", "sw1a 2aa", "", "SW1A 2AA"),
        ("CH", "Zürich", "8001", "", "8001"),
        ("US", "New York", "10001", "NY", "10001"),
    ],
)
def test_an_address_abroad_in_its_postal_format(
    country: str, city: str, postal: str, region: str, stored: str
) -> None:
    checked, problems = check_foreign_address(
        street="Main street 1", city=city, postal_code=postal, region=region, country=country
    )
    assert problems == {} and checked is not None
    assert checked.postal_code == stored and checked.region == region


def test_an_address_abroad_refused_by_field() -> None:
    _, problems = check_foreign_address(
        street="1 Main St", city="New York", postal_code="1000", region="", country="US"
    )
    assert {name: p.template for name, p in problems.items()} == {
        "postal_code": addresses.INVALID_IN,
        "region": addresses.REQUIRED_IN,
    }
    # a Madrid postal code is not one of Barcelona's province
    _, problems = check_foreign_address(
        street="Calle Mayor 1", city="Madrid", postal_code="28013", region="B", country="ES"
    )
    assert set(problems) == {"postal_code"}
    _, problems = check_foreign_address(
        street="x", city="y", postal_code="1", region="", country="ZZ"
    )
    assert set(problems) == {"country"}


def test_the_envelope_abroad_follows_the_country() -> None:
    assert address_lines(
        name="Max Muster",
        street="Unter den Linden 1",
        city="Berlin",
        postal_code="10117",
        region="",
        country="DE",
    ) == ["Max Muster", "Unter den Linden 1", "10117 BERLIN", "GERMANY"]
    assert address_lines(
        name="Jane Roe",
        street="1 Main St",
        city="New York",
        postal_code="10001",
        region="NY",
        country="US",
    ) == ["Jane Roe", "1 Main St", "NEW YORK, NY 10001", "UNITED STATES"]


def test_a_countrys_language_and_time_zone() -> None:
    expected = {
        "IT": ("it", "Europe/Rome"),
        "DE": ("de", "Europe/Berlin"),
        "AT": ("de", "Europe/Vienna"),
        "CH": ("de", "Europe/Zurich"),
        "FR": ("fr", "Europe/Paris"),
        "ES": ("es", "Europe/Madrid"),  # the mainland, not the Canaries
        "GB": ("en", "Europe/London"),
        "US": ("en", None),  # several zones: the hand-over names the debtor's
    }
    for country, (language, zone) in expected.items():
        assert (default_language(country), default_time_zone(country)) == (language, zone)


# -- contact rules abroad ----------------------------------------------------------------------

NY = ContactRegime(zone="America/New_York", country="US", subdivision="NY")
GERMANY = ContactRegime(zone="Europe/Berlin", country="DE")
BAVARIA = ContactRegime(zone="Europe/Berlin", country="DE", subdivision="BY")


def test_the_hours_are_the_debtors_own_in_its_time_zone() -> None:
    # Monday 23 November 2026: 08:30 in New York is 14:30 in Rome
    assert not may_contact(rome("2026-11-23", "14:29"), NY)
    assert may_contact(rome("2026-11-23", "14:30"), NY)
    # 21:00 in New York is 03:00 in Rome the next day: open for the debtor, closed in Italy
    assert may_contact(rome("2026-11-24", "02:59"), NY)
    assert not may_contact(rome("2026-11-24", "02:59"))
    assert not may_contact(rome("2026-11-24", "03:00"), NY)
    refused = check_conversation([], rome("2026-11-23", "09:00"), regime=NY)
    assert (refused.allowed, refused.next_slot, refused.reason) == (
        False,
        local(NEW_YORK, "2026-11-23", "08:30"),
        OUTSIDE_LOCAL_HOURS,
    )
    # the moment returned is in Rome: nothing the workflow records names the debtor's zone
    assert refused.next_slot is not None and refused.next_slot.tzinfo == ROME
    # a debtor in Italy keeps the Italian reason, word for word
    assert check_message(rome("2026-11-29", "10:00")).reason == OUTSIDE_HOURS


def test_a_foreign_public_holiday_closes_the_debtors_day_not_italys() -> None:
    # Thanksgiving, Thursday 26 November 2026: closed in New York, an ordinary day in Italy
    thanksgiving = local(NEW_YORK, "2026-11-26", "10:00")
    assert may_contact(thanksgiving)
    refused = check_conversation([], thanksgiving, regime=NY)
    assert not refused.allowed and refused.reason == OUTSIDE_LOCAL_HOURS
    assert refused.next_slot == local(NEW_YORK, "2026-11-27", "08:30")
    # German Unity Day, Saturday 3 October 2026: closed in Germany, open in Italy
    unity = local(BERLIN, "2026-10-03", "10:00")
    assert may_contact(unity) and not may_contact(unity, GERMANY)
    assert next_window_start(unity, GERMANY) == local(BERLIN, "2026-10-05", "08:30")
    # Liberation Day, Saturday 25 April 2026: closed in Italy, open in Germany
    liberation = local(BERLIN, "2026-04-25", "10:00")
    assert not may_contact(liberation) and may_contact(liberation, GERMANY)
    # Epiphany, Tuesday 6 January 2026: a holiday in Bavaria, not in Berlin
    epiphany = local(BERLIN, "2026-01-06", "10:00")
    assert may_contact(epiphany, GERMANY) and not may_contact(epiphany, BAVARIA)
    assert holiday_subdivision("DE", "by") == "BY"
    assert holiday_subdivision("DE", "Bavaria") is None  # not a code: national holidays only
    assert holiday_subdivision("US", "NY") == "NY"


def test_the_limits_count_the_debtors_own_days() -> None:
    # Monday 20:00 in New York is Tuesday 02:00 in Rome: a call then and one on Tuesday at 10:00
    # in New York are on two of the debtor's days, though on one Roman day
    monday_evening = local(NEW_YORK, "2026-11-23", "20:00")
    tuesday_morning = local(NEW_YORK, "2026-11-24", "10:00")
    assert check_conversation([monday_evening], tuesday_morning, regime=NY).allowed
    # the same day for the debtor is taken
    refused = check_conversation(
        [tuesday_morning], local(NEW_YORK, "2026-11-24", "19:00"), regime=NY
    )
    assert (refused.allowed, refused.reason) == (False, DAY_TAKEN)
    assert refused.next_slot == local(NEW_YORK, "2026-11-25", "08:30")


def test_the_agency_may_set_a_countrys_own_hours() -> None:
    hours = parse_hours({"mon": "08:00-20:00", "tue": "08:00-20:00", "sat": "09:00-13:00"})
    germany = ContactRegime(zone="Europe/Berlin", country="DE", hours=hours)
    assert may_contact(local(BERLIN, "2026-11-23", "08:00"), germany)
    assert not may_contact(local(BERLIN, "2026-11-23", "08:00"), GERMANY)  # the Italian 08:30
    assert not may_contact(local(BERLIN, "2026-11-25", "10:00"), germany)  # no Wednesday hours
    assert not may_contact(local(BERLIN, "2026-11-28", "13:00"), germany)
    for bad in ({"mon": "20:00-08:00"}, {"monday": "08:00-20:00"}, {"mon": "8-20"}):
        with pytest.raises(ContactRulesError):
            parse_hours(bad)
    parsed = parse_contact_hours('{"de": {"mon": "08:00-20:00"}}')
    assert parsed == {"DE": ((0, time(8), time(20)),)}
    for raw in ('{"IT": {"mon": "08:00-20:00"}}', "[1]", '{"DE": {"mon": "x"}}', "{"):
        with pytest.raises(ValueError, match="RECUPERO_CONTACT_HOURS"):
            parse_contact_hours(raw)


def test_a_debtor_abroad_has_a_key_of_its_own_country() -> None:
    # Italian keys exactly as before
    assert debtor_key("RSSMRA85T10A562S", None, "p1") == "RSSMRA85T10A562S"
    assert debtor_key(None, "IT00743110157", "p1") == "00743110157"
    assert debtor_key(None, "00743110157", "p1", "IT") == "00743110157"
    # abroad: the country first, so no foreign number meets an Italian one
    assert debtor_key("36574261809", None, "p1", "DE") == "DE:36574261809"
    assert debtor_key(None, "DE136695976", "p1", "de") == "DE:DE136695976"
    assert debtor_key("00743110157", None, "p1", "CH") != debtor_key("00743110157", None, "p1")
    assert debtor_key(None, None, "p1", "GB") == "practice:p1"
    # a debtor who moved abroad keeps its Italian numbers, and with them its key (its
    # conversations, opt-outs and preferences follow it)
    assert debtor_key("RSSMRA85T10A562S", None, "p1", "DE") == "RSSMRA85T10A562S"
    assert debtor_key(None, "00743110157", "p1", "FR") == "00743110157"
    # a foreign number of 11 digits is never taken for a partita IVA
    assert debtor_key("36574261809", None, "p1", "DE") == "DE:36574261809"
    assert ITALY.is_italy and not GERMANY.is_italy


def test_a_deferral_abroad_reads_in_italian_on_the_timeline() -> None:
    """The workflow records "Call deferred to <moment in Rome>: <reason>"; the console says it
    in Italian, the reason abroad included."""
    from api.console.timeline import timeline_line

    moment = rome("2026-11-23", "14:30").isoformat()
    line = timeline_line(
        "it",
        "contact_deferred",
        f"Call deferred to {moment}: {OUTSIDE_LOCAL_HOURS}",
        {"channel": "call"},
    )
    assert "fuori dagli orari di contatto del luogo in cui vive il debitore" in line
    assert "Call deferred" not in line
