"""The site page's panel: fidelity, adaptations and stage gates, with the gated phase form."""

from __future__ import annotations

from typing import Any

from django import template

from spreadscale.web.core.models import Enrolment
from spreadscale.web.fidelity.forms import GatedPhaseForm
from spreadscale.web.fidelity.gates import evaluate_gates
from spreadscale.web.fidelity.models import Adaptation, FidelityAssessment, StageGate
from spreadscale.web.fidelity.selectors import readable_adaptations
from spreadscale.web.permissions import Access

register = template.Library()


def panel_context(
    access: Access, enrolment: Enrolment, form: GatedPhaseForm | None = None
) -> dict[str, Any]:
    site_id = enrolment.site_id
    readable = access.can_read_site(site_id)
    results = evaluate_gates(enrolment) if readable else []
    # Override boxes only for criteria that are not met (all of them if the user cannot see which).
    gates = (
        [r.gate for r in results if not r.met]
        if readable
        else list(StageGate.objects.filter(programme=access.programme))
    )
    if form is None and access.can_change_phase(site_id):
        form = GatedPhaseForm(
            initial={"version": enrolment.version, "to_phase": enrolment.phase}, gates=gates
        )
    latest = (
        FidelityAssessment.objects.filter(programme=access.programme, site_id=site_id)
        .order_by("-period_start")
        .first()
        if readable
        else None
    )
    adaptations = list(
        Adaptation.objects.filter(programme=access.programme, site_id=site_id).filter(
            readable_adaptations(access)
        )[:8]
    )
    by_phase: dict[str, list] = {}
    for r in results:
        by_phase.setdefault(r.gate.get_to_phase_display(), []).append(r)
    return {
        "programme": access.programme,
        "enrolment": enrolment,
        "site_id": site_id,
        "readable": readable,
        "latest": latest,
        "adaptations": adaptations,
        "gate_groups": list(by_phase.items()),
        "can_edit": access.can_edit_site(site_id),
        "phase_form": form if access.can_change_phase(site_id) else None,
    }


@register.inclusion_tag("fidelity/site_panel.html", takes_context=True)
def site_fidelity_panel(context: template.Context) -> dict[str, Any]:
    """Render the panel for the site page's `access` and `enrolment`."""
    return panel_context(context["access"], context["enrolment"]) | {
        "csrf_token": context.get("csrf_token")
    }
