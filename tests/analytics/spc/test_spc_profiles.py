"""Each rule profile on hand-built series that hit, or just miss, every rule.

Series are in sigma units around a centre line of 0 (so 2.5 is 2.5 sigma above it), fed to
the rule engine directly; the end-to-end tests at the bottom go through spc_batch.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.spc_reference import run_rules

from spreadscale.analytics.spc import CHARTS, PROFILES, RULE_CODES, spc, spc_batch
from spreadscale.analytics.spc.profiles import RuleProfile
from spreadscale.analytics.spc.rules import (
    PART_FEW_CROSSINGS,
    PART_TOO_FEW_RUNS,
    PART_TOO_MANY_RUNS,
)


def flagged(profile: str | RuleProfile, y: list[float], code: str, **kw: bool) -> list[int]:
    """Indices of the points that carry ``code``."""
    bit = RULE_CODES.index(code)
    return np.flatnonzero(run_rules(profile, y, **kw).mask >> bit & 1).tolist()


# --- anhoej ------------------------------------------------------------------------------

def test_anhoej_flags_a_run_longer_than_round_log2_n_plus_3() -> None:
    y = [1] * 8 + [-1, 1] * 4  # 16 useful points: limit 7, run of 8
    assert flagged("anhoej", y, "long_run") == list(range(8))
    assert bool(run_rules("anhoej", y).runs_signal[0])


def test_anhoej_just_misses_a_run_equal_to_the_limit() -> None:
    y = [1] * 7 + [-1, 1] * 4 + [-1]  # 16 useful points, run of 7 = limit
    sig = run_rules("anhoej", y)
    assert sig.mask.sum() == 0
    assert not sig.runs_signal[0]


def test_anhoej_points_on_the_centre_line_neither_extend_nor_break_a_run() -> None:
    y = [1] * 4 + [0] + [1] * 4 + [-1, 1] * 3 + [-1]
    sig = run_rules("anhoej", y)
    assert sig.n_useful[0] == 15  # 16 points, one on the centre line: limit 7
    assert sig.longest_run[0] == 8
    assert flagged("anhoej", y, "long_run") == [0, 1, 2, 3, 5, 6, 7, 8]


def test_anhoej_flags_too_few_crossings_for_the_part() -> None:
    sig = run_rules("anhoej", [1] * 5 + [-1] * 5)  # 10 useful: at least 2 crossings needed
    assert sig.n_crossings[0] == 1
    assert sig.part_mask[0] & PART_FEW_CROSSINGS
    assert sig.runs_signal[0]


def test_anhoej_just_misses_with_the_minimum_number_of_crossings() -> None:
    sig = run_rules("anhoej", [1] * 4 + [-1] * 3 + [1] * 3)
    assert sig.n_crossings[0] == 2
    assert not sig.runs_signal[0]


def test_a_point_on_the_limit_is_not_beyond_it() -> None:
    assert flagged("anhoej", [0, 3.0, 0, -3.0, 0], "beyond_limits") == []
    assert flagged("anhoej", [0, 3.01, 0, -3.01, 0], "beyond_limits") == [1, 3]


# --- ihi -----------------------------------------------------------------------------------

def test_ihi_run_chart_shift_needs_six_points_on_one_side() -> None:
    assert flagged("ihi", [1, -1, 1, -1] + [1] * 6, "shift", run_chart=True) == list(range(4, 10))
    assert flagged("ihi", [1, -1, 1, -1] + [1] * 5 + [-1], "shift", run_chart=True) == []


def test_ihi_skips_points_on_the_median_in_a_shift() -> None:
    assert flagged("ihi", [1, 1, 1, 0, 1, 1, 1], "shift", run_chart=True) == [0, 1, 2, 4, 5, 6]


def test_ihi_run_chart_trend_needs_five_points() -> None:
    assert flagged("ihi", [2, 1, 1.1, 1.2, 1.3, 1.4, 0.5], "trend", run_chart=True) == [1, 2, 3,
                                                                                          4, 5]
    assert flagged("ihi", [2, 1, 1.1, 1.2, 1.3, 0.5], "trend", run_chart=True) == []


def test_ihi_counts_only_the_first_of_equal_values_in_a_trend() -> None:
    assert flagged("ihi", [2, 1, 1.1, 1.1, 1.2, 1.3, 0.5], "trend", run_chart=True) == []
    hit = flagged("ihi", [2, 1, 1.1, 1.1, 1.2, 1.3, 1.4, 0.5], "trend", run_chart=True)
    assert hit == [1, 2, 3, 4, 5, 6]


def test_ihi_flags_too_few_and_too_many_runs_on_run_charts() -> None:
    # 10 useful points: crossings ~ Binomial(9, 1/2); 2.5% tails give 2 and 7.
    few = run_rules("ihi", [1] * 5 + [-1] * 5, run_chart=True)
    many = run_rules("ihi", [1, -1] * 5, run_chart=True)
    ok = run_rules("ihi", [1, -1, 1, -1, 1, -1, 1, -1, -1, -1], run_chart=True)
    assert few.part_mask[0] & PART_TOO_FEW_RUNS
    assert many.part_mask[0] & PART_TOO_MANY_RUNS
    assert ok.part_mask[0] == 0 and ok.n_crossings[0] == 7


def test_ihi_control_charts_use_eight_point_shifts_and_six_point_trends() -> None:
    assert flagged("ihi", [-1] + [0.5] * 8, "shift") == list(range(1, 9))
    assert flagged("ihi", [-1] + [0.5] * 7, "shift") == []
    assert flagged("ihi", [1, 0, 0.1, 0.2, 0.3, 0.4, 0.5], "trend") == [1, 2, 3, 4, 5, 6]
    assert flagged("ihi", [1, 0, 0.1, 0.2, 0.3, 0.4], "trend") == []


# --- weco ----------------------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["weco", "nelson", "ihi"])
def test_two_of_three_beyond_two_sigma_on_one_side(profile: str) -> None:
    assert flagged(profile, [0, 2.5, 0.5, 2.5, 0], "two_of_three") == [1, 3]
    assert flagged(profile, [0, 2.5, 0.5, 0.5, 2.5], "two_of_three") == []
    assert flagged(profile, [0, 2.0, 0.5, 2.5, 0], "two_of_three") == []  # 2.0 is not beyond
    assert flagged(profile, [2.5, -2.5, 0.5], "two_of_three") == []


@pytest.mark.parametrize("profile", ["weco", "nelson"])
def test_four_of_five_beyond_one_sigma_on_one_side(profile: str) -> None:
    assert flagged(profile, [0, 1.5, 1.5, -0.5, 1.5, 1.5, 0], "four_of_five") == [1, 2, 4, 5]
    assert flagged(profile, [0, 1.5, 1.5, -0.5, 1.5, 0.5, 0], "four_of_five") == []


def test_weco_shift_is_eight_points_and_a_point_on_the_centre_line_breaks_it() -> None:
    assert flagged("weco", [-1] + [0.5] * 8, "shift") == list(range(1, 9))
    assert flagged("weco", [-1] + [0.5] * 7, "shift") == []
    assert flagged("weco", [0.5] * 4 + [0] + [0.5] * 4, "shift") == []


# --- nelson --------------------------------------------------------------------------------

def test_nelson_shift_is_nine_points() -> None:
    assert flagged("nelson", [0.5] * 9, "shift") == list(range(9))
    assert flagged("nelson", [0.5] * 8, "shift") == []


def test_nelson_a_point_on_the_centre_line_breaks_a_shift() -> None:
    assert flagged("nelson", [0.5] * 4 + [0] + [0.5] * 5, "shift") == []


def test_nelson_trend_is_six_points_and_equal_values_break_it() -> None:
    assert flagged("nelson", [1, 0, 0.1, 0.2, 0.3, 0.4, 0.5], "trend") == [1, 2, 3, 4, 5, 6]
    assert flagged("nelson", [1, 0, 0.1, 0.2, 0.3, 0.4], "trend") == []
    assert flagged("nelson", [0, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5], "trend") == []


def test_nelson_fourteen_points_alternating() -> None:
    assert flagged("nelson", [0.1, -0.1] * 7, "alternating") == list(range(14))
    assert flagged("nelson", [0.1, -0.1] * 6 + [0.1], "alternating") == []
    assert flagged("nelson", [0.1, -0.1] * 3 + [-0.1] + [0.1, -0.1] * 4, "alternating") == []


def test_nelson_fifteen_points_within_one_sigma() -> None:
    y = [0.1, 0.2, 0.3, -0.1, -0.2, -0.3] * 2 + [0.1, 0.2, 1.0]  # 1.0 is inside zone C
    assert flagged("nelson", y, "stratification") == list(range(15))
    assert flagged("nelson", [*y[:14], 1.2], "stratification") == []


def test_nelson_eight_points_beyond_one_sigma_on_either_side() -> None:
    assert flagged("nelson", [1.5, -1.5] * 4, "mixture") == list(range(8))
    assert flagged("nelson", [1.5, -1.5] * 3 + [1.5, 0], "mixture") == []


# --- mdc -------------------------------------------------------------------------------------

def test_mdc_shift_is_seven_points_and_a_point_on_the_mean_breaks_it() -> None:
    assert flagged("mdc", [-1] + [0.5] * 7, "shift") == list(range(1, 8))
    assert flagged("mdc", [-1] + [0.5] * 6, "shift") == []
    assert flagged("mdc", [0.5] * 3 + [0] + [0.5] * 4, "shift") == []


def test_mdc_trend_is_seven_points_and_an_equal_value_breaks_it() -> None:
    assert flagged("mdc", [1, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "trend") == list(range(1, 8))
    assert flagged("mdc", [1, 0, 0.1, 0.2, 0.3, 0.4, 0.5], "trend") == []
    assert flagged("mdc", [0, 0.1, 0.2, 0.3, 0.3, 0.4, 0.5, 0.6], "trend") == []


def test_mdc_two_of_three_counts_close_points_on_one_side_only() -> None:
    assert flagged("mdc", [0, 2.5, 0.5, 2.5], "two_of_three") == [1, 3]
    assert flagged("mdc", [2.5, -0.5, 2.5], "two_of_three") == []  # not all on one side
    # A point beyond the limit is astronomical, not close.
    assert flagged("mdc", [3.5, 0.5, 2.5], "two_of_three") == []
    assert flagged("mdc", [3.5, 0.5, 2.5], "beyond_limits") == [0]


def test_mdc_lengths_are_parameters() -> None:
    short = PROFILES["mdc"].with_params(shift_length=6, trend_length=6)
    assert flagged(short, [-1] + [0.5] * 6, "shift") == list(range(1, 7))
    assert flagged(short, [1, 0, 0.1, 0.2, 0.3, 0.4, 0.5], "trend") == list(range(1, 7))


def test_mdc_precedence_gives_a_rising_trend_below_the_mean_an_upward_direction() -> None:
    sig = run_rules("mdc", [-0.9, -0.8, -0.7, -0.6, -0.5, -0.4, -0.3])
    assert (sig.mask > 0).all()
    assert (sig.direction == 1).all()  # trend (up) outranks shift (below)


def test_unknown_profile_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="no parameter"):
        PROFILES["weco"].with_params(trend=3)


def test_every_profile_is_named_versioned_and_sourced() -> None:
    for name, prof in PROFILES.items():
        assert prof.name == name and prof.version and prof.sources and prof.ties


# --- end to end: every chart type carries reasons and point types --------------------------

BASE = [10, 11, 9, 10, 12, 9, 11, 10, 9, 11, 10, 12, 10, 9, 11, 10]


@pytest.mark.parametrize("chart", [c for c in CHARTS if c not in ("run", "mr", "xbar", "s")])
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_huge_point_is_special_on_every_chart_and_profile(chart: str, profile: str) -> None:
    y = [*BASE, 100, *BASE[:5]]
    n = [200] * len(y) if chart in ("p", "pp", "u", "up") else None
    r = spc(y, n=n, chart=chart, rules=profile, improvement="decrease")
    assert "beyond_limits" in r.points["reasons"][16].split("|")
    assert r.points["point_type"][16] == "special_cause_concern"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_sustained_shift_is_special_on_a_run_chart_for_every_profile(profile: str) -> None:
    y = [3, 5, 4, 6, 3, 5, 4, 6, 3, 5, 4, 6, 9, 10, 11, 9, 10, 11, 9, 10, 11, 12]
    r = spc(y, chart="run", rules=profile, improvement="increase")
    assert r.points["point_type"][-1] == "special_cause_improvement"
    assert r.points["reasons"][-1] != ""


def test_xbar_and_s_charts_flag_shifted_subgroups() -> None:
    rng = np.random.default_rng(3)
    x = np.repeat(np.arange(20), 5)
    y = rng.normal(10, 1, 100)
    y[x == 15] += 6
    r = spc_batch(y, x=x, chart="xbar")
    assert r.points["reasons"][15] == "beyond_limits"
    assert r.points["sigma_signal"].sum() == 1


def test_a_rule_without_a_direction_gives_a_neutral_point_type() -> None:
    # Fourteen alternating points after a stable baseline: Nelson 4 has no direction.
    base = [10, 12, 9, 11, 10, 13, 9, 10, 11, 12, 10, 9, 11, 10]
    alt = [10.5, 9.5] * 7
    r = spc([*base, *alt], chart="i", rules="nelson", freeze=len(base), improvement="increase")
    types = set(r.points["point_type"][len(base):])
    assert types == {"special_cause_neutral_high", "special_cause_neutral_low"}
    assert all("alternating" in s for s in r.points["reasons"][len(base):])
