"""domain.durations: ISO 8601 durations in weeks, days, hours, minutes and seconds only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("P7D", timedelta(days=7)),
        ("P1W", timedelta(weeks=1)),
        ("P2W3D", timedelta(days=17)),
        ("PT30S", timedelta(seconds=30)),
        ("PT12H", timedelta(hours=12)),
        ("PT5M", timedelta(minutes=5)),
        ("PT0S", timedelta(0)),
        ("P0D", timedelta(0)),
        ("P2DT4H5M6S", timedelta(days=2, hours=4, minutes=5, seconds=6)),
        ("PT90M", timedelta(minutes=90)),
        ("PT36H", timedelta(hours=36)),
        ("p7d", timedelta(days=7)),
        ("p2dt4h5m6s", timedelta(days=2, hours=4, minutes=5, seconds=6)),
        ("pt30s", timedelta(seconds=30)),
        ("  P7D  ", timedelta(days=7)),
    ],
)
def test_parse_duration_accepts(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize(
    "text",
    [
        "P1M",  # months have no fixed length
        "P1Y",
        "P1Y2D",
        "P",
        "PT",
        "P1DT",
        "pt",
        "7 days",
        "7",
        "-P1D",
        "P-1D",
        "+P1D",
        "PT1.5S",
        "PT0,5S",
        "P1D2W",  # wrong order
        "PT5S4M",
        "P1H",  # hours need the T
        "T1H",
        "",
        "   ",
        "P 1D",
    ],
)
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize("value", [None, 7, timedelta(days=7), b"P7D"])
def test_parse_duration_refuses_non_strings(value: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(value)  # type: ignore[arg-type]


def test_duration_error_is_a_value_error() -> None:
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        "P1000000000D",  # more days than a timedelta can hold
        "P200000000W",
        "PT99999999999999999999H",
        "PT99999999999999999999999S",
    ],
)
def test_parse_duration_refuses_durations_too_long_for_a_timedelta(text: str) -> None:
    # an absurd duration is a bad input like any other: DurationError (a ValueError the API turns
    # into a 422), not an OverflowError escaping as a 500
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(seconds=30), "PT30S"),
        (timedelta(minutes=5), "PT5M"),
        (timedelta(hours=12), "PT12H"),
        (timedelta(days=7), "P7D"),
        (timedelta(weeks=1), "P7D"),
        (timedelta(days=2, hours=4, minutes=5, seconds=6), "P2DT4H5M6S"),
        (timedelta(days=1, seconds=1), "P1DT1S"),
        (timedelta(hours=1, seconds=1), "PT1H1S"),
    ],
)
def test_format_duration_known_values(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


# whole seconds, up to a bit under the largest timedelta
whole_second_deltas = st.integers(min_value=0, max_value=999_999_999 * 86400).map(
    lambda s: timedelta(seconds=s)
)


@given(whole_second_deltas)
def test_format_then_parse_round_trips(delta: timedelta) -> None:
    assert parse_duration(format_duration(delta)) == delta


@given(whole_second_deltas)
def test_format_is_canonical(delta: timedelta) -> None:
    text = format_duration(delta)
    assert format_duration(parse_duration(text)) == text
    assert format_duration(parse_duration(text.lower())) == text


@given(
    st.integers(min_value=0, max_value=1000),
    st.integers(min_value=0, max_value=1000),
    st.integers(min_value=0, max_value=1000),
    st.integers(min_value=0, max_value=1000),
    st.integers(min_value=0, max_value=1000),
)
def test_parse_adds_up_every_component(w: int, d: int, h: int, m: int, s: int) -> None:
    text = f"P{w}W{d}DT{h}H{m}M{s}S"
    expected = timedelta(weeks=w, days=d, hours=h, minutes=m, seconds=s)
    assert parse_duration(text) == expected
    assert parse_duration(format_duration(expected)) == expected


@given(st.text())
def test_parse_duration_either_refuses_or_returns_a_timedelta(text: str) -> None:
    try:
        delta = parse_duration(text)
    except DurationError:
        return
    assert isinstance(delta, timedelta)
    assert delta >= timedelta(0)


@given(st.sampled_from("WDHMS"), st.integers(min_value=0, max_value=10**30))
def test_any_count_of_one_unit_is_a_timedelta_or_a_duration_error(unit: str, n: int) -> None:
    text = f"P{n}{unit}" if unit in "WD" else f"PT{n}{unit}"
    try:
        delta = parse_duration(text)
    except DurationError:
        return
    per_unit = {"W": 604800, "D": 86400, "H": 3600, "M": 60, "S": 1}[unit]
    assert delta == timedelta(seconds=n * per_unit)
