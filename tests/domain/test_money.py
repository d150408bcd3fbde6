"""domain.money: API euro strings to integer cents and back, and the Italian print of letters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import AmountError, cents_to_decimal_string, format_euros, parse_euros

# the wire format allows up to 12 digits before the decimal point
MAX_CENTS = 10**14 - 1


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1250.40", 125040),
        ("1250.4", 125040),
        ("1250", 125000),
        ("0.01", 1),
        ("0.05", 5),
        ("007.10", 710),
        ("  12.34  ", 1234),
        ("999999999999.99", MAX_CENTS),
    ],
)
def test_parse_euros_known_values(text: str, cents: int) -> None:
    assert parse_euros(text) == cents


@pytest.mark.parametrize(
    "text",
    [
        "-1.00",
        "-0.01",
        "+1.00",
        "1.005",
        "1.000",
        "1e3",
        "1E3",
        "1.5e2",
        "1,50",
        "1.250,40",
        "1_000",
        "",
        "   ",
        ".50",
        "1.",
        "€ 1.50",
        "1.50 EUR",
        "abc",
        "NaN",
        "Infinity",
        "1000000000000.00",  # 13 digits before the point
        "0",
        "0.00",
        "0.0",
    ],
)
def test_parse_euros_rejects(text: str) -> None:
    with pytest.raises(AmountError):
        parse_euros(text)


@pytest.mark.parametrize("value", [None, 12, 12.5, b"12.50"])
def test_parse_euros_rejects_non_strings(value: object) -> None:
    with pytest.raises(AmountError):
        parse_euros(value)  # type: ignore[arg-type]


def test_amount_error_is_a_value_error() -> None:
    # the API turns ValueError into a 422
    assert issubclass(AmountError, ValueError)


@pytest.mark.parametrize("text", ["0", "0.00", "0.0", "000"])
def test_parse_euros_allow_zero(text: str) -> None:
    assert parse_euros(text, allow_zero=True) == 0


def test_parse_euros_allow_zero_still_rejects_negatives() -> None:
    with pytest.raises(AmountError):
        parse_euros("-0.01", allow_zero=True)


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (5, "0.05"),
        (10, "0.10"),
        (100, "1.00"),
        (125040, "1250.40"),
        (100000000, "1000000.00"),
        (-125040, "-1250.40"),
        (-5, "-0.05"),
    ],
)
def test_cents_to_decimal_string_known_values(cents: int, text: str) -> None:
    assert cents_to_decimal_string(cents) == text


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (125040, "€ 1.250,40"),
        (5, "€ 0,05"),
        (0, "€ 0,00"),
        (100, "€ 1,00"),
        (99999, "€ 999,99"),
        (100000, "€ 1.000,00"),
        (100000000, "€ 1.000.000,00"),
        (123456789012, "€ 1.234.567.890,12"),
        (-125040, "-€ 1.250,40"),
    ],
)
def test_format_euros_italian_grouping(cents: int, text: str) -> None:
    assert format_euros(cents) == text


@given(st.integers(min_value=1, max_value=MAX_CENTS))
def test_parse_round_trips_every_positive_amount(cents: int) -> None:
    assert parse_euros(cents_to_decimal_string(cents)) == cents


@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_parse_round_trips_with_allow_zero(cents: int) -> None:
    assert parse_euros(cents_to_decimal_string(cents), allow_zero=True) == cents


@given(st.integers(min_value=1, max_value=MAX_CENTS))
def test_negated_wire_strings_are_refused(cents: int) -> None:
    with pytest.raises(AmountError):
        parse_euros(cents_to_decimal_string(-cents))


@given(st.integers(min_value=0, max_value=MAX_CENTS), st.integers(min_value=0, max_value=9))
def test_a_third_decimal_is_refused(cents: int, digit: int) -> None:
    with pytest.raises(AmountError):
        parse_euros(f"{cents_to_decimal_string(cents)}{digit}", allow_zero=True)


@given(st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS))
def test_format_euros_agrees_with_the_wire_string(cents: int) -> None:
    wire = cents_to_decimal_string(cents)
    printed = format_euros(cents)
    sign = "-" if cents < 0 else ""
    assert printed.startswith(f"{sign}€ ")
    body = printed.removeprefix(f"{sign}€ ")
    whole, frac = body.split(",")
    # Italian style: dots group thousands, a comma separates the cents
    groups = whole.split(".")
    assert all(len(g) == 3 for g in groups[1:])
    assert 1 <= len(groups[0]) <= 3
    assert f"{sign}{''.join(groups)}.{frac}" == wire


@given(st.text())
def test_parse_euros_either_refuses_or_returns_a_positive_int(text: str) -> None:
    try:
        cents = parse_euros(text)
    except AmountError:
        return
    assert isinstance(cents, int)
    assert 0 < cents <= MAX_CENTS
