"""Which EU procedure applies (Reg. 1896/2006, Reg. 861/2007, Brussels I bis) and the EU terms
(Reg. 1182/71) on the court state's calendar."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.calendar import ROME
from domain.eu_procedures import (
    EPO_OPPOSITION,
    SMALL_CLAIMS_ANSWER,
    SMALL_CLAIMS_LIMIT_CENTS,
    EuCalendarError,
    choose_procedure,
    compute_eu_deadline,
)
from domain.judicial_eu import EuProcedure

PO, SC = EuProcedure.PAYMENT_ORDER, EuProcedure.SMALL_CLAIMS


def test_the_small_claims_limit_is_eur_5000() -> None:
    # Reg. 861/2007 art. 2(1) as amended by Reg. 2015/2421 (from 14 July 2017)
    assert SMALL_CLAIMS_LIMIT_CENTS == 500_000
    at_limit = choose_procedure(debtor_country="FR", consumer=True, principal_cents=500_000)
    over = choose_procedure(debtor_country="FR", consumer=True, principal_cents=500_001)
    assert at_limit.eligible == (PO, SC)
    assert over.eligible == (PO,)
    assert any("EUR 5,000" in r for r in over.reasons)


def test_a_consumer_is_sued_in_its_own_country_whatever_was_agreed() -> None:
    choice = choose_procedure(
        debtor_country="at",
        consumer=True,
        principal_cents=120_000,
        forum_agreement="IT",
        performance_country="IT",
    )
    assert choice.court_country == "AT"
    assert "art. 18(2)" in choice.forum
    assert choice.alternatives == ()


def test_a_business_at_its_domicile_or_where_the_contract_was_performed() -> None:
    choice = choose_procedure(
        debtor_country="DE", consumer=False, principal_cents=900_000, performance_country="IT"
    )
    assert choice.court_country == "DE"
    assert "art. 4(1)" in choice.forum
    assert choice.alternatives == ("IT",)
    assert choice.eligible == (PO,)


def test_a_business_before_the_agreed_court() -> None:
    choice = choose_procedure(
        debtor_country="ES", consumer=False, principal_cents=100_000, forum_agreement="IT"
    )
    assert choice.court_country == "IT"
    assert "art. 25" in choice.forum
    # still cross-border: the debtor lives in another member state than the court's
    assert choice.eligible == (PO, SC)


def test_the_recommendation_follows_a_dispute() -> None:
    plain = choose_procedure(debtor_country="BE", consumer=True, principal_cents=100_000)
    disputed = choose_procedure(
        debtor_country="BE", consumer=True, principal_cents=100_000, disputed=True
    )
    big_disputed = choose_procedure(
        debtor_country="BE", consumer=True, principal_cents=800_000, disputed=True
    )
    assert plain.recommended == PO
    assert disputed.recommended == SC
    assert big_disputed.recommended == PO


@pytest.mark.parametrize(
    ("country", "why"),
    [
        ("DK", "Denmark"),
        ("CH", "not in an EU member state"),
        ("GB", "not in an EU member state"),
        ("IT", "not cross-border"),
        (None, "not cross-border"),
    ],
)
def test_no_eu_procedure(country: str | None, why: str) -> None:
    choice = choose_procedure(debtor_country=country, consumer=True, principal_cents=10_000)
    assert choice.eligible == () and choice.recommended is None
    assert why in choice.reasons[0]


def test_greece_by_its_eu_code() -> None:
    choice = choose_procedure(debtor_country="EL", consumer=True, principal_cents=10_000)
    assert choice.court_country == "GR"


def test_thirty_days_counted_from_the_day_after() -> None:
    # served Monday 2 March 2026: day 30 is Wednesday 1 April, a working day in Germany
    term = compute_eu_deadline(EPO_OPPOSITION, date(2026, 3, 2), "DE")
    assert term.last_day == date(2026, 4, 1)
    assert term.ends_at == datetime(2026, 4, 2, 0, 0, tzinfo=ROME)
    assert "art. 3(1) Reg. 1182/71" in term.explanation


def test_a_last_day_on_a_weekend_or_the_court_state_s_holiday_moves_on() -> None:
    # served 5 March 2026: day 30 is Saturday 4 April; Monday 6 April is Easter Monday in
    # France: the term ends on Tuesday 7 April
    term = compute_eu_deadline(SMALL_CLAIMS_ANSWER, date(2026, 3, 5), "FR")
    assert term.last_day == date(2026, 4, 7)
    assert "art. 3(4) Reg. 1182/71" in term.explanation
    # 1 May 2026 is a Friday: a holiday in Austria, an ordinary day in the Netherlands
    assert compute_eu_deadline(EPO_OPPOSITION, date(2026, 4, 1), "AT").last_day == date(2026, 5, 4)
    assert compute_eu_deadline(EPO_OPPOSITION, date(2026, 4, 1), "NL").last_day == date(2026, 5, 1)


def test_no_august_suspension_in_the_eu_terms() -> None:
    term = compute_eu_deadline(EPO_OPPOSITION, date(2026, 7, 20), "ES")
    assert term.last_day == date(2026, 8, 19)


def test_the_term_ends_at_midnight_in_the_court_s_zone() -> None:
    # Lisbon is an hour behind Rome: its midnight is 01:00 in Rome
    term = compute_eu_deadline(EPO_OPPOSITION, date(2026, 3, 2), "PT")
    assert term.ends_at == datetime(2026, 4, 2, 1, 0, tzinfo=ROME)


def test_a_court_in_denmark_or_outside_the_eu_has_no_eu_terms() -> None:
    with pytest.raises(EuCalendarError):
        compute_eu_deadline(EPO_OPPOSITION, date(2026, 3, 2), "DK")
    with pytest.raises(EuCalendarError):
        compute_eu_deadline(EPO_OPPOSITION, date(2026, 3, 2), "CH")


def test_italian_courts_are_refused_only_for_a_consumer_in_another_member_state() -> None:
    from domain.eu_procedures import italian_courts_refused

    assert italian_courts_refused(debtor_country="DE", consumer=True) is not None
    # Denmark is outside the EU procedures but bound by Brussels I bis through its agreement
    assert italian_courts_refused(debtor_country="DK", consumer=True) is not None
    assert italian_courts_refused(debtor_country="EL", consumer=True) is not None
    assert italian_courts_refused(debtor_country="DE", consumer=False) is None
    assert italian_courts_refused(debtor_country="IT", consumer=True) is None
    assert italian_courts_refused(debtor_country=None, consumer=True) is None
    assert italian_courts_refused(debtor_country="CH", consumer=True) is None
