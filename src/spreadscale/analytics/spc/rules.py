"""Vectorised rule evaluation over many series at once.

Every function works on flat arrays sorted by segment (a segment is one part of one
group), so a whole portfolio is evaluated with array operations and no per-point or
per-group Python loop. Runs are found by run-length encoding over the flat array, with
a segment change always ending a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._limits import seg_starts, seg_sum
from .constants import crossings_quantile, longest_run_max, n_crossings_min
from .profiles import RULE_BIT, RuleProfile

Bool = NDArray[np.bool_]
Int = NDArray[np.int64]
Float = NDArray[np.float64]

PART_FEW_CROSSINGS = 1
PART_TOO_FEW_RUNS = 2
PART_TOO_MANY_RUNS = 4
PART_CODES = ((PART_FEW_CROSSINGS, "few_crossings"), (PART_TOO_FEW_RUNS, "too_few_runs"),
              (PART_TOO_MANY_RUNS, "too_many_runs"))


@dataclass
class Signals:
    """Rule results: per point (``mask``, ``direction``) and per segment (the rest)."""

    mask: NDArray[np.uint32]
    direction: NDArray[np.int8]
    n_useful: Int
    longest_run: Int
    longest_run_max: Float
    n_crossings: Int
    n_crossings_min: Float
    runs_signal: Bool
    part_mask: NDArray[np.uint8]
    # Sustained shifts (candidates for a rebase proposal), one row per qualifying run.
    shift_seg: Int
    shift_start: Int
    shift_end: Int
    shift_len: Int
    shift_side: NDArray[np.int8]
    shift_threshold: Int
    shift_rule: str


def _run_bounds(b: Bool, seg: Int) -> tuple[Int, Int]:
    """Start and end (inclusive) indices of runs of True in ``b`` that stay in one segment."""
    n = b.size
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    same_prev = np.zeros(n, bool)
    same_prev[1:] = seg[1:] == seg[:-1]
    cont_prev = np.zeros(n, bool)
    cont_prev[1:] = b[:-1]
    cont_prev &= same_prev
    cont_next = np.zeros(n, bool)
    cont_next[:-1] = b[1:] & same_prev[1:]
    return np.flatnonzero(b & ~cont_prev), np.flatnonzero(b & ~cont_next)


def _flag_spans(n: int, starts: Int, ends: Int) -> Bool:
    """Boolean mask of the union of index spans [start, end]."""
    if starts.size == 0:
        return np.zeros(n, bool)
    d = np.bincount(starts, minlength=n + 1) - np.bincount(ends + 1, minlength=n + 1)
    return np.cumsum(d[:n]) > 0


def _long_runs(b: Bool, seg: Int, min_len: int | Int, back: int = 0) -> tuple[Int, Int, Int]:
    """Runs of True of at least ``min_len`` (per segment if an array); span starts ``back`` early."""
    s, e = _run_bounds(b, seg)
    length = e - s + 1
    need = min_len if np.isscalar(min_len) else np.asarray(min_len)[seg[s]]
    keep = length >= need
    return s[keep] - back, e[keep], length[keep]


def _k_of_m(u: Bool, side_ok: Bool | None, seg: Int, k: int, m: int) -> Bool:
    """Flag points counted in any window of ``m`` consecutive points with >= k ``u`` hits."""
    n = u.size
    if n < m:
        return np.zeros(n, bool)
    cs = np.concatenate(([0], np.cumsum(u)))
    j = np.arange(m - 1, n)
    hit = (cs[j + 1] - cs[j + 1 - m] >= k) & (seg[j] == seg[j + 1 - m])
    if side_ok is not None:
        cs2 = np.concatenate(([0], np.cumsum(side_ok)))
        hit &= cs2[j + 1] - cs2[j + 1 - m] == m
    ends = j[hit]
    return _flag_spans(n, ends - (m - 1), ends) & u


def _anhoej_stats(
    y: Float, cl: Float, seg: Int, use: Bool, n_seg: int
) -> tuple[Int, Int, Int, Int, Int, Int, NDArray[np.int8]]:
    """Useful points, longest run, crossings and the runs themselves, per segment."""
    useful = use & (y != cl)
    q = np.flatnonzero(useful)
    s = (y[q] > cl[q]).astype(np.int8)
    sg = seg[q]
    n_useful = np.bincount(sg, minlength=n_seg)
    if q.size == 0:
        z = np.zeros(n_seg, np.int64)
        e = np.zeros(0, np.int64)
        return n_useful, z, z, q, e, e, np.zeros(0, np.int8)
    new = np.ones(q.size, bool)
    new[1:] = (s[1:] != s[:-1]) | (sg[1:] != sg[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], q.size) - 1
    lengths = ends - starts + 1
    run_seg = sg[starts]
    n_runs = np.bincount(run_seg, minlength=n_seg)
    first = np.flatnonzero(np.concatenate(([True], run_seg[1:] != run_seg[:-1])))
    longest = np.zeros(n_seg, np.int64)
    longest[run_seg[first]] = np.maximum.reduceat(lengths, first)
    crossings = np.maximum(n_runs - 1, 0)
    side = np.where(s[starts] == 1, 1, -1).astype(np.int8)
    return n_useful, longest, crossings, q, starts, ends, side


def evaluate(
    profile: RuleProfile,
    *,
    y: Float,
    cl: Float,
    lcl: Float,
    ucl: Float,
    sig: Float,
    zc: Float,
    seg: Int,
    n_seg: int,
    include: Bool,
    runs_off: bool,
    run_chart: bool,
    astro_lcl: Float | None = None,
    astro_ucl: Float | None = None,
) -> Signals:
    """Apply ``profile`` to flat, segment-sorted arrays (see module docstring).

    ``astro_lcl``/``astro_ucl`` are the limits of the ``astronomical`` rule (run charts of
    profiles that have it); like ``beyond_limits`` it is strict and covers every point.
    """
    n = y.size
    p = profile.params
    mask = np.zeros(n, np.uint32)
    high = np.zeros(n, bool)  # direction of the highest-precedence hit, decided in order
    low = np.zeros(n, bool)
    decided = np.zeros(n, bool)
    hits: dict[str, tuple[Bool, Bool | None]] = {}

    finite = np.isfinite(y)
    with np.errstate(invalid="ignore"):
        above_ucl = finite & np.isfinite(ucl) & (y > ucl)
        below_lcl = finite & np.isfinite(lcl) & (y < lcl)
    # Sigma signals are evaluated for every point, excluded ones included.
    hits["beyond_limits"] = (above_ucl | below_lcl, above_ucl)
    if astro_lcl is not None and astro_ucl is not None:
        with np.errstate(invalid="ignore"):
            a_hi = finite & np.isfinite(astro_ucl) & (y > astro_ucl)
            a_lo = finite & np.isfinite(astro_lcl) & (y < astro_lcl)
        hits["astronomical"] = (a_hi | a_lo, a_hi)

    use = include & finite & np.isfinite(cl)
    # A value equal to the centre line up to floating-point noise of the mean counts as on
    # it (R accumulates means in extended precision, so qicharts2 sees such points as ties).
    with np.errstate(invalid="ignore"):
        on_cl = np.abs(y - cl) <= 1e-9 * np.abs(cl)
    y = np.where(on_cl & use, cl, y)
    n_useful, longest, crossings, q, r_start, r_end, r_side = _anhoej_stats(y, cl, seg, use, n_seg)
    lr_max = longest_run_max(n_useful)
    # anhoej: qbinom(crossings_p, n - 1, 1/2); the other profiles report the Anhøj 5 % figure.
    cr_min = (crossings_quantile(n_useful, float(p["crossings_p"]))
              if profile.name == "anhoej" and "crossings_p" in p else n_crossings_min(n_useful))
    part_mask = np.zeros(n_seg, np.uint8)
    shift: tuple[np.ndarray, ...] = (
        (np.zeros(0, np.int64),) * 4 + (np.zeros(0, np.int8), np.zeros(0, np.int64))
    )
    shift_rule = "shift"

    if profile.name == "anhoej" and not runs_off:
        r_len = r_end - r_start + 1
        r_seg = seg[q[r_start]] if q.size else np.zeros(0, np.int64)
        with np.errstate(invalid="ignore"):
            long_ = r_len > lr_max[r_seg]
        few = crossings < cr_min
        part_mask[few] |= PART_FEW_CROSSINGS
        flag = np.zeros(n, bool)
        flag[q] = _flag_spans(q.size, r_start[long_], r_end[long_])
        side = np.zeros(n, np.int8)
        side[q] = np.where(y[q] > cl[q], 1, -1)
        hits["long_run"] = (flag, flag & (side > 0))
        shift = (r_seg[long_], q[r_start[long_]], q[r_end[long_]], r_len[long_],
                 r_side[long_], (lr_max[r_seg[long_]] + 1).astype(np.int64))
        shift_rule = "long_run"
    elif not runs_off:
        shift, shift_rule = _other_rules(profile, p, hits, y, cl, sig, zc, seg, use, run_chart,
                                         n_useful, crossings, part_mask)

    for code in profile.rules:
        if code not in hits:
            continue
        flag, up = hits[code]
        mask |= flag.astype(np.uint32) << np.uint32(RULE_BIT[code])
        new = flag & ~decided
        if up is not None:  # a non-directional rule leaves direction 0 for its points
            high |= new & up
            low |= new & ~up
        decided |= flag
    direction = (high.astype(np.int8) - low.astype(np.int8)).astype(np.int8)

    if profile.name == "anhoej":
        runs_signal = (longest > lr_max) | (crossings < cr_min)
    else:
        # Points beyond limits (and astronomical points) are sigma signals, not runs signals.
        point_bits = np.uint32((1 << RULE_BIT["beyond_limits"]) | (1 << RULE_BIT["astronomical"]))
        non_sigma = mask & ~point_bits
        runs_signal = seg_sum(non_sigma > 0, seg_starts(seg)) > 0
        runs_signal |= part_mask > 0
    if runs_off:
        runs_signal = np.zeros(n_seg, bool)
    return Signals(
        mask=mask,
        direction=direction,
        n_useful=n_useful,
        longest_run=longest,
        longest_run_max=lr_max,
        n_crossings=crossings,
        n_crossings_min=cr_min,
        runs_signal=runs_signal,
        part_mask=part_mask,
        shift_seg=shift[0],
        shift_start=shift[1],
        shift_end=shift[2],
        shift_len=shift[3],
        shift_side=shift[4],
        shift_threshold=shift[5],
        shift_rule=shift_rule,
    )


def _other_rules(
    profile: RuleProfile,
    p: dict,
    hits: dict[str, tuple[Bool, Bool | None]],
    y: Float,
    cl: Float,
    sig: Float,
    zc: Float,
    seg: Int,
    use: Bool,
    run_chart: bool,
    n_useful: Int,
    crossings: Int,
    part_mask: NDArray[np.uint8],
) -> tuple[tuple[np.ndarray, ...], str]:
    """Shift, trend and zone rules for the ihi, weco, nelson and mdc profiles."""
    n = y.size
    name = profile.name
    q = np.flatnonzero(use)
    yq, cq, sq = y[q], cl[q], seg[q]
    sgq, zq = sig[q], zc[q]
    m = q.size

    def scatter(f: Bool) -> Bool:
        out = np.zeros(n, bool)
        out[q] = f
        return out

    # --- shift: a run on one side of the centre line --------------------------------
    shift_len = p.get("shift_length")
    if name == "ihi" and shift_len is None:
        shift_len = 6 if run_chart else 8
    shift_out: tuple[np.ndarray, ...] = (
        (np.zeros(0, np.int64),) * 4 + (np.zeros(0, np.int8), np.zeros(0, np.int64))
    )
    if shift_len:
        if name == "ihi":
            # Points on the median are skipped: drop them, find runs, map spans back.
            keep = np.flatnonzero(yq != cq)
            above = yq[keep] > cq[keep]
            sk = sq[keep]
        else:
            keep = np.arange(m)
            above = yq > cq
            sk = sq
        flags_hi = np.zeros(m, bool)
        flags_lo = np.zeros(m, bool)
        rows = []
        for side, b in ((1, above), (-1, (yq[keep] < cq[keep]))):
            s, e, ln = _long_runs(b, sk, int(shift_len))
            fs = _flag_spans(m, keep[s], keep[e]) & (yq != cq)
            if side == 1:
                flags_hi |= fs
            else:
                flags_lo |= fs
            rows.append((sk[s], q[keep[s]], q[keep[e]], ln, np.full(s.size, side, np.int8)))
        hits["shift"] = (scatter(flags_hi | flags_lo), scatter(flags_hi))
        cat = [np.concatenate([r[i] for r in rows]) for i in range(5)]
        order = np.lexsort((cat[1], cat[0]))
        shift_out = (*[c[order] for c in cat], np.full(order.size, int(shift_len), np.int64))

    # --- trend: consecutive increases (decreases) ------------------------------------
    trend_len = p.get("trend_length")
    if name == "ihi" and trend_len is None:
        trend_len = 5 if run_chart else 6
    if trend_len:
        if name == "ihi":
            # Like values are skipped: only the first of equal consecutive values counts.
            dup = np.zeros(m, bool)
            dup[1:] = (yq[1:] == yq[:-1]) & (sq[1:] == sq[:-1])
            keep = np.flatnonzero(~dup)
        else:
            keep = np.arange(m)
        yk, sk = yq[keep], sq[keep]
        d = np.zeros(keep.size, np.int8)
        same = np.zeros(keep.size, bool)
        same[1:] = sk[1:] == sk[:-1]
        d[1:] = np.sign(yk[1:] - yk[:-1]).astype(np.int8)
        d[~same] = 0
        t_hi = np.zeros(m, bool)
        t_lo = np.zeros(m, bool)
        for sign, acc in ((1, t_hi), (-1, t_lo)):
            s, e, _ = _long_runs(d == sign, sk, int(trend_len) - 1, back=1)
            acc |= _flag_spans(m, keep[s], keep[e])
        hits["trend"] = (scatter(t_hi | t_lo), scatter(t_hi & ~t_lo))

    # --- zone rules (need finite sigma) -------------------------------------------
    with np.errstate(invalid="ignore", divide="ignore"):  # sigma can be 0 (constant data)
        dev = (yq - zq) / sgq
    okz = np.isfinite(dev)
    if name == "mdc":
        # Close band: beyond 2 sigma but not beyond the limits; all 3 on one side of the mean.
        up_close = okz & (dev > 2) & (dev <= 3)
        lo_close = okz & (dev < -2) & (dev >= -3)
        f_hi = _k_of_m(up_close, yq > cq, sq, 2, 3)
        f_lo = _k_of_m(lo_close, yq < cq, sq, 2, 3)
        hits["two_of_three"] = (scatter(f_hi | f_lo), scatter(f_hi))
    elif name in ("weco", "nelson") or (name == "ihi" and not run_chart):
        f_hi = _k_of_m(okz & (dev > 2), None, sq, 2, 3)
        f_lo = _k_of_m(okz & (dev < -2), None, sq, 2, 3)
        hits["two_of_three"] = (scatter(f_hi | f_lo), scatter(f_hi))
        if name in ("weco", "nelson"):
            f_hi = _k_of_m(okz & (dev > 1), None, sq, 4, 5)
            f_lo = _k_of_m(okz & (dev < -1), None, sq, 4, 5)
            hits["four_of_five"] = (scatter(f_hi | f_lo), scatter(f_hi))
    if name == "nelson":
        d = np.zeros(m, np.int8)
        same = np.zeros(m, bool)
        same[1:] = sq[1:] == sq[:-1]
        d[1:] = np.sign(yq[1:] - yq[:-1]).astype(np.int8)
        d[~same] = 0
        alt = np.zeros(m, bool)
        alt[1:] = (d[1:] != 0) & (d[1:] == -d[:-1])
        s, e, _ = _long_runs(alt, sq, int(p["alternating_length"]) - 2, back=2)
        hits["alternating"] = (scatter(_flag_spans(m, s, e)), None)
        s, e, _ = _long_runs(okz & (np.abs(dev) <= 1), sq, int(p["stratification_length"]))
        hits["stratification"] = (scatter(_flag_spans(m, s, e)), None)
        s, e, _ = _long_runs(okz & (np.abs(dev) > 1), sq, int(p["mixture_length"]))
        hits["mixture"] = (scatter(_flag_spans(m, s, e)), None)

    if name == "ihi" and run_chart:
        # Too few / too many runs: crossings ~ Binomial(n_useful - 1, 1/2), 2.5% each tail.
        alpha = float(p["runs_p"]) / 2
        lo = crossings_quantile(n_useful, alpha)
        hi = crossings_quantile(n_useful, 1 - alpha)
        enough = n_useful >= int(p["runs_min_useful"])
        with np.errstate(invalid="ignore"):
            part_mask[enough & (crossings < lo)] |= PART_TOO_FEW_RUNS
            part_mask[enough & (crossings > hi)] |= PART_TOO_MANY_RUNS
    return shift_out, "shift"
