"""Where a debtor lives: as the court terms need it (artt. 641, 644 c.p.c.), and the language
and time zone its country implies (debtors abroad)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

from babel.core import Locale, get_global
from babel.languages import get_official_languages

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


# -- debtors abroad (issue 16): the language and time zone a country implies -----------------

# Countries spanning several time zones whose people live overwhelmingly in one (mainland Spain
# and Portugal, not the Canaries, Madeira or the Azores): that one is the default. Any other
# country with zones of different offsets needs the debtor's own (`time_zone`).
MAIN_TIME_ZONES = MappingProxyType(
    {"ES": "Europe/Madrid", "PT": "Europe/Lisbon", "DE": "Europe/Berlin", "IT": "Europe/Rome"}
)


def country_zones(country: str) -> tuple[str, ...]:
    """The IANA time zones of a country (CLDR's territory zones, shipped with Babel)."""
    zones = get_global("territory_zones")
    return tuple(str(zone) for zone in zones.get(country.upper(), ()))


def _offsets(zone: str, year: int) -> tuple[object, ...]:
    info = ZoneInfo(zone)
    return tuple(datetime(year, month, 15, 12, tzinfo=info).utcoffset() for month in (1, 4, 7, 10))


@cache
def default_time_zone(country: str) -> str | None:
    """The time zone of a debtor in `country` when the hand-over names none: the country's only
    one, or the one all of its zones keep time with (same offsets through the year), or its main
    one (MAIN_TIME_ZONES); None when the debtor's own must be given (the United States)."""
    code = country.upper()
    if code in MAIN_TIME_ZONES:
        return MAIN_TIME_ZONES[code]
    zones = country_zones(code)
    if not zones:
        return None
    year = 2026  # fixed: the answer must not change with the clock
    if len({_offsets(zone, year) for zone in zones}) == 1:
        return sorted(zones)[0]
    return None


@cache
def default_language(country: str) -> str:
    """The language letters to a debtor in `country` are written in when the hand-over names
    none: the country's first official language in CLDR (DE, AT -> de; CH -> de; US, GB -> en),
    Italian for Italy and where CLDR knows none."""
    code = country.upper()
    if code == "IT":
        return "it"
    official = get_official_languages(code, de_facto=True)
    for language in official:
        if (
            isinstance(language, str) and len(language) == 2
        ):  # ISO 639-1: the letters' templates are named by it
            return str(language)
    return "it"


# ISO 639-1 codes (two letters) CLDR names: what a debtor's `language` may be
LANGUAGES = frozenset(
    str(code) for code in Locale("en").languages if isinstance(code, str) and len(code) == 2
)
