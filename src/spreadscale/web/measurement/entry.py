"""The data-entry grid: one site, one measure, a run of periods; validated per cell, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from spreadscale.io.periods import period_end
from spreadscale.web import permissions
from spreadscale.web.core import selectors as core_selectors
from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.measurement import actions
from spreadscale.web.measurement.models import Flag, Measure, Observation

N_PERIODS = 12


def _shift(start: date, granularity: str, k: int) -> date:
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


@dataclass
class GridRow:
    start: date
    end: date
    obs: Observation | None
    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    cells: list[tuple[str, str, str]] = field(default_factory=list)  # field, value, error

    @property
    def key(self) -> str:
        return self.start.isoformat()


def _text(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _number(raw: str) -> float:
    return float(raw.replace(",", ""))


@login_required
def entry_grid(request: HttpRequest, slug: str) -> HttpResponse:
    """Enter or correct a run of periods for one site and measure, keyboard first."""
    access = permissions.access_for(request.user, slug)
    rows = core_selectors.site_rows(access.programme)
    sites = [r.enrolment.site for r in rows if access.can_edit_site(r.enrolment.site_id)]
    access.require(bool(sites))
    measures = [
        m for m in Measure.objects.filter(programme=access.programme) if m.frequency != "event"
    ]
    site_id = request.GET.get("site", "")
    site = next((s for s in sites if str(s.pk) == site_id), sites[0])
    measure = next((m for m in measures if m.slug == request.GET.get("measure")), None)
    measure = measure or (measures[0] if measures else None)
    context = {
        "programme": access.programme,
        "access": access,
        "sites": sites,
        "measures": measures,
        "site": site,
        "measure": measure,
        "flags": Flag.choices,
    }
    if measure is None:
        return render(request, "measurement/entry.html", context)
    gran = measure.frequency
    existing = {
        o.period_start: o
        for o in Observation.objects.filter(measure=measure, site=site).order_by("-period_start")[
            : N_PERIODS * 4
        ]
    }
    latest = max(existing, default=None)
    anchor = _shift(latest, gran, 1) if latest else _current(gran, date.today())
    starts = [_shift(anchor, gran, -k) for k in range(N_PERIODS - 1, -1, -1)]
    grid = [GridRow(s, period_end(s, gran), existing.get(s)) for s in starts]
    fields = ["numerator", "denominator"] if measure.uses_ratio else ["value"]
    for g in grid:
        g.values = {
            "numerator": _text(g.obs.numerator if g.obs else None),
            "denominator": _text(g.obs.denominator if g.obs else None),
            "value": _text(g.obs.value if g.obs else None),
            "flags": list(g.obs.flags) if g.obs else [],
            "note": g.obs.note if g.obs else "",
            "version": str(g.obs.version if g.obs else 0),
        }
    context.update({"grid": grid, "fields": fields})
    if request.method == "POST":
        saved = _save_grid(request, access, measure, site, grid, fields)
        if saved is not None:
            messages.success(request, f"Saved {saved} value{'s' if saved != 1 else ''}.")
            url = reverse("measurement_entry", kwargs={"slug": slug})
            return redirect(f"{url}?site={site.pk}&measure={measure.slug}")
        _cells(grid, fields)
        return render(request, "measurement/entry.html", context, status=422)
    _cells(grid, fields)
    return render(request, "measurement/entry.html", context)


def _cells(grid: list[GridRow], fields: list[str]) -> None:
    for g in grid:
        g.cells = [(f, g.values.get(f, ""), g.errors.get(f, "")) for f in fields]


def _save_grid(request, access, measure, site, grid, fields) -> int | None:
    """Check every cell, then save the changed rows together; None when anything is wrong."""
    access.require(access.can_edit_site(site.pk))
    changes: list[tuple[GridRow, actions.ObservationInput, int]] = []
    for g in grid:
        k = g.key
        posted = {f: request.POST.get(f"{k}-{f}", "").strip() for f in fields}
        flags = request.POST.getlist(f"{k}-flags")
        note = request.POST.get(f"{k}-note", "").strip()
        version_raw = request.POST.get(f"{k}-version", "0")
        g.values.update(posted, flags=flags, note=note, version=version_raw)
        if not any(posted.values()) and not note and not flags and g.obs is None:
            continue  # an untouched empty row
        nums: dict[str, float | None] = {}
        for f, raw in posted.items():
            try:
                nums[f] = _number(raw) if raw else None
            except ValueError:
                g.errors[f] = f"{raw!r} is not a number."
        if g.errors:
            continue
        if g.obs is not None and (
            all(getattr(g.obs, f) == nums[f] for f in fields)
            and sorted(g.obs.flags) == sorted(flags)
            and g.obs.note == note
        ):
            continue  # unchanged
        g.errors.update(
            actions.check_values(
                measure, nums.get("numerator"), nums.get("denominator"), nums.get("value"), flags
            )
        )
        if g.errors:
            continue
        version = int(version_raw) if version_raw.isdigit() else 0
        changes.append(
            (
                g,
                actions.ObservationInput(
                    period_start=g.start, flags=tuple(flags), note=note, **nums
                ),
                version,
            )
        )
    if any(g.errors for g in grid):
        messages.error(request, "Nothing was saved: fix the cells marked below.")
        return None
    try:
        with transaction.atomic():
            for g, data, version in changes:
                try:
                    actions.record_observation(
                        request.user, measure, site, data, expected_version=version
                    )
                except StaleEdit:
                    g.errors["numerator" if measure.uses_ratio else "value"] = (
                        "Someone else saved this period after you opened the grid; "
                        "reload to see their values."
                    )
                    raise
    except ValidationError as exc:
        if not any(g.errors for g in grid):
            messages.error(request, " ".join(exc.messages))
        messages.error(request, "Nothing was saved: fix the cells marked below.")
        return None
    return len(changes)
