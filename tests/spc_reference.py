"""The reference series of shared/docs/spc.md and a rule harness, shared by the SPC tests."""

from __future__ import annotations

import numpy as np

from spreadscale.analytics.spc import PROFILES
from spreadscale.analytics.spc.profiles import RuleProfile
from spreadscale.analytics.spc.rules import Signals, evaluate

# y (the measurement), n (denominators) and e (events) of the reference table
Y = [7.62, 10.78, 9.31, 8.9, 11.96, 9.53, 11.62, 8.51, 9.48, 9.63, 11.04, 11.77, 11.18, 9.61,
     11.32, 9.48, 8.85, 12.81, 11.01, 11.6, 15.85, 10.91, 13, 15.18]
N = [120, 95, 130, 110, 101, 99, 140, 125, 118, 90, 105, 112, 128, 97, 133, 121, 108, 100, 117,
     126, 119, 102, 131, 96]
E = [22, 21, 30, 19, 25, 17, 31, 22, 25, 20, 18, 26, 30, 16, 29, 27, 21, 19, 35, 36, 33, 30,
     38, 31]


def run_rules(profile: str | RuleProfile, y: list[float], *, run_chart: bool = False) -> Signals:
    prof = PROFILES[profile] if isinstance(profile, str) else profile
    v = np.asarray(y, dtype=float)
    k = v.size
    nan = np.full(k, np.nan)
    zero = np.zeros(k)
    return evaluate(
        prof, y=v, cl=zero, lcl=nan if run_chart else zero - 3, ucl=nan if run_chart else zero + 3,
        sig=nan if run_chart else zero + 1, zc=zero, seg=np.zeros(k, np.int64), n_seg=1,
        include=np.ones(k, bool), runs_off=False, run_chart=run_chart,
    )
