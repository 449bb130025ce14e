"""Fidelity and adaptation on plain data: FRAME value sets, fidelity scores, the
fidelity-consistency rule and the before/after evidence of an adaptation.

Pure Python and numpy (through :mod:`spreadscale.analytics.spc`); no Django. The value sets
follow FRAME (Wiltsey Stirman, Baumann & Miller 2019) and FRAME-IS (Miller et al. 2021) as
summarised in ``docs/frameworks.md`` section 3; each is a tuple of ``(code, label)`` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from spreadscale.analytics.spc import spc

Choices = tuple[tuple[str, str], ...]

# --- FRAME -----------------------------------------------------------------------------
WHEN: Choices = (
    ("pre_implementation", "Pre-implementation / planning / pilot"),
    ("implementation", "Implementation"),
    ("scale_up", "Scale-up"),
    ("maintenance", "Maintenance / sustainment"),
)
PLANNED: Choices = (
    ("planned_proactive", "Planned / proactive (adaptation)"),
    ("planned_reactive", "Planned / reactive (adaptation)"),
    ("unplanned_reactive", "Unplanned / reactive (modification)"),
)
DECIDED_BY: Choices = (
    ("political_leaders", "Political leaders"),
    ("programme_leader", "Programme leader"),
    ("funder", "Funder"),
    ("administrator", "Administrator"),
    ("programme_manager", "Programme manager"),
    ("intervention_developer", "Intervention developer / purveyor"),
    ("researcher", "Researcher"),
    ("intervention_team", "Treatment / intervention team"),
    ("individual_practitioner", "Individual practitioner"),
    ("community_members", "Community members"),
    ("recipients", "Recipients"),
)
WHAT_MODIFIED: Choices = (
    ("content", "Content"),
    ("context", "Context"),
    ("training_evaluation", "Training and evaluation"),
    ("implementation_scale_up", "Implementation and scale-up activities"),
)
CONTEXT_ASPECTS: Choices = (
    ("format", "Format"),
    ("setting", "Setting"),
    ("personnel", "Personnel"),
    ("population", "Population"),
)
LEVEL: Choices = (
    ("individual_recipient", "Individual recipient"),
    ("cohort", "Cohort / target group sharing a characteristic"),
    ("individual_practitioner", "Individual practitioner"),
    ("clinic_unit", "Clinic / unit"),
    ("organisation", "Organisation"),
    ("network", "Network system / community"),
)
CONTENT_TYPES: Choices = (
    ("tailoring", "Tailoring / tweaking / refining"),
    ("packaging", "Packaging or materials changes"),
    ("adding", "Adding elements"),
    ("removing", "Removing / skipping"),
    ("shortening", "Shortening / condensing"),
    ("lengthening", "Lengthening / extending"),
    ("substituting", "Substituting"),
    ("reordering", "Reordering"),
    ("integrating_framework_into_ebp", "Integrating another framework into the EBP"),
    ("integrating_ebp_into_framework", "Integrating the EBP into another framework"),
    ("integrating_parts", "Integrating parts into another approach"),
    ("repeating", "Repeating elements"),
    ("loosening_structure", "Loosening structure"),
    ("drift", "Departing from the intervention (drift)"),
)
FIDELITY: Choices = (
    ("consistent", "Fidelity-consistent (core functions kept)"),
    ("inconsistent", "Fidelity-inconsistent (core changed)"),
    ("unknown", "Unknown"),
)
GOALS: Choices = (
    ("reach", "Increase reach / engagement"),
    ("retention", "Retention"),
    ("feasibility", "Feasibility"),
    ("fit_recipients", "Fit with recipients"),
    ("cultural_factors", "Address cultural factors"),
    ("effectiveness", "Effectiveness / outcomes"),
    ("reduce_cost", "Reduce cost"),
    ("satisfaction", "Satisfaction"),
)
REASON_LEVELS: Choices = (
    ("sociopolitical", "Sociopolitical"),
    ("organisation", "Organisation / setting"),
    ("provider", "Provider"),
    ("recipient", "Recipient"),
)
REASONS: dict[str, Choices] = {
    "sociopolitical": (
        ("laws", "Laws"),
        ("mandates", "Mandates"),
        ("policies", "Policies"),
        ("regulations", "Regulations"),
        ("political_climate", "Political climate"),
        ("funding_policy", "Funding policy"),
        ("historical_context", "Historical context"),
        ("societal_norms", "Societal norms"),
        ("resource_allocation", "Resource allocation"),
    ),
    "organisation": (
        ("resources", "Resources"),
        ("competing_demands", "Competing demands"),
        ("time", "Time"),
        ("service_structure", "Service structure"),
        ("location_access", "Location / access"),
        ("regulatory_compliance", "Regulatory / compliance"),
        ("billing", "Billing"),
        ("social_context_leadership", "Social context / leadership"),
        ("mission_values", "Mission / values"),
        ("culture", "Culture"),
        ("workforce", "Workforce"),
    ),
    "provider": (
        ("demographics", "Demographics"),
        ("language", "Language"),
        ("training_skills", "Training / skills"),
        ("preferences", "Preferences"),
        ("clinical_judgement", "Clinical judgement"),
        ("cultural_competence", "Cultural competence"),
        ("perception_of_intervention", "Perception of intervention"),
    ),
    "recipient": (
        ("demographics", "Demographics"),
        ("access_to_resources", "Access to resources"),
        ("capacity", "Cognitive / physical capacity"),
        ("literacy", "Literacy"),
        ("language", "Language"),
        ("legal_status", "Legal / immigration status"),
        ("cultural_religious_norms", "Cultural / religious norms"),
        ("comorbidity", "Comorbidity"),
        ("crisis", "Crisis"),
        ("motivation_readiness", "Motivation / readiness"),
    ),
}
# Reasons are stored as "level:code" so that the same code at two levels stays distinct.
REASON_CHOICES: Choices = tuple(
    (f"{level}:{code}", f"{level_label}: {label}")
    for level, level_label in REASON_LEVELS
    for code, label in REASONS[level]
)
PERMANENCE: Choices = (
    ("temporary", "Temporary (transient)"),
    ("permanent", "Permanent (lasting)"),
)

# --- FRAME-IS (modifications to implementation strategies) -------------------------------
IS_WHAT_MODIFIED: Choices = (
    ("content", "Content"),
    ("evaluation", "Evaluation"),
    ("training", "Training"),
    ("context", "Context"),
)
IS_GOALS: Choices = (
    ("reach", "Reach"),
    ("adoption", "Adoption"),
    ("acceptability", "Acceptability"),
    ("appropriateness", "Appropriateness"),
    ("feasibility", "Feasibility"),
    ("fidelity", "Fidelity"),
    ("sustainability", "Sustainability"),
)
# FRAME-IS names the levels of reasons micro (recipient, implementer), meso, macro.
IS_REASON_LEVELS: dict[str, str] = {
    "recipient": "Micro (recipient)",
    "provider": "Micro (implementer)",
    "organisation": "Meso (organisation)",
    "sociopolitical": "Macro (sociopolitical)",
}

# --- Fidelity ratings of one core function ---------------------------------------------------
RATINGS: Choices = (
    ("intended", "Delivered as intended"),
    ("adapted_kept", "Delivered in adapted form, function kept"),
    ("adapted_lost", "Adapted, function lost"),
    ("not_delivered", "Not delivered"),
    ("not_assessed", "Not assessed"),
)
KEPT = frozenset({"intended", "adapted_kept"})
LOST = frozenset({"adapted_lost", "not_delivered"})

# Content types that, applied to a core function, change or drop what it does.
CORE_BREAKING = frozenset(
    {"removing", "shortening", "substituting", "loosening_structure", "drift"}
)
# Content types that refine or add to a core function without removing what it does.
CORE_PRESERVING = frozenset({"tailoring", "packaging", "adding", "lengthening", "repeating"})


def codes(choices: Choices) -> list[str]:
    """The codes of a value set.

    >>> codes(PERMANENCE)
    ['temporary', 'permanent']
    """
    return [code for code, _ in choices]


def fidelity_score(ratings: Iterable[str]) -> float | None:
    """Share of assessed core functions whose function was kept.

    score = (delivered as intended + adapted with function kept) / (core functions rated
    anything but "not assessed"). Unassessed functions are left out rather than counted as
    lost, so a partial assessment does not look like a failure; ``None`` when nothing was
    assessed.

    Parameters
    ----------
    ratings : iterable of str
        One rating code (see :data:`RATINGS`) per core function.

    Returns
    -------
    float or None

    Examples
    --------
    >>> fidelity_score(["intended", "adapted_kept", "adapted_lost", "not_assessed"])
    0.6666666666666666
    >>> fidelity_score(["not_assessed"]) is None
    True
    """
    ratings = list(ratings)
    unknown = set(ratings) - set(codes(RATINGS))
    if unknown:
        raise ValueError(f"unknown rating(s): {', '.join(sorted(unknown))}")
    assessed = [r for r in ratings if r != "not_assessed"]
    if not assessed:
        return None
    return sum(r in KEPT for r in assessed) / len(assessed)


def fidelity_consistency(
    touched_kinds: Sequence[str], content_types: Sequence[str]
) -> tuple[str, str]:
    """Whether an adaptation keeps the core functions, from what it touches and how.

    The rule, in order:

    1. it touches no component: ``unknown`` (nothing to compute from; the team judges);
    2. it touches only adaptable forms: ``consistent`` (forms are there to adapt);
    3. it touches a core function and removes, shortens, substitutes, loosens or drifts
       from it: ``inconsistent``;
    4. it touches a core function only by tailoring, packaging, adding, lengthening or
       repeating: ``consistent``;
    5. otherwise (reordering, integrating, or no type given): ``unknown``.

    Parameters
    ----------
    touched_kinds : sequence of str
        ``"core_function"`` or ``"adaptable_form"`` for each component the adaptation touches.
    content_types : sequence of str
        FRAME content types (see :data:`CONTENT_TYPES`).

    Returns
    -------
    (str, str)
        The value (see :data:`FIDELITY`) and the reason, in words.

    Examples
    --------
    >>> fidelity_consistency(["adaptable_form"], ["substituting"])[0]
    'consistent'
    >>> fidelity_consistency(["core_function", "adaptable_form"], ["removing"])[0]
    'inconsistent'
    >>> fidelity_consistency(["core_function"], ["tailoring"])[0]
    'consistent'
    >>> fidelity_consistency([], ["tailoring"])[0]
    'unknown'
    """
    kinds = set(touched_kinds)
    types = set(content_types)
    bad = kinds - {"core_function", "adaptable_form"}
    if bad:
        raise ValueError(f"unknown component kind(s): {', '.join(sorted(bad))}")
    if not kinds:
        return "unknown", "It names no component, so the team's judgement stands."
    if kinds == {"adaptable_form"}:
        return "consistent", "It changes adaptable forms only; every core function is kept."
    breaking = sorted(types & CORE_BREAKING)
    if breaking:
        return "inconsistent", f"It changes a core function by {', '.join(breaking)}."
    if types and types <= CORE_PRESERVING:
        return "consistent", "It refines or adds to a core function without removing it."
    return "unknown", "It touches a core function in a way that may or may not keep it."


@dataclass
class BeforeAfter:
    """The evidence around one adaptation date for one series (association, not proof)."""

    at: date
    chart: str
    improvement: str
    n_before: int
    n_after: int
    enough: bool
    before_cl: float | None = None
    after_cl: float | None = None
    change: float | None = None
    direction: str = "none"  # improvement, deterioration, change (neutral measure) or none
    signals_after: int = 0  # points after the date outside the baseline limits
    improvement_signals: int = 0
    concern_signals: int = 0
    runs_signal: bool = False  # shift or too few crossings against the baseline
    first_signal: date | None = None
    reasons: list[str] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One sentence, hedged as association."""
        if not self.enough:
            return (
                f"Not enough data: {self.n_before} points before and {self.n_after} after "
                "(at least 3 on each side are needed)."
            )
        if self.direction == "none":
            return "No signal of change after the adaptation date."
        moved = {
            "improvement": "improved",
            "deterioration": "deteriorated",
            "change": "changed",
        }[self.direction]
        return (
            f"After the adaptation date the measure {moved} (centre line "
            f"{self.before_cl:.3g} → {self.after_cl:.3g}); associated in time, not proof of cause."
        )


MIN_SIDE = 3


def before_after(
    y: Sequence[float],
    periods: Sequence[date],
    at: date,
    *,
    n: Sequence[float] | None = None,
    chart: str = "run",
    improvement: str = "neutral",
    multiplier: float = 1.0,
) -> BeforeAfter:
    """Compare a series before and after a date with SPC.

    Two charts: one with the points before ``at`` as the frozen baseline, whose signals after
    the date (points outside the baseline limits, a shift in the runs analysis) say whether
    something changed; and one with a phase break at ``at``, whose two centre lines say by
    how much, if the team accepts a new phase there.

    Parameters
    ----------
    y : sequence of float
        Values, or numerators when ``n`` is given.
    periods : sequence of date
        Start of each point's period.
    at : date
        The adaptation's effective date; points starting on or after it are "after".
    n : sequence of float, optional
        Denominators (p, u charts).
    chart : str
        SPC chart type.
    improvement : {"neutral", "increase", "decrease"}
        Direction of improvement of the measure.
    multiplier : float
        Display multiplier for centre lines (e.g. 100 for a percentage).

    Returns
    -------
    BeforeAfter

    Examples
    --------
    >>> from datetime import date
    >>> months = [date(2024 + (m // 12), m % 12 + 1, 1) for m in range(16)]
    >>> y = [10, 11, 9, 10, 12, 10, 9, 11, 3, 2, 3, 4, 2, 3, 3, 2]
    >>> r = before_after(y, months, date(2024, 9, 1), chart="i", improvement="decrease")
    >>> r.direction, r.before_cl, r.after_cl
    ('improvement', 10.25, 2.75)
    >>> r.signals_after > 0
    True
    """
    order = np.argsort(np.array(periods, dtype="datetime64[D]"), kind="stable")
    x = np.array(periods, dtype="datetime64[D]")[order]
    yv = np.asarray(y, dtype=float)[order]
    nv = None if n is None else np.asarray(n, dtype=float)[order]
    after = x >= np.datetime64(at, "D")
    n_before, n_after = int((~after).sum()), int(after.sum())
    result = BeforeAfter(at, chart, improvement, n_before, n_after, False)
    if n_before < MIN_SIDE or n_after < MIN_SIDE or after[:n_before].any():
        return result
    result.enough = True
    frozen = spc(yv, x=x, n=nv, chart=chart, improvement=improvement, freeze=n_before)
    broken = spc(
        yv,
        x=x,
        n=nv,
        chart=chart,
        improvement=improvement,
        phase=np.where(after, "after", "before"),
    )
    cls = broken.summary_columns()["cl"]
    result.before_cl = None if cls[0] is None else cls[0] * multiplier
    result.after_cl = None if cls[-1] is None else cls[-1] * multiplier
    if result.before_cl is not None and result.after_cl is not None:
        result.change = result.after_cl - result.before_cl
    pts = frozen.points_columns()
    types = pts["point_type"]
    after_idx = range(n_before, len(types))
    result.signals_after = int(sum(bool(pts["sigma_signal"][i]) for i in after_idx))
    result.improvement_signals = sum(types[i] == "special_cause_improvement" for i in after_idx)
    result.concern_signals = sum(types[i] == "special_cause_concern" for i in after_idx)
    result.runs_signal = bool(frozen.summary_columns()["runs_signal"][0])
    flagged = [i for i in after_idx if types[i].startswith("special_cause")]
    if flagged:
        result.first_signal = pts["x"][flagged[0]]
    result.reasons = sorted({r for i in flagged for r in str(pts["reasons"][i]).split(",") if r})
    if flagged or result.signals_after:
        if improvement == "neutral":
            result.direction = "change"
        elif result.improvement_signals >= result.concern_signals:
            result.direction = "improvement"
        else:
            result.direction = "deterioration"
    bpts = broken.points_columns()

    def scaled(v: float | None) -> float | None:
        return None if v is None else v * multiplier

    # Centre lines and limits of the phase-broken chart; point types against the baseline.
    result.points = [
        {
            "period": pts["x"][i],
            "value": scaled(pts["y"][i]),
            "after": i >= n_before,
            "cl": scaled(bpts["cl"][i]),
            "lcl": scaled(bpts["lcl"][i]),
            "ucl": scaled(bpts["ucl"][i]),
            "part": bpts["part"][i],
            "point_type": types[i],
        }
        for i in range(len(types))
    ]
    return result
