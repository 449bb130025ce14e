"""Pages of the Model for Improvement: driver diagram, change package, PDSA cycles, progress scores."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from spreadscale.web import permissions
from spreadscale.web.core.models import Phase, Site
from spreadscale.web.core.selectors import site_rows
from spreadscale.web.forms import add_errors
from spreadscale.web.improvement import actions, diagram, selectors
from spreadscale.web.improvement.forms import (
    CopyForm,
    CycleForm,
    IdeaEditForm,
    IdeaForm,
    NodeForm,
    ScoreForm,
)
from spreadscale.web.improvement.models import Act, ChangeIdea, DriverNode, PDSACycle, ProgressScore


def _site_choices(access: permissions.Access, allowed) -> list[tuple[int, str]]:
    return [
        (r.enrolment.site_id, f"{r.enrolment.site.name} ({r.enrolment.site.code})")
        for r in site_rows(access.programme)
        if allowed(r.enrolment.site_id)
    ]


def _diagram_site(access: permissions.Access, code: str) -> Site | None:
    if not code:
        return None
    try:
        site = Site.objects.get(code=code)
    except Site.DoesNotExist:
        raise Http404("No such site.") from None
    permissions.enrolment_for(access, site.pk)
    if not access.can_read_site(site.pk):  # a site's own diagram is its team's working data
        raise Http404("No such site.")
    return site


def _can_edit_node(access: permissions.Access, site_id: int | None) -> bool:
    return access.can_manage_programme if site_id is None else access.can_edit_site(site_id)


@login_required
def driver_diagram(request: HttpRequest, slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    site = _diagram_site(access, request.GET.get("site", ""))
    return _render_diagram(request, access, site)


def _render_diagram(request, access, site, bound: NodeForm | None = None, status: int = 200):
    programme = access.programme
    d = diagram.load(programme, site)
    editable = _can_edit_node(access, site.pk if site else None)
    scope = DriverNode.objects.filter(programme=programme, site=site).prefetch_related(
        "parents", "measures", "revisions"
    )
    nodes = list(scope.order_by("retired", "kind", "order", "pk"))
    edit_forms = []
    for n in nodes:
        form = bound if bound is not None and bound.prefix == f"node{n.pk}" else None
        if form is None and editable:
            form = NodeForm(
                programme=programme,
                site=site,
                node=n,
                initial={
                    "text": n.text,
                    "detail": n.detail,
                    "due": n.due,
                    "parents": list(n.parents.all()),
                    "measures": list(n.measures.all()),
                    "order": n.order,
                    "retired": n.retired,
                    "version": n.version,
                },
            )
        edit_forms.append((n, form))
    add_form = bound if bound is not None and bound.prefix == "add" else None
    if add_form is None and editable:
        add_form = NodeForm(
            programme=programme, site=site, initial={"kind": DriverNode.Kind.SECONDARY}
        )
    sites = [
        (r.enrolment.site.code, f"{r.enrolment.site.name} ({r.enrolment.site.code})")
        for r in site_rows(programme)
        if access.can_read_site(r.enrolment.site_id)
    ]
    return render(
        request,
        "improvement/driver_diagram.html",
        {
            "access": access,
            "programme": programme,
            "site": site,
            "svg": mark_safe(diagram.svg(d)),  # built by diagram.svg, every text escaped
            "outline": diagram.outline(d),
            "edit_forms": edit_forms,
            "add_form": add_form,
            "editable": editable,
            "sites": sites,
        },
        status=status,
    )


@login_required
def driver_diagram_svg(request: HttpRequest, slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    site = _diagram_site(access, request.GET.get("site", ""))
    response = HttpResponse(
        diagram.svg(diagram.load(access.programme, site)), content_type="image/svg+xml"
    )
    name = f"driver-diagram-{access.programme.slug}{'-' + site.code if site else ''}.svg"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@login_required
def node_save(request: HttpRequest, slug: str, node_id: int | None = None) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    programme = access.programme
    node = None
    if node_id is not None:
        try:
            node = DriverNode.objects.select_related("site").get(pk=node_id, programme=programme)
        except DriverNode.DoesNotExist:
            raise Http404("No such box in this diagram.") from None
        site = node.site
    else:
        site = _diagram_site(access, request.POST.get("site", ""))
    access.require(_can_edit_node(access, site.pk if site else None))
    form = NodeForm(request.POST, programme=programme, site=site, node=node)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if node is None:
                actions.add_node(
                    request.user,
                    programme,
                    kind=data["kind"],
                    text=data["text"],
                    detail=data["detail"],
                    due=data["due"],
                    parents=list(data["parents"]),
                    measures=list(data["measures"]),
                    order=data["order"],
                    site=site,
                )
                messages.success(request, f"Added '{data['text']}' to the diagram.")
            else:
                actions.edit_node(
                    request.user,
                    node,
                    expected_version=data["version"] or 0,
                    text=data["text"],
                    detail=data["detail"],
                    due=data["due"],
                    parents=list(data["parents"]),
                    measures=list(data["measures"]),
                    order=data["order"],
                    retired=data["retired"],
                )
                messages.success(request, f"Saved '{node.text}'.")
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            url = reverse("driver_diagram", kwargs={"slug": slug})
            return redirect(url + (f"?site={site.code}" if site else ""))
    return _render_diagram(request, access, site, bound=form, status=422)


def _holders(access: permissions.Access) -> list[tuple[str, str]]:
    out = [("programme", "The programme's change package")] if access.can_manage_programme else []
    return out + [(str(s), name) for s, name in _site_choices(access, access.can_edit_site)]


@login_required
def change_package(request: HttpRequest, slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    programme = access.programme
    filters = {k: request.GET.get(k, "") for k in ("q", "component", "region", "phase", "outcome")}
    entries = selectors.change_package(access, **filters)
    holders = _holders(access)
    form = None
    status = 200
    if request.method == "POST":
        access.require(bool(holders))
        form = IdeaForm(request.POST, programme=programme, holders=holders)
        if form.is_valid():
            data = form.cleaned_data
            holder = "" if data["holder"] == "programme" else data["holder"]
            access.require(
                access.can_edit_site(int(holder)) if holder else access.can_manage_programme
            )
            try:
                idea = actions.create_idea(
                    request.user,
                    programme,
                    title=data["title"],
                    description=data["description"],
                    component=data["component"],
                    source=data["source"],
                    source_detail=data["source_detail"],
                    drivers=list(data["drivers"]),
                    site=Site.objects.get(pk=int(holder)) if holder else None,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Added the change idea '{idea.title}'.")
                return redirect("idea_detail", slug=slug, idea_id=idea.pk)
        status = 422
    elif holders:
        form = IdeaForm(programme=programme, holders=holders)
    rows = site_rows(programme)
    return render(
        request,
        "improvement/change_package.html",
        {
            "access": access,
            "programme": programme,
            "entries": entries,
            "spread": selectors.idea_spread(programme),
            "filters": filters,
            "form": form,
            "components": programme.interventions.first().components.all()
            if programme.interventions.exists()
            else [],
            "regions": sorted(
                {r.region.code: r.region for r in rows if r.region}.values(), key=lambda s: s.code
            ),
            "phases": Phase.choices,
            "outcomes": [*Act.choices, ("open", "Still testing")],
        },
        status=status,
    )


def _idea(access: permissions.Access, idea_id: int) -> ChangeIdea:
    try:
        return ChangeIdea.objects.select_related("site", "component", "origin__site").get(
            pk=idea_id, programme=access.programme
        )
    except ChangeIdea.DoesNotExist:
        raise Http404("No such change idea in this programme.") from None


def _can_curate(access: permissions.Access, idea: ChangeIdea) -> bool:
    """The lead curates the programme's package; a site team its own ideas."""
    return access.can_edit_site(idea.site_id) if idea.site_id else access.can_manage_programme


def _edit_form(idea: ChangeIdea, programme) -> IdeaEditForm:
    return IdeaEditForm(
        programme=programme,
        site_id=idea.site_id,
        initial={
            "title": idea.title,
            "description": idea.description,
            "component": idea.component_id,
            "source": idea.source,
            "source_detail": idea.source_detail,
            "drivers": list(idea.drivers.all()),
            "retired": idea.retired,
            "version": idea.version,
        },
    )


@require_POST
@login_required
def idea_edit(request: HttpRequest, slug: str, idea_id: int) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    idea = _idea(access, idea_id)
    access.require(_can_curate(access, idea))
    form = IdeaEditForm(request.POST, programme=access.programme, site_id=idea.site_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.update_idea(
                request.user,
                idea,
                expected_version=data["version"],
                title=data["title"],
                description=data["description"],
                component=data["component"],
                clear_component=data["component"] is None,
                source=data["source"],
                source_detail=data["source_detail"],
                drivers=list(data["drivers"]),
                retired=data["retired"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Saved the change idea '{idea.title}'.")
            return redirect("idea_detail", slug=slug, idea_id=idea.pk)
    idea.refresh_from_db()
    return idea_detail(request, slug, idea_id, edit_form=form)


@login_required
def idea_detail(
    request: HttpRequest, slug: str, idea_id: int, edit_form: IdeaEditForm | None = None
) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    idea = _idea(access, idea_id)
    targets = [
        (s, name) for s, name in _site_choices(access, access.can_edit_site) if s != idea.site_id
    ]
    form = CopyForm(sites=targets) if targets else None
    status = 422 if edit_form is not None else 200
    if edit_form is None and _can_curate(access, idea):
        edit_form = _edit_form(idea, access.programme)
    if request.method == "POST" and status == 200:
        access.require(bool(targets))
        form = CopyForm(request.POST, sites=targets)
        if form.is_valid():
            try:
                copy = actions.copy_idea(
                    request.user, idea, Site.objects.get(pk=int(form.cleaned_data["site"]))
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Copied '{idea.title}' to {copy.site.name}.")
                return redirect("idea_detail", slug=slug, idea_id=copy.pk)
        status = 422
    cycles = selectors.cycles_for(access, change_idea=idea)
    copies = list(idea.copies.select_related("site"))
    return render(
        request,
        "improvement/idea_detail.html",
        {
            "access": access,
            "programme": access.programme,
            "idea": idea,
            "cycles": cycles,
            "copies": copies,
            "drivers": list(idea.drivers.all()),
            "form": form,
            "edit_form": edit_form,
            "can_start_cycle": (
                idea.site_id is None
                and any(
                    access.can_edit_site(s) for s, _ in _site_choices(access, access.can_edit_site)
                )
            )
            or (idea.site_id is not None and access.can_edit_site(idea.site_id)),
        },
        status=status,
    )


def _cycle_kwargs(data: dict) -> dict:
    keys = [
        "objective", "questions", "predictions", "plan_who", "plan_what", "plan_where",
        "plan_when", "data_plan", "do_observations", "study", "act_note", "adaptation",
        "attachments", "start_date", "end_date", "parent", "scale", "act",
    ]  # fmt: skip
    return {k: data[k] for k in keys}


@login_required
def pdsa_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    programme = access.programme
    sites = _site_choices(access, access.can_edit_site)
    access.require(bool(sites))
    if request.method == "POST":
        form = CycleForm(request.POST, programme=programme, sites=sites)
        if form.is_valid():
            data = form.cleaned_data
            site = Site.objects.get(pk=int(data["site"]))
            try:
                cycle = actions.create_cycle(
                    request.user,
                    programme,
                    site=site,
                    change_idea=data["change_idea"],
                    measures=list(data["measures"]),
                    **_cycle_kwargs(data),
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Started {cycle} at {site.name}.")
                return redirect("pdsa_detail", slug=slug, cycle_id=cycle.pk)
        status = 422
    else:
        initial = {"scale": "test"}
        for key in ("site", "change_idea", "parent"):
            if request.GET.get(key, "").isdigit():
                initial[key] = int(request.GET[key])
        if "change_idea" in initial:
            idea = ChangeIdea.objects.filter(pk=initial["change_idea"], programme=programme).first()
            if idea is not None and idea.site_id and "site" not in initial:
                initial["site"] = idea.site_id
        form = CycleForm(programme=programme, sites=sites, initial=initial)
        status = 200
    return render(
        request,
        "improvement/pdsa_form.html",
        {"access": access, "programme": programme, "form": form, "cycle": None},
        status=status,
    )


def _cycle(access: permissions.Access, cycle_id: int) -> PDSACycle:
    try:
        cycle = PDSACycle.objects.select_related("site", "change_idea", "parent", "created_by").get(
            pk=cycle_id, programme=access.programme
        )
    except PDSACycle.DoesNotExist:
        raise Http404("No such PDSA cycle.") from None
    if not access.can_read_site(cycle.site_id):
        raise Http404("No such PDSA cycle.")
    return cycle


@login_required
def pdsa_detail(request: HttpRequest, slug: str, cycle_id: int) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    cycle = _cycle(access, cycle_id)
    can_edit = access.can_edit_site(cycle.site_id)
    sites = [(cycle.site_id, f"{cycle.site.name} ({cycle.site.code})")]
    form = None
    status = 200
    if request.method == "POST":
        access.require(can_edit)
        form = CycleForm(request.POST, programme=access.programme, sites=sites)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["change_idea"] is None or data["change_idea"].pk != cycle.change_idea_id:
                    raise ValidationError(
                        {
                            "change_idea": "A cycle keeps the idea it tested; start a new cycle for another idea."
                        }
                    )
                actions.update_cycle(
                    request.user,
                    cycle,
                    expected_version=data["version"] or 0,
                    measures=list(data["measures"]),
                    **_cycle_kwargs(data),
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"Saved {cycle}.")
                return redirect("pdsa_detail", slug=slug, cycle_id=cycle.pk)
        status = 422
        cycle.refresh_from_db()
    elif can_edit:
        initial: dict = {}
        for name in (
            "objective", "questions", "predictions", "plan_who", "plan_what", "plan_where",
            "plan_when", "data_plan", "do_observations", "study", "act_note", "adaptation",
            "attachments", "start_date", "end_date", "scale", "act", "version",
        ):  # fmt: skip
            initial[name] = getattr(cycle, name)
        initial.update(
            site=cycle.site_id,
            change_idea=cycle.change_idea_id,
            parent=cycle.parent_id,
            measures=list(cycle.measures.all()),
        )
        form = CycleForm(programme=access.programme, sites=sites, initial=initial)
    ramp = []
    step, seen = cycle, set()
    while step is not None and step.pk not in seen:  # back along the ramp to its first cycle
        seen.add(step.pk)
        ramp.insert(0, step)
        step = step.parent
    return render(
        request,
        "improvement/pdsa_detail.html",
        {
            "access": access,
            "programme": access.programme,
            "cycle": cycle,
            "ramp": ramp,
            "next_cycles": list(cycle.next_cycles.select_related("change_idea")),
            "around": selectors.observations_around(access, cycle),
            "form": form,
            "can_edit": can_edit,
        },
        status=status,
    )


def _correcting(access: permissions.Access, request: HttpRequest) -> dict:
    """The form's starting values when correcting a score (?correct=<id>), with its version."""
    pk = request.GET.get("correct", "")
    score = (
        ProgressScore.objects.filter(programme=access.programme, pk=int(pk)).first()
        if pk.isdigit()
        else None
    )
    if score is None or not access.can_rate_progress(score.site_id, score.rater):
        return {}
    return {
        "site": score.site_id,
        "month": f"{score.month:%Y-%m}",
        "rater": score.rater,
        "score": str(score.score),
        "note": score.note,
        "version": score.version,
    }


@login_required
def progress(request: HttpRequest, slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    programme = access.programme
    raters = [
        (value, label)
        for value, label in ProgressScore.Rater.choices
        if any(access.can_rate_progress(s, value) for s, _ in _site_choices(access, lambda _: True))
    ]
    sites = _site_choices(access, lambda s: any(access.can_rate_progress(s, r) for r, _ in raters))
    form = (
        ScoreForm(sites=sites, raters=raters, initial=_correcting(access, request))
        if sites
        else None
    )
    status = 200
    if request.method == "POST":
        access.require(bool(sites))
        form = ScoreForm(request.POST, sites=sites, raters=raters)
        if form.is_valid():
            data = form.cleaned_data
            site_id = int(data["site"])
            access.require(access.can_rate_progress(site_id, data["rater"]))
            try:
                actions.record_progress_score(
                    request.user,
                    programme,
                    site=Site.objects.get(pk=site_id),
                    month=data["month"],
                    rater=data["rater"],
                    score=data["score"],
                    note=data["note"],
                    # a new score expects none yet (version 0); a correction the one it read
                    expected_version=data["version"] or 0,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "Score recorded.")
                return redirect("progress_scores", slug=slug)
        status = 422
    site_filter = request.GET.get("site", "")
    only = _diagram_site(access, site_filter)
    rows, distribution = selectors.score_months(access, only.pk if only else None)
    for r in rows:  # which of the two scores this user may correct
        for rater in ProgressScore.Rater.values:
            r[f"{rater}_editable"] = bool(r.get(rater)) and access.can_rate_progress(
                r["site"].pk, rater
            )
    return render(
        request,
        "improvement/progress.html",
        {
            "access": access,
            "programme": programme,
            "rows": rows,
            "distribution": distribution[:12],
            "scale": ProgressScore.SCALE,
            "form": form,
            "site_filter": site_filter,
            "readable_sites": [
                (r.enrolment.site.code, f"{r.enrolment.site.name} ({r.enrolment.site.code})")
                for r in site_rows(programme)
                if access.can_read_site(r.enrolment.site_id)
            ],
        },
        status=status,
    )
