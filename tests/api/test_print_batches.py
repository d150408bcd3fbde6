"""The mail house's daily print batch (GET /print-batches/{day}): the day's letters to post as
PDFs in a ZIP with a manifest of envelopes that tells nothing about the debt.

Most letters here are rows written with the factories on a day of their own in the past, so
nothing else the session's tests post lands in the batch; one comes from a real workflow today.
"""

from __future__ import annotations

import csv
import io
import secrets
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from db.models import Delivery, Document, Practice
from domain.money import cents_to_decimal_string, format_euros
from tests.api.helpers import (
    ROME,
    Api,
    error_locs,
    eventually,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
    rome_today,
    unique_tax_code,
)
from tests.factories import create_creditor, create_practice

DAY = date(2021, 3, 15)
FORBIDDEN_WORDS = ("recupero", "credit", "debito", "debit", "sollecito", "€", "eur")
TITLES = {
    "reminder_letter": "Sollecito di pagamento",
    "legal_notice": "Preavviso di azione giudiziale",
    "formal_demand": "Diffida ad adempiere e costituzione in mora",
}


def rome(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME)


async def letter(
    api: Api,
    practice: Practice,
    kind: str,
    at: datetime,
    *,
    channel: str = "post",
    tracking_number: str | None = None,
) -> tuple[Delivery, Document]:
    """A rendered letter and its post delivery, as send_letter leaves them, written at `at`."""
    token = secrets.token_hex(4)
    document = Document(
        practice_id=practice.id,
        idempotency_key=f"{practice.id}:{kind}:{token}:pdf",
        kind=kind,
        filename=f"{kind}-{practice.reference}.pdf",
        content=b"%PDF-1.7\n" + f"{kind} {token}".encode() + b"\n%%EOF\n",
        created_at=at,
    )
    delivery = Delivery(
        idempotency_key=f"{practice.id}:{kind}:{token}:{channel}",
        practice_id=practice.id,
        channel=channel,
        recipient="debtor:postal" if channel == "post" else "mario.rossi@example.com",
        subject=f"{TITLES[kind]} – rif. {practice.reference}",
        body="" if channel == "post" else "Gentile Mario Rossi, ...",
        status="sent" if tracking_number else "outbox",
        provider="outbox",
        created_at=at,
        tracking_number=tracking_number,
        sent_on=at.date() if tracking_number else None,
    )
    async with api.db.session() as session, session.begin():
        session.add(document)
        await session.flush()
        delivery.document_id = document.id
        session.add(delivery)
    return delivery, document


def manifest_rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    text = archive.read("manifest.csv").decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
async def batch(api: Api) -> dict[str, Any]:
    """On DAY (Rome): a reminder letter just after midnight, a formal demand late in the
    evening, a notice of legal action already posted (tracking recorded), an e-mail; and letters
    of the days before and after, just across midnight in Rome."""
    creditor = await create_creditor(api.db)
    rossi = await create_practice(api.db, creditor, debtor_tax_code=unique_tax_code())
    bianchi = await create_practice(
        api.db,
        creditor,
        debtor_tax_code=unique_tax_code(),
        debtor_name="Anna Bianchi",
        street="Corso Vittorio Emanuele II 45",
        postal_code="00186",
        city="Roma",
        province="RM",
    )
    early, early_doc = await letter(api, rossi, "reminder_letter", rome(DAY, 0, 30))
    late, late_doc = await letter(api, bianchi, "formal_demand", rome(DAY, 23, 30))
    posted, _ = await letter(
        api, rossi, "legal_notice", rome(DAY, 10), tracking_number="RR123456789IT"
    )
    await letter(api, rossi, "reminder_letter", rome(DAY, 11), channel="email")
    await letter(api, rossi, "reminder_letter", rome(date(2021, 3, 14), 23, 59))
    await letter(api, bianchi, "reminder_letter", rome(date(2021, 3, 16), 0, 1))
    return {
        "rossi": rossi,
        "bianchi": bianchi,
        "early": (early, early_doc),
        "late": (late, late_doc),
        "posted": posted,
    }


async def test_the_zip_holds_the_days_pdfs_and_a_manifest_of_envelopes(
    api: Api, batch: dict[str, Any]
) -> None:
    _, operator = await new_user(api, "operator")
    response = await api.http.get(f"/print-batches/{DAY.isoformat()}", headers=operator)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "print-batch-2021-03-15.zip" in response.headers["content-disposition"]

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = manifest_rows(archive)
    early, early_doc = batch["early"]
    late, late_doc = batch["late"]
    # the day's letters without tracking, oldest first: not the posted one, not the e-mail,
    # not the letters a minute across midnight
    assert [r["delivery_id"] for r in rows] == [early.id, late.id]
    assert sorted(archive.namelist()) == sorted(["manifest.csv", rows[0]["file"], rows[1]["file"]])
    assert archive.read(rows[0]["file"]) == early_doc.content
    assert archive.read(rows[1]["file"]) == late_doc.content
    assert rows[0]["file"] != rows[1]["file"]

    rossi, bianchi = batch["rossi"], batch["bianchi"]
    assert rows[0] == {
        "delivery_id": early.id,
        "reference": rossi.reference,
        "file": rows[0]["file"],
        "letter": "reminder_letter",
        "address_line_1": "Mario Rossi",
        "address_line_2": "Via Giuseppe Verdi 12",
        "address_line_3": "20121 Milano MI",
        "address_line_4": "IT",
        "raccomandata_ar": "no",
        "postal_zone": "italy",
        "postal_service": "posta_ordinaria",
        "tracking_number": "",
    }
    assert rows[1]["reference"] == bianchi.reference
    assert rows[1]["letter"] == "formal_demand"
    assert [rows[1][f"address_line_{n}"] for n in range(1, 5)] == [
        "Anna Bianchi",
        "Corso Vittorio Emanuele II 45",
        "00186 Roma RM",
        "IT",
    ]
    assert rows[1]["raccomandata_ar"] == "yes"
    assert (rows[1]["postal_zone"], rows[1]["postal_service"]) == ("italy", "raccomandata_ar")

    # the envelope does not tell the debt: no amount, no word of it
    manifest = archive.read("manifest.csv").decode("utf-8")
    for practice in (rossi, bianchi):
        for amount in (
            cents_to_decimal_string(practice.balance_cents),
            format_euros(practice.balance_cents),
            str(practice.balance_cents),
        ):
            assert amount not in manifest
    for word in FORBIDDEN_WORDS:
        assert word not in manifest.lower()
    assert "rif." not in manifest


async def test_all_adds_the_letters_already_posted(api: Api, batch: dict[str, Any]) -> None:
    response = await api.http.get(
        f"/print-batches/{DAY.isoformat()}", headers=api.admin, params={"all": "true"}
    )
    assert response.status_code == 200, response.text
    rows = manifest_rows(zipfile.ZipFile(io.BytesIO(response.content)))
    posted = next(r for r in rows if r["delivery_id"] == batch["posted"].id)
    assert posted["letter"] == "legal_notice"
    assert posted["raccomandata_ar"] == "yes"
    assert posted["tracking_number"] == "RR123456789IT"
    assert len(rows) == 3


async def test_json_lists_the_same_without_the_pdfs(api: Api, batch: dict[str, Any]) -> None:
    response = await api.http.get(
        f"/print-batches/{DAY.isoformat()}", headers=api.admin, params={"format": "json"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["day"] == DAY.isoformat() and body["total"] == 2
    early, early_doc = batch["early"]
    first = body["items"][0]
    assert first["delivery_id"] == early.id
    assert first["document_id"] == early_doc.id
    assert first["practice_id"] == batch["rossi"].id
    assert first["address"] == ["Mario Rossi", "Via Giuseppe Verdi 12", "20121 Milano MI", "IT"]
    assert first["letter"] == "reminder_letter" and first["raccomandata"] is False
    assert first["file"].endswith(".pdf")
    assert body["items"][1]["raccomandata"] is True
    assert "content" not in first and "subject" not in first

    everything = await api.http.get(
        f"/print-batches/{DAY.isoformat()}",
        headers=api.admin,
        params={"format": "json", "all": "true"},
    )
    assert everything.json()["total"] == 3

    empty = await api.http.get("/print-batches/2021-03-13?format=json", headers=api.admin)
    assert empty.status_code == 200 and empty.json()["items"] == []


@pytest.mark.parametrize("day", ["2021-13-01", "2021-02-30", "20210315", "2021-3-5", "ieri"])
async def test_a_malformed_day_is_422(api: Api, day: str) -> None:
    response = await api.http.get(f"/print-batches/{day}", headers=api.admin)
    assert response.status_code == 422, response.text
    assert ["path", "day"] in error_locs(response)


async def test_only_the_admin_and_operators_get_the_batch(api: Api) -> None:
    tenant = await new_creditor(api)
    _, agent = await new_user(api, "field_agent", provinces=["MI"])
    _, lawyer = await new_user(api, "lawyer")
    for headers in (tenant.headers, agent, lawyer):
        response = await api.http.get(f"/print-batches/{DAY.isoformat()}", headers=headers)
        assert response.status_code == 403
    assert (await api.http.get(f"/print-batches/{DAY.isoformat()}")).status_code == 401


async def test_a_workflows_letter_is_in_todays_batch(api: Api) -> None:
    """The real path: an overdue practice's reminder letter, rendered by its workflow today."""
    tenant = await new_creditor(api)
    practice = await hand_over(api, tenant.headers, practice_payload(tenant.id, due_in_days=-45))

    async def posted() -> Delivery | None:
        async with api.db.session() as session:
            return (
                await session.execute(
                    select(Delivery).where(
                        Delivery.practice_id == practice["id"], Delivery.channel == "post"
                    )
                )
            ).scalar_one_or_none()

    delivery = await eventually(posted, "the reminder letter by post", seconds=60)
    day = delivery.created_at.astimezone(ROME).date()
    assert day == rome_today()

    listed = await api.http.get(f"/print-batches/{day.isoformat()}?format=json", headers=api.admin)
    item = next(i for i in listed.json()["items"] if i["delivery_id"] == delivery.id)
    assert item["reference"] == practice["reference"]
    assert item["address"] == ["Mario Rossi", "Via Roma 1", "20121 Milano MI", "IT"]
    assert item["letter"] == "reminder_letter" and item["raccomandata"] is False

    response = await api.http.get(f"/print-batches/{day.isoformat()}", headers=api.admin)
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.read(item["file"]).startswith(b"%PDF")
    row = next(r for r in manifest_rows(archive) if r["delivery_id"] == delivery.id)
    assert row["file"] == item["file"]
    assert "1250" not in "".join(row.values())


async def test_a_closed_batch_lists_its_fixed_letters_from_cutoff_to_cutoff(api: Api) -> None:
    """Closed at the cut-off (16:00 on Tuesday 15 June 2021): the letters written since Monday's
    cut-off, the one of Tuesday evening left for Wednesday's batch; the list stays the same
    whatever is written afterwards, and GET says when it was closed."""
    from datetime import time

    from api.services.print_batches import close_batch

    day = date(2021, 6, 15)
    creditor = await create_creditor(api.db)
    rossi = await create_practice(api.db, creditor, debtor_tax_code=unique_tax_code())
    monday_evening, _ = await letter(api, rossi, "reminder_letter", rome(date(2021, 6, 14), 17))
    monday_noon, _ = await letter(api, rossi, "reminder_letter", rome(date(2021, 6, 14), 12))
    tuesday_morning, _ = await letter(api, rossi, "formal_demand", rome(day, 9))
    tuesday_evening, _ = await letter(api, rossi, "legal_notice", rome(day, 16, 1))
    async with api.db.session() as session:
        closed = await close_batch(session, day, time(16, 0), rome(day, 16))
    assert closed.total == 2

    response = await api.http.get(
        f"/print-batches/{day.isoformat()}?format=json", headers=api.admin
    )
    body = response.json()
    assert [i["delivery_id"] for i in body["items"]] == [monday_evening.id, tuesday_morning.id]
    assert body["closed_at"] is not None
    assert monday_noon.id not in str(body) and tuesday_evening.id not in str(body)

    # a letter dated inside the window but written after the closing is not added
    await letter(api, rossi, "reminder_letter", rome(day, 10))
    async with api.db.session() as session:
        again = await close_batch(session, day, time(16, 0), rome(day, 17))
    assert again.id == closed.id
    later = await api.http.get(f"/print-batches/{day.isoformat()}?format=json", headers=api.admin)
    assert later.json()["items"] == body["items"]
    # an open day (no batch) still lists its calendar day's letters, and says it is open
    open_day = await api.http.get("/print-batches/2021-06-16?format=json", headers=api.admin)
    assert open_day.json()["closed_at"] is None


ABROAD_DAY = date(2021, 3, 17)


async def test_letters_abroad_carry_their_postal_zone_and_raccomandata_internazionale(
    api: Api,
) -> None:
    """Poste Italiane's international tariffs (domain/postage.py): Germany is zone 1, the United
    States zone 2, Australia zone 3, San Marino is served as Italy; a formal demand abroad goes
    by raccomandata internazionale, a reminder by ordinary international post."""
    creditor = await create_creditor(api.db)
    abroad = {
        "DE": dict(street="Hauptstraße 5", postal_code="10115", city="Berlin"),
        "US": dict(street="350 Fifth Avenue", postal_code="10118", city="New York", region="NY"),
        "AU": dict(street="1 George St", postal_code="2000", city="Sydney", region="NSW"),
        "SM": dict(street="Via Tre Settembre 1", postal_code="47890", city="San Marino"),
    }
    practices = {
        country: await create_practice(
            api.db,
            creditor,
            debtor_tax_code=unique_tax_code(),
            country=country,
            province="",
            **fields,
        )
        for country, fields in abroad.items()
    }
    await letter(api, practices["DE"], "formal_demand", rome(ABROAD_DAY, 9))
    await letter(api, practices["DE"], "reminder_letter", rome(ABROAD_DAY, 9, 5))
    await letter(api, practices["US"], "legal_notice", rome(ABROAD_DAY, 9, 10))
    await letter(api, practices["AU"], "reminder_letter", rome(ABROAD_DAY, 9, 15))
    await letter(api, practices["SM"], "formal_demand", rome(ABROAD_DAY, 9, 20))
    expected = [
        ("zone_1", "raccomandata_internazionale", "yes"),
        ("zone_1", "posta_internazionale", "no"),
        ("zone_2", "raccomandata_internazionale", "yes"),
        ("zone_3", "posta_internazionale", "no"),
        ("italy", "raccomandata_ar", "yes"),
    ]
    _, operator = await new_user(api, "operator")
    response = await api.http.get(f"/print-batches/{ABROAD_DAY.isoformat()}", headers=operator)
    assert response.status_code == 200, response.text
    rows = manifest_rows(zipfile.ZipFile(io.BytesIO(response.content)))
    assert [(r["postal_zone"], r["postal_service"], r["raccomandata_ar"]) for r in rows] == expected

    listed = await api.http.get(
        f"/print-batches/{ABROAD_DAY.isoformat()}?format=json", headers=operator
    )
    items = listed.json()["items"]
    assert [(i["postal_zone"], i["postal_service"]) for i in items] == [e[:2] for e in expected]
