"""What replays a recorded history: the workflows a worker registers and the project's converter.

The Replayer is given the three workflow classes the worker runs (worker.build_worker) and the
data converter every client and worker uses (config.data_converter: temporalio's pydantic JSON,
its TypeAdapters cached), so a history replays exactly as a worker would pick it up after an
upgrade.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, WorkflowReplayResult

from config import data_converter
from workflows.judicial import JudicialWorkflow
from workflows.plan import PlanWorkflow
from workflows.practice import PracticeWorkflow

HISTORIES = Path(__file__).parent
# histories recorded one change at a time before releases recorded every path (each guarded by
# its own test in tests/workflows/test_replay_histories.py)
LEGACY = HISTORIES / "legacy"


def replayer(converter: DataConverter = data_converter) -> Replayer:
    """The one Replayer of the tests. Without the deadlock detector (`debug_mode`): a replay
    checks that the code makes the history's commands, and nothing else. The detector fails an
    activation held past two seconds, and on a loaded CI machine (four test passes on two cores, a
    garbage collection of a process that ran a thousand tests) a replay that takes milliseconds
    alone was held that long. A worker keeps the detector; there a deadlocked task is retried."""
    return Replayer(
        workflows=[PracticeWorkflow, JudicialWorkflow, PlanWorkflow],
        data_converter=converter,
        debug_mode=True,
    )


def recorded() -> list[Path]:
    """Every history of every release: tests/histories/<release>/<path>.json."""
    return sorted(HISTORIES.glob("*/*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"{path.parent.name}/{path.stem}", path.read_text())


async def replay(history: WorkflowHistory) -> WorkflowReplayResult:
    return await replayer().replay_workflow(history, raise_on_replay_failure=False)
