"""The practice's state as one pure, serialisable value, and what commands do to it.

- state.py: `PracticeState` and its typed parts (money, promise, dispute, deal, escalation,
  waits, answers, consumer credit, court steps, the timeline not yet written);
- checks.py: `check_<command>(state, cmd, today)`, whether a command is accepted now (`Refused`);
- commands.py: `apply_<command>(state, cmd, now)`, what it changes and the events it causes.

The practice workflow (workflows/practice/) is the shell around them: timers, activities, child
workflows, and the read model.
"""

from domain.practice_state.checks import Refused
from domain.practice_state.commands import Latest, Versions, snapshot
from domain.practice_state.state import (
    Awaiting,
    DealStage,
    Event,
    PracticeState,
)

__all__ = [
    "Awaiting",
    "DealStage",
    "Event",
    "Latest",
    "PracticeState",
    "Refused",
    "Versions",
    "snapshot",
]
