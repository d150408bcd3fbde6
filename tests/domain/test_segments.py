"""domain.segments: the first rule that holds chooses, the default catches the rest; each
condition on its own; the regions cover the provinces; bad rules are refused naming the field."""

from __future__ import annotations

import pytest

from domain.identifiers import PROVINCES
from domain.segments import (
    DEFAULT_RULE,
    HandoverFacts,
    SegmentError,
    SegmentRule,
    Segments,
    choose,
    region_of,
    validate_segments,
)

STRATEGIES = frozenset({"default", "gentle", "firm", "lawyer"})


def facts(**overrides: object) -> HandoverFacts:
    values: dict[str, object] = {
        "amount_cents": 50_000,
        "age_days": 30,
        "debtor_kind": "consumer",
        "province": "MI",
        "has_other_practices": False,
        "contacts": frozenset({"email", "phone"}),
    }
    values.update(overrides)
    return HandoverFacts(**values)  # type: ignore[arg-type]


def test_every_province_has_one_region() -> None:
    assert set(region_of(p) for p in PROVINCES) >= {"lombardia", "lazio", "sicilia"}
    assert all(region_of(p) is not None for p in PROVINCES)
    assert region_of(None) is None


def test_the_first_rule_that_holds_chooses() -> None:
    segments = Segments(
        rules=(
            SegmentRule("big", "lawyer", min_amount_cents=1_000_000),
            SegmentRule("business", "firm", debtor_kinds=("business",)),
            SegmentRule("business-small", "gentle", debtor_kinds=("business",)),
        ),
        default_strategy="default",
    )
    assert choose(segments, facts(amount_cents=2_000_000, debtor_kind="business")).rule == "big"
    chosen = choose(segments, facts(debtor_kind="business"))
    assert (chosen.rule, chosen.strategy) == ("business", "firm")
    fallback = choose(segments, facts())
    assert (fallback.rule, fallback.strategy) == (DEFAULT_RULE, "default")


def test_no_rules_is_the_default() -> None:
    assert choose(Segments(), facts()).rule == DEFAULT_RULE


@pytest.mark.parametrize(
    ("rule", "holds", "fails"),
    [
        # ranges are [min, max)
        (
            SegmentRule("r", "s", min_amount_cents=100_00),
            facts(amount_cents=100_00),
            facts(amount_cents=99_99),
        ),
        (
            SegmentRule("r", "s", max_amount_cents=100_00),
            facts(amount_cents=99_99),
            facts(amount_cents=100_00),
        ),
        (SegmentRule("r", "s", min_age_days=90), facts(age_days=90), facts(age_days=89)),
        (SegmentRule("r", "s", max_age_days=90), facts(age_days=89), facts(age_days=90)),
        (SegmentRule("r", "s", debtor_kinds=("business",)), facts(debtor_kind="business"), facts()),
        (SegmentRule("r", "s", regions=("lazio",)), facts(province="RM"), facts(province="MI")),
        (SegmentRule("r", "s", provinces=("NA",)), facts(province="NA"), facts(province="SA")),
        (SegmentRule("r", "s", regions=("lazio",)), facts(province="LT"), facts(province=None)),
        # regions and provinces together: either
        (
            SegmentRule("r", "s", regions=("lazio",), provinces=("NA",)),
            facts(province="NA"),
            facts(province="SA"),
        ),
        (SegmentRule("r", "s", other_practices=True), facts(has_other_practices=True), facts()),
        (SegmentRule("r", "s", other_practices=False), facts(), facts(has_other_practices=True)),
        (
            SegmentRule("r", "s", contacts=("pec", "phone")),
            facts(contacts=frozenset({"pec", "phone", "email"})),
            facts(contacts=frozenset({"phone"})),
        ),
    ],
)
def test_each_condition(rule: SegmentRule, holds: HandoverFacts, fails: HandoverFacts) -> None:
    assert rule.matches(holds)
    assert not rule.matches(fails)


def test_a_rule_without_conditions_holds_for_everything() -> None:
    assert SegmentRule("all", "s").matches(facts(province=None, contacts=frozenset()))


def test_all_conditions_must_hold() -> None:
    rule = SegmentRule("r", "s", min_amount_cents=1, debtor_kinds=("business",))
    assert not rule.matches(facts(debtor_kind="consumer"))
    assert rule.matches(facts(debtor_kind="business"))


@pytest.mark.parametrize(
    ("segments", "path"),
    [
        (Segments(default_strategy="nope"), "default_strategy"),
        (Segments(rules=(SegmentRule("Bad Name", "firm"),)), "rules.0.name"),
        (Segments(rules=(SegmentRule("default", "firm"),)), "rules.0.name"),
        (Segments(rules=(SegmentRule("a", "firm"), SegmentRule("a", "firm"))), "rules.1.name"),
        (Segments(rules=(SegmentRule("a", "missing"),)), "rules.0.strategy"),
        (Segments(rules=(SegmentRule("a", "firm", min_amount_cents=-1),)), "rules.0.min_amount"),
        (
            Segments(rules=(SegmentRule("a", "firm", min_amount_cents=5, max_amount_cents=5),)),
            "rules.0.max_amount",
        ),
        (
            Segments(rules=(SegmentRule("a", "firm", min_age_days=9, max_age_days=3),)),
            "rules.0.max_age_days",
        ),
        (
            Segments(rules=(SegmentRule("a", "firm", debtor_kinds=("robot",)),)),
            "rules.0.debtor_kinds",
        ),
        (Segments(rules=(SegmentRule("a", "firm", regions=("atlantis",)),)), "rules.0.regions"),
        (Segments(rules=(SegmentRule("a", "firm", provinces=("XX",)),)), "rules.0.provinces"),
        (Segments(rules=(SegmentRule("a", "firm", contacts=("fax",)),)), "rules.0.contacts"),
    ],
)
def test_bad_segments_name_the_field(segments: Segments, path: str) -> None:
    with pytest.raises(SegmentError) as info:
        validate_segments(segments, STRATEGIES)
    assert info.value.field_path == path


def test_good_segments_validate() -> None:
    segments = Segments(
        rules=(
            SegmentRule("small", "gentle", max_amount_cents=500_00, regions=("lombardia",)),
            SegmentRule("old", "lawyer", min_age_days=365, contacts=("pec",)),
        ),
        default_strategy="firm",
    )
    assert validate_segments(segments, STRATEGIES) is segments
