"""Stage gates: whether a site meets each criterion for moving into a phase, from its data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spreadscale.analytics.spc import SpcInputError, spc
from spreadscale.web.core.models import Enrolment, Membership, Role
from spreadscale.web.fidelity.models import FidelityAssessment, StageGate
from spreadscale.web.fidelity.selectors import chart_for, series_for


@dataclass(frozen=True)
class GateResult:
    gate: StageGate
    met: bool
    detail: str


def _fidelity(gate: StageGate, enrolment: Enrolment) -> GateResult:
    latest = (
        FidelityAssessment.objects.filter(programme=enrolment.programme, site=enrolment.site)
        .exclude(score=None)
        .order_by("-period_start")
        .first()
    )
    need = f"{gate.threshold:.0%}"
    if latest is None:
        return GateResult(gate, False, f"no fidelity assessment yet (needs {need})")
    return GateResult(
        gate,
        latest.score >= gate.threshold,  # type: ignore[operator]
        f"latest score {latest.score:.0%} for {latest.period_start:%b %Y} (needs {need})",
    )


def _measure(gate: StageGate, enrolment: Enrolment) -> GateResult:
    measure = gate.measure
    if measure is None:
        return GateResult(gate, False, "its measure was deleted; edit or remove this gate")
    n = gate.n_points or 0
    series = series_for(measure, [enrolment.site_id]).get(enrolment.site_id)
    if series is None or len(series.y) < n:
        have = 0 if series is None else len(series.y)
        return GateResult(gate, False, f"{have} points of {measure.name}; needs {n}")
    try:
        result = spc(
            series.y,
            x=series.periods,
            n=series.n,
            chart=chart_for(measure),
            improvement=measure.improvement,
        )
    except SpcInputError as exc:
        return GateResult(gate, False, f"{measure.name} cannot be charted: {exc}")
    recent = list(result.points["point_type"][-n:])
    concerns = sum(t == "special_cause_concern" for t in recent)
    improving = sum(t == "special_cause_improvement" for t in recent)
    if concerns:
        return GateResult(
            gate, False, f"{concerns} of the last {n} points of {measure.name} signal concern"
        )
    state = "improving" if improving else "stable"
    return GateResult(gate, True, f"{measure.name} {state} over the last {n} points")


def _role(gate: StageGate, enrolment: Enrolment) -> GateResult:
    # A role held at the site or above it (a facilitator for the region) counts.
    site_ids = enrolment.site.ancestor_ids() or [enrolment.site_id]
    holders = list(
        Membership.objects.filter(
            programme=enrolment.programme, role=gate.role, site_id__in=site_ids
        ).select_related("user")
    )
    label = Role(gate.role).label.lower()
    if not holders:
        return GateResult(gate, False, f"no {label} named for this site")
    names = ", ".join(m.user.get_full_name() or m.user.get_username() for m in holders)
    return GateResult(gate, True, f"{label}: {names}")


CHECKS = {
    StageGate.Kind.FIDELITY: _fidelity,
    StageGate.Kind.MEASURE: _measure,
    StageGate.Kind.ROLE: _role,
}


def evaluate_gates(enrolment: Enrolment, to_phase: str | None = None) -> list[GateResult]:
    """Each gate of the programme (into one phase, or every phase) checked for this site."""
    gates: Sequence[StageGate] = StageGate.objects.filter(
        programme=enrolment.programme
    ).select_related("measure")
    if to_phase is not None:
        gates = [g for g in gates if g.to_phase == to_phase]
    return [CHECKS[StageGate.Kind(g.kind)](g, enrolment) for g in gates]
