"""When a child workflow's run (the plan, the court steps) continues as new: its input names a
bound on its history's events (None: never), and the server may suggest it earlier (its history's
events or bytes near the limits it is configured with). See docs/ARCHITECTURE.md
"Continue-as-new"."""

from __future__ import annotations

from temporalio import workflow

# A run starts with a handful of events (started, a workflow task): a threshold below this would
# continue as new again and again without moving on.
MIN_HANDOVER_EVENTS = 20


def past_bound(bound: int | None, headroom: int) -> bool:
    """True when this run should hand over to a new one at this safe point: the server suggests
    it, or the history is within `headroom` events of `bound`. The headroom is what the workflow
    may add before its next safe point (an instalment, a stretch of court terms), so that a run
    stays under its bound. Deterministic: both numbers come from the workflow task's started
    event, so a replay decides alike."""
    if bound is None:
        return False
    info = workflow.info()
    threshold = max(bound - headroom, MIN_HANDOVER_EVENTS)
    return info.is_continue_as_new_suggested() or info.get_current_history_length() >= threshold
