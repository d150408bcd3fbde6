"""The statistics an experiment's results are read with. Pure: no I/O.

- a proportion (cure rate, right-party contact rate, promises kept, plans broken): the Wilson
  score interval, which keeps inside 0..1 and holds its coverage for small arms and rates near
  0 or 1, where the Wald interval does not (Newcombe 1998, "Two-sided confidence intervals for
  the single proportion", method 3);
- the difference of two proportions (challenger minus champion): Newcombe's hybrid score
  interval (Newcombe 1998, "Interval estimation for the difference between independent
  proportions", method 10), built from the two Wilson intervals: it shares their good coverage
  with small arms, which a 90/10 split makes of the challenger, where Wald's is too narrow;
- a rate weighted by amount (the liquidation rate: recovered / placed, summed over the arm's
  practices): a ratio estimator, whose interval comes from the delta method (linearisation):
  Var(R) ~ sum((y - R x)^2) / (n (n - 1) mean(x)^2). Chosen over a bootstrap because it needs
  only five sums (n, sum x, sum y, sum x^2, sum y^2, sum x y), which the database can add up,
  and gives the same figures on every run (a bootstrap resamples each practice, so its
  interval moves from one reading to the next and needs every practice's row);
- the practices per arm an experiment needs to detect a chosen difference of two proportions
  (a two-sided test, by default alpha 0.05 and power 0.8), for unequal arms too (90/10):
  Fleiss' formula without continuity correction (Fleiss, Levin, Paik, "Statistical Methods for
  Rates and Proportions", 3rd ed., 4.14), generalised to a ratio of arm sizes.

The normal quantiles come from the standard library (statistics.NormalDist): nothing here
needs more than that, so no numerical library is added for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

ALPHA = 0.05
POWER = 0.8
_NORMAL = NormalDist()


def z_two_sided(alpha: float = ALPHA) -> float:
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    return _NORMAL.inv_cdf(1 - alpha / 2)


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its confidence interval (both ends included)."""

    estimate: float
    low: float
    high: float


def wilson(successes: int, n: int, alpha: float = ALPHA) -> Interval | None:
    """The Wilson score interval of successes / n; None when n is 0 (nothing to estimate)."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError("need 0 <= successes <= n")
    if n == 0:
        return None
    z = z_two_sided(alpha)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # the ends are exactly 0 and 1 when nothing / everything succeeded (rounding aside)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high)


def newcombe_difference(
    successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = ALPHA
) -> Interval | None:
    """p_a - p_b with Newcombe's hybrid score interval (method 10); None when an arm is empty."""
    a = wilson(successes_a, n_a, alpha)
    b = wilson(successes_b, n_b, alpha)
    if a is None or b is None:
        return None
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, low, high)


@dataclass(frozen=True, slots=True)
class RatioSums:
    """The sums a ratio estimator's delta-method interval needs, over one arm's practices:
    x the amount placed, y the amount recovered (any unit, the same for both)."""

    n: int
    sum_x: int
    sum_y: int
    sum_xx: int
    sum_yy: int
    sum_xy: int

    @staticmethod
    def of(pairs: list[tuple[int, int]]) -> RatioSums:
        n = sum_x = sum_y = sum_xx = sum_yy = sum_xy = 0
        for x, y in pairs:
            n += 1
            sum_x += x
            sum_y += y
            sum_xx += x * x
            sum_yy += y * y
            sum_xy += x * y
        return RatioSums(n, sum_x, sum_y, sum_xx, sum_yy, sum_xy)


def ratio_variance(sums: RatioSums) -> float | None:
    """The delta method's variance of R = sum y / sum x; None below two practices or when
    nothing was placed."""
    if sums.n < 2 or sums.sum_x <= 0:
        return None
    r = sums.sum_y / sums.sum_x
    # sum((y - R x)^2), expanded so that it needs the sums only; never below 0 (rounding)
    residual = max(0.0, sums.sum_yy - 2 * r * sums.sum_xy + r * r * sums.sum_xx)
    mean_x = sums.sum_x / sums.n
    return residual / (sums.n * (sums.n - 1) * mean_x * mean_x)


def ratio_interval(sums: RatioSums, alpha: float = ALPHA) -> Interval | None:
    """R = sum y / sum x with the delta method's normal interval (not bounded to 0..1: debtors
    also pay interest and costs, so more than the placed amount can be recovered)."""
    variance = ratio_variance(sums)
    if variance is None:
        return None
    r = sums.sum_y / sums.sum_x
    half = z_two_sided(alpha) * math.sqrt(variance)
    return Interval(r, max(0.0, r - half), r + half)


def ratio_difference(a: RatioSums, b: RatioSums, alpha: float = ALPHA) -> Interval | None:
    """R_a - R_b, the arms independent: the variances add."""
    va, vb = ratio_variance(a), ratio_variance(b)
    if va is None or vb is None:
        return None
    d = a.sum_y / a.sum_x - b.sum_y / b.sum_x
    half = z_two_sided(alpha) * math.sqrt(va + vb)
    return Interval(d, d - half, d + half)


def sample_size(
    p1: float, p2: float, ratio: float = 1.0, alpha: float = ALPHA, power: float = POWER
) -> tuple[int, int]:
    """The practices each arm needs for a two-sided test of p1 against p2 to reach `power` at
    level `alpha`: (n1, n2), n2 = ratio x n1 (for a 90/10 experiment with the champion first,
    ratio = 10 / 90). Fleiss without continuity correction, rounded up."""
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        raise ValueError("p1 and p2 must differ and lie strictly between 0 and 1")
    if ratio <= 0:
        raise ValueError("ratio must be positive")
    if not 0 < power < 1:
        raise ValueError("power must be between 0 and 1")
    z_a = z_two_sided(alpha)
    z_b = _NORMAL.inv_cdf(power)
    p_bar = (p1 + ratio * p2) / (1 + ratio)
    q_bar = 1 - p_bar
    numerator = z_a * math.sqrt(p_bar * q_bar * (1 + 1 / ratio)) + z_b * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2) / ratio
    )
    n1 = math.ceil(numerator**2 / (p1 - p2) ** 2 - 1e-9)
    return n1, math.ceil(n1 * ratio - 1e-9)
