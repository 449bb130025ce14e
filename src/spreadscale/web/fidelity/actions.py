"""All writes of fidelity and adaptation. Each validates, saves in a transaction and logs an Event."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from spreadscale.analytics import fidelity as frame
from spreadscale.web.core.actions import Actor, change_phase, record_event
from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.core.models import (
    Component,
    Enrolment,
    Intervention,
    Phase,
    PhaseChange,
    Programme,
    Role,
    Site,
)
from spreadscale.web.fidelity.models import (
    Adaptation,
    AdaptationComponent,
    FidelityAssessment,
    FidelityAssessmentRevision,
    FidelityRating,
    StageGate,
)
from spreadscale.web.measurement import actions as measurement
from spreadscale.web.measurement.models import Granularity, Measure

FIDELITY_MEASURE = "fidelity-score"


def _enrolled(programme: Programme, site: Site) -> bool:
    return Enrolment.objects.filter(programme=programme, site=site).exists()


def fidelity_measure(actor: Actor, programme: Programme) -> Measure:
    """The programme's fidelity score measure, created the first time a site is assessed."""
    existing = Measure.objects.filter(programme=programme, slug=FIDELITY_MEASURE).first()
    if existing is not None:
        return existing
    return measurement.create_measure(
        actor,
        programme,
        slug=FIDELITY_MEASURE,
        name="Fidelity score (core functions kept)",
        type=Measure.Type.PROCESS,
        data_kind=Measure.DataKind.PROPORTION,
        multiplier=100.0,
        unit="%",
        numerator_label="Core functions delivered as intended or adapted with function kept",
        denominator_label="Core functions assessed",
        improvement=Measure.Improvement.INCREASE,
        default_chart=Measure.Chart.P,
        frequency=Granularity.QUARTER,
        order=90,
        operational_definition=(
            "Share of the intervention's core functions whose function was kept at the "
            "quarter's fidelity assessment; functions not assessed are left out."
        ),
    )


@dataclass(frozen=True)
class RatingInput:
    component_id: int
    rating: str
    evidence: str = ""


def _check_ratings(
    intervention: Intervention, ratings: Sequence[RatingInput], *, keep: Collection[int] = ()
) -> tuple[dict[str, str], set[int]]:
    """Problems with ratings of the intervention's core functions, and the components rated.

    ``keep``: components an assessment under correction already rates, retired since."""
    errors: dict[str, str] = {}
    components = {
        c.pk: c for c in Component.objects.filter(pk__in=[r.component_id for r in ratings])
    }
    seen: set[int] = set()
    for r in ratings:
        c = components.get(r.component_id)
        if c is None or c.intervention_id != intervention.pk:
            errors["ratings"] = f"Component {r.component_id} is not part of {intervention.name}."
        elif c.kind != Component.Kind.CORE_FUNCTION:
            errors["ratings"] = (
                f"{c.name} is an adaptable form, not a core function: rate only core functions."
            )
        elif c.retired and c.pk not in keep:
            errors["ratings"] = f"{c.name} is retired: it is no longer rated."
        elif r.rating not in frame.codes(frame.RATINGS):
            errors["ratings"] = f"Unknown rating {r.rating!r} for {c.name}."
        elif r.component_id in seen:
            errors["ratings"] = f"{c.name} is rated twice."
        seen.add(r.component_id)
    if not ratings:
        errors["ratings"] = "Rate at least one core function."
    return errors, seen


def _complete(
    intervention: Intervention,
    ratings: Sequence[RatingInput],
    seen: set[int],
    *,
    keep: Collection[int] = (),
) -> list[RatingInput]:
    """The ratings plus every core function in use (or in ``keep``) they leave out, as
    not assessed: so the latest assessment does not leave an older rating of theirs standing
    in the cross-site view."""
    omitted = (
        Component.objects.filter(
            Q(intervention=intervention, kind=Component.Kind.CORE_FUNCTION, retired=False)
            | Q(pk__in=list(keep))
        )
        .exclude(pk__in=seen)
        .order_by("order", "name")
    )
    return [*ratings, *(RatingInput(c.pk, "not_assessed") for c in omitted)]


def _score_label(score: float | None) -> str:
    return f"{score:.0%} of core functions kept" if score is not None else "nothing assessed"


def _write_score(
    actor: Actor,
    programme: Programme,
    site: Site,
    period_start: date,
    ratings: Sequence[RatingInput],
    at: datetime | None,
) -> None:
    """The score is also an observation, so it charts like any other measure. Rewriting it
    keeps the observation's earlier value as its revision and renews the board."""
    assessed = [r for r in ratings if r.rating != "not_assessed"]
    if not assessed:
        return
    measure = fidelity_measure(actor, programme)
    measurement.import_observations(
        actor,
        programme,
        [
            measurement.ObservationRow(
                measure=measure.slug,
                site=site.code,
                period_start=period_start,
                numerator=float(sum(r.rating in frame.KEPT for r in assessed)),
                denominator=float(len(assessed)),
                granularity=Granularity.QUARTER,
            )
        ],
        source="fidelity assessment",
        at=at,
    )


def _write_ratings(assessment: FidelityAssessment, ratings: Iterable[RatingInput]) -> None:
    FidelityRating.objects.bulk_create(
        FidelityRating(
            assessment=assessment,
            component_id=r.component_id,
            rating=r.rating,
            evidence=r.evidence.strip(),
        )
        for r in ratings
    )


@transaction.atomic
def record_assessment(
    actor: Actor,
    programme: Programme,
    site: Site,
    *,
    period_start: date,
    ratings: Sequence[RatingInput],
    note: str = "",
    intervention: Intervention | None = None,
    at: datetime | None = None,
) -> FidelityAssessment:
    """Rate each core function of the intervention at a site for one quarter.

    Core functions in use that ``ratings`` leaves out are recorded as ``not_assessed``."""
    errors: dict[str, str] = {}
    if not _enrolled(programme, site):
        errors["site"] = f"{site.code} is not part of {programme.name}."
    intervention = intervention or programme.interventions.first()
    if intervention is None or intervention.programme_id != programme.pk:
        raise ValidationError({"intervention": "The programme has no such intervention."})
    end, period_errors = measurement.check_period(period_start, None, Granularity.QUARTER)
    errors.update(period_errors)
    if FidelityAssessment.objects.filter(
        site=site, intervention=intervention, period_start=period_start
    ).exists():
        errors["period_start"] = (
            f"{site.code} already has an assessment for the quarter starting "
            f"{period_start:%d %b %Y}: correct that one instead."
        )
    rating_errors, seen = _check_ratings(intervention, ratings)
    errors.update(rating_errors)
    if errors or end is None:
        raise ValidationError(errors)
    ratings = _complete(intervention, ratings, seen)
    score = frame.fidelity_score(r.rating for r in ratings)
    assessment = FidelityAssessment.objects.create(
        programme=programme,
        site=site,
        intervention=intervention,
        period_start=period_start,
        period_end=end,
        assessor=actor if actor is not None and actor.is_authenticated else None,
        note=note.strip(),
        score=score,
    )
    _write_ratings(assessment, ratings)
    record_event(
        actor,
        "fidelity.assessed",
        assessment,
        programme=programme,
        site=site,
        payload={
            "period_start": period_start.isoformat(),
            "period_label": f"{period_start.day} {period_start:%b %Y}",
            "score": score,
            "score_label": _score_label(score),
            "ratings": {str(r.component_id): r.rating for r in ratings},
        },
        at=at,
    )
    _write_score(actor, programme, site, period_start, ratings, at)
    return assessment


@transaction.atomic
def revise_assessment(
    actor: Actor,
    assessment: FidelityAssessment,
    ratings: Sequence[RatingInput],
    note: str,
    expected_version: int,
    *,
    at: datetime | None = None,
) -> FidelityAssessment:
    """Correct an assessment's ratings, evidence and note (optimistic locking on version).

    The checks are record_assessment's; what the assessment said before is kept as a
    FidelityAssessmentRevision, the score and the quarter's fidelity-score observation are
    recomputed. Core functions ``ratings`` leaves out are recorded as ``not_assessed``."""
    # The conditional update comes first: a stale editor learns that before anything else,
    # and the row is ours until the transaction ends (any refusal below rolls it back).
    updated = FidelityAssessment.objects.filter(pk=assessment.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not updated:
        raise StaleEdit("This assessment")
    # Read back what this version says; the caller's instance changes only on success.
    current = FidelityAssessment.objects.select_related(
        "programme", "site", "intervention", "assessor"
    ).get(pk=assessment.pk)
    before = {
        r.component_id: r
        for r in FidelityRating.objects.filter(assessment=current).select_related("component")
    }
    intervention = current.intervention
    errors, seen = _check_ratings(intervention, ratings, keep=before.keys())
    if errors:
        raise ValidationError(errors)
    complete = _complete(intervention, ratings, seen, keep=before.keys())
    score = frame.fidelity_score(r.rating for r in complete)
    if score is None and current.score is not None:
        raise ValidationError(
            {
                "ratings": "Rate at least one core function as something other than not "
                "assessed: the quarter's fidelity score is charted and a correction "
                "cannot withdraw it."
            }
        )
    note = note.strip()
    # A core function added since the assessment counts as not assessed then.
    was = {cid: (r.rating, r.evidence) for cid, r in before.items()}
    changed = {
        r.component_id: (was.get(r.component_id, ("not_assessed", ""))[0], r.rating)
        for r in complete
        if was.get(r.component_id, ("not_assessed", ""))[0] != r.rating
    }
    if (
        not changed
        and note == current.note
        and all(was.get(r.component_id, ("", ""))[1] == r.evidence.strip() for r in complete)
    ):
        raise ValidationError("Nothing was changed: correct a rating, its evidence or the note.")
    FidelityAssessmentRevision.objects.create(
        assessment=current,
        version=expected_version,
        ratings=[
            {
                "component": r.component_id,
                "name": r.component.name,
                "rating": r.rating,
                "evidence": r.evidence,
            }
            for r in sorted(before.values(), key=lambda r: (r.component.order, r.component.name))
        ],
        score=current.score,
        note=current.note,
        assessor=current.assessor,
        revised_by=actor if actor is not None and actor.is_authenticated else None,
        revised_at=at or timezone.now(),
    )
    FidelityRating.objects.filter(assessment=current).delete()
    _write_ratings(current, complete)
    previous = current.score
    FidelityAssessment.objects.filter(pk=current.pk).update(score=score, note=note)
    current.score, current.note = score, note
    names = dict(Component.objects.filter(pk__in=changed).values_list("pk", "name"))
    words = dict(frame.RATINGS)
    period = current.period_start
    record_event(
        actor,
        "fidelity.assessment_revised",
        current,
        programme=current.programme,
        site=current.site,
        payload={
            "period_start": period.isoformat(),
            "period_label": f"{period.day} {period:%b %Y}",
            "version": current.version,
            "previous_score": previous,
            "score": score,
            "score_label": _score_label(score),
            "changed": {str(cid): {"from": old, "to": new} for cid, (old, new) in changed.items()},
            "changed_label": "; ".join(
                f"{names[cid]} from {words[old].lower()} to {words[new].lower()}"
                for cid, (old, new) in changed.items()
            )
            or "no rating changed (evidence or note corrected)",
            "ratings": {str(r.component_id): r.rating for r in complete},
        },
        at=at,
    )
    _write_score(actor, current.programme, current.site, period, complete, at)
    assessment.refresh_from_db()
    return assessment


# Fields of the quick entry (essential) and of the full FRAME record.
ESSENTIAL = ("title", "date_effective", "when_phase", "planned")
LIST_FIELDS = {
    "decided_by": frame.DECIDED_BY,
    "context_aspects": frame.CONTEXT_ASPECTS,
    "content_types": frame.CONTENT_TYPES,
    "goals": frame.GOALS + frame.IS_GOALS,
}
CHOICE_FIELDS = {
    "when_phase": frame.WHEN,
    "planned": frame.PLANNED,
    "final_decider": frame.DECIDED_BY,
    "level": frame.LEVEL,
    "fidelity": frame.FIDELITY,
    "permanence": frame.PERMANENCE,
    "target": Adaptation.Target.choices,
}
TEXT_FIELDS = (
    "title",
    "description",
    "strategy",
    "participants",
    "facilitator_involvement",
    "reason_note",
)
OTHER_FIELDS = ("patients_involved", "date_decided", "date_ended", "what_modified")
# Lists of records, checked and normalised by _reasons and _evidence_links.
RECORD_FIELDS = ("reasons", "evidence_links")
MAX_NOTE = 1000
MAX_LINKS = 20


def _reasons(values: Iterable[Any] | None) -> tuple[list[dict[str, str]], str | None]:
    """FRAME reasons as [{level, code, note}]; "level:code" strings are read with no note."""
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for i, value in enumerate(values or [], start=1):
        if isinstance(value, str):
            level, _, code = value.partition(":")
            note = ""
        elif isinstance(value, Mapping):
            level = str(value.get("level") or "")
            code = str(value.get("code") or "")
            note = " ".join(str(value.get("note") or "").split())
        else:
            return [], f"Reason {i}: give a level, a code and an optional note."
        if level not in frame.REASONS:
            return [], (
                f"Reason {i}: unknown level {level!r}; use one of {', '.join(frame.REASONS)}."
            )
        if code not in frame.codes(frame.REASONS[level]):
            return [], f"Reason {i}: {code!r} is not a reason at the {level} level."
        if (level, code) in seen:
            return [], f"Reason {i}: {level}:{code} is given twice; say it once, with one note."
        if len(note) > MAX_NOTE:
            return [], f"Reason {i}: keep the note under {MAX_NOTE} characters."
        seen.add((level, code))
        out.append({"level": level, "code": code, "note": note})
    return out, None


def _evidence_links(values: Iterable[Any] | None) -> tuple[list[str], str | None]:
    """Links (http or https) or plain references to the evidence behind an adaptation."""
    from django.core.validators import URLValidator

    out: list[str] = []
    for i, value in enumerate(values or [], start=1):
        text = str(value or "").strip()
        if not text:
            continue
        if len(text) > 500:
            return [], f"Link {i}: keep each link or reference under 500 characters."
        looks_like_url = "://" in text or text.lower().startswith(("javascript:", "data:"))
        if looks_like_url:
            try:
                URLValidator(schemes=["http", "https"])(text)
            except ValidationError:
                return [], f"Link {i}: {text[:60]!r} is not a web address (http or https)."
        if text not in out:
            out.append(text)
    if len(out) > MAX_LINKS:
        return [], f"Give at most {MAX_LINKS} links or references."
    return out, None


def _linked_pdsa(programme: Programme, site: Site, value: Any) -> tuple[Any, str | None]:
    """The PDSA cycle an adaptation links to: one of the same site and programme."""
    from spreadscale.web.improvement.models import PDSACycle

    if value in (None, ""):
        return None, None
    cycle = value if isinstance(value, PDSACycle) else None
    if cycle is None:
        try:
            cycle = PDSACycle.objects.select_related("site").get(pk=int(value))
        except (PDSACycle.DoesNotExist, TypeError, ValueError):
            return None, f"There is no PDSA cycle {value}."
    if cycle.programme_id != programme.pk:
        return None, f"{cycle} belongs to another programme; link a cycle of {programme.name}."
    if cycle.site_id != site.pk:
        return None, (
            f"{cycle} was run at {cycle.site.code}, not {site.code}; link a cycle of this site."
        )
    return cycle, None


def _check_adaptation(
    programme: Programme,
    site: Site,
    data: Mapping[str, Any],
    components: Sequence[Component],
    measures: Sequence[Measure],
    keep_retired: Iterable[int] = (),
) -> dict[str, str]:
    """Problems with an adaptation's fields, by field name.

    Retired components may not be newly touched; those in ``keep_retired`` (already touched,
    or carried by an adopted copy) stay part of the record."""
    errors: dict[str, str] = {}
    if not _enrolled(programme, site):
        errors["site"] = f"{site.code} is not part of {programme.name}."
    for name in ESSENTIAL:
        if not data.get(name):
            errors[name] = "This field is required for every adaptation."
    if len(data.get("title") or "") > 200:
        errors["title"] = "Keep the title under 200 characters."
    for name, choices in CHOICE_FIELDS.items():
        value = data.get(name)
        if value and value not in frame.codes(choices):
            errors[name] = f"Unknown value {value!r}; use one of {', '.join(frame.codes(choices))}."
    for name, choices in LIST_FIELDS.items():
        values = data.get(name) or []
        unknown = [v for v in values if v not in frame.codes(choices)]
        if unknown:
            errors[name] = f"Unknown value(s) {', '.join(map(str, unknown))}."
    strategy = data.get("target") == Adaptation.Target.STRATEGY
    allowed_what = frame.IS_WHAT_MODIFIED if strategy else frame.WHAT_MODIFIED
    what = data.get("what_modified") or ""
    if what and what not in frame.codes(allowed_what):
        errors["what_modified"] = (
            f"Unknown value {what!r}; use one of {', '.join(frame.codes(allowed_what))}."
        )
    if strategy and not (data.get("strategy") or "").strip():
        errors["strategy"] = "Name the implementation strategy that was modified (FRAME-IS)."
    goals = set(data.get("goals") or [])
    allowed_goals = set(frame.codes(frame.IS_GOALS if strategy else frame.GOALS))
    if goals - allowed_goals and "goals" not in errors:
        errors["goals"] = (
            f"Use {'FRAME-IS' if strategy else 'FRAME'} goals: {', '.join(sorted(allowed_goals))}."
        )
    start, decided, ended = (
        data.get("date_effective"),
        data.get("date_decided"),
        data.get("date_ended"),
    )
    if start and ended and ended < start:
        errors["date_ended"] = (
            f"The adaptation ends ({ended:%d %b %Y}) before it takes effect ({start:%d %b %Y})."
        )
    if start and decided and decided > start and "date_decided" not in errors:
        errors["date_decided"] = "The decision comes before the adaptation takes effect."
    interventions = set(programme.interventions.values_list("pk", flat=True))
    for c in components:
        if c.intervention_id not in interventions:
            errors["components"] = f"{c.name} belongs to another programme's intervention."
    kept = set(keep_retired)
    retired = [c.name for c in components if c.retired and c.pk not in kept]
    if retired:
        errors["components"] = (
            f"{', '.join(retired)} {'is' if len(retired) == 1 else 'are'} retired: "
            "choose a component in use."
        )
    if len({c.intervention_id for c in components}) > 1:
        errors["components"] = "An adaptation touches components of one intervention only."
    for m in measures:
        if m.programme_id != programme.pk:
            errors["measures"] = f"{m.name} is not a measure of {programme.name}."
    for name, check in (("reasons", _reasons), ("evidence_links", _evidence_links)):
        if name in data:
            _, problem = check(data[name])
            if problem:
                errors[name] = problem
    if "linked_pdsa" in data:
        _, problem = _linked_pdsa(programme, site, data["linked_pdsa"])
        if problem:
            errors["linked_pdsa"] = problem
    return errors


def _apply(
    adaptation: Adaptation, data: Mapping[str, Any], components: Sequence[Component]
) -> None:
    for name in (*TEXT_FIELDS,):
        if name in data:
            setattr(adaptation, name, (data[name] or "").strip())
    for name in (*CHOICE_FIELDS, *LIST_FIELDS, *OTHER_FIELDS, "date_effective"):
        if name in data and name not in TEXT_FIELDS:
            value = data[name]
            if name in LIST_FIELDS:
                value = sorted(set(value or []))
            elif name in CHOICE_FIELDS and value is None:
                value = ""
            setattr(adaptation, name, value)
    if "reasons" in data:
        adaptation.reasons = _reasons(data["reasons"])[0]
    if "evidence_links" in data:
        adaptation.evidence_links = _evidence_links(data["evidence_links"])[0]
    if "linked_pdsa" in data:
        adaptation.linked_pdsa = _linked_pdsa(
            adaptation.programme, adaptation.site, data["linked_pdsa"]
        )[0]
    if adaptation.what_modified != "context":
        adaptation.context_aspects = []
    computed, basis = frame.fidelity_consistency(
        [c.kind for c in components], adaptation.content_types
    )
    if computed != "unknown":
        adaptation.fidelity, adaptation.fidelity_basis = computed, f"Computed: {basis}"
        return
    # The rule cannot compute (any more). A value it computed earlier no longer stands: only
    # a judgement the team gives now does. Sending back the old computed value (as a form or
    # an API client that echoes the record does) is not a fresh judgement.
    stale = adaptation.fidelity if adaptation.fidelity_basis.startswith("Computed") else None
    judged = data.get("fidelity") or (None if stale else adaptation.fidelity) or "unknown"
    if stale is not None and judged == stale:
        judged = "unknown"
    adaptation.fidelity = judged
    adaptation.fidelity_basis = f"The team's judgement. {basis}"


FIDELITY_WORDS = {
    "consistent": "fidelity-consistent",
    "inconsistent": "fidelity-inconsistent",
    "unknown": "relation to core functions unknown",
}


def _payload(a: Adaptation) -> dict[str, Any]:
    return {
        "title": a.title,
        "fidelity": a.fidelity,
        "fidelity_label": FIDELITY_WORDS.get(a.fidelity, a.fidelity),
        "version": a.version,
        "date_effective": a.date_effective.isoformat(),
        "effective_label": f"{a.date_effective.day} {a.date_effective:%b %Y}",
        "content_types": a.content_types,
        "published": a.published,
    }


@transaction.atomic
def create_adaptation(
    actor: Actor,
    programme: Programme,
    site: Site,
    data: Mapping[str, Any],
    *,
    components: Sequence[Component] = (),
    measures: Sequence[Measure] = (),
    origin: Adaptation | None = None,
    at: datetime | None = None,
) -> Adaptation:
    """Log an adaptation: the essential FRAME fields now, the rest now or later."""
    errors = _check_adaptation(
        programme,
        site,
        data,
        components,
        measures,
        keep_retired=[c.pk for c in origin.components.all()] if origin else (),
    )
    if errors:
        raise ValidationError(errors)
    intervention = components[0].intervention if components else programme.interventions.first()
    if intervention is None:
        raise ValidationError({"components": "The programme has no intervention to adapt."})
    adaptation = Adaptation(
        programme=programme,
        site=site,
        intervention=intervention,
        origin=origin,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _apply(adaptation, data, components)
    adaptation.full_clean(exclude=["intervention", "programme", "site"])
    adaptation.save()
    AdaptationComponent.objects.bulk_create(
        AdaptationComponent(adaptation=adaptation, component=c) for c in components
    )
    adaptation.measures.set(measures)
    record_event(
        actor,
        "adaptation.adopted" if origin else "adaptation.created",
        adaptation,
        programme=programme,
        site=site,
        payload=_payload(adaptation)
        | ({"origin": origin.pk, "from_site": origin.site.name} if origin else {}),
        at=at,
    )
    return adaptation


@transaction.atomic
def update_adaptation(
    actor: Actor,
    adaptation: Adaptation,
    data: Mapping[str, Any],
    *,
    components: Sequence[Component],
    measures: Sequence[Measure],
    expected_version: int,
) -> Adaptation:
    """Complete or correct an adaptation's FRAME record (optimistic locking on version)."""
    merged = {name: getattr(adaptation, name) for name in (*ESSENTIAL, "target", "strategy")}
    merged.update(data)
    errors = _check_adaptation(
        adaptation.programme,
        adaptation.site,
        merged,
        components,
        measures,
        keep_retired=adaptation.components.values_list("pk", flat=True),
    )
    if errors:
        raise ValidationError(errors)
    updated = Adaptation.objects.filter(pk=adaptation.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not updated:
        raise StaleEdit("This adaptation")
    adaptation.version = expected_version + 1
    if components:
        # Touched components all belong to one intervention of the programme (checked above).
        adaptation.intervention = components[0].intervention
    _apply(adaptation, merged, components)
    adaptation.full_clean(exclude=["intervention", "programme", "site"])
    adaptation.save()
    AdaptationComponent.objects.filter(adaptation=adaptation).delete()
    AdaptationComponent.objects.bulk_create(
        AdaptationComponent(adaptation=adaptation, component=c) for c in components
    )
    adaptation.measures.set(measures)
    record_event(
        actor,
        "adaptation.updated",
        adaptation,
        programme=adaptation.programme,
        site=adaptation.site,
        payload=_payload(adaptation),
    )
    return adaptation


@transaction.atomic
def publish_adaptation(
    actor: Actor, adaptation: Adaptation, *, at: datetime | None = None
) -> Adaptation:
    """Share an adaptation with every site of the programme (the feedback loop)."""
    if adaptation.published:
        raise ValidationError(
            {"published": "This adaptation is already shared with the programme."}
        )
    adaptation.published = True
    adaptation.published_at = at or timezone.now()
    adaptation.save(update_fields=["published", "published_at"])
    record_event(
        actor,
        "adaptation.published",
        adaptation,
        programme=adaptation.programme,
        site=adaptation.site,
        payload={"title": adaptation.title},
        at=at,
    )
    return adaptation


@transaction.atomic
def adopt_adaptation(
    actor: Actor,
    origin: Adaptation,
    site: Site,
    *,
    date_effective: date,
    at: datetime | None = None,
) -> Adaptation:
    """Another site takes up a published adaptation; the copy keeps its origin."""
    if not origin.published:
        raise ValidationError(
            {"origin": "Only adaptations shared with the programme can be adopted."}
        )
    if site.pk == origin.site_id:
        raise ValidationError({"site": "That site made this adaptation; it cannot adopt its own."})
    if Adaptation.objects.filter(origin=origin, site=site).exists():
        raise ValidationError({"site": f"{site.code} has already adopted this adaptation."})
    # The record travels; the origin's PDSA cycle (another site's) stays behind.
    data = {
        name: getattr(origin, name)
        for name in (*TEXT_FIELDS, *CHOICE_FIELDS, *LIST_FIELDS, *OTHER_FIELDS, *RECORD_FIELDS)
    }
    data.update(
        date_effective=date_effective,
        date_decided=None,
        date_ended=None,
        when_phase=_when_for(origin.programme, site) or origin.when_phase,
        description=f"Adopted from {origin.site.name}. {origin.description}".strip(),
    )
    return create_adaptation(
        actor,
        origin.programme,
        site,
        data,
        components=list(origin.components.all()),
        measures=list(origin.measures.all()),
        origin=origin,
        at=at,
    )


def _when_for(programme: Programme, site: Site) -> str | None:
    phase = (
        Enrolment.objects.filter(programme=programme, site=site)
        .values_list("phase", flat=True)
        .first()
    )
    return {
        Phase.PREPARING: "pre_implementation",
        Phase.TESTING: "pre_implementation",
        Phase.IMPLEMENTING: "implementation",
        Phase.SUSTAINING: "maintenance",
    }.get(phase)


@transaction.atomic
def delete_component(actor: Actor, component: Component) -> None:
    """Delete a component that nothing refers to; one with ratings, adaptations or change
    ideas is retired instead, so that what refers to it keeps its meaning."""
    uses = [
        label
        for label, used in (
            ("fidelity ratings", component.ratings.exists()),
            ("adaptations", AdaptationComponent.objects.filter(component=component).exists()),
            ("change ideas", component.change_ideas.exists()),
        )
        if used
    ]
    if uses:
        listed = uses[0] if len(uses) == 1 else f"{', '.join(uses[:-1])} and {uses[-1]}"
        raise ValidationError(
            {
                "component": f"{component.name} has {listed}: retire it instead, so the "
                "history stays readable."
            }
        )
    programme = component.intervention.programme
    record_event(
        actor, "component.deleted", component, programme=programme, payload={"name": component.name}
    )
    component.delete()


def _set_retired(actor: Actor, component: Component, retired: bool, verb: str) -> Component:
    if component.retired == retired:
        state = "already retired" if retired else "not retired"
        raise ValidationError({"retired": f"{component.name} is {state}."})
    # in the database, so that a concurrent edit's version bump is not lost
    Component.objects.filter(pk=component.pk).update(retired=retired, version=F("version") + 1)
    component.refresh_from_db(fields=["retired", "version"])
    record_event(
        actor,
        verb,
        component,
        programme=component.intervention.programme,
        payload={"name": component.name},
    )
    return component


@transaction.atomic
def retire_component(actor: Actor, component: Component) -> Component:
    """Stop asking sites about a component while keeping its history."""
    return _set_retired(actor, component, True, "component.retired")


@transaction.atomic
def restore_component(actor: Actor, component: Component) -> Component:
    """Bring a retired component back: sites are asked about it again."""
    return _set_retired(actor, component, False, "component.restored")


@transaction.atomic
def create_stage_gate(
    actor: Actor,
    programme: Programme,
    *,
    to_phase: str,
    kind: str,
    threshold: float | None = None,
    measure: Measure | None = None,
    measure_slug: str | None = None,
    n_points: int | None = None,
    role: str = "",
    description: str = "",
) -> StageGate:
    """Add a criterion sites meet before moving into a phase."""
    errors: dict[str, str] = {}
    if to_phase not in Phase.values:
        errors["to_phase"] = f"Unknown phase {to_phase!r}."
    if kind not in StageGate.Kind.values:
        errors["kind"] = f"Unknown kind {kind!r}; use one of {', '.join(StageGate.Kind.values)}."
    if measure is None and measure_slug:
        measure = Measure.objects.filter(programme=programme, slug=measure_slug).first()
        if measure is None:
            errors["measure"] = f"There is no measure {measure_slug!r} (it may have been deleted)."
    if kind == StageGate.Kind.FIDELITY and (threshold is None or not 0 <= threshold <= 1):
        errors["threshold"] = "Give the minimum fidelity score as a share from 0 to 1 (e.g. 0.75)."
    if kind == StageGate.Kind.MEASURE:
        if measure is None and "measure" not in errors:
            errors["measure"] = "Choose the measure that must be stable or improving."
        elif measure is not None and (
            measure.programme_id != programme.pk
            or not Measure.objects.filter(pk=measure.pk).exists()
        ):
            errors["measure"] = f"{measure.name} is not a measure of {programme.name} (any more)."
        if not n_points or n_points < 3:
            errors["n_points"] = "Give the number of recent points to look at (3 or more)."
    if kind == StageGate.Kind.ROLE and role not in Role.values:
        errors["role"] = "Choose the role that must be in place at the site."
    if errors:
        raise ValidationError(errors)
    gate = StageGate.objects.create(
        programme=programme,
        to_phase=to_phase,
        kind=kind,
        threshold=threshold if kind == StageGate.Kind.FIDELITY else None,
        measure=measure if kind == StageGate.Kind.MEASURE else None,
        n_points=n_points if kind == StageGate.Kind.MEASURE else None,
        role=role if kind == StageGate.Kind.ROLE else "",
        description=description.strip(),
    )
    record_event(
        actor,
        "stage_gate.created",
        gate,
        programme=programme,
        payload={
            "to_phase": to_phase,
            "phase_label": Phase(to_phase).label.lower(),
            "kind": kind,
            "description": str(gate),
        },
    )
    return gate


@transaction.atomic
def delete_stage_gate(actor: Actor, gate: StageGate) -> None:
    record_event(
        actor,
        "stage_gate.deleted",
        gate,
        programme=gate.programme,
        payload={
            "to_phase": gate.to_phase,
            "phase_label": Phase(gate.to_phase).label.lower(),
            "kind": gate.kind,
            "description": str(gate),
        },
    )
    gate.delete()


@transaction.atomic
def move_phase(
    actor: Actor,
    enrolment: Enrolment,
    *,
    to_phase: str,
    effective_on: date,
    reason: str,
    overrides: Mapping[int, str] | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> PhaseChange:
    """Change phase after checking the stage gates; an unmet gate needs an override reason."""
    from spreadscale.web.fidelity.gates import evaluate_gates

    if expected_version is not None and expected_version != enrolment.version:
        # Someone moved the site in between: say so before judging gates against their phase.
        raise StaleEdit("This site's phase")
    overrides = {k: (v or "").strip() for k, v in (overrides or {}).items()}
    results = evaluate_gates(enrolment, to_phase)
    unmet = [r for r in results if not r.met]
    missing = [r for r in unmet if not overrides.get(r.gate.pk)]
    if missing:
        raise ValidationError(
            {
                "overrides": "Not met: "
                + "; ".join(f"{r.gate} ({r.detail})" for r in missing)
                + ". Give a reason to override each, or wait until they are met."
            }
        )
    change = change_phase(
        actor,
        enrolment,
        to_phase=to_phase,
        effective_on=effective_on,
        reason=reason,
        expected_version=expected_version,
        at=at,
    )
    for r in unmet:
        record_event(
            actor,
            "stage_gate.overridden",
            r.gate,
            programme=enrolment.programme,
            site=enrolment.site,
            payload={
                "gate": str(r.gate),
                "to_phase": to_phase,
                "phase_label": Phase(to_phase).label.lower(),
                "detail": r.detail,
                "reason": overrides[r.gate.pk],
                "phase_change": change.pk,
            },
            at=at,
        )
    return change


def checked_ids(values: Iterable[str]) -> list[int]:
    """Integer ids from form or query values, ignoring anything that is not one."""
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out
