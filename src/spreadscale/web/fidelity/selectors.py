"""Read-side queries: querysets into the plain arrays the analytics need."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, QuerySet

from spreadscale.analytics.fidelity import BeforeAfter, before_after
from spreadscale.web.core.models import Component, Programme
from spreadscale.web.measurement.models import Measure, Observation
from spreadscale.web.permissions import Access

# The SPC engine's chart names are the measure's default chart names.
SPC_CHARTS = {"run", "i", "p", "pp", "u", "up", "c", "g", "t"}


@dataclass
class Series:
    periods: list[date] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    n: list[float] | None = None


def series_for(measure: Measure, site_ids: Sequence[int]) -> dict[int, Series]:
    """Each site's series for a measure, in period order (one query)."""
    ratio = measure.uses_ratio
    rows = (
        Observation.objects.filter(measure=measure, site_id__in=site_ids)
        .order_by("site_id", "period_start")
        .values_list("site_id", "period_start", "numerator", "denominator", "value")
    )
    out: dict[int, Series] = defaultdict(lambda: Series(n=[] if ratio else None))
    for site_id, start, num, den, value in rows:
        if ratio:
            if num is None or not den:
                continue
            s = out[site_id]
            s.periods.append(start)
            s.y.append(num)
            s.n.append(den)  # type: ignore[union-attr]
        elif value is not None:
            s = out[site_id]
            s.periods.append(start)
            s.y.append(value)
    return dict(out)


def chart_for(measure: Measure) -> str:
    return measure.default_chart if measure.default_chart in SPC_CHARTS else "run"


def evidence(measure: Measure, site_id: int, at: date, series: Series | None = None) -> BeforeAfter:
    """Before/after evidence of one measure at one site around a date."""
    if series is None:
        series = series_for(measure, [site_id]).get(site_id, Series())
    return before_after(
        series.y,
        series.periods,
        at,
        n=series.n,
        chart=chart_for(measure),
        improvement=measure.improvement,
        multiplier=measure.multiplier if measure.uses_ratio else 1.0,
    )


def readable_adaptations(access: Access) -> Q:
    """A filter keeping the adaptations this user may read: published, or of a readable site."""
    # Q(...) | Q() would drop the empty side, so readers of every site get no filter at all.
    if access.reads_all_sites:
        return Q()
    return Q(published=True) | access.readable_site_filter()


def components_in_use(programme: Programme) -> QuerySet[Component]:
    """The programme's components with how much refers to them: a component with ratings,
    adaptations or change ideas is retired, not deleted."""
    return Component.objects.filter(intervention__programme=programme).annotate(
        n_ratings=Count("ratings", distinct=True),
        n_adaptations=Count("adaptations", distinct=True),
        n_change_ideas=Count("change_ideas", distinct=True),
    )
