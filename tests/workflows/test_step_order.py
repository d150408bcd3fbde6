"""The steps run in the creditor's order (issue 15): a formal demand before the phone phase, as
some agencies do (seed 000). A practice in the default order records no patch marker for it."""

from __future__ import annotations

from temporalio.client import WorkflowHandle

from domain.strategy import Step, StepSetting, Strategy, validate_strategy
from tests.workflows.conftest import only_steps
from workflows.practice.versions import RECORD_LOCALLY, STEPS_IN_CREDITORS_ORDER


def demand_first() -> Strategy:
    """The reminder letter, then the formal demand, then the phone phase."""
    base = only_steps(Step.REMINDER_LETTER, Step.PHONE_PHASE, Step.FORMAL_DEMAND)
    by_step = {Step(s.step): s for s in base.steps}
    order = [Step.REMINDER_LETTER, Step.FORMAL_DEMAND, Step.PHONE_PHASE]
    steps = [by_step[s] for s in order] + [s for s in base.steps if Step(s.step) not in order]
    return validate_strategy(
        Strategy(steps=[StepSetting(s.step, s.enabled, s.wait_after) for s in steps])
    )


async def patched(handle: WorkflowHandle, patch_id: str) -> bool:
    """Whether the history holds the patch marker of `patch_id`."""
    history = await handle.fetch_history()
    return any(
        e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
        and patch_id.encode() in e.SerializeToString()
        for e in history.events
    )


async def test_a_formal_demand_before_the_phone_phase(start) -> None:
    strategy = demand_first()
    assert [Step(s.step) for s in strategy.steps if s.enabled][:3] == [
        Step.REMINDER_LETTER,
        Step.FORMAL_DEMAND,
        Step.PHONE_PHASE,
    ]
    async with start(strategy=strategy) as p:
        await p.next_step_is(Step.FORMAL_DEMAND)
        assert await patched(p.handle, STEPS_IN_CREDITORS_ORDER)


async def test_the_default_order_asks_no_patch(start) -> None:
    async with start(
        strategy=only_steps(Step.REMINDER_LETTER, Step.PHONE_PHASE, Step.FORMAL_DEMAND)
    ) as p:
        await p.next_step_is(Step.PHONE_PHASE)
        assert not await patched(p.handle, STEPS_IN_CREDITORS_ORDER)
        # the control: the same check finds a patch this practice did ask
        assert await patched(p.handle, RECORD_LOCALLY)
