"""domain.identifiers: codice fiscale, partita IVA, IBAN, e-mail, phone and province."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.identifiers import (
    PROVINCES,
    normalize_email,
    normalize_iban,
    normalize_phone,
    normalize_province,
    normalize_tax_code,
    normalize_vat_number,
)

VALID_CF = "RSSMRA85T10A562S"
VALID_VAT = "00743110157"
VALID_IBAN = "IT60X0542811101000000123456"


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        (VALID_CF, VALID_CF),
        ("rssmra85t10a562s", VALID_CF),
        (" RSS MRA 85T10 A562S ", VALID_CF),
        ("RSS-MRA-85T10-A562S", VALID_CF),
    ],
)
def test_tax_code_valid(value: str, normalized: str) -> None:
    assert normalize_tax_code(value) == normalized


def test_tax_code_accepts_a_company_number() -> None:
    # stdnum treats an 11-digit codice fiscale as a company's (= its partita IVA); the API adds
    # its own 16-character check for consumers
    assert normalize_tax_code(VALID_VAT) == VALID_VAT


@pytest.mark.parametrize(
    "value",
    [
        "RSSMRA85T10A562T",  # wrong check character
        "RSSMRA85T10A562A",
        "RSSMRA85T10A562",  # too short
        "RSSMRA85T10A562SX",  # too long
        "RSSMRA85T99A562S",  # no such day
        "",
        "not a code",
        "00743110158",  # 11 digits with a wrong check digit
    ],
)
def test_tax_code_invalid(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_tax_code(value)


@given(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ").filter(lambda c: c != VALID_CF[-1]))
def test_tax_code_every_other_check_character_is_invalid(check: str) -> None:
    with pytest.raises(ValueError):
        normalize_tax_code(VALID_CF[:-1] + check)


@pytest.mark.parametrize(
    "value", [VALID_VAT, f"IT{VALID_VAT}", f"it{VALID_VAT}", f" IT{VALID_VAT} ", "007 4311 0157"]
)
def test_vat_number_valid_with_and_without_prefix(value: str) -> None:
    assert normalize_vat_number(value) == VALID_VAT


@pytest.mark.parametrize(
    "value",
    ["00743110158", "IT00743110158", "0074311015", "007431101570", "ITABCDEFGHIJK", "", "IT"],
)
def test_vat_number_invalid(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_vat_number(value)


@given(st.integers(min_value=0, max_value=9).filter(lambda d: d != int(VALID_VAT[-1])))
def test_vat_number_every_other_check_digit_is_invalid(check: int) -> None:
    with pytest.raises(ValueError):
        normalize_vat_number(VALID_VAT[:-1] + str(check))


@pytest.mark.parametrize(
    "value",
    [
        VALID_IBAN,
        "it60x0542811101000000123456",
        "IT60 X054 2811 1010 0000 0123 456",
        " IT60X0542811101000000123456 ",
    ],
)
def test_iban_valid(value: str) -> None:
    assert normalize_iban(value) == VALID_IBAN


@given(st.data())
def test_iban_any_single_digit_changed_is_invalid(data: st.DataObject) -> None:
    digit_positions = [i for i, c in enumerate(VALID_IBAN) if c.isdigit()]
    i = data.draw(st.sampled_from(digit_positions))
    new = data.draw(st.sampled_from("0123456789").filter(lambda c: c != VALID_IBAN[i]))
    with pytest.raises(ValueError):
        normalize_iban(VALID_IBAN[:i] + new + VALID_IBAN[i + 1 :])


@pytest.mark.parametrize(
    "value",
    [
        "IT60X0542811101000000123457",
        "IT61X0542811101000000123456",
        "IT60X054281110100000012345",
        # the check digits are right, the Italian CIN is not: only a national check finds it
        "IT64Y0542811101000000123456",
        "",
    ],
)
def test_iban_invalid(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_iban(value)


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("+393331234567", "+393331234567"),
        ("333 1234567", "+393331234567"),
        ("3331234567", "+393331234567"),
        ("0039 333 1234567", "+393331234567"),
        ("+39 333 123 4567", "+393331234567"),
        ("02 12345678", "+390212345678"),  # Milan landline keeps its leading 0
        ("+44 20 7946 0958", "+442079460958"),  # foreign numbers are fine
    ],
)
def test_phone_normalized_to_e164(value: str, normalized: str) -> None:
    assert normalize_phone(value) == normalized


@pytest.mark.parametrize("value", ["12", "", "abc", "+39", "333", "+3933312345678901"])
def test_phone_invalid(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(value)


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("mario.rossi@example.com", "mario.rossi@example.com"),
        ("Mario.Rossi@Example.COM", "Mario.Rossi@example.com"),  # the domain is lower-cased
        ("studio@pec.studiolegale.it", "studio@pec.studiolegale.it"),
        ("a+tag@sub.example.org", "a+tag@sub.example.org"),
    ],
)
def test_email_valid(value: str, normalized: str) -> None:
    assert normalize_email(value) == normalized


@pytest.mark.parametrize(
    "value",
    [
        "",
        "mario",
        "mario@",
        "@example.com",
        "mario@example",
        "mario rossi@example.com",
        "mario@@example.com",
        "mario@example..com",
        "mario@localhost",
    ],
)
def test_email_invalid(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_email(value)


@pytest.mark.parametrize(
    ("value", "normalized"),
    [("mi", "MI"), ("MI", "MI"), (" rm ", "RM"), ("Na", "NA"), ("su", "SU")],
)
def test_province_normalized(value: str, normalized: str) -> None:
    assert normalize_province(value) == normalized


@pytest.mark.parametrize("value", ["XX", "", "M", "MIL", "Milano", "M I"])
def test_province_invalid(value: str) -> None:
    with pytest.raises(ValueError):
        normalize_province(value)


def test_province_list() -> None:
    assert len(PROVINCES) == 107
    assert all(len(p) == 2 and p.isalpha() and p.isupper() for p in PROVINCES)


@given(st.sampled_from(sorted(PROVINCES)))
def test_every_province_is_accepted_in_any_case(code: str) -> None:
    assert normalize_province(code.lower()) == code
    assert normalize_province(code.capitalize()) == code
