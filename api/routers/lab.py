"""The strategy lab: a creditor's named strategies, segment rules and experiments.

Who: the agency's admin edits them, as it edits the default strategy (PUT
/creditors/{id}/strategy): they are how the agency works the creditor's practices, agreed with
the creditor. A creditor user reads its own (a 403 for another creditor's); the other roles
have no business here. The checks are in api/services/lab.py, shared with the console.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.schemas import SavedByOut, StrategyModel, rome_today
from api.schemas_lab import (
    ArmOut,
    ExperimentCreate,
    ExperimentEnd,
    ExperimentOut,
    NamedStrategyOut,
    NamedStrategyVersionOut,
    SegmentsModel,
    SegmentsOut,
)
from api.services import creditors as creditors_service
from api.services import lab as service
from api.strategies import strategy_from_json
from db.models import ExperimentRow
from domain.experiments import arm_label

router = APIRouter(prefix="/creditors", tags=["strategy lab"])

Admin = Annotated[Principal, require(Role.ADMIN)]
AdminOrCreditor = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]


def experiment_out(row: ExperimentRow) -> ExperimentOut:
    experiment = service.experiment_of(row)
    return ExperimentOut(
        id=row.id,
        creditor_id=row.creditor_id,
        segment=row.segment,
        arms=[
            ArmOut(arm=arm_label(experiment, arm), strategy=arm.strategy, share=arm.share)
            for arm in experiment.arms
        ],
        start=row.starts_on,
        end=row.ends_on,
        running=experiment.active_on(rome_today()),
        created_at=row.created_at,
        created_by=SavedByOut(id=row.created_by_id, role=row.created_by_role),
    )


@router.get("/{creditor_id}/strategies", response_model=list[NamedStrategyOut])
async def list_strategies(
    creditor_id: str, session: SessionDep, principal: AdminOrCreditor
) -> list[NamedStrategyOut]:
    """The creditor's named strategies at their current version; `default` always (the one
    GET/PUT /creditors/{id}/strategy read and edit)."""
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    return [
        NamedStrategyOut(name=name, version=s.version, strategy=StrategyModel.from_domain(s))
        for name, s in (await service.named_strategies(session, creditor)).items()
    ]


@router.get("/{creditor_id}/strategies/{name}", response_model=NamedStrategyOut)
async def get_named_strategy(
    creditor_id: str, name: str, session: SessionDep, principal: AdminOrCreditor
) -> NamedStrategyOut:
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    strategy = await service.named_strategy(session, creditor, name)
    return NamedStrategyOut(
        name=name, version=strategy.version, strategy=StrategyModel.from_domain(strategy)
    )


@router.put("/{creditor_id}/strategies/{name}", response_model=NamedStrategyOut)
async def put_named_strategy(
    creditor_id: str, name: str, body: StrategyModel, session: SessionDep, principal: Admin
) -> NamedStrategyOut:
    """Saves a new version of the named strategy (a new name starts at 1). The steps run in the
    order given; an order against the law (the authorisation last, reminders before the due date
    first) is a 422 on `steps`."""
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    strategy = await service.save_named_strategy(session, creditor, name, body, principal)
    return NamedStrategyOut(
        name=name, version=strategy.version, strategy=StrategyModel.from_domain(strategy)
    )


@router.get(
    "/{creditor_id}/strategies/{name}/versions", response_model=list[NamedStrategyVersionOut]
)
async def list_named_strategy_versions(
    creditor_id: str, name: str, session: SessionDep, principal: AdminOrCreditor
) -> list[NamedStrategyVersionOut]:
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    rows = await service.named_strategy_versions(session, creditor, name)
    newest = rows[-1].version if rows else None
    return [
        NamedStrategyVersionOut(
            name=row.name,
            version=row.version,
            saved_at=row.saved_at,
            saved_by=SavedByOut(id=row.saved_by_id, role=row.saved_by_role),
            current=row.version == newest,
            strategy=StrategyModel.from_domain(strategy_from_json(row.strategy)),
        )
        for row in rows
    ]


@router.get("/{creditor_id}/segments", response_model=SegmentsOut)
async def get_segments(
    creditor_id: str, session: SessionDep, principal: AdminOrCreditor
) -> SegmentsOut:
    """The segment rules in force: tried in order at each hand-over, the first that holds
    chooses the strategy, `default_strategy` when none does."""
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    return SegmentsOut.from_domain(await service.current_segments(session, creditor))


@router.put("/{creditor_id}/segments", response_model=SegmentsOut)
async def put_segments(
    creditor_id: str, body: SegmentsModel, session: SessionDep, principal: Admin
) -> SegmentsOut:
    """Replaces the rules with a new version. A 422 names the bad field (`rules.1.strategy`
    for a strategy that does not exist); a 409 when a running or future experiment is in a
    segment the new rules drop."""
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    return SegmentsOut.from_domain(await service.save_segments(session, creditor, body, principal))


@router.get("/{creditor_id}/experiments", response_model=list[ExperimentOut])
async def list_experiments(
    creditor_id: str, session: SessionDep, principal: AdminOrCreditor
) -> list[ExperimentOut]:
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    return [experiment_out(r) for r in await service.list_experiments(session, creditor)]


@router.post(
    "/{creditor_id}/experiments",
    status_code=status.HTTP_201_CREATED,
    response_model=ExperimentOut,
    responses={409: {"description": "Another experiment in the segment on one of its days."}},
)
async def create_experiment(
    creditor_id: str, body: ExperimentCreate, session: SessionDep, principal: Admin
) -> ExperimentOut:
    """Starts a champion/challenger experiment in one segment. Each practice handed over in the
    segment while it runs gets an arm from a hash of the experiment's and the practice's ids
    (the same practice, the same arm), recorded on the practice and as the Temporal search
    attributes RecuperoExperiment / RecuperoExperimentArm."""
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    return experiment_out(await service.create_experiment(session, creditor, body, principal))


@router.post("/{creditor_id}/experiments/{experiment_id}/end", response_model=ExperimentOut)
async def end_experiment(
    creditor_id: str,
    experiment_id: str,
    body: ExperimentEnd,
    session: SessionDep,
    principal: Admin,
) -> ExperimentOut:
    """Sets the experiment's last day (today or later). Practices keep their arm."""
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    return experiment_out(await service.end_experiment(session, creditor, experiment_id, body.end))
