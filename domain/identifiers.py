"""Validation of Italian and foreign tax identifiers, IBANs, e-mail addresses and phone numbers.

Pure functions over strings: the API turns a ValueError into a 422 naming the field.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import Any, cast

import phonenumbers
import stdnum
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


# -- debtors abroad (issue 16) ------------------------------------------------------------------


class FieldProblem(ValueError):
    """A field's refusal in fixed words the console translates: `template` is the msgid
    (`%(name)s` placeholders), `params` fill it. The API's 422 carries the filled English text;
    the hand-over form looks the template up in the reader's language (gettext)."""

    def __init__(self, template: str, **params: str) -> None:
        super().__init__(template % params if params else template)
        self.template = template
        self.params = params


# Fixed words of the refusals below, collected by the console's catalogue (api/console/i18n.py
# names them in N_ calls so that `make messages` extracts them).
NOT_VALID = "not a valid %(number)s: %(reason)s"
REQUIRED_FOR_CONSUMER = "required for a consumer debtor in %(country)s (%(number)s)"
REQUIRED_FOR_BUSINESS = "required for a business debtor in %(country)s (%(number)s)"
CONSUMER_HAS_NO_VAT = "a consumer has no VAT number; hand it over as a business"
NOT_A_PHONE = "not a valid phone number for %(country)s"


@dataclass(frozen=True, slots=True)
class TaxNumber:
    """A country's tax number as python-stdnum checks it: its module (`stdnum.<cc>.<name>`),
    what people call it, and whether a hand-over must give it."""

    module: str
    name: str
    required: bool


# A consumer's personal tax number, where the country gives one to every resident (required:
# it is how the debtor is told apart across practices) or to taxpayers only (checked when
# given). Countries not listed: a number given is checked with stdnum's `<cc>.tin` when there
# is one, kept as typed (letters and digits only) otherwise.
PERSONAL_TAX_NUMBERS: Mapping[str, TaxNumber] = MappingProxyType(
    {
        "DE": TaxNumber("de.idnr", "Steuer-IdNr", required=True),
        "ES": TaxNumber("es.nif", "NIF (DNI/NIE)", required=True),
        "FR": TaxNumber("fr.nif", "numéro fiscal (NIF)", required=True),
        "AT": TaxNumber("at.tin", "Abgabenkontonummer", required=False),
        "CH": TaxNumber("ch.ssn", "AHV-Nummer", required=False),
        "GB": TaxNumber("gb.utr", "UTR", required=False),
        "US": TaxNumber("us.ssn", "SSN", required=False),
    }
)
# A business's tax number where the country has no VAT number (stdnum has no `<cc>.vat`).
BUSINESS_TAX_NUMBERS: Mapping[str, TaxNumber] = MappingProxyType(
    {"US": TaxNumber("us.ein", "EIN", required=True)}
)
# A business's own tax number beside its VAT number, checked when given.
BUSINESS_EXTRA_TAX_NUMBERS: Mapping[str, TaxNumber] = MappingProxyType(
    {
        "DE": TaxNumber("de.stnr", "Steuernummer", required=False),
        "FR": TaxNumber("fr.siren", "SIREN", required=False),
        "ES": TaxNumber("es.nif", "NIF", required=False),
        "CH": TaxNumber("ch.uid", "UID", required=False),
    }
)
# the prefix of a VAT number in the EU's VIES differs from ISO 3166 for Greece
_VAT_PREFIX = {"GR": "EL"}


def _stdnum(module: str) -> Any:
    return importlib.import_module(f"stdnum.{module}")


def _validated(module: str, name: str, value: str) -> str:
    try:
        return str(_stdnum(module).validate(value))
    except ValidationError as exc:
        raise FieldProblem(NOT_VALID, number=name, reason=str(exc)) from exc


def _module_name(module: object) -> str:
    """ "de.vat" of the module stdnum.de.vat (stdnum's aliases: "fr.tva" for France's VAT)."""
    return cast(ModuleType, module).__name__.removeprefix("stdnum.")


def vat_module(country: str) -> str | None:
    """stdnum's VAT module of the country ("de.vat", "fr.tva"), None where it has none (US)."""
    found = stdnum.get_cc_module(country.lower(), "vat")
    return _module_name(found) if found is not None else None


def vat_name(country: str) -> str:
    return f"VAT number ({country})"


def personal_tax_number(country: str) -> TaxNumber | None:
    """What a consumer of `country` (not Italy) is identified by; None: no number stdnum knows."""
    if country in PERSONAL_TAX_NUMBERS:
        return PERSONAL_TAX_NUMBERS[country]
    found = stdnum.get_cc_module(country.lower(), "tin")
    if found is not None:
        module = _module_name(found)
        return TaxNumber(module, f"tax number ({country})", required=False)
    return None


def business_tax_number(country: str) -> TaxNumber | None:
    """A business's tax number of `country` (not Italy) in the `tax_code` field: required where
    the country has no VAT number (a US company's EIN), otherwise checked when given."""
    if country in BUSINESS_TAX_NUMBERS:
        return BUSINESS_TAX_NUMBERS[country]
    if country in BUSINESS_EXTRA_TAX_NUMBERS:
        return BUSINESS_EXTRA_TAX_NUMBERS[country]
    # never a person's number (a German Steuer-IdNr is no company's): the country's general
    # tax number where stdnum has one, else kept as typed
    found = stdnum.get_cc_module(country.lower(), "tin")
    if found is not None:
        return TaxNumber(_module_name(found), f"tax number ({country})", required=False)
    return None


def normalize_foreign_tax_number(value: str, number: TaxNumber | None) -> str:
    """A tax number abroad in its compact form, checked by stdnum (format and check digits);
    without a module for it, the letters and digits as typed (upper case)."""
    if number is not None:
        return _validated(number.module, number.name, value)
    compact = "".join(ch for ch in value.upper() if ch.isalnum())
    if not compact or len(compact) > 20:
        raise FieldProblem(NOT_VALID, number="tax number", reason="1 to 20 letters or digits")
    return compact


def normalize_foreign_vat_number(value: str, country: str) -> str:
    """A VAT number of `country` (not Italy) checked by stdnum's `<cc>.vat` (format and check
    digits; no online lookup in VIES), stored with its country prefix (DE136695976,
    CHE107787577MWST, EL094259216), as it is written on invoices."""
    module = vat_module(country)
    if module is None:
        raise FieldProblem(NOT_VALID, number=vat_name(country), reason="the country has none")
    compact = _validated(module, vat_name(country), value)
    prefix = _VAT_PREFIX.get(country, country)
    return compact if compact.startswith(prefix) else prefix + compact


def normalize_phone_in(value: str, country: str) -> str:
    """A phone number of a debtor living in `country`: a number without its international
    prefix is read as that country's; any valid number (a German debtor's Italian mobile) is
    accepted. E.164."""
    if country == "IT":
        return normalize_phone(value)
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException as exc:
        raise FieldProblem(NOT_A_PHONE, country=country) from exc
    if not phonenumbers.is_valid_number(number):
        raise FieldProblem(NOT_A_PHONE, country=country)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
