"""Mean-field Bass simulation against the closed form F(t) (Bass 1969)."""

from __future__ import annotations

import numpy as np

from spreadscale.analytics.diffusion import Scenario, bass_cdf, simulate

P, Q = 0.03, 0.38  # Bass's classic innovation and imitation coefficients, per year


def test_mean_field_bass_reproduces_the_closed_form_within_monte_carlo_error():
    # Quarter-year steps; the mean-field step integrates the Bass hazard exactly over each step,
    # so at step boundaries the expected share follows the ODE and only two errors remain:
    # Monte Carlo error of the ensemble mean (4 standard errors per step) and the finite-N bias
    # of the mean-field map, E[Φ(F)] − Φ(E[F]) = O(Var F) = O(1/N), allowed as 5/N.
    n, runs = 10_000, 60
    s = Scenario.from_dict({"horizon": 60, "step": 0.25, "time_unit": "year",
                            "network": {"generator": "complete", "n": n},
                            "contagion": {"p": P, "q": Q}})
    res = simulate(s, runs=runs, seed=2026)
    expected = bass_cdf(res.time, P, Q)
    se = res.curves["adoption"].std(axis=1, ddof=1) / np.sqrt(runs)
    assert np.all(np.abs(res.mean_adoption - expected) <= 4 * se + 5 / n)
    # and the curve really moves through the S: half adoption near the closed-form time
    assert expected[0] == 0 and res.mean_adoption[0] == 0
    assert 0.9 < res.mean_adoption[-1] <= 1


def test_the_peak_of_new_adoptions_is_where_bass_puts_it():
    s = Scenario.from_dict({"horizon": 80, "step": 0.25, "network": {"generator": "complete",
                                                                     "n": 10_000},
                            "contagion": {"p": P, "q": Q}})
    res = simulate(s, runs=20, seed=5)
    peak_time = np.log(Q / P) / (P + Q)  # t* = ln(q/p)/(p+q) ≈ 6.19 years
    increments = np.diff(res.mean_adoption)
    simulated_peak = res.time[1:][np.argmax(increments)]
    assert abs(simulated_peak - peak_time) <= 0.5  # two steps
