"""Where a debtor lives, as the court terms need it (artt. 641, 644 c.p.c.)."""

from __future__ import annotations

from domain.judicial import Residence

# ISO 3166-1 alpha-2 codes of the member states of the European Union (27 since 1 February
# 2020). Greece is GR in ISO 3166; the EU's own code EL is accepted as well.
EU_MEMBER_STATES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "EL",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)


def residence_for_country(country: str | None) -> Residence:
    """IT (or nothing) -> Italy, another EU member state -> EU, anything else -> outside the EU."""
    code = (country or "IT").strip().upper()
    if code == "IT":
        return Residence.ITALY
    if code in EU_MEMBER_STATES:
        return Residence.EU
    return Residence.NON_EU
