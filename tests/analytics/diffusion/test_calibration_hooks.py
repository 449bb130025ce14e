"""Bass curve fitting and simulation-based (ABC) calibration against site adoption dates."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from spreadscale.analytics.diffusion import (
    Scenario,
    abc_rejection,
    bass_cdf,
    fit_bass,
    make_simulator,
    simulate,
)
from spreadscale.analytics.diffusion.calibration import adoption_steps, curve_from_steps


def test_fitting_the_closed_form_recovers_bass_parameters_from_an_exact_curve():
    t = np.linspace(0, 15, 61)
    fit = fit_bass(t, 0.8 * bass_cdf(t, 0.01, 0.3), fit_market=True)
    assert (fit.p, fit.q, fit.m) == pytest.approx((0.01, 0.3, 0.8), rel=1e-4)
    assert fit.peak_time == pytest.approx(np.log(30) / 0.31, rel=1e-4)


def test_fitting_a_mean_field_simulation_gives_back_its_parameters():
    s = Scenario.from_dict({"horizon": 40, "step": 0.25, "network": {"generator": "complete",
                                                                     "n": 5000},
                            "contagion": {"p": 0.03, "q": 0.38}})
    res = simulate(s, runs=10, seed=1)
    fit = fit_bass(res.time, res.mean_adoption)
    assert fit.p == pytest.approx(0.03, rel=0.1) and fit.q == pytest.approx(0.38, rel=0.05)


def test_observed_dates_become_a_cumulative_curve():
    start = date(2024, 1, 1)
    dates = {"A": start, "B": start + timedelta(days=30), "C": None, "D": date(2024, 3, 1)}
    steps = adoption_steps(dates, start, 30.4, ["A", "B", "C", "D"])
    assert steps.tolist() == [0, 0, -1, 1]
    assert curve_from_steps(steps, 3).tolist() == [0.5, 0.75, 0.75, 0.75]


def test_abc_rejection_brackets_the_imitation_rate_that_made_synthetic_dates():
    # a small synthetic programme: 40 sites, monthly steps for 3 years, true q = 0.25
    s = Scenario.from_dict({"horizon": 36, "step": 1, "time_unit": "month",
                            "network": {"generator": "complete", "n": 40},
                            "contagion": {"p": 0.01, "q": 0.25}})
    truth = simulate(s, runs=1, seed=21)
    observed_curve = truth.curves["ever"][:, 0]
    marks = [6, 12, 18, 24, 30, 36]
    # one run per draw: simulated noise then matches the noise in one observed programme
    simulator = make_simulator(s, ["contagion.q"], checkpoints=marks, runs_per_draw=1)
    post = abc_rejection(simulator, observed_curve[marks], {"contagion.q": (0.0, 1.0)},
                         draws=300, accept=0.1, seed=5)
    q = post.posterior_summary()["contagion.q"]
    assert q["p5"] < 0.25 < q["p95"]
    assert q["p95"] - q["p5"] < 0.5  # the data narrow the U(0, 1) prior
