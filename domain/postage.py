"""Postage of a letter: the postal zone of the debtor's country and the service the mail house
posts it with (debtors abroad, issue 16).

Zones as Poste Italiane's international letter tariffs (Posta Prioritaria Internazionale,
Raccomandata Internazionale) group destinations: zone 1 Europe and the Mediterranean basin,
zone 2 Africa, Asia and the Americas, zone 3 Oceania. San Marino and the Vatican City are served
at the domestic tariff, so they count as Italy. The lists below are the countries of those
groups by ISO 3166-1 alpha-2 code; the mail house's current tariff sheet prevails where a
country was moved between zones.
"""

from __future__ import annotations

from enum import StrEnum


class PostalZone(StrEnum):
    ITALY = "italy"
    ZONE_1 = "zone_1"  # Europe and the Mediterranean basin
    ZONE_2 = "zone_2"  # Africa, Asia, the Americas
    ZONE_3 = "zone_3"  # Oceania


class PostalService(StrEnum):
    ORDINARY = "posta_ordinaria"
    REGISTERED = "raccomandata_ar"
    INTERNATIONAL = "posta_internazionale"
    # abroad the registered letter with advice of delivery is Poste Italiane's "raccomandata
    # internazionale" (the CN 07 avviso di ricevimento returns from the destination's post)
    INTERNATIONAL_REGISTERED = "raccomandata_internazionale"


DOMESTIC = frozenset({"IT", "SM", "VA"})

# Europe (including Russia, Turkey and the Caucasus states Poste Italiane lists with Europe)
# and the countries on the Mediterranean's southern and eastern shores
ZONE_1 = frozenset(
    {
        # the EU's member states other than Italy
        *"AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE LT LU LV MT NL PL PT RO SE SI SK".split(),
        # the rest of Europe
        *"AD AL AM AZ BA BY CH FO GE GG GI GB IM IS JE LI MC MD ME MK NO RS RU TR UA XK".split(),
        # the Mediterranean basin outside Europe
        *"DZ EG IL JO LB LY MA PS SY TN".split(),
    }
)

ZONE_3 = frozenset(
    "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV VU WF WS".split()
)


def postal_zone(country: str | None) -> PostalZone:
    code = (country or "IT").strip().upper()
    if code == "EL":  # the EU's code for Greece
        code = "GR"
    if code in DOMESTIC:
        return PostalZone.ITALY
    if code in ZONE_1:
        return PostalZone.ZONE_1
    if code in ZONE_3:
        return PostalZone.ZONE_3
    return PostalZone.ZONE_2


def postal_service(country: str | None, registered: bool) -> PostalService:
    """The product the mail house posts a letter with: a registered letter (formal demand,
    notice of legal action) is a raccomandata A/R in Italy and a raccomandata internazionale
    abroad."""
    domestic = postal_zone(country) is PostalZone.ITALY
    if registered:
        return PostalService.REGISTERED if domestic else PostalService.INTERNATIONAL_REGISTERED
    return PostalService.ORDINARY if domestic else PostalService.INTERNATIONAL
