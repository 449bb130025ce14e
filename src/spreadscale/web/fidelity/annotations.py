"""Adaptations on the charts of the measures: every adaptation the user may read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.urls import reverse

from spreadscale.web.fidelity.models import Adaptation
from spreadscale.web.fidelity.selectors import readable_adaptations
from spreadscale.web.measurement.annotations import Annotation
from spreadscale.web.measurement.models import Measure
from spreadscale.web.permissions import Access


def adaptations(access: Access, measure: Measure, site_ids: Sequence[int]) -> Iterable[Annotation]:
    # Shown on every measure's chart: an adaptation may move measures nobody linked to it.
    rows = Adaptation.objects.filter(programme=access.programme, site_id__in=site_ids).filter(
        readable_adaptations(access)
    )
    for a in rows.only("pk", "site_id", "title", "date_effective", "fidelity", "planned"):
        yield Annotation(
            on=a.date_effective,
            site_id=a.site_id,
            kind="adaptation",
            label=a.title,
            detail=f"{a.get_planned_display()}; {a.get_fidelity_display().lower()}",
            url=reverse(
                "fidelity:adaptation_detail",
                kwargs={"slug": access.programme.slug, "pk": a.pk},
            ),
        )
