"""The EU judicial path at the API (issue 16): which procedure applies to a debtor in another
member state, form A prefilled as a PDF, the lawyer's EU steps validated before the workflow is
asked, and the EU terms on the court calendar (the practice page, the lawyer's deadlines).

The steps' end-to-end run is in tests/workflows/test_judicial_eu.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from activities import PracticeActivities
from db.models import Practice
from domain.activity_io import RecordJudicialInput
from domain.eu_procedures import EPO_OPPOSITION, compute_eu_deadline
from domain.judicial import JUDICIAL_SEQ_BASE, DeadlineStatus, DeadlineView, JudicialSnapshot, Stage
from domain.judicial_eu import EuProcedure, EuView
from domain.money import format_euros
from domain.practice import TimelineEvent
from tests.api.helpers import Api, error_locs, new_user, rome_today
from tests.api.test_statement import pdf_text
from tests.factories import IBAN, create_creditor, create_practice, invoice, make_settings

BERLIN = {
    "country": "DE",
    "street": "Unter den Linden 5",
    "city": "Berlin",
    "postal_code": "10117",
    "province": "",
    "language": "de",
    "time_zone": "Europe/Berlin",
    "debtor_tax_code": None,
    "debtor_name": "Hans Becker",
}


async def eu_practice(
    api: Api, lawyer_id: str, invoices: list[Any] | None = None, **fields: Any
) -> Practice:
    creditor = await create_creditor(api.db, name="Forniture Lombarde S.r.l.")
    values: dict[str, Any] = {**BERLIN, "phase": "judicial", "lawyer_id": lawyer_id}
    values.update(fields)
    rows = invoices or [
        invoice("2026/0117", date(2026, 3, 2), date(2026, 4, 1), 84_050),
        invoice("2026/0342", date(2026, 5, 4), date(2026, 6, 3), 41_000),
    ]
    return await create_practice(api.db, creditor, rows, **values)


async def test_a_consumer_in_germany_the_payment_order_in_german_courts(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    practice = await eu_practice(api, lawyer_id)
    response = await api.http.get(f"/practices/{practice.id}/judicial/eu", headers=lawyer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["eligible"] == ["eu_payment_order", "eu_small_claims"]
    assert body["recommended"] == "eu_payment_order"
    assert body["court_country"] == "DE"
    assert "art. 18(2) Reg. 1215/2012" in body["forum"]
    assert body["principal"] == "1250.50"


async def test_form_a_of_the_payment_order_is_prefilled(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    practice = await eu_practice(api, lawyer_id)
    response = await api.http.get(
        f"/practices/{practice.id}/judicial/eu/form-a.pdf", headers=lawyer
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "form-a-eu_payment_order-" in response.headers["content-disposition"]
    text = pdf_text(response.content)
    assert "Application for a European order for payment" in text
    assert "Annex I of Regulation (EC) No 1896/2006" in text
    # 1. court, 2. parties
    assert "Member State DE" in text
    assert "Forniture Lombarde S.r.l." in text and IBAN in text
    assert "Hans Becker (consumer)" in text
    assert "Unter den Linden 5, 10117 Berlin, DE" in text
    # 3. jurisdiction, 4. cross-border
    assert "art. 18(2) Reg. 1215/2012" in text
    assert "Claimant's domicile IT" in text and "Defendant's domicile DE" in text
    # 6. principal, 7. interest, 9. costs
    assert "2026/0117" in text and "2026/0342" in text
    assert format_euros(84_050) in text and format_euros(125_050) in text
    assert "Total claimed" in text
    assert "art. 1284 c.c." in text  # a consumer: the legal rate
    # 10. evidence, 11. declaration
    assert "Invoice no. 2026/0117 of 2026-03-02, due 2026-04-01" in text
    assert f"Statement of account at {rome_today().isoformat()}" in text
    assert "true to the best of my knowledge and belief" in text
    assert "recupero crediti" not in text.lower()


async def test_form_a_of_small_claims_and_its_limit(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    # before the court steps (no interest claimed: the late-payment rate of 2026's second half
    # is not in this database)
    practice = await eu_practice(
        api, lawyer_id, debtor_kind="business", debtor_vat_number="DE136695976", phase="escalation"
    )
    url = f"/practices/{practice.id}/judicial/eu/form-a.pdf"
    response = await api.http.get(url, headers=lawyer, params={"procedure": "eu_small_claims"})
    assert response.status_code == 200, response.text
    text = pdf_text(response.content)
    assert "Claim form, European small claims procedure" in text
    assert "at most € 5.000,00" in text
    assert "art. 4(1) Reg. 1215/2012" in text  # a business: its domicile
    assert "DE136695976" in text
    assert "No interest claimed" in text
    assert "No oral hearing requested" in text

    # over EUR 5,000 of principal: the payment order only (art. 2(1) Reg. 861/2007)
    big = await eu_practice(
        api, lawyer_id, [invoice("2026/0500", date(2026, 5, 4), date(2026, 6, 3), 500_001)]
    )
    response = await api.http.get(f"/practices/{big.id}/judicial/eu", headers=lawyer)
    assert response.status_code == 200, response.text
    assert response.json()["eligible"] == ["eu_payment_order"]
    refused = await api.http.get(
        f"/practices/{big.id}/judicial/eu/form-a.pdf",
        headers=lawyer,
        params={"procedure": "eu_small_claims"},
    )
    assert refused.status_code == 422, refused.text
    assert ["query", "procedure"] in error_locs(refused)


async def test_no_eu_procedure_for_denmark_or_italy(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    denmark = await eu_practice(api, lawyer_id, country="DK", city="København", postal_code="1050")
    response = await api.http.get(f"/practices/{denmark.id}/judicial/eu", headers=lawyer)
    assert response.json()["eligible"] == []
    assert "Denmark" in response.json()["reasons"][0]
    pdf = await api.http.get(f"/practices/{denmark.id}/judicial/eu/form-a.pdf", headers=lawyer)
    assert pdf.status_code == 409, pdf.text
    italy = await eu_practice(
        api, lawyer_id, country="IT", city="Milano", postal_code="20121", province="MI"
    )
    pdf = await api.http.get(f"/practices/{italy.id}/judicial/eu/form-a.pdf", headers=lawyer)
    assert pdf.status_code == 409, pdf.text


async def test_only_the_practices_lawyer_and_the_admin(api: Api) -> None:
    lawyer_id, _ = await new_user(api, "lawyer")
    _, other = await new_user(api, "lawyer")
    _, operator = await new_user(api, "operator")
    practice = await eu_practice(api, lawyer_id)
    for headers in (other, operator):
        response = await api.http.get(
            f"/practices/{practice.id}/judicial/eu/form-a.pdf", headers=headers
        )
        assert response.status_code == 403, response.text
    admin = await api.http.get(f"/practices/{practice.id}/judicial/eu", headers=api.admin)
    assert admin.status_code == 200


async def test_eu_steps_are_checked_before_the_workflow(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    practice = await eu_practice(api, lawyer_id)
    url = f"/practices/{practice.id}/judicial/eu-application"
    today = rome_today().isoformat()
    good = {"procedure": "eu_payment_order", "filed_on": today, "court_country": "DE"}
    cases = [
        ({"court_country": "DK"}, "court_country"),
        ({"court_country": "FR"}, "court_country"),  # a consumer is sued at home
        ({"filed_on": (rome_today() + timedelta(days=1)).isoformat()}, "filed_on"),
        ({"procedure": "ricorso"}, "procedure"),
    ]
    for change, loc in cases:
        response = await api.http.post(url, headers=lawyer, json={**good, **change})
        assert response.status_code == 422, response.text
        assert ["body", loc] in error_locs(response), (change, response.text)
    for step, body in [
        ("issued", {"issued_on": "2099-01-01"}),
        ("service", {"served_on": "2099-01-01"}),
        ("response", {"filed_on": "2099-01-01"}),
        ("decision", {"decision": "enforceable", "decided_on": "2099-01-01"}),
    ]:
        response = await api.http.post(
            f"/practices/{practice.id}/judicial/eu-{step}", headers=lawyer, json=body
        )
        assert response.status_code == 422, response.text


async def test_the_eu_terms_are_on_the_court_calendar(api: Api) -> None:
    lawyer_id, lawyer = await new_user(api, "lawyer")
    practice = await eu_practice(api, lawyer_id)
    served = rome_today() - timedelta(days=2)
    term = compute_eu_deadline(EPO_OPPOSITION, served, "DE")
    acts = PracticeActivities(api.db, make_settings())
    await acts.record_judicial(
        RecordJudicialInput(
            practice_id=practice.id,
            events=[
                TimelineEvent(
                    seq=JUDICIAL_SEQ_BASE + 1,
                    at=datetime.now(UTC),
                    kind="eu_served",
                    summary="Served on the debtor",
                )
            ],
            snapshot=JudicialSnapshot(
                version=3,
                stage=Stage.EU_RESPONSE_TERM,
                deadlines=[
                    DeadlineView(
                        kind="epo_opposition",
                        last_day=term.last_day,
                        ends_at=term.ends_at,
                        rule=EPO_OPPOSITION.source,
                        explanation=term.explanation,
                        status=DeadlineStatus.OPEN,
                        start=served,
                    )
                ],
                lawyer_id=lawyer_id,
                eu=EuView(
                    procedure=EuProcedure.PAYMENT_ORDER,
                    court_country="DE",
                    court="AG Wedding",
                    filed_on=served - timedelta(days=20),
                    issued_on=served - timedelta(days=5),
                    served_on=served,
                ),
            ),
        )
    )
    page = await api.http.get(f"/practices/{practice.id}", headers=lawyer)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["judicial"]["stage"] == "eu_response_term"
    assert body["judicial"]["eu"]["procedure"] == "eu_payment_order"
    assert body["judicial"]["eu"]["court_country"] == "DE"
    assert body["judicial"]["eu"]["served_on"] == served.isoformat()
    [deadline] = body["deadlines"]
    assert deadline["kind"] == "epo_opposition"
    assert deadline["rule"] == "art. 16(2) Reg. 1896/2006"
    assert deadline["last_day"] == term.last_day.isoformat()
    assert "Reg. 1182/71" in deadline["explanation"]
    mine = await api.http.get("/worklists/deadlines", headers=lawyer)
    items = [i for i in mine.json()["items"] if i["practice_id"] == practice.id]
    assert [(i["kind"], i["days_left"]) for i in items] == [
        ("epo_opposition", (term.last_day - rome_today()).days)
    ]


async def test_no_italian_ricorso_against_a_consumer_in_another_member_state(api: Api) -> None:
    # a consumer is sued only at home (art. 18(2) Reg. 1215/2012): refused before the workflow
    lawyer_id, lawyer = await new_user(api, "lawyer")
    filing = {"filed_on": rome_today().isoformat(), "court": "Milano"}
    consumer = await eu_practice(api, lawyer_id)
    response = await api.http.post(
        f"/practices/{consumer.id}/judicial/filing", headers=lawyer, json=filing
    )
    assert response.status_code == 409, response.text
    assert "art. 18(2) Reg. 1215/2012" in response.text
    # a business in Germany may be sued in Italy (a forum agreement, the place of performance):
    # this rule lets it through, to the workflow's own checks (here: no court steps running)
    business = await eu_practice(api, lawyer_id, debtor_kind="business")
    response = await api.http.post(
        f"/practices/{business.id}/judicial/filing", headers=lawyer, json=filing
    )
    assert response.status_code == 409, response.text
    assert "18(2)" not in response.text
