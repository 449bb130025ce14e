"""API: driver diagrams, change ideas and the change package, PDSA cycles, progress scores."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from spreadscale.web import permissions
from spreadscale.web.core.models import Component, Enrolment, Site
from spreadscale.web.improvement import actions, selectors
from spreadscale.web.improvement.models import ChangeIdea, DriverNode, PDSACycle, ProgressScore
from spreadscale.web.measurement.models import Measure

router = Router(tags=["improvement"])


class NodeOut(Schema):
    id: int
    kind: str
    text: str
    detail: str
    due: date | None
    site: str | None
    parents: list[int]
    measures: list[str]
    order: int
    retired: bool
    version: int


class NodeIn(Schema):
    kind: str
    text: str
    detail: str = ""
    due: date | None = None
    site: str | None = None
    parents: list[int] = []
    measures: list[str] = []
    order: int | None = None


class NodePatch(Schema):
    version: int
    text: str | None = None
    detail: str | None = None
    due: date | None = None
    parents: list[int] | None = None
    measures: list[str] | None = None
    order: int | None = None
    retired: bool | None = None


class IdeaOut(Schema):
    id: int
    title: str
    description: str
    site: str | None
    component: str | None
    component_kind: str | None
    source: str
    source_detail: str
    origin: int | None
    drivers: list[int]
    retired: bool
    version: int


class IdeaIn(Schema):
    title: str
    description: str = ""
    site: str | None = None
    component: int | None = None
    source: str = "team"
    source_detail: str = ""
    drivers: list[int] = []


class IdeaPatch(Schema):
    version: int
    title: str | None = None
    description: str | None = None
    component: int | None = None
    source: str | None = None
    source_detail: str | None = None
    drivers: list[int] | None = None
    retired: bool | None = None


class SpreadOut(Schema):
    idea_id: int
    title: str
    from_site: str | None
    to_site: str
    on: date


class CopyIn(Schema):
    site: str


class SiteTestOut(Schema):
    site: str
    region: str
    phase: str
    cycles: int
    first_cycle: date | None
    last_act: str
    adaptations: list[str] | None
    measures: dict[str, str] | None


class PackageOut(Schema):
    idea: IdeaOut
    sites_tested: int
    cycles: int
    copies: int
    acts: dict[str, int]
    measures: dict[str, dict[str, int]]
    tests: list[SiteTestOut]


class CycleOut(Schema):
    id: int
    site: str
    change_idea: int
    cycle_no: int
    parent: int | None
    objective: str
    questions: str
    predictions: str
    plan_who: str
    plan_what: str
    plan_where: str
    plan_when: str
    data_plan: str
    do_observations: str
    study: str
    act: str
    act_note: str
    adaptation: str
    scale: str
    start_date: date
    end_date: date | None
    attachments: str
    measures: list[str]
    version: int


class CycleIn(Schema):
    site: str
    change_idea: int | None = None
    parent: int | None = None
    objective: str = ""
    questions: str = ""
    predictions: str = ""
    plan_who: str = ""
    plan_what: str = ""
    plan_where: str = ""
    plan_when: str = ""
    data_plan: str = ""
    do_observations: str = ""
    study: str = ""
    act: str = ""
    act_note: str = ""
    adaptation: str = ""
    scale: str = "test"
    start_date: date | None = None
    end_date: date | None = None
    attachments: str = ""
    measures: list[str] = []


class CyclePatch(Schema):
    version: int
    parent: int | None = None
    objective: str | None = None
    questions: str | None = None
    predictions: str | None = None
    plan_who: str | None = None
    plan_what: str | None = None
    plan_where: str | None = None
    plan_when: str | None = None
    data_plan: str | None = None
    do_observations: str | None = None
    study: str | None = None
    act: str | None = None
    act_note: str | None = None
    adaptation: str | None = None
    scale: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    attachments: str | None = None
    measures: list[str] | None = None


class ScoreOut(Schema):
    site: str
    month: date
    rater: str
    score: Decimal
    note: str
    version: int


class ScoreIn(Schema):
    site: str
    month: date
    rater: str
    score: Decimal
    note: str = ""
    version: int | None = None


def _site(access: permissions.Access, code: str, field: str = "site") -> Site:
    site = Site.objects.filter(code=code).first()
    if site is None or not Enrolment.objects.filter(programme=access.programme, site=site).exists():
        raise ValidationError({field: f"No site {code!r} in this programme."})
    return site


def _measures(access: permissions.Access, slugs: list[str]) -> list[Measure]:
    found = {m.slug: m for m in Measure.objects.filter(programme=access.programme, slug__in=slugs)}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise ValidationError({"measures": f"No measure {missing[0]!r} in this programme."})
    return [found[s] for s in slugs]


def _nodes(access: permissions.Access, ids: list[int], field: str) -> list[DriverNode]:
    """Driver diagram nodes by id; an unknown id is refused under the field that sent it."""
    found = DriverNode.objects.in_bulk(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError({field: f"No driver diagram node {missing[0]}."})
    return [found[i] for i in ids]


def _node(n: DriverNode) -> dict:
    return {
        "id": n.pk,
        "kind": n.kind,
        "text": n.text,
        "detail": n.detail,
        "due": n.due,
        "site": n.site.code if n.site_id else None,
        "parents": [p.pk for p in n.parents.all()],
        "measures": [m.slug for m in n.measures.all()],
        "order": n.order,
        "retired": n.retired,
        "version": n.version,
    }


def _can_edit_node(access: permissions.Access, site_id: int | None) -> bool:
    return access.can_manage_programme if site_id is None else access.can_edit_site(site_id)


@router.get("/programmes/{slug}/drivers", response=list[NodeOut])
def list_nodes(request: HttpRequest, slug: str):
    """Every node of the programme's diagram and of the sites' diagrams you may read."""
    access = permissions.access_for(request.user, slug)
    nodes = DriverNode.objects.filter(programme=access.programme).select_related("site")
    nodes = nodes.prefetch_related("parents", "measures")
    return [_node(n) for n in nodes if n.site_id is None or access.can_read_site(n.site_id)]


@router.post("/programmes/{slug}/drivers", response={201: NodeOut})
def add_node(request: HttpRequest, slug: str, body: NodeIn):
    access = permissions.access_for(request.user, slug)
    site = _site(access, body.site) if body.site else None
    access.require(_can_edit_node(access, site.pk if site else None))
    node = actions.add_node(
        request.user,
        access.programme,
        kind=body.kind,
        text=body.text,
        detail=body.detail,
        due=body.due,
        site=site,
        parents=_nodes(access, body.parents, "parents"),
        measures=_measures(access, body.measures),
        order=body.order,
    )
    return Status(201, _node(node))


@router.patch("/programmes/{slug}/drivers/{node_id}", response=NodeOut)
def edit_node(request: HttpRequest, slug: str, node_id: int, body: NodePatch):
    """Reword, reorder, relink or retire a node. Send the version you read (409-style 422 if stale)."""
    access = permissions.access_for(request.user, slug)
    node = DriverNode.objects.filter(pk=node_id, programme=access.programme).first()
    if node is None:
        raise Http404("No such node.")
    access.require(_can_edit_node(access, node.site_id))
    node = actions.edit_node(
        request.user,
        node,
        expected_version=body.version,
        text=body.text,
        detail=body.detail,
        due=body.due,
        parents=_nodes(access, body.parents, "parents") if body.parents is not None else None,
        measures=_measures(access, body.measures) if body.measures is not None else None,
        order=body.order,
        retired=body.retired,
    )
    return _node(node)


def _idea(i: ChangeIdea) -> dict:
    return {
        "id": i.pk,
        "title": i.title,
        "description": i.description,
        "site": i.site.code if i.site_id else None,
        "component": i.component.name if i.component_id else None,
        "component_kind": i.component.kind if i.component_id else None,
        "source": i.source,
        "source_detail": i.source_detail,
        "origin": i.origin_id,
        "drivers": [d.pk for d in i.drivers.all()],
        "retired": i.retired,
        "version": i.version,
    }


@router.get("/programmes/{slug}/change-ideas", response=list[IdeaOut])
def list_ideas(request: HttpRequest, slug: str):
    access = permissions.access_for(request.user, slug)
    ideas = ChangeIdea.objects.filter(programme=access.programme).select_related(
        "site", "component"
    )
    return [_idea(i) for i in ideas.prefetch_related("drivers")]


@router.post("/programmes/{slug}/change-ideas", response={201: IdeaOut})
def create_idea(request: HttpRequest, slug: str, body: IdeaIn):
    """Programme ideas (no site) are curated by the lead; a site team adds its own."""
    access = permissions.access_for(request.user, slug)
    site = _site(access, body.site) if body.site else None
    access.require(access.can_edit_site(site.pk) if site else access.can_manage_programme)
    component = None
    if body.component is not None:
        component = Component.objects.filter(
            pk=body.component, intervention__programme=access.programme
        ).first()
        if component is None:
            raise ValidationError(
                {"component": f"No component {body.component} in this programme."}
            )
    idea = actions.create_idea(
        request.user,
        access.programme,
        title=body.title,
        description=body.description,
        site=site,
        component=component,
        source=body.source,
        source_detail=body.source_detail,
        drivers=_nodes(access, body.drivers, "drivers"),
    )
    return Status(201, _idea(idea))


@router.patch("/programmes/{slug}/change-ideas/{idea_id}", response=IdeaOut)
def update_idea(request: HttpRequest, slug: str, idea_id: int, body: IdeaPatch):
    """Curate an idea: the lead for the programme's package, a site team for its own ideas."""
    access = permissions.access_for(request.user, slug)
    idea = ChangeIdea.objects.filter(pk=idea_id, programme=access.programme).first()
    if idea is None:
        raise Http404("No such change idea.")
    access.require(
        access.can_edit_site(idea.site_id) if idea.site_id else access.can_manage_programme
    )
    component = None
    if body.component is not None:
        component = Component.objects.filter(
            pk=body.component, intervention__programme=access.programme
        ).first()
        if component is None:
            raise ValidationError(
                {"component": f"No component {body.component} in this programme."}
            )
    idea = actions.update_idea(
        request.user,
        idea,
        expected_version=body.version,
        title=body.title,
        description=body.description,
        component=component,
        clear_component="component" in body.model_fields_set and body.component is None,
        source=body.source,
        source_detail=body.source_detail,
        drivers=_nodes(access, body.drivers, "drivers") if body.drivers is not None else None,
        retired=body.retired,
    )
    return _idea(idea)


@router.post("/programmes/{slug}/change-ideas/{idea_id}/copy", response={201: IdeaOut})
def copy_idea(request: HttpRequest, slug: str, idea_id: int, body: CopyIn):
    """Copy an idea to one of your sites; the copy keeps its origin."""
    access = permissions.access_for(request.user, slug)
    idea = ChangeIdea.objects.filter(pk=idea_id, programme=access.programme).first()
    if idea is None:
        raise Http404("No such change idea.")
    site = _site(access, body.site)
    access.require(access.can_edit_site(site.pk))
    return Status(201, _idea(actions.copy_idea(request.user, idea, site)))


@router.get("/programmes/{slug}/idea-spread", response=list[SpreadOut])
def idea_spread(request: HttpRequest, slug: str):
    """Edges of the spread network of ideas: each copy, from the site it came from to the copier."""
    access = permissions.access_for(request.user, slug)
    return selectors.idea_spread(access.programme)


@router.get("/programmes/{slug}/change-package", response=list[PackageOut])
def change_package(
    request: HttpRequest,
    slug: str,
    q: str = "",
    component: str = "",
    region: str = "",
    phase: str = "",
    outcome: str = "",
):
    """Each idea with where it was tested, what the sites concluded and what the measures did.

    Counts cover every site; a site's adaptations and measure signals only where you may read it.
    """
    access = permissions.access_for(request.user, slug)
    entries = selectors.change_package(
        access, q=q, component=component, region=region, phase=phase, outcome=outcome
    )
    return [
        {
            "idea": _idea(e.idea),
            "sites_tested": len(e.tests),
            "cycles": e.cycles,
            "copies": e.copies,
            "acts": dict(e.acts),
            "measures": {k: dict(v) for k, v in e.signal_counts().items()},
            "tests": [
                {
                    "site": t.code,
                    "region": t.region,
                    "phase": t.phase,
                    "cycles": t.cycles,
                    "first_cycle": t.first,
                    "last_act": t.last_act,
                    "adaptations": t.adaptations if t.readable else None,
                    "measures": t.signals if t.readable else None,
                }
                for t in e.tests
            ],
        }
        for e in entries
    ]


def _cycle(c: PDSACycle) -> dict:
    out = {
        f: getattr(c, f)
        for f in CycleOut.model_fields
        if f not in {"site", "change_idea", "parent", "measures", "id"}
    }
    out.update(
        id=c.pk,
        site=c.site.code,
        change_idea=c.change_idea_id,
        parent=c.parent_id,
        measures=[m.slug for m in c.measures.all()],
    )
    return out


def _readable_cycle(access: permissions.Access, cycle_id: int) -> PDSACycle:
    c = (
        PDSACycle.objects.select_related("site")
        .filter(pk=cycle_id, programme=access.programme)
        .first()
    )
    if c is None or not access.can_read_site(c.site_id):
        raise Http404("No such PDSA cycle.")
    return c


@router.get("/programmes/{slug}/pdsa-cycles", response=list[CycleOut])
def list_cycles(request: HttpRequest, slug: str, site: str = "", change_idea: int | None = None):
    access = permissions.access_for(request.user, slug)
    qs = PDSACycle.objects.filter(access.readable_site_filter(), programme=access.programme)
    if site:
        qs = qs.filter(site__code=site)
    if change_idea is not None:
        qs = qs.filter(change_idea_id=change_idea)
    return [_cycle(c) for c in qs.select_related("site").prefetch_related("measures")]


@router.get("/programmes/{slug}/pdsa-cycles/{cycle_id}", response=CycleOut)
def get_cycle(request: HttpRequest, slug: str, cycle_id: int):
    access = permissions.access_for(request.user, slug)
    return _cycle(_readable_cycle(access, cycle_id))


def _parent(access: permissions.Access, parent_id: int | None) -> PDSACycle | None:
    if parent_id is None:
        return None
    parent = PDSACycle.objects.filter(pk=parent_id, programme=access.programme).first()
    if parent is None:
        raise ValidationError({"parent": f"No PDSA cycle {parent_id} in this programme."})
    return parent


@router.post("/programmes/{slug}/pdsa-cycles", response={201: CycleOut})
def create_cycle(request: HttpRequest, slug: str, body: CycleIn):
    access = permissions.access_for(request.user, slug)
    site = _site(access, body.site)
    access.require(access.can_edit_site(site.pk))
    idea = None
    if body.change_idea is not None:
        idea = ChangeIdea.objects.filter(pk=body.change_idea, programme=access.programme).first()
        if idea is None:
            raise ValidationError(
                {"change_idea": f"No change idea {body.change_idea} in this programme."}
            )
    data = body.dict(exclude={"site", "change_idea", "parent", "measures"})
    cycle = actions.create_cycle(
        request.user,
        access.programme,
        site=site,
        change_idea=idea,
        parent=_parent(access, body.parent),
        measures=_measures(access, body.measures),
        **data,
    )
    return Status(201, _cycle(cycle))


@router.patch("/programmes/{slug}/pdsa-cycles/{cycle_id}", response=CycleOut)
def update_cycle(request: HttpRequest, slug: str, cycle_id: int, body: CyclePatch):
    """Write the do, study and act of a cycle; send the version you read."""
    access = permissions.access_for(request.user, slug)
    cycle = _readable_cycle(access, cycle_id)
    access.require(access.can_edit_site(cycle.site_id))
    fields = body.dict(exclude_unset=True, exclude={"version", "measures", "parent"})
    if "parent" in body.model_fields_set:
        fields["parent"] = _parent(access, body.parent)
    cycle = actions.update_cycle(
        request.user,
        cycle,
        expected_version=body.version,
        measures=_measures(access, body.measures) if body.measures is not None else None,
        **fields,
    )
    return _cycle(cycle)


@router.get("/programmes/{slug}/progress-scores", response=list[ScoreOut])
def list_scores(request: HttpRequest, slug: str, site: str = ""):
    access = permissions.access_for(request.user, slug)
    qs = ProgressScore.objects.filter(access.readable_site_filter(), programme=access.programme)
    if site:
        qs = qs.filter(site__code=site)
    return [
        {
            "site": s.site.code,
            "month": s.month,
            "rater": s.rater,
            "score": s.score,
            "note": s.note,
            "version": s.version,
        }
        for s in qs.select_related("site")
    ]


@router.post("/programmes/{slug}/progress-scores", response={201: ScoreOut})
def record_score(request: HttpRequest, slug: str, body: ScoreIn):
    """The team's self-assessment or the facilitator's rating for one month (replaces an earlier one)."""
    access = permissions.access_for(request.user, slug)
    site = _site(access, body.site)
    access.require(access.can_rate_progress(site.pk, body.rater))
    s = actions.record_progress_score(
        request.user,
        access.programme,
        site=site,
        month=body.month,
        rater=body.rater,
        score=body.score,
        note=body.note,
        expected_version=body.version,
    )
    return Status(
        201,
        {
            "site": site.code,
            "month": s.month,
            "rater": s.rater,
            "score": s.score,
            "note": s.note,
            "version": s.version,
        },
    )
