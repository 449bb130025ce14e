"""Every documented profile parameter changes the result as docs/spc.md says it does."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom
from tests.spc_reference import E, N, Y, run_rules

from spreadscale.analytics.spc import PROFILES, RULE_CODES, RuleProfile, spc, spc_batch
from spreadscale.analytics.spc.constants import b3_b4
from spreadscale.analytics.spc.rules import PART_TOO_FEW_RUNS

SCREEN = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


def bit(code: str) -> int:
    return 1 << RULE_CODES.index(code)


def has(r: object, i: int, code: str) -> bool:
    return bool(r.points["reason_mask"][i] & bit(code))  # type: ignore[attr-defined]


def flagged(prof: RuleProfile, y: list[float], code: str, **kw: bool) -> list[int]:
    return np.flatnonzero(run_rules(prof, y, **kw).mask & bit(code)).tolist()


def test_every_profile_parameter_is_covered_here() -> None:
    # A new parameter must get a test below (and a line in docs/spc.md).
    assert {name: sorted(p.params) for name, p in PROFILES.items()} == {
        "anhoej": ["crossings_p", "screen_moving_ranges", "sigma"],
        "ihi": ["astronomical_sigma", "runs_min_useful", "runs_p", "screen_moving_ranges",
                "shift_length", "trend_length"],
        "weco": ["screen_moving_ranges", "shift_length", "trend_length"],
        "nelson": ["alternating_length", "mixture_length", "screen_moving_ranges",
                   "shift_length", "stratification_length", "trend_length"],
        "mdc": ["screen_moving_ranges", "shift_length", "trend_length", "trial_limits_below",
                "xmr_constant"],
    }


# --- anhoej: sigma -------------------------------------------------------------------------

TWO_SIGMA = PROFILES["anhoej"].with_params(sigma=2.0)


@pytest.mark.parametrize("chart", ["i", "p", "pp", "u", "up", "c", "xbar"])
def test_sigma_sets_the_width_of_the_limits(chart: str) -> None:
    y, n = (E, N) if chart in ("p", "pp", "u", "up") else (Y, None)
    if chart == "xbar":
        y, n = np.repeat(Y, 3) + np.tile([-0.5, 0.0, 0.7], 24), None
    x = np.repeat(np.arange(24), 3) if chart == "xbar" else None
    three = spc_batch(y, x=x, n=n, chart=chart)
    two = spc_batch(y, x=x, n=n, chart=chart, rules=TWO_SIGMA)
    np.testing.assert_allclose(two.points["cl"], three.points["cl"])
    np.testing.assert_allclose(two.points["ucl"] - two.points["cl"],
                               (three.points["ucl"] - three.points["cl"]) * 2 / 3, rtol=1e-12)


def test_sigma_on_g_s_mr_and_t_charts() -> None:
    gbar = float(np.mean(Y))  # g limits are centred on the mean (the plotted CL is the median)
    g3 = spc(Y, chart="g").points["ucl"]
    g2 = spc(Y, chart="g", rules=TWO_SIGMA).points["ucl"]
    np.testing.assert_allclose(g2 - gbar, (g3 - gbar) * 2 / 3)
    x = np.repeat(np.arange(24), 5)
    raw = np.repeat(Y, 5) + np.tile([-1.0, -0.2, 0.0, 0.4, 0.9], 24) * np.repeat(
        np.linspace(0.5, 1.5, 24), 5)
    s2 = spc_batch(raw, x=x, chart="s", rules=TWO_SIGMA)
    _, b4 = b3_b4(5, 2.0)
    np.testing.assert_allclose(s2.points["ucl"], b4 * s2.points["cl"])
    mr2 = spc(Y, chart="mr", rules=TWO_SIGMA).summary_records()[0]
    assert mr2["ucl"] == pytest.approx((1 + 2.267 * 2 / 3) * 1.9626, abs=1e-4)
    t3 = spc(Y, chart="t").points
    t2 = spc(Y, chart="t", rules=TWO_SIGMA).points
    half3 = t3["ucl"] ** (1 / 3.6) - t3["cl"] ** (1 / 3.6)
    half2 = t2["ucl"] ** (1 / 3.6) - t2["cl"] ** (1 / 3.6)
    np.testing.assert_allclose(half2, half3 * 2 / 3)


def test_a_point_between_two_and_three_sigma_signals_only_at_two_sigma() -> None:
    counts = [3, 5, 4, 4, 3, 5, 4, 4, 9]  # baseline mean 4: 3-sigma UCL 10, 2-sigma UCL 8
    assert not has(spc(counts, chart="c", freeze=8), 8, "beyond_limits")
    r = spc(counts, chart="c", freeze=8, rules=TWO_SIGMA)
    assert r.points["ucl"][8] == 8.0
    assert has(r, 8, "beyond_limits") and r.summary["sigma_signal"][0] == 1


# --- anhoej: crossings_p, screen_moving_ranges ---------------------------------------------

def test_crossings_p_sets_the_quantile_of_the_crossings_limit() -> None:
    default = spc(Y, chart="i").summary_records()[0]
    loose = spc(Y, chart="i", rules=PROFILES["anhoej"].with_params(crossings_p=0.3))
    s = loose.summary_records()[0]
    assert default["n_crossings_min"] == 8 and not default["runs_signal"]
    assert s["n_crossings_min"] == binom.ppf(0.3, 23, 0.5) == 10
    assert s["n_crossings"] == 9 and s["runs_signal"] and s["runs_reasons"] == "few_crossings"


@pytest.mark.parametrize("profile", ["anhoej", "ihi", "weco", "nelson"])
def test_screen_moving_ranges_off_gives_the_unscreened_i_chart(profile: str) -> None:
    on = spc(SCREEN, chart="i", rules=profile).summary_records()[0]
    off = spc(SCREEN, chart="i",
              rules=PROFILES[profile].with_params(screen_moving_ranges=False)).summary_records()[0]
    assert on["ucl"] == pytest.approx(4.6040, abs=1e-4)
    assert off["ucl"] == pytest.approx(6.9507, abs=1e-4)


def test_screen_moving_ranges_off_widens_laney_limits_too() -> None:
    n = [100] * 18
    events = [v * 3 for v in SCREEN]
    on = spc(events, n=n, chart="pp").summary["ucl"][0]
    off = spc(events, n=n, chart="pp",
              rules=PROFILES["anhoej"].with_params(screen_moving_ranges=False)).summary["ucl"][0]
    assert off > on


# --- ihi -------------------------------------------------------------------------------------

IHI = PROFILES["ihi"]


def test_ihi_shift_and_trend_lengths_replace_the_defaults() -> None:
    y = [1, -1, 1, -1] + [1] * 4 + [-1]
    assert flagged(IHI, y, "shift", run_chart=True) == []
    assert flagged(IHI.with_params(shift_length=4), y, "shift", run_chart=True) == [4, 5, 6, 7]
    t = [2, 1, 1.1, 1.2, 1.3, 0.5]
    assert flagged(IHI, t, "trend", run_chart=True) == []
    assert flagged(IHI.with_params(trend_length=4), t, "trend", run_chart=True) == [1, 2, 3, 4]


def test_ihi_trend_length_of_three() -> None:
    t = [2, 1, 1.1, 1.2, 0.5]
    assert flagged(IHI.with_params(trend_length=3), t, "trend", run_chart=True) == [1, 2, 3]


def test_ihi_runs_p_is_the_two_sided_level_of_the_runs_rule() -> None:
    y = [1] * 4 + [-1] * 3 + [1] * 3  # 10 useful points, 2 crossings
    assert run_rules(IHI, y, run_chart=True).part_mask[0] == 0  # 2.5 % tail: fewer than 2
    wide = run_rules(IHI.with_params(runs_p=0.5), y, run_chart=True)  # 25 %: fewer than 3
    assert binom.ppf(0.25, 9, 0.5) == 3
    assert wide.part_mask[0] & PART_TOO_FEW_RUNS


def test_ihi_runs_min_useful_switches_the_runs_rule_off_for_short_series() -> None:
    y = [1] * 5 + [-1] * 5
    assert run_rules(IHI, y, run_chart=True).part_mask[0] & PART_TOO_FEW_RUNS
    assert run_rules(IHI.with_params(runs_min_useful=11), y, run_chart=True).part_mask[0] == 0


# --- ihi: the astronomical data point on run charts ----------------------------------------

BASE = [10, 11, 9, 10, 12, 9, 11, 10, 9, 11, 10, 12]


def i_limits(y: list[float], **kw: object) -> tuple[float, float]:
    p = spc(y, chart="i", **kw).points  # type: ignore[arg-type]
    return float(p["lcl"][-1]), float(p["ucl"][-1])


@pytest.mark.parametrize("side", ["high", "low"])
def test_astronomical_is_strictly_beyond_the_i_chart_limits_of_the_same_data(side: str) -> None:
    lcl, ucl = i_limits([*BASE, 10], freeze=12)
    edge = ucl if side == "high" else lcl
    beyond = np.nextafter(edge, np.inf if side == "high" else -np.inf)
    miss = spc([*BASE, edge], chart="run", rules="ihi", freeze=12)
    hit = spc([*BASE, beyond], chart="run", rules="ihi", freeze=12, improvement="increase")
    assert not has(miss, 12, "astronomical")
    assert has(hit, 12, "astronomical") and hit.points["reasons"][12] == "astronomical"
    want = "special_cause_improvement" if side == "high" else "special_cause_concern"
    assert hit.points["point_type"][12] == want
    # Neither a sigma signal (a run chart has no limits) nor a runs signal.
    assert hit.summary["sigma_signal"][0] == 0 and not hit.summary["runs_signal"][0]
    assert np.isnan(hit.points["ucl"]).all()


def test_the_spec_screening_series_has_an_astronomical_point_on_an_ihi_run_chart() -> None:
    r = spc(SCREEN, chart="run", rules="ihi")
    assert np.flatnonzero(r.points["reason_mask"] & bit("astronomical")).tolist() == [4]
    i = spc(SCREEN, chart="i", rules="ihi")
    assert np.flatnonzero(i.points["reason_mask"] & bit("beyond_limits")).tolist() == [4]


def test_astronomical_uses_each_parts_own_limits_and_covers_excluded_points() -> None:
    y = [*BASE, *[v + 50 for v in BASE]]
    r = spc(y, chart="run", rules="ihi", part=12)
    assert not (r.points["reason_mask"] & bit("astronomical")).any()
    excl = spc([*BASE, 30], chart="run", rules="ihi", exclude=[13])
    assert has(excl, 12, "astronomical")


def test_astronomical_sigma_sets_or_switches_off_the_rule() -> None:
    _, ucl = i_limits([*BASE, 10], freeze=12)
    cl = float(np.mean(BASE))
    between = cl + (ucl - cl) * 0.8  # beyond 2 sigma, inside 3 sigma
    assert not has(spc([*BASE, between], chart="run", rules="ihi", freeze=12), 12, "astronomical")
    two = IHI.with_params(astronomical_sigma=2.0)
    assert has(spc([*BASE, between], chart="run", rules=two, freeze=12), 12, "astronomical")
    off = IHI.with_params(astronomical_sigma=None)
    assert not has(spc([*BASE, 40], chart="run", rules=off, freeze=12), 12, "astronomical")


@pytest.mark.parametrize("profile", ["anhoej", "weco", "nelson", "mdc"])
def test_only_ihi_run_charts_have_the_astronomical_rule(profile: str) -> None:
    assert not has(spc([*BASE, 40], chart="run", rules=profile), 12, "astronomical")


def test_ihi_control_charts_call_it_beyond_limits() -> None:
    r = spc([*BASE, 40], chart="i", rules="ihi")
    assert r.points["reasons"][12] == "beyond_limits"


# --- weco, nelson ------------------------------------------------------------------------------

def test_weco_shift_length_and_optional_trend() -> None:
    weco = PROFILES["weco"]
    y = [-1] + [0.5] * 6
    assert flagged(weco, y, "shift") == []
    assert flagged(weco.with_params(shift_length=6), y, "shift") == list(range(1, 7))
    t = [1, 0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert flagged(weco, t, "trend") == []  # trend is off by default
    assert flagged(weco.with_params(trend_length=6), t, "trend") == list(range(1, 7))


def test_nelson_lengths_are_parameters() -> None:
    nel = PROFILES["nelson"]
    assert flagged(nel, [0.5] * 7, "shift") == []
    assert flagged(nel.with_params(shift_length=7), [0.5] * 7, "shift") == list(range(7))
    t = [1, 0, 0.1, 0.2, 0.3]
    assert flagged(nel, t, "trend") == []
    assert flagged(nel.with_params(trend_length=4), t, "trend") == [1, 2, 3, 4]
    alt = [0.1, -0.1] * 5
    assert flagged(nel, alt, "alternating") == []
    assert flagged(nel.with_params(alternating_length=10), alt, "alternating") == list(range(10))
    strat = [0.1, -0.2, 0.3, -0.1, 0.2, -0.3] * 2
    assert flagged(nel, strat, "stratification") == []
    assert flagged(nel.with_params(stratification_length=12), strat,
                   "stratification") == list(range(12))
    mix = [1.5, -1.5] * 3
    assert flagged(nel, mix, "mixture") == []
    assert flagged(nel.with_params(mixture_length=6), mix, "mixture") == list(range(6))


# --- mdc -----------------------------------------------------------------------------------------

def test_mdc_xmr_constant_multiplies_the_average_moving_range() -> None:
    r = spc(SCREEN, chart="i", rules="mdc").summary_records()[0]
    r3 = spc(SCREEN, chart="i",
             rules=PROFILES["mdc"].with_params(xmr_constant=3.0)).summary_records()[0]
    mrbar = (r["ucl"] - r["cl"]) / 2.66
    assert r3["ucl"] == pytest.approx(r["cl"] + 3.0 * mrbar, rel=1e-12)


def test_mdc_screen_moving_ranges_off_gives_the_unscreened_upl() -> None:
    off = PROFILES["mdc"].with_params(screen_moving_ranges=False)
    assert spc(SCREEN, chart="i", rules=off).summary["ucl"][0] == pytest.approx(6.9515, abs=1e-4)


def test_mdc_trial_limits_below_sets_the_warning() -> None:
    assert not spc(SCREEN, chart="i", rules="mdc").summary["trial_limits"][0]  # 18 >= 13
    strict = PROFILES["mdc"].with_params(trial_limits_below=20)
    assert spc(SCREEN, chart="i", rules=strict).summary["trial_limits"][0]
    assert spc(SCREEN[:12], chart="i", rules="mdc").summary["trial_limits"][0]


# --- parameter values are checked ----------------------------------------------------------------

@pytest.mark.parametrize(("profile", "name", "value"), [
    ("anhoej", "sigma", 0), ("anhoej", "sigma", -1.0), ("anhoej", "crossings_p", 1.5),
    ("anhoej", "screen_moving_ranges", "no"), ("ihi", "shift_length", 1),
    ("ihi", "astronomical_sigma", -3), ("ihi", "runs_p", 0), ("nelson", "mixture_length", None),
    ("mdc", "xmr_constant", float("inf")), ("mdc", "trial_limits_below", -1),
])
def test_out_of_range_parameters_are_rejected(profile: str, name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        PROFILES[profile].with_params(**{name: value})


# --- beyond limits: a hit and a just-miss for every profile --------------------------------------

@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_beyond_limits_is_strict_on_both_sides_for_every_profile(profile: str) -> None:
    # c chart: baseline mean 16 gives LCL 16 - 3*4 = 4 and UCL 28 exactly.
    base = [15, 17, 16, 16, 15, 17, 16, 16]
    y = [*base, 4, 16, 3, 16, 28, 16, 29]
    r = spc(y, chart="c", freeze=8, rules=profile, improvement="increase")
    assert (r.points["lcl"][8], r.points["ucl"][8]) == (4.0, 28.0)
    assert [has(r, i, "beyond_limits") for i in (8, 10, 12, 14)] == [False, True, False, True]
    assert r.points["point_type"][10] == "special_cause_concern"
    assert r.points["point_type"][14] == "special_cause_improvement"


# --- reasons on mr and s charts ------------------------------------------------------------------

@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_mr_chart_points_carry_beyond_limits_and_no_runs_rule(profile: str) -> None:
    y = [10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 30, 11, 10, 11, 10, 11, 10, 11]
    r = spc(y, chart="mr", rules=profile, freeze=12, improvement="decrease")
    reasons = r.points["reasons"].tolist()
    assert reasons[12] == "beyond_limits" and reasons[13] == "beyond_limits"
    assert r.points["point_type"][12] == "special_cause_concern"
    # Runs analysis is off for MR charts: nothing but beyond_limits, whatever the profile.
    assert set(reasons) == {"", "beyond_limits"}
    assert not r.summary["runs_signal"][0]


def s_chart(sds: list[float], profile: str, size: int = 10) -> object:
    k = len(sds)
    return spc_batch(np.full(k, 50.0), x=np.arange(k), n=np.full(k, float(size)),
                     sd=np.asarray(sds), chart="s", rules=profile, improvement="decrease")


def test_s_chart_points_carry_beyond_limits_on_both_sides() -> None:
    sds = [2.0, 2.2, 1.8, 2.1, 1.9, 2.0, 2.2, 1.8, 2.1, 1.9]
    base = spc_batch(np.full(10, 50.0), x=np.arange(10), n=np.full(10, 10.0),
                     sd=np.asarray(sds), chart="s")
    cl = float(base.points["cl"][0])
    b3, b4 = b3_b4(10)
    r = spc_batch(np.full(12, 50.0), x=np.arange(12), n=np.full(12, 10.0),
                  sd=np.asarray([*sds, b4 * cl * 1.01, b3 * cl * 0.9]), chart="s", freeze=10,
                  improvement="decrease")
    assert r.points["reasons"][10] == "beyond_limits"
    assert r.points["point_type"][10] == "special_cause_concern"
    assert r.points["reasons"][11] == "beyond_limits"
    assert r.points["point_type"][11] == "special_cause_improvement"
    ok = spc_batch(np.full(11, 50.0), x=np.arange(11), n=np.full(11, 10.0),
                   sd=np.asarray([*sds, b4 * cl * 0.99]), chart="s", freeze=10)
    assert ok.points["reasons"][10] == ""


def test_s_chart_points_carry_shift_reasons_under_weco() -> None:
    r = s_chart([2.0] * 12 + [2.6] * 8, "weco")
    reasons = r.points["reasons"].tolist()  # type: ignore[attr-defined]
    assert all("shift" in reasons[i].split("|") for i in range(12, 20))
    assert not any("beyond_limits" in s for s in reasons)
    assert r.points["point_type"][-1] == "special_cause_concern"  # type: ignore[attr-defined]
    seven = s_chart([2.0] * 13 + [2.6] * 7, "weco")
    assert "shift" not in seven.points["reasons"][-1]  # type: ignore[attr-defined]

