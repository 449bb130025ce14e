"""The annotation layer: dated events that charts of a measure show beside the data.

Each area of the domain registers a provider (in its AppConfig.ready): a function that, for a
user's access, a measure and some sites, returns the annotations to draw. Phase changes come
from here; PDSA cycles and adaptations register their own providers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.urls import reverse

from spreadscale.web.core.models import PhaseChange
from spreadscale.web.permissions import Access

from .models import Measure


@dataclass(frozen=True)
class Annotation:
    on: date
    site_id: int | None  # None: applies to every site of the programme
    kind: str  # "phase", "pdsa", "adaptation", ...
    label: str  # short text drawn on the chart
    detail: str = ""  # longer text for the tooltip
    url: str = ""  # where to read more


Provider = Callable[[Access, Measure, Sequence[int]], Iterable[Annotation]]
_providers: dict[str, Provider] = {}


def register(kind: str, provider: Provider) -> None:
    """Add (or replace) the provider of one kind of annotation."""
    _providers[kind] = provider


def annotations_for(access: Access, measure: Measure, site_ids: Sequence[int]) -> list[Annotation]:
    """Every registered kind of annotation for these sites (only those the user may read)."""
    readable = [s for s in site_ids if access.can_read_site(s)]
    out: list[Annotation] = []
    for provider in _providers.values():
        out.extend(
            a
            for a in provider(access, measure, readable)
            if a.site_id is None or a.site_id in readable
        )
    return sorted(out, key=lambda a: (a.on, a.kind, a.label))


def phase_changes(
    access: Access, measure: Measure, site_ids: Sequence[int]
) -> Iterable[Annotation]:
    changes = PhaseChange.objects.filter(
        enrolment__programme=access.programme, enrolment__site_id__in=site_ids
    ).select_related("enrolment")
    for c in changes:
        yield Annotation(
            on=c.effective_on,
            site_id=c.enrolment.site_id,
            kind="phase",
            label=c.get_to_phase_display(),
            detail=c.reason,
            url=reverse(
                "site_detail",
                kwargs={"slug": access.programme.slug, "site_id": c.enrolment.site_id},
            ),
        )


register("phase", phase_changes)
