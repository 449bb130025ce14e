"""Read-side queries: PDSA annotations, the change package and the data around a cycle."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q
from django.urls import reverse

from spreadscale.analytics.spc import SpcInputError, spc
from spreadscale.web.core.selectors import site_rows
from spreadscale.web.improvement.models import ChangeIdea, PDSACycle, ProgressScore
from spreadscale.web.measurement.annotations import Annotation
from spreadscale.web.measurement.models import Measure, Observation
from spreadscale.web.permissions import Access


def pdsa_annotations(
    access: Access, measure: Measure, site_ids: Sequence[int]
) -> Iterable[Annotation]:
    """A mark on a measure's chart at the start of every cycle that expects to move it."""
    cycles = PDSACycle.objects.filter(
        programme=access.programme, site_id__in=site_ids, measures=measure
    ).select_related("change_idea")
    for c in cycles:
        detail = c.objective
        if c.act:
            detail += f" — decided to {c.get_act_display().lower()}"
        yield Annotation(
            on=c.start_date,
            site_id=c.site_id,
            kind="pdsa",
            label=f"PDSA {c.cycle_no}: {c.change_idea.title}",
            detail=detail,
            url=reverse("pdsa_detail", kwargs={"slug": access.programme.slug, "cycle_id": c.pk}),
        )


def root_of(idea: ChangeIdea, by_id: dict[int, ChangeIdea]) -> ChangeIdea:
    """The idea a chain of copies started from."""
    seen = set()
    while idea.origin_id and idea.origin_id in by_id and idea.pk not in seen:
        seen.add(idea.pk)
        idea = by_id[idea.origin_id]
    return idea


# Chart types the SPC engine knows; other defaults fall back to a run chart.
_SPC_CHARTS = {"run", "i", "p", "pp", "u", "up", "c", "g", "t"}


def measure_signal(
    measure: Measure,
    points: list[tuple[date, float | None, float | None, float | None]],
    since: date,
) -> str:
    """What a measure did at a site once testing began: improved, worse, no signal, or too little data.

    The limits are frozen on the points before ``since`` so that later points are judged against
    the baseline (special-cause improvement or concern, under the engine's default rules).
    """
    points = [p for p in points if p[1] is not None or p[3] is not None]
    before = sum(1 for p in points if p[0] < since)
    after = len(points) - before
    if before < 6 or after < 3:
        return "too little data"
    chart = measure.default_chart if measure.default_chart in _SPC_CHARTS else "run"
    ratio = measure.uses_ratio and chart in {"p", "pp", "u", "up"}
    try:
        if ratio:
            result = spc(
                [p[1] for p in points],
                n=[p[2] for p in points],
                chart=chart,
                freeze=before,
                improvement=measure.improvement,
            )
        else:
            values = [p[3] if p[3] is not None else p[1] for p in points]
            result = spc(values, chart=chart, freeze=before, improvement=measure.improvement)
    except (SpcInputError, ValueError):
        return "too little data"
    later = list(result.points["point_type"][before:])
    if "special_cause_improvement" in later:
        return "improved"
    if "special_cause_concern" in later:
        return "worse"
    return "no signal"


@dataclass
class SiteTest:
    site_id: int
    code: str
    region: str
    phase: str
    cycles: int = 0
    first: date | None = None
    last_act: str = ""
    adaptations: list[str] = field(default_factory=list)
    signals: dict[str, str] = field(default_factory=dict)  # measure name -> signal
    readable: bool = False


@dataclass
class PackageEntry:
    idea: ChangeIdea
    tests: list[SiteTest]
    copies: int
    measures: list[Measure]

    @property
    def cycles(self) -> int:
        return sum(t.cycles for t in self.tests)

    @property
    def acts(self) -> Counter:
        return Counter(t.last_act or "open" for t in self.tests)

    @property
    def act_rows(self) -> list[tuple[str, int]]:
        """Decisions and how many sites reached each (for templates: a Counter hides .items)."""
        return sorted(self.acts.items())

    @property
    def signal_rows(self) -> list[tuple[str, list[tuple[str, int]]]]:
        return [(name, sorted(c.items())) for name, c in self.signal_counts().items()]

    def signal_counts(self) -> dict[str, Counter]:
        out: dict[str, Counter] = {}
        for t in self.tests:
            for name, signal in t.signals.items():
                out.setdefault(name, Counter())[signal] += 1
        return out


def change_package(
    access: Access,
    *,
    q: str = "",
    component: str = "",
    region: str = "",
    phase: str = "",
    outcome: str = "",
) -> list[PackageEntry]:
    """The library of ideas, each with where it was tested, what sites concluded and what moved.

    Copies roll up into the idea they started from. Filters keep ideas with a test matching the
    region, phase and outcome (the site's latest act decision) given.
    """
    programme = access.programme
    ideas = list(ChangeIdea.objects.filter(programme=programme).select_related("component", "site"))
    by_id = {i.pk: i for i in ideas}
    rows = {r.enrolment.site_id: r for r in site_rows(programme)}
    cycles = list(
        PDSACycle.objects.filter(programme=programme)
        .order_by("start_date", "pk")
        .values("pk", "site_id", "change_idea_id", "start_date", "act", "adaptation")
    )
    links = defaultdict(set)
    for cycle_id, measure_id in PDSACycle.measures.through.objects.filter(
        pdsacycle__programme=programme
    ).values_list("pdsacycle_id", "measure_id"):
        links[cycle_id].add(measure_id)
    measures = {m.pk: m for m in Measure.objects.filter(programme=programme)}

    tests: dict[int, dict[int, SiteTest]] = defaultdict(dict)
    measures_of: dict[int, set[int]] = defaultdict(set)
    for c in cycles:
        root = root_of(by_id[c["change_idea_id"]], by_id)
        row = rows.get(c["site_id"])
        t = tests[root.pk].get(c["site_id"])
        if t is None:
            t = tests[root.pk][c["site_id"]] = SiteTest(
                site_id=c["site_id"],
                code=row.enrolment.site.code if row else "?",
                region=row.region.code if row and row.region else "",
                phase=row.enrolment.phase if row else "",
                first=c["start_date"],
                readable=access.can_read_site(c["site_id"]),
            )
        t.cycles += 1
        if c["act"]:
            t.last_act = c["act"]
        if c["adaptation"]:
            t.adaptations.append(c["adaptation"])
        measures_of[root.pk] |= links[c["pk"]]

    _fill_signals(programme, tests, measures_of, measures)
    roots = [i for i in ideas if root_of(i, by_id) is i and not i.retired]
    copies = Counter(root_of(i, by_id).pk for i in ideas if i.origin_id)
    out = []
    needle = q.strip().lower()
    for idea in roots:
        site_tests = sorted(tests[idea.pk].values(), key=lambda t: t.code)
        if needle and needle not in f"{idea.title} {idea.description}".lower():
            continue
        if component and str(idea.component_id) != component:
            continue
        if region or phase or outcome:
            site_tests_kept = [
                t
                for t in site_tests
                if (not region or t.region == region)
                and (not phase or t.phase == phase)
                and (not outcome or (t.last_act or "open") == outcome)
            ]
            if not site_tests_kept:
                continue
            site_tests = site_tests_kept
        out.append(
            PackageEntry(
                idea=idea,
                tests=site_tests,
                copies=copies.get(idea.pk, 0),
                measures=[measures[m] for m in sorted(measures_of[idea.pk]) if m in measures],
            )
        )
    return out


def _fill_signals(programme, tests, measures_of, measures) -> None:
    """One query for every (measure, site) pair the package needs, then the SPC engine per pair."""
    pairs = {
        (m, site_id)
        for root, by_site in tests.items()
        for site_id in by_site
        for m in measures_of[root]
    }
    if not pairs:
        return
    site_ids = {s for _, s in pairs}
    series: dict[tuple[int, int], list] = defaultdict(list)
    for row in (
        Observation.objects.filter(measure_id__in={m for m, _ in pairs}, site_id__in=site_ids)
        .order_by("period_start")
        .values_list("measure_id", "site_id", "period_start", "numerator", "denominator", "value")
    ):
        series[(row[0], row[1])].append(row[2:])
    for root, by_site in tests.items():
        for site_id, t in by_site.items():
            for m in sorted(measures_of[root]):
                since = t.first or date.max
                # a year either side of the first test is enough to judge a shift
                window = [
                    p
                    for p in series.get((m, site_id), [])
                    if since - timedelta(days=366) <= p[0] <= since + timedelta(days=366)
                ]
                t.signals[measures[m].name] = measure_signal(measures[m], window, since)


def observations_around(access: Access, cycle: PDSACycle, months: int = 6) -> list[dict]:
    """Each linked measure at the cycle's site from months before to months after the cycle.

    The chart is the measure page's SPC chart (same settings, limits from the whole series)
    cut to the window, with the annotations of that window; the table is its text alternative.
    """
    from spreadscale.charts.spc import spc_spec
    from spreadscale.web.measurement.actions import chart_settings_for
    from spreadscale.web.measurement.annotations import annotations_for
    from spreadscale.web.measurement.selectors import measure_charts

    start = cycle.start_date - timedelta(days=31 * months)
    end = (cycle.end_date or cycle.start_date) + timedelta(days=31 * months)
    out = []
    measures = list(cycle.measures.all())
    rows = defaultdict(list)
    for obs in (
        Observation.objects.filter(
            measure__in=measures,
            site_id=cycle.site_id,
            period_start__gte=start,
            period_start__lte=end,
        )
        .select_related("measure")
        .order_by("period_start")
    ):
        when = (
            "before"
            if obs.period_end < cycle.start_date
            else "after"
            if obs.period_start > (cycle.end_date or cycle.start_date)
            else "during"
        )
        rows[obs.measure_id].append({"obs": obs, "value": obs.display_value, "when": when})
    for m in measures:
        charts = measure_charts(m, [cycle.site_id], chart_settings_for(m))
        sc = charts.sites[cycle.site_id]
        points = [p for p in sc.points if start.isoformat() <= p["x"] <= end.isoformat()]
        notes = [
            a
            for a in annotations_for(access, m, [cycle.site_id])
            if start <= a.on <= end and a.site_id in (None, cycle.site_id)
        ]
        spec = spc_spec(
            points,
            title=f"{m.name}, {cycle.site.code}",
            y_title=m.unit or m.name,
            annotations=[
                {"on": a.on.isoformat(), "kind": a.kind, "label": a.label, "detail": a.detail}
                for a in notes
            ],
            target=m.target,
            description=f"{charts.settings.get_chart_display()} of {m.name} at {cycle.site.name} "
            f"around PDSA {cycle.cycle_no}",
        )
        series = [
            (p[0], p[1], p[2], p[3])
            for p in Observation.objects.filter(
                measure=m,
                site_id=cycle.site_id,
                period_start__gte=cycle.start_date - timedelta(days=366),
                period_start__lte=cycle.start_date + timedelta(days=366),
            )
            .order_by("period_start")
            .values_list("period_start", "numerator", "denominator", "value")
        ]
        out.append(
            {
                "measure": m,
                "rows": rows.get(m.pk, []),
                "signal": measure_signal(m, series, cycle.start_date),
                "spec": spec if points else None,
                "spec_id": f"spec-m{m.pk}",
                "chart_error": charts.error,
            }
        )
    return out


def cycles_for(access: Access, **filters) -> list[PDSACycle]:
    """Cycles of sites the user may read."""
    return list(
        PDSACycle.objects.filter(
            access.readable_site_filter(), programme=access.programme, **filters
        )
        .select_related("site", "change_idea")
        .order_by("-start_date", "-pk")
    )


def score_months(access: Access, site_id: int | None = None) -> tuple[list[dict], list[dict]]:
    """Scores side by side per site and month, and the programme's distribution per month.

    The distribution covers every site (a programme-level aggregate); the rows only readable ones.
    """
    scores = ProgressScore.objects.filter(programme=access.programme).select_related("site")
    grid: dict[tuple[int, date], dict] = {}
    dist: dict[date, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for s in scores.order_by("month", "site__code"):
        dist[s.month][s.rater][s.score] += 1
        if not access.can_read_site(s.site_id) or site_id not in (None, s.site_id):
            continue
        cell = grid.setdefault((s.site_id, s.month), {"site": s.site, "month": s.month})
        cell[s.rater] = s
    # newest month first: the latest picture is what a learning session discusses
    rows = sorted(grid.values(), key=lambda c: (c["site"].code, -c["month"].toordinal()))
    for cell in rows:
        team, fac = cell.get("team"), cell.get("facilitator")
        cell["gap"] = (team.score - fac.score) if team and fac else None
    distribution = []
    for month in sorted(dist, reverse=True):
        entry: dict = {"month": month}
        for rater in ProgressScore.Rater.values:
            counts = dist[month][rater]
            values = sorted(v for v, n in counts.items() for _ in range(n))
            entry[rater] = {
                "sites": len(values),
                "median": values[len(values) // 2] if values else None,
                "counts": [counts.get(v, 0) for v, _ in ProgressScore.SCALE],
            }
        distribution.append(entry)
    return rows, distribution


def readable_q(access: Access) -> Q:
    return access.readable_site_filter()


@dataclass(frozen=True)
class SpreadEdge:
    idea_id: int
    title: str
    from_site: str | None  # None: copied from the programme's package
    to_site: str
    on: date


def idea_spread(programme) -> list[SpreadEdge]:
    """Who copied which idea from whom, and when: the edges of the ideas' spread network."""
    copies = (
        ChangeIdea.objects.filter(programme=programme, origin__isnull=False)
        .select_related("site", "origin__site")
        .order_by("created_at", "pk")
    )
    return [
        SpreadEdge(
            idea_id=c.pk,
            title=c.title,
            from_site=c.origin.site.code if c.origin.site_id else None,
            to_site=c.site.code,
            on=c.created_at.date(),
        )
        for c in copies
        if c.site_id
    ]
