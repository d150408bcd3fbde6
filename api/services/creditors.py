"""Creditors and their strategy: create, list, save a strategy version, list the versions.

The /creditors router and the console's admin pages call these: the same checks, the same
refusals (`api.errors`: a 409 on a second partita IVA, a 422 naming the strategy's bad field)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal, Role
from api.errors import conflict, forbidden, invalid, not_found
from api.schemas import CreditorCreate, StrategyModel
from api.strategies import check_strategy, error_loc, strategy_to_json
from db.models import Creditor, StrategyVersion
from domain.strategy import Strategy, StrategyError


async def creditor_for(session: AsyncSession, principal: Principal, creditor_id: str) -> Creditor:
    """The creditor a user may see: an admin any, a creditor user its own (403 otherwise)."""
    # a creditor user learns nothing about other creditors, not even whether they exist
    if principal.role == Role.CREDITOR and principal.creditor_id != creditor_id:
        raise forbidden("a creditor user sees only its own creditor")
    creditor = await session.get(Creditor, creditor_id)
    if creditor is None:
        raise not_found("creditor")
    return creditor


async def create_creditor(session: AsyncSession, body: CreditorCreate) -> Creditor:
    """Registers a creditor (committed). One creditor per partita IVA (409 on a second)."""
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
    return creditor


async def list_creditors(session: AsyncSession) -> list[Creditor]:
    return list(await session.scalars(select(Creditor).order_by(Creditor.name, Creditor.id)))


def checked_strategy(body: StrategyModel) -> Strategy:
    """The strategy as the domain checks it; a 422 whose `loc` names the bad field."""
    try:
        return check_strategy(body.to_domain())
    except StrategyError as exc:
        raise invalid(error_loc(exc), exc.message) from exc


async def save_strategy(
    session: AsyncSession, creditor: Creditor, body: StrategyModel, principal: Principal
) -> Strategy:
    """A new version of the creditor's strategy (committed), kept with who saved it; practices
    handed over from now on run it and record its number."""
    strategy = checked_strategy(body)
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
    return strategy


async def strategy_versions(session: AsyncSession, creditor: Creditor) -> list[StrategyVersion]:
    """Every version the creditor saved, oldest first."""
    return list(
        await session.scalars(
            select(StrategyVersion)
            .where(StrategyVersion.creditor_id == creditor.id)
            .order_by(StrategyVersion.version)
        )
    )


async def set_retention(session: AsyncSession, creditor: Creditor, days: int) -> Creditor:
    """How long the creditor's closed practices keep the debtor's data (committed); the
    retention sweep reads it at its next run (api/services/erasure.py). `days` was checked by
    RetentionIn: 1 to RETENTION_MAX_DAYS."""
    creditor.retention_days = days
    await session.commit()
    return creditor
