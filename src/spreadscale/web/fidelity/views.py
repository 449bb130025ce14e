"""Pages of fidelity and adaptation: the cross-site view, site histories, the adaptation log,
before/after evidence and stage gates."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from spreadscale.charts.spc import spc_spec
from spreadscale.web import permissions
from spreadscale.web.core import actions as core_actions
from spreadscale.web.core import selectors as core_selectors
from spreadscale.web.core.models import Component, Intervention, Phase
from spreadscale.web.fidelity import actions, reports
from spreadscale.web.fidelity.forms import (
    AdaptationForm,
    AdoptForm,
    AssessmentCorrectionForm,
    AssessmentForm,
    ComponentForm,
    GatedPhaseForm,
    StageGateForm,
)
from spreadscale.web.fidelity.models import Adaptation, FidelityAssessment, StageGate
from spreadscale.web.fidelity.selectors import (
    components_in_use,
    evidence,
    readable_adaptations,
)
from spreadscale.web.forms import add_errors
from spreadscale.web.improvement.models import PDSACycle
from spreadscale.web.measurement.models import Measure


def _components(programme, core_only: bool = False) -> list[Component]:
    qs = Component.objects.filter(intervention__programme=programme, retired=False)
    if core_only:
        qs = qs.filter(kind=Component.Kind.CORE_FUNCTION)
    return list(qs.select_related("intervention"))


def _measures(programme) -> list[Measure]:
    return list(Measure.objects.filter(programme=programme))


@login_required
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    """Sites × core functions beside each site's outcome status, and what adaptations did."""
    access = permissions.access_for(request.user, slug)
    matrix = reports.fidelity_matrix(access)
    return render(
        request,
        "fidelity/overview.html",
        {
            "access": access,
            "programme": access.programme,
            "matrix": matrix,
            "summary": reports.adaptations_summary(access),
        },
    )


@login_required
def site_fidelity(request: HttpRequest, slug: str, site_id: int) -> HttpResponse:
    """One site's fidelity over time, and the form to record this quarter's assessment."""
    access = permissions.access_for(request.user, slug)
    enrolment = permissions.enrolment_for(access, site_id)
    access.require(access.can_read_site(site_id))
    components = _components(access.programme, core_only=True)
    can_edit = access.can_edit_site(site_id)
    form = None
    status = 200
    if can_edit:
        form = AssessmentForm(request.POST or None, components=components)
        if request.method == "POST":
            if form.is_valid():
                ratings = [
                    actions.RatingInput(
                        c.pk,
                        form.cleaned_data[f"rating_{c.pk}"],
                        form.cleaned_data[f"evidence_{c.pk}"],
                    )
                    for c in components
                ]
                try:
                    actions.record_assessment(
                        request.user,
                        access.programme,
                        enrolment.site,
                        period_start=form.cleaned_data["period_start"],
                        ratings=ratings,
                        note=form.cleaned_data["note"],
                    )
                except ValidationError as exc:
                    add_errors(form, exc)
                else:
                    messages.success(request, "Fidelity assessment recorded.")
                    return redirect("fidelity:site_fidelity", slug=slug, site_id=site_id)
            status = 422
    elif request.method == "POST":
        access.require(False)
    # The history keeps retired core functions; the form offers only those in use.
    history = reports.site_history(
        access,
        enrolment.site,
        list(
            Component.objects.filter(
                intervention__programme=access.programme, kind=Component.Kind.CORE_FUNCTION
            )
        ),
    )
    return render(
        request,
        "fidelity/site_fidelity.html",
        {
            "access": access,
            "programme": access.programme,
            "site": enrolment.site,
            "history": history,
            "components": components,
            "can_notes": access.can_read_notes(site_id),
            "can_edit": can_edit,
            "form": form,
        },
        status=status,
    )


@login_required
def assessment_correct(request: HttpRequest, slug: str, site_id: int, pk: int) -> HttpResponse:
    """Correct a recorded assessment: its ratings, evidence and note, with the version read."""
    access = permissions.access_for(request.user, slug)
    enrolment = permissions.enrolment_for(access, site_id)
    # Those who may record the site's assessments correct them; others get 403, as there.
    access.require(access.can_edit_site(site_id))
    try:
        a = FidelityAssessment.objects.select_related("intervention").get(
            programme=access.programme, site_id=site_id, pk=pk
        )
    except FidelityAssessment.DoesNotExist:
        raise Http404("No such assessment.") from None
    rated = {r.component_id: r for r in a.ratings.select_related("component")}
    # The core functions in use, and any retired since that this assessment rates.
    in_use = _components(access.programme, core_only=True)
    by_pk = {c.pk: c for c in [*in_use, *(r.component for r in rated.values())]}
    components = sorted(
        (c for c in by_pk.values() if c.intervention_id == a.intervention_id),
        key=lambda c: (c.order, c.name),
    )
    initial: dict[str, object] = {"note": a.note, "version": a.version}
    for c in components:
        if c.pk in rated:
            initial[f"rating_{c.pk}"] = rated[c.pk].rating
            initial[f"evidence_{c.pk}"] = rated[c.pk].evidence
    form = AssessmentCorrectionForm(request.POST or None, initial=initial, components=components)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.revise_assessment(
                    request.user,
                    a,
                    [
                        actions.RatingInput(
                            c.pk,
                            form.cleaned_data[f"rating_{c.pk}"],
                            form.cleaned_data[f"evidence_{c.pk}"],
                        )
                        for c in components
                    ],
                    form.cleaned_data["note"],
                    form.cleaned_data["version"],
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "Assessment corrected; the earlier ratings are kept.")
                return redirect("fidelity:site_fidelity", slug=slug, site_id=site_id)
        status = 422
    return render(
        request,
        "fidelity/assessment_correct.html",
        {
            "access": access,
            "programme": access.programme,
            "site": enrolment.site,
            "assessment": a,
            "form": form,
            "earlier": reports.earlier_versions(
                list(
                    FidelityAssessment.objects.filter(pk=a.pk).prefetch_related(
                        "revisions__revised_by", "revisions__assessor"
                    )
                ),
                notes=access.can_read_notes(site_id),
            ),
        },
        status=status,
    )


def _readable_adaptations(access: permissions.Access):
    return Adaptation.objects.filter(programme=access.programme).filter(
        readable_adaptations(access)
    )


@login_required
def adaptation_list(request: HttpRequest, slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    qs = _readable_adaptations(access).select_related("site", "origin__site")
    site_filter = actions.checked_ids([request.GET.get("site", "")])
    if site_filter:
        qs = qs.filter(site_id=site_filter[0])
    fidelity_filter = request.GET.get("fidelity", "")
    if fidelity_filter in {"consistent", "inconsistent", "unknown"}:
        qs = qs.filter(fidelity=fidelity_filter)
    rows = list(qs)
    editable = [
        r.enrolment.site
        for r in core_selectors.site_rows(access.programme)
        if access.can_edit_site(r.enrolment.site_id)
    ]
    return render(
        request,
        "fidelity/adaptation_list.html",
        {
            "access": access,
            "programme": access.programme,
            "adaptations": rows,
            "can_add": bool(editable),
            "filtered": bool(site_filter or fidelity_filter),
        },
    )


@login_required
def adaptation_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Quick entry: the essential FRAME fields first; the full record can follow."""
    access = permissions.access_for(request.user, slug)
    sites = [
        r.enrolment.site
        for r in core_selectors.site_rows(access.programme)
        if access.can_edit_site(r.enrolment.site_id)
    ]
    access.require(bool(sites))
    components, measures = _components(access.programme), _measures(access.programme)
    initial = {}
    if request.GET.get("site"):
        initial["site"] = request.GET["site"]
    form = AdaptationForm(
        request.POST or None,
        initial=initial,
        sites=sites,
        components=components,
        measures=measures,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            site = next(s for s in sites if s.pk == form.cleaned_data["site"])
            chosen = set(form.cleaned_data["components"])
            try:
                adaptation = actions.create_adaptation(
                    request.user,
                    access.programme,
                    site,
                    form.frame_data(),
                    components=[c for c in components if c.pk in chosen],
                    measures=[m for m in measures if m.pk in set(form.cleaned_data["measures"])],
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request, "Adaptation logged. Complete its FRAME record when you can."
                )
                return redirect("fidelity:adaptation_detail", slug=slug, pk=adaptation.pk)
        status = 422
    return render(
        request,
        "fidelity/adaptation_form.html",
        {"access": access, "programme": access.programme, "form": form, "adaptation": None},
        status=status,
    )


def _adaptation(access: permissions.Access, pk: int) -> Adaptation:
    try:
        a = Adaptation.objects.select_related(
            "site", "origin__site", "created_by", "linked_pdsa__change_idea"
        ).get(programme=access.programme, pk=pk)
    except Adaptation.DoesNotExist:
        raise Http404("No such adaptation.") from None
    if not access.can_read_adaptation(a.site_id, a.published):
        raise Http404("No such adaptation.")
    return a


@login_required
def adaptation_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    a = _adaptation(access, pk)
    evidence_rows = []
    if access.can_read_site(a.site_id):
        for m in a.measures.all():
            ev = evidence(m, a.site_id, a.date_effective)
            evidence_rows.append(
                {"measure": m, "evidence": ev, "spec": _spec(a, m, ev), "spec_id": f"spec-{m.pk}"}
            )
    adopt_sites = [
        r.enrolment.site
        for r in core_selectors.site_rows(access.programme)
        if access.can_edit_site(r.enrolment.site_id) and r.enrolment.site_id != a.site_id
    ]
    return render(
        request,
        "fidelity/adaptation_detail.html",
        {
            "access": access,
            "programme": access.programme,
            "a": a,
            "components": list(a.components.all()),
            "evidence_rows": evidence_rows,
            "adoptions": list(a.adoptions.select_related("site")),
            "labels": reports.labels(a),
            "evidence_links": [
                {"text": v, "url": v if v.lower().startswith(("http://", "https://")) else ""}
                for v in a.evidence_links
            ],
            "can_read_site": access.can_read_site(a.site_id),
            "can_edit": access.can_edit_site(a.site_id),
            "can_change_phase": access.can_change_phase(a.site_id),
            "adopt_form": AdoptForm(sites=adopt_sites) if a.published and adopt_sites else None,
        },
    )


def _spec(a: Adaptation, m: Measure, ev) -> dict | None:
    """The before/after chart: a phase break at the adaptation date, the date annotated."""
    if not ev.enough:
        return None
    points = [
        {
            "x": p["period"].isoformat(),
            "y": p["value"],
            "cl": p["cl"],
            "lcl": p["lcl"],
            "ucl": p["ucl"],
            "part": p["part"],
            "point_type": p["point_type"],
        }
        for p in ev.points
    ]
    return spc_spec(
        points,
        title=f"{m.name} at {a.site.name}, before and after",
        y_title=m.unit or m.name,
        annotations=[{"on": a.date_effective.isoformat(), "kind": "adaptation", "label": a.title}],
        target=m.target,
        description=ev.summary,
    )


@login_required
def adaptation_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The full FRAME (or FRAME-IS) record."""
    access = permissions.access_for(request.user, slug)
    a = _adaptation(access, pk)
    access.require(access.can_edit_site(a.site_id))
    components, measures = _components(access.programme), _measures(access.programme)
    # Retired components an adaptation already touches stay ticked.
    components += [c for c in a.components.all() if c.retired]
    initial = {
        name: getattr(a, name)
        for name in (
            *AdaptationForm.FULL,
            "title",
            "date_effective",
            "when_phase",
            "planned",
            "description",
            "content_types",
        )
    }
    if a.fidelity_basis.startswith("Computed"):
        # The field holds the team's judgement, used only when the rule cannot compute.
        initial["fidelity"] = "unknown"
    initial |= {
        "evidence_links": "\n".join(a.evidence_links),
        "linked_pdsa": a.linked_pdsa_id or "",
        "components": [c.pk for c in a.components.all()],
        "measures": [m.pk for m in a.measures.all()],
        "version": a.version,
    }
    form = AdaptationForm(
        request.POST or None,
        initial=initial,
        sites=[a.site],
        components=components,
        measures=measures,
        full=True,
        cycles=list(
            PDSACycle.objects.filter(programme=access.programme, site=a.site).select_related(
                "change_idea"
            )
        ),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            chosen = set(form.cleaned_data["components"])
            try:
                actions.update_adaptation(
                    request.user,
                    a,
                    form.frame_data(),
                    components=[c for c in components if c.pk in chosen],
                    measures=[m for m in measures if m.pk in set(form.cleaned_data["measures"])],
                    expected_version=form.cleaned_data["version"],
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "Adaptation saved.")
                return redirect("fidelity:adaptation_detail", slug=slug, pk=a.pk)
        status = 422
    return render(
        request,
        "fidelity/adaptation_form.html",
        {"access": access, "programme": access.programme, "form": form, "adaptation": a},
        status=status,
    )


@require_POST
@login_required
def adaptation_publish(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    a = _adaptation(access, pk)
    access.require(access.can_edit_site(a.site_id))
    try:
        actions.publish_adaptation(request.user, a)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Shared with every site of the programme.")
    return redirect("fidelity:adaptation_detail", slug=slug, pk=a.pk)


@require_POST
@login_required
def adaptation_adopt(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    origin = _adaptation(access, pk)
    sites = [
        r.enrolment.site
        for r in core_selectors.site_rows(access.programme)
        if access.can_edit_site(r.enrolment.site_id) and r.enrolment.site_id != origin.site_id
    ]
    access.require(bool(sites))
    form = AdoptForm(request.POST, sites=sites)
    if form.is_valid():
        site = next(s for s in sites if s.pk == form.cleaned_data["site"])
        try:
            copy = actions.adopt_adaptation(
                request.user, origin, site, date_effective=form.cleaned_data["date_effective"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{site.name} adopted this adaptation.")
            return redirect("fidelity:adaptation_detail", slug=slug, pk=copy.pk)
    else:
        messages.error(
            request,
            "Adopting needs "
            + "; ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()),
        )
    return redirect("fidelity:adaptation_detail", slug=slug, pk=origin.pk)


@login_required
def stage_gates(request: HttpRequest, slug: str) -> HttpResponse:
    access = permissions.access_for(request.user, slug)
    measures = _measures(access.programme)
    form = None
    status = 200
    if access.can_manage_programme:
        form = StageGateForm(request.POST or None, measures=measures)
        if request.method == "POST":
            if "delete" in request.POST:
                ids = actions.checked_ids([request.POST["delete"]])
                gate = StageGate.objects.filter(programme=access.programme, pk__in=ids).first()
                if gate is None:
                    raise Http404("No such stage gate.")
                actions.delete_stage_gate(request.user, gate)
                messages.success(request, f"Removed the stage gate “{gate}”.")
                return redirect("fidelity:stage_gates", slug=slug)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    actions.create_stage_gate(
                        request.user,
                        access.programme,
                        to_phase=data["to_phase"],
                        kind=data["kind"],
                        threshold=data["threshold"],
                        measure_slug=data["measure"] or None,
                        n_points=data["n_points"],
                        role=data["role"],
                        description=data["description"],
                    )
                except ValidationError as exc:
                    add_errors(form, exc)
                else:
                    messages.success(request, "Stage gate added.")
                    return redirect("fidelity:stage_gates", slug=slug)
            status = 422
    elif request.method == "POST":
        access.require(False)
    gates = StageGate.objects.filter(programme=access.programme).select_related("measure")
    by_phase: dict[str, list[StageGate]] = defaultdict(list)
    for g in gates:
        by_phase[g.to_phase].append(g)
    return render(
        request,
        "fidelity/stage_gates.html",
        {
            "access": access,
            "programme": access.programme,
            "by_phase": [(Phase(p).label, by_phase[p]) for p in Phase.values if by_phase[p]],
            "form": form,
        },
        status=status,
    )


@require_POST
@login_required
def move_phase(request: HttpRequest, slug: str, site_id: int) -> HttpResponse:
    """Change phase through the stage gates: unmet criteria need an override reason."""
    access = permissions.access_for(request.user, slug)
    enrolment = permissions.enrolment_for(access, site_id)
    access.require(access.can_change_phase(site_id))
    gates = list(StageGate.objects.filter(programme=access.programme))
    form = GatedPhaseForm(request.POST, gates=gates)
    if form.is_valid():
        try:
            actions.move_phase(
                request.user,
                enrolment,
                to_phase=form.cleaned_data["to_phase"],
                effective_on=form.cleaned_data["effective_on"],
                reason=form.cleaned_data["reason"],
                overrides=form.overrides(),
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            label = Phase(form.cleaned_data["to_phase"]).label.lower()
            messages.success(request, f"{enrolment.site.name} is now {label}.")
            return redirect("site_detail", slug=slug, site_id=site_id)
    from spreadscale.web.fidelity.templatetags.fidelity_tags import panel_context

    context = panel_context(access, enrolment, form)
    context.update(access=access, programme=access.programme, site=enrolment.site)
    return render(request, "fidelity/phase_move.html", context, status=422)


def _component(access: permissions.Access, pk: int) -> Component:
    try:
        return Component.objects.select_related("intervention__programme").get(
            pk=pk, intervention__programme=access.programme
        )
    except Component.DoesNotExist:
        raise Http404("No such component in this programme.") from None


def _component_fields(data: dict) -> dict:
    return {name: data[name] for name in core_actions.COMPONENT_FIELDS}


@login_required
def components(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    """The intervention's components: core functions first, retired ones apart.

    The lead adds components here and, at ``components/<pk>/edit/``, edits one."""
    access = permissions.access_for(request.user, slug)
    interventions = list(Intervention.objects.filter(programme=access.programme))
    editing = _component(access, pk) if pk is not None else None
    if request.method == "POST" or editing is not None:
        access.require(access.can_manage_programme)
    form = None
    status = 200
    if access.can_manage_programme:
        if editing is not None:
            initial = {n: getattr(editing, n) for n in core_actions.COMPONENT_FIELDS}
            initial["version"] = editing.version
        else:
            last = (
                Component.objects.filter(intervention__programme=access.programme)
                .order_by("-order")
                .values_list("order", flat=True)
                .first()
            )
            initial = {
                "intervention": interventions[0].pk if interventions else None,
                "kind": Component.Kind.CORE_FUNCTION,
                "order": (last or 0) + 1,
            }
        form = ComponentForm(
            request.POST or None,
            initial=initial,
            interventions=interventions,
            editing=editing is not None,
        )
        if request.method == "POST":
            if form.is_valid():
                data = form.cleaned_data
                try:
                    if editing is not None:
                        core_actions.update_component(
                            request.user,
                            editing,
                            expected_version=data["version"],
                            **_component_fields(data),
                        )
                        done = f"Saved “{editing.name}”."
                    else:
                        intervention = next(
                            (i for i in interventions if i.pk == data["intervention"]), None
                        )
                        if intervention is None:
                            raise ValidationError({"intervention": "Choose an intervention."})
                        added = core_actions.add_component(
                            request.user, intervention, **_component_fields(data)
                        )
                        done = f"Added “{added.name}”."
                except ValidationError as exc:
                    add_errors(form, exc)
                else:
                    messages.success(request, done)
                    return redirect("fidelity:components", slug=slug)
            status = 422
    rows = list(components_in_use(access.programme))
    groups = []
    for i in interventions:
        own = [c for c in rows if c.intervention_id == i.pk]
        active = sorted(
            (c for c in own if not c.retired),
            key=lambda c: (c.kind != Component.Kind.CORE_FUNCTION, c.order, c.name),
        )
        groups.append(
            {"intervention": i, "active": active, "retired": [c for c in own if c.retired]}
        )
    return render(
        request,
        "fidelity/components.html",
        {
            "access": access,
            "programme": access.programme,
            "groups": groups,
            "form": form,
            "editing": editing,
            "can_manage": access.can_manage_programme,
        },
        status=status,
    )


@require_POST
@login_required
def component_state(request: HttpRequest, slug: str, pk: int, change: str) -> HttpResponse:
    """Retire, bring back or delete a component (the lead); a refusal is shown as a message."""
    access = permissions.access_for(request.user, slug)
    access.require(access.can_manage_programme)
    component = _component(access, pk)
    name = component.name
    try:
        if change == "retire":
            actions.retire_component(request.user, component)
            done = f"Retired “{name}”: sites are no longer asked about it; its history stays."
        elif change == "restore":
            actions.restore_component(request.user, component)
            done = f"“{name}” is in use again."
        else:
            actions.delete_component(request.user, component)
            done = f"Deleted “{name}”."
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("fidelity:components", slug=slug)
