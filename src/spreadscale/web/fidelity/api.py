"""API: fidelity assessments, the adaptation log with its evidence, stage gates and gated phase moves."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from spreadscale.analytics import fidelity as frame
from spreadscale.web import permissions
from spreadscale.web.core import actions as core_actions
from spreadscale.web.core.errors import error_list
from spreadscale.web.core.models import Component, Intervention, Site
from spreadscale.web.fidelity import actions, reports
from spreadscale.web.fidelity.gates import evaluate_gates
from spreadscale.web.fidelity.models import (
    Adaptation,
    FidelityAssessment,
    FidelityAssessmentRevision,
    StageGate,
)
from spreadscale.web.fidelity.selectors import (
    components_in_use,
    evidence,
    readable_adaptations,
)
from spreadscale.web.measurement.models import Measure

router = Router(tags=["fidelity"])


def _site(access: permissions.Access, code: str) -> Site:
    try:
        site = Site.objects.get(code=code)
    except Site.DoesNotExist:
        raise Http404("No such site.") from None
    permissions.enrolment_for(access, site.pk)
    return site


class RatingOut(Schema):
    component: str
    rating: str
    evidence: str | None = Field(None, description="Only when your role may read the site's notes.")


class RevisionOut(Schema):
    version: int = Field(description="The assessment's version that said this.")
    score: float | None
    assessor: str | None
    note: str | None = Field(None, description="Only when your role may read the site's notes.")
    ratings: list[RatingOut]
    replaced_at: datetime
    replaced_by: str | None = Field(description="Who corrected it.")


class AssessmentOut(Schema):
    id: int
    site: str
    period_start: date
    period_end: date
    score: float | None
    assessor: str | None
    note: str | None = Field(None, description="Only when your role may read the site's notes.")
    ratings: list[RatingOut]
    version: int = Field(description="Send it back to correct the assessment (PUT).")
    corrected_at: datetime | None = Field(description="When it was last corrected, if ever.")
    corrected_by: str | None
    revisions: list[RevisionOut] = Field(description="What it said before each correction.")


class ComponentRefOut(Schema):
    id: int
    name: str


class AssessmentCreatedOut(AssessmentOut):
    omitted: list[ComponentRefOut] = Field(
        description="Core functions in use that the request left out: recorded as not_assessed."
    )


class RatingIn(Schema):
    component: int = Field(ge=1, le=2**63 - 1, description="Component id (a core function).")
    rating: str = Field(description=f"One of {', '.join(frame.codes(frame.RATINGS))}.")
    evidence: str | None = Field(
        None, description="What shows it. Left out: none (on a correction, the earlier evidence)."
    )


class AssessmentIn(Schema):
    site: str
    period_start: date = Field(description="First day of a quarter.")
    ratings: list[RatingIn]
    note: str = ""


def _username(user: AbstractBaseUser | None) -> str | None:
    return user.get_username() if user else None


def _revision_out(rev: FidelityAssessmentRevision, notes: bool) -> dict:
    return {
        "version": rev.version,
        "score": rev.score,
        "assessor": _username(rev.assessor),
        "note": rev.note if notes else None,
        "ratings": [
            {
                "component": r.get("name", ""),
                "rating": r.get("rating", ""),
                "evidence": r.get("evidence", "") if notes else None,
            }
            for r in rev.ratings
        ],
        "replaced_at": rev.revised_at,
        "replaced_by": _username(rev.revised_by),
    }


def _assessments(access: permissions.Access):
    """The assessments of sites whose data the user may read, ready for _assessment_out."""
    return (
        FidelityAssessment.objects.filter(programme=access.programme)
        .filter(access.readable_site_filter())
        .select_related("site", "assessor")
        .prefetch_related(
            "ratings__component",
            Prefetch(
                "revisions",
                FidelityAssessmentRevision.objects.select_related("assessor", "revised_by"),
            ),
        )
    )


def _assessment_out(access: permissions.Access, a: FidelityAssessment) -> dict:
    notes = access.can_read_notes(a.site_id)
    revisions = list(a.revisions.all())
    return {
        "id": a.pk,
        "site": a.site.code,
        "period_start": a.period_start,
        "period_end": a.period_end,
        "score": a.score,
        "assessor": a.assessor.get_username() if a.assessor else None,
        "note": a.note if notes else None,
        "ratings": [
            {
                "component": r.component.name,
                "rating": r.rating,
                "evidence": r.evidence if notes else None,
            }
            for r in a.ratings.all()
        ],
        "version": a.version,
        "corrected_at": revisions[-1].revised_at if revisions else None,
        "corrected_by": _username(revisions[-1].revised_by) if revisions else None,
        "revisions": [_revision_out(rev, notes) for rev in revisions],
    }


def _omitted(a: FidelityAssessment, sent: set[int]) -> list[dict]:
    return [
        {"id": r.component_id, "name": r.component.name}
        for r in a.ratings.all()
        if r.component_id not in sent
    ]


@router.get("/programmes/{slug}/fidelity/assessments", response=list[AssessmentOut])
def list_assessments(request: HttpRequest, slug: str, site: str | None = None):
    access = permissions.access_for(request.user, slug)
    qs = _assessments(access)
    if site:
        qs = qs.filter(site=_site(access, site))
    return [_assessment_out(access, a) for a in qs]


@router.post("/programmes/{slug}/fidelity/assessments", response={201: AssessmentCreatedOut})
def create_assessment(request: HttpRequest, slug: str, body: AssessmentIn):
    access = permissions.access_for(request.user, slug)
    site = _site(access, body.site)
    access.require(access.can_edit_site(site.pk))
    a = actions.record_assessment(
        request.user,
        access.programme,
        site,
        period_start=body.period_start,
        ratings=[
            actions.RatingInput(r.component, r.rating, r.evidence or "") for r in body.ratings
        ],
        note=body.note,
    )
    a = _assessments(access).get(pk=a.pk)
    out = _assessment_out(access, a)
    return Status(201, out | {"omitted": _omitted(a, {r.component for r in body.ratings})})


def _get_assessment(access: permissions.Access, pk: int) -> FidelityAssessment:
    a = _assessments(access).filter(pk=pk).first()
    if a is None:
        raise Http404("No such assessment.")
    return a


@router.get("/programmes/{slug}/fidelity/assessments/{pk}", response=AssessmentOut)
def get_assessment(request: HttpRequest, slug: str, pk: int):
    access = permissions.access_for(request.user, slug)
    return _assessment_out(access, _get_assessment(access, pk))


class AssessmentUpdate(Schema):
    site: str | None = Field(None, description="If sent, must be the assessment's site.")
    period_start: date | None = Field(None, description="If sent, must be its quarter.")
    ratings: list[RatingIn]
    note: str | None = Field(None, description="Left out: the assessment's note is kept.")
    version: int = Field(description="The version you read; a stale one is refused (422).")


@router.put("/programmes/{slug}/fidelity/assessments/{pk}", response=AssessmentCreatedOut)
def correct_assessment(request: HttpRequest, slug: str, pk: int, body: AssessmentUpdate):
    """Correct an assessment: the ratings replace the earlier ones, which are kept as a
    revision; core functions left out are recorded as not_assessed; evidence or a note left
    out are kept."""
    access = permissions.access_for(request.user, slug)
    a = _get_assessment(access, pk)
    access.require(access.can_edit_site(a.site_id))
    errors = {}
    if body.site is not None and body.site != a.site.code:
        errors["site"] = f"This assessment is of {a.site.code}; a correction cannot move it."
    if body.period_start is not None and body.period_start != a.period_start:
        errors["period_start"] = (
            f"This assessment is of the quarter from {a.period_start:%d %b %Y}; "
            "a correction cannot move it."
        )
    if errors:
        raise ValidationError(errors)
    earlier = {r.component_id: r.evidence for r in a.ratings.all()}
    actions.revise_assessment(
        request.user,
        a,
        [
            actions.RatingInput(
                r.component,
                r.rating,
                earlier.get(r.component, "") if r.evidence is None else r.evidence,
            )
            for r in body.ratings
        ],
        a.note if body.note is None else body.note,
        body.version,
    )
    a = _get_assessment(access, pk)
    out = _assessment_out(access, a)
    return out | {"omitted": _omitted(a, {r.component for r in body.ratings})}


class MatrixCellOut(Schema):
    component: int
    rating: str = Field(
        description=f"At the latest assessment: {', '.join(frame.codes(frame.RATINGS))}."
    )
    status: str = Field(description="kept, adapted, lost or not_assessed (— on the page).")


class MeasureRefOut(Schema):
    slug: str
    name: str
    unit: str


class MatrixRowOut(Schema):
    site: str
    name: str
    region: str | None
    readable: bool = Field(description="False: only the people working with the site see its data.")
    cells: list[MatrixCellOut]
    score: float | None
    period_start: date | None = Field(description="The quarter of the latest assessment.")
    variation: str | None = Field(
        description="SPC variation of the outcome measure: common, improvement, concern or neutral."
    )
    variation_label: str | None
    latest: float | None = Field(description="The outcome measure's latest value.")
    inconsistent_adaptations: int


class MatrixOut(Schema):
    measure: MeasureRefOut | None = Field(description="The programme's primary outcome measure.")
    components: list[ComponentRefOut] = Field(description="The core functions in use.")
    rows: list[MatrixRowOut]


STATUS = {"none": "not_assessed"}


@router.get("/programmes/{slug}/fidelity/matrix", response=MatrixOut)
def fidelity_matrix(request: HttpRequest, slug: str):
    """Sites × core functions at the latest assessment, beside each site's outcome status."""
    access = permissions.access_for(request.user, slug)
    matrix = reports.fidelity_matrix(access)
    m = matrix["measure"]
    components = matrix["components"]
    return {
        "measure": {"slug": m.slug, "name": m.name, "unit": m.unit} if m else None,
        "components": [{"id": c.pk, "name": c.name} for c in components],
        "rows": [
            {
                "site": r.site.code,
                "name": r.site.name,
                "region": r.region.code if r.region else None,
                "readable": r.readable,
                "cells": [
                    {"component": c.pk, "rating": code, "status": STATUS.get(css, css)}
                    for c, code, (css, _) in zip(components, r.ratings, r.cells, strict=True)
                ]
                if r.readable
                else [],
                "score": r.score,
                "period_start": r.period,
                "variation": r.variation[0] if r.variation else None,
                "variation_label": r.variation[1] if r.variation else None,
                "latest": r.latest,
                "inconsistent_adaptations": r.inconsistent,
            }
            for r in matrix["rows"]
        ],
    }


class SummaryRowOut(Schema):
    code: str
    label: str
    adaptations: int
    sites: int = Field(description="Sites that made adaptations of this kind.")
    with_data: int = Field(description="Adaptations with 3 or more points on each side.")
    improved: int = Field(
        description="Followed by a special cause in the direction of improvement."
    )
    share_improved: float | None


class SummaryOut(Schema):
    by_content_type: list[SummaryRowOut]
    by_fidelity: list[SummaryRowOut]
    by_reason: list[SummaryRowOut]
    caveat: str = "Association in time, not proof of cause."


@router.get("/programmes/{slug}/adaptations/summary", response=SummaryOut)
def adaptations_summary(request: HttpRequest, slug: str):
    """Adaptations you may read, by type, relation to core functions and reason, with how
    often the sites that made them improved afterwards."""
    access = permissions.access_for(request.user, slug)
    summary = reports.adaptations_summary(access)

    def rows(name: str) -> list[dict]:
        return [
            {
                "code": r.code,
                "label": r.label,
                "adaptations": r.adaptations,
                "sites": len(r.sites),
                "with_data": r.with_data,
                "improved": r.improved,
                "share_improved": r.share_improved,
            }
            for r in summary[name]
        ]

    return {
        "by_content_type": rows("content_types"),
        "by_fidelity": rows("fidelity"),
        "by_reason": rows("reasons"),
    }


class ReasonIn(Schema):
    level: str = Field(description="sociopolitical, organisation, provider or recipient.")
    code: str = Field(description="A FRAME reason at that level, e.g. workforce.")
    note: str = ""


class ReasonOut(Schema):
    level: str
    code: str
    note: str


class AdaptationIn(Schema):
    site: str
    title: str
    date_effective: date
    when_phase: str = Field(description=f"One of {', '.join(frame.codes(frame.WHEN))}.")
    planned: str = Field(description=f"One of {', '.join(frame.codes(frame.PLANNED))}.")
    target: str = Field("intervention", description="intervention (FRAME) or strategy (FRAME-IS).")
    strategy: str = ""
    description: str = ""
    components: list[int] = Field([], description="Ids of the components it touches.")
    measures: list[str] = Field([], description="Slugs of the measures it should move.")
    decided_by: list[str] = []
    final_decider: str = ""
    participants: str = ""
    patients_involved: bool = False
    facilitator_involvement: str = ""
    what_modified: str = ""
    context_aspects: list[str] = []
    level: str = ""
    content_types: list[str] = []
    fidelity: str = Field("unknown", description="Used only when it cannot be computed.")
    goals: list[str] = []
    reasons: list[ReasonIn | str] = Field(
        [],
        description="Reasons by level, each with its own note; a bare 'organisation:workforce' "
        "string is read as that reason with no note.",
    )
    reason_note: str = Field("", description="The reasons in general, in words.")
    evidence_links: list[str] = Field(
        [], description="Web addresses (http/https) or references to the evidence."
    )
    linked_pdsa: int | None = Field(
        None, description="Id of the PDSA cycle, at the same site, that led to it."
    )
    permanence: str = ""
    date_decided: date | None = None
    date_ended: date | None = None


class AdaptationOut(Schema):
    id: int
    site: str
    title: str
    target: str
    strategy: str
    description: str
    date_effective: date
    date_decided: date | None
    date_ended: date | None
    when_phase: str
    planned: str
    decided_by: list[str]
    final_decider: str
    participants: str
    patients_involved: bool
    facilitator_involvement: str
    what_modified: str
    context_aspects: list[str]
    level: str
    content_types: list[str]
    fidelity: str
    fidelity_basis: str
    goals: list[str]
    reasons: list[ReasonOut]
    reason_note: str
    evidence_links: list[str]
    linked_pdsa: int | None
    permanence: str
    components: list[int]
    measures: list[str]
    published: bool
    origin: int | None
    version: int


class EvidenceOut(Schema):
    measure: str
    n_before: int
    n_after: int
    enough: bool
    before_cl: float | None
    after_cl: float | None
    change: float | None
    direction: str
    signals_after: int
    runs_signal: bool
    first_signal: date | None
    summary: str
    caveat: str = "Association in time, not proof of cause."


class AdaptationDetailOut(AdaptationOut):
    evidence: list[EvidenceOut] = Field(
        [], description="Before/after evidence per linked measure, when you may read the site."
    )


def _adaptation_out(a: Adaptation) -> dict:
    out = {name: getattr(a, name) for name in AdaptationOut.model_fields if hasattr(a, name)}
    out.update(
        site=a.site.code,
        components=[c.pk for c in a.components.all()],
        measures=[m.slug for m in a.measures.all()],
        origin=a.origin_id,
        linked_pdsa=a.linked_pdsa_id,
        reasons=[r for r in a.reasons if isinstance(r, dict)],
    )
    return out


def _readable(access: permissions.Access):
    return (
        Adaptation.objects.filter(programme=access.programme)
        .filter(readable_adaptations(access))
        .select_related("site")
        .prefetch_related("components", "measures")
    )


def _get(access: permissions.Access, pk: int) -> Adaptation:
    a = _readable(access).filter(pk=pk).first()
    if a is None:
        raise Http404("No such adaptation.")
    return a


def _resolve(access: permissions.Access, body: AdaptationIn):
    components = list(
        Component.objects.filter(pk__in=body.components).select_related("intervention")
    )
    missing = set(body.components) - {c.pk for c in components}
    measures = list(Measure.objects.filter(programme=access.programme, slug__in=body.measures))
    unknown = set(body.measures) - {m.slug for m in measures}
    errors = {}
    if missing:
        errors["components"] = f"No component with id {', '.join(map(str, sorted(missing)))}."
    if unknown:
        errors["measures"] = f"No measure {', '.join(sorted(unknown))} in this programme."
    if errors:
        from django.core.exceptions import ValidationError

        raise ValidationError(errors)
    data = body.dict(exclude={"site", "components", "measures"})
    return data, components, measures


@router.get("/programmes/{slug}/adaptations", response=list[AdaptationOut])
def list_adaptations(request: HttpRequest, slug: str, site: str | None = None):
    access = permissions.access_for(request.user, slug)
    qs = _readable(access)
    if site:
        qs = qs.filter(site=_site(access, site))
    return [_adaptation_out(a) for a in qs]


@router.post("/programmes/{slug}/adaptations", response={201: AdaptationOut})
def create_adaptation(request: HttpRequest, slug: str, body: AdaptationIn):
    access = permissions.access_for(request.user, slug)
    site = _site(access, body.site)
    access.require(access.can_edit_site(site.pk))
    data, components, measures = _resolve(access, body)
    a = actions.create_adaptation(
        request.user, access.programme, site, data, components=components, measures=measures
    )
    return Status(201, _adaptation_out(a))


@router.get("/programmes/{slug}/adaptations/{pk}", response=AdaptationDetailOut)
def get_adaptation(request: HttpRequest, slug: str, pk: int):
    access = permissions.access_for(request.user, slug)
    a = _get(access, pk)
    out = _adaptation_out(a)
    out["evidence"] = []
    if access.can_read_site(a.site_id):
        for m in a.measures.all():
            ev = evidence(m, a.site_id, a.date_effective)
            out["evidence"].append(
                {"measure": m.slug, "summary": ev.summary}
                | {k: getattr(ev, k) for k in EvidenceOut.model_fields if hasattr(ev, k)}
            )
    return out


class AdaptationUpdate(AdaptationIn):
    version: int


@router.put("/programmes/{slug}/adaptations/{pk}", response=AdaptationOut)
def update_adaptation(request: HttpRequest, slug: str, pk: int, body: AdaptationUpdate):
    access = permissions.access_for(request.user, slug)
    a = _get(access, pk)
    access.require(access.can_edit_site(a.site_id))
    data, components, measures = _resolve(access, body)
    data.pop("version", None)
    a = actions.update_adaptation(
        request.user,
        a,
        data,
        components=components,
        measures=measures,
        expected_version=body.version,
    )
    return _adaptation_out(a)


@router.post("/programmes/{slug}/adaptations/{pk}/publish", response=AdaptationOut)
def publish_adaptation(request: HttpRequest, slug: str, pk: int):
    access = permissions.access_for(request.user, slug)
    a = _get(access, pk)
    access.require(access.can_edit_site(a.site_id))
    return _adaptation_out(actions.publish_adaptation(request.user, a))


class AdoptIn(Schema):
    site: str
    date_effective: date


@router.post("/programmes/{slug}/adaptations/{pk}/adopt", response={201: AdaptationOut})
def adopt_adaptation(request: HttpRequest, slug: str, pk: int, body: AdoptIn):
    access = permissions.access_for(request.user, slug)
    origin = _get(access, pk)
    site = _site(access, body.site)
    access.require(access.can_edit_site(site.pk))
    copy = actions.adopt_adaptation(request.user, origin, site, date_effective=body.date_effective)
    return Status(201, _adaptation_out(copy))


class GateOut(Schema):
    id: int
    to_phase: str
    kind: str
    threshold: float | None
    measure: str | None
    n_points: int | None
    role: str
    description: str


class GateIn(Schema):
    to_phase: str
    kind: str
    threshold: float | None = None
    measure: str | None = Field(None, description="Measure slug, for measure_stable gates.")
    n_points: int | None = None
    role: str = ""
    description: str = ""


def _gate_out(g: StageGate) -> dict:
    return {
        "id": g.pk,
        "to_phase": g.to_phase,
        "kind": g.kind,
        "threshold": g.threshold,
        "measure": g.measure.slug if g.measure else None,
        "n_points": g.n_points,
        "role": g.role,
        "description": str(g),
    }


@router.get("/programmes/{slug}/stage-gates", response=list[GateOut])
def list_gates(request: HttpRequest, slug: str):
    access = permissions.access_for(request.user, slug)
    return [
        _gate_out(g)
        for g in StageGate.objects.filter(programme=access.programme).select_related("measure")
    ]


@router.post("/programmes/{slug}/stage-gates", response={201: GateOut})
def create_gate(request: HttpRequest, slug: str, body: GateIn):
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    g = actions.create_stage_gate(
        request.user,
        access.programme,
        to_phase=body.to_phase,
        kind=body.kind,
        threshold=body.threshold,
        measure_slug=body.measure,
        n_points=body.n_points,
        role=body.role,
        description=body.description,
    )
    return Status(201, _gate_out(g))


@router.delete("/programmes/{slug}/stage-gates/{pk}", response={204: None})
def delete_gate(request: HttpRequest, slug: str, pk: int):
    """Remove a stage gate (lead); the removal is kept in the event log."""
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    gate = StageGate.objects.filter(programme=access.programme, pk=pk).first()
    if gate is None:
        raise Http404("No such stage gate in this programme.")
    actions.delete_stage_gate(request.user, gate)
    return Status(204, None)


class GateResultOut(Schema):
    gate: GateOut
    met: bool
    detail: str


@router.get("/programmes/{slug}/sites/{code}/stage-gates", response=list[GateResultOut])
def site_gates(request: HttpRequest, slug: str, code: str, to_phase: str | None = None):
    access = permissions.access_for(request.user, slug)
    site = _site(access, code)
    access.require(access.can_read_site(site.pk))
    enrolment = permissions.enrolment_for(access, site.pk)
    return [
        {"gate": _gate_out(r.gate), "met": r.met, "detail": r.detail}
        for r in evaluate_gates(enrolment, to_phase)
    ]


class PhaseMoveIn(Schema):
    to_phase: str
    effective_on: date
    reason: str
    overrides: dict[int, str] = Field({}, description="Gate id → reason for moving despite it.")
    version: int | None = None


class PhaseMoveOut(Schema):
    site: str
    from_phase: str
    to_phase: str
    effective_on: date
    overridden: list[int]


@router.post("/programmes/{slug}/sites/{code}/phase-moves", response={201: PhaseMoveOut})
def move_phase(request: HttpRequest, slug: str, code: str, body: PhaseMoveIn):
    access = permissions.access_for(request.user, slug)
    site = _site(access, code)
    access.require(access.can_change_phase(site.pk))
    enrolment = permissions.enrolment_for(access, site.pk)
    unmet = [r.gate.pk for r in evaluate_gates(enrolment, body.to_phase) if not r.met]
    change = actions.move_phase(
        request.user,
        enrolment,
        to_phase=body.to_phase,
        effective_on=body.effective_on,
        reason=body.reason,
        overrides=body.overrides,
        expected_version=body.version,
    )
    return Status(
        201,
        {
            "site": site.code,
            "from_phase": change.from_phase,
            "to_phase": change.to_phase,
            "effective_on": change.effective_on,
            "overridden": unmet,
        },
    )


class ComponentOut(Schema):
    id: int
    intervention: int
    name: str
    kind: str
    description: str
    fidelity_criterion: str
    order: int
    retired: bool
    version: int
    ratings: int = Field(description="Fidelity ratings of it (a component with any is retired).")
    adaptations: int = Field(description="Adaptations that touch it.")
    change_ideas: int = Field(description="Change ideas that put it into practice.")


class ComponentIn(Schema):
    intervention: int | None = Field(
        None, description="Intervention id; the programme's first when left out."
    )
    name: str
    kind: str = Field(description="core_function or adaptable_form.")
    description: str = ""
    fidelity_criterion: str = ""
    order: int = Field(0, ge=0)


class ComponentUpdate(Schema):
    name: str
    kind: str = Field(description="core_function or adaptable_form.")
    description: str = ""
    fidelity_criterion: str = ""
    order: int = Field(0, ge=0)
    version: int = Field(description="The version you read; a stale one is refused.")


class ProblemOut(Schema):
    detail: str
    errors: list[dict]


def _components(access: permissions.Access):
    return components_in_use(access.programme)


def _component(access: permissions.Access, pk: int) -> Component:
    c = _components(access).select_related("intervention__programme").filter(pk=pk).first()
    if c is None:
        raise Http404("No such component in this programme.")
    return c


def _component_out(c: Component) -> dict:
    return {
        name: getattr(c, name)
        for name in ("id", "name", "kind", "description", "fidelity_criterion", "order")
    } | {
        "intervention": c.intervention_id,
        "retired": c.retired,
        "version": c.version,
        "ratings": getattr(c, "n_ratings", 0),
        "adaptations": getattr(c, "n_adaptations", 0),
        "change_ideas": getattr(c, "n_change_ideas", 0),
    }


@router.get("/programmes/{slug}/components", response=list[ComponentOut])
def list_components(request: HttpRequest, slug: str):
    """The intervention's components, retired ones included (``retired``): every member."""
    access = permissions.access_for(request.user, slug)
    return [_component_out(c) for c in _components(access)]


@router.post("/programmes/{slug}/components", response={201: ComponentOut})
def create_component(request: HttpRequest, slug: str, body: ComponentIn):
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    interventions = Intervention.objects.filter(programme=access.programme)
    intervention = (
        interventions.filter(pk=body.intervention).first()
        if body.intervention is not None
        else interventions.first()
    )
    if intervention is None:
        raise ValidationError({"intervention": "The programme has no such intervention."})
    c = core_actions.add_component(
        request.user, intervention, **body.dict(exclude={"intervention"})
    )
    return Status(201, _component_out(_component(access, c.pk)))


@router.put("/programmes/{slug}/components/{pk}", response=ComponentOut)
def update_component(request: HttpRequest, slug: str, pk: int, body: ComponentUpdate):
    """Edit a component (full update); send the version you read."""
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    c = core_actions.update_component(
        request.user,
        _component(access, pk),
        expected_version=body.version,
        **body.dict(exclude={"version"}),
    )
    return _component_out(c)


@router.post("/programmes/{slug}/components/{pk}/retire", response=ComponentOut)
def retire_component(request: HttpRequest, slug: str, pk: int):
    """No longer offered for new ratings or adaptations; its history stays."""
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    return _component_out(actions.retire_component(request.user, _component(access, pk)))


@router.post("/programmes/{slug}/components/{pk}/restore", response=ComponentOut)
def restore_component(request: HttpRequest, slug: str, pk: int):
    """Bring a retired component back into use."""
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    return _component_out(actions.restore_component(request.user, _component(access, pk)))


@router.delete("/programmes/{slug}/components/{pk}", response={204: None, 409: ProblemOut})
def delete_component(request: HttpRequest, slug: str, pk: int):
    """Delete a component nothing refers to; 409 (retire it instead) when it has history."""
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    try:
        actions.delete_component(request.user, _component(access, pk))
    except ValidationError as exc:
        return Status(409, {"detail": " ".join(exc.messages), "errors": error_list(exc)})
    return Status(204, None)
