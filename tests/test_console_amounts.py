"""The console reads amounts as people type them (api.console.forms.euros)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from api.console.forms import euros


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("1.250,40", "1250.40"),
        ("250,40", "250.40"),
        ("250.40", "250.40"),
        ("1.250", "1250"),
        ("1.250.000", "1250000"),
        ("1.25", "1.25"),
        ("€ 1.250,40", "1250.40"),
        ("1 250,40", "1250.40"),
        ("1250.40 ", "1250.40"),
        ("", None),
        ("   ", None),
        # not amounts: passed on as typed, for the API's message on the field
        ("10,5x", "10.5x"),
        ("1,2,3", "1,2,3"),
        ("abc", "abc"),
    ],
)
def test_amounts_as_typed(typed: str, read: str | None) -> None:
    assert euros(typed) == read


@given(cents=st.integers(min_value=1, max_value=10**11))
def test_every_amount_written_the_italian_or_the_english_way_reads_back(cents: int) -> None:
    amount = Decimal(cents) / 100
    for locale in ("it_IT", "en_US"):
        written = format_decimal(amount, format="#,##0.00", locale=locale)
        if locale == "en_US":
            written = written.replace(",", "")  # "1,250.40" is not an Italian console's input
        read = euros(written)
        assert read is not None and Decimal(read) == amount, (written, read)
