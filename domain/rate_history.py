"""The published Italian interest rates, as data: one row per period, with the act that set it.

Only rates confirmed against the published act (or, where noted, against the ECB rate that the
act restates) are shipped; a day no row covers raises `RateUnknown` in `domain.rates` rather
than accruing at zero. Add a row when the next act is published:

- the legal rate (saggio degli interessi legali, art. 1284 c.c.) is set for each calendar year
  by a decree of the Minister of Economy and Finance published in the Gazzetta Ufficiale by
  15 December of the year before (art. 2 comma 185 L. 662/1996);
- the late-payment rate of D.Lgs. 231/2002 (art. 5, as amended by D.Lgs. 192/2012) is, for each
  half-year, the ECB main refinancing operations rate in force on 1 January / 1 July (the
  "tasso di riferimento" the MEF communicates in the Gazzetta Ufficiale) plus 8 points.

Not shipped: 1 July - 31 December 2026. The reference rate is reported as 2.40% (ECB main
refinancing rate from June 2026, hence 10.40%), but the MEF notice in the Gazzetta Ufficiale that
restates it could not be checked when this was written, and a row ships only with its act: until
it is added (POST /rates with the notice's GU number and date as the source) GET /health lists the
period and the API's startup log names it.

This module has no imports from the rest of the domain so that `domain.rates` can build its
table from it; the rows are plain tuples of (start, end inclusive, rate, source).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

# Art. 5 comma 1 D.Lgs. 231/2002 as amended by D.Lgs. 192/2012: 8 points over the reference
# rate for transactions concluded from 1 January 2013 (7 points before: not shipped here).
LATE_PAYMENT_MARGIN = Decimal("8.00")

LEGAL_RATE_ROWS: tuple[tuple[date, date, Decimal, str], ...] = (
    (
        date(2019, 1, 1),
        date(2019, 12, 31),
        Decimal("0.8"),
        "art. 1284 c.c.; D.M. Economia e Finanze 12 dicembre 2018, GU n. 291 del 15-12-2018",
    ),
    (
        date(2020, 1, 1),
        date(2020, 12, 31),
        Decimal("0.05"),
        "art. 1284 c.c.; D.M. Economia e Finanze 12 dicembre 2019, GU n. 293 del 14-12-2019",
    ),
    (
        date(2021, 1, 1),
        date(2021, 12, 31),
        Decimal("0.01"),
        "art. 1284 c.c.; D.M. Economia e Finanze 11 dicembre 2020, GU n. 310 del 15-12-2020",
    ),
    (
        date(2022, 1, 1),
        date(2022, 12, 31),
        Decimal("1.25"),
        "art. 1284 c.c.; D.M. Economia e Finanze 13 dicembre 2021, GU n. 297 del 15-12-2021",
    ),
    (
        date(2023, 1, 1),
        date(2023, 12, 31),
        Decimal("5"),
        "art. 1284 c.c.; D.M. Economia e Finanze 13 dicembre 2022, GU n. 292 del 15-12-2022",
    ),
    (
        date(2024, 1, 1),
        date(2024, 12, 31),
        Decimal("2.5"),
        "art. 1284 c.c.; D.M. Economia e Finanze 29 novembre 2023, GU n. 288 dell'11-12-2023",
    ),
    (
        date(2025, 1, 1),
        date(2025, 12, 31),
        Decimal("2"),
        "art. 1284 c.c.; D.M. Economia e Finanze 10 dicembre 2024, GU n. 294 del 16-12-2024",
    ),
    (
        date(2026, 1, 1),
        date(2026, 12, 31),
        Decimal("1.6"),
        "art. 1284 c.c.; D.M. Economia e Finanze 10 dicembre 2025, GU n. 289 del 13-12-2025",
    ),
)

# (start, end, ECB reference rate in percent, source of the reference rate). The shipped rate is
# reference + LATE_PAYMENT_MARGIN.
_ECB_ZERO = "ECB main refinancing operations rate 0.00% (in force from 16-03-2016 to 26-07-2022)"

LATE_PAYMENT_REFERENCE_ROWS: tuple[tuple[date, date, Decimal, str], ...] = (
    (
        date(2019, 1, 1),
        date(2019, 6, 30),
        Decimal("0.00"),
        f"Comunicato MEF 1st half 2019 (GU issue not verified); {_ECB_ZERO}",
    ),
    (
        date(2019, 7, 1),
        date(2019, 12, 31),
        Decimal("0.00"),
        f"Comunicato MEF 2nd half 2019 (GU issue not verified); {_ECB_ZERO}",
    ),
    (
        date(2020, 1, 1),
        date(2020, 6, 30),
        Decimal("0.00"),
        f"Comunicato MEF 1st half 2020 (GU issue not verified); {_ECB_ZERO}",
    ),
    (
        date(2020, 7, 1),
        date(2020, 12, 31),
        Decimal("0.00"),
        "Comunicato MEF, GU n. 191 del 31-07-2020 (reference rate 0.00%)",
    ),
    (
        date(2021, 1, 1),
        date(2021, 6, 30),
        Decimal("0.00"),
        "Comunicato MEF, GU n. 29 del 04-02-2021 (reference rate 0.00%)",
    ),
    (
        date(2021, 7, 1),
        date(2021, 12, 31),
        Decimal("0.00"),
        "Comunicato MEF, GU n. 166 del 13-07-2021 (reference rate 0.00%)",
    ),
    (
        date(2022, 1, 1),
        date(2022, 6, 30),
        Decimal("0.00"),
        "Comunicato MEF, GU n. 20 del 26-01-2022 (reference rate 0.00%)",
    ),
    (
        date(2022, 7, 1),
        date(2022, 12, 31),
        Decimal("0.00"),
        "Comunicato MEF, GU n. 197 del 24-08-2022 (reference rate 0.00%)",
    ),
    (
        date(2023, 1, 1),
        date(2023, 6, 30),
        Decimal("2.50"),
        "Comunicato MEF, GU n. 14 del 18-01-2023 (reference rate 2.50%)",
    ),
    (
        date(2023, 7, 1),
        date(2023, 12, 31),
        Decimal("4.00"),
        "Comunicato MEF, GU n. 165 del 17-07-2023 (reference rate 4.00%)",
    ),
    (
        date(2024, 1, 1),
        date(2024, 6, 30),
        Decimal("4.50"),
        "Comunicato MEF, GU n. 12 del 16-01-2024 (reference rate 4.50%)",
    ),
    (
        date(2024, 7, 1),
        date(2024, 12, 31),
        Decimal("4.25"),
        "Comunicato MEF, GU n. 176 del 29-07-2024 (reference rate 4.25%)",
    ),
    (
        date(2025, 1, 1),
        date(2025, 6, 30),
        Decimal("3.15"),
        "Comunicato MEF, GU n. 63 del 17-03-2025 (reference rate 3.15%)",
    ),
    (
        date(2025, 7, 1),
        date(2025, 12, 31),
        Decimal("2.15"),
        "Comunicato MEF, GU n. 161 del 14-07-2025 (reference rate 2.15%)",
    ),
    (
        date(2026, 1, 1),
        date(2026, 6, 30),
        Decimal("2.15"),
        "Comunicato MEF, GU n. 15 del 20-01-2026 (reference rate 2.15%)",
    ),
)
