"""The data pipeline: subgroups, missing values, per-site phases, icons, proposals, errors."""

from __future__ import annotations

import numpy as np
import pytest

from spreadscale.analytics.spc import SpcInputError, portfolio, spc, spc_batch
from spreadscale.analytics.spc.constants import a3, b3_b4, c4

Y = [7.62, 10.78, 9.31, 8.9, 11.96, 9.53, 11.62, 8.51, 9.48, 9.63, 11.04, 11.77, 11.18, 9.61,
     11.32, 9.48, 8.85, 12.81, 11.01, 11.6, 15.85, 10.91, 13, 15.18]


def test_rows_sharing_group_and_x_form_one_subgroup() -> None:
    r = spc_batch([1, 3, 5, 2, 4], x=[1, 1, 2, 3, 3], chart="run")
    assert r.points["y"].tolist() == [2.0, 5.0, 3.0]
    r = spc_batch([1, 3, 5, 2, 4], x=[1, 1, 2, 3, 3], n=[10, 10, 20, 5, 5], chart="p")
    assert r.points["y"].tolist() == [0.2, 0.25, 0.6]
    assert r.points["n"].tolist() == [20.0, 20.0, 10.0]


def test_a_row_missing_y_or_n_is_blanked_before_summing() -> None:
    r = spc_batch([1, np.nan, 5, 3], x=[1, 1, 2, 2], n=[10, 10, np.nan, 10], chart="p")
    assert r.points["y"].tolist() == [0.1, 0.3]
    assert r.points["n"].tolist() == [10.0, 10.0]


def test_rows_with_missing_x_are_dropped() -> None:
    r = spc_batch([1.0, 2.0, 3.0], x=[1.0, np.nan, 2.0], chart="run")
    assert r.points["y"].tolist() == [1.0, 3.0]
    assert r.points["row"].tolist() == [0, 2]


def test_an_excluded_point_is_bridged_in_the_moving_ranges() -> None:
    s = spc([1, 2, 100, 4, 5], chart="i", exclude=[3]).summary_records()[0]
    amr = (1 + 2 + 1) / 3  # |2-1|, |4-2|, |5-4|
    assert s["cl"] == pytest.approx(3.0)
    assert s["ucl"] == pytest.approx(3 + 3 * amr / 1.128)


def test_a_missing_value_drops_both_of_its_moving_ranges() -> None:
    s = spc([1, 2, np.nan, 4, 5], chart="i").summary_records()[0]
    assert s["ucl"] == pytest.approx(3 + 3 * 1 / 1.128)


def test_each_site_can_have_its_own_phases_baseline_and_exclusions() -> None:
    k = len(Y)
    group = ["A"] * k + ["B"] * k + ["C"] * k
    phase = ["before"] * 12 + ["after"] * 12 + ["x"] * k + ["x"] * k
    base = [True] * k + [True] * 12 + [False] * 12 + [True] * k
    excl = [False] * (2 * k) + [i in (2, 6) for i in range(k)]
    r = spc_batch(Y * 3, group=group, chart="i", phase=phase, baseline_flag=base,
                  exclude_flag=excl)
    got = r.summary_records()
    assert [(g["group"], g["part"]) for g in got] == [("A", 1), ("A", 2), ("B", 1), ("C", 1)]
    want = (spc(Y, chart="i", part=12).summary_records()
            + spc(Y, chart="i", freeze=12).summary_records()
            + spc(Y, chart="i", exclude=[3, 7]).summary_records())
    for g, w in zip(got, want, strict=True):
        for key in ("cl", "lcl", "ucl", "n_useful", "longest_run", "n_crossings", "sigma_signal"):
            assert g[key] == pytest.approx(w[key]), key


def test_positions_apply_inside_every_group() -> None:
    r = spc_batch(Y * 2, group=[1] * 24 + [2] * 24, chart="i", freeze=12)
    cl = r.summary["cl"]
    assert cl[0] == pytest.approx(10.0125, abs=1e-4)
    assert cl[1] == pytest.approx(10.0125, abs=1e-4)


def test_rebase_at_an_x_value_starts_a_new_part() -> None:
    x = np.arange("2024-01-01", 24, dtype="datetime64[W]").astype("datetime64[D]")
    r = spc_batch(Y, x=x, chart="i", rebase=[x[12]])
    assert r.summary["part"].tolist() == [1, 2]
    assert r.summary["cl"][1] == pytest.approx(11.7333, abs=1e-4)


def test_rebase_can_differ_per_group() -> None:
    r = spc_batch(Y * 2, group=["a"] * 24 + ["b"] * 24, x=list(range(24)) * 2, chart="i",
                  rebase={"b": [12]})
    assert r.summary["group"].tolist() == ["a", "b", "b"]


def test_a_sustained_shift_is_proposed_as_a_rebase_and_never_applied() -> None:
    stable = [5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4]
    y = [*stable, 9, 10, 11, 9, 10, 11, 9, 10, 11, 10]
    r = spc(y, x=list(range(101, 123)), chart="i")
    assert r.summary["part"].tolist() == [1]  # not rebased
    assert r.summary["proposed_rebase"][0] == 113  # x of the first point of the shift
    (p,) = r.proposals
    assert p["rule"] == "long_run" and p["side"] == "above" and p["n_points"] == 10
    assert p["x_start"] == 113 and p["x_end"] == 122
    assert "long_run" in r.summary["rebase_evidence"][0]


def test_mdc_proposes_rebasing_at_a_seven_point_shift() -> None:
    stable = [5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4]
    y = [*stable, 7, 7.5, 7, 7.5, 7, 7.5, 7]
    r = spc(y, chart="i", rules="mdc")
    assert r.proposals[0]["rule"] == "shift" and r.proposals[0]["x"] == 13


@pytest.mark.parametrize(
    ("improvement", "target", "expected"),
    [("increase", 100, "consistent_fail"), ("increase", -100, "consistent_pass"),
     ("increase", 10, "inconsistent"), ("decrease", 100, "consistent_pass"),
     ("decrease", -100, "consistent_fail"), ("neutral", 100, "")],
)
def test_assurance_compares_the_target_with_the_limits(improvement: str, target: float,
                                                       expected: str) -> None:
    r = spc(Y, chart="i", improvement=improvement, target=target)
    assert r.summary["assurance_type"][0] == expected


def test_assurance_works_for_p_charts_too() -> None:
    r = spc([20] * 20, n=[100] * 20, chart="p", improvement="increase", target=0.9)
    assert r.summary["assurance_type"][0] == "consistent_fail"


def test_the_variation_icon_is_the_type_of_the_last_point() -> None:
    r = spc([*Y, 40], chart="i", improvement="decrease")
    assert r.summary["variation_type"][0] == "special_cause_concern"
    r = spc([*Y, 40], chart="i")
    assert r.summary["variation_type"][0] == "special_cause_neutral_high"


def test_portfolio_counts_sites_by_icon() -> None:
    up = [5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 30]
    flat = [5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 5]
    down = [5, 6, 4, 5, 6, 4, 5, 6, 4, 5, -20]
    r = spc_batch(up + flat + down, group=["u"] * 11 + ["f"] * 11 + ["d"] * 11, chart="i",
                  improvement="increase", target={"u": 0, "f": 100})
    roll = portfolio(r)
    assert (roll["improved"], roll["deteriorated"], roll["stable"]) == (1, 1, 1)
    assert roll["groups"]["improved"] == ["u"]
    assert (roll["pass"], roll["fail"], roll["no_target"]) == (1, 1, 1)


def test_categorical_x_keeps_first_seen_order_and_turns_runs_analysis_off() -> None:
    r = spc_batch([1, 1, 1, 1, 1, 1, 1, 1, 1, 5] * 2, x=list("zyxwvutsrq") * 2, chart="run")
    assert r.points["x"].tolist()[:3] == ["z", "y", "x"]
    assert not r.summary["runs_signal"][0]


def test_xbar_and_s_from_raw_observations_match_pre_aggregated_input() -> None:
    rng = np.random.default_rng(7)
    x = np.repeat(np.arange(12), [4, 5, 5, 6, 4, 5, 5, 5, 6, 4, 5, 5])
    y = rng.normal(50, 3, x.size)
    means = np.array([y[x == i].mean() for i in range(12)])
    sds = np.array([y[x == i].std(ddof=1) for i in range(12)])
    sizes = np.bincount(x)
    for chart in ("xbar", "s"):
        raw = spc_batch(y, x=x, chart=chart)
        agg = spc_batch(means, x=np.arange(12), n=sizes, sd=sds, chart=chart)
        np.testing.assert_allclose(raw.points["ucl"], agg.points["ucl"])
        np.testing.assert_allclose(raw.points["cl"], agg.points["cl"])


def test_xbar_limits_use_a3_and_the_pooled_sd_when_sizes_vary() -> None:
    means, sds, sizes = [10.0, 11.0, 9.0], [1.0, 2.0, 1.5], [4, 6, 5]
    r = spc_batch(means, x=[1, 2, 3], n=sizes, sd=sds, chart="xbar")
    cl = (4 * 10 + 6 * 11 + 5 * 9) / 15
    sp = np.sqrt((3 * 1 + 5 * 4 + 4 * 2.25) / 12)
    assert r.points["ucl"][0] == pytest.approx(cl + 3 / (c4(4) * 2) * sp)


def test_textbook_control_chart_constants() -> None:
    assert float(c4(10)) == pytest.approx(0.9727, abs=1e-4)
    assert float(a3(10)) == pytest.approx(0.975, abs=1e-3)
    b3, b4 = b3_b4([6])
    assert (float(b3[0]), float(b4[0])) == (pytest.approx(0.030, abs=1e-3),
                                            pytest.approx(1.970, abs=1e-3))


def test_results_convert_to_plain_records() -> None:
    r = spc(Y, chart="i", freeze=12)
    rec = r.points_records()[0]
    assert set(rec) >= {"group", "x", "y", "n", "part", "cl", "lcl", "ucl", "sigma_signal",
                        "runs_signal", "baseline", "include", "point_type", "reasons"}
    assert isinstance(rec["cl"], float) and isinstance(rec["baseline"], bool)
    cols = r.summary_columns()
    assert cols["proposed_rebase"] == [None]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [({"y": [5, 30], "n": [10, 20], "chart": "p"}, "y", "numerator above denominator"),
     ({"y": [5, 3], "n": [10, 0], "chart": "p"}, "n", "denominator is 0"),
     ({"y": [5, -3], "chart": "c"}, "y", "negative count"),
     ({"y": [5, 3], "n": [10, -2], "chart": "u"}, "n", "negative"),
     ({"y": [5, 0], "chart": "t"}, "y", "above 0")],
)
def test_it_rejects_bad_values_naming_row_and_field(kwargs: dict, field: str,
                                                   message: str) -> None:
    with pytest.raises(SpcInputError) as info:
        spc_batch(**kwargs)
    assert info.value.problems[0][:2] == (1, field)
    assert message in info.value.problems[0][2]


def test_it_rejects_numerator_above_denominator() -> None:
    with pytest.raises(SpcInputError, match="row 2, y: numerator above denominator"):
        spc_batch([1, 2, 9], n=[5, 5, 5], chart="pp")


def test_it_rejects_a_group_with_too_few_points_for_the_chart() -> None:
    with pytest.raises(SpcInputError, match="group 'b' has 1 usable value"):
        spc_batch([1, 2, 3], group=["a", "a", "b"], chart="i")


def test_it_rejects_an_unknown_chart_and_profile() -> None:
    with pytest.raises(SpcInputError, match="unknown chart"):
        spc_batch([1, 2], chart="z")
    with pytest.raises(SpcInputError, match="unknown profile"):
        spc_batch([1, 2], chart="i", rules="z")
    with pytest.raises(SpcInputError, match="anhoej profile has no shift"):
        spc_batch([1, 2], chart="i", shift_length=6)


def test_mdc_marks_trial_limits_below_thirteen_points_and_gives_the_close_band() -> None:
    y = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    assert spc(y[:12], chart="i", rules="mdc").summary["trial_limits"].tolist() == [True]
    r = spc(y[:13], chart="i", rules="mdc")
    assert r.summary["trial_limits"].tolist() == [False]
    r = spc(y, chart="i", rules="mdc", freeze=12)
    mr = np.abs(np.diff(y[:12]))
    mr = mr[mr < 3.267 * mr.mean()].mean()
    mean = np.mean(y[:12])
    assert r.points["ucl"][0] == pytest.approx(mean + 2.66 * mr)
    assert r.points["ucl_close"][0] == pytest.approx(mean + 2 / 3 * 2.66 * mr)
    assert r.points["lcl_close"][0] == pytest.approx(mean - 2 / 3 * 2.66 * mr)


def test_a_one_point_part_at_the_end_leaves_the_earlier_limits_alone() -> None:
    r = spc([1, 3, 1, 2, 5], chart="i", part=[4])
    amr = (2 + 2 + 1) / 3
    assert r.summary["ucl"][0] == pytest.approx(1.75 + 3 * amr / 1.128)
    assert np.isnan(r.summary["ucl"][1])
