"""The lawyer's court page for a debtor in another EU member state (issue 16): the procedure
that applies, form A prefilled to download, the EU steps' forms with the API's refusals next to
their fields, and the EU terms among the court terms."""

from __future__ import annotations

from datetime import timedelta

from tests.api.helpers import Api, rome_today
from tests.api.test_console_lawyer import alert, api_message, shown_error
from tests.api.test_console_logins import csrf, log_in, person
from tests.api.test_eu_path_api import eu_practice
from tests.api.test_judicial_api import add_deadline
from tests.api.test_statement import pdf_text


async def test_the_court_page_tells_the_eu_procedure_and_gives_form_a(api: Api) -> None:
    lawyer, password = await person(api, role="lawyer")
    practice = await eu_practice(
        api,
        lawyer["id"],
        judicial={"version": 1, "stage": "awaiting_filing", "lawyer_id": lawyer["id"]},
        judicial_version=1,
    )
    url = f"/console/lawyer/practices/{practice.id}"
    await log_in(api, lawyer["email"], password)
    page = await api.http.get(url)
    assert page.status_code == 200, page.text
    assert "Debitore in un altro Stato membro dell'UE" in page.text
    assert (
        "Consigliato: Ingiunzione di pagamento europea (Reg. 1896/2006), davanti ai giudici di DE."
        in page.text
    )
    assert "art. 18(2) Reg. 1215/2012" in page.text
    for procedure in ("eu_payment_order", "eu_small_claims"):
        assert f'href="{url}/form-a.pdf?procedure={procedure}"' in page.text
    # a consumer is sued at home (art. 18(2) Reg. 1215/2012): form A, never the Italian ricorso
    assert f'action="{url}/steps/filing"' not in page.text
    assert f'action="{url}/steps/eu-application"' in page.text
    assert '<option value="DE">DE</option>' in page.text

    pdf = await api.http.get(f"{url}/form-a.pdf", params={"procedure": "eu_small_claims"})
    assert pdf.status_code == 200, pdf.text[:500]
    text = pdf_text(pdf.content)
    assert "Claim form, European small claims procedure" in text and "Hans Becker" in text

    # a date in the future: the API's message next to its field
    body = {"procedure": "eu_payment_order", "court_country": "DE", "filed_on": ""}
    body["filed_on"] = (rome_today() + timedelta(days=1)).isoformat()
    message = await api_message(
        await api.http.post(
            f"/practices/{practice.id}/judicial/eu-application", headers=api.admin, json=body
        ),
        "filed_on",
    )
    refused = await api.http.post(
        f"{url}/steps/eu-application", data={"csrf_token": csrf(page), **body}
    )
    assert refused.status_code == 422, refused.text
    assert shown_error(refused, "eu-application-filed_on") == message
    # valid, but no court steps run for this row-made practice: the API's 409 in the alert
    body["filed_on"] = rome_today().isoformat()
    refused = await api.http.post(
        f"{url}/steps/eu-application", data={"csrf_token": csrf(page), **body}
    )
    assert refused.status_code == 409, refused.text
    assert alert(refused)


async def test_the_eu_steps_and_terms_are_shown_like_the_italian_ones(api: Api) -> None:
    lawyer, password = await person(api, role="lawyer")
    served = rome_today() - timedelta(days=3)
    practice = await eu_practice(
        api,
        lawyer["id"],
        judicial={
            "version": 4,
            "stage": "eu_response_term",
            "lawyer_id": lawyer["id"],
            "eu": {
                "procedure": "eu_payment_order",
                "court_country": "DE",
                "court": "AG Wedding",
                "filed_on": (served - timedelta(days=20)).isoformat(),
                "issued_on": (served - timedelta(days=6)).isoformat(),
                "served_on": served.isoformat(),
            },
        },
        judicial_version=4,
    )
    await add_deadline(api, practice, "epo_opposition", served + timedelta(days=30), lawyer["id"])
    url = f"/console/lawyer/practices/{practice.id}"
    await log_in(api, lawyer["email"], password)
    page = await api.http.get(url)
    assert page.status_code == 200, page.text
    assert "Notificato: decorrono i 30 giorni del debitore" in page.text
    assert 'id="eu-procedure">Ingiunzione di pagamento europea (Reg. 1896/2006)<' in page.text
    assert "DE – AG Wedding" in page.text
    assert "Opposizione all'ingiunzione di pagamento europea" in page.text
    assert f'action="{url}/steps/eu-response"' in page.text
    assert f'action="{url}/steps/eu-application"' not in page.text
