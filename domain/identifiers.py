"""Validation of Italian tax identifiers, IBANs, e-mail addresses and phone numbers.

Pure functions over strings: the API turns a ValueError into a 422 naming the field.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale, iva

# Italian provinces (sigle automobilistiche): a field agent's territory is a set of these.
PROVINCES = frozenset(
    """AG AL AN AO AP AQ AR AT AV BA BG BI BL BN BO BR BS BT BZ CA CB CE CH CL CN CO CR CS CT CZ
    EN FC FE FG FI FM FR GE GO GR IM IS KR LC LE LI LO LT LU MB MC ME MI MN MO MS MT NA NO NU OR
    PA PC PD PE PG PI PN PO PR PT PU PV PZ RA RC RE RG RI RM RN RO SA SI SO SP SR SS SU SV TA TE
    TN TO TP TR TS TV UD VA VB VC VE VI VR VT VV""".split()
)


def normalize_tax_code(value: str) -> str:
    """A person's codice fiscale (16 characters, with its check character)."""
    try:
        return str(codicefiscale.validate(value))
    except ValidationError as exc:
        raise ValueError(f"not a valid codice fiscale: {exc}") from exc


def normalize_vat_number(value: str) -> str:
    """A partita IVA (11 digits with its check digit); an 'IT' prefix is accepted and dropped."""
    cleaned = value.strip().upper()
    if cleaned.startswith("IT"):
        cleaned = cleaned[2:]
    try:
        return str(iva.validate(cleaned))
    except ValidationError as exc:
        raise ValueError(f"not a valid partita IVA: {exc}") from exc


def normalize_iban(value: str) -> str:
    """An IBAN in its compact form (IT60X0542811101000000123456): the country's length and
    structure, the check digits and, where the country has one, the national check (the
    Italian CIN) verified with schwifty."""
    try:
        return str(IBAN(value, validate_bban=True).compact)
    except SchwiftyException as exc:
        raise ValueError(f"not a valid IBAN: {exc}") from exc


def normalize_email(value: str) -> str:
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from exc


def normalize_phone(value: str) -> str:
    """Any Italian or international number, returned in E.164 (+393331234567)."""
    try:
        number = phonenumbers.parse(value, "IT")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize_province(value: str) -> str:
    cleaned = value.strip().upper()
    if cleaned not in PROVINCES:
        raise ValueError(f"{value!r} is not an Italian province code (e.g. MI, RM, NA)")
    return cleaned
