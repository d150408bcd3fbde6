"""domain.experiments: the same practice always gets the same arm; over 10,000 practices each arm
gets its share within a tolerance; the window is inclusive; bad experiments name the field."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

import pytest

from domain.experiments import (
    BUCKETS,
    Arm,
    Experiment,
    arm_label,
    assign,
    bucket,
    validate_experiment,
)
from domain.segments import SegmentError

PRACTICES = [uuid.UUID(int=n).hex for n in range(10_000)]


def experiment(*shares: int, id: str = "exp-1") -> Experiment:
    return Experiment(
        id=id,
        segment="default",
        arms=tuple(Arm(f"s{i}", share) for i, share in enumerate(shares)),
        start=date(2026, 1, 1),
    )


def test_the_bucket_is_a_fixed_function_of_the_pair() -> None:
    # sha256("exp-1:p-1"): fixed across processes and machines (no hash() randomisation)
    assert bucket("exp-1", "p-1") == bucket("exp-1", "p-1")
    assert 0 <= bucket("exp-1", "p-1") < BUCKETS
    # the documented function, written out: the first 8 bytes of sha256, big-endian, mod 10,000
    assert bucket("exp-1", "p-1") == 6006


def test_the_same_practice_always_gets_the_same_arm() -> None:
    exp = experiment(90, 10)
    first = [assign(exp, p) for p in PRACTICES[:1000]]
    again = [assign(experiment(90, 10), p) for p in PRACTICES[:1000]]
    assert first == again


@pytest.mark.parametrize("shares", [(90, 10), (50, 50), (70, 20, 10), (34, 33, 33)])
def test_shares_hold_over_10000_practices(shares: tuple[int, ...]) -> None:
    exp = experiment(*shares)
    counts = Counter(assign(exp, p).strategy for p in PRACTICES)
    assert sum(counts.values()) == 10_000
    for i, share in enumerate(shares):
        expected = share * 100
        # a binomial's standard deviation at n=10,000 is at most 50: 2 points is > 4 sigma
        assert abs(counts[f"s{i}"] - expected) <= 200, (shares, counts)


def test_experiments_split_independently() -> None:
    # a practice's arm in one experiment says nothing about its arm in another
    a, b = experiment(50, 50, id="a"), experiment(50, 50, id="b")
    same = sum(assign(a, p).strategy == assign(b, p).strategy for p in PRACTICES)
    assert 4_800 <= same <= 5_200


def test_arm_labels() -> None:
    exp = experiment(80, 10, 10)
    assert [arm_label(exp, arm) for arm in exp.arms] == ["champion", "challenger-1", "challenger-2"]


def test_the_window_is_inclusive_in_rome_dates() -> None:
    exp = Experiment(
        "e", "default", (Arm("a", 50), Arm("b", 50)), date(2026, 3, 1), date(2026, 3, 31)
    )
    assert not exp.active_on(date(2026, 2, 28))
    assert exp.active_on(date(2026, 3, 1))
    assert exp.active_on(date(2026, 3, 31))
    assert not exp.active_on(date(2026, 4, 1))
    assert Experiment("e", "default", exp.arms, date(2026, 3, 1)).active_on(date(2036, 1, 1))


def test_overlaps() -> None:
    arms = (Arm("a", 50), Arm("b", 50))
    march = Experiment("m", "default", arms, date(2026, 3, 1), date(2026, 3, 31))
    april = Experiment("a", "default", arms, date(2026, 4, 1), date(2026, 4, 30))
    open_from_31 = Experiment("o", "default", arms, date(2026, 3, 31))
    assert not march.overlaps(april) and not april.overlaps(march)
    assert march.overlaps(open_from_31) and open_from_31.overlaps(april)


SEGMENTS = frozenset({"default", "small"})
STRATEGIES = frozenset({"default", "firm", "gentle"})


@pytest.mark.parametrize(
    ("arms", "segment", "end", "path"),
    [
        ((Arm("default", 90), Arm("firm", 10)), "nope", None, "segment"),
        ((Arm("default", 100),), "small", None, "challengers"),
        ((Arm("default", 90), Arm("missing", 10)), "small", None, "challengers.0.strategy"),
        ((Arm("default", 90), Arm("default", 10)), "small", None, "challengers.0.strategy"),
        ((Arm("default", 0), Arm("firm", 100)), "small", None, "champion.share"),
        ((Arm("default", 80), Arm("firm", 10)), "small", None, "challengers"),
        ((Arm("default", 90), Arm("firm", 10)), "small", date(2025, 12, 31), "end"),
    ],
)
def test_bad_experiments_name_the_field(
    arms: tuple[Arm, ...], segment: str, end: date | None, path: str
) -> None:
    exp = Experiment("e", segment, arms, date(2026, 1, 1), end)
    with pytest.raises(SegmentError) as info:
        validate_experiment(exp, SEGMENTS, STRATEGIES)
    assert info.value.field_path == path


def test_a_good_experiment_validates() -> None:
    exp = Experiment(
        "e", "small", (Arm("default", 80), Arm("firm", 10), Arm("gentle", 10)), date(2026, 1, 1)
    )
    assert validate_experiment(exp, SEGMENTS, STRATEGIES) is exp
