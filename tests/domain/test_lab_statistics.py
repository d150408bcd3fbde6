"""domain/lab_statistics.py against published values: Newcombe's worked examples (1998) for the
Wilson interval and the hybrid score interval of a difference, Fleiss' sample sizes, and the
delta method's ratio reduced to a known case."""

from __future__ import annotations

import math
import random

import pytest

from domain.lab_statistics import (
    RatioSums,
    newcombe_difference,
    ratio_difference,
    ratio_interval,
    sample_size,
    wilson,
)


def close(value: float, expected: float) -> bool:
    return math.isclose(value, expected, abs_tol=5e-5)


def test_wilson_matches_newcombe_1998() -> None:
    # "Two-sided confidence intervals for the single proportion", Stat Med 17:857, table I
    got = wilson(81, 263)
    assert got is not None
    assert close(got.estimate, 0.3080) and close(got.low, 0.2553) and close(got.high, 0.3662)
    # 15/148: 0.0624 to 0.1605 (ibid.)
    got = wilson(15, 148)
    assert got is not None and close(got.low, 0.0624) and close(got.high, 0.1605)
    # none and all: the ends are exact, the other side from the score
    zero = wilson(0, 20)
    assert zero is not None and zero.low == 0.0 and close(zero.high, 0.1611)
    full = wilson(20, 20)
    assert full is not None and full.high == 1.0 and close(full.low, 0.8389)
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(3, 2)


@pytest.mark.parametrize(
    ("a", "n_a", "b", "n_b", "low", "high"),
    [
        # "Interval estimation for the difference between independent proportions", Stat Med
        # 17:873, table II, method 10 (hybrid score)
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0),
    ],
)
def test_newcombe_hybrid_score_matches_the_paper(
    a: int, n_a: int, b: int, n_b: int, low: float, high: float
) -> None:
    got = newcombe_difference(a, n_a, b, n_b)
    assert got is not None
    assert close(got.estimate, a / n_a - b / n_b)
    assert close(got.low, low), got
    assert close(got.high, high), got
    assert newcombe_difference(1, 0 + 2, 0, 0) is None


@pytest.mark.parametrize(
    ("p1", "p2", "n"),
    [
        # Fleiss, Levin, Paik (2003), without continuity correction, alpha 0.05 two-sided,
        # power 0.80: the values tabulated by equation 4.14
        (0.05, 0.10, 435),
        (0.20, 0.30, 294),
        (0.50, 0.60, 388),
        (0.10, 0.20, 199),
    ],
)
def test_sample_size_matches_fleiss(p1: float, p2: float, n: int) -> None:
    assert sample_size(p1, p2) == (n, n)
    assert sample_size(p2, p1) == (n, n)  # the same difference either way


def test_sample_size_for_unequal_arms() -> None:
    # a 90/10 experiment: the challenger is the small arm; with the ratio the total grows
    # but the champion needs fewer than nine times the challenger
    n1, n2 = sample_size(0.20, 0.30, ratio=10 / 90)
    equal = sample_size(0.20, 0.30)[0]
    assert n2 == math.ceil(n1 * 10 / 90 - 1e-9)
    assert n2 < equal < n1
    assert n1 + n2 > 2 * equal
    # more power, more practices; a larger alpha, fewer
    assert sample_size(0.2, 0.3, power=0.9)[0] > equal > sample_size(0.2, 0.3, alpha=0.1)[0]
    for bad in ((0.0, 0.3), (0.3, 0.3), (0.2, 1.0)):
        with pytest.raises(ValueError):
            sample_size(*bad)


def test_the_delta_method_on_equal_amounts_is_wald_for_a_proportion() -> None:
    # every practice placed 1, recovered all or nothing: R is a proportion and the delta
    # method's variance is p(1-p)/(n-1) (the sample's variance with n-1)
    pairs = [(100, 100)] * 30 + [(100, 0)] * 70
    got = ratio_interval(RatioSums.of(pairs))
    assert got is not None
    half = 1.959964 * math.sqrt(0.3 * 0.7 / 99)
    assert close(got.estimate, 0.3) and close(got.low, 0.3 - half) and close(got.high, 0.3 + half)
    assert ratio_interval(RatioSums.of([(100, 50)])) is None


def test_the_delta_method_covers_a_weighted_rate() -> None:
    """Of 400 simulated arms of 300 practices (amounts from 50 to 5,000 euros, a third paying
    some share of theirs), the 95 % interval holds the true rate about 95 % of the time."""
    rng = random.Random(15)
    population = []
    for _ in range(20_000):
        placed = rng.randint(5_000, 500_000)
        paid = round(placed * rng.random()) if rng.random() < 1 / 3 else 0
        population.append((placed, paid))
    true = sum(y for _, y in population) / sum(x for x, _ in population)
    held = 0
    for _ in range(400):
        got = ratio_interval(RatioSums.of(rng.sample(population, 300)))
        assert got is not None
        held += got.low <= true <= got.high
    assert 0.91 <= held / 400 <= 0.98
    a, b = RatioSums.of(population[:500]), RatioSums.of(population[500:1000])
    diff = ratio_difference(a, b)
    assert diff is not None and diff.low < diff.estimate < diff.high
