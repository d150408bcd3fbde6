"""The strategy lab: a creditor's named strategies, segment rules and experiments.

Who: the agency's admin edits them, as it edits the default strategy (PUT
/creditors/{id}/strategy): they are how the agency works the creditor's practices, agreed with
the creditor. A creditor user reads its own (a 403 for another creditor's); the other roles
have no business here. The checks are in api/services/lab.py, shared with the console.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.auth import Principal, Role, require
from api.deps import SessionDep
from api.schemas import SavedByOut, StrategyModel, rome_today
from api.schemas_lab import (
    ArmOut,
    ExperimentCreate,
    ExperimentEnd,
    ExperimentOut,
    ExperimentResultsOut,
    NamedStrategyOut,
    NamedStrategyVersionOut,
    PromotedOut,
    PromoteIn,
    SegmentsModel,
    SegmentsOut,
)
from api.services import creditors as creditors_service
from api.services import lab as service
from api.services import lab_results
from api.strategies import strategy_from_json
from db.models import ExperimentRow
from domain.experiments import arm_label

router = APIRouter(prefix="/creditors", tags=["strategy lab"])

Admin = Annotated[Principal, require(Role.ADMIN)]
AdminOrCreditor = Annotated[Principal, require(Role.ADMIN, Role.CREDITOR)]
Effect = Annotated[
    int,
    Query(description="The cure-rate difference to detect, in percentage points (1-50)."),
]
Alpha = Annotated[float, Query(description="Two-sided significance level, above 0, below 0.5.")]
Power = Annotated[float, Query(description="The test's power, from 0.5, below 1.")]


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


async def _results(
    session: SessionDep,
    principal: Principal,
    creditor_id: str,
    experiment_id: str,
    effect: int,
    alpha: float,
    power: float,
) -> lab_results.ExperimentResults:
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    return await lab_results.experiment_results(
        session, creditor, experiment_id, effect_points=effect, alpha=alpha, power=power
    )


# declared before the JSON route: "{experiment_id}" would otherwise take "results.csv" too
@router.get(
    "/{creditor_id}/experiments/{experiment_id}/results.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "One row per arm: the JSON's figures, amounts in euros, rates as "
            "ratios with their interval's ends.",
        }
    },
)
async def experiment_results_csv(
    creditor_id: str,
    experiment_id: str,
    session: SessionDep,
    principal: AdminOrCreditor,
    effect: Effect = lab_results.DEFAULT_EFFECT_POINTS,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
) -> Response:
    """The results as CSV, one row per arm (columns: `arm`, `strategy`, `share`, `practices`,
    `placed`, `recovered`, `liquidation_<30|60|90|180>_<practices|rate|low|high>`,
    `cure_<rate|low|high>`, `right_party_contact_<rate|low|high>`, the medians, promises and
    plans, `contacts_<kind>`, `cost`, `cost_per_euro`, `needed`, `still_needed`)."""
    results = await _results(session, principal, creditor_id, experiment_id, effect, alpha, power)
    return Response(
        content=lab_results.results_csv(results),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="experiment-{results.experiment.id}.csv"'
        },
    )


@router.get(
    "/{creditor_id}/experiments/{experiment_id}/results", response_model=ExperimentResultsOut
)
async def experiment_results(
    creditor_id: str,
    experiment_id: str,
    session: SessionDep,
    principal: AdminOrCreditor,
    effect: Effect = lab_results.DEFAULT_EFFECT_POINTS,
    alpha: Alpha = 0.05,
    power: Power = 0.8,
) -> ExperimentResultsOut:
    """The experiment's figures by arm: practices and amount placed, liquidation rate at 30,
    60, 90 and 180 days after hand-over (delta-method interval), cure rate, right-party
    contact, promises kept, plans broken (Wilson intervals; challengers also minus the
    champion, Newcombe's hybrid score interval), median days to first payment and to close,
    contacts and their cost per euro recovered (the agency's unit costs, PUT
    /settings/contact-costs), and the practices each arm still needs to detect `effect`
    points of cure rate. `too_early` lists why the figures cannot be read yet."""
    results = await _results(session, principal, creditor_id, experiment_id, effect, alpha, power)
    return lab_results.results_out(results)


@router.post(
    "/{creditor_id}/experiments/{experiment_id}/promote",
    response_model=PromotedOut,
    responses={409: {"description": "Started today or later, or its segment is gone."}},
)
async def promote_challenger(
    creditor_id: str,
    experiment_id: str,
    body: PromoteIn,
    session: SessionDep,
    principal: Admin,
) -> PromotedOut:
    """Makes the challenger (`arm`) the segment's strategy for the practices handed over from
    today: a new version of the segment rules, and the experiment, if still running, ends
    yesterday. Practices already handed over keep the strategy they run."""
    creditor = await creditors_service.creditor_for(session, principal, creditor_id)
    row, version = await lab_results.promote_challenger(
        session, creditor, experiment_id, body.arm, principal
    )
    return PromotedOut(experiment=experiment_out(row), segments_version=version)
