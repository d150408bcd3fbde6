"""The README's "A German consumer and a French company" (issue 16), as the API runs it: both
handed over with their own numbers, the reminder letter of each written by the real worker in
the debtor's language, its amount as the debtor's locale writes it."""

from __future__ import annotations

import re
from typing import Any

from tests.api.helpers import Api, eventually, hand_over, new_creditor, practice_payload
from tests.api.test_statement import pdf_text

GERMAN_CONSUMER = {
    "kind": "consumer",
    "name": "Hans Becker",
    "tax_code": "36574261809",  # Steuer-IdNr
    "email": "hans.becker@example.de",
    "phone": "030 12345678",
    "address": {
        "street": "Unter den Linden 5",
        "city": "Berlin",
        "postal_code": "10117",
        "country": "DE",
    },
}
FRENCH_COMPANY = {
    "kind": "business",
    "name": "Exemple SA",
    "vat_number": "FR40303265045",
    "email": "compta@exemple.fr",
    "address": {
        "street": "8 rue de la Paix",
        "city": "Paris",
        "postal_code": "75002",
        "country": "FR",
    },
}


async def _letter_text(api: Api, headers: dict[str, str], practice_id: str) -> str:
    async def written() -> dict[str, Any] | None:
        documents = (
            await api.http.get(f"/practices/{practice_id}/documents", headers=headers)
        ).json()
        return next((d for d in documents if d["kind"] == "reminder_letter"), None)

    letter = await eventually(written, "the reminder letter", seconds=60)
    pdf = await api.http.get(f"/practices/{practice_id}/documents/{letter['id']}", headers=headers)
    assert pdf.status_code == 200, pdf.text[:300]
    return pdf_text(pdf.content)


async def test_a_german_consumer_and_a_french_company_get_their_letters(api: Api) -> None:
    tenant = await new_creditor(api)
    texts: dict[str, str] = {}
    for language, debtor in (("de", GERMAN_CONSUMER), ("fr", FRENCH_COMPANY)):
        payload = practice_payload(tenant.id, due_in_days=-45)
        payload["debtor"] = debtor
        practice = await hand_over(api, tenant.headers, payload)
        assert practice["debtor"]["language"] == language
        texts[language] = await _letter_text(api, tenant.headers, practice["id"])

    german, french = texts["de"], texts["fr"]
    assert "Zahlungserinnerung" in german and "Hans Becker" in german
    assert re.search(r"1\.250,40\s*€", german), german
    assert "Sollecito di pagamento" not in german
    assert "Rappel de paiement" in french and "Exemple SA" in french
    # French groups thousands with a narrow no-break space and puts the euro sign after
    assert re.search(r"1\s?250,40\s*€", french), french
    assert "Sollecito di pagamento" not in french
