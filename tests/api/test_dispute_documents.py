"""A dispute with the debtor's documents (issue 13), on the real server and worker."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from api.services import disputes
from api.services.evidence import EvidenceFile
from db.models import Document, Practice, PracticeNote
from domain.actor import Actor, ActorKind
from tests.api.helpers import (
    Api,
    Tenant,
    error_locs,
    hand_over,
    new_creditor,
    new_user,
    practice_payload,
)
from tests.api.test_console_logins import log_in, person
from tests.test_evidence import EXE, tiny_image, tiny_pdf


@pytest.fixture(scope="module")
async def tenant(api: Api) -> Tenant:
    return await new_creditor(api)


async def view(api: Api, pid: str) -> dict[str, Any]:
    response = await api.http.get(f"/practices/{pid}", headers=api.admin)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def stored(api: Api, pid: str) -> tuple[int, int]:
    async with api.db.session() as session:
        documents = await session.scalar(
            select(func.count(Document.id)).where(
                Document.practice_id == pid, Document.kind == "dispute_evidence"
            )
        )
        notes = await session.scalar(
            select(func.count(PracticeNote.id)).where(PracticeNote.practice_id == pid)
        )
    return documents or 0, notes or 0


async def test_documents_are_stored_listed_and_downloadable(api: Api, tenant: Tenant) -> None:
    _, operator = await new_user(api, "operator")
    pid = (await hand_over(api, tenant.headers, practice_payload(tenant.id)))["id"]
    pdf, jpeg = tiny_pdf(), tiny_image("JPEG")
    opened = await api.http.post(
        f"/practices/{pid}/disputes/with-documents",
        headers=operator,
        data={"reason": "merce mai consegnata"},
        # the declared types and names lie; the content decides
        files=[
            ("files", ("bolla.png", pdf, "image/png")),
            ("files", ("foto", jpeg, "application/octet-stream")),
        ],
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["status"] == "paused_dispute" and len(body["document_ids"]) == 2
    assert (await view(api, pid))["open_dispute_id"] == body["dispute_id"]

    for headers in (operator, tenant.headers):
        listed = await api.http.get(f"/practices/{pid}/documents", headers=headers)
        assert listed.status_code == 200
        evidence = {d["id"]: d for d in listed.json() if d["kind"] == "dispute_evidence"}
        assert set(evidence) == set(body["document_ids"])
    first, second = (evidence[i] for i in body["document_ids"])
    assert (first["media_type"], first["size"]) == ("application/pdf", len(pdf))
    assert (second["media_type"], second["filename"]) == ("image/jpeg", "foto")
    download = await api.http.get(
        f"/practices/{pid}/documents/{first['id']}", headers=tenant.headers
    )
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    # another creditor sees none of it
    other = await new_creditor(api)
    hidden = await api.http.get(f"/practices/{pid}/documents/{first['id']}", headers=other.headers)
    assert hidden.status_code in (403, 404)


@pytest.mark.parametrize(
    "bad", [("fattura.pdf", EXE), ("ricevuta.pdf", b"just text, called a PDF")]
)
async def test_one_bad_file_opens_no_dispute_and_stores_nothing(
    api: Api, tenant: Tenant, bad: tuple[str, bytes]
) -> None:
    pid = (await hand_over(api, tenant.headers, practice_payload(tenant.id)))["id"]
    refused = await api.http.post(
        f"/practices/{pid}/disputes/with-documents",
        headers=tenant.headers,
        data={"reason": "contestazione"},
        files=[
            ("files", ("ok.pdf", tiny_pdf(), "application/pdf")),
            ("files", (bad[0], bad[1], "application/pdf")),
        ],
    )
    assert refused.status_code == 422, refused.text
    assert error_locs(refused) == [["body", "files", 1]]
    assert bad[0] in refused.text
    practice = await view(api, pid)
    assert practice["open_dispute_id"] is None and practice["status"] != "paused_dispute"
    assert await stored(api, pid) == (0, 0)


async def test_too_many_files_and_the_json_dispute_share_the_path(api: Api, tenant: Tenant) -> None:
    pid = (await hand_over(api, tenant.headers, practice_payload(tenant.id)))["id"]
    png = tiny_image("PNG")
    refused = await api.http.post(
        f"/practices/{pid}/disputes/with-documents",
        headers=tenant.headers,
        data={"reason": "contestazione"},
        files=[("files", (f"{n}.png", png, "image/png")) for n in range(6)],
    )
    assert refused.status_code == 422 and error_locs(refused) == [["body", "files"]]
    assert await stored(api, pid) == (0, 0)
    # without files, through the JSON endpoint: the same service, the reason kept as a note
    opened = await api.http.post(
        f"/practices/{pid}/disputes", headers=tenant.headers, json={"reason": "contestazione"}
    )
    assert opened.status_code == 201 and opened.json()["document_ids"] == []
    assert await stored(api, pid) == (0, 1)


async def test_a_large_file_is_taken_and_one_over_10_mb_refused(api: Api, tenant: Tenant) -> None:
    pid = (await hand_over(api, tenant.headers, practice_payload(tenant.id)))["id"]
    pdf = tiny_pdf()
    too_big = pdf + b"\0" * (10 * 1024 * 1024 + 1 - len(pdf))
    refused = await api.http.post(
        f"/practices/{pid}/disputes/with-documents",
        headers=tenant.headers,
        data={"reason": "contestazione"},
        files=[("files", ("scansione.pdf", too_big, "application/pdf"))],
    )
    assert refused.status_code == 422 and error_locs(refused) == [["body", "files", 0]]
    assert await stored(api, pid) == (0, 0)
    large = pdf + b"\0" * (3 * 1024 * 1024)  # beyond the form parser's in-memory part size
    opened = await api.http.post(
        f"/practices/{pid}/disputes/with-documents",
        headers=tenant.headers,
        data={"reason": "contestazione"},
        files=[("files", ("scansione.pdf", large, "application/pdf"))],
    )
    assert opened.status_code == 201, opened.text
    (document_id,) = opened.json()["document_ids"]
    download = await api.http.get(
        f"/practices/{pid}/documents/{document_id}", headers=tenant.headers
    )
    assert download.content == large


async def test_the_debtor_opens_a_dispute_through_the_service(api: Api, tenant: Tenant) -> None:
    """What the debtor's page calls: the debtor is the actor on the timeline, its reason a note
    with no user as author, its document with the practice; the console shows the practice."""
    pid = (await hand_over(api, tenant.headers, practice_payload(tenant.id)))["id"]
    png = tiny_image("PNG")
    async with api.db.session() as session:
        practice = await session.get(Practice, pid)
        assert practice is not None
        opening = await disputes.open_dispute(
            session,
            api.temporal,
            practice,
            reason="non ho mai ricevuto la merce",
            files=[EvidenceFile("foto.png", png)],
            author_id=None,
            actor=Actor(ActorKind.DEBTOR),
        )
    assert opening.result.status == "paused_dispute" and len(opening.document_ids) == 1
    events = (await api.http.get(f"/practices/{pid}/events", headers=api.admin)).json()
    opened = [e for e in events if e["kind"] == "dispute_opened"]
    assert opened and opened[0]["actor"]["kind"] == "debtor"
    notes = (await api.http.get(f"/practices/{pid}/notes", headers=api.admin)).json()
    assert [(n["kind"], n["author_id"]) for n in notes] == [("dispute", None)]
    user, password = await person(api, role="creditor", creditor_id=tenant.id)
    await log_in(api, user["email"], password)
    page = await api.http.get(f"/console/practices/{pid}")
    assert page.status_code == 200, page.text
    assert "non ho mai ricevuto la merce" in page.text
    assert f"/console/practices/{pid}/documents/{opening.document_ids[0]}" in page.text
    image = await api.http.get(f"/console/practices/{pid}/documents/{opening.document_ids[0]}")
    assert image.content == png and image.headers["content-type"] == "image/png"
    api.http.cookies.clear()
