"""Creditors (mandanti) and their collection strategy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.schemas import (
    CreditorCreate,
    CreditorOut,
    SavedByOut,
    StrategyModel,
    StrategyVersionOut,
)
from api.services import creditors as service
from api.strategies import creditor_strategy, strategy_from_json
from api.views import creditor_out
from db.models import Creditor

router = APIRouter(prefix="/creditors", tags=["creditors"])

Admin = Annotated[Principal, require(Role.ADMIN)]
AdminOrCreditor = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]


async def _creditor_for(session: SessionDep, principal: Principal, creditor_id: str) -> Creditor:
    return await service.creditor_for(session, principal, creditor_id)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CreditorOut)
async def create_creditor(
    body: CreditorCreate, session: SessionDep, _principal: Admin
) -> CreditorOut:
    """Registers a creditor. One creditor per partita IVA (409 on a second)."""
    return creditor_out(await service.create_creditor(session, body))


@router.get("", response_model=list[CreditorOut])
async def list_creditors(session: SessionDep, _principal: Admin) -> list[CreditorOut]:
    return [creditor_out(c) for c in await service.list_creditors(session)]


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
    creditor_id: str, body: StrategyModel, session: SessionDep, principal: Admin
) -> StrategyModel:
    """Replaces the strategy with a new version (GET .../strategy/versions lists them).
    Practices already handed over keep the one they started with.

    The agency's admin edits it (as in the console): the strategy is how the agency works the
    creditor's practices, agreed with the creditor; a creditor reads it (GET) and steers its
    practices by its decisions (authorisations, proposals, disputes, withdrawals).

    A bad value is a 422 whose `loc` names it, e.g. `["body", "steps", 0, "wait_after"]` or
    `["body", "letter_texts", "reminder_letter"]` for a letter text that is not a valid template.
    """
    creditor = await _creditor_for(session, principal, creditor_id)
    return StrategyModel.from_domain(
        await service.save_strategy(session, creditor, body, principal)
    )


@router.get("/{creditor_id}/strategy/versions", response_model=list[StrategyVersionOut])
async def list_strategy_versions(
    creditor_id: str, session: SessionDep, principal: AdminOrCreditor
) -> list[StrategyVersionOut]:
    """Every strategy the creditor saved, oldest first, with who saved it (id and role) and
    when; `current` marks the one new practices copy. A practice shows the version it runs
    (`strategy_version`). Empty while the creditor runs the defaults."""
    creditor = await _creditor_for(session, principal, creditor_id)
    rows = await service.strategy_versions(session, creditor)
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
