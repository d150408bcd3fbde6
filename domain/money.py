"""Euro amounts as integer cents: parsing the API's decimal strings and printing Italian style."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")


class AmountError(ValueError):
    pass


def parse_euros(text: str, *, allow_zero: bool = False) -> int:
    """'1250.40' -> 125040. Rejects negatives, more than two decimals, exponents and junk."""
    if not isinstance(text, str):
        raise AmountError('amount must be a decimal string in euros, e.g. "1250.40"')
    cleaned = text.strip()
    if not _AMOUNT.match(cleaned):
        raise AmountError(
            "amount must be a positive decimal string in euros with at most two decimals, "
            'e.g. "1250.40"'
        )
    try:
        cents = int((Decimal(cleaned) * 100).to_integral_exact())
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise AmountError("amount is not a number") from exc
    if cents == 0 and not allow_zero:
        raise AmountError("amount must be greater than zero")
    return cents


_GROUPED = re.compile(r"\d{1,3}(\.\d{3})+")


def as_typed_by_people(text: str) -> str:
    """An amount as people write it, in the API's format: "1.250,40", "250,40", "€ 1.250,40"
    and "250.40" all become "1250.40" (the console's forms, and the CSVs a spreadsheet in
    Italian exports).

    A comma is the decimal separator, and dots then group thousands; without a comma, dots
    group thousands only when every group has three digits ("1.250" is one thousand two
    hundred and fifty, as an Italian reads it), else the dot is the decimal point. "€" and
    spaces are dropped. What is not a number comes back as given, so that parse_euros' own
    message names the mistake."""
    raw = text.strip()
    cleaned = raw.replace("€", "").replace("\xa0", "").replace(" ", "")
    if "," in cleaned:
        if cleaned.count(",") != 1:
            return raw
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif _GROUPED.fullmatch(cleaned.lstrip("-")):
        cleaned = cleaned.replace(".", "")
    return cleaned or raw


def cents_to_decimal_string(cents: int) -> str:
    """125040 -> '1250.40' (the API's wire format)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def format_euros(cents: int) -> str:
    """125040 -> '€ 1.250,40' (how Italian letters print amounts)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", ".")
    return f"{sign}€ {grouped},{frac:02d}"
