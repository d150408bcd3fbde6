"""The plan or settlement proposal form, shared by the field agent's visits and the operator's
call (templates/console/_proposal_form.html): the posted fields as POST
/practices/{id}/proposals receives them, sent through its own handler (deals.propose)."""

from __future__ import annotations

from collections.abc import Mapping

from api.auth import Principal
from api.console.forms import Refused, attempt, euros, optional, text
from api.deps import SessionDep, TemporalDep
from api.routers import deals
from api.schemas_deals import ProposalIn

# the rows of a plan's form (a longer plan is for the API)
PLAN_ROWS = 6
FIELDS = ["kind", "amount", "settle_by", "note"] + [
    f"{part}_{row}" for row in range(PLAN_ROWS) for part in ("due_date", "instalment")
]


def proposal_form(posted: Mapping[str, object]) -> dict[str, str]:
    """The proposal's fields as typed, never cut: a value too long is the API's 422 (an
    uploaded file is no text)."""
    return {name: text(posted.get(name)) for name in FIELDS}


def proposal_body(form: Mapping[str, str]) -> dict[str, object]:
    """The form as the API's JSON: a settlement's amount and date, or a plan's filled rows, in
    order, as its instalments."""
    kind = form["kind"]
    body: dict[str, object] = {"kind": kind, "note": form["note"]}
    if kind == "settlement":
        body |= {"amount": euros(form["amount"]), "settle_by": optional(form["settle_by"])}
    else:
        body["instalments"] = [
            {
                "due_date": optional(form[f"due_date_{row}"]),
                "amount": euros(form[f"instalment_{row}"]),
            }
            for row in range(PLAN_ROWS)
            if optional(form[f"due_date_{row}"]) or optional(form[f"instalment_{row}"])
        ]
    return body


async def send_proposal(
    practice_id: str,
    form: Mapping[str, str],
    *,
    db: SessionDep,
    temporal: TemporalDep,
    principal: Principal,
) -> Refused:
    """The API's handler with the session's Principal; how it refused, if it did."""

    async def act() -> None:
        await deals.propose(
            practice_id=practice_id,
            body=ProposalIn.model_validate(proposal_body(form)),
            session=db,
            temporal=temporal,
            principal=principal,
        )

    return await attempt(act)
