"""Read-side tables of the fidelity pages: the cross-site matrix, site histories, adaptation
summaries. A fixed number of queries each, whatever the number of sites."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from spreadscale.analytics import fidelity as frame
from spreadscale.web.core import selectors as core_selectors
from spreadscale.web.core.models import Component, Site
from spreadscale.web.fidelity.actions import FIDELITY_MEASURE
from spreadscale.web.fidelity.models import (
    Adaptation,
    FidelityAssessment,
    FidelityAssessmentRevision,
    FidelityRating,
)
from spreadscale.web.fidelity.selectors import (
    Series,
    evidence,
    readable_adaptations,
    series_for,
)
from spreadscale.web.measurement.actions import chart_settings_for
from spreadscale.web.measurement.models import Measure
from spreadscale.web.measurement.selectors import measure_charts
from spreadscale.web.permissions import Access

# What the cross-site matrix shows for each rating: function kept, adapted or lost.
CELL = {
    "intended": ("kept", "Kept"),
    "adapted_kept": ("adapted", "Adapted, kept"),
    "adapted_lost": ("lost", "Lost"),
    "not_delivered": ("lost", "Not delivered"),
    "not_assessed": ("none", "Not assessed"),
}
VARIATION = {
    "common_cause": ("common", "Common cause"),
    "special_cause_improvement": ("improvement", "Improving"),
    "special_cause_concern": ("concern", "Concern"),
    "special_cause_neutral_high": ("neutral", "Special cause (high)"),
    "special_cause_neutral_low": ("neutral", "Special cause (low)"),
}


def outcome_measure(programme) -> Measure | None:
    """The programme's primary outcome measure: the first outcome measure in its order."""
    return (
        Measure.objects.filter(programme=programme, type=Measure.Type.OUTCOME)
        .exclude(slug=FIDELITY_MEASURE)
        .first()
    )


@dataclass
class MatrixRow:
    site: Site
    region: Site | None
    readable: bool
    cells: list[tuple[str, str]] = field(default_factory=list)
    ratings: list[str] = field(default_factory=list)  # the rating codes behind the cells
    score: float | None = None
    period: Any = None
    variation: tuple[str, str] | None = None
    latest: float | None = None
    inconsistent: int = 0


def fidelity_matrix(access: Access) -> dict[str, Any]:
    programme = access.programme
    rows = core_selectors.site_rows(programme)
    components = list(
        Component.objects.filter(
            intervention__programme=programme, kind=Component.Kind.CORE_FUNCTION, retired=False
        )
    )
    latest: dict[int, FidelityAssessment] = {}
    for a in FidelityAssessment.objects.filter(programme=programme).order_by("period_start"):
        latest[a.site_id] = a
    ratings: dict[tuple[int, int], str] = {
        (r.assessment_id, r.component_id): r.rating
        for r in FidelityRating.objects.filter(assessment__in=[a.pk for a in latest.values()])
    }
    measure = outcome_measure(programme)
    readable_ids = [r.enrolment.site_id for r in rows if access.can_read_site(r.enrolment.site_id)]
    # The same charts as the measure page and the board: saved settings and accepted phases.
    charts = (
        measure_charts(measure, readable_ids, chart_settings_for(measure)).sites if measure else {}
    )
    inconsistent: dict[int, int] = defaultdict(int)
    for site_id in (
        Adaptation.objects.filter(programme=programme, fidelity="inconsistent")
        .filter(readable_adaptations(access))
        .values_list("site_id", flat=True)
    ):
        inconsistent[site_id] += 1
    out = []
    for r in rows:
        site = r.enrolment.site
        row = MatrixRow(site, r.region, site.pk in readable_ids)
        if row.readable:
            a = latest.get(site.pk)
            row.ratings = [
                ratings.get((a.pk, c.pk), "not_assessed") if a else "not_assessed"
                for c in components
            ]
            row.cells = [CELL[code] for code in row.ratings]
            row.score = a.score if a else None
            row.period = a.period_start if a else None
            chart = charts.get(site.pk)
            if chart is not None and chart.latest is not None:
                v = chart.summary.get("variation_type") or ""
                row.variation = VARIATION.get(v, ("common", v.replace("_", " ")))
                row.latest = chart.latest.get("y")
        row.inconsistent = inconsistent.get(site.pk, 0)
        out.append(row)
    return {"components": components, "rows": out, "measure": measure}


def adaptation_outcomes(access: Access) -> list[tuple[Adaptation, bool | None]]:
    """Each readable adaptation with whether its measures improved after it (None: no data).

    Improvement is judged on the measures linked to the adaptation, or on the programme's
    primary outcome measure when none is linked; it is an association in time, not proof.
    """
    adaptations = list(
        Adaptation.objects.filter(programme=access.programme)
        .filter(readable_adaptations(access))
        .prefetch_related("measures")
    )
    primary = outcome_measure(access.programme)
    wanted: dict[int, Measure] = {}
    for a in adaptations:
        for m in a.measures.all() or ([primary] if primary else []):
            wanted[m.pk] = m
    site_ids = sorted({a.site_id for a in adaptations})
    series = {pk: series_for(m, site_ids) for pk, m in wanted.items()}
    out = []
    for a in adaptations:
        verdicts = []
        for m in a.measures.all() or ([primary] if primary else []):
            s = series[m.pk].get(a.site_id, Series())
            ev = evidence(m, a.site_id, a.date_effective, s)
            if ev.enough:
                verdicts.append(ev.direction == "improvement")
        out.append((a, any(verdicts) if verdicts else None))
    return out


@dataclass
class SummaryRow:
    code: str
    label: str
    adaptations: int = 0
    sites: set[int] = field(default_factory=set)
    with_data: int = 0
    improved: int = 0

    @property
    def share_improved(self) -> float | None:
        return self.improved / self.with_data if self.with_data else None


def adaptations_summary(access: Access) -> dict[str, list[SummaryRow]]:
    """Adaptations by type of modification, by reason and by fidelity, with how often the
    sites that made them improved afterwards."""
    outcomes = adaptation_outcomes(access)
    tables: dict[str, dict[str, SummaryRow]] = {}
    labels = {
        "content_types": dict(frame.CONTENT_TYPES),
        "reasons": dict(frame.REASON_CHOICES),
        "fidelity": dict(frame.FIDELITY),
    }
    for name, names in labels.items():
        table: dict[str, SummaryRow] = {}
        for a, improved in outcomes:
            values = reason_codes(a) if name == "reasons" else getattr(a, name)
            for code in values if isinstance(values, list) else [values]:
                row = table.setdefault(code, SummaryRow(code, names.get(code, code)))
                row.adaptations += 1
                row.sites.add(a.site_id)
                if improved is not None:
                    row.with_data += 1
                    row.improved += improved
        tables[name] = table
    return {
        name: sorted(table.values(), key=lambda r: (-r.adaptations, r.label))
        for name, table in tables.items()
    }


def site_history(access: Access, site: Site, components: list[Component]) -> dict[str, Any]:
    """A site's assessments over time: one column per quarter, one row per core function
    (retired ones too, where the site has ratings of them)."""
    assessments = list(
        FidelityAssessment.objects.filter(programme=access.programme, site=site)
        .select_related("assessor")
        .prefetch_related(
            Prefetch(
                "revisions",
                FidelityAssessmentRevision.objects.select_related("assessor", "revised_by"),
            )
        )
        .order_by("period_start")
    )
    ratings = {
        (r.assessment_id, r.component_id): r
        for r in FidelityRating.objects.filter(assessment__in=assessments)
    }
    notes = access.can_read_notes(site.pk)
    rated = {component_id for _, component_id in ratings}
    rows = []
    for c in components:
        if c.retired and c.pk not in rated:
            continue  # a retired function the site was never rated on has no history here
        cells = []
        for a in assessments:
            r = ratings.get((a.pk, c.pk))
            code = r.rating if r else "not_assessed"
            cells.append(
                {
                    "css": CELL[code][0],
                    "label": dict(frame.RATINGS)[code],
                    "short": CELL[code][1],
                    "evidence": r.evidence if (r and notes) else "",
                }
            )
        rows.append({"component": c, "cells": cells})
    return {
        "assessments": assessments,
        "rows": rows,
        # Each assessment with its latest correction (None if never corrected).
        "columns": [
            {"assessment": a, "correction": (list(a.revisions.all()) or [None])[-1]}
            for a in assessments
        ],
        "earlier": earlier_versions(assessments, notes=notes),
    }


def earlier_versions(assessments: list[FidelityAssessment], *, notes: bool) -> list[dict[str, Any]]:
    """What corrected assessments said before, latest correction first. Evidence and notes
    only with ``notes`` (the rule of the current ratings)."""
    out = []
    for a in assessments:
        for rev in reversed(list(a.revisions.all())):
            out.append(
                {
                    "assessment": a,
                    "revision": rev,
                    "notes": notes,
                    "note": rev.note if notes else "",
                    "ratings": [
                        {
                            "name": r.get("name", ""),
                            "css": CELL.get(r.get("rating"), CELL["not_assessed"])[0],
                            "label": dict(frame.RATINGS).get(r.get("rating"), r.get("rating")),
                            "evidence": r.get("evidence", "") if notes else "",
                        }
                        for r in rev.ratings
                    ],
                }
            )
    return out


def reason_codes(a: Adaptation) -> list[str]:
    """An adaptation's reasons as "level:code", the keys of frame.REASON_CHOICES."""
    return [f"{r.get('level', '')}:{r.get('code', '')}" for r in a.reasons if isinstance(r, dict)]


def reason_rows(a: Adaptation) -> list[dict[str, str]]:
    """Each reason with its readable label (level: reason) and its note."""
    rows = []
    for r in a.reasons:
        if not isinstance(r, dict):
            continue
        level, code = r.get("level", ""), r.get("code", "")
        level_label = (
            frame.IS_REASON_LEVELS.get(level, level)
            if a.is_strategy
            else dict(frame.REASON_LEVELS).get(level, level)
        )
        label = f"{level_label}: {dict(frame.REASONS.get(level, ())).get(code, code)}"
        rows.append({"label": label, "note": r.get("note", "")})
    return rows


def labels(a: Adaptation) -> dict[str, Any]:
    """Readable labels of an adaptation's multi-valued FRAME fields."""
    reasons = reason_rows(a)
    goals = dict(frame.GOALS + frame.IS_GOALS)
    what = dict(frame.WHAT_MODIFIED + frame.IS_WHAT_MODIFIED)
    return {
        "decided_by": [dict(frame.DECIDED_BY).get(v, v) for v in a.decided_by],
        "content_types": [dict(frame.CONTENT_TYPES).get(v, v) for v in a.content_types],
        "goals": [goals.get(v, v) for v in a.goals],
        "reasons": reasons,
        "context_aspects": [dict(frame.CONTEXT_ASPECTS).get(v, v) for v in a.context_aspects],
        "what_modified": [what.get(a.what_modified, a.what_modified)] if a.what_modified else [],
    }
