"""Creditors (mandanti) and their collection strategy."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.errors import conflict, forbidden, invalid, not_found
from api.schemas import (
    CreditorCreate,
    CreditorOut,
    SavedByOut,
    StrategyModel,
    StrategyVersionOut,
)
from api.strategies import (
    check_strategy,
    creditor_strategy,
    error_loc,
    strategy_from_json,
    strategy_to_json,
)
from api.views import creditor_out
from db.models import Creditor, StrategyVersion
from domain.strategy import StrategyError

router = APIRouter(prefix="/creditors", tags=["creditors"])

Admin = Annotated[Principal, require(Role.ADMIN)]
AdminOrCreditor = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]


async def _creditor_for(session: SessionDep, principal: Principal, creditor_id: str) -> Creditor:
    # a creditor user learns nothing about other creditors, not even whether they exist
    if principal.role == Role.CREDITOR and principal.creditor_id != creditor_id:
        raise forbidden("a creditor user sees only its own creditor")
    creditor = await session.get(Creditor, creditor_id)
    if creditor is None:
        raise not_found("creditor")
    return creditor


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CreditorOut)
async def create_creditor(
    body: CreditorCreate, session: SessionDep, _principal: Admin
) -> CreditorOut:
    """Registers a creditor. One creditor per partita IVA (409 on a second)."""
    existing = await session.scalar(
        select(Creditor.id).where(Creditor.vat_number == body.vat_number)
    )
    if existing is not None:
        raise conflict(f"a creditor with partita IVA {body.vat_number} exists: {existing}")
    creditor = Creditor(
        name=body.name, vat_number=body.vat_number, iban=body.iban, email=body.email, strategy={}
    )
    session.add(creditor)
    await session.commit()
    return creditor_out(creditor)


@router.get("", response_model=list[CreditorOut])
async def list_creditors(session: SessionDep, _principal: Admin) -> list[CreditorOut]:
    rows = await session.scalars(select(Creditor).order_by(Creditor.name, Creditor.id))
    return [creditor_out(c) for c in rows]


@router.get("/{creditor_id}", response_model=CreditorOut)
async def get_creditor(
    creditor_id: str, session: SessionDep, principal: AdminOrCreditor
) -> CreditorOut:
    return creditor_out(await _creditor_for(session, principal, creditor_id))


@router.get("/{creditor_id}/strategy", response_model=StrategyModel)
async def get_strategy(
    creditor_id: str, session: SessionDep, principal: AdminOrCreditor
) -> StrategyModel:
    """The strategy new practices of this creditor will copy (the defaults if never set)."""
    creditor = await _creditor_for(session, principal, creditor_id)
    return StrategyModel.from_domain(creditor_strategy(creditor))


@router.put("/{creditor_id}/strategy", response_model=StrategyModel)
async def put_strategy(
    creditor_id: str, body: StrategyModel, session: SessionDep, principal: AdminOrCreditor
) -> StrategyModel:
    """Replaces the strategy with a new version (GET .../strategy/versions lists them).
    Practices already handed over keep the one they started with.

    A bad value is a 422 whose `loc` names it, e.g. `["body", "steps", 0, "wait_after"]` or
    `["body", "letter_texts", "reminder_letter"]` for a letter text that is not a valid template.
    """
    creditor = await _creditor_for(session, principal, creditor_id)
    try:
        strategy = check_strategy(body.to_domain())
    except StrategyError as exc:
        raise invalid(error_loc(exc), exc.message) from exc
    # point 10: every save is a new version, kept with who saved it; practices handed over
    # from now on run it and record its number
    version = (creditor.strategy_version or 0) + 1
    strategy = replace(strategy, version=version)
    stored = strategy_to_json(strategy)
    creditor.strategy = stored
    creditor.strategy_version = version
    session.add(
        StrategyVersion(
            creditor_id=creditor.id,
            version=version,
            strategy=stored,
            saved_by_id=principal.id,
            saved_by_role=principal.role.value,
        )
    )
    try:
        await session.commit()
    except IntegrityError as exc:  # another save took this number meanwhile
        await session.rollback()
        raise conflict("the strategy was changed meanwhile; read it again and retry") from exc
    return StrategyModel.from_domain(strategy)


@router.get("/{creditor_id}/strategy/versions", response_model=list[StrategyVersionOut])
async def list_strategy_versions(
    creditor_id: str, session: SessionDep, principal: AdminOrCreditor
) -> list[StrategyVersionOut]:
    """Every strategy the creditor saved, oldest first, with who saved it (id and role) and
    when; `current` marks the one new practices copy. A practice shows the version it runs
    (`strategy_version`). Empty while the creditor runs the defaults."""
    creditor = await _creditor_for(session, principal, creditor_id)
    rows = await session.scalars(
        select(StrategyVersion)
        .where(StrategyVersion.creditor_id == creditor.id)
        .order_by(StrategyVersion.version)
    )
    return [
        StrategyVersionOut(
            version=row.version,
            saved_at=row.saved_at,
            saved_by=SavedByOut(id=row.saved_by_id, role=row.saved_by_role),
            current=row.version == creditor.strategy_version,
            strategy=StrategyModel.from_domain(strategy_from_json(row.strategy)),
        )
        for row in rows
    ]
