"""GET /practices/{id}/statement and statement.pdf, on practices built directly in the read model
(the events the workflows would have written), against hand-worked arithmetic.

Rates (shipped, domain/rate_history.py): D.Lgs. 231/2002 11.15% January-June 2025; legal rate
2% in 2025. 2025 has 365 days. Each segment is principal x rate x days / 365, rounded half-up to
the cent once.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pypdf import PdfReader

from db.models import Event, Practice
from domain.calendar import at_rome
from domain.judicial import JUDICIAL_SEQ_BASE
from domain.money import format_euros
from tests.api.helpers import Api, error_locs, rome_today
from tests.factories import backfill, create_creditor, create_practice, invoice

BUSINESS = {"debtor_kind": "business", "debtor_vat_number": "12345670017"}


async def practice_with_events(
    api: Api, invoices: list[Any], events: list[tuple[date, str, dict[str, Any]]], **fields: Any
) -> Practice:
    creditor = await create_creditor(api.db, name="Forniture Lombarde S.r.l.")
    practice = await create_practice(api.db, creditor, invoices, **fields)
    async with api.db.session() as session, session.begin():
        for seq, (day, kind, data) in enumerate(events, start=1):
            session.add(
                Event(
                    practice_id=practice.id,
                    seq=seq,
                    at=at_rome(day).replace(hour=10),
                    kind=kind,
                    summary=kind,
                    data=data,
                )
            )
    await backfill(api.db)
    return practice


async def statement(api: Api, practice_id: str, at: str | None = None) -> dict[str, Any]:
    params = {"at": at} if at else {}
    response = await api.http.get(
        f"/practices/{practice_id}/statement", headers=api.admin, params=params
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def amounts(due: str, paid: str, outstanding: str) -> dict[str, str]:
    return {"due": due, "paid": paid, "outstanding": outstanding}


async def business_example(api: Api) -> Practice:
    return await practice_with_events(
        api,
        [
            invoice("1", date(2025, 1, 1), date(2025, 1, 31), 100000),
            invoice("2", date(2025, 2, 1), date(2025, 2, 28), 200000),
        ],
        [
            (date(2025, 3, 31), "payment", {"amount_cents": 50000, "paid_on": "2025-03-31",
                                            "reference": "CRO 1"}),
            (date(2025, 4, 10), "cost", {"amount_cents": 10000, "incurred_on": "2025-04-10",
                                         "cost_kind": "legal"}),
            (date(2025, 4, 30), "payment", {"amount_cents": 100000, "paid_on": "2025-04-30",
                                            "reference": "CRO 2"}),
            # a dispute rejected reduces nothing; a payment after the statement's day is left out
            (date(2025, 5, 2), "dispute_resolved", {"dispute_id": "d1", "upheld": False}),
            (date(2025, 6, 5), "payment", {"amount_cents": 5000, "paid_on": "2025-06-05",
                                           "reference": "CRO 3"}),
        ],
        # the order agreed in the mandate: all costs, all interest, then principal oldest first
        strategy={"claim_interest": True, "allocation": "costs_interest_principal"},
        **BUSINESS,
    )  # fmt: skip


async def test_statement_of_a_business_debtor_by_hand(api: Api) -> None:
    practice = await business_example(api)
    body = await statement(api, practice.id, "2025-05-31")
    # Invoice 1: 1,000.00 due 31 Jan 2025; invoice 2: 2,000.00 due 28 Feb 2025; business
    # debtor: 231/2002 rate 11.15%, EUR 40 per late invoice; interest claimed (strategy).
    #
    # Payment CRO 1, 31 March, 500.00. Interest up to 31 March included:
    #   inv 1, 1 Feb-31 Mar, 59 days: 1000 x 0.1115 x 59/365 = 18.023 -> 18.02
    #   inv 2, 1-31 Mar, 31 days:     2000 x 0.1115 x 31/365 = 18.940 -> 18.94
    #   the mandate's order: costs 40 + 40, interest 18.02 + 18.94, then 383.04 to inv 1
    #   (-> 616.96)
    # Legal cost of 100.00 on 10 April.
    # Payment CRO 2, 30 April, 1,000.00. Interest 1-30 April, 30 days:
    #   inv 1: 616.96 x 0.1115 x 30/365 = 5.654 -> 5.65
    #   inv 2: 2000 x 0.1115 x 30/365   = 18.329 -> 18.33
    #   costs 100.00, interest 5.65 + 18.33, inv 1's 616.96, then 259.06 to inv 2 (-> 1,740.94)
    # 31 May: inv 2, 1-31 May, 31 days: 1740.94 x 0.1115 x 31/365 = 16.486 -> 16.49
    assert body["interest_claimed"] is True
    assert body["allocation"] == "costs_interest_principal"
    assert body["debtor_kind"] == "business"
    assert body["reference"] == practice.reference
    first, second = body["invoices"]
    assert first["number"] == "1"
    assert first["principal"] == amounts("1000.00", "1000.00", "0.00")
    assert first["interest"] == amounts("23.67", "23.67", "0.00")  # 18.02 + 5.65
    assert first["compensation"] == amounts("40.00", "40.00", "0.00")
    assert first["total_outstanding"] == "0.00"
    assert second["principal"] == amounts("2000.00", "259.06", "1740.94")
    assert second["interest"] == amounts("53.76", "37.27", "16.49")  # 18.94 + 18.33 + 16.49
    assert second["compensation"] == amounts("40.00", "40.00", "0.00")
    assert second["total_outstanding"] == "1757.43"
    assert body["costs"] == [
        {
            "incurred_on": "2025-04-10",
            "kind": "legal",
            "amount": amounts("100.00", "100.00", "0.00"),
        }
    ]
    assert [p["reference"] for p in body["payments"]] == ["CRO 1", "CRO 2"]
    assert [
        (a["bucket"], a["invoice_number"], a["cost_kind"], a["amount"])
        for a in body["payments"][1]["allocation"]
    ] == [
        ("costs", None, "legal", "100.00"),
        ("interest", "1", None, "5.65"),
        ("interest", "2", None, "18.33"),
        ("principal", "1", None, "616.96"),
        ("principal", "2", None, "259.06"),
    ]
    assert [
        (s["invoice_number"], s["start"], s["end"], s["days"], s["principal"], s["rate"],
         s["amount"], s["claimed"])
        for s in body["interest_segments"]
    ] == [
        ("1", "2025-02-01", "2025-03-31", 59, "1000.00", "11.15", "18.02", True),
        ("1", "2025-04-01", "2025-04-30", 30, "616.96", "11.15", "5.65", True),
        ("2", "2025-03-01", "2025-03-31", 31, "2000.00", "11.15", "18.94", True),
        ("2", "2025-04-01", "2025-04-30", 30, "2000.00", "11.15", "18.33", True),
        ("2", "2025-05-01", "2025-05-31", 31, "1740.94", "11.15", "16.49", True),
    ]  # fmt: skip
    assert all(s["rate_kind"] == "late_payment_231" for s in body["interest_segments"])
    assert all(s["year_days"] == 365 for s in body["interest_segments"])
    totals = body["totals"]
    assert totals["principal"] == amounts("3000.00", "1259.06", "1740.94")
    assert totals["interest"] == amounts("77.43", "60.94", "16.49")
    assert totals["costs"] == amounts("180.00", "180.00", "0.00")
    # 3,000.00 + 77.43 + 180.00 due; 1,500.00 paid; 1,757.43 outstanding
    assert totals["total"] == amounts("3257.43", "1500.00", "1757.43")
    assert totals["overpaid"] == "0.00"
    assert body["interest_not_claimed"] is None


async def test_interest_not_claimed_is_shown_for_information_only(api: Api) -> None:
    practice = await practice_with_events(
        api,
        [invoice("A", date(2025, 1, 10), date(2025, 1, 31), 100000)],
        [
            (date(2025, 3, 1), "dispute_resolved",
             {"dispute_id": "d1", "upheld": True, "reduce_by_cents": 20000}),
            (date(2025, 4, 1), "payment",
             {"amount_cents": 30000, "paid_on": "2025-04-01", "reference": "R1"}),
        ],
    )  # fmt: skip
    body = await statement(api, practice.id, "2025-04-30")
    # Claimed (strategy without claim_interest, out of court): principal only.
    #   1,000.00 reduced by 200.00 on 1 March (dispute upheld in part) -> 800.00
    #   payment 300.00 on 1 April -> 500.00 outstanding
    assert body["interest_claimed"] is False
    (line,) = body["invoices"]
    assert line["principal"] == amounts("800.00", "300.00", "500.00")
    assert line["reduced"] == "200.00"
    assert line["interest"] == amounts("0.00", "0.00", "0.00")
    assert body["reductions"] == [
        {
            "on": "2025-03-01",
            "amount": "200.00",
            "applied": [{"invoice_number": "A", "amount": "200.00"}],
            "unapplied": "0.00",
        }
    ]
    assert body["totals"]["total"]["outstanding"] == "500.00"
    # What the law gives (consumer: legal rate 2%), for information:
    #   1 Feb-1 Mar, 29 days on 1,000.00: 1000 x 0.02 x 29/365 = 1.589 -> 1.59
    #   2 Mar-1 Apr, 31 days on 800.00:   800 x 0.02 x 31/365  = 1.359 -> 1.36
    #   the payment of 300.00 pays 2.95 interest first, then 297.05 principal (-> 502.95)
    #   2-30 Apr, 29 days on 502.95:      502.95 x 0.02 x 29/365 = 0.799 -> 0.80
    assert [
        (s["start"], s["end"], s["amount"], s["claimed"]) for s in body["interest_segments"]
    ] == [
        ("2025-02-01", "2025-03-01", "1.59", False),
        ("2025-03-02", "2025-04-01", "1.36", False),
        ("2025-04-02", "2025-04-30", "0.80", False),
    ]
    assert body["interest_not_claimed"] == {
        "interest": "0.80",
        "compensation": "0.00",
        "total_outstanding_if_claimed": "503.75",
    }
    assert body["notes"]


async def test_a_consumer_in_court_switches_to_the_late_payment_rate_on_filing(api: Api) -> None:
    practice = await practice_with_events(
        api,
        [invoice("C", date(2025, 1, 10), date(2025, 1, 31), 100000)],
        [],
        phase="judicial",
    )
    # the judicial workflow's event, numbered above the base
    async with api.db.session() as session, session.begin():
        session.add(
            Event(
                practice_id=practice.id,
                seq=JUDICIAL_SEQ_BASE + 1,
                at=datetime(2025, 3, 1, 9, tzinfo=UTC),
                kind="ricorso_filed",
                summary="filed",
                data={"filed_on": "2025-03-01"},
            )
        )
    body = await statement(api, practice.id, "2025-03-31")
    # judicial phase: interest claimed even though the strategy does not claim it
    #   1-28 Feb, 28 days, legal 2%:       1000 x 0.02 x 28/365   = 1.534 -> 1.53
    #   1-31 Mar, 31 days, 231/2002 11.15%: 1000 x 0.1115 x 31/365 = 9.470 -> 9.47
    assert body["interest_claimed"] is True
    assert body["claim_filed_on"] == "2025-03-01"
    assert [(s["rate_kind"], s["rate"], s["amount"]) for s in body["interest_segments"]] == [
        ("legal", "2", "1.53"),
        ("late_payment_231", "11.15", "9.47"),
    ]
    assert body["invoices"][0]["compensation"]["due"] == "0.00"  # consumers owe no EUR 40
    assert body["totals"]["total"]["outstanding"] == "1011.00"


async def test_statement_dates(api: Api) -> None:
    practice = await practice_with_events(
        api,
        [invoice("D", date(2025, 1, 10), date(2025, 1, 31), 100000)],
        [],
        strategy={"claim_interest": True},
    )
    url = f"/practices/{practice.id}/statement"
    for at in ("2025-01-09", (rome_today() + timedelta(days=1)).isoformat(), "2025-13-01"):
        response = await api.http.get(url, headers=api.admin, params={"at": at})
        assert response.status_code == 422, (at, response.text)
        assert error_locs(response) == [["query", "at"]]
    # the issue date itself is fine; the default is today in Rome (a consumer: the legal rate
    # is shipped to the end of 2026)
    assert (await statement(api, practice.id, "2025-01-10"))["totals"]["total"]["due"] == "1000.00"
    assert (await statement(api, practice.id))["at"] == rome_today().isoformat()


async def test_a_missing_rate_is_a_409_naming_it(api: Api) -> None:
    practice = await business_example(api)
    # no late-payment rate is shipped after June 2026 (and the tests add none for 2026)
    response = await api.http.get(
        f"/practices/{practice.id}/statement", headers=api.admin, params={"at": "2026-08-31"}
    )
    assert response.status_code == 409, response.text
    assert "late_payment_231" in response.json()["detail"]
    assert "2026-07-01" in response.json()["detail"]
    assert "POST /rates" in response.json()["detail"]


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


async def test_statement_pdf(api: Api) -> None:
    practice = await business_example(api)
    response = await api.http.get(
        f"/practices/{practice.id}/statement.pdf", headers=api.admin, params={"at": "2025-05-31"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "estratto-conto-" in response.headers["content-disposition"]
    text = pdf_text(response.content)
    assert "Estratto conto al 31 maggio 2025" in text
    assert practice.reference in text
    assert "Forniture Lombarde S.r.l." in text
    assert "Mario Rossi" in text  # the admin may see the debtor's name
    for amount in (175743, 174094, 1649, 325743, 150000, 61696, 25906, 10000):
        assert format_euros(amount) in text, amount
    assert "11,15%" in text
    assert "art. 1194 c.c." in text
    assert "spese legali" in text
    assert "recupero crediti" not in text.lower()


async def test_statement_pdf_without_interest_prints_only_what_is_claimed(api: Api) -> None:
    practice = await practice_with_events(
        api, [invoice("E", date(2025, 1, 10), date(2025, 1, 31), 100000)], []
    )
    response = await api.http.get(
        f"/practices/{practice.id}/statement.pdf", headers=api.admin, params={"at": "2025-04-30"}
    )
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    assert "Calcolo degli interessi" not in text
    assert "non sono richiesti interessi" in text
    assert format_euros(100000) in text


async def test_the_law_allocates_invoice_by_invoice_and_honours_a_designation(api: Api) -> None:
    """Art. 1193-1194 c.c. (the default order): the invoice the debtor names first; without a
    name the due and oldest invoice first, each one's costs and interest before its principal."""
    practice = await practice_with_events(
        api,
        [
            invoice("1", date(2025, 1, 1), date(2025, 1, 31), 100000),
            invoice("2", date(2025, 2, 1), date(2025, 2, 28), 200000),
        ],
        [
            (date(2025, 3, 31), "payment", {"amount_cents": 50000, "paid_on": "2025-03-31",
                                            "reference": "CRO 1", "invoice_number": "2"}),
            (date(2025, 4, 30), "payment", {"amount_cents": 10000, "paid_on": "2025-04-30",
                                            "reference": "CRO 2"}),
        ],
        strategy={"claim_interest": True},
        **BUSINESS,
    )  # fmt: skip
    body = await statement(api, practice.id, "2025-04-30")
    assert body["allocation"] == "law"
    # CRO 1 names invoice 2: its 40.00, its interest 1-31 March (2000 x 0.1115 x 31/365 =
    # 18.940 -> 18.94), then 441.06 of its principal; invoice 1 (older) gets nothing
    # CRO 2, no name: invoice 1 (due, the oldest): 40.00, interest 27.18 = 18.02 (1 Feb-31 Mar)
    # + 9.16 (1-30 April: 1000 x 0.1115 x 30/365 = 9.164), then 32.82 of principal
    assert [
        (p["reference"], p["designated_invoice"],
         [(a["bucket"], a["invoice_number"], a["amount"]) for a in p["allocation"]])
        for p in body["payments"]
    ] == [
        ("CRO 1", "2", [("costs", "2", "40.00"), ("interest", "2", "18.94"),
                        ("principal", "2", "441.06")]),
        ("CRO 2", None, [("costs", "1", "40.00"), ("interest", "1", "27.18"),
                         ("principal", "1", "32.82")]),
    ]  # fmt: skip


async def test_statement_pdf_explains_the_law_s_order_and_the_designation(api: Api) -> None:
    practice = await practice_with_events(
        api,
        [invoice("A", date(2025, 1, 1), date(2025, 1, 31), 100000)],
        [(date(2025, 3, 31), "payment", {"amount_cents": 5000, "paid_on": "2025-03-31",
                                         "reference": "CRO 9", "invoice_number": "A"})],
    )  # fmt: skip
    response = await api.http.get(
        f"/practices/{practice.id}/statement.pdf", headers=api.admin, params={"at": "2025-04-30"}
    )
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    assert "art. 1193, comma 1, c.c." in text and "art. 1194 c.c." in text
    assert "CRO 9 (per la fatt. A)" in text


async def test_statement_pdf_in_the_language_asked_for(api: Api) -> None:
    """lang= prints the debtor's copy in another of the letters' languages: the headings and
    the explanations translated, amounts, rates and dates in the locale, the legal references
    as they are; without lang the operator's PDF stays Italian."""
    practice = await business_example(api)
    url = f"/practices/{practice.id}/statement.pdf"
    german = await api.http.get(url, headers=api.admin, params={"at": "2025-05-31", "lang": "de"})
    assert german.status_code == 200, german.text
    text = pdf_text(german.content)
    assert "Kontoauszug zum 31. Mai 2025" in text
    for heading in ("Rechnungen", "Zinsberechnung", "Eingegangene Zahlungen und ihre Anrechnung"):
        assert heading in text, heading
    assert "Anwaltskosten" in text and "Schuldnerin" in text
    # Babel's German: "1.757,43 €" (pdf_text turns the no-break space into a space); "11,15 %"
    for cents in (175743, 174094, 1649, 325743, 150000, 61696, 25906, 10000):
        assert f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d} €" in text, cents
    assert "1.757,43 €" in text
    assert "11,15 %" in text and "31.05.2025" in text
    assert "art. 1194 c.c." in text and "D.Lgs. 231/2002" in text
    assert "Estratto conto" not in text and "Calcolo degli interessi" not in text
    english = pdf_text(
        (
            await api.http.get(url, headers=api.admin, params={"at": "2025-05-31", "lang": "en"})
        ).content
    )
    assert "Statement of account as at May 31, 2025" in english
    assert "€1,757.43" in english and "11.15%" in english
    spanish = pdf_text(
        (
            await api.http.get(url, headers=api.admin, params={"at": "2025-05-31", "lang": "es"})
        ).content
    )
    assert "Extracto de cuenta al 31 de mayo de 2025" in spanish and "1.757,43 €" in spanish
    assert "Cálculo de los intereses" in spanish and "gastos de abogado" in spanish
    italian = pdf_text(
        (await api.http.get(url, headers=api.admin, params={"at": "2025-05-31"})).content
    )
    assert "Estratto conto al 31 maggio 2025" in italian and format_euros(175743) in italian


async def test_statement_pdf_refuses_a_language_it_is_not_written_in(api: Api) -> None:
    practice = await business_example(api)
    for lang in ("pt", "DE", ""):
        response = await api.http.get(
            f"/practices/{practice.id}/statement.pdf",
            headers=api.admin,
            params={"at": "2025-05-31", "lang": lang},
        )
        assert response.status_code == 422, response.text
        assert ["query", "lang"] in error_locs(response)
