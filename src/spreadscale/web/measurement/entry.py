"""The data-entry grid for one site, validated per cell and saved all or nothing.

Two layouts: ``measure`` (one measure × a run of periods, with flags and a note per period) and
``measures`` (periods × all the site's measures of one frequency side by side, a
numerator/denominator or value pair per measure). The form carries the periods it showed, so a
period someone else adds meanwhile neither shifts the window nor blocks the save; each cell
carries the version it showed, and a cell changed by someone else since is refused as stale.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from spreadscale.io.periods import PeriodError, check_period_start, period_end
from spreadscale.web import permissions
from spreadscale.web.core import selectors as core_selectors
from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.measurement import actions
from spreadscale.web.measurement.models import (
    Flag,
    Granularity,
    Measure,
    Observation,
    ObservationRevision,
)

N_PERIODS = 12
MAX_POSTED_PERIODS = 5 * N_PERIODS
LAYOUTS = ("measure", "measures")
STALE = "Someone else saved this period after you opened the grid; reload to see their values."


def shift_period(start: date, granularity: str, k: int) -> date:
    if granularity in ("month", "quarter", "year"):
        step = {"month": 1, "quarter": 3, "year": 12}[granularity] * k
        y, m = divmod(start.year * 12 + start.month - 1 + step, 12)
        return date(y, m + 1, 1)
    return start + timedelta(days=(7 if granularity == "week" else 1) * k)


def _current(granularity: str, today: date) -> date:
    if granularity == "week":
        return today - timedelta(days=today.weekday())
    if granularity == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if granularity == "year":
        return date(today.year, 1, 1)
    if granularity == "month":
        return today.replace(day=1)
    return today


def period_label(start: date, granularity: str) -> str:
    """How a period is named in headers and error messages."""
    if granularity == "month":
        return f"{start:%b %Y}"
    if granularity == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if granularity == "year":
        return str(start.year)
    if granularity == "week":
        return f"week of {start.day} {start:%b %Y}"
    return f"{start.day} {start:%b %Y}"


def _field_label(measure: Measure, f: str) -> str:
    if f == "numerator":
        return measure.numerator_label or "Numerator"
    if f == "denominator":
        return measure.denominator_label or "Denominator"
    return f"Value ({measure.unit})" if measure.unit else "Value"


def _fields(measure: Measure) -> list[str]:
    return ["numerator", "denominator"] if measure.uses_ratio else ["value"]


@dataclass
class Input:
    field: str
    name: str
    value: str
    error: str
    label: str
    col: int


@dataclass
class Cell:
    """One observation's inputs: a (period, measure) pair."""

    start: date
    measure: Measure
    obs: Observation | None
    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    inputs: list[Input] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"{self.start.isoformat()}-{self.measure.pk}"

    @property
    def fields(self) -> list[str]:
        return _fields(self.measure)


@dataclass
class GridRow:
    start: date
    end: date
    label: str
    cells: list[Cell]

    @property
    def key(self) -> str:
        return self.start.isoformat()

    @property
    def errors(self) -> bool:
        return any(c.errors for c in self.cells)


def _text(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _number(raw: str) -> float:
    return float(raw.replace(",", ""))


def _shown(obs: Observation | ObservationRevision | None) -> dict:
    return {
        "numerator": _text(obs.numerator if obs else None),
        "denominator": _text(obs.denominator if obs else None),
        "value": _text(obs.value if obs else None),
        "flags": sorted(obs.flags) if obs else [],
        "note": obs.note if obs else "",
    }


def _window(site, measures: list[Measure], gran: str) -> list[date]:
    """The last N-1 periods with data at this site and the next one (or the current run)."""
    latest = Observation.objects.filter(site=site, measure__in=measures).aggregate(
        latest=Max("period_start")
    )["latest"]
    anchor = shift_period(latest, gran, 1) if latest else _current(gran, date.today())
    return [shift_period(anchor, gran, -k) for k in range(N_PERIODS - 1, -1, -1)]


def _posted_periods(request: HttpRequest, gran: str) -> list[date] | None:
    """The periods the submitted grid showed; None when they are missing or unreadable."""
    raw = request.POST.getlist("period")
    if not raw or len(raw) > MAX_POSTED_PERIODS:
        return None
    starts: set[date] = set()
    for text in raw:
        try:
            start = date.fromisoformat(text)
            check_period_start(start, gran)
        except (ValueError, PeriodError):
            return None
        starts.add(start)
    return sorted(starts)


def _build(site, measures: list[Measure], gran: str, starts: list[date]) -> list[GridRow]:
    existing = {
        (o.measure_id, o.period_start): o
        for o in Observation.objects.filter(
            site=site, measure__in=measures, period_start__in=starts
        )
    }
    grid = []
    for s in starts:
        cells = [Cell(s, m, existing.get((m.pk, s))) for m in measures]
        for c in cells:
            c.values = _shown(c.obs) | {"version": str(c.obs.version if c.obs else 0)}
        grid.append(GridRow(s, period_end(s, gran), period_label(s, gran), cells))
    return grid


@login_required
def entry_grid(request: HttpRequest, slug: str) -> HttpResponse:
    """Enter or correct a run of periods for one site, keyboard first."""
    access = permissions.access_for(request.user, slug)
    rows = core_selectors.site_rows(access.programme)
    sites = [r.enrolment.site for r in rows if access.can_edit_site(r.enrolment.site_id)]
    access.require(bool(sites))
    all_measures = [
        m for m in Measure.objects.filter(programme=access.programme) if m.frequency != "event"
    ]
    site_id = request.GET.get("site", "")
    site = next((s for s in sites if str(s.pk) == site_id), sites[0])
    layout = request.GET.get("layout", "measure")
    layout = layout if layout in LAYOUTS else "measure"
    measure = next((m for m in all_measures if m.slug == request.GET.get("measure")), None)
    frequencies = [g for g in Granularity.values if any(m.frequency == g for m in all_measures)]
    if layout == "measures":
        counts = Counter(m.frequency for m in all_measures)
        wanted = request.GET.get("frequency") or (measure.frequency if measure else "")
        gran = wanted if wanted in counts else (counts.most_common(1)[0][0] if counts else "")
        measures = [m for m in all_measures if m.frequency == gran]
    else:
        measure = measure or (all_measures[0] if all_measures else None)
        measures = [measure] if measure else []
        gran = measure.frequency if measure else ""
    query = {"site": site.pk, "layout": layout}
    query.update({"frequency": gran} if layout == "measures" else {})
    query.update({"measure": measure.slug} if measure else {})
    context = {
        "programme": access.programme,
        "access": access,
        "sites": sites,
        "measures": all_measures,
        "columns": measures,
        "frequencies": [(g, Granularity(g).label) for g in frequencies],
        "frequency": gran,
        "layout": layout,
        "site": site,
        "measure": measure,
        "flags": Flag.choices,
        "query": urlencode(query),
    }
    if not measures:
        return render(request, "measurement/entry.html", context)
    if request.method == "POST":
        access.require(access.can_edit_site(site.pk))
        starts = _posted_periods(request, gran)
        if starts is None:
            messages.error(
                request,
                "Nothing was saved: the form did not say which periods it showed. "
                "Reload the page and enter the values again.",
            )
            grid = _build(site, measures, gran, _window(site, measures, gran))
            _inputs(grid, layout)
            context.update({"grid": grid, "problems": []})
            return render(request, "measurement/entry.html", context, status=422)
        grid = _build(site, measures, gran, starts)
        saved = _save_grid(request, measures, site, grid, layout)
        if saved is not None:
            messages.success(request, f"Saved {saved} value{'s' if saved != 1 else ''}.")
            url = reverse("measurement_entry", kwargs={"slug": slug})
            return redirect(f"{url}?{context['query']}")
        _inputs(grid, layout)
        context.update({"grid": grid, "problems": _problems(grid, layout)})
        return render(request, "measurement/entry.html", context, status=422)
    grid = _build(site, measures, gran, _window(site, measures, gran))
    _inputs(grid, layout)
    context.update({"grid": grid, "problems": []})
    return render(request, "measurement/entry.html", context)


def _inputs(grid: list[GridRow], layout: str) -> None:
    """Name, label and place every text input; ``col`` numbers columns for arrow-key moves."""
    for g in grid:
        col = 0
        for c in g.cells:
            c.inputs = []
            for f in c.fields:
                label = f"{_field_label(c.measure, f)} for {g.label}"
                if layout == "measures":
                    label = f"{c.measure.name}: {label}"
                name = f"{c.prefix}-{f}"
                c.inputs.append(
                    Input(f, name, c.values.get(f, ""), c.errors.get(f, ""), label, col)
                )
                col += 1


def _problems(grid: list[GridRow], layout: str) -> list[tuple[str, str]]:
    """(input id, message) for the summary above the grid, naming period, measure and field."""
    out = []
    for g in grid:
        for c in g.cells:
            for f, msg in c.errors.items():
                where = g.label if layout == "measure" else f"{g.label}, {c.measure.name}"
                target, name = (
                    (f, _field_label(c.measure, f)) if f in c.fields else (c.fields[0], f)
                )
                out.append((f"c-{c.prefix}-{target}", f"{where}, {name}: {msg}"))
    return out


def _seen(cell: Cell, version: int) -> dict:
    """What the editor saw for a cell at ``version`` (an earlier revision, or nothing)."""
    if version == 0 or cell.obs is None:
        return _shown(None)
    rev = ObservationRevision.objects.filter(observation=cell.obs, version=version).first()
    return _shown(rev) if rev is not None else {}


def _save_grid(request, measures, site, grid, layout) -> int | None:
    """Check every cell, then save the changed ones together; None when anything is wrong."""
    changes: list[tuple[Cell, actions.ObservationInput, int]] = []
    for g in grid:
        for c in g.cells:
            change = _check_cell(request, c, layout)
            if change is not None:
                changes.append(change)
    if any(g.errors for g in grid):
        messages.error(request, "Nothing was saved: fix the cells marked below.")
        return None
    try:
        with transaction.atomic():
            for c, data, version in changes:
                try:
                    actions.record_observation(
                        request.user, c.measure, site, data, expected_version=version
                    )
                except StaleEdit:
                    c.errors[c.fields[0]] = STALE
                    raise
                except ValidationError as exc:
                    for f, msgs in getattr(exc, "message_dict", {}).items():
                        c.errors[f] = " ".join(msgs)
                    raise
    except ValidationError as exc:
        if not any(g.errors for g in grid):
            messages.error(request, " ".join(exc.messages))
        messages.error(request, "Nothing was saved: fix the cells marked below.")
        return None
    return len(changes)


def _check_cell(request, c: Cell, layout: str) -> tuple[Cell, actions.ObservationInput, int] | None:
    """The change a cell asks for, or None (untouched, unchanged, or wrong: see c.errors)."""
    p = c.prefix
    posted = {f: request.POST.get(f"{p}-{f}", "").strip() for f in c.fields}
    if layout == "measure":
        flags = sorted(request.POST.getlist(f"{p}-flags"))
        note = request.POST.get(f"{p}-note", "").strip()
    else:  # this layout has no flag or note inputs: keep what is stored
        flags = sorted(c.obs.flags) if c.obs else []
        note = c.obs.note if c.obs else ""
    version_raw = request.POST.get(f"{p}-version", "0")
    seen_version = int(version_raw) if version_raw.isdigit() else 0
    c.values.update(posted, flags=flags, note=note, version=version_raw)
    blank = not any(posted.values()) and (layout == "measures" or (not note and not flags))
    if blank and seen_version == 0:
        return None  # an empty cell left empty (even if someone has filled it since)
    nums: dict[str, float | None] = {}
    for f, raw in posted.items():
        try:
            nums[f] = _number(raw) if raw else None
        except ValueError:
            c.errors[f] = f"{raw!r} is not a number."
    if c.errors:
        return None
    if c.obs is not None and (
        all(getattr(c.obs, f) == nums[f] for f in c.fields)
        and sorted(c.obs.flags) == flags
        and c.obs.note == note
    ):
        return None  # unchanged
    current = c.obs.version if c.obs is not None else 0
    if seen_version != current:
        seen = _seen(c, seen_version)
        if (
            seen
            and all(seen[f] == posted[f] for f in c.fields)
            and (layout == "measures" or (seen["flags"] == flags and seen["note"] == note))
        ):
            return None  # left as it was shown; someone else's later values stand
        c.errors[c.fields[0]] = STALE
        return None
    c.errors.update(
        actions.check_values(
            c.measure, nums.get("numerator"), nums.get("denominator"), nums.get("value"), flags
        )
    )
    if c.errors:
        return None
    data = actions.ObservationInput(period_start=c.start, flags=tuple(flags), note=note, **nums)
    return c, data, seen_version
