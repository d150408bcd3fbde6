"""Consumer credit (issue 11 point 15): what must happen before enforcement on a consumer-credit
debt.

Sources, and what could be checked here:
- Directive (EU) 2023/2225 of 18 October 2023 on credit agreements for consumers (CCD2, OJ L of
  30 October 2023). Read here: art. 36 in full (in an official language version) and art. 35(1)
  in summaries; the list of art. 35(2) and the number of art. 48 are cited from the Directive as
  known, not re-read here. Art. 35(1): Member States require creditors to have adequate policies and
  procedures so that they make efforts to exercise, where appropriate, reasonable forbearance
  before enforcement proceedings are initiated; the forbearance measures take into account,
  among other elements, the consumer's circumstances. Art. 35(2) lists measures such as total or
  partial refinancing and the modification of the existing terms (extending the term, changing
  the type of credit agreement, deferring all or part of the instalments for a period, changing
  the interest rate, a payment holiday, partial repayments, currency conversions, partial
  forgiveness and debt consolidation). Art. 36(1): Member States ensure independent debt advisory
  services with only limited charges; art. 36(3): creditors refer consumers who face
  difficulties in meeting their financial commitments to easily accessible debt advisory
  services. Art. 48: the national measures apply from 20 November 2026.
- D.Lgs. 31 dicembre 2025, n. 212 (Gazzetta Ufficiale n. 6 of 9 January 2026, in force 10
  January 2026): the Italian transposing act, mainly amending Title VI of the Testo unico
  bancario (D.Lgs. 385/1993). Its text could not be read here (only its heading and preamble
  and secondary summaries were reachable), so the product cites the Directive's articles and the
  decree as the act transposing them; the TUB article numbers it introduces are not cited.

The product's reading: on a consumer's debt the creditor marked as consumer credit at hand-over,
the court phase (the creditor's authorisation of legal action, which leads to the decree and
then to enforcement) is refused from 20 November 2026 until the practice records at least one
forbearance measure offered to the debtor (art. 35) and the debt-advice notice letter has been
sent (art. 36(3)). The agency records what the creditor offered; whether it was "reasonable" is
the creditor's judgement, not the product's.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

# Directive (EU) 2023/2225 art. 48(1): the national measures apply from this day
APPLIES_FROM = date(2026, 11, 20)

DEBT_ADVICE_LETTER = "debt_advice_notice"


class ForbearanceMeasure(StrEnum):
    """The measures of Directive (EU) 2023/2225 art. 35(2), and any other the creditor offered."""

    REFINANCING = "refinancing"  # total or partial refinancing
    TERM_EXTENSION = "term_extension"
    CREDIT_TYPE_CHANGE = "credit_type_change"
    INSTALMENT_DEFERRAL = "instalment_deferral"  # all or part of the instalments, for a period
    INTEREST_RATE_CHANGE = "interest_rate_change"
    PAYMENT_HOLIDAY = "payment_holiday"
    PARTIAL_REPAYMENTS = "partial_repayments"  # e.g. a repayment plan
    CURRENCY_CONVERSION = "currency_conversion"
    PARTIAL_FORGIVENESS = "partial_forgiveness"  # partial forgiveness and debt consolidation
    OTHER = "other"


def missing_before_enforcement(
    consumer_credit: bool, forbearance_offered: bool, debt_advice_sent: bool, today: date
) -> list[str]:
    """What must still happen before the court phase may be authorised; empty when nothing."""
    if not consumer_credit or today < APPLIES_FROM:
        return []
    missing = []
    if not forbearance_offered:
        missing.append("a forbearance measure offered (Directive (EU) 2023/2225 art. 35)")
    if not debt_advice_sent:
        missing.append("the debt-advice notice letter (Directive (EU) 2023/2225 art. 36(3))")
    return missing
