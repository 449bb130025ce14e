"""The batch SPC pipeline: many series, one pass of array operations."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._limits import compute_limits, seg_mean, seg_sum
from .profiles import PROFILES, RULE_CODES, RuleProfile
from .rules import PART_CODES, evaluate

CHARTS = ("run", "i", "mr", "xbar", "s", "t", "p", "pp", "c", "u", "up", "g")
POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
    "no_data",
)
_MIN_POINTS = {"i": 2, "mr": 2, "t": 2, "pp": 2, "up": 2}


class SpcInputError(ValueError):
    """Bad input, with every problem as (row, field, message); row is 0-based or None."""

    def __init__(self, problems: list[tuple[int | None, str, str]]):
        self.problems = problems
        super().__init__("; ".join(
            (f"row {r}, " if r is not None else "") + f"{f}: {m}" for r, f, m in problems[:10]
        ) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""))


@dataclass
class SpcResult:
    """Result of :func:`spc_batch`: per-point and per-(group, part) columns.

    ``points`` and ``summary`` map column names to numpy arrays of equal length; use
    :meth:`points_records` / :meth:`summary_records` for lists of dicts, or
    :meth:`points_columns` / :meth:`summary_columns` for dicts of plain lists.
    ``proposals`` lists the rebase proposals (never applied).
    """

    chart: str
    profile: RuleProfile
    improvement: str
    points: dict[str, np.ndarray]
    summary: dict[str, np.ndarray]
    proposals: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def _py(v: Any) -> Any:
        if isinstance(v, np.datetime64):  # ns values would become ints in .item()
            if np.isnat(v):
                return None
            coarse = np.datetime_data(v.dtype)[0] in ("Y", "M", "W", "D")
            return v.astype("datetime64[D]" if coarse else "datetime64[us]").item()
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and v != v:
            return None
        return v

    def _columns(self, table: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        return {k: [self._py(v) for v in arr.tolist()] if arr.dtype.kind not in "OM"
                else [self._py(v) for v in arr] for k, arr in table.items()}

    def _records(self, table: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        cols = self._columns(table)
        keys = list(cols)
        return [dict(zip(keys, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]

    def points_columns(self) -> dict[str, list[Any]]:
        """Per-point columns as plain Python lists (NaN becomes None)."""
        return self._columns(self.points)

    def summary_columns(self) -> dict[str, list[Any]]:
        """Per-(group, part) columns as plain Python lists (NaN becomes None)."""
        return self._columns(self.summary)

    def points_records(self) -> list[dict[str, Any]]:
        """One dict per point."""
        return self._records(self.points)

    def summary_records(self) -> list[dict[str, Any]]:
        """One dict per (group, part)."""
        return self._records(self.summary)


def _as_float(a: ArrayLike | None, size: int, name: str) -> NDArray[np.float64] | None:
    if a is None:
        return None
    try:
        out = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SpcInputError([(None, name, f"values must be numeric ({exc})")]) from None
    if out.shape != (size,):
        raise SpcInputError([(None, name, f"expected {size} values, got {out.size}")])
    return out


def _x_key(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Sort key, missing mask and whether x is categorical (kept in first-seen order)."""
    kind = x.dtype.kind
    if kind == "M":
        missing = np.isnat(x)
        return x.astype("datetime64[ns]").view(np.int64).astype(np.float64), missing, False
    if kind in "biuf":
        xf = x.astype(float)
        return xf, ~np.isfinite(xf), False
    missing = np.array([v is None or v == "" or (isinstance(v, float) and v != v) for v in x],
                       dtype=bool)
    present = x[~missing]
    if not present.size:
        return np.full(x.size, np.nan), missing, False
    # Dates, datetimes and numbers arrive as object arrays from lists; ISO date strings too.
    if present.size and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                            for v in present.tolist()):
        xf = np.full(x.size, np.nan)
        xf[~missing] = present.astype(float)
        return xf, missing, False
    try:
        xo = x.astype(object)
        xo[missing] = None
        xd = xo.astype("datetime64")
    except (ValueError, TypeError):
        xd = None
    if xd is not None:
        missing = missing | np.isnat(xd)
        return xd.astype("datetime64[ns]").view(np.int64).astype(np.float64), missing, False
    xs = np.where(missing, "", x.astype(str))
    uniq, first, inv = np.unique(xs, return_index=True, return_inverse=True)
    rank = np.empty(uniq.size, np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(uniq.size)
    return rank[inv].astype(np.float64), missing, True


def _factorize(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct labels and int64 codes; O(n) for integer ids of modest range."""
    if g.dtype.kind in "iub" and g.size:
        lo, hi = int(g.min()), int(g.max())
        if hi - lo <= 4 * g.size + 1024:
            present = np.bincount(g.astype(np.int64) - lo, minlength=hi - lo + 1) > 0
            code_of = np.cumsum(present) - 1
            labels = (np.flatnonzero(present) + lo).astype(g.dtype)
            return labels, code_of[g.astype(np.int64) - lo]
    labels, codes = np.unique(g, return_inverse=True)
    return labels, codes.astype(np.int64)


def _positions(v: int | Sequence[int] | None) -> np.ndarray:
    if v is None:
        return np.zeros(0, np.int64)
    return np.atleast_1d(np.asarray(v, dtype=np.int64))


def _validate(chart: str, y: np.ndarray, n: np.ndarray | None, sd: np.ndarray | None) -> None:
    problems: list[tuple[int | None, str, str]] = []

    def add(bad: np.ndarray, fld: str, msg: str) -> None:
        for r in np.flatnonzero(bad)[:20]:
            problems.append((int(r), fld, msg))

    for arr, fld in ((y, "y"), (n, "n"), (sd, "sd")):
        if arr is not None:
            add(np.isinf(arr), fld, "infinite value (leave the cell empty for a missing value)")
    with np.errstate(invalid="ignore"):
        if chart in ("p", "pp", "u", "up") and n is None:
            problems.append((None, "n", f"the {chart} chart needs a denominator n"))
        if n is not None:
            add(n < 0, "n", "negative value")
            if chart in ("p", "pp", "u", "up"):
                add(n == 0, "n", "denominator is 0")
        if chart in ("p", "pp", "u", "up", "c", "g"):
            add(y < 0, "y", "negative count")
        if chart in ("p", "pp") and n is not None:
            add((y > n) & (n > 0), "y", "numerator above denominator")
        if chart == "t":
            add(y <= 0, "y", "the t chart needs values above 0")
        if sd is not None:
            add(sd < 0, "sd", "negative standard deviation")
    if problems:
        problems.sort(key=lambda p: (-1 if p[0] is None else p[0]))
        raise SpcInputError(problems)


def spc_batch(
    y: ArrayLike,
    *,
    group: ArrayLike | None = None,
    x: ArrayLike | None = None,
    n: ArrayLike | None = None,
    sd: ArrayLike | None = None,
    chart: str = "run",
    rules: str | RuleProfile = "anhoej",
    improvement: str = "neutral",
    target: float | Mapping[Any, float] | None = None,
    part: int | Sequence[int] | None = None,
    freeze: int | None = None,
    exclude: int | Sequence[int] | None = None,
    phase: ArrayLike | None = None,
    baseline_flag: ArrayLike | None = None,
    exclude_flag: ArrayLike | None = None,
    rebase: Sequence[Any] | Mapping[Any, Sequence[Any]] | None = None,
    shift_length: int | None = None,
    trend_length: int | None = None,
    group_names: Sequence[Any] | Mapping[Any, Any] | None = None,
) -> SpcResult:
    """Compute SPC charts for many series at once from columnar arrays.

    Rows are sorted once by (group, x); rows sharing (group, x) form one subgroup. All
    centre lines, limits and rules are computed with array operations over the whole
    input (no loop per point or per group).

    Parameters
    ----------
    y : array_like
        Values. With ``n`` given, ``y`` is the numerator (events) and the plotted value is
        ``sum(y) / sum(n)`` per subgroup; otherwise the subgroup mean. For xbar/s charts
        with ``sd`` given, ``y`` holds subgroup means; without ``sd``, raw observations.
    group : array_like, optional
        Group (site/series) id per row; one group if omitted.
    x : array_like, optional
        Numbers or datetime64 (ordered), or strings (categorical: first-seen order, runs
        analysis off). Rows with missing x are dropped. Default: row order in each group.
    n : array_like, optional
        Denominators (p, pp, u, up) or subgroup sizes (xbar, s with ``sd``).
    sd : array_like, optional
        Subgroup standard deviations for pre-aggregated xbar/s input.
    chart : str
        One of run, i, mr, xbar, s, t, p, pp, c, u, up, g.
    rules : str or RuleProfile
        A name in :data:`PROFILES` (anhoej, ihi, weco, nelson, mdc) or a profile.
    improvement : {"neutral", "increase", "decrease"}
        Direction of improvement, which names special causes improvement or concern.
    target : float or mapping, optional
        Target for the assurance icon, one for all groups or per group id.
    part, freeze, exclude : int or sequence of int, optional
        1-based positions inside every group (qicharts2): a new part starts after each
        ``part`` position; ``freeze`` makes the first K points of each part the baseline
        (ignored when ``part`` is given); ``exclude`` leaves points out of the limits
        and runs analysis.
    phase, baseline_flag, exclude_flag : array_like, optional
        Per-row phase labels (a change of label starts a part), baseline flags and
        exclusion flags, so each group can have its own.
    rebase : sequence or mapping, optional
        x values where a new part starts, for all groups or per group id.
    shift_length, trend_length : int, optional
        Override the profile's shift/trend lengths (not for anhoej).
    group_names : sequence or mapping, optional
        Names of the group ids for error messages, e.g. the categories when ``group``
        holds integer codes (``group_names[code]``).

    Returns
    -------
    SpcResult

    Examples
    --------
    >>> r = spc_batch([5, 6, 5, 7, 6, 5, 20, 30, 31, 29, 30, 32],
    ...               group=["a"] * 6 + ["b"] * 6, chart="i")
    >>> [round(v, 3) for v in r.summary["cl"].tolist()]
    [5.667, 28.667]
    >>> r.summary["sigma_signal"].tolist()
    [0, 1]
    >>> str(r.points["reasons"][6])
    'beyond_limits'
    """
    if chart not in CHARTS:
        raise SpcInputError([(None, "chart", f"unknown chart {chart!r}; one of {CHARTS}")])
    if improvement not in ("neutral", "increase", "decrease"):
        raise SpcInputError([(None, "improvement", f"unknown direction {improvement!r}")])
    profile = _profile(rules, shift_length, trend_length)

    yv = np.asarray(y, dtype=float) if not isinstance(y, np.ndarray) else y.astype(float)
    size = yv.size
    nv = _as_float(n, size, "n")
    sdv = _as_float(sd, size, "sd")
    if chart in ("xbar", "s") and sdv is not None and nv is None:
        raise SpcInputError([(None, "n", "pre-aggregated xbar/s input needs subgroup sizes n")])
    _validate(chart, yv, nv, sdv)
    if size == 0:
        raise SpcInputError([(None, "y", "no data: there are no rows to chart")])

    # --- step 1: drop missing x, sort by (group, x), aggregate subgroups ------------------
    g_raw = np.zeros(size, np.int64) if group is None else np.asarray(group)
    if g_raw.shape != (size,):
        raise SpcInputError([(None, "group", f"expected {size} values")])
    if x is None:
        xk, xmiss, categorical = np.zeros(size), np.zeros(size, bool), False
        x_arr: np.ndarray = np.arange(size)
    else:
        x_arr = np.asarray(x)
        if x_arr.shape != (size,):
            raise SpcInputError([(None, "x", f"expected {size} values")])
        if x_arr.dtype.kind == "f" and np.isinf(x_arr).any():
            raise SpcInputError([(int(r), "x", "infinite value")
                                 for r in np.flatnonzero(np.isinf(x_arr))[:20]])
        xk, xmiss, categorical = _x_key(x_arr)
        if xmiss.all():
            raise SpcInputError([(None, "x", "every row has a missing x value: there is "
                                  "nothing to chart")])
    all_rows = not xmiss.any()
    rows = np.arange(size) if all_rows else np.flatnonzero(~xmiss)
    labels, gcode = _factorize(g_raw if all_rows else g_raw[rows])
    if not all_rows:
        xk = xk[rows]
    if x is None:  # default x: position of the row inside its group
        order0 = np.argsort(gcode, kind="stable")
        xk = np.empty(rows.size)
        gs = gcode[order0]
        first = np.concatenate(([True], gs[1:] != gs[:-1]))
        starts = np.flatnonzero(first)
        ar = np.arange(rows.size)
        xk[order0] = ar - np.repeat(starts, np.diff(np.append(starts, rows.size))) + 1
        x_arr = xk.astype(np.int64)
        x_src = x_arr
    else:
        x_src = x_arr if all_rows else x_arr[rows]
    dg = np.diff(gcode)
    # Exports are usually sorted already: then skip the sort and every reordering copy.
    identity = False
    if rows.size and ((dg > 0) | ((dg == 0) & (np.diff(xk) >= 0))).all():
        order = rows
        identity = all_rows
        gs, xs = gcode, xk
    else:
        o = np.lexsort((xk, gcode))
        order, gs, xs = rows[o], gcode[o], xk[o]
        x_src = x_src[o]

    m = order.size
    new = np.ones(m, bool)
    new[1:] = (gs[1:] != gs[:-1]) | (xs[1:] != xs[:-1])
    starts = np.flatnonzero(new)
    P = starts.size
    aggregated = m != P
    def reorder(v: np.ndarray) -> np.ndarray:
        return v if identity else v[order]

    def at_starts(v: np.ndarray) -> np.ndarray:
        return v[starts] if aggregated else v

    ys = reorder(yv)
    ns = reorder(nv) if nv is not None else None

    def red(v: np.ndarray) -> np.ndarray:
        return np.add.reduceat(v, starts) if aggregated else v

    def any_(v: np.ndarray) -> np.ndarray:
        return np.logical_or.reduceat(v, starts) if aggregated else v

    def err() -> Any:
        return np.errstate(invalid="ignore", divide="ignore")
    sd_pt = np.full(P, np.nan)
    if chart in ("xbar", "s") and sdv is not None:
        assert ns is not None
        sds = reorder(sdv)
        ok = np.isfinite(ys) & np.isfinite(ns) & (ns > 0)
        nn = red(np.where(ok, ns, 0.0))
        with err():
            mean = red(np.where(ok, ns * ys, 0.0)) / nn
            dev = np.where(ok, ns * (ys - np.repeat(mean, np.diff(np.append(starts, m)))) ** 2,
                           0.0)
            ss = red(np.where(ok & (ns > 1), (ns - 1) * np.where(np.isfinite(sds), sds, 0) ** 2,
                              0.0)) + red(dev)
            sd_pt = np.sqrt(ss / (nn - 1))
        value, n_pt, num = mean, nn, red(np.where(ok, ns * ys, 0.0))
    elif ns is not None:
        ok = np.isfinite(ys) & np.isfinite(ns)
        num = red(np.where(ok, ys, 0.0))
        n_pt = red(np.where(ok, ns, 0.0))
        cnt = red(ok.astype(float))
        with err():
            value = np.where((cnt > 0) & (n_pt > 0), num / n_pt, np.nan)
        n_pt = np.where(cnt > 0, n_pt, np.nan)
    else:
        ok = np.isfinite(ys)
        num = red(np.where(ok, ys, 0.0))
        n_pt = red(ok.astype(float))
        with err():
            value = num / n_pt
        if chart in ("xbar", "s"):
            with err():
                rep = np.repeat(value, np.diff(np.append(starts, m)))
                ss = red(np.where(ok, (ys - rep) ** 2, 0.0))
                sd_pt = np.sqrt(ss / (n_pt - 1))
        n_pt = np.where(n_pt > 0, n_pt, np.nan)
    g_pt = at_starts(gs)
    x_pt = at_starts(x_src)
    xk_pt = at_starts(xs)
    row_pt = at_starts(order)

    # --- step 2: positions, parts, baseline, exclusions ------------------------------
    gfirst = np.ones(P, bool)
    gfirst[1:] = g_pt[1:] != g_pt[:-1]
    gstart_idx = np.flatnonzero(gfirst)
    glen = np.diff(np.append(gstart_idx, P))
    pos = np.arange(P) - np.repeat(gstart_idx, glen) + 1

    def where(code: int) -> str:
        """How an error names a group: its label (or given name), or 'the series'."""
        if group is None:
            return "the series"
        lab = SpcResult._py(labels[code])
        if group_names is not None:
            with contextlib.suppress(KeyError, IndexError, TypeError):
                lab = SpcResult._py(group_names[lab])
        return f"group {lab!r}"

    g_of = g_pt[gstart_idx]
    _check_enough(chart, value, gstart_idx, row_pt, g_of, where)
    if chart in ("xbar", "s"):
        _check_subgroups(chart, sd_pt, n_pt, gstart_idx, row_pt, g_of, where)
    part_pos = _positions(part)
    _check_positions(part_pos, freeze, _positions(exclude), glen, g_of, where)
    brk = np.zeros(P, bool)
    if part_pos.size:
        brk |= np.isin(pos - 1, part_pos)
    if phase is not None:
        ph = at_starts(reorder(np.asarray(phase)))
        brk[1:] |= ph[1:] != ph[:-1]
    if rebase is not None:
        brk |= _rebase_breaks(rebase, labels, g_pt, xk_pt, x_arr, gfirst)
    seg_new = gfirst | brk
    seg = np.cumsum(seg_new) - 1
    seg_start_idx = np.flatnonzero(seg_new)
    n_seg = seg_start_idx.size
    seg_len = np.diff(np.append(seg_start_idx, P))
    pos_in_part = np.arange(P) - np.repeat(seg_start_idx, seg_len) + 1
    part_no = seg - np.repeat(seg[gstart_idx], glen) + 1

    base = np.ones(P, bool)
    if freeze is not None and not part_pos.size:
        base = pos_in_part <= int(freeze)
    if baseline_flag is not None:
        bf = any_(reorder(np.asarray(baseline_flag, dtype=bool)))
        has = seg_sum(bf, seg_start_idx) > 0
        # A part without any flagged point keeps its default baseline.
        base = np.where(has[seg], base & bf, base)
    ex_pos = _positions(exclude)
    include = ~np.isin(pos, ex_pos) if ex_pos.size else np.ones(P, bool)
    if exclude_flag is not None:
        include &= ~any_(reorder(np.asarray(exclude_flag, dtype=bool)))

    # --- step 3-5: limits and rules ---------------------------------------------------
    prm = profile.params
    mdc = profile.name == "mdc"
    screen = bool(prm.get("screen_moving_ranges", True))
    lim = compute_limits(
        chart, y=value, n=n_pt, num=num, sd=sd_pt, seg=seg, n_seg=n_seg, base=base,
        include=include, xmr_constant=float(prm["xmr_constant"]) if mdc else None,
        sigma_k=float(prm.get("sigma", 3.0)), screen=screen,
    )
    astro_lcl = astro_ucl = None
    if chart == "run" and "astronomical" in profile.rules and prm.get("astronomical_sigma"):
        # An I chart of the run chart's own values, part by part, gives the limits.
        ilim = compute_limits("i", y=value, n=n_pt, num=num, sd=sd_pt, seg=seg, n_seg=n_seg,
                              base=base, include=include,
                              sigma_k=float(prm["astronomical_sigma"]), screen=screen)
        astro_lcl, astro_ucl = ilim.lcl, ilim.ucl
    runs_off = chart == "mr" or categorical
    sig = evaluate(
        profile, y=lim.y_rule, cl=lim.cl_rule, lcl=lim.lcl_rule, ucl=lim.ucl_rule,
        sig=lim.sig, zc=lim.zc_rule, seg=seg, n_seg=n_seg, include=include,
        runs_off=runs_off, run_chart=chart == "run", astro_lcl=astro_lcl, astro_ucl=astro_ucl,
    )

    # --- point types ---------------------------------------------------------------
    special = sig.mask > 0
    d = sig.direction
    # Rules without a direction (alternation, stratification, ...) give neutral types by side.
    neutral = np.where(lim.y_rule >= lim.cl_rule, 3, 4)
    if improvement == "increase":
        ptype = np.where(d > 0, 1, np.where(d < 0, 2, neutral))
    elif improvement == "decrease":
        ptype = np.where(d < 0, 1, np.where(d > 0, 2, neutral))
    else:
        ptype = np.where(d > 0, 3, np.where(d < 0, 4, neutral))
    ptype = np.where(special, ptype, 0)
    ptype = np.where(np.isfinite(lim.y), ptype, 5).astype(np.int8)

    with err():
        close_k = 2.0 if chart != "t" else np.nan
        lcl_close = lim.cl_rule - close_k * lim.sig if chart != "g" else lim.zc_rule - 2 * lim.sig
        ucl_close = lim.cl_rule + close_k * lim.sig if chart != "g" else lim.zc_rule + 2 * lim.sig
    sigma_pt = np.zeros(P, bool)
    sigma_pt[:] = (sig.mask & 1) > 0
    point_labels = np.array(POINT_TYPES, dtype=object)
    reason_text = _reason_strings(sig.mask)
    group_pt = labels[g_pt]

    points: dict[str, np.ndarray] = {
        "group": group_pt,
        "x": x_pt,
        "row": row_pt,
        "y": lim.y,
        "n": n_pt,
        "part": part_no,
        "cl": lim.cl,
        "lcl": lim.lcl,
        "ucl": lim.ucl,
        "lcl_close": lcl_close,
        "ucl_close": ucl_close,
        "sigma_signal": sigma_pt,
        "runs_signal": sig.runs_signal[seg],
        "baseline": base,
        "include": include,
        "point_type": point_labels[ptype],
        "point_type_code": ptype,
        "reasons": reason_text,
        "reason_mask": sig.mask,
    }

    # --- summary per (group, part) ----------------------------------------------------
    seg_first = seg_start_idx
    seg_last = np.append(seg_start_idx[1:], P) - 1
    n_obs = seg_sum(np.isfinite(lim.y), seg_start_idx).astype(np.int64)
    allpts = np.ones(P, bool)
    s_lcl = seg_mean(lim.lcl, allpts, seg, n_seg, seg_start_idx)
    s_cl = seg_mean(lim.cl, allpts, seg, n_seg, seg_start_idx)
    s_ucl = seg_mean(lim.ucl, allpts, seg, n_seg, seg_start_idx)
    n_sigma = seg_sum(sigma_pt, seg_start_idx).astype(np.int64)
    # Variation icon: the point type of the last point with data in the part.
    has_y = np.isfinite(lim.y)
    last_idx = np.maximum.accumulate(np.where(has_y, np.arange(P), -1))[seg_last]
    valid_last = last_idx >= seg_first
    var_code = np.where(valid_last, ptype[np.maximum(last_idx, 0)], 5)
    assurance = _assurance(target, improvement, labels, g_pt[seg_first], s_lcl, s_ucl)
    part_table = np.array(["|".join(c for bit, c in PART_CODES if pm & bit) for pm in range(8)],
                          dtype=object)
    part_reasons = part_table[sig.part_mask]
    prop_x, prop_ev, prop_row, proposals = _proposals(sig, seg_first, x_pt, lim, labels, g_pt, part_no,
                                            n_seg, include, has_y, seg, row_pt)
    summary: dict[str, np.ndarray] = {
        "group": labels[g_pt[seg_first]],
        "part": part_no[seg_first],
        "n_obs": n_obs,
        "n_useful": sig.n_useful,
        "longest_run": sig.longest_run,
        "longest_run_max": sig.longest_run_max,
        "n_crossings": sig.n_crossings,
        "n_crossings_min": sig.n_crossings_min,
        "runs_signal": sig.runs_signal,
        "lcl": s_lcl,
        "cl": s_cl,
        "ucl": s_ucl,
        "sigma_signal": n_sigma,
        "variation_type": point_labels[var_code],
        "assurance_type": assurance,
        "proposed_rebase": prop_x,
        "rebase_evidence": prop_ev,
        "proposed_rebase_row": prop_row,
        "runs_reasons": part_reasons,
        "x_first": x_pt[seg_first],
        "x_last": x_pt[seg_last],
        "trial_limits": (seg_sum(base & include & has_y, seg_start_idx)
                         < int(profile.params.get("trial_limits_below", 0))),
    }
    return SpcResult(chart=chart, profile=profile, improvement=improvement, points=points,
                     summary=summary, proposals=proposals)


def _profile(rules: str | RuleProfile, shift_length: int | None,
             trend_length: int | None) -> RuleProfile:
    if isinstance(rules, RuleProfile):
        profile = rules
    else:
        if rules not in PROFILES:
            raise SpcInputError([(None, "rules", f"unknown profile {rules!r}; "
                                  f"one of {sorted(PROFILES)}")])
        profile = PROFILES[rules]
    over = {k: v for k, v in (("shift_length", shift_length), ("trend_length", trend_length))
            if v is not None}
    if over:
        if profile.name == "anhoej":
            raise SpcInputError([(None, "rules", "the anhoej profile has no shift or trend "
                                  "length; its limits follow from the number of points")])
        for k, v in over.items():
            if int(v) < 2:
                raise SpcInputError([(None, k, "must be at least 2")])
        try:
            profile = profile.with_params(**{k: int(v) for k, v in over.items()})
        except ValueError as exc:
            raise SpcInputError([(None, "rules", str(exc))]) from None
    return profile


def _check_enough(chart: str, value: np.ndarray, gstart_idx: np.ndarray, row_pt: np.ndarray,
                  g_of: np.ndarray, where: Callable[[int], str]) -> None:
    need = _MIN_POINTS.get(chart, 1)
    cnt = seg_sum(np.isfinite(value), gstart_idx)
    bad = np.flatnonzero(cnt < need)
    if bad.size:
        raise SpcInputError([
            (int(row_pt[gstart_idx[b]]), "y",
             f"{where(int(g_of[b]))} has {int(cnt[b])} usable value(s); "
             f"the {chart} chart needs at least {need}")
            for b in bad[:20]
        ])


def _check_subgroups(chart: str, sd_pt: np.ndarray, n_pt: np.ndarray, gstart_idx: np.ndarray,
                     row_pt: np.ndarray, g_of: np.ndarray, where: Callable[[int], str]) -> None:
    """xbar/s estimate sigma within subgroups: each group needs one of 2 or more values."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(sd_pt) & (n_pt >= 2)
    bad = np.flatnonzero(seg_sum(ok, gstart_idx) == 0)
    if bad.size:
        raise SpcInputError([
            (int(row_pt[gstart_idx[b]]), "y",
             f"{where(int(g_of[b]))} has no subgroup of 2 or more values; the {chart} chart "
             "needs several rows sharing (group, x) (raw observations), or subgroup sizes "
             "n >= 2 with their sd")
            for b in bad[:20]
        ])


def _check_positions(part: np.ndarray, freeze: int | None, exclude: np.ndarray,
                     glen: np.ndarray, g_of: np.ndarray, where: Callable[[int], str]) -> None:
    """Positions count 1..k inside each group; one beyond a group's last point is an error."""
    problems: list[tuple[int | None, str, str]] = []
    for fld, vals in (("part", part), ("freeze", np.atleast_1d(np.asarray(
            [] if freeze is None else [freeze], dtype=np.int64))), ("exclude", exclude)):
        if vals.size and vals.min() < 1:
            problems.append((None, fld, f"positions start at 1; got {int(vals.min())}"))
            continue
        if not vals.size:
            continue
        top = int(vals.max())
        # A part break after the last point would start an empty part.
        bad = np.flatnonzero(glen <= top if fld == "part" else glen < top)
        for b in bad[:5]:
            what = ("no point follows it" if fld == "part" and top == glen[b]
                    else "it is beyond the last point")
            problems.append((None, fld, f"{where(int(g_of[b]))} has {int(glen[b])} points; "
                             f"position {top} is out of range ({what})"))
        if bad.size > 5:
            problems.append((None, fld, f"and {bad.size - 5} more groups"))
    if problems:
        raise SpcInputError(problems)


def _rebase_breaks(rebase: Any, labels: np.ndarray, g_pt: np.ndarray, xk_pt: np.ndarray,
                   x_arr: np.ndarray, gfirst: np.ndarray) -> np.ndarray:
    """First point at or after each rebase x value starts a new part."""
    P = g_pt.size
    brk = np.zeros(P, bool)

    def keys(vals: Sequence[Any]) -> np.ndarray:
        arr = np.asarray(list(vals))
        if x_arr.dtype.kind == "M":
            return arr.astype(x_arr.dtype).astype("datetime64[ns]").view(np.int64).astype(float)
        return arr.astype(float)

    if isinstance(rebase, Mapping):
        lab_index = {lab: i for i, lab in enumerate(labels.tolist())}
        items = [(lab_index.get(k), v) for k, v in rebase.items()]
    else:
        items = [(None, rebase)]
    for code, vals in items:
        if code is None and isinstance(rebase, Mapping):
            continue
        for r in keys(vals):
            mk = xk_pt >= r
            if code is not None:
                mk &= g_pt == code
            prev = np.zeros(P, bool)
            prev[1:] = mk[:-1] & ~gfirst[1:]
            brk |= mk & ~prev
    return brk & ~gfirst


def _reason_strings(mask: np.ndarray) -> np.ndarray:
    """'|'-joined rule codes per point, built once per distinct mask."""
    # Masks have len(RULE_CODES) bits, so a lookup table beats sorting a million values.
    present = np.flatnonzero(np.bincount(mask, minlength=1 << len(RULE_CODES)))
    table = np.full(1 << len(RULE_CODES), "", dtype=object)
    for u in present.tolist():
        table[u] = "|".join(c for i, c in enumerate(RULE_CODES) if u >> i & 1)
    return table[mask]


def _assurance(target: Any, improvement: str, labels: np.ndarray, seg_group: np.ndarray,
               lcl: np.ndarray, ucl: np.ndarray) -> np.ndarray:
    out = np.full(lcl.size, "", dtype=object)
    if target is None or improvement == "neutral":
        return out
    if isinstance(target, Mapping):
        tg = np.array([float(target.get(lab, np.nan)) for lab in labels.tolist()])[seg_group]
    else:
        tg = np.full(lcl.size, float(target))
    ok = np.isfinite(tg) & np.isfinite(lcl) & np.isfinite(ucl)
    hi_fail = tg > ucl
    lo_pass = tg < lcl
    if improvement == "increase":
        res = np.where(hi_fail, "consistent_fail", np.where(lo_pass, "consistent_pass",
                                                             "inconsistent"))
    else:
        res = np.where(hi_fail, "consistent_pass", np.where(lo_pass, "consistent_fail",
                                                             "inconsistent"))
    out[ok] = res[ok]
    return out


def _proposals(sig: Any, seg_first: np.ndarray, x_pt: np.ndarray, lim: Any, labels: np.ndarray,
               g_pt: np.ndarray, part_no: np.ndarray, n_seg: int, include: np.ndarray,
               has_y: np.ndarray, seg: np.ndarray, row_pt: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Propose a new part at the start of the latest sustained shift of each part."""
    prop_x = np.full(n_seg, None, dtype=object)
    prop_ev = np.full(n_seg, "", dtype=object)
    prop_row = np.full(n_seg, -1, np.int64)
    s_seg, s_start = sig.shift_seg, sig.shift_start
    if s_seg.size == 0:
        return prop_x, prop_ev, prop_row, []
    # A shift that begins at the part's first useful point is the baseline itself.
    useful = include & has_y
    first_useful = np.full(n_seg, -1, np.int64)
    idx = np.flatnonzero(useful)
    first_of = np.concatenate(([True], seg[idx][1:] != seg[idx][:-1])) if idx.size else idx
    first_useful[seg[idx[first_of]]] = idx[first_of]
    keep = s_start != first_useful[s_seg]
    if not keep.any():
        return prop_x, prop_ev, prop_row, []
    ks = np.flatnonzero(keep)
    last = np.flatnonzero(np.append(s_seg[ks][1:] != s_seg[ks][:-1], True))
    sel = ks[last]  # the latest qualifying run in each segment (runs sorted by start)
    a_all, b_all = sig.shift_start[sel], sig.shift_end[sel]
    cs = np.concatenate(([0.0], np.cumsum(np.where(useful, lim.y, 0.0))))
    cc = np.concatenate(([0], np.cumsum(useful)))
    run_means = ((cs[b_all + 1] - cs[a_all]) / (cc[b_all + 1] - cc[a_all])).tolist()
    segs = sig.shift_seg[sel]
    prop_x[segs] = x_pt[a_all]
    prop_row[segs] = row_pt[a_all]

    def py(v: np.ndarray) -> list[Any]:
        return [SpcResult._py(e) for e in (v if v.dtype.kind in "OM" else v.tolist())]

    # Columns converted once, then zipped: no numpy scalar handling per proposal.
    cols = zip(py(labels[g_pt[a_all]]), part_no[a_all].tolist(), py(x_pt[a_all]),
               py(x_pt[b_all]), np.where(sig.shift_side[sel] > 0, "above", "below").tolist(),
               sig.shift_len[sel].tolist(), sig.shift_threshold[sel].tolist(),
               lim.cl[a_all].tolist(), run_means, strict=True)
    proposals = [
        {"group": g, "part": pt, "x": xs, "rule": sig.shift_rule, "side": side, "n_points": ln,
         "threshold": th, "x_start": xs, "x_end": xe, "cl": cl, "run_mean": rm}
        for g, pt, xs, xe, side, ln, th, cl, rm in cols
    ]
    prop_ev[segs] = [
        f"{p['rule']}: {p['n_points']} points {p['side']} the centre line {p['cl']:.6g} "
        f"(signal from {p['threshold']}) from {p['x_start']} to {p['x_end']}; "
        f"run mean {p['run_mean']:.6g}"
        for p in proposals
    ]
    return prop_x, prop_ev, prop_row, proposals
