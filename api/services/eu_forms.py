"""The EU judicial path of a practice whose debtor lives in another member state (issue 16):
which procedure applies (domain/eu_procedures.py `choose_procedure`) and form A prefilled as a
PDF, for the API (api/routers/judicial.py) and the lawyer's console alike.

Form A is the application of the European payment order (Annex I of Reg. 1896/2006, art. 7)
or the claim form of the European small claims procedure (Annex I of Reg. 861/2007, art. 4, as
replaced by Reg. 2017/1259). The PDF is the lawyer's draft, section by section in the official
form's order, with what the practice holds: the court's member state, the parties, the grounds
for jurisdiction, the cross-border nature, the bank details, the principal invoice by invoice,
the interest and its legal basis, the costs, the evidence. The lawyer transcribes it onto the
official form in the court's language (the e-Justice portal's dynamic forms) and signs it:
what the product does not hold (the creditor's address, the court's address) is left blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.rendering import Renderer, ensure_discreet
from api.access import load_practice
from api.auth import Principal
from api.errors import conflict, invalid
from api.routers.statement import statement_of
from api.schemas import rome_today
from api.schemas_judicial import StatementOut
from api.services import access_log
from api.services.evidence import EVIDENCE_KIND
from config import Settings
from db.models import Creditor, Document, Event, Practice
from domain.eu_procedures import SMALL_CLAIMS_LIMIT_CENTS, EuChoice, choose_procedure
from domain.judicial_eu import EuProcedure
from domain.money import format_euros, parse_euros
from domain.practice import DebtorKind

_renderer: Renderer | None = None

TITLES = {
    EuProcedure.PAYMENT_ORDER: (
        "Form A - Application for a European order for payment",
        "Annex I of Regulation (EC) No 1896/2006, art. 7",
    ),
    EuProcedure.SMALL_CLAIMS: (
        "Form A - Claim form, European small claims procedure",
        "Annex I of Regulation (EC) No 861/2007 (as replaced by Regulation (EU) 2017/1259), art. 4",
    ),
}
# the claimant's declaration that closes each form (art. 7(3) Reg. 1896/2006; form A of
# Reg. 861/2007, section 11)
DECLARATIONS = {
    EuProcedure.PAYMENT_ORDER: (
        "I hereby request that the court issue a European order for payment against the "
        "defendant(s) on the basis of the above claim. I hereby declare that the information "
        "provided is true to the best of my knowledge and belief. I am aware that any "
        "deliberate false statement could lead to appropriate penalties under the law of the "
        "Member State of origin."
    ),
    EuProcedure.SMALL_CLAIMS: (
        "I hereby declare that the information provided is true to the best of my knowledge "
        "and belief."
    ),
}


@dataclass(frozen=True)
class EuPath:
    practice: Practice
    choice: EuChoice
    statement: StatementOut


def _renderer_instance() -> Renderer:
    global _renderer
    if _renderer is None:
        renderer = Renderer()
        renderer.env.filters["eur"] = lambda text: format_euros(parse_euros(text, allow_zero=True))
        _renderer = renderer
    return _renderer


async def _disputed(session: AsyncSession, practice_id: str) -> bool:
    found = await session.scalar(
        select(Event.id)
        .where(Event.practice_id == practice_id, Event.kind == "dispute_opened")
        .limit(1)
    )
    return found is not None


async def eu_path(session: AsyncSession, principal: Principal, practice_id: str) -> EuPath:
    """Which EU procedure the practice may take (404/403 as the practice's page). The claim's
    value for the small claims limit is the principal still unpaid, interest and costs excluded
    (art. 2(1) Reg. 861/2007)."""
    practice = await load_practice(session, principal, practice_id, with_invoices=True)
    statement = await statement_of(session, practice, None)
    choice = choose_procedure(
        debtor_country=practice.country,
        consumer=practice.debtor_kind == DebtorKind.CONSUMER,
        principal_cents=parse_euros(statement.totals.principal.outstanding, allow_zero=True),
        disputed=await _disputed(session, practice.id),
    )
    return EuPath(practice, choice, statement)


def _address(practice: Practice) -> list[str]:
    lines = [practice.street, f"{practice.postal_code} {practice.city}".strip()]
    if practice.region:
        lines.append(practice.region)
    lines.append(practice.country)
    return [line for line in lines if line]


def form_a_context(
    path: EuPath,
    procedure: EuProcedure,
    creditor: Creditor | None,
    documents: list[Document],
    settings: Settings,
    today: date,
) -> dict[str, Any]:
    """What form A says, section by section (the template lays it out)."""
    practice, choice, s = path.practice, path.choice, path.statement
    consumer = practice.debtor_kind == DebtorKind.CONSUMER
    title, source = TITLES[procedure]
    evidence = [
        f"Invoice no. {i.number} of {i.issue_date.isoformat()}, due {i.due_date.isoformat()}"
        for i in s.invoices
    ]
    evidence += [
        f"Letter '{d.kind}' of {d.created_at.date().isoformat()}"
        for d in documents
        if d.kind != EVIDENCE_KIND
    ]
    evidence.append(f"Statement of account at {s.at.isoformat()}")
    return {
        "title": title,
        "source": source,
        "procedure": procedure.value,
        "payment_order": procedure == EuProcedure.PAYMENT_ORDER,
        "reference": practice.reference,
        "today": today,
        "court_country": choice.court_country or "",
        "forum": choice.forum,
        "alternatives": choice.alternatives,
        "claimant": {
            "name": creditor.name if creditor is not None else "",
            "vat_number": creditor.vat_number if creditor is not None else "",
            "country": "IT",
            "iban": creditor.iban if creditor is not None else "",
        },
        "representative": {
            "name": settings.agency_name,
            "email": settings.agency_email,
            "phone": settings.agency_phone,
        },
        "defendant": {
            "name": practice.debtor_name,
            "kind": "consumer" if consumer else "business",
            "identifier": practice.debtor_vat_number or practice.debtor_tax_code or "",
            "address": _address(practice),
            "country": practice.country,
        },
        "invoices": s.invoices,
        "segments": [seg for seg in s.interest_segments if seg.claimed],
        "interest_claimed": s.interest_claimed,
        "interest_basis": (
            "art. 1284 c.c. (legal rate); from the filing the rate of D.Lgs. 231/2002 "
            "(art. 1284 c. 4 c.c.)"
            if consumer
            else "D.Lgs. 231/2002, art. 5 (Directive 2011/7/EU): ECB reference rate + 8 points"
        ),
        "compensations": [
            (i.number, i.due_date, i.compensation.outstanding)
            for i in s.invoices
            if parse_euros(i.compensation.outstanding, allow_zero=True) > 0
        ],
        "costs": s.costs,
        "totals": s.totals,
        "small_claims_limit": format_euros(SMALL_CLAIMS_LIMIT_CENTS),
        "evidence": evidence,
        "declaration": DECLARATIONS[procedure],
    }


def form_a_html(context: dict[str, Any]) -> str:
    html = _renderer_instance().env.get_template("judicial/eu_form_a.html.j2").render(**context)
    # the small claims form is served on the debtor (art. 5(2) Reg. 861/2007): as discreet as a
    # letter
    ensure_discreet(re.sub(r"<[^>]+>", " ", html), "form A")
    return html


async def form_a_pdf(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    practice_id: str,
    procedure: EuProcedure | None,
) -> Response:
    """Form A of `procedure` (None: the one recommended) prefilled from the practice. 409 when
    no EU procedure applies to it, 422 (query `procedure`) when that one does not."""
    path = await eu_path(session, principal, practice_id)
    if not path.choice.eligible:
        raise conflict("no EU procedure applies: " + "; ".join(path.choice.reasons))
    chosen = procedure or path.choice.recommended
    if chosen is None or chosen not in path.choice.eligible:
        raise invalid(["query", "procedure"], "; ".join(path.choice.reasons))
    creditor = await session.get(Creditor, path.practice.creditor_id)
    documents = list(
        (
            await session.scalars(
                select(Document)
                .where(Document.practice_id == path.practice.id)
                .order_by(Document.created_at)
            )
        ).all()
    )
    html = form_a_html(form_a_context(path, chosen, creditor, documents, settings, rome_today()))
    content = await _renderer_instance().pdf(html)
    await access_log.record_access(
        session, principal, access_log.What.DOCUMENT, [path.practice.id], target_id=chosen.value
    )
    reference = re.sub(r"[^A-Za-z0-9._-]+", "_", path.practice.reference).strip("_")
    filename = f"form-a-{chosen.value}-{reference or path.practice.id}.pdf"
    return Response(
        content=content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
