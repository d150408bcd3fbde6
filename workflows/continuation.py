"""When a child workflow's run (the plan, the court steps) continues as new: its input names a
bound on its history's events (None: never), and the server may suggest it earlier (its history's
events or bytes near the limits it is configured with). See docs/ARCHITECTURE.md
"Continue-as-new"."""

from __future__ import annotations

from temporalio import workflow

# A run starts with a handful of events (started, a workflow task): a bound below this would
# continue as new again and again without moving on.
MIN_HISTORY_BOUND = 20


def past_bound(bound: int | None) -> bool:
    """True when this run should hand over to a new one at its next safe point. Deterministic:
    both numbers come from the workflow task's started event, so a replay decides alike."""
    if bound is None:
        return False
    info = workflow.info()
    return info.is_continue_as_new_suggested() or info.get_current_history_length() >= max(
        bound, MIN_HISTORY_BOUND
    )
