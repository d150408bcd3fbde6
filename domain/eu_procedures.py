"""The judicial path inside the EU (issue 16, debtors abroad): the European payment order (Reg.
(EC) 1896/2006, "EPO") and the European small claims procedure (Reg. (EC) 861/2007, "ESCP"),
which one applies to a practice, the court's member state, and the terms the court steps hold.

Pure and deterministic, importable by Temporal workflows (the holiday tables are built when the
module is imported, as domain/court_calendar.py does for Italy). No personal data: countries,
amounts, dates.

Sources (the articles each choice comes from are named where it is made):
- Reg. (EC) 1896/2006: art. 2(1) civil and commercial cross-border cases, art. 2(3) Denmark
  excluded, art. 3 cross-border, art. 4 pecuniary claims for a specific amount that have fallen
  due, art. 6(2) a consumer is sued only in the member state of his domicile, art. 7 and form A
  (Annex I), art. 12(1) the court issues within 30 days of lodging, art. 16(2) the statement of
  opposition within 30 days of service, art. 17 opposition -> ordinary civil proceedings (or
  the small claims procedure, as amended by Reg. (EU) 2015/2421), art. 18 declaration of
  enforceability (form G), art. 19 no exequatur.
- Reg. (EC) 861/2007 as amended by Reg. (EU) 2015/2421 (from 14 July 2017): art. 2(1) claims up
  to EUR 5,000 excluding interest, expenses and disbursements, art. 2(3) Denmark excluded, art.
  3 cross-border, art. 4 and form A (Annex I), art. 5(2) the court serves the claim with answer
  form C within 14 days, art. 5(3) the defendant answers within 30 days of service, art. 7(1)
  judgment within 30 days of the answer, art. 7(3) judgment when no answer came in time, art.
  15 enforceable notwithstanding appeal.
- Reg. (EU) 1215/2012 (Brussels I bis): art. 4(1) the defendant's domicile, art. 7(1) the place
  of performance (an alternative for contracts), art. 18(2) consumers only in their own state,
  art. 25 a choice-of-court agreement.
- Time limits: Reg. (EEC, Euratom) 1182/71 (recital 28 of 1896/2006, recital 24 of 861/2007):
  art. 3(1) the day of the event is not counted, art. 3(3) periods include public holidays,
  Sundays and Saturdays, art. 3(4) a period ending on a public holiday, Sunday or Saturday ends
  with the next working day; art. 2(1) public holidays are those of the member state where the
  act is done (the court's). National holidays only (the `holidays` package): a regional one
  (a German Land's) is not applied, which brings a term the creditor waits out no later than
  the law's; the explanation says so. The Italian August suspension (L. 742/1969) is not
  applied: the regulations set these terms themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from domain.calendar import ROME
from domain.countries import EU_MEMBER_STATES, default_time_zone
from domain.judicial_eu import EuProcedure

# Reg. 861/2007 art. 2(1) as amended by Reg. 2015/2421 art. 1(1) (from 14 July 2017): the value
# of the claim, interest, expenses and disbursements excluded, at the time the court receives it
SMALL_CLAIMS_LIMIT_CENTS = 500_000

# the member states both regulations bind (art. 2(3) of each: not Denmark)
EU_COURT_STATES = frozenset(EU_MEMBER_STATES - {"DK", "EL"})


def _code(country: str | None) -> str:
    code = (country or "IT").strip().upper()
    return "GR" if code == "EL" else code


@dataclass(frozen=True)
class EuChoice:
    """Which EU procedure a practice may take and where.

    `eligible` empty: no EU procedure (the debtor is in Italy, Denmark or outside the EU);
    `reasons` then says why. `court_country` is the member state whose courts are seised,
    `forum` the rule that gives them jurisdiction, `alternatives` other member states whose
    courts the creditor may choose (Brussels I bis art. 7(1))."""

    eligible: tuple[EuProcedure, ...]
    recommended: EuProcedure | None
    court_country: str | None
    forum: str
    reasons: tuple[str, ...]
    alternatives: tuple[str, ...] = ()


def italian_courts_refused(*, debtor_country: str | None, consumer: bool) -> str | None:
    """Why an Italian court cannot hear the claim (None: it may). A consumer domiciled in
    another member state is sued only in the courts of that state (Brussels I bis art. 18(2);
    Denmark applies the regulation through its 2005 agreement with the EU): the decreto
    ingiuntivo is not for them, the European procedures or a lawsuit there are."""
    debtor = _code(debtor_country)
    if consumer and debtor != "IT" and (debtor in EU_MEMBER_STATES or debtor == "GR"):
        return (
            f"a consumer domiciled in {debtor} can be sued only in the courts of {debtor} "
            "(art. 18(2) Reg. 1215/2012): the ricorso to an Italian court is not open; "
            "use the European payment order or the small claims procedure"
        )
    return None


def choose_procedure(
    *,
    debtor_country: str | None,
    consumer: bool,
    principal_cents: int,
    creditor_country: str = "IT",
    disputed: bool = False,
    forum_agreement: str | None = None,
    performance_country: str | None = None,
) -> EuChoice:
    """Which EU procedure applies to a claim of `principal_cents` (interest and costs excluded,
    art. 2(1) Reg. 861/2007) against a debtor in `debtor_country`.

    Jurisdiction: a consumer is sued only in its own member state (Brussels I bis art. 18(2),
    repeated by art. 6(2) Reg. 1896/2006), whatever was agreed (art. 19 limits such agreements;
    not modelled: they are rare in collection). A business: the member state a choice-of-court
    agreement names (art. 25), else the debtor's (art. 4(1)); the place of performance (art.
    7(1)) is listed as an alternative. The case must be cross-border (art. 3 of both): one party
    domiciled in a member state other than the court's. Recommended: the small claims
    procedure for a disputed claim within its limit (a contested EPO turns into ordinary
    proceedings, art. 17; the ESCP gives a judgment either way, art. 7), the payment order
    otherwise (no hearing, enforceable when unopposed, art. 18)."""
    debtor = _code(debtor_country)
    creditor = _code(creditor_country)
    if debtor == "DK":
        return EuChoice(
            (),
            None,
            None,
            "",
            ("Denmark does not take part (art. 2(3) Reg. 1896/2006, art. 2(3) Reg. 861/2007)",),
        )
    if debtor not in EU_COURT_STATES:
        return EuChoice((), None, None, "", ("the debtor is not in an EU member state",))
    reasons: list[str] = []
    alternatives: tuple[str, ...] = ()
    if consumer:
        court = debtor
        forum = "art. 18(2) Reg. 1215/2012; art. 6(2) Reg. 1896/2006 (consumer's domicile)"
    elif forum_agreement and _code(forum_agreement) in EU_COURT_STATES:
        court = _code(forum_agreement)
        forum = "art. 25 Reg. 1215/2012 (choice-of-court agreement)"
    else:
        court = debtor
        forum = "art. 4(1) Reg. 1215/2012 (defendant's domicile)"
        place = _code(performance_country) if performance_country else None
        if place and place != court and place in EU_COURT_STATES:
            alternatives = (place,)
            reasons.append(
                f"the courts of {place} may also hear it (place of performance, art. 7(1) "
                "Reg. 1215/2012)"
            )
    if debtor == court == creditor:
        return EuChoice(
            (),
            None,
            court,
            forum,
            ("not cross-border: both parties in the court's member state (art. 3)",),
        )
    eligible = [EuProcedure.PAYMENT_ORDER]
    if 0 < principal_cents <= SMALL_CLAIMS_LIMIT_CENTS:
        eligible.append(EuProcedure.SMALL_CLAIMS)
    else:
        reasons.append("small claims: over EUR 5,000 (art. 2(1) Reg. 861/2007)")
    if disputed and EuProcedure.SMALL_CLAIMS in eligible:
        recommended = EuProcedure.SMALL_CLAIMS
        reasons.append(
            "disputed: the small claims procedure ends in a judgment (art. 7 Reg. 861/2007); "
            "an opposed payment order goes to ordinary proceedings (art. 17 Reg. 1896/2006)"
        )
    else:
        recommended = EuProcedure.PAYMENT_ORDER
        reasons.append(
            "undisputed: the payment order is issued without a hearing and is enforceable when "
            "not opposed within 30 days (artt. 12, 16, 18 Reg. 1896/2006)"
        )
    return EuChoice(tuple(eligible), recommended, court, forum, tuple(reasons), alternatives)


# -- terms (Reg. 1182/71) ----------------------------------------------------------------------

FIRST_YEAR = 2015
LAST_YEAR = 2060


def _holiday_tables() -> MappingProxyType[str, frozenset[date]]:
    years = range(FIRST_YEAR, LAST_YEAR + 1)
    return MappingProxyType(
        {
            code: frozenset(holidays.country_holidays(code, years=years))
            for code in sorted(EU_COURT_STATES)
        }
    )


_HOLIDAYS = _holiday_tables()


@dataclass(frozen=True)
class EuTermRule:
    name: str
    days: int
    source: str
    # the court's own term (to issue, serve or judge): shown and reminded, never a lapse
    court_term: bool = False


EPO_ISSUE = EuTermRule(
    "the court issues the European payment order", 30, "art. 12(1) Reg. 1896/2006", True
)
EPO_OPPOSITION = EuTermRule(
    "statement of opposition to the European payment order", 30, "art. 16(2) Reg. 1896/2006"
)
SMALL_CLAIMS_SERVICE = EuTermRule(
    "the court serves the claim form with answer form C", 14, "art. 5(2) Reg. 861/2007", True
)
SMALL_CLAIMS_ANSWER = EuTermRule(
    "the defendant's answer (form C) in the European small claims procedure",
    30,
    "art. 5(3) Reg. 861/2007",
)
SMALL_CLAIMS_JUDGMENT = EuTermRule(
    "the court gives judgment in the European small claims procedure",
    30,
    "art. 7(1) Reg. 861/2007",
    True,
)

EU_RULES = MappingProxyType(
    {
        "epo_issue": EPO_ISSUE,
        "epo_opposition": EPO_OPPOSITION,
        "esc_service": SMALL_CLAIMS_SERVICE,
        "esc_answer": SMALL_CLAIMS_ANSWER,
        "esc_judgment": SMALL_CLAIMS_JUDGMENT,
    }
)


class EuCalendarError(ValueError):
    """A court outside the member states both regulations bind, or a date outside the table."""


@dataclass(frozen=True)
class EuDeadline:
    rule: EuTermRule
    start: date
    last_day: date
    ends_at: datetime  # the end of the last day in the court's zone, as an instant in Rome
    explanation: str


def _working(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in _HOLIDAYS[country]


def compute_eu_deadline(rule: EuTermRule, start: date, court_country: str) -> EuDeadline:
    """The last day of `rule`'s term from the event on `start` before a court of
    `court_country` (Reg. 1182/71 art. 3: the event's day not counted, every day counted, a
    last day on a Saturday, Sunday or the court state's public holiday moved to the next
    working day)."""
    country = _code(court_country)
    if country not in EU_COURT_STATES:
        raise EuCalendarError(f"{country} is not a member state bound by the regulations")
    if not FIRST_YEAR <= start.year <= LAST_YEAR - 1:
        raise EuCalendarError(f"{start.isoformat()} is outside the calendar")
    term_end = start + timedelta(days=rule.days)
    last = term_end
    while not _working(last, country):
        last += timedelta(days=1)
    parts = [
        f"{rule.days} days from {start.isoformat()} (the day itself not counted, art. 3(1) "
        f"Reg. 1182/71): {term_end.isoformat()}"
    ]
    if last != term_end:
        parts.append(
            f"not a working day in {country} (Saturday, Sunday or public holiday): moved to "
            f"{last.isoformat()} (art. 3(4) Reg. 1182/71)"
        )
    parts.append(f"national public holidays of {country}; regional ones not applied")
    zone = default_time_zone(country) or "Europe/Brussels"
    ends_at = datetime.combine(last + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return EuDeadline(rule, start, last, ends_at.astimezone(ROME), "; ".join(parts))
