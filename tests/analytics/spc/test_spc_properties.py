"""Invariants of the SPC engine, checked with hypothesis."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from spreadscale.analytics.spc import spc, spc_batch

values = st.lists(st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: round(v, 2)),
                  min_size=4, max_size=40)


@settings(max_examples=40, deadline=None)
@given(st.lists(values, min_size=1, max_size=5), st.randoms(use_true_random=False),
       st.sampled_from(["i", "run", "c"]))
def test_group_order_does_not_matter(series: list[list[float]], rnd, chart: str) -> None:
    if chart == "c":
        series = [[abs(v) for v in s] for s in series]
    rows = [(g, x, v) for g, s in enumerate(series) for x, v in enumerate(s)]
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    a = spc_batch([r[2] for r in rows], group=[r[0] for r in rows], x=[r[1] for r in rows],
                  chart=chart)
    b = spc_batch([r[2] for r in shuffled], group=[r[0] for r in shuffled],
                  x=[r[1] for r in shuffled], chart=chart)
    for key in ("cl", "lcl", "ucl", "longest_run", "n_crossings", "runs_signal"):
        np.testing.assert_array_equal(a.summary[key], b.summary[key])
    np.testing.assert_array_equal(a.points["reasons"], b.points["reasons"])


@settings(max_examples=60, deadline=None)
@given(values, st.floats(0.1, 100), st.floats(-100, 100))
def test_an_i_chart_of_a_linear_transform_has_transformed_limits(y: list[float], a: float,
                                                                 b: float) -> None:
    base = spc(y, chart="i").summary_records()[0]
    moved = spc([a * v + b for v in y], chart="i").summary_records()[0]
    scale = a * (1 + max(abs(v) for v in y)) + abs(b)
    for key in ("cl", "lcl", "ucl"):
        assert abs(moved[key] - (a * base[key] + b)) <= 1e-9 * scale


@settings(max_examples=60, deadline=None)
@given(values, st.floats(-1e4, 1e4, allow_nan=False), st.integers(0, 40),
       st.sampled_from(["i", "run", "c", "g"]))
def test_adding_an_excluded_point_leaves_the_limits_unchanged(y: list[float], extra: float,
                                                              at: int, chart: str) -> None:
    if chart in ("c", "g"):
        y, extra = [abs(v) for v in y], abs(extra)
    at = min(at, len(y))
    before = spc(y, chart=chart).summary_records()[0]
    y2 = [*y[:at], extra, *y[at:]]
    after = spc(y2, chart=chart, exclude=[at + 1]).summary_records()[0]
    for key in ("cl", "lcl", "ucl"):
        if before[key] is None:
            assert after[key] is None
        else:
            assert abs(after[key] - before[key]) <= 1e-9 * (1 + abs(before[key]))


def test_anhoej_thresholds_match_the_binomial_and_log2_rules_for_n_10_to_100() -> None:
    for n in range(10, 101):
        s = spc([1.0, 3.0] * (n // 2) + [1.0] * (n % 2), chart="i").summary_records()[0]
        assert s["n_useful"] == n
        assert s["longest_run_max"] == round(np.log2(n)) + 3  # Python rounds half to even too
        assert s["n_crossings_min"] == binom.ppf(0.05, n - 1, 0.5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6).map(float), min_size=4, max_size=30), min_size=2,
                max_size=4),
       st.sampled_from(["anhoej", "ihi", "weco", "nelson", "mdc"]),
       st.sampled_from(["i", "run", "c"]))
def test_a_batch_equals_one_call_per_series(series: list[list[float]], profile: str,
                                            chart: str) -> None:
    # Small integers make ties and equal neighbours common; runs must not cross groups.
    y = [v for s in series for v in s]
    group = [g for g, s in enumerate(series) for _ in s]
    batch = spc_batch(y, group=group, chart=chart, rules=profile)
    start = 0
    for s in series:
        one = spc(s, chart=chart, rules=profile)
        stop = start + len(s)
        np.testing.assert_array_equal(batch.points["reasons"][start:stop], one.points["reasons"])
        np.testing.assert_allclose(batch.points["ucl"][start:stop], one.points["ucl"])
        start = stop


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.integers(0, 30).map(float), st.just(float("nan"))), min_size=1,
             max_size=40),
    st.sampled_from(["run", "i", "mr", "xbar", "s", "t", "p", "pp", "c", "u", "up", "g"]),
    st.sampled_from(["anhoej", "ihi", "weco", "nelson", "mdc"]),
    st.sampled_from(["increase", "decrease", "neutral"]),
    st.one_of(st.none(), st.integers(1, 20)),
    st.lists(st.integers(1, 40), max_size=3),
    st.integers(1, 3),
)
def test_any_input_gives_a_result_or_an_input_error(y: list[float], chart: str, profile: str,
                                                    improvement: str, freeze: int | None,
                                                    exclude: list[int], groups: int) -> None:
    from spreadscale.analytics.spc import SpcInputError, portfolio

    k = len(y)
    n = [40.0] * k if chart in ("p", "pp", "u", "up") else None
    if chart == "t":
        y = [v + 1 for v in y]
    try:
        r = spc_batch(y, group=[i % groups for i in range(k)], x=[i // 2 for i in range(k)],
                      n=n, chart=chart, rules=profile, improvement=improvement, target=10,
                      freeze=freeze, exclude=exclude)
    except SpcInputError:
        return
    assert len(r.points_records()) == r.points["y"].size
    assert set(r.points["point_type"]) <= {"common_cause", "special_cause_improvement",
                                           "special_cause_concern", "special_cause_neutral_high",
                                           "special_cause_neutral_low", "no_data"}
    portfolio(r)
