"""Conformance with the reference table of the project's SPC spec (qicharts2 0.8.1 output).

Every number here is copied from that table, never from spreadscale's own output.
"""
from __future__ import annotations

import numpy as np
import pytest
from tests.spc_reference import E, N, Y

from spreadscale.analytics.spc import PROFILES, spc, spc_batch

G = [12, 30, 5, 44, 8, 19, 60, 2, 25, 33, 14, 9, 51, 27, 6, 38, 17, 22]

# call id -> (y, n, kwargs, rows); a row is (CL, aLCL, aUCL, n_useful, longest, max,
# crossings, min, runs signal, sigma signal); None where the table shows a dash.
TABLE = {
    "run y": (Y, None, {"chart": "run"},
              [(10.9600, None, None, 24, 4, 8, 11, 8, 0, 0)]),
    "i y": (Y, None, {"chart": "i"},
            [(10.8729, 5.6532, 16.0926, 24, 7, 8, 9, 8, 0, 0)]),
    "mr y": (Y, None, {"chart": "mr"},
             [(1.9626, 0, 6.4118, 23, 9, 8, 6, 7, 0, 0)]),
    "i y, freeze=12": (Y, None, {"chart": "i", "freeze": 12},
                       [(10.0125, 5.4211, 14.6039, 24, 7, 8, 11, 8, 0, 2)]),
    "i y, part=12": (Y, None, {"chart": "i", "part": 12},
                     [(10.0125, 5.4211, 14.6039, 12, 3, 7, 7, 3, 0, 0),
                      (11.7333, 5.5534, 17.9132, 12, 5, 7, 5, 3, 0, 0)]),
    "i y, exclude=3,7": (Y, None, {"chart": "i", "exclude": [3, 7]},
                         [(10.9100, 5.7226, 16.0974, 21, 6, 7, 7, 6, 0, 0)]),
    "p e/n": (E, N, {"chart": "p"}, [(0.2281, 0.1092, 0.3469, 24, 6, 8, 7, 8, 1, 0)]),
    "pp e/n": (E, N, {"chart": "pp"}, [(0.2281, 0.1329, 0.3232, 24, 6, 8, 7, 8, 1, 0)]),
    "u e/n": (E, N, {"chart": "u"}, [(0.2281, 0.0928, 0.3633, 24, 6, 8, 7, 8, 1, 0)]),
    "c e": (E, None, {"chart": "c"}, [(25.8750, 10.6148, 41.1352, 24, 6, 8, 9, 8, 0, 0)]),
    "g g": (G, None, {"chart": "g"}, [(20.5000, 0, 95.2621, 18, 2, 7, 13, 5, 0, 0)]),
    "t g": (G, None, {"chart": "t"}, [(19.0376, 0.0005, 209.6419, 18, 2, 7, 13, 5, 0, 0)]),
}


def close(actual: float, printed: float | None) -> bool:
    """Equal to the printed 4-decimal figure within 1e-4 (a dash means no limit)."""
    if printed is None:
        return actual is None or np.isnan(actual)
    return abs(actual - printed) <= 1e-4


@pytest.mark.parametrize("call", list(TABLE))
def test_it_reproduces_the_reference_table_row(call: str) -> None:
    y, n, kwargs, rows = TABLE[call]
    summary = spc(y, n=n, **kwargs).summary_records()
    assert len(summary) == len(rows)
    for got, want in zip(summary, rows, strict=True):
        cl, lcl, ucl, useful, longest, lmax, cross, cmin, runs, sigma = want
        assert close(got["cl"], cl)
        assert close(got["lcl"], lcl)
        assert close(got["ucl"], ucl)
        assert got["n_useful"] == useful
        assert (got["longest_run"], got["longest_run_max"]) == (longest, lmax)
        assert (got["n_crossings"], got["n_crossings_min"]) == (cross, cmin)
        assert int(got["runs_signal"]) == runs
        assert got["sigma_signal"] == sigma


def test_it_reproduces_the_first_four_p_chart_upper_limits() -> None:
    ucl = spc(E, n=N, chart="p").points["ucl"][:4]
    np.testing.assert_allclose(ucl, [0.34296, 0.35720, 0.33846, 0.34807], atol=1e-5)


SCREEN = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


def test_it_screens_moving_ranges_on_the_i_chart() -> None:
    s = spc(SCREEN, chart="i").summary_records()[0]
    assert close(s["cl"], 1.9444)
    assert close(s["ucl"], 4.6040)


UNSCREENED = PROFILES["anhoej"].with_params(screen_moving_ranges=False)


def test_unscreened_i_chart_limits_through_the_engine() -> None:
    # qicharts2 without screening (options(qic.screenedmr = FALSE)): UCL 6.9507.
    s = spc(SCREEN, chart="i", rules=UNSCREENED).summary_records()[0]
    assert close(s["cl"], 1.9444)
    assert close(s["ucl"], 6.9507)
    b = spc_batch(SCREEN * 2, group=[0] * 18 + [1] * 18, chart="i", rules=UNSCREENED)
    assert all(close(u, 6.9507) for u in b.summary["ucl"].tolist())


def test_it_reproduces_the_mdc_check() -> None:
    s = spc(SCREEN, chart="i", rules="mdc").summary_records()[0]
    assert close(s["ucl"], 4.6044)
    assert close(s["cl"], 1.9444)
    mdc_raw = PROFILES["mdc"].with_params(screen_moving_ranges=False)
    s = spc(SCREEN, chart="i", rules=mdc_raw).summary_records()[0]
    assert close(s["ucl"], 6.9515)
    b = spc_batch(SCREEN * 2, group=["a"] * 18 + ["b"] * 18, chart="i", rules=mdc_raw)
    assert all(close(u, 6.9515) for u in b.summary["ucl"].tolist())


def test_the_mdc_point_beyond_the_limit_is_astronomical() -> None:
    r = spc(SCREEN, chart="i", rules="mdc", improvement="decrease")
    assert r.points["reasons"][4] == "beyond_limits"
    assert r.points["point_type"][4] == "special_cause_concern"


@pytest.mark.parametrize(
    ("n", "lmax", "cmin"),
    [(10, 6, 2), (12, 7, 3), (14, 7, 4), (17, 7, 5), (19, 7, 6), (22, 7, 7), (23, 8, 7),
     (24, 8, 8), (27, 8, 9), (29, 8, 10), (40, 8, 14), (50, 9, 19), (60, 9, 23), (80, 9, 32),
     (100, 10, 41)],
)
def test_it_uses_the_tabulated_anhoej_thresholds(n: int, lmax: int, cmin: int) -> None:
    # Alternating values around a mean that none equals: every point is useful.
    s = spc([1.0, 3.0] * (n // 2) + [1.0] * (n % 2), chart="i").summary_records()[0]
    assert s["n_useful"] == n
    assert (s["longest_run_max"], s["n_crossings_min"]) == (lmax, cmin)
