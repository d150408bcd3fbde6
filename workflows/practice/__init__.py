"""The practice workflow, one concern a module (docs/ARCHITECTURE.md):

- workflow.py: `PracticeWorkflow`, its run loop and its update, signal and query handlers, which
  check and apply commands through domain/practice_state;
- effects.py: `Practice`, the state and the machinery every part takes, and the effects (timeline,
  read model, activities, tasks, notifications);
- steps.py: the escalation's steps; waits.py: waiting, and pauses reaching a wait;
- deals.py: proposals, plans and settlements; court.py: the court steps and after them;
- versions.py: the patch ids.
"""

from workflows.practice.workflow import PracticeWorkflow

__all__ = ["PracticeWorkflow"]
