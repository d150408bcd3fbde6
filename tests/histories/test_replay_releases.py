"""Every history of every release replays on the current workflows.

A release's folder (tests/histories/<release>/, written by tests/histories/record.py) holds one
history per path of a practice and of its plan and court children, recorded on that release's
code. A workflow change that would stop any of them replaying (a non-determinism error: a
command the old history did not record, or one missing) fails here, before a worker running it
meets a practice started on that release. Adding a release's folder needs no code.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from temporalio.converter import DataConverter

from config import data_converter
from tests.histories.replay import HISTORIES, load, recorded, replay, replayer

HISTORY_FILES = recorded()


@pytest.mark.parametrize(
    "path", HISTORY_FILES, ids=[str(p.relative_to(HISTORIES)) for p in HISTORY_FILES]
)
async def test_a_recorded_history_replays_on_the_current_code(path: Path) -> None:
    result = await replay(load(path))
    assert result.replay_failure is None, result.replay_failure


def test_the_recordings_cover_the_three_workflows_of_each_release() -> None:
    """The discovery found the releases' files, and every release recorded a practice, a plan
    and the court steps (the legacy folder guards single changes, not whole releases)."""
    releases = {p.parent.name for p in HISTORY_FILES} - {"legacy"}
    assert releases, "no release's histories under tests/histories/<release>/"
    for release in releases:
        types = {
            json.loads(p.read_text())["events"][0]["workflowExecutionStartedEventAttributes"][
                "workflowType"
            ]["name"]
            for p in HISTORY_FILES
            if p.parent.name == release
        }
        assert types == {"PracticeWorkflow", "PlanWorkflow", "JudicialWorkflow"}, release


async def test_a_replay_held_past_two_seconds_still_replays() -> None:
    """The tests' replayer has no deadlock detector (tests/histories/replay.py): an activation
    held 2.5 s, as a garbage collection on a loaded CI machine held one, replays. With the
    detector this raised "[TMPRL1101] Potential deadlock detected"."""
    base = data_converter.payload_converter_class
    held_once: list[bool] = []

    class Held(base):  # type: ignore[valid-type,misc]
        def from_payloads(self, payloads: Any, type_hints: Any = None) -> Any:
            if not held_once:  # the start's input only: one activation held
                held_once.append(True)
                time.sleep(2.5)
            return super().from_payloads(payloads, type_hints)

    held = DataConverter(payload_converter_class=Held)
    result = await replayer(held).replay_workflow(
        load(HISTORY_FILES[0]), raise_on_replay_failure=False
    )
    assert held_once and result.replay_failure is None, result.replay_failure
