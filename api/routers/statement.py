"""The statement of account (estratto conto) of a practice on a day, as JSON or as a PDF.

GET /practices/{id}/statement?at=YYYY-MM-DD is the JSON; GET /practices/{id}/statement.pdf?at=...
the same statement printed (WeasyPrint, like the letters), in Italian unless `lang` (it, en, de,
fr, es) asks for another of the letters' languages: the operator prints the debtor's copy in the
debtor's language, the creditor's and the court's stay Italian. The debtor's page serves the PDF in
the page's language (api/debtor/routes_page.py). `at` defaults to today in Rome; a day before the
first invoice's issue date or in the future is a 422.

Inputs come from the read model (db.ledger): the invoices, the ledger's lines the workflow booked
(payments, recorded costs, reductions of the claim: domain/ledger.py) and the court claim's
filing date; the rates are the shipped history plus the admin's periods. A day with principal
outstanding and no rate known is a 409 naming the rate's kind and the day: an admin adds it with
POST /rates.

Interest not claimed (strategy claim_interest false, practice not in the judicial phase): the
amounts due are principal and recorded costs only. The JSON still lists the interest the law
gives, each segment with claimed=false and the sum in `interest_not_claimed`, for the creditor's
information; the PDF, which may go to the debtor or to court, prints only what is claimed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.ext.asyncio import AsyncSession

from activities.rendering import (
    N_,
    Formats,
    Renderer,
    babel_locale,
    ensure_discreet,
    letter_language,
    letter_translations,
)
from api.access import load_practice
from api.auth import Principal, Role, require
from api.deps import SessionDep, SettingsDep
from api.errors import conflict, invalid
from api.schemas import euros_out, rome_today
from api.schemas_judicial import (
    AllocationOut,
    Amounts,
    InterestNotClaimed,
    RateSegment,
    ReductionApplied,
    StatementCost,
    StatementInvoice,
    StatementOut,
    StatementPayment,
    StatementReduction,
    StatementTotals,
)
from api.services import access_log
from config import Settings
from db.ledger import LedgerError, plain_rate, practice_ledger, rate_table
from db.models import Creditor, Practice
from domain.account import Account, MissingRate
from domain.interest import InterestSegment
from domain.money import parse_euros
from domain.practice import DebtorKind
from domain.rates import RateKind, RateOverlap, act_period_of, how_to_add_rate
from domain.statement import StatementError

router = APIRouter(
    prefix="/practices/{practice_id}",
    tags=["statement"],
    responses={
        403: {"description": "Another creditor's / territory's practice."},
        404: {"description": "Unknown practice."},
        409: {"description": "No rate known for a day of the statement (named in detail)."},
        422: {
            "description": "`at` before the first invoice or in the future; `lang` not one of "
            "it, en, de, fr, es."
        },
    },
)

AnyUser = Annotated[Principal, require(*Role)]
At = Annotated[
    date | None,
    Query(description="The statement is at the end of this day; default today (Europe/Rome)."),
]


def missing_rate_message(exc: MissingRate) -> str:
    start, end = act_period_of(exc.kind, exc.day)
    return (
        f"no {exc.kind.value} rate is known for {exc.day.isoformat()}: an admin adds the "
        f"published rate for {start.isoformat()}..{end.isoformat()}, with its act, as "
        f"{how_to_add_rate(exc.kind, start, end)}"
    )


def _amounts(due: int, paid: int, outstanding: int) -> Amounts:
    return Amounts(due=euros_out(due), paid=euros_out(paid), outstanding=euros_out(outstanding))


def _segment(s: InterestSegment, claimed: bool) -> RateSegment:
    return RateSegment(
        invoice_number=s.invoice_number,
        start=s.start,
        end=s.end,
        days=s.days,
        principal=euros_out(s.principal_cents),
        rate_kind=s.rate_kind,
        rate=str(plain_rate(s.rate)),
        year_days=s.year_days,
        amount=euros_out(s.amount_cents),
        source=s.source,
        claimed=claimed,
    )


def statement_out(
    practice: Practice, account: Account, law: Account | None, notes: list[str]
) -> StatementOut:
    st = account.statement
    t = st.totals
    reduced = account.reduced_cents
    segments = (
        [_segment(s, True) for s in st.segments]
        if account.claim_interest
        else [_segment(s, False) for s in (law.statement.segments if law else [])]
    )
    not_claimed = None
    if not account.claim_interest and law is not None:
        lt = law.statement.totals
        not_claimed = InterestNotClaimed(
            interest=euros_out(lt.interest_outstanding_cents),
            compensation=euros_out(
                sum(i.compensation_outstanding_cents for i in law.statement.invoices)
            ),
            total_outstanding_if_claimed=euros_out(lt.total_outstanding_cents),
        )
    return StatementOut(
        practice_id=practice.id,
        reference=practice.reference,
        at=st.at,
        debtor_kind=st.debtor_kind.value,
        interest_claimed=account.claim_interest,
        allocation=st.allocation.value,
        claim_filed_on=st.claim_filed_on,
        day_count=st.day_count,
        invoices=[
            StatementInvoice(
                number=i.number,
                issue_date=i.issue_date,
                due_date=i.due_date,
                principal=_amounts(
                    i.principal_cents, i.principal_paid_cents, i.principal_outstanding_cents
                ),
                reduced=euros_out(reduced.get(i.number, 0)),
                interest=_amounts(
                    i.interest_accrued_cents, i.interest_paid_cents, i.interest_outstanding_cents
                ),
                compensation=_amounts(
                    i.compensation_due_cents,
                    i.compensation_paid_cents,
                    i.compensation_outstanding_cents,
                ),
                total_outstanding=euros_out(i.total_outstanding_cents),
            )
            for i in st.invoices
        ],
        costs=[
            StatementCost(
                incurred_on=c.date,
                kind=c.kind.value,
                amount=_amounts(c.amount_cents, c.paid_cents, c.outstanding_cents),
            )
            for c in st.costs
        ],
        payments=[
            StatementPayment(
                paid_on=p.payment.paid_on,
                amount=euros_out(p.payment.amount_cents),
                reference=p.payment.reference,
                designated_invoice=p.payment.invoice_number,
                allocation=[
                    AllocationOut(
                        bucket=line.bucket.value,
                        invoice_number=line.invoice_number,
                        cost_kind=line.cost_kind.value if line.cost_kind else None,
                        amount=euros_out(line.amount_cents),
                    )
                    for line in p.lines
                ],
                unallocated=euros_out(p.unallocated_cents),
            )
            for p in st.payments
        ],
        reductions=[
            StatementReduction(
                on=r.reduction.on,
                amount=euros_out(r.reduction.amount_cents),
                applied=[
                    ReductionApplied(
                        invoice_number=x.invoice_number, amount=euros_out(x.amount_cents)
                    )
                    for x in r.lines
                ],
                unapplied=euros_out(r.unapplied_cents),
            )
            for r in account.reductions
        ],
        interest_segments=segments,
        totals=StatementTotals(
            principal=_amounts(
                t.principal_cents, t.principal_paid_cents, t.principal_outstanding_cents
            ),
            interest=_amounts(
                t.interest_accrued_cents, t.interest_paid_cents, t.interest_outstanding_cents
            ),
            costs=_amounts(t.costs_due_cents, t.costs_paid_cents, t.costs_outstanding_cents),
            total=_amounts(t.total_due_cents, t.total_paid_cents, t.total_outstanding_cents),
            overpaid=euros_out(account.overpaid_cents),
        ),
        interest_not_claimed=not_claimed,
        notes=notes,
    )


async def build_statement(
    session: SessionDep, principal: Principal, practice_id: str, at: date | None
) -> tuple[Practice, StatementOut]:
    practice = await load_practice(session, principal, practice_id, with_invoices=True)
    return practice, await statement_of(session, practice, at)


async def statement_of(session: AsyncSession, practice: Practice, at: date | None) -> StatementOut:
    """The statement of a practice already loaded with its invoices (and access checked): the
    API's, the console's and the debtor's page's one code path."""
    today = rome_today()
    day = at or today
    if day > today:
        raise invalid(["query", "at"], "a statement cannot be in the future (Europe/Rome)")
    first = min((i.issue_date for i in practice.invoices), default=None)
    if first is None:
        raise conflict("the practice has no invoices")
    if day < first:
        raise invalid(
            ["query", "at"],
            f"the first invoice was issued on {first.isoformat()}: no statement before it",
        )
    try:
        ledger = await practice_ledger(session, practice)
        rates = await rate_table(session)
    except (LedgerError, RateOverlap) as exc:
        raise conflict(f"the statement cannot be made: {exc}") from exc
    try:
        account = ledger.account(day, rates)
    except MissingRate as exc:
        raise conflict(missing_rate_message(exc)) from exc
    except StatementError as exc:
        raise conflict(f"the statement cannot be made: {exc}") from exc
    notes: list[str] = []
    law: Account | None = None
    if not ledger.claim_interest:
        notes.append(
            "interest is not claimed on this practice: the amounts due are principal and "
            "recorded costs; the interest the law gives is listed for information only"
        )
        try:
            law = ledger.account(day, rates, claim_interest=True)
        except MissingRate as exc:
            notes.append(f"the interest the law gives is not shown: {missing_rate_message(exc)}")
        except StatementError:
            law = None
    return statement_out(practice, account, law, notes)


@router.get("/statement", response_model=StatementOut)
async def get_statement(
    practice_id: str, session: SessionDep, principal: AnyUser, at: At = None
) -> StatementOut:
    """What the debtor owes at the end of `at`: per invoice and in total, principal, interest
    and costs due / paid / outstanding; each payment with its allocation (art. 1194 c.c. unless
    the creditor agreed to principal first); reductions of the claim; the rate segments interest
    was computed on (period, rate, days, amount and the act that set the rate)."""
    _, statement = await build_statement(session, principal, practice_id, at)
    return statement


# --- PDF ------------------------------------------------------------------------------------

_renderer: Renderer | None = None

# the letters' languages (domain.strategy.LETTER_LANGUAGES); anything else is a 422 naming `lang`
StatementLanguage = Literal["it", "en", "de", "fr", "es"]
Lang = Annotated[
    StatementLanguage,
    Query(
        description="The PDF's language: Italian by default (the creditor's and the court's "
        "copy); the debtor's language for the debtor's copy. Amounts and dates are written as "
        "the letters write them in that language."
    ),
]

# the labels of the statement's codes, Italian as the templates: translated with the letters'
# catalogue (domain "letters", babel-letters.cfg) into the PDF's language
BUCKETS = {"costs": N_("spese"), "interest": N_("interessi"), "principal": N_("capitale")}
COST_KINDS = {
    "flat_compensation_231": N_("indennizzo forfettario (art. 6 D.Lgs. 231/2002)"),
    "legal": N_("spese legali"),
    "collection": N_("spese stragiudiziali"),
}
RATE_KINDS = {
    RateKind.LEGAL.value: N_("legale (art. 1284 c.c.)"),
    RateKind.LATE_PAYMENT_231.value: N_("mora (D.Lgs. 231/2002)"),
}


def _formats(context: Context) -> Formats:
    found = context.get("formats")
    return found if isinstance(found, Formats) else Formats()


@pass_context
def _eur(context: Context, amount: str) -> str:
    """An amount as StatementOut gives it ("1250.40") in the PDF's locale."""
    return _formats(context).money(parse_euros(amount, allow_zero=True))


@pass_context
def _percent(context: Context, rate: str) -> str:
    return _formats(context).percent(str(rate))


def _renderer_instance() -> Renderer:
    global _renderer
    if _renderer is None:
        renderer = Renderer()
        renderer.env.filters["eur"] = _eur
        renderer.env.filters["percent"] = _percent
        _renderer = renderer
    return _renderer


def statement_locale(practice: Practice, language: str) -> str:
    """The locale of the PDF's amounts and dates: in the debtor's own language, the one the
    letters use (the language as spoken in the debtor's country: de_AT "€ 1.234,56"); in
    another language (an Italian debtor's browser in English, the operator's choice) the
    language alone, as the debtor's page writes them."""
    code = letter_language(language)
    if code == letter_language(practice.language):
        return babel_locale(code, practice.country)
    return code


def _labels(language: str) -> dict[str, dict[str, str]]:
    catalogue = letter_translations(letter_language(language))
    return {
        name: {code: catalogue.gettext(text) for code, text in labels.items()}
        for name, labels in (
            ("bucket_label", BUCKETS),
            ("cost_label", COST_KINDS),
            ("rate_label", RATE_KINDS),
        )
    }


def statement_html(context: dict[str, Any], language: str = "it", locale: str | None = None) -> str:
    """The statement's HTML in a letter language (Italian: the template's own text), its
    amounts and dates in `locale` (default: the language's)."""
    renderer = _renderer_instance()
    values = {**context, **renderer.language_context(language, locale), **_labels(language)}
    html = renderer.env.get_template("statement/statement.html.j2").render(**values)
    # checked on the text without tags, as the letters are (in every language: Inkasso...)
    ensure_discreet(re.sub(r"<[^>]+>", " ", html), "statement of account")
    return html


@router.get(
    "/statement.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The statement."}},
)
async def get_statement_pdf(
    practice_id: str,
    session: SessionDep,
    principal: AnyUser,
    settings: SettingsDep,
    at: At = None,
    lang: Lang = "it",
) -> Response:
    """The same statement as a PDF (estratto conto), with what is claimed only: in Italian, or
    in `lang` for the debtor's copy (the legal references stay as they are). The debtor's name
    is printed for the users who may see the debtor's personal data."""
    practice, statement = await build_statement(session, principal, practice_id, at)
    await access_log.record_access(session, principal, access_log.What.STATEMENT, [practice.id])
    return await statement_pdf_response(session, settings, practice, statement, language=lang)


async def statement_pdf_response(
    session: AsyncSession,
    settings: Settings,
    practice: Practice,
    statement: StatementOut,
    *,
    language: str = "it",
) -> Response:
    """The statement printed in `language` (the API's and the debtor's page's PDF)."""
    creditor = await session.get(Creditor, practice.creditor_id)
    html = statement_html(
        {
            "s": statement,
            "agency_name": settings.agency_name,
            "agency_email": settings.agency_email,
            "agency_phone": settings.agency_phone,
            "creditor_name": creditor.name if creditor is not None else "",
            "debtor_name": practice.debtor_name,
            "debtor_business": practice.debtor_kind == DebtorKind.BUSINESS,
            "today": rome_today(),
        },
        language,
        statement_locale(practice, language),
    )
    content = await _renderer_instance().pdf(html)
    reference = re.sub(r"[^A-Za-z0-9._-]+", "_", practice.reference).strip("_") or practice.id
    filename = f"estratto-conto-{reference}-{statement.at.isoformat()}.pdf"
    return Response(
        content=content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
