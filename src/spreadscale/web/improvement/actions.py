"""All writes of the Model for Improvement. Each validates, saves in a transaction and logs an Event."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from spreadscale.web.core.actions import Actor, record_event
from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.core.models import Component, Enrolment, Programme, Site
from spreadscale.web.improvement.models import (
    Act,
    ChangeIdea,
    DriverNode,
    DriverNodeRevision,
    PDSACycle,
    ProgressScore,
    Scale,
)
from spreadscale.web.measurement.models import Measure


def _check_measures(programme: Programme, measures: Iterable[Measure], field: str) -> list[Measure]:
    measures = list(measures)
    foreign = [m.name for m in measures if m.programme_id != programme.pk]
    if foreign:
        raise ValidationError(
            {
                field: f"{', '.join(foreign)} belongs to another programme; link this programme's measures."
            }
        )
    return measures


def _enrolled(programme: Programme, site: Site, field: str = "site") -> None:
    if not Enrolment.objects.filter(programme=programme, site=site).exists():
        raise ValidationError({field: f"{site.code} is not part of {programme.name}."})


def descendants(node: DriverNode) -> set[int]:
    """Ids of every node below this one in its programme's diagram."""
    edges: dict[int, list[int]] = {}
    for child, parent in DriverNode.parents.through.objects.filter(
        from_drivernode__programme_id=node.programme_id
    ).values_list("from_drivernode_id", "to_drivernode_id"):
        edges.setdefault(parent, []).append(child)
    seen: set[int] = set()
    stack = [node.pk]
    while stack:
        for child in edges.get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def _check_parents(node: DriverNode, parents: Sequence[DriverNode]) -> None:
    rank = DriverNode.RANK[node.kind]
    if node.kind == DriverNode.Kind.AIM:
        if parents:
            raise ValidationError(
                {"parents": "The aim sits at the top of the diagram: no parents."}
            )
        return
    if not parents:
        raise ValidationError(
            {"parents": f"Choose what this {node.get_kind_display().lower()} contributes to."}
        )
    for p in parents:
        if p.programme_id != node.programme_id:
            raise ValidationError({"parents": f"'{p.text}' belongs to another programme."})
        if p.site_id is not None and p.site_id != node.site_id:
            raise ValidationError({"parents": f"'{p.text}' belongs to another site's diagram."})
        if p.retired:
            raise ValidationError({"parents": f"'{p.text}' is retired; choose a current node."})
        if DriverNode.RANK[p.kind] > rank:
            raise ValidationError(
                {
                    "parents": f"A {node.get_kind_display().lower()} cannot sit under the "
                    f"{p.get_kind_display().lower()} '{p.text}'."
                }
            )
    if node.pk is not None:
        below = descendants(node) | {node.pk}
        loops = [p.text for p in parents if p.pk in below]
        if loops:
            raise ValidationError(
                {
                    "parents": f"'{loops[0]}' already sits below this node; linking it as a "
                    "parent would create a loop."
                }
            )


@transaction.atomic
def add_node(
    actor: Actor,
    programme: Programme,
    *,
    kind: str,
    text: str,
    parents: Sequence[DriverNode] = (),
    measures: Iterable[Measure] = (),
    site: Site | None = None,
    detail: str = "",
    due: date | None = None,
    order: int | None = None,
    at: datetime | None = None,
) -> DriverNode:
    """Add a node to the programme's (or a site's) driver diagram."""
    if kind not in DriverNode.Kind.values:
        raise ValidationError({"kind": f"Unknown kind of node {kind!r}."})
    if not (text or "").strip():
        raise ValidationError({"text": "Say what this node is, in a few words."})
    if site is not None:
        _enrolled(programme, site)
    if (
        kind == DriverNode.Kind.AIM
        and DriverNode.objects.filter(
            programme=programme, site=site, kind=kind, retired=False
        ).exists()
    ):
        raise ValidationError({"kind": "This diagram already has an aim; reword it instead."})
    measures = _check_measures(programme, measures, "measures")
    if order is None:
        order = (
            DriverNode.objects.filter(programme=programme, kind=kind).aggregate(m=Max("order"))["m"]
            or 0
        ) + 1
    node = DriverNode(
        programme=programme,
        site=site,
        kind=kind,
        text=text.strip(),
        detail=detail.strip(),
        due=due,
        order=order,
    )
    _check_parents(node, list(parents))
    node.full_clean()
    node.save()
    node.parents.set(parents)
    node.measures.set(measures)
    record_event(
        actor,
        "driver_node.added",
        node,
        programme=programme,
        site=site,
        payload={
            "kind": kind,
            "kind_label": DriverNode.Kind(kind).label.lower(),
            "text": node.text,
            "parents": [p.pk for p in parents],
        },
        at=at,
    )
    return node


def node_revision(actor: Actor, node: DriverNode) -> DriverNodeRevision:
    """The node's current state as an (unsaved) revision, to keep before it is changed."""
    return DriverNodeRevision(
        node=node,
        version=node.version,
        text=node.text,
        detail=node.detail,
        parent_ids=sorted(node.parents.values_list("pk", flat=True)),
        measure_ids=sorted(node.measures.values_list("pk", flat=True)),
        order=node.order,
        retired=node.retired,
        changed_by=actor if actor is not None and actor.is_authenticated else None,
    )


@transaction.atomic
def edit_node(
    actor: Actor,
    node: DriverNode,
    *,
    expected_version: int,
    text: str | None = None,
    detail: str | None = None,
    due: date | None = None,
    parents: Sequence[DriverNode] | None = None,
    measures: Iterable[Measure] | None = None,
    order: int | None = None,
    retired: bool | None = None,
) -> DriverNode:
    """Reword, reorder, relink or retire a node; the previous state is kept as a revision."""
    before = node_revision(actor, node)
    if text is not None:
        if not text.strip():
            raise ValidationError({"text": "A node needs some words; retire it instead."})
        node.text = text.strip()
    if detail is not None:
        node.detail = detail.strip()
    if due is not None:
        node.due = due
    if order is not None:
        node.order = order
    if retired is not None:
        if retired and not node.retired:
            live_children = node.children.filter(retired=False).exclude(
                parents__in=DriverNode.objects.filter(retired=False).exclude(pk=node.pk)
            )
            if live_children.exists():
                raise ValidationError(
                    {
                        "retired": f"'{live_children.first().text}' hangs only under this node; "
                        "relink or retire it first."
                    }
                )
        node.retired = retired
    if parents is not None:
        _check_parents(node, list(parents))
    if measures is not None:
        measures = _check_measures(node.programme, measures, "measures")
    node.full_clean()
    updated = DriverNode.objects.filter(pk=node.pk, version=expected_version).update(
        text=node.text,
        detail=node.detail,
        due=node.due,
        order=node.order,
        retired=node.retired,
        version=F("version") + 1,
    )
    if not updated:
        raise StaleEdit("This part of the driver diagram")
    before.save()
    if parents is not None:
        node.parents.set(parents)
    if measures is not None:
        node.measures.set(measures)
    node.refresh_from_db()
    record_event(
        actor,
        "driver_node.retired" if retired and not before.retired else "driver_node.changed",
        node,
        programme=node.programme,
        site=node.site_id,
        payload={"text": node.text, "was": before.text, "version": node.version},
    )
    return node


def _check_drivers(programme: Programme, site: Site | None, drivers: Sequence[DriverNode]) -> None:
    for d in drivers:
        if d.programme_id != programme.pk or d.kind == DriverNode.Kind.AIM:
            raise ValidationError({"drivers": f"'{d.text}' is not a driver of this programme."})
        if d.site_id is not None and (site is None or d.site_id != site.pk):
            raise ValidationError({"drivers": f"'{d.text}' belongs to another site's diagram."})


def _idea_fields(programme: Programme, component: Component | None, source: str) -> None:
    if component is not None and component.intervention.programme_id != programme.pk:
        raise ValidationError({"component": "That component belongs to another programme."})
    if source not in ChangeIdea.Source.values:
        raise ValidationError({"source": f"Unknown source {source!r}."})


@transaction.atomic
def create_idea(
    actor: Actor,
    programme: Programme,
    *,
    title: str,
    description: str = "",
    component: Component | None = None,
    source: str = ChangeIdea.Source.TEAM,
    source_detail: str = "",
    drivers: Sequence[DriverNode] = (),
    site: Site | None = None,
    at: datetime | None = None,
) -> ChangeIdea:
    """Add a change idea: to the programme's package (no site) or to a site's own list."""
    if not (title or "").strip():
        raise ValidationError({"title": "Name the change idea."})
    if site is not None:
        _enrolled(programme, site)
    _idea_fields(programme, component, source)
    _check_drivers(programme, site, drivers)
    idea = ChangeIdea(
        programme=programme,
        site=site,
        title=title.strip(),
        description=description.strip(),
        component=component,
        source=source,
        source_detail=source_detail.strip(),
        created_at=at or timezone.now(),
    )
    idea.full_clean()
    idea.save()
    idea.drivers.set(drivers)
    record_event(
        actor,
        "change_idea.created",
        idea,
        programme=programme,
        site=site,
        payload={"title": idea.title, "component": component.name if component else None},
        at=at,
    )
    return idea


@transaction.atomic
def update_idea(
    actor: Actor,
    idea: ChangeIdea,
    *,
    expected_version: int,
    title: str | None = None,
    description: str | None = None,
    component: Component | None = None,
    clear_component: bool = False,
    source: str | None = None,
    source_detail: str | None = None,
    drivers: Sequence[DriverNode] | None = None,
    retired: bool | None = None,
) -> ChangeIdea:
    """Reword, reclassify, relink or retire a change idea (curating the package)."""
    was = idea.title
    if title is not None:
        if not title.strip():
            raise ValidationError(
                {"title": "Name the change idea; retire it instead of blanking it."}
            )
        idea.title = title.strip()
    if description is not None:
        idea.description = description.strip()
    if component is not None or clear_component:
        idea.component = component
    if source is not None:
        idea.source = source
    if source_detail is not None:
        idea.source_detail = source_detail.strip()
    if retired is not None:
        idea.retired = retired
    _idea_fields(idea.programme, idea.component, idea.source)
    _check_drivers(idea.programme, idea.site, drivers or ())
    idea.full_clean()
    if not ChangeIdea.objects.filter(pk=idea.pk, version=expected_version).update(
        version=F("version") + 1
    ):
        raise StaleEdit("This change idea")
    idea.version = expected_version + 1
    idea.save()
    if drivers is not None:
        idea.drivers.set(drivers)
    record_event(
        actor,
        "change_idea.retired" if retired else "change_idea.changed",
        idea,
        programme=idea.programme,
        site=idea.site_id,
        payload={"title": idea.title, "was": was, "version": idea.version},
    )
    return idea


@transaction.atomic
def copy_idea(
    actor: Actor, idea: ChangeIdea, to_site: Site, *, at: datetime | None = None
) -> ChangeIdea:
    """Copy an idea into a site's list; the copy remembers where it came from."""
    _enrolled(idea.programme, to_site)
    if idea.site_id == to_site.pk:
        raise ValidationError({"site": f"{to_site.code} already holds this idea."})
    if ChangeIdea.objects.filter(origin=idea, site=to_site).exists():
        raise ValidationError({"site": f"{to_site.code} has already copied this idea."})
    copy = ChangeIdea(
        programme=idea.programme,
        site=to_site,
        title=idea.title,
        description=idea.description,
        component=idea.component,
        source=ChangeIdea.Source.SITE if idea.site_id else idea.source,
        source_detail=(f"Copied from {idea.site.code}" if idea.site_id else idea.source_detail),
        origin=idea,
        created_at=at or timezone.now(),
    )
    copy.save()
    # the programme's drivers travel with the idea; another site's own drivers stay behind
    copy.drivers.set(idea.drivers.filter(site__isnull=True))
    record_event(
        actor,
        "change_idea.copied",
        copy,
        programme=idea.programme,
        site=to_site,
        payload={
            "title": copy.title,
            "from_idea": idea.pk,
            "from_site": idea.site.code if idea.site_id else None,
            "from_label": idea.site.name if idea.site_id else "the programme's change package",
        },
        at=at,
    )
    return copy


def _short(text: str, limit: int = 120) -> str:
    """The start of a long text, for a one-line timeline entry."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


CYCLE_TEXT_FIELDS = (
    "objective",
    "questions",
    "predictions",
    "plan_who",
    "plan_what",
    "plan_where",
    "plan_when",
    "data_plan",
    "do_observations",
    "study",
    "act_note",
    "adaptation",
    "attachments",
)


def _validate_cycle(cycle: PDSACycle) -> None:
    errors: dict[str, str] = {}
    idea = cycle.change_idea if cycle.change_idea_id else None
    if idea is None:
        errors["change_idea"] = "Choose the change idea this cycle tests."
    elif idea.programme_id != cycle.programme_id:
        errors["change_idea"] = "That change idea belongs to another programme."
    elif idea.site_id is not None and idea.site_id != cycle.site_id:
        errors["change_idea"] = (
            f"That idea belongs to {idea.site.code}; copy it to {cycle.site.code} first, "
            "so the spread of the idea is recorded."
        )
    if not cycle.objective.strip():
        errors["objective"] = "Say what this cycle sets out to learn or achieve."
    if cycle.start_date is None:
        errors["start_date"] = "Give the date the cycle starts."
    elif cycle.end_date is not None and cycle.end_date < cycle.start_date:
        errors["end_date"] = (
            f"The cycle ends before it starts ({cycle.start_date:%d %b %Y}); check the dates."
        )
    if cycle.act and cycle.act not in Act.values:
        errors["act"] = f"Unknown decision {cycle.act!r}: adopt, adapt or abandon."
    elif cycle.act and not cycle.study.strip():
        errors["act"] = "Write the study (results against predictions) before deciding what to do."
    elif cycle.act == Act.ADAPT and not cycle.adaptation.strip():
        errors["adaptation"] = "Say what you will adapt: other sites learn from it."
    if cycle.scale not in Scale.values:
        errors["scale"] = f"Unknown scale {cycle.scale!r}: test, implement or spread."
    parent = cycle.parent if cycle.parent_id else None
    if parent is not None:
        if parent.site_id != cycle.site_id or parent.programme_id != cycle.programme_id:
            errors["parent"] = "A cycle builds on an earlier cycle at the same site."
        elif cycle.pk is not None:
            seen, step = set(), parent
            while step is not None and step.pk not in seen:
                if step.pk == cycle.pk:
                    errors["parent"] = (
                        "That cycle already builds on this one; linking them would create a loop."
                    )
                    break
                seen.add(step.pk)
                step = step.parent
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_cycle(
    actor: Actor,
    programme: Programme,
    *,
    site: Site,
    change_idea: ChangeIdea | None,
    start_date: date | None,
    end_date: date | None = None,
    parent: PDSACycle | None = None,
    scale: str = Scale.TEST,
    act: str = "",
    measures: Iterable[Measure] = (),
    at: datetime | None = None,
    **text: str,
) -> PDSACycle:
    """Start a PDSA cycle at a site; it is numbered after the site's earlier cycles of the idea."""
    unknown = set(text) - set(CYCLE_TEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown cycle fields {unknown}")
    _enrolled(programme, site)
    cycle = PDSACycle(
        programme=programme,
        site=site,
        change_idea=change_idea,
        start_date=start_date,
        end_date=end_date,
        parent=parent,
        scale=scale,
        act=act or "",
        created_by=actor if actor is not None and actor.is_authenticated else None,
        **{k: (v or "").strip() for k, v in text.items()},
    )
    _validate_cycle(cycle)
    measures = _check_measures(programme, measures, "measures")
    cycle.cycle_no = (
        PDSACycle.objects.filter(site=site, change_idea=change_idea).aggregate(m=Max("cycle_no"))[
            "m"
        ]
        or 0
    ) + 1
    cycle.full_clean()
    cycle.save()
    cycle.measures.set(measures)
    record_event(
        actor,
        "pdsa.created",
        cycle,
        programme=programme,
        site=site,
        payload={
            "idea": change_idea.title,
            "cycle_no": cycle.cycle_no,
            "act": cycle.act,
            "objective": _short(cycle.objective),
        },
        at=at,
    )
    return cycle


@transaction.atomic
def update_cycle(
    actor: Actor,
    cycle: PDSACycle,
    *,
    expected_version: int,
    measures: Iterable[Measure] | None = None,
    at: datetime | None = None,
    **fields: Any,
) -> PDSACycle:
    """Write the next part of a cycle (do, study, act) or correct it."""
    allowed = set(CYCLE_TEXT_FIELDS) | {"start_date", "end_date", "parent", "scale", "act"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown cycle fields {unknown}")
    acted_before = cycle.act
    for name, value in fields.items():
        if name in CYCLE_TEXT_FIELDS:
            value = (value or "").strip()
        if name == "act":
            value = value or ""
        setattr(cycle, name, value)
    _validate_cycle(cycle)
    if measures is not None:
        measures = _check_measures(cycle.programme, measures, "measures")
    cycle.full_clean(exclude=["measures"])
    updated = PDSACycle.objects.filter(pk=cycle.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not updated:
        raise StaleEdit("This PDSA cycle")
    cycle.version = expected_version + 1
    cycle.save()
    if measures is not None:
        cycle.measures.set(measures)
    record_event(
        actor,
        "pdsa.acted" if cycle.act and cycle.act != acted_before else "pdsa.updated",
        cycle,
        programme=cycle.programme,
        site=cycle.site,
        payload={
            "idea": cycle.change_idea.title,
            "cycle_no": cycle.cycle_no,
            "act": cycle.act,
            "fields": sorted(fields),
        },
        at=at,
    )
    return cycle


@transaction.atomic
def record_progress_score(
    actor: Actor,
    programme: Programme,
    *,
    site: Site,
    month: date,
    rater: str,
    score: Decimal | str | float,
    note: str = "",
    expected_version: int | None = None,
    at: datetime | None = None,
) -> ProgressScore:
    """Enter (or correct) one rater's score for a site and month."""
    errors: dict[str, str] = {}
    if rater not in ProgressScore.Rater.values:
        errors["rater"] = f"Unknown rater {rater!r}: team or facilitator."
    try:
        value = Decimal(str(score)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or value not in {v for v, _ in ProgressScore.SCALE}:
        errors["score"] = "Choose a score on the scale: 1.0 to 5.0 in steps of 0.5."
    if month is None:
        errors["month"] = "Choose the month rated."
    if errors:
        raise ValidationError(errors)
    _enrolled(programme, site)
    month = month.replace(day=1)
    existing = ProgressScore.objects.filter(
        programme=programme, site=site, month=month, rater=rater
    ).first()
    fields = {
        "score": value,
        "note": (note or "").strip(),
        "entered_by": actor if actor is not None and actor.is_authenticated else None,
    }
    if existing is None:
        row = ProgressScore.objects.create(
            programme=programme, site=site, month=month, rater=rater, **fields
        )
    else:
        version = expected_version if expected_version is not None else existing.version
        if not ProgressScore.objects.filter(pk=existing.pk, version=version).update(
            version=F("version") + 1, **fields
        ):
            raise StaleEdit("This month's score")
        row = ProgressScore.objects.get(pk=existing.pk)
    record_event(
        actor,
        "progress_score.recorded",
        row,
        programme=programme,
        site=site,
        payload={
            "month": month.isoformat(),
            "month_label": f"{month:%B %Y}",
            "rater": rater,
            "rater_label": ProgressScore.Rater(rater).label.lower(),
            "score": str(value),
        },
        at=at,
    )
    return row
