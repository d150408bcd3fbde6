"""Rows of the read model -> response models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from api.auth import Principal, Role
from api.schemas import (
    AddressOut,
    ChosenByOut,
    CreditorOut,
    DeadlineOut,
    DebtorOut,
    InstalmentOut,
    InvoiceOut,
    JudicialOut,
    PlanOut,
    PracticeOut,
    PracticeSummary,
    PromiseOut,
    StepSummary,
    StrategySummary,
    UserOut,
    euros_out,
)
from api.strategies import strategy_from_json
from db.models import Creditor, Deadline, Practice, User
from domain.plans import ProposalKind
from domain.practice import DebtorKind, Phase, Status


def address_out(practice: Practice) -> AddressOut:
    return AddressOut(
        street=practice.street,
        city=practice.city,
        postal_code=practice.postal_code,
        province=practice.province,
        country=practice.country,
        region=practice.region or "",
        time_zone=practice.time_zone or "Europe/Rome",
    )


def debtor_out(practice: Practice) -> DebtorOut:
    return DebtorOut(
        kind=DebtorKind(practice.debtor_kind),
        name=practice.debtor_name,
        tax_code=practice.debtor_tax_code,
        vat_number=practice.debtor_vat_number,
        email=practice.email,
        phone=practice.phone,
        pec=practice.pec,
        address=address_out(practice),
        language=practice.language or "it",
        invalid_channels=list(practice.invalid_channels or []),
    )


def _promise(snapshot: dict[str, Any]) -> PromiseOut | None:
    # the snapshot is PracticeSnapshot as the workflow last recorded it
    promise = snapshot.get("promise")
    if not isinstance(promise, dict):
        return None
    try:
        return PromiseOut(
            promised_date=date.fromisoformat(str(promise["promised_date"])),
            amount=euros_out(int(promise["amount_cents"])),
            source=str(promise.get("source", "")),
        )
    except (KeyError, ValueError, TypeError):
        return None


def _cents(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an amount of cents")
    return value


def plan_out(snapshot: dict[str, Any]) -> PlanOut | None:
    """The deal of the snapshot (domain.practice.PlanView as JSON); None when there is none or it
    cannot be read (a snapshot from an older workflow)."""
    plan = snapshot.get("plan")
    if not isinstance(plan, dict):
        return None
    try:
        instalments = [
            InstalmentOut(
                due_date=date.fromisoformat(str(i["due_date"])),
                amount=euros_out(_cents(i["amount_cents"])),
                paid=euros_out(_cents(i.get("paid_cents", 0))),
                outstanding=euros_out(_cents(i["amount_cents"]) - _cents(i.get("paid_cents", 0))),
            )
            for i in plan.get("instalments") or []
        ]
        settlement = plan.get("settlement_cents")
        settle_by = plan.get("settle_by")
        return PlanOut(
            proposal_id=str(plan["proposal_id"]),
            kind=ProposalKind(plan["kind"]),
            state=str(plan["state"]),
            instalments=instalments,
            settlement_amount=euros_out(_cents(settlement)) if settlement is not None else None,
            settle_by=date.fromisoformat(str(settle_by)) if settle_by else None,
            paid=euros_out(_cents(plan.get("paid_cents", 0))),
        )
    except (KeyError, ValueError, TypeError):
        return None


def written_off_cents(snapshot: dict[str, Any]) -> int:
    value = snapshot.get("written_off_cents", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def strategy_summary(data: dict[str, Any]) -> StrategySummary:
    strategy = strategy_from_json(data)
    return StrategySummary(
        steps=[
            StepSummary(step=s.step, wait_after=s.wait_after) for s in strategy.steps if s.enabled
        ],
        call_attempts=strategy.call_attempts,
        demand_term=strategy.demand_term,
        custom_letters=sorted(strategy.letter_texts),
    )


def judicial_out(data: dict[str, Any] | None) -> JudicialOut | None:
    """The judicial workflow's last snapshot (domain.judicial.JudicialSnapshot as JSON)."""
    if not data or "stage" not in data:
        return None
    assigned = data.get("assigned_cents")
    fields = {name: data.get(name) for name in JudicialOut.model_fields if name in data}
    fields["assigned"] = euros_out(assigned) if isinstance(assigned, int) else None
    return JudicialOut.model_validate(fields)


def deadline_out(row: Deadline) -> DeadlineOut:
    return DeadlineOut(
        kind=row.kind,
        start=row.start,
        last_day=row.last_day,
        ends_at=row.ends_at,
        rule=row.rule,
        explanation=row.explanation,
        status=row.status,
    )


def chosen_by_out(practice: Practice) -> ChosenByOut | None:
    if practice.strategy_name is None or practice.segment_rule is None:
        return None
    return ChosenByOut(
        strategy_name=practice.strategy_name,
        segments_version=practice.segments_version or 0,
        segment_rule=practice.segment_rule,
        experiment_id=practice.experiment_id,
        experiment_arm=practice.experiment_arm,
    )


def practice_out(
    practice: Practice, principal: Principal, deadlines: Sequence[Deadline] = ()
) -> PracticeOut:
    snapshot = practice.snapshot or {}
    open_dispute = snapshot.get("open_dispute_id")
    return PracticeOut(
        id=practice.id,
        creditor_id=practice.creditor_id,
        reference=practice.reference,
        workflow_id=practice.workflow_id,
        status=Status(practice.status),
        phase=Phase(practice.phase),
        outcome=practice.outcome,
        claim=euros_out(practice.claim_cents),
        balance=euros_out(practice.balance_cents),
        paid=euros_out(practice.paid_cents),
        current_step=practice.current_step,
        next_step=practice.next_step,
        next_action_at=practice.next_action_at,
        waiting_for=practice.waiting_for,
        promise=_promise(snapshot),
        open_dispute_id=str(open_dispute) if open_dispute else None,
        field_agent_id=practice.field_agent_id,
        lawyer_id=practice.lawyer_id,
        debtor=debtor_out(practice),
        invoices=[
            InvoiceOut(
                number=i.number,
                issue_date=i.issue_date,
                due_date=i.due_date,
                amount=euros_out(i.amount_cents),
            )
            for i in practice.invoices
        ],
        strategy=strategy_summary(practice.strategy),
        strategy_version=practice.strategy_version,
        chosen_by=chosen_by_out(practice),
        consumer_credit=bool(practice.consumer_credit),
        forbearance_measures=[str(m) for m in snapshot.get("forbearance_measures") or ()],
        debt_advice_sent_on=snapshot.get("debt_advice_sent_on"),
        judicial=judicial_out(practice.judicial),
        deadlines=[deadline_out(d) for d in deadlines],
        plan=plan_out(snapshot),
        written_off=euros_out(written_off_cents(snapshot)),
        created_at=practice.created_at,
        updated_at=practice.updated_at,
        closed_at=practice.closed_at,
        erased_at=practice.erased_at,
    )


def practice_summary(practice: Practice, principal: Principal) -> PracticeSummary:
    return PracticeSummary(
        id=practice.id,
        creditor_id=practice.creditor_id,
        reference=practice.reference,
        status=Status(practice.status),
        phase=Phase(practice.phase),
        outcome=practice.outcome,
        claim=euros_out(practice.claim_cents),
        balance=euros_out(practice.balance_cents),
        paid=euros_out(practice.paid_cents),
        current_step=practice.current_step,
        next_step=practice.next_step,
        next_action_at=practice.next_action_at,
        debtor_kind=DebtorKind(practice.debtor_kind),
        province=practice.province,
        debtor_name=practice.debtor_name,
        created_at=practice.created_at,
    )


def creditor_out(creditor: Creditor) -> CreditorOut:
    return CreditorOut(
        id=creditor.id,
        name=creditor.name,
        vat_number=creditor.vat_number,
        iban=creditor.iban,
        email=creditor.email,
        retention_days=creditor.retention_days,
        created_at=creditor.created_at,
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        role=Role(user.role),
        name=user.name,
        email=user.email,
        phone=user.phone,
        creditor_id=user.creditor_id,
        provinces=list(user.provinces or []),
        countries=list(user.countries or []),
        active=user.active,
        created_at=user.created_at,
    )
