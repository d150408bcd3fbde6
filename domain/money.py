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
