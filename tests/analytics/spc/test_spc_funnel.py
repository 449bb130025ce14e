"""Funnel plots across sites (Spiegelhalter 2005)."""

from __future__ import annotations

import numpy as np
import pytest

from spreadscale.analytics.spc import funnel

EVENTS = np.array([10, 12, 30, 9, 15, 20, 5, 40, 22, 18])
N = np.array([100, 110, 120, 95, 130, 150, 60, 200, 160, 140])


def test_limits_narrow_with_the_denominator_around_the_pooled_proportion() -> None:
    f = funnel(EVENTS, N)
    t = EVENTS.sum() / N.sum()
    assert f.target == pytest.approx(t)
    np.testing.assert_allclose(f.sites["upper_95"], t + 1.959964 * np.sqrt(t * (1 - t) / N),
                               rtol=1e-6)
    np.testing.assert_allclose(f.sites["upper_99.8"],
                               t + 3.090232 * np.sqrt(t * (1 - t) / N), rtol=1e-6)


def test_a_site_outside_the_widest_limit_signals() -> None:
    f = funnel(EVENTS, N)
    z = (EVENTS / N - f.target) / np.sqrt(f.target * (1 - f.target) / N)
    np.testing.assert_allclose(f.sites["z"], z)
    assert f.sites["signal"].tolist() == (np.abs(z) > 3.090232).tolist()


def test_rates_use_poisson_limits() -> None:
    f = funnel([4, 9], [1000.0, 2000.0], chart="u", target=0.004)
    np.testing.assert_allclose(f.sites["upper_95"], 0.004 + 1.959964 * np.sqrt(0.004 / np.array(
        [1000, 2000])), rtol=1e-6)


def test_overdispersion_uses_winsorised_z_scores() -> None:
    f = funnel(EVENTS, N, overdispersion="multiplicative")
    t = EVENTS.sum() / N.sum()
    z = (EVENTS / N - t) / np.sqrt(t * (1 - t) / N)
    lo, hi = np.quantile(z, [0.1, 0.9])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    assert f.phi == pytest.approx(phi)
    assert phi > 1  # this data set is overdispersed, so the limits widen
    np.testing.assert_allclose(f.sites["z_adjusted"], z / np.sqrt(phi))


def test_additive_overdispersion_estimates_tau_squared() -> None:
    f = funnel(EVENTS, N, overdispersion="additive")
    t = EVENTS.sum() / N.sum()
    var = t * (1 - t) / N
    w = 1 / var
    k = N.size
    tau2 = (k * f.phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum())
    assert f.tau2 == pytest.approx(tau2)
    np.testing.assert_allclose(f.sites["z_adjusted"], (EVENTS / N - t) / np.sqrt(var + tau2))


def test_it_rejects_events_above_n() -> None:
    with pytest.raises(ValueError, match="events above n"):
        funnel([5, 12], [10, 10])


def test_position_names_the_widest_limit_crossed_on_each_side() -> None:
    # Target 0.1 and n = 100: sd 0.03, 95 % limits 0.1 -+ 0.0588, 99.8 % limits 0.1 -+ 0.0927.
    f = funnel([17, 20, 10, 4, 0], [100] * 5, target=0.1)
    assert f.sites["position"].tolist() == ["above_95", "above_99.8", "within", "below_95",
                                            "below_99.8"]
    assert f.sites["signal"].tolist() == [False, True, False, False, True]
    rec = f.records()[0]
    assert rec["position"] == "above_95" and rec["group"] == 0


def test_position_follows_the_widened_limits_with_overdispersion() -> None:
    plain = funnel(EVENTS, N)
    wide = funnel(EVENTS, N, overdispersion="multiplicative")
    assert plain.sites["position"][2] == "above_99.8"  # 30/120 against a pooled 0.14
    assert wide.sites["position"][2] == "above_95"
    assert wide.sites["position"].tolist().count("within") > plain.sites["position"].tolist(
        ).count("within")


def test_position_uses_the_given_levels_and_group_ids() -> None:
    f = funnel([17, 10], [100, 100], group=["north", "south"], target=0.1, levels=(0.8, 0.9))
    assert f.sites["position"].tolist() == ["above_90", "within"]
    assert "upper_80" in f.sites and "upper_90" in f.sites
    assert f.records()[1]["group"] == "south"
