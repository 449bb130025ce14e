"""Read-side queries that turn querysets into the plain rows pages and analytics need."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from statistics import median

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from spreadscale.web.core.models import Enrolment, Programme, Site
from spreadscale.web.measurement.models import Measure, Observation
from spreadscale.web.permissions import Access


@dataclass(frozen=True)
class SiteRow:
    enrolment: Enrolment
    region: Site | None
    organisation: Site | None


def site_rows(programme: Programme) -> list[SiteRow]:
    """Enrolled sites with their region and organisation, ordered by site code (two queries)."""
    enrolments = list(
        Enrolment.objects.filter(programme=programme).select_related("site").order_by("site__code")
    )
    ancestor_ids = {a for e in enrolments for a in e.site.ancestor_ids()}
    ancestors = Site.objects.in_bulk(ancestor_ids)
    rows = []
    for e in enrolments:
        chain = [ancestors[i] for i in e.site.ancestor_ids() if i in ancestors]
        region = next((s for s in chain if s.level == Site.Level.REGION), None)
        org = next((s for s in chain if s.level == Site.Level.ORGANISATION), None)
        rows.append(SiteRow(e, region, org))
    return rows


@dataclass(frozen=True)
class Latest:
    value: float | None
    period_start: object
    flags: list[str]


def latest_values(
    programme: Programme, access: Access
) -> tuple[dict[tuple[int, int], Latest], dict[int, dict[str, float | int]]]:
    """Each measure's latest value per readable site, and a programme-wide summary per measure.

    The summary (median of the sites' latest values, sites reporting) is computed over all
    sites, so that members who may not read other sites' data still see the programme picture.
    """
    ranked = (
        Observation.objects.filter(measure__programme=programme)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("measure_id"), F("site_id")],
                order_by=F("period_start").desc(),
            )
        )
        .filter(rank=1)
        .values_list(
            "measure_id",
            "site_id",
            "period_start",
            "numerator",
            "denominator",
            "value",
            "flags",
            "measure__multiplier",
        )
    )
    latest: dict[tuple[int, int], Latest] = {}
    per_measure: dict[int, list[float]] = defaultdict(list)
    for measure_id, site_id, start, num, den, value, flags, multiplier in ranked:
        shown = value if value is not None else (num / den * multiplier if den else None)
        if shown is not None:
            per_measure[measure_id].append(shown)
        if access.can_read_site(site_id):
            latest[(measure_id, site_id)] = Latest(shown, start, flags)
    summary = {
        m: {"median": median(values), "sites": len(values)} for m, values in per_measure.items()
    }
    return latest, summary


def measures(programme: Programme) -> list[Measure]:
    return list(Measure.objects.filter(programme=programme))
