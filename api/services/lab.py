"""The strategy lab: a creditor's named strategies, its segment rules and its champion/challenger
experiments, and the choice a hand-over makes from them.

The /creditors/{id}/strategies|segments|experiments routes and the console's lab page call these
functions: the same checks and refusals (a 422 naming the field, a 404, a 409). What is chosen
is decided by pure code (`domain.segments.choose`, `domain.experiments.assign`); this module
loads what they need and stores what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from pydantic import TypeAdapter
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal
from api.errors import conflict, invalid, not_found
from api.schemas import PracticeCreate, StrategyModel, rome_today
from api.schemas_lab import ExperimentCreate, SegmentsModel
from api.services.creditors import checked_strategy, save_strategy
from api.strategies import creditor_strategy, error_loc, strategy_from_json, strategy_to_json
from db.models import Creditor, ExperimentRow, Practice, SegmentVersion, StrategyVersion
from domain.experiments import Arm, Experiment, arm_label, assign, validate_experiment
from domain.money import parse_euros
from domain.segments import (
    DEFAULT_RULE,
    DEFAULT_STRATEGY,
    HandoverFacts,
    SegmentError,
    SegmentRule,
    Segments,
    check_name,
    choose,
    validate_segments,
)
from domain.strategy import Strategy

_RULES: TypeAdapter[list[SegmentRule]] = TypeAdapter(list[SegmentRule])


def _invalid(error: SegmentError) -> Exception:
    return invalid(error_loc(error), error.message)


# --- named strategies ----------------------------------------------------------------------------


async def named_strategies(session: AsyncSession, creditor: Creditor) -> dict[str, Strategy]:
    """Every strategy of the creditor by name, each at its current (newest) version: `default`
    (creditors.strategy: the defaults until saved) first, then the others by name."""
    found: dict[str, Strategy] = {DEFAULT_STRATEGY: creditor_strategy(creditor)}
    rows = await session.execute(
        select(StrategyVersion.name, StrategyVersion.version, StrategyVersion.strategy)
        .where(StrategyVersion.creditor_id == creditor.id, StrategyVersion.name != DEFAULT_STRATEGY)
        .order_by(StrategyVersion.name, StrategyVersion.version)
    )
    for name, version, stored in rows:
        found[name] = replace(strategy_from_json(stored), version=version)  # the last wins
    return found


async def named_strategy(session: AsyncSession, creditor: Creditor, name: str) -> Strategy:
    strategy = (await named_strategies(session, creditor)).get(name)
    if strategy is None:
        raise not_found("strategy")
    return strategy


async def save_named_strategy(
    session: AsyncSession,
    creditor: Creditor,
    name: str,
    body: StrategyModel,
    principal: Principal,
) -> Strategy:
    """A new version of the named strategy (a new name starts at version 1; committed).
    `default` is the strategy PUT /creditors/{id}/strategy edits, and is saved the same way."""
    try:
        check_name("name", name)
    except SegmentError as exc:
        raise invalid(["path", "name"], exc.message) from exc
    if name == DEFAULT_STRATEGY:
        return await save_strategy(session, creditor, body, principal)
    strategy = checked_strategy(body)
    latest = await session.scalar(
        select(func.max(StrategyVersion.version)).where(
            StrategyVersion.creditor_id == creditor.id, StrategyVersion.name == name
        )
    )
    strategy = replace(strategy, version=(latest or 0) + 1)
    session.add(
        StrategyVersion(
            creditor_id=creditor.id,
            name=name,
            version=strategy.version,
            strategy=strategy_to_json(strategy),
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


async def named_strategy_versions(
    session: AsyncSession, creditor: Creditor, name: str
) -> list[StrategyVersion]:
    """Every version saved under the name, oldest first (404: no such strategy)."""
    rows = list(
        await session.scalars(
            select(StrategyVersion)
            .where(StrategyVersion.creditor_id == creditor.id, StrategyVersion.name == name)
            .order_by(StrategyVersion.version)
        )
    )
    if not rows and name != DEFAULT_STRATEGY:
        raise not_found("strategy")
    return rows


# --- segments ------------------------------------------------------------------------------------


async def current_segments(session: AsyncSession, creditor: Creditor) -> Segments:
    """The rules in force (the newest version); none saved: version 0, everything `default`."""
    row = await session.scalar(
        select(SegmentVersion)
        .where(SegmentVersion.creditor_id == creditor.id)
        .order_by(SegmentVersion.version.desc())
        .limit(1)
    )
    if row is None:
        return Segments()
    return Segments(
        rules=tuple(_RULES.validate_python(row.rules)),
        default_strategy=row.default_strategy,
        version=row.version,
    )


async def _experiments(session: AsyncSession, creditor: Creditor) -> list[ExperimentRow]:
    return list(
        await session.scalars(
            select(ExperimentRow)
            .where(ExperimentRow.creditor_id == creditor.id)
            .order_by(ExperimentRow.starts_on, ExperimentRow.created_at, ExperimentRow.id)
        )
    )


async def save_segments(
    session: AsyncSession, creditor: Creditor, body: SegmentsModel, principal: Principal
) -> Segments:
    """The rules as a new version (committed): practices handed over from now on are chosen by
    them. Every strategy named must exist (422); a segment an experiment still runs in (or will)
    cannot be removed (409: end the experiment first)."""
    segments = body.to_domain()
    try:
        validate_segments(segments, frozenset(await named_strategies(session, creditor)))
    except SegmentError as exc:
        raise _invalid(exc) from exc
    names = {rule.name for rule in segments.rules} | {DEFAULT_RULE}
    today = rome_today()
    for row in await _experiments(session, creditor):
        if row.segment not in names and (row.ends_on is None or row.ends_on >= today):
            raise conflict(
                f"experiment {row.id} runs in segment {row.segment!r}: end it before removing "
                "the segment"
            )
    latest = await current_segments(session, creditor)
    version = latest.version + 1
    session.add(
        SegmentVersion(
            creditor_id=creditor.id,
            version=version,
            rules=_RULES.dump_python(list(segments.rules), mode="json"),
            default_strategy=segments.default_strategy,
            saved_by_id=principal.id,
            saved_by_role=principal.role.value,
        )
    )
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise conflict("the segments were changed meanwhile; read them again and retry") from exc
    return replace(segments, version=version)


# --- experiments ---------------------------------------------------------------------------------


def experiment_of(row: ExperimentRow) -> Experiment:
    return Experiment(
        id=row.id,
        segment=row.segment,
        arms=tuple(Arm(strategy=a["strategy"], share=int(a["share"])) for a in row.arms),
        start=row.starts_on,
        end=row.ends_on,
    )


async def list_experiments(session: AsyncSession, creditor: Creditor) -> list[ExperimentRow]:
    """The creditor's experiments, by start."""
    return await _experiments(session, creditor)


async def create_experiment(
    session: AsyncSession, creditor: Creditor, body: ExperimentCreate, principal: Principal
) -> ExperimentRow:
    """A new experiment (committed). 422 naming the field: an unknown segment or strategy,
    shares not summing to 100, a start before today; 409: another experiment in the same
    segment on any of its days."""
    if body.start < rome_today():
        raise invalid(["body", "start"], "must not be before today: it assigns from its start")
    # one experiment per segment and day: serialise the creditor's creations (PostgreSQL locks
    # the row; SQLite has one writer)
    await session.refresh(creditor, with_for_update=True)
    segments = await current_segments(session, creditor)
    strategies = frozenset(await named_strategies(session, creditor))
    arms = (body.champion, *body.challengers)
    experiment = Experiment(
        id="",
        segment=body.segment,
        arms=tuple(Arm(strategy=a.strategy, share=a.share) for a in arms),
        start=body.start,
        end=body.end,
    )
    try:
        validate_experiment(
            experiment, frozenset({r.name for r in segments.rules} | {DEFAULT_RULE}), strategies
        )
    except SegmentError as exc:
        raise _invalid(exc) from exc
    for row in await _experiments(session, creditor):
        if row.segment == body.segment and experiment_of(row).overlaps(experiment):
            raise conflict(
                f"experiment {row.id} runs in segment {body.segment!r} on some of these days"
            )
    row = ExperimentRow(
        creditor_id=creditor.id,
        segment=body.segment,
        arms=[{"strategy": a.strategy, "share": a.share} for a in arms],
        starts_on=body.start,
        ends_on=body.end,
        created_by_id=principal.id,
        created_by_role=principal.role.value,
    )
    session.add(row)
    await session.commit()
    return row


async def experiment_for(
    session: AsyncSession, creditor: Creditor, experiment_id: str
) -> ExperimentRow:
    row = await session.get(ExperimentRow, experiment_id)
    if row is None or row.creditor_id != creditor.id:
        raise not_found("experiment")
    return row


async def end_experiment(
    session: AsyncSession, creditor: Creditor, experiment_id: str, end: date
) -> ExperimentRow:
    """Sets the experiment's last day (committed): not before today (the days already past
    assigned what they assigned) nor before its start (422); an experiment already over is a
    409. Practices keep the arm they were given."""
    row = await experiment_for(session, creditor, experiment_id)
    today = rome_today()
    if row.ends_on is not None and row.ends_on < today:
        raise conflict("the experiment is over")
    if end < today:
        raise invalid(["body", "end"], "must not be before today")
    if end < row.starts_on:
        raise invalid(["body", "end"], "must not be before the experiment's start")
    row.ends_on = end
    await session.commit()
    return row


# --- the hand-over's choice ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lab:
    """What a creditor's hand-overs choose from, loaded once per request (or batch)."""

    strategies: dict[str, Strategy]
    segments: Segments
    experiments: tuple[Experiment, ...]


@dataclass(frozen=True, slots=True)
class Choice:
    """The strategy a practice runs and how it was chosen (stored on the practice)."""

    strategy_name: str
    strategy: Strategy
    segments_version: int
    segment_rule: str
    experiment_id: str | None = None
    experiment_arm: str | None = None


async def load_lab(session: AsyncSession, creditor: Creditor) -> Lab:
    return Lab(
        strategies=await named_strategies(session, creditor),
        segments=await current_segments(session, creditor),
        experiments=tuple(experiment_of(r) for r in await _experiments(session, creditor)),
    )


def choose_strategy(lab: Lab, facts: HandoverFacts, practice_id: str, today: date) -> Choice:
    """The segment's strategy, or, when an experiment runs in the segment today, the strategy
    of the practice's arm. Pure (given the loaded Lab)."""
    segment = choose(lab.segments, facts)
    name, experiment_id, arm_name = segment.strategy, None, None
    for experiment in lab.experiments:
        if experiment.segment == segment.rule and experiment.active_on(today):
            arm = assign(experiment, practice_id)
            name, experiment_id = arm.strategy, experiment.id
            arm_name = arm_label(experiment, arm)
            break
    # a strategy the segments name always exists (validated on save); the fallback covers one
    # whose rows were removed by hand
    strategy = lab.strategies.get(name)
    if strategy is None:
        name, strategy = DEFAULT_STRATEGY, lab.strategies[DEFAULT_STRATEGY]
    return Choice(
        strategy_name=name,
        strategy=strategy,
        segments_version=lab.segments.version,
        segment_rule=segment.rule,
        experiment_id=experiment_id,
        experiment_arm=arm_name,
    )


def debtor_keys(body: PracticeCreate) -> set[str]:
    """The debtor's identities: codice fiscale and partita IVA, whichever were given."""
    return {k for k in (body.debtor.tax_code, body.debtor.vat_number) if k}


async def debtors_with_practices(session: AsyncSession, keys: set[str], *labs: Lab) -> set[str]:
    """Which of these codici fiscali / partite IVA already have a practice (any creditor); not
    looked up (none) when no segment rule of `labs` asks, as most creditors' do not."""
    found: set[str] = set()
    if not any(lab.segments.read_other_practices for lab in labs):
        return found
    listed = sorted(keys)
    for i in range(0, len(listed), 500):
        chunk = listed[i : i + 500]
        rows = await session.execute(
            select(Practice.debtor_tax_code, Practice.debtor_vat_number).where(
                or_(Practice.debtor_tax_code.in_(chunk), Practice.debtor_vat_number.in_(chunk))
            )
        )
        for tax_code, vat_number in rows:
            found.update(k for k in (tax_code, vat_number) if k in keys)
    return found


def handover_facts(body: PracticeCreate, today: date, has_other_practices: bool) -> HandoverFacts:
    """The facts the segment rules read from a validated hand-over."""
    oldest = min(inv.due_date for inv in body.invoices)
    debtor = body.debtor
    return HandoverFacts(
        amount_cents=sum(parse_euros(inv.amount) for inv in body.invoices),
        age_days=(today - oldest).days,
        debtor_kind=debtor.kind.value,
        province=debtor.address.province if debtor.address.country.upper() == "IT" else None,
        has_other_practices=has_other_practices,
        contacts=frozenset(
            c
            for c, v in (("email", debtor.email), ("phone", debtor.phone), ("pec", debtor.pec))
            if v
        ),
    )
