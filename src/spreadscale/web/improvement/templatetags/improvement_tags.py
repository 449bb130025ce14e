"""The site page's panel of PDSA cycles and team progress scores."""

from __future__ import annotations

from django import template

from spreadscale.web.improvement.models import PDSACycle, ProgressScore

register = template.Library()


@register.inclusion_tag("improvement/site_panel.html")
def improvement_for_site(access, site) -> dict:
    """Cycles and recent scores of a site, for members who may read its data."""
    readable = access.can_read_site(site.pk)
    cycles = scores = []
    if readable:
        cycles = list(
            PDSACycle.objects.filter(programme=access.programme, site=site)
            .select_related("change_idea")
            .order_by("-start_date", "-pk")[:12]
        )
        by_month: dict = {}
        for s in ProgressScore.objects.filter(programme=access.programme, site=site).order_by(
            "-month"
        )[:24]:
            by_month.setdefault(s.month, {"month": s.month})[s.rater] = s.score
        scores = list(by_month.values())[:6]
    return {
        "programme": access.programme,
        "site": site,
        "readable": readable,
        "can_edit": access.can_edit_site(site.pk),
        "cycles": cycles,
        "scores": scores,
    }
