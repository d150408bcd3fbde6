"""Champion and challenger: an experiment runs, inside one segment of a creditor, the segment's
usual strategy (the champion) beside one or more challengers, each on a share of the practices.

Assignment is deterministic: sha256 of the experiment's id and the practice's id gives a bucket
0..9999, placed against the arms' cumulative shares (in percent, so 1% = 100 buckets). The same
practice always lands in the same arm of an experiment, on any machine and after any restart,
and the practice records it at hand-over: it never changes afterwards. An experiment is fixed
once created (its arms and shares cannot change: that would move practices between arms); it
can only be ended. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from domain.segments import SegmentError, check_name

BUCKETS = 10_000
CHAMPION = "champion"


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm: the named strategy it runs and its share of the segment's practices (percent)."""

    strategy: str
    share: int


@dataclass(frozen=True, slots=True)
class Experiment:
    """`arms[0]` is the champion, the rest challengers. Runs from `start` to `end`, both
    inclusive, in Rome dates (an open end: until ended)."""

    id: str
    segment: str
    arms: tuple[Arm, ...]
    start: date
    end: date | None = None

    @property
    def champion(self) -> Arm:
        return self.arms[0]

    def active_on(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, other: Experiment) -> bool:
        """Whether the two could run on one day (two experiments in one segment cannot)."""
        starts_before_other_ends = other.end is None or self.start <= other.end
        other_starts_before_end = self.end is None or other.start <= self.end
        return starts_before_other_ends and other_starts_before_end


def bucket(experiment_id: str, practice_id: str) -> int:
    """0..9999 from sha256("<experiment id>:<practice id>"): the same pair, the same bucket."""
    digest = hashlib.sha256(f"{experiment_id}:{practice_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment: Experiment, practice_id: str) -> Arm:
    """The practice's arm: the first whose cumulative share (x100 buckets) passes its bucket."""
    at = bucket(experiment.id, practice_id)
    upper = 0
    for arm in experiment.arms:
        upper += arm.share * (BUCKETS // 100)
        if at < upper:
            return arm
    raise ValueError("the arms' shares do not sum to 100")  # validate_experiment prevents it


def arm_label(experiment: Experiment, arm: Arm) -> str:
    """How the practice records its arm: 'champion', or 'challenger-<n>' counted from 1."""
    index = experiment.arms.index(arm)
    return CHAMPION if index == 0 else f"challenger-{index}"


def validate_experiment(
    experiment: Experiment, segments: frozenset[str], strategies: frozenset[str]
) -> Experiment:
    """Raises SegmentError naming the field: an unknown segment or strategy, one strategy in
    two arms, shares not whole percents from 1 to 99 summing to 100, an end before the start."""
    if experiment.segment not in segments:
        raise SegmentError("segment", f"no segment named {experiment.segment!r}")
    if len(experiment.arms) < 2:
        raise SegmentError("challengers", "name at least one challenger")
    seen: set[str] = set()
    for i, arm in enumerate(experiment.arms):
        path = "champion" if i == 0 else f"challengers.{i - 1}"
        check_name(f"{path}.strategy", arm.strategy)
        if arm.strategy not in strategies:
            raise SegmentError(f"{path}.strategy", f"no strategy named {arm.strategy!r}")
        if arm.strategy in seen:
            raise SegmentError(f"{path}.strategy", f"{arm.strategy!r} is already an arm")
        seen.add(arm.strategy)
        if not 1 <= arm.share <= 99:
            raise SegmentError(f"{path}.share", "must be a whole percent from 1 to 99")
    if sum(arm.share for arm in experiment.arms) != 100:
        raise SegmentError("challengers", "the shares of the champion and challengers sum to 100")
    if experiment.end is not None and experiment.end < experiment.start:
        raise SegmentError("end", "must not be before the start")
    return experiment
