"""domain.strategy: validate_strategy's errors and field paths, the step list completed in the
creditor's order and the law's order kept, and the strategy's trip through Temporal's pydantic
data converter."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.durations import format_duration
from domain.strategy import (
    DEFAULT_WAITS,
    DURATION_FIELDS,
    LETTER_KINDS,
    MUST_BE_POSITIVE,
    STEP_ORDER,
    Step,
    StepSetting,
    Strategy,
    StrategyError,
    order_error,
    validate_strategy,
)


def error_for(strategy: Strategy) -> StrategyError:
    with pytest.raises(StrategyError) as info:
        validate_strategy(strategy)
    return info.value


def index_of(steps: list[StepSetting], step: Step) -> int:
    return next(i for i, s in enumerate(steps) if s.step == step)


def test_defaults_validate() -> None:
    strategy = validate_strategy(Strategy())
    assert strategy == Strategy()
    assert [s.step for s in strategy.steps] == list(STEP_ORDER)
    assert all(s.enabled for s in strategy.steps)
    assert {s.step: s.wait_after for s in strategy.steps} == DEFAULT_WAITS


def test_step_order_is_the_enum_order() -> None:
    assert STEP_ORDER == tuple(Step)
    assert STEP_ORDER[0] is Step.PRE_DUE_REMINDERS
    assert STEP_ORDER[-1] is Step.AUTHORIZATION
    assert set(DEFAULT_WAITS) == set(Step)


def test_an_empty_step_list_comes_back_complete_with_defaults() -> None:
    strategy = validate_strategy(Strategy(steps=[]))
    assert strategy.steps == Strategy().steps


def test_a_partial_shuffled_step_list_comes_back_complete_in_its_order() -> None:
    given_steps = [
        StepSetting(step=Step.HOME_VISIT, enabled=False),
        StepSetting(step=Step.PHONE_PHASE, enabled=True, wait_after="P3D"),
        StepSetting(step=Step.PRE_DUE_REMINDERS, enabled=False, wait_after="PT0S"),
    ]
    strategy = validate_strategy(Strategy(steps=given_steps))
    # the three named steps take, in the given order, the places STEP_ORDER gives them (0, 3,
    # 6); the others keep theirs
    order = list(STEP_ORDER)
    order[0], order[3], order[6] = Step.HOME_VISIT, Step.PHONE_PHASE, Step.PRE_DUE_REMINDERS
    assert [s.step for s in strategy.steps] == order
    assert strategy.setting(Step.HOME_VISIT) == StepSetting(Step.HOME_VISIT, False, "PT0S")
    assert strategy.setting(Step.PHONE_PHASE) == StepSetting(Step.PHONE_PHASE, True, "P3D")
    assert strategy.setting(Step.PRE_DUE_REMINDERS) == StepSetting(
        Step.PRE_DUE_REMINDERS, False, "PT0S"
    )
    # the steps left out keep their defaults
    assert strategy.setting(Step.REMINDER_LETTER) == StepSetting(
        Step.REMINDER_LETTER, True, DEFAULT_WAITS[Step.REMINDER_LETTER]
    )
    assert strategy.wait_after(Step.PHONE_PHASE) == timedelta(days=3)
    assert not strategy.enabled(Step.HOME_VISIT)


def test_step_names_given_as_strings_come_back_as_steps() -> None:
    strategy = validate_strategy(Strategy(steps=[StepSetting(step="home_visit", enabled=False)]))  # type: ignore[arg-type]
    setting = strategy.setting(Step.HOME_VISIT)
    assert type(setting.step) is Step
    assert setting.enabled is False


def test_validation_does_not_mutate_its_input() -> None:
    steps = [StepSetting(step=Step.PHONE_PHASE, enabled=False)]
    letters = {"reminder_letter": "Gentile cliente, ..."}
    original = Strategy(steps=steps, letter_texts=letters)
    validated = validate_strategy(original)
    assert original.steps is steps and len(steps) == 1
    assert validated.letter_texts == letters
    assert validated.letter_texts is not letters


def test_unknown_step() -> None:
    steps = [StepSetting(step=Step.PHONE_PHASE), StepSetting(step="carrier_pigeon")]  # type: ignore[arg-type]
    error = error_for(Strategy(steps=steps))
    assert error.field_path == "steps.1.step"
    assert "carrier_pigeon" in error.message


def test_duplicated_step() -> None:
    steps = [
        StepSetting(step=Step.PHONE_PHASE),
        StepSetting(step=Step.HOME_VISIT),
        StepSetting(step=Step.PHONE_PHASE, enabled=False),
    ]
    error = error_for(Strategy(steps=steps))
    assert error.field_path == "steps.2.step"
    assert "phone_phase" in error.message


def test_duplicated_step_given_once_as_a_string() -> None:
    steps = [StepSetting(step=Step.PHONE_PHASE), StepSetting(step="phone_phase")]  # type: ignore[arg-type]
    assert error_for(Strategy(steps=steps)).field_path == "steps.1.step"


def test_authorization_cannot_be_disabled() -> None:
    steps = [
        StepSetting(step=Step.PHONE_PHASE),
        StepSetting(step=Step.AUTHORIZATION, enabled=False),
    ]
    error = error_for(Strategy(steps=steps))
    assert error.field_path == "steps.1.enabled"


def test_authorization_cannot_be_disabled_in_the_full_default_list() -> None:
    steps = Strategy().steps
    i = index_of(steps, Step.AUTHORIZATION)
    steps[i] = replace(steps[i], enabled=False)
    assert error_for(Strategy(steps=steps)).field_path == f"steps.{i}.enabled"


@pytest.mark.parametrize("bad", ["P1M", "7 days", "", "P", "-P1D", "P1Y"])
def test_bad_step_wait(bad: str) -> None:
    steps = [
        StepSetting(step=Step.CONTACT_CHECK),
        StepSetting(step=Step.PHONE_PHASE, wait_after=bad),
    ]
    assert error_for(Strategy(steps=steps)).field_path == "steps.1.wait_after"


@pytest.mark.parametrize("name", DURATION_FIELDS)
@pytest.mark.parametrize("bad", ["P1M", "7 days", "", "PT", "-P1D", "P1Y"])
def test_bad_duration_field(name: str, bad: str) -> None:
    error = error_for(replace(Strategy(), **{name: bad}))
    assert error.field_path == name


@pytest.mark.parametrize("name", MUST_BE_POSITIVE)
@pytest.mark.parametrize("zero", ["PT0S", "P0D", "P0W", "P0DT0H0M0S"])
def test_zero_timeouts_are_refused(name: str, zero: str) -> None:
    error = error_for(replace(Strategy(), **{name: zero}))
    assert error.field_path == name


def test_must_be_positive_covers_the_waits_for_an_answer() -> None:
    assert set(MUST_BE_POSITIVE) <= set(DURATION_FIELDS)
    for name in (
        "call_retry_interval",
        "call_outcome_timeout",
        "trace_timeout",
        "visit_outcome_timeout",
        "opinion_timeout",
        "authorization_reminder_interval",
        "authorization_timeout",
        "demand_term",
    ):
        assert name in MUST_BE_POSITIVE


@pytest.mark.parametrize("name", sorted(set(DURATION_FIELDS) - set(MUST_BE_POSITIVE)))
def test_fields_that_may_be_zero(name: str) -> None:
    validated = validate_strategy(replace(Strategy(), **{name: "PT0S"}))
    assert validated.duration(name) == timedelta(0)


@pytest.mark.parametrize("attempts", [0, 21, -1])
def test_call_attempts_out_of_range(attempts: int) -> None:
    assert error_for(Strategy(call_attempts=attempts)).field_path == "call_attempts"


@pytest.mark.parametrize("attempts", [1, 3, 20])
def test_call_attempts_in_range(attempts: int) -> None:
    assert validate_strategy(Strategy(call_attempts=attempts)).call_attempts == attempts


@pytest.mark.parametrize("term", ["P0D", "PT0S", "P400D", "P366D", "P53W"])
def test_demand_term_out_of_range(term: str) -> None:
    assert error_for(Strategy(demand_term=term)).field_path == "demand_term"


@pytest.mark.parametrize("term", ["PT1S", "PT30S", "P15D", "P365D", "P52W"])
def test_demand_term_in_range(term: str) -> None:
    assert validate_strategy(Strategy(demand_term=term)).demand_term == term


@pytest.mark.parametrize("name", DURATION_FIELDS)
def test_absurdly_long_durations_are_strategy_errors(name: str) -> None:
    # a number of days too big for a timedelta is a bad field like any other, not an OverflowError
    error = error_for(replace(Strategy(), **{name: "P1000000000D"}))
    assert error.field_path == name


def test_absurdly_long_step_wait_is_a_strategy_error() -> None:
    steps = [StepSetting(step=Step.PHONE_PHASE, wait_after="P1000000000D")]
    assert error_for(Strategy(steps=steps)).field_path == "steps.0.wait_after"


def test_unknown_letter_kind() -> None:
    texts = {"reminder_letter": "Gentile cliente", "love_letter": "Cara debitrice"}
    error = error_for(Strategy(letter_texts=texts))
    assert error.field_path == "letter_texts.love_letter"


def test_every_letter_kind_may_be_reworded() -> None:
    texts = {kind: f"testo per {kind}" for kind in LETTER_KINDS}
    assert validate_strategy(Strategy(letter_texts=texts)).letter_texts == texts


def test_strategy_error_is_a_value_error() -> None:
    error = error_for(Strategy(call_attempts=0))
    assert isinstance(error, ValueError)
    assert str(error).startswith("call_attempts: ")


def test_setting_of_a_step_missing_from_an_unvalidated_list_is_disabled() -> None:
    assert Strategy(steps=[]).setting(Step.HOME_VISIT) == StepSetting(Step.HOME_VISIT, False)


# --- generated strategies ---------------------------------------------------------------------

durations = st.integers(min_value=0, max_value=400 * 86400).map(
    lambda s: format_duration(timedelta(seconds=s))
)
positive_durations = st.integers(min_value=1, max_value=400 * 86400).map(
    lambda s: format_duration(timedelta(seconds=s))
)


@st.composite
def step_lists(draw: st.DrawFn) -> list[StepSetting]:
    chosen = draw(st.permutations(list(STEP_ORDER)))
    chosen = chosen[: draw(st.integers(min_value=0, max_value=len(chosen)))]
    # in any order the law allows: the reminders before the due date first, the authorisation
    # last (test_steps_in_any_order_are_refused_only_against_the_law tries the others)
    chosen.sort(key=lambda s: {Step.PRE_DUE_REMINDERS: -1, Step.AUTHORIZATION: 1}.get(s, 0))
    return [
        StepSetting(
            step=step,
            enabled=True if step is Step.AUTHORIZATION else draw(st.booleans()),
            wait_after=draw(durations),
        )
        for step in chosen
    ]


@st.composite
def valid_strategies(draw: st.DrawFn) -> Strategy:
    fields = {
        name: draw(positive_durations if name in MUST_BE_POSITIVE else durations)
        for name in DURATION_FIELDS
    }
    fields["demand_term"] = draw(
        st.integers(min_value=1, max_value=365 * 86400).map(
            lambda s: format_duration(timedelta(seconds=s))
        )
    )
    texts = draw(st.dictionaries(st.sampled_from(LETTER_KINDS), st.text(max_size=200), max_size=4))
    return Strategy(
        steps=draw(step_lists()),
        call_attempts=draw(st.integers(min_value=1, max_value=20)),
        letter_texts=texts,
        **fields,
    )


@given(valid_strategies())
def test_valid_strategies_come_back_complete_in_their_order(strategy: Strategy) -> None:
    named = [s.step for s in strategy.steps]
    completed = [
        step
        for step in STEP_ORDER
        # the named steps in the creditor's order in their own places, the rest in place
        if step not in named
    ]
    validated = validate_strategy(strategy)
    assert [s.step for s in validated.steps if s.step in named] == named
    assert [s.step for s in validated.steps if s.step not in named] == completed
    for i, s in enumerate(validated.steps):
        if s.step not in named:
            assert STEP_ORDER[i] == s.step
    assert order_error(validated.steps) is None
    given_settings = {s.step: s for s in strategy.steps}
    for s in validated.steps:
        if s.step in given_settings:
            assert s == given_settings[s.step]
        else:
            assert s == StepSetting(step=s.step, enabled=True, wait_after=DEFAULT_WAITS[s.step])
    for name in DURATION_FIELDS:
        assert getattr(validated, name) == getattr(strategy, name)
    assert validated.call_attempts == strategy.call_attempts
    assert validated.letter_texts == strategy.letter_texts
    # validating twice changes nothing
    assert validate_strategy(validated) == validated


def converter_round_trip(strategy: Strategy) -> Strategy:
    converter = pydantic_data_converter.payload_converter
    payloads = converter.to_payloads([strategy])
    (back,) = converter.from_payloads(payloads, [Strategy])
    assert isinstance(back, Strategy)
    return back


def test_default_strategy_survives_the_pydantic_data_converter() -> None:
    strategy = validate_strategy(Strategy(letter_texts={"formal_demand": "Vi intimiamo..."}))
    back = converter_round_trip(strategy)
    assert back == strategy
    assert all(type(s.step) is Step for s in back.steps)
    assert all(isinstance(s, StepSetting) for s in back.steps)


@given(valid_strategies())
def test_generated_strategies_survive_the_pydantic_data_converter(strategy: Strategy) -> None:
    validated = validate_strategy(strategy)
    back = converter_round_trip(validated)
    assert back == validated
    assert all(type(s.step) is Step for s in back.steps)
    assert validate_strategy(back) == validated


@pytest.mark.parametrize("reminders", [-1, 21])
def test_opinion_reminders_out_of_range(reminders: int) -> None:
    assert error_for(Strategy(opinion_reminders=reminders)).field_path == "opinion_reminders"


@pytest.mark.parametrize("reminders", [0, 3, 20])
def test_opinion_reminders_in_range(reminders: int) -> None:
    assert validate_strategy(Strategy(opinion_reminders=reminders)).opinion_reminders == reminders


def test_opinion_reminders_default_to_three() -> None:
    assert Strategy().opinion_reminders == 3


# --- the order of the steps ----------------------------------------------------------------------


def _steps(*steps: Step) -> list[StepSetting]:
    return [StepSetting(step=s, enabled=True, wait_after=DEFAULT_WAITS[s]) for s in steps]


def test_the_formal_demand_may_come_before_the_phone_phase() -> None:
    # seed 000: the agency sends the formal demand, then phone collection
    strategy = validate_strategy(Strategy(steps=_steps(Step.FORMAL_DEMAND, Step.PHONE_PHASE)))
    order = [s.step for s in strategy.steps]
    assert order.index(Step.FORMAL_DEMAND) < order.index(Step.PHONE_PHASE)
    assert order[-1] is Step.AUTHORIZATION


def test_nothing_may_follow_the_authorisation() -> None:
    error = error_for(Strategy(steps=_steps(Step.AUTHORIZATION, Step.LEGAL_OPINION)))
    assert error.field_path == "steps"
    assert "legal_opinion must come before authorization" in error.message


def test_a_disabled_step_after_the_authorisation_does_not_bind() -> None:
    steps = _steps(Step.AUTHORIZATION, Step.LEGAL_OPINION)
    steps[1] = replace(steps[1], enabled=False)
    strategy = validate_strategy(Strategy(steps=steps))
    assert [s.step for s in strategy.steps][-2:] == [Step.AUTHORIZATION, Step.LEGAL_OPINION]


def test_reminders_before_the_due_date_come_first() -> None:
    error = error_for(Strategy(steps=_steps(Step.CONTACT_CHECK, Step.PRE_DUE_REMINDERS)))
    assert error.field_path == "steps"
    assert "pre_due_reminders must be the first step" in error.message


def test_the_default_order_keeps_the_law() -> None:
    assert order_error(Strategy().steps) is None


@given(st.permutations(list(STEP_ORDER)), st.lists(st.booleans(), min_size=11, max_size=11))
def test_steps_in_any_order_are_refused_only_against_the_law(
    order: list[Step], enabled: list[bool]
) -> None:
    steps = [
        StepSetting(step=s, enabled=on or s is Step.AUTHORIZATION, wait_after="P1D")
        for s, on in zip(order, enabled, strict=True)
    ]
    running = [s.step for s in steps if s.enabled]
    lawful = running[-1] is Step.AUTHORIZATION and (
        Step.PRE_DUE_REMINDERS not in running or running[0] is Step.PRE_DUE_REMINDERS
    )
    if lawful:
        assert [s.step for s in validate_strategy(Strategy(steps=steps)).steps] == order
    else:
        assert error_for(Strategy(steps=steps)).field_path == "steps"
