"""Read side of measurement: observations to arrays, one SPC batch per measure, chart rows."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from spreadscale.analytics.spc import SpcInputError, SpcResult, portfolio, spc_batch
from spreadscale.web.measurement.models import ChartAdjustment, ChartSettings, Measure

RATIO_CHARTS = ("p", "pp", "u", "up")


@dataclass
class SiteChart:
    site_id: int
    points: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # the latest part
    proposal: dict[str, Any] | None = None
    adjustments: list[ChartAdjustment] = field(default_factory=list)

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.points[-1] if self.points else None


@dataclass
class MeasureCharts:
    measure: Measure
    settings: ChartSettings
    sites: dict[int, SiteChart]
    rollup: dict[str, Any] | None
    error: str = ""

    def y_domain(self) -> tuple[float, float] | None:
        """The shared y-range over all sites' values and limits, for a shared scale."""
        vals = [
            v
            for sc in self.sites.values()
            for p in sc.points
            for v in (p["y"], p["lcl"], p["ucl"])
            if v is not None and np.isfinite(v)
        ]
        if self.measure.target is not None:
            vals.append(self.measure.target)
        return (min(vals), max(vals)) if vals else None


def fetch_rows(qs: QuerySet) -> list[tuple]:
    """Rows of a values_list queryset straight from the cursor (dates may stay ISO strings).

    Skipping the ORM's per-row converters matters at programme scale (millions of rows);
    flags arrive as JSON text on SQLite and as lists on PostgreSQL.
    """
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:  # e.g. site_id__in=[]: no site the user may read
        return []
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if rows and isinstance(rows[0][-1], str):
        rows = [(*r[:-1], json.loads(r[-1]) if r[-1] != "[]" else []) for r in rows]
    return rows


def measure_charts(
    measure: Measure,
    site_ids: Sequence[int],
    settings: ChartSettings,
    *,
    since: date | None = None,
) -> MeasureCharts:
    """SPC for every given site of a measure in one batch call (two queries)."""
    from spreadscale.web.measurement.models import Observation

    qs = Observation.objects.filter(measure=measure, site_id__in=list(site_ids))
    if since is not None:
        qs = qs.filter(period_start__gte=since)
    rows = fetch_rows(
        qs.order_by("site_id", "period_start").values_list(
            "site_id", "period_start", "numerator", "denominator", "value", "flags"
        )
    )
    adjustments = list(
        ChartAdjustment.objects.filter(
            measure=measure, site_id__in=list(site_ids), withdrawn_at__isnull=True
        ).select_related("created_by")
    )
    return charts_from_rows(measure, settings, site_ids, rows, adjustments)


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _days(rows: list[tuple]) -> np.ndarray:
    """The rows' period starts (dates, or ISO text from SQLite's raw cursor) as datetime64[D];
    numpy parses date objects ten times slower than integers, hence the ordinals."""
    if isinstance(rows[0][1], date):
        ordinals = np.fromiter((r[1].toordinal() for r in rows), np.int64, len(rows))
        return (ordinals - EPOCH_ORDINAL).astype("datetime64[D]")
    return np.array([r[1] for r in rows], dtype="datetime64[D]")


def charts_from_rows(
    measure: Measure,
    settings: ChartSettings,
    site_ids: Sequence[int],
    rows: list[tuple],
    adjustments: list[ChartAdjustment],
    *,
    tail: int | None = None,
) -> MeasureCharts:
    """Turn observation rows (site_id, start, num, den, value, flags) into per-site charts."""
    sites = {sid: SiteChart(sid) for sid in site_ids}
    by_site: dict[int, list[ChartAdjustment]] = defaultdict(list)
    for a in adjustments:
        by_site[a.site_id].append(a)
        if a.site_id in sites:
            sites[a.site_id].adjustments.append(a)
    if not rows:
        return MeasureCharts(measure, settings, sites, None)
    chart = settings.chart
    n_rows = len(rows)
    group = np.fromiter((r[0] for r in rows), np.int64, n_rows)
    x = _days(rows)
    num = np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=float)
    den = np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=float)
    val = np.array([np.nan if r[4] is None else r[4] for r in rows], dtype=float)
    if measure.uses_ratio:
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = num / den * measure.multiplier
    else:
        shown = val
    ratio_chart = chart in RATIO_CHARTS and measure.uses_ratio
    scale = measure.multiplier if ratio_chart else 1.0
    phase = np.zeros(n_rows, np.int64)
    baseline = np.ones(n_rows, bool)
    exclude = np.zeros(n_rows, bool)
    dismissed: dict[int, set[date]] = defaultdict(set)
    for sid, adjs in by_site.items():
        mask = group == sid
        for a in adjs:
            d = np.datetime64(a.on, "D")
            if a.kind == ChartAdjustment.Kind.PHASE:
                phase[mask & (x >= d)] += 1
            elif a.kind == ChartAdjustment.Kind.BASELINE:
                baseline[mask] = x[mask] <= d
            elif a.kind == ChartAdjustment.Kind.EXCLUDE:
                exclude[mask & (x == d)] = True
            elif a.kind == ChartAdjustment.Kind.DISMISSED:
                dismissed[sid].add(a.on)
    target = measure.target / scale if measure.target is not None and ratio_chart else None
    if not ratio_chart:
        target = measure.target
    try:
        result = spc_batch(
            num if ratio_chart else shown,
            n=den if ratio_chart else None,
            group=group,
            x=x,
            chart=chart,
            rules=settings.rules,
            improvement=measure.improvement,
            target=target,
            phase=phase,
            baseline_flag=baseline,
            exclude_flag=exclude,
        )
    except SpcInputError as exc:
        return MeasureCharts(
            measure, settings, sites, None, error=f"The {chart} chart cannot be drawn: {exc}"
        )
    _fill(sites, result, rows, scale, dismissed, tail)
    return MeasureCharts(measure, settings, sites, portfolio(result))


def _scaled(v: Any, scale: float) -> float | None:
    if v is None or not np.isfinite(v):
        return None
    return float(v) * scale


def _plain(a: np.ndarray, scale: float = 1.0) -> list[Any]:
    """Floats scaled to display units, NaN as None, as plain Python values."""
    vals = (a.astype(float) * scale).tolist()
    return [None if v != v else v for v in vals]


def _fill(
    sites: dict[int, SiteChart],
    result: SpcResult,
    rows: list[tuple],
    scale: float,
    dismissed: dict[int, set[date]],
    tail: int | None = None,
) -> None:
    pts = result.points
    grp = pts["group"]
    n = grp.size
    if tail is not None and n:
        # only the last `tail` points of each site (the board's sparkline and latest value)
        starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
        ends = np.r_[starts[1:], n]
        idx = np.concatenate(
            [np.arange(max(a, b - tail), b) for a, b in zip(starts, ends, strict=True)]
        )
    else:
        idx = np.arange(n)
    g = grp[idx].tolist()
    src = pts["row"][idx].tolist()
    y, cl, lcl, ucl = (_plain(pts[k][idx], scale) for k in ("y", "cl", "lcl", "ucl"))
    part = pts["part"][idx].tolist()
    ptype = pts["point_type"][idx].tolist()
    reasons = pts["reasons"][idx].tolist()
    include = pts["include"][idx].tolist()
    baseline = pts["baseline"][idx].tolist()
    for i, sid in enumerate(g):
        sc = sites.get(sid)
        if sc is None:
            continue
        r = rows[src[i]]
        sc.points.append(
            {
                "x": r[1] if isinstance(r[1], str) else r[1].isoformat(),
                "y": y[i],
                "cl": cl[i],
                "lcl": lcl[i],
                "ucl": ucl[i],
                "part": part[i],
                "point_type": ptype[i],
                "reasons": reasons[i] or "",
                "numerator": r[2],
                "denominator": r[3],
                "flags": r[5] or [],
                "excluded": not include[i],
                "baseline": bool(baseline[i]),
            }
        )
    summ = result.summary_records()
    for s in summ:  # records are ordered by group then part: the last one wins
        sc = sites.get(s["group"])
        if sc is None:
            continue
        sc.summary = {
            **s,
            "cl": _scaled(s["cl"], scale),
            "lcl": _scaled(s["lcl"], scale),
            "ucl": _scaled(s["ucl"], scale),
        }
    for p in result.proposals:
        sc = sites.get(p["group"])
        on = p["x"].date() if isinstance(p["x"], datetime) else p["x"]
        if sc is None or on in dismissed.get(p["group"], set()):
            continue
        sc.proposal = {**p, "on": on, "cl": _scaled(p["cl"], scale)}
