"""The seats of the Italian tribunals and their patron saints' days (issue 11 point 7)."""

from __future__ import annotations

from datetime import date

from domain.court_calendar import DECREE_SERVICE, OPPOSITION, compute_deadline
from domain.court_seats import SEATS, find_seat, normalize_court, patron_days

# the seats of the courts of appeal: every regional capital's tribunal (and the big ones)
REGIONAL_AND_BIG = {
    "Aosta": (9, 7),
    "Torino": (6, 24),
    "Genova": (6, 24),
    "Milano": (12, 7),
    "Trento": (6, 26),
    "Venezia": (4, 25),
    "Trieste": (11, 3),
    "Bologna": (10, 4),
    "Firenze": (6, 24),
    "Perugia": (1, 29),
    "Ancona": (5, 4),
    "Roma": (6, 29),
    "L'Aquila": (6, 10),
    "Campobasso": (4, 23),
    "Napoli": (9, 19),
    "Bari": (12, 6),
    "Potenza": (5, 30),
    "Catanzaro": (7, 16),
    "Palermo": (7, 15),
    "Cagliari": (10, 30),
    "Brescia": (2, 15),
    "Catania": (2, 5),
    "Verona": (5, 21),
    "Padova": (6, 13),
    "Salerno": (9, 21),
    "Messina": (6, 3),
}


def test_every_tribunal_seat_is_listed_once() -> None:
    assert len(SEATS) == 140
    for name, month_day in REGIONAL_AND_BIG.items():
        seat = find_seat(name)
        assert seat is not None and seat.patron_month_day == month_day, name


def test_a_court_is_found_however_it_is_written() -> None:
    assert find_seat("Tribunale di Forlì") is find_seat("forli") is find_seat("FORLÌ")
    assert find_seat("Tribunale di L'Aquila") is find_seat("l aquila")
    assert normalize_court("Tribunale ordinario di Reggio Emilia") == "reggio emilia"
    assert find_seat("Atlantide") is None and find_seat("") is None


def test_patron_days_of_a_seat() -> None:
    assert patron_days("Roma", 2026, 2027) == {date(2026, 6, 29), date(2027, 6, 29)}
    assert patron_days("Asti", 2026, 2027) == frozenset()  # movable feast: not applied
    assert patron_days("", 2026, 2027) == frozenset()


def test_the_patron_day_of_the_seat_extends_an_opposition_term() -> None:
    """Served Thursday 20 May 2027 in Rome: 40 days end on Tuesday 29 June 2027, Saints Peter
    and Paul, a holiday in Rome: the debtor may oppose on Wednesday 30 June."""
    rome = patron_days("Roma", 2027, 2027)
    assert compute_deadline(OPPOSITION, date(2027, 5, 20)).last_day == date(2027, 6, 29)
    extended = compute_deadline(OPPOSITION, date(2027, 5, 20), extra_holidays=rome)
    assert extended.last_day == date(2027, 6, 30)
    assert "local holiday" in extended.explanation


def test_the_decree_service_in_rome_is_safe_before_the_patron_day() -> None:
    """Issued Friday 30 April 2027: 60 days end on Tuesday 29 June 2027. In Rome the law's
    reading extends it to 30 June; the creditor is shown 29 June, the office closed that day."""
    rome = patron_days("Roma", 2027, 2027)
    deadline = compute_deadline(DECREE_SERVICE, date(2027, 4, 30), extra_holidays=rome)
    assert (deadline.last_day, deadline.law_last_day) == (date(2027, 6, 29), date(2027, 6, 30))
    assert "patron saint" in deadline.explanation
