"""FRAME value sets, the fidelity score, the fidelity-consistency rule and before/after evidence."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spreadscale.analytics import fidelity as frame


def _months(n: int, start: int = 0) -> list[date]:
    return [date(2024 + (m // 12), m % 12 + 1, 1) for m in range(start, start + n)]


def test_the_frame_value_sets_are_the_published_ones():
    assert frame.codes(frame.WHEN) == [
        "pre_implementation",
        "implementation",
        "scale_up",
        "maintenance",
    ]
    assert dict(frame.PLANNED)["unplanned_reactive"] == "Unplanned / reactive (modification)"
    assert len(frame.DECIDED_BY) == 11
    assert frame.codes(frame.WHAT_MODIFIED) == [
        "content",
        "context",
        "training_evaluation",
        "implementation_scale_up",
    ]
    assert frame.codes(frame.CONTEXT_ASPECTS) == ["format", "setting", "personnel", "population"]
    assert len(frame.LEVEL) == 6
    assert len(frame.CONTENT_TYPES) == 14
    assert dict(frame.CONTENT_TYPES)["drift"] == "Departing from the intervention (drift)"
    assert frame.codes(frame.FIDELITY) == ["consistent", "inconsistent", "unknown"]
    assert len(frame.GOALS) == 8
    assert {level: len(codes) for level, codes in frame.REASONS.items()} == {
        "sociopolitical": 9,
        "organisation": 11,
        "provider": 7,
        "recipient": 10,
    }
    assert "organisation:workforce" in frame.codes(frame.REASON_CHOICES)
    assert frame.codes(frame.PERMANENCE) == ["temporary", "permanent"]


def test_frame_is_has_its_own_modified_and_goal_sets_and_names_reason_levels_micro_to_macro():
    assert frame.codes(frame.IS_WHAT_MODIFIED) == ["content", "evaluation", "training", "context"]
    assert "adoption" in frame.codes(frame.IS_GOALS)
    assert "sustainability" in frame.codes(frame.IS_GOALS)
    assert frame.IS_REASON_LEVELS["sociopolitical"].startswith("Macro")
    assert frame.IS_REASON_LEVELS["organisation"].startswith("Meso")
    assert frame.IS_REASON_LEVELS["recipient"].startswith("Micro")


def test_every_code_within_a_value_set_is_unique():
    for choices in (
        frame.WHEN,
        frame.PLANNED,
        frame.DECIDED_BY,
        frame.CONTENT_TYPES,
        frame.GOALS,
        frame.REASON_CHOICES,
        frame.LEVEL,
        frame.RATINGS,
    ):
        codes = frame.codes(choices)
        assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        (["intended"] * 4, 1.0),
        (["intended", "intended", "adapted_kept", "adapted_lost"], 0.75),
        (["not_delivered", "adapted_lost"], 0.0),
        (["intended", "not_assessed", "not_assessed", "not_delivered"], 0.5),
        (["not_assessed", "not_assessed"], None),
        ([], None),
    ],
)
def test_the_fidelity_score_is_the_share_of_assessed_core_functions_kept(ratings, expected):
    assert frame.fidelity_score(ratings) == expected


def test_an_unknown_rating_is_refused():
    with pytest.raises(ValueError, match="unknown rating"):
        frame.fidelity_score(["intended", "sort of"])


@given(st.lists(st.sampled_from(frame.codes(frame.RATINGS)), max_size=12))
def test_the_score_is_a_share_and_ignores_unassessed_functions(ratings):
    score = frame.fidelity_score(ratings)
    assessed = [r for r in ratings if r != "not_assessed"]
    if not assessed:
        assert score is None
    else:
        assert 0.0 <= score <= 1.0
        assert score == frame.fidelity_score(assessed)


@pytest.mark.parametrize(
    ("kinds", "types", "expected"),
    [
        ([], ["removing"], "unknown"),
        (["adaptable_form"], ["substituting", "drift"], "consistent"),
        (["core_function"], ["removing"], "inconsistent"),
        (["core_function"], ["shortening"], "inconsistent"),
        (["core_function", "adaptable_form"], ["tailoring", "drift"], "inconsistent"),
        (["core_function"], ["tailoring", "adding"], "consistent"),
        (["core_function"], ["reordering"], "unknown"),
        (["core_function"], [], "unknown"),
    ],
)
def test_the_fidelity_consistency_rule(kinds, types, expected):
    value, reason = frame.fidelity_consistency(kinds, types)
    assert value == expected
    assert reason


def test_the_rule_refuses_an_unknown_component_kind():
    with pytest.raises(ValueError, match="component kind"):
        frame.fidelity_consistency(["core"], [])


def test_a_known_shift_at_the_adaptation_date_is_found_with_both_centre_lines():
    rng = np.random.default_rng(4)
    line_days = [500] * 24
    infections = list(rng.poisson(1.5, 12)) + list(rng.poisson(0.3, 12))
    months = _months(24)
    result = frame.before_after(
        infections,
        months,
        months[12],
        n=line_days,
        chart="u",
        improvement="decrease",
        multiplier=1000,
    )
    assert result.enough
    assert (result.n_before, result.n_after) == (12, 12)
    assert result.before_cl == pytest.approx(sum(infections[:12]) / 6000 * 1000)
    assert result.after_cl == pytest.approx(sum(infections[12:]) / 6000 * 1000)
    assert result.change < 0
    assert result.direction == "improvement"
    assert result.runs_signal or result.signals_after
    assert "not proof" in result.summary
    assert [p["after"] for p in result.points] == [False] * 12 + [True] * 12


def test_a_series_without_a_shift_shows_no_signal_after_the_date():
    y = [10, 12, 11, 9, 10, 11, 12, 10, 9, 11, 10, 12, 11, 9, 10, 11, 10, 12, 9, 11]
    months = _months(20)
    result = frame.before_after(y, months, months[10], chart="i", improvement="increase")
    assert result.enough
    assert result.direction == "none"
    assert result.signals_after == 0
    assert not result.runs_signal
    assert result.summary == "No signal of change after the adaptation date."


def test_a_deterioration_after_the_date_is_named_as_such():
    y = [2, 3, 2, 3, 2, 3, 2, 3, 9, 10, 9, 10, 9, 10]
    months = _months(14)
    result = frame.before_after(y, months, months[8], chart="i", improvement="decrease")
    assert result.direction == "deterioration"
    assert result.concern_signals > 0


def test_too_few_points_on_one_side_say_so_rather_than_guess():
    months = _months(8)
    result = frame.before_after([1, 2, 1, 2, 1, 2, 1, 2], months, months[6], chart="i")
    assert not result.enough
    assert result.before_cl is None
    assert "Not enough data" in result.summary


def test_points_come_in_period_order_whatever_order_they_arrive_in():
    months = _months(10)
    y = [5, 5, 6, 5, 6, 1, 1, 2, 1, 1]
    forward = frame.before_after(y, months, months[5], chart="i", improvement="decrease")
    backward = frame.before_after(
        y[::-1], months[::-1], months[5], chart="i", improvement="decrease"
    )
    assert forward.before_cl == backward.before_cl
    assert forward.after_cl == backward.after_cl


@given(
    st.lists(st.sampled_from(["core_function", "adaptable_form"]), max_size=4),
    st.lists(st.sampled_from(frame.codes(frame.CONTENT_TYPES)), max_size=4),
)
def test_the_rule_always_answers_with_a_frame_value_and_only_core_changes_break_fidelity(
    kinds, types
):
    value, _ = frame.fidelity_consistency(kinds, types)
    assert value in frame.codes(frame.FIDELITY)
    if value == "inconsistent":
        assert "core_function" in kinds and set(types) & frame.CORE_BREAKING
    # Touching an extra adaptable form never changes the verdict on the core functions.
    if "core_function" in kinds:
        assert frame.fidelity_consistency([*kinds, "adaptable_form"], types)[0] == value
