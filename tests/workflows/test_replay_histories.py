"""Practices started before a change to the workflow replay on the new code (workflow.patched).

The histories under tests/histories/legacy/ were recorded by tests/histories/legacy/record.py
(and record_terms.py) on the code before the change they guard; each test here also checks the
recording still has the old shape it guards. Whole releases' histories (every path) are replayed
by tests/histories/test_replay_releases.py.
"""

from __future__ import annotations

import json

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.histories.replay import LEGACY, replayer
from tests.workflows.fakes import FakeWorld

HISTORIES = LEGACY


def _replayer() -> Replayer:
    return replayer()


async def test_a_practice_recording_through_normal_activities_replays() -> None:
    """Before RECORD_LOCALLY every read-model write was a scheduled activity: such a practice,
    mid-way through its steps and commands, replays without a non-determinism error."""
    text = (HISTORIES / "practice_record_activity.json").read_text()
    scheduled = [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in json.loads(text)["events"]
        if "activityTaskScheduledEventAttributes" in e
    ]
    assert scheduled.count("record_practice") == 9  # the old shape, not a re-recorded one
    history = WorkflowHistory.from_json("practice-old", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_practice_recorded_before_issue_11_money_replays() -> None:
    """Recorded on 9d86d65 (before payments named their invoice and events their actor): a
    payment, a promise and a withdrawal replay on the code that stamps actors on commands and
    events and carries the designated invoice to the statement."""
    text = (HISTORIES / "i11_money_payment_promise_base_9d86d65.json").read_text()
    updates = [
        e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
        for e in json.loads(text)["events"]
        if "workflowExecutionUpdateAcceptedEventAttributes" in e
    ]
    assert {"payment", "promise", "withdrawal"} <= set(updates)
    history = WorkflowHistory.from_json("practice-i11-money", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_new_practice_records_locally(start) -> None:
    """New practices write the read model with local activities: no record_practice activity
    task is scheduled, and the records still arrive, the first one carrying the hand-over and
    the first step."""
    from domain.practice import PaymentCmd, UpdateName
    from domain.strategy import Step
    from tests.workflows.conftest import only_steps

    world = FakeWorld()
    async with start(world=world, strategy=only_steps(Step.REMINDER_LETTER)) as p:
        await p.next_step_is(Step.AUTHORIZATION)
        await p.send(UpdateName.PAYMENT, PaymentCmd(125040, p.inp.invoices[0].due_date, "B-1"))
        assert await p.handle.result() == "paid"
        history = await p.handle.fetch_history()
    assert world.snapshot is not None and world.snapshot.status == "closed"
    # the hand-over and the first step share one write
    assert [e.kind for e in world.records[0].events] == ["handed_over", "step_started"]
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert "record_practice" not in scheduled and "send_letter" in scheduled
    # one patch marker (each costs a new practice a marker and a search-attribute upsert)
    patches = [
        e.marker_recorded_event_attributes
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    assert len(patches) == 1
    await _replayer().replay_workflow(history)


async def test_a_practice_parked_before_its_due_date_takes_one_write(start) -> None:
    """Handed over before the due date, a practice's first workflow task writes the read model
    once: the hand-over, the step's start and its wait for the due date in one record (each
    write is a local activity, paid for by every new practice)."""
    from datetime import date, timedelta

    from domain.practice import Invoice
    from domain.strategy import Step
    from tests.workflows.conftest import only_steps

    due = date.today() + timedelta(days=30)
    invoices = [Invoice("FT-1", due - timedelta(days=30), due, 125040)]
    world = FakeWorld()
    strategy = only_steps(Step.REMINDER_LETTER)
    async with start(world=world, strategy=strategy, invoices=invoices) as p:
        await p.next_step_is("out_of_court")
        history = await p.handle.fetch_history()
    assert len(world.records) == 1
    assert [e.kind for e in world.records[0].events] == ["handed_over", "step_started"]
    assert world.records[0].snapshot.next_action_at is not None
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]
    assert markers.count("core_local_activity") == 1
    await _replayer().replay_workflow(history)


def _events_json(name: str) -> tuple[str, list[dict[str, object]]]:
    text = (HISTORIES / name).read_text()
    return text, json.loads(text)["events"]


async def test_a_formal_demand_recorded_before_the_court_calendar_term_replays() -> None:
    """Recorded (record_terms.py) before the demand's term came from the court calendar
    (DEMAND_TERM_ON_COURT_CALENDAR): a demand, its term, the opinion, the authorisation, the
    court steps and a payment replay on today's code."""
    text, events = _events_json("practice_demand_term.json")
    markers = [e for e in events if "markerRecordedEventAttributes" in e]
    assert "demand_term_on_court_calendar" not in json.dumps(markers)  # the old shape
    history = WorkflowHistory.from_json("practice-demand", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_court_steps_recorded_before_the_safe_terms_replay() -> None:
    """Recorded (record_terms.py) before the safe last days, the patron days and the
    suspension of the precetto's lapse by an opposition: the filing, the decree, its service, a
    precetto that lapsed, a second one and the pignoramento replay on today's code."""
    text, events = _events_json("judicial_terms.json")
    updates = [
        e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
        for e in events
        if "workflowExecutionUpdateAcceptedEventAttributes" in e
    ]
    assert updates.count("judicial_precetto") == 2  # the first one lapsed
    history = WorkflowHistory.from_json("judicial-terms", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_plan_disputed_before_pauses_composed_replays() -> None:
    """Recorded before domain/pauses.py: a plan runs, a dispute is opened and rejected (the old
    code resumed the escalation and queued a call beside the plan), then a withdrawal."""
    text = (HISTORIES / "practice_plan_dispute.json").read_text()
    assert '"open_task"' in text  # the old shape: the call queued while the plan ran
    history = WorkflowHistory.from_json("practice-plan-dispute", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_practice_with_invoices_due_later_recorded_before_replays() -> None:
    """Recorded before the overdue part was collected at once: one invoice overdue, one due in
    20 days, the practice parked until the later due date, then withdrawn."""
    text = (HISTORIES / "practice_mixed_due.json").read_text()
    history = WorkflowHistory.from_json("practice-mixed-due", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_practice_waiting_after_its_court_steps_recorded_before_replays() -> None:
    """Recorded before END_DECISION: authorised, the court steps stopped, a month of waiting
    with nothing scheduled, then a withdrawal."""
    text = (HISTORIES / "practice_judicial_end.json").read_text()
    assert "end_decision" not in text  # the old shape: nobody was asked
    history = WorkflowHistory.from_json("practice-judicial-end", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_practice_reminding_of_an_opinion_before_the_cap_replays() -> None:
    """Recorded before OPINION_REMINDERS_CAPPED (legacy/record.py opinion): the opinion
    asked, four reminders (more than today's default cap of three), the opinion given, a
    withdrawal. It replays on the capped code: workflow.patched is False in its replay."""
    text = (HISTORIES / "practice_opinion_reminders.json").read_text()
    scheduled = [
        e["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for e in json.loads(text)["events"]
        if "activityTaskScheduledEventAttributes" in e
    ]
    # five opinion requests (the first and four reminders), then the creditor's authorisation
    assert scheduled[:7] == ["assign_lawyer", "open_task"] + ["notify"] * 5
    assert "opinion-overdue" not in text
    history = WorkflowHistory.from_json("practice-opinion-old", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_visit_reported_before_the_new_outcomes_replays() -> None:
    """Recorded before VISIT_OUTCOMES_V2 (legacy/record.py visit): a home visit reported as
    not found, the legal notice after it, a withdrawal. It replays on the code that knows the
    outcomes met and moved."""
    text = (HISTORIES / "practice_visit_not_found.json").read_text()
    assert "visit-outcomes-v2" not in text  # the old shape: no marker
    history = WorkflowHistory.from_json("practice-visit-old", text)
    result = await _replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
