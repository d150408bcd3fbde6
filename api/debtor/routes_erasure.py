"""POST /d/me/erasure-request: the debtor asks, on its own page, to erase its personal data
(GDPR art. 17). The same service as the staff's POST /practices/{id}/erasure-requests
(api/services/erasure.py), recorded as the debtor's, decided the same way: refused while the
practice is open (the page says why), else what no legal duty keeps is erased at once. The
debtor's page is part of what goes (its links and sessions), so the answer is a last message,
saying what was erased and what is kept until when, and the session's cookie is cleared."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.debtor import actions
from api.debtor.access import PREFIX, VerifiedDebtor, clear_session_cookie, render
from api.debtor.actions import N_
from api.deps import NowDep, SessionDep
from api.schemas import rome_today
from api.services import erasure
from db.models import Practice

router = APIRouter(prefix=f"{PREFIX}/me", tags=["debtor"])

FORM = "erasure"
CONFIRM = N_("Tick the box to ask for the erasure.")


@router.post("/erasure-request")
async def erasure_request(
    request: Request,
    access: VerifiedDebtor,
    db: SessionDep,
    now: NowDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirm != "yes":
        return await actions.page_with_errors(request, db, access, FORM, {"confirm": CONFIRM})
    practice = await db.get(Practice, access.practice_id)
    assert practice is not None  # the session's link holds it
    row = await erasure.request_erasure(db, practice, erasure.Recorder("debtor"), rome_today(), now)
    if row.decision == erasure.Decision.REFUSED:
        return actions.done("erasure_refused", "data-title")
    response = render(
        request,
        "debtor/erased.html",
        {"decision": row.decision, "keep_until": row.keep_until},
    )
    clear_session_cookie(response, request)
    return response
