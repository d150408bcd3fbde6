"""ISO 8601 durations for strategy timings (P7D, PT30S, P1W, P2DT4H), as exact timedeltas.

Months and years are refused: a "month" has no fixed length, and a creditor's wait must mean
the same number of days on every practice.
"""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?:(?P<weeks>[0-9]+)W)?(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+)S)?)?$"
)


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    if not isinstance(text, str):
        raise DurationError("duration must be an ISO 8601 string such as P7D or PT30S")
    match = _DURATION.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise DurationError(
            f"{text!r} is not an ISO 8601 duration in weeks, days, hours, minutes or seconds "
            "(for example P7D, P1W, PT12H, PT30S)"
        )
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    try:
        return timedelta(
            weeks=parts.get("weeks", 0),
            days=parts.get("days", 0),
            hours=parts.get("hours", 0),
            minutes=parts.get("minutes", 0),
            seconds=parts.get("seconds", 0),
        )
    except OverflowError as exc:
        raise DurationError(f"{text!r} is longer than any wait this product can hold") from exc


def format_duration(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P"
    if days:
        out += f"{days}D"
    if hours or minutes or seconds or not days:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if seconds or not (hours or minutes):
            out += f"{seconds}S"
    return out
