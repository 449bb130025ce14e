"""Named, versioned rule profiles for SPC signal detection.

A profile is plain data: the engine in :mod:`.rules` reads its parameters. Rule codes are
shared across profiles so that a consumer can react to ``shift`` without knowing which
profile found it; the thresholds behind each code are the profile's parameters.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

#: Point-level rule codes, in bit order of :attr:`SpcResult.points` ``reason_mask``.
RULE_CODES: tuple[str, ...] = (
    "beyond_limits",
    "long_run",
    "shift",
    "trend",
    "two_of_three",
    "four_of_five",
    "alternating",
    "stratification",
    "mixture",
    "astronomical",
)
RULE_BIT: dict[str, int] = {code: i for i, code in enumerate(RULE_CODES)}

#: What each code means (the thresholds are profile parameters).
RULE_DESCRIPTIONS: dict[str, str] = {
    "beyond_limits": "point strictly above the upper or below the lower control limit",
    "long_run": "point in a run on one side of the centre line longer than the Anhøj limit",
    "shift": "point in a run of at least `shift_length` points on one side of the centre line",
    "trend": "point in a run of at least `trend_length` points each above (below) the previous",
    "two_of_three": "2 of 3 consecutive points beyond 2 sigma on the same side",
    "four_of_five": "4 of 5 consecutive points beyond 1 sigma on the same side",
    "alternating": "point in a run of `alternating_length` points alternating up and down",
    "stratification": "point in a run of `stratification_length` points within 1 sigma",
    "mixture": "point in a run of `mixture_length` points beyond 1 sigma on either side",
    "astronomical": "(ihi run charts) point strictly outside mean ± `astronomical_sigma` sigma "
    "of an I chart of the same part's baseline data",
    "few_crossings": "(part level) fewer crossings of the centre line than the Anhøj limit",
    "too_few_runs": "(part level) fewer runs than expected by chance (IHI run chart)",
    "too_many_runs": "(part level) more runs than expected by chance (IHI run chart)",
}


@dataclass(frozen=True)
class RuleProfile:
    """A named, versioned set of SPC rules with their parameters and tie handling.

    Examples
    --------
    >>> PROFILES["mdc"].params["shift_length"]
    7
    >>> PROFILES["mdc"].with_params(shift_length=6).params["shift_length"]
    6
    """

    name: str
    version: str
    title: str
    rules: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    ties: str = ""
    sources: tuple[str, ...] = ()

    def with_params(self, **overrides: Any) -> RuleProfile:
        """Return a copy with some parameters replaced.

        Unknown names and out-of-range values raise ValueError.
        """
        unknown = set(overrides) - set(self.params)
        if unknown:
            raise ValueError(
                f"profile {self.name!r} has no parameter(s) {sorted(unknown)}; "
                f"it has {sorted(self.params)}"
            )
        for key, value in overrides.items():
            problem = _param_problem(key, value)
            if problem:
                raise ValueError(f"profile {self.name!r} parameter {key}={value!r}: {problem}")
        return replace(self, params={**self.params, **overrides})


_LENGTHS = ("shift_length", "trend_length", "alternating_length", "stratification_length",
            "mixture_length")


def _param_problem(key: str, value: Any) -> str:
    """Why ``value`` is not acceptable for parameter ``key`` ('' when it is)."""
    real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    integer = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if key in _LENGTHS:
        optional = key in ("shift_length", "trend_length")
        if value is None and optional:
            return ""
        return "" if integer and value >= 2 else (
            "must be an integer of at least 2" + (" or None" if optional else ""))
    if key in ("sigma", "xmr_constant"):
        return "" if real and 0 < value < float("inf") else "must be a positive number"
    if key == "astronomical_sigma":
        if value is None:
            return ""
        return "" if real and 0 < value < float("inf") else "must be a positive number or None"
    if key in ("crossings_p", "runs_p"):
        return "" if real and 0 < value < 1 else "must be a probability between 0 and 1"
    if key == "screen_moving_ranges":
        return "" if isinstance(value, (bool, np.bool_)) else "must be True or False"
    if key in ("runs_min_useful", "trial_limits_below"):
        return "" if integer and value >= 0 else "must be a non-negative integer"
    return ""


PROFILES: dict[str, RuleProfile] = {
    "anhoej": RuleProfile(
        name="anhoej",
        version="1.0",
        title="Anhøj runs rules with 3-sigma limits (qicharts2 parity)",
        rules=("beyond_limits", "long_run"),
        params={"sigma": 3.0, "crossings_p": 0.05, "screen_moving_ranges": True},
        ties="points on the centre line and missing values are dropped before the runs "
        "analysis: they neither extend nor break a run and are not crossings",
        sources=(
            "Anhøj J, Olesen AV. Run charts revisited. PLoS One 2014;9:e113825",
            "Anhøj J. Diagnostic value of run chart analysis. PLoS One 2015;10:e0121349",
            "Anhøj J, Wentzel-Larsen T. Sense and sensibility: on the diagnostic value of "
            "control chart rules for detection of shifts in time series data. BMJ Open "
            "2018;8:e022311",
        ),
    ),
    "ihi": RuleProfile(
        name="ihi",
        version="1.0",
        title="IHI run chart rules; usual control chart rules",
        rules=("beyond_limits", "astronomical", "shift", "trend", "two_of_three"),
        params={
            "shift_length": None,  # None: 6 on run charts, 8 on control charts
            "trend_length": None,  # None: 5 on run charts, 6 on control charts
            "runs_p": 0.05,  # two-sided level of the too few / too many runs rule
            "runs_min_useful": 10,
            # Run charts: a point beyond mean +- 3 sigma of an I chart of the same data is an
            # "astronomical data point" (our operational definition; None turns it off).
            "astronomical_sigma": 3.0,
            "screen_moving_ranges": True,
        },
        ties="points on the median are skipped (neither count nor break a shift); a value "
        "equal to the previous one is skipped in a trend (only the first counts)",
        sources=(
            "Perla RJ, Provost LP, Murray SK. The run chart: a simple analytical tool for "
            "learning from variation in healthcare processes. BMJ Qual Saf 2011;20:46-51",
            "Provost LP, Murray SK. The Health Care Data Guide. Jossey-Bass 2011",
        ),
    ),
    "weco": RuleProfile(
        name="weco",
        version="1.0",
        title="Western Electric zone rules",
        rules=("beyond_limits", "two_of_three", "four_of_five", "shift", "trend"),
        # trend is not a WECO rule: off unless a trend length is set
        params={"shift_length": 8, "trend_length": None, "screen_moving_ranges": True},
        ties="a point on the centre line breaks a run on one side; an equal consecutive "
        "value breaks a trend (when a trend length is set)",
        sources=("Western Electric Company. Statistical Quality Control Handbook. 1956",),
    ),
    "nelson": RuleProfile(
        name="nelson",
        version="1.0",
        title="Nelson's eight tests",
        rules=(
            "beyond_limits",
            "shift",
            "trend",
            "alternating",
            "two_of_three",
            "four_of_five",
            "stratification",
            "mixture",
        ),
        params={
            "shift_length": 9,
            "trend_length": 6,
            "alternating_length": 14,
            "stratification_length": 15,
            "mixture_length": 8,
            "screen_moving_ranges": True,
        },
        ties="a point on the centre line breaks a run on one side; an equal consecutive "
        "value breaks a trend and an alternation; a point exactly on a zone boundary is "
        "inside the zone",
        sources=(
            "Nelson LS. The Shewhart control chart: tests for special causes. J Qual Technol "
            "1984;16:237-239",
        ),
    ),
    "mdc": RuleProfile(
        name="mdc",
        version="1.0",
        title="NHS England Making Data Count (NHSRplotthedots parity)",
        rules=("beyond_limits", "trend", "two_of_three", "shift"),
        params={
            "shift_length": 7,
            "trend_length": 7,
            "xmr_constant": 2.66,
            "screen_moving_ranges": True,
            "trial_limits_below": 13,
        },
        ties="a point on the mean breaks a shift; an equal consecutive value breaks a trend; "
        "points beyond the limits are not 'close' for two-of-three",
        sources=(
            "NHS England and NHS Improvement. Making Data Count: getting started. 2019",
            "NHS-R Community. NHSRplotthedots 0.2.2 (documented behaviour)",
        ),
    ),
}
