"""Centre lines and control limits per segment, for every chart type (see docs/spc.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .constants import D2, MR_UCL_FACTOR, a3, b3_b4

Float = NDArray[np.float64]
Int = NDArray[np.int64]
Bool = NDArray[np.bool_]


@dataclass
class Limits:
    """Plotted values and limits, plus the arrays the rules work on (the 'rule scale')."""

    y: Float  # plotted value
    cl: Float
    lcl: Float
    ucl: Float
    sig: Float  # one sigma per point on the rule scale (NaN: no zones)
    y_rule: Float
    cl_rule: Float
    lcl_rule: Float
    ucl_rule: Float
    zc_rule: Float  # centre of the sigma zones (the mean, also for g charts)


def seg_starts(seg: Int) -> Int:
    """First index of each segment (segments are contiguous runs of equal ``seg``)."""
    if seg.size == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.concatenate(([True], seg[1:] != seg[:-1])))


def seg_sum(v: NDArray, starts: Int) -> Float:
    """Sum of ``v`` per contiguous segment (reduceat is much faster than a weighted bincount)."""
    if starts.size == 0:
        return np.zeros(0)
    return np.add.reduceat(v, starts, dtype=np.float64)


def seg_mean(v: Float, mask: Bool, seg: Int, n_seg: int, starts: Int | None = None) -> Float:
    """Mean of ``v`` over ``mask`` per segment (NaN for an empty segment)."""
    st = seg_starts(seg) if starts is None else starts
    m = mask & np.isfinite(v)
    tot = seg_sum(np.where(m, v, 0.0), st)
    cnt = seg_sum(m, st)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tot / cnt


def seg_median(v: Float, mask: Bool, seg: Int, n_seg: int) -> Float:
    """Median of ``v`` over ``mask`` per segment, with one sort for all segments."""
    idx = np.flatnonzero(mask & np.isfinite(v))
    vals, sg = v[idx], seg[idx]
    order = np.lexsort((vals, sg))
    vals = vals[order]
    cnt = np.bincount(sg, minlength=n_seg)
    start = np.concatenate(([0], np.cumsum(cnt)[:-1]))
    out = np.full(n_seg, np.nan)
    ok = cnt > 0
    lo = start[ok] + (cnt[ok] - 1) // 2
    hi = start[ok] + cnt[ok] // 2
    out[ok] = (vals[lo] + vals[hi]) / 2.0
    return out


def prev_in_seg(mask: Bool, seg: Int) -> Int:
    """Index of the previous ``mask`` point in the same segment, for every point (-1: none)."""
    n = mask.size
    idx = np.where(mask, np.arange(n), -1)
    last = np.maximum.accumulate(idx)
    prev = np.full(n, -1, np.int64)
    prev[1:] = last[:-1]
    ok = prev >= 0
    ok[ok] = seg[prev[ok]] == seg[ok]
    return np.where(ok, prev, -1)


def seg_amr(v: Float, mask: Bool, seg: Int, n_seg: int, screen: bool = True) -> Float:
    """Average moving range over the ``mask`` points of each segment, optionally screened.

    Moving ranges join consecutive ``mask`` points (so excluded points are bridged); a
    missing value gives missing moving ranges on both sides, which are dropped. Screening
    (Nelson) drops ranges >= 3.267 * AMR and takes the mean once more; if that would leave
    no range (all ranges equal to 0), the unscreened mean is kept.
    """
    idx = np.flatnonzero(mask)
    a, b = idx[:-1], idx[1:]
    same = seg[a] == seg[b]
    mr = np.abs(v[b[same]] - v[a[same]])
    ms = seg[b[same]]
    ok = np.isfinite(mr)
    mr, ms = mr[ok], ms[ok]
    tot, cnt = _sorted_sums(mr, ms, n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        amr = tot / cnt
        if screen:
            keep = mr < MR_UCL_FACTOR * amr[ms]
            tot2, cnt2 = _sorted_sums(mr[keep], ms[keep], n_seg)
            amr = np.where(cnt2 > 0, tot2 / cnt2, amr)
    return amr


def _sorted_sums(vals: Float, keys: Int, n_seg: int) -> tuple[Float, Int]:
    """Sum and count of ``vals`` per key 0..n_seg-1, for keys sorted ascending."""
    starts = np.searchsorted(keys, np.arange(n_seg))
    cnt = np.diff(np.append(starts, keys.size))
    # A trailing 0 keeps every start a valid index, also for empty segments at the end.
    sums = np.add.reduceat(np.append(vals, 0.0), starts)
    return np.where(cnt > 0, sums, 0.0), cnt


def compute_limits(
    chart: str,
    *,
    y: Float,
    n: Float,
    num: Float,
    sd: Float,
    seg: Int,
    n_seg: int,
    base: Bool,
    include: Bool,
    xmr_constant: float | None = None,
    sigma_k: float = 3.0,
    screen: bool = True,
) -> Limits:
    """Centre line and limits per point for ``chart`` (B = baseline and included points).

    Limits lie ``sigma_k`` sigmas from the centre (3 by default); ``screen`` turns the
    Nelson screening of moving ranges (i, t, pp, up) on or off. ``xmr_constant`` replaces
    3/d2 as the multiplier of the average moving range at 3 sigma (Making Data Count's 2.66).
    """
    B = base & include & np.isfinite(y)
    st = seg_starts(seg)
    nan = np.full(y.size, np.nan)
    def err() -> Any:
        return np.errstate(invalid="ignore", divide="ignore")

    def out(yv: Float, cl: Float, lcl: Float, ucl: Float, sig: Float) -> Limits:
        return Limits(yv, cl, lcl, ucl, sig, yv, cl, lcl, ucl, cl)

    if chart == "run":
        cl = seg_median(y, B, seg, n_seg)[seg]
        return out(y, cl, nan, nan.copy(), nan.copy())

    if chart in ("i", "t"):
        yr = y if chart == "i" else np.power(np.where(y > 0, y, np.nan), 1 / 3.6)
        mean = seg_mean(yr, B, seg, n_seg, st)
        amr = seg_amr(yr, base & include, seg, n_seg, screen=screen)
        # mdc uses the rounded 2.66 constant (3 / d2 = 2.6596 otherwise)
        k = xmr_constant if xmr_constant is not None else 3.0 / D2
        with err():
            sig = (k * amr / 3.0)[seg]
            cl = mean[seg]
            lcl, ucl = cl - sigma_k * sig, cl + sigma_k * sig
        if chart == "i":
            return out(y, cl, lcl, ucl, sig)
        with err():
            lcl_b = np.where(lcl > 0, np.power(np.where(lcl > 0, lcl, 1.0), 3.6), 0.0)
            lcl_b = np.where(np.isfinite(cl), lcl_b, np.nan)
            return Limits(y, cl**3.6, lcl_b, ucl**3.6, sig, yr, cl, lcl, ucl, cl)

    if chart == "mr":
        prev = prev_in_seg(include, seg)
        mrv = np.where(prev >= 0, np.abs(y - y[np.maximum(prev, 0)]), np.nan)
        use_b = B & (prev >= 0)
        use_b[use_b] &= B[prev[use_b]]
        cl = seg_mean(mrv, use_b, seg, n_seg, st)[seg]
        # D4 = 3.267 at 3 sigma, i.e. 1 + 2.267 * sigma_k / 3 in general
        factor = MR_UCL_FACTOR if sigma_k == 3.0 else 1.0 + (MR_UCL_FACTOR - 1.0) * sigma_k / 3.0
        return out(mrv, cl, np.where(np.isfinite(cl), 0.0, np.nan), factor * cl, nan)

    if chart in ("xbar", "s"):
        Bn = B & np.isfinite(n)
        with err():
            cl_x = (seg_sum(np.where(Bn, n * y, 0), st)
                    / seg_sum(np.where(Bn, n, 0), st))
        Bs = Bn & (n >= 2) & np.isfinite(sd)
        dof = np.where(Bs, n - 1, 0.0)
        sum_dof = seg_sum(dof, st)
        cnt = seg_sum(Bs, st)
        nmin = np.full(n_seg, np.inf)
        nmax = np.full(n_seg, -np.inf)
        np.minimum.at(nmin, seg[Bs], n[Bs])
        np.maximum.at(nmax, seg[Bs], n[Bs])
        with err():
            pooled = np.sqrt(np.bincount(seg, weights=dof * np.where(Bs, sd, 0) ** 2,
                                         minlength=n_seg) / sum_dof)
            mean_s = seg_sum(np.where(Bs, sd, 0), st) / cnt
        sbar = np.where(nmin == nmax, mean_s, pooled)
        if chart == "xbar":
            with err():
                half = a3(n) * sbar[seg] * (sigma_k / 3.0)  # A3 is the 3-sigma factor
                cl = cl_x[seg]
                return out(y, cl, cl - half, cl + half, half / sigma_k)
        b3, b4 = b3_b4(n, sigma_k)
        cl = sbar[seg]
        with err():
            return out(sd, cl, b3 * cl, b4 * cl, (b4 - 1) * cl / sigma_k)

    if chart in ("p", "pp", "u", "up"):
        with err():
            rate = (seg_sum(np.where(B, num, 0), st)
                    / seg_sum(np.where(B, n, 0), st))[seg]
            se = np.sqrt(rate * (1 - rate) / n) if chart in ("p", "pp") else np.sqrt(rate / n)
            if chart in ("pp", "up"):
                z = (y - rate) / se
                sig_z = (seg_amr(z, base & include, seg, n_seg, screen=screen) / D2)[seg]
                se = se * sig_z
            lcl, ucl = rate - sigma_k * se, rate + sigma_k * se
        lcl = np.where(np.isnan(lcl), lcl, np.maximum(lcl, 0.0))
        if chart in ("p", "pp"):
            ucl = np.where(np.isnan(ucl), ucl, np.minimum(ucl, 1.0))
        return out(y, rate, lcl, ucl, se)

    if chart == "c":
        cbar = seg_mean(y, B, seg, n_seg, st)[seg]
        sig = np.sqrt(cbar)
        return out(y, cbar, np.maximum(cbar - sigma_k * sig, 0.0), cbar + sigma_k * sig, sig)

    if chart == "g":
        gbar = seg_mean(y, B, seg, n_seg, st)[seg]
        med = seg_median(y, B, seg, n_seg)[seg]
        sig = np.sqrt(gbar * (gbar + 1))
        lcl = np.maximum(gbar - sigma_k * sig, 0.0)
        ucl = gbar + sigma_k * sig
        return Limits(y, med, lcl, ucl, sig, y, med, lcl, ucl, gbar)

    raise ValueError(f"unknown chart {chart!r}")
