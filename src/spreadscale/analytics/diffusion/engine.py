"""The vectorised ensemble engine: all runs of a batch are columns of (sites, runs) arrays.

Step convention: step 0 is the initial state (initial adopters and step-0 waves in place);
step t is the state after t synchronous updates, each computed from the state at step t − 1.
Curves therefore have ``horizon + 1`` points.

Each stochastic transition uses a pre-drawn Exp(1) clock: a site's cumulative hazard grows by
the step's integrated hazard and the site adopts (or abandons) when it passes the clock. This
gives exactly per-step probability 1 − exp(−hazard·step) without a random draw per step.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from spreadscale.analytics.diffusion.network import SiteNetwork, load_network
from spreadscale.analytics.diffusion.results import BatchOutput, SimulationResult, merge_batches
from spreadscale.analytics.diffusion.scenario import Eligibility, Scenario, ScenarioError

NEVER = np.iinfo(np.int32).max


@dataclass
class Model:
    """A scenario bound to a network: everything a batch needs, picklable for executors."""

    scenario: Scenario
    n: int
    ids: list[str]
    complete: bool
    weights: sp.csr_array | None  # combined influence, float32
    inv_degree: np.ndarray  # 1 / weighted in-degree (0 for isolated sites)
    cascade: sp.csr_array | None  # −ln(1 − p_ij), float32
    readiness: np.ndarray
    leader: np.ndarray
    fixed_initial: np.ndarray
    waves: list[tuple[int, int, np.ndarray, str]] = field(default_factory=list)
    network_hash: str = ""


def compile_model(scenario: Scenario, network: SiteNetwork | None = None) -> Model:
    """Bind ``scenario`` to ``network`` (or the network the scenario generates) and check them.

    Raises :class:`ScenarioError` for problems that need the network to see, such as a wave
    larger than its eligible sites or initial adopters that are not in the network.

    Examples
    --------
    >>> s = Scenario.from_dict({"horizon": 3, "network": {"generator": "complete", "n": 10},
    ...                         "initial": {"sites": ["12"]}})
    >>> compile_model(s)
    Traceback (most recent call last):
    ...
    spreadscale.analytics.diffusion.scenario.ScenarioError: initial.sites: unknown site id '12'
    """
    net = network if network is not None else load_network(scenario.network)
    if net.n == 0:
        raise ScenarioError("network: it has no sites")
    problems: list[str] = []
    c = scenario.contagion
    weights = cascade = None
    inv_degree = np.zeros(net.n)
    if not net.complete:
        layer_w = c.layer_weights if c else {}
        w = net.combined(layer_w, c.opinion_leader_weight if c else 1.0)
        weights = sp.csr_array(w.astype(np.float32))
        deg = np.asarray(w.sum(axis=1)).ravel()
        inv_degree = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
        if c and c.cascade_probability > 0:
            pw = w.copy()
            pw.data = -np.log1p(-np.minimum(c.cascade_probability * pw.data, 1 - 1e-9))
            cascade = sp.csr_array(pw.astype(np.float32))
    fixed = []
    for sid in scenario.initial.sites:
        if sid not in net.index:
            problems.append(f"initial.sites: unknown site id {sid!r}")
        else:
            fixed.append(net.index[sid])
    if scenario.initial.opinion_leaders:
        fixed.extend(np.flatnonzero(net.opinion_leader).tolist())
    k = _initial_random_count(scenario, net.n)
    if k + len(set(fixed)) > net.n:
        problems.append(f"initial: {k} random initial adopters do not fit in {net.n} sites")
    waves: list[tuple[int, int, np.ndarray, str]] = []
    if scenario.push:
        for i, wave in enumerate(scenario.push.waves):
            eligible = np.flatnonzero(_eligible(wave.eligible, net))
            # earlier waves drawing from the very same sites use them up (partial overlaps are
            # clipped at run time: whether they collide depends on the random draw)
            taken = sum(size for _, size, other, _ in waves if np.array_equal(other, eligible))
            if wave.size > len(eligible):
                problems.append(f"push.waves[{i}].size: {wave.size} sites wanted but only "
                                f"{len(eligible)} eligible")
            elif wave.size > len(eligible) - taken:
                problems.append(f"push.waves[{i}].size: {wave.size} sites wanted but only "
                                f"{max(len(eligible) - taken, 0)} of the {len(eligible)} eligible "
                                "are left by earlier waves")
            if wave.step > scenario.horizon:
                problems.append(f"push.waves[{i}].step: {wave.step} is after the horizon "
                                f"({scenario.horizon})")
            waves.append((wave.step, wave.size, eligible, wave.select))
    if problems:
        raise ScenarioError(problems)
    return Model(scenario, net.n, net.ids, net.complete, weights, inv_degree.astype(np.float32),
                 cascade, net.readiness.astype(np.float32), net.opinion_leader,
                 np.unique(np.array(fixed, dtype=np.int64)), waves, _network_hash(net))


def _network_hash(net: SiteNetwork) -> str:
    """SHA-256 of the sites, their attributes and every layer's edges and weights."""
    h = hashlib.sha256()
    h.update("\x1f".join(net.ids).encode())
    for values in (net.kind, net.region):
        h.update("\x1f".join(map(str, values)).encode())
    for arr in (net.size, net.readiness, net.opinion_leader):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    h.update(b"complete" if net.complete else b"sparse")
    for name in sorted(net.layers):
        layer = net.layers[name]
        h.update(name.encode())
        for arr in (layer.indptr, layer.indices):
            h.update(np.ascontiguousarray(arr, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(layer.data, dtype=np.float64).tobytes())
    return h.hexdigest()


def _initial_random_count(scenario: Scenario, n: int) -> int:
    init = scenario.initial
    return round(init.fraction * n) if init.fraction else int(init.count)


def _eligible(rule: Eligibility, net: SiteNetwork) -> np.ndarray:
    ok = (net.readiness >= rule.min_readiness) & (net.size >= rule.min_size)
    if rule.region:
        ok &= np.isin(net.region, rule.region)
    if rule.kind:
        ok &= np.isin(net.kind, rule.kind)
    if rule.opinion_leader is not None:
        ok &= net.opinion_leader == rule.opinion_leader
    return ok


def resolve_seed(seed: Any) -> int:
    """Base seed per networkx's ``seed=`` convention: an int, a numpy Generator or None (random).

    Examples
    --------
    >>> resolve_seed(7), resolve_seed(np.random.default_rng(1)) == resolve_seed(
    ...     np.random.default_rng(1))
    (7, True)
    """
    if seed is None:
        entropy: Any = np.random.SeedSequence().entropy
        return int(entropy) % (2**63)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if isinstance(seed, np.random.RandomState):
        return int(seed.randint(2**31))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ScenarioError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def run_generators(base_seed: int, first_run: int, n_runs: int) -> list[np.random.Generator]:
    """One generator per run from ``SeedSequence([base_seed, run])``.

    A batch is seeded with ``SeedSequence([base_seed, first_run])`` for each of its runs in
    turn, i.e. with blocks of one run, so results cannot depend on how runs are batched.

    Examples
    --------
    >>> a = run_generators(1, 0, 3)[2].random()
    >>> b = run_generators(1, 2, 1)[0].random()
    >>> a == b
    True
    """
    return [np.random.Generator(np.random.PCG64(np.random.SeedSequence([base_seed, r])))
            for r in range(first_run, first_run + n_runs)]


def run_batch(model: Model, base_seed: int, first_run: int, n_runs: int,
              on_step: Callable[[int], None] | None = None) -> BatchOutput:
    """Simulate runs ``first_run .. first_run + n_runs − 1``; the unit of work for executors.

    ``on_step(t)`` is called after each step t = 0..horizon (in-process progress reporting).

    Examples
    --------
    >>> m = compile_model(Scenario.from_dict({"horizon": 4, "initial": {"count": 1},
    ...     "network": {"generator": "complete", "n": 20}, "contagion": {"q": 1.0}}))
    >>> out = run_batch(m, 1, 0, 3)
    >>> out.curves["adoption"].shape
    (5, 3)
    """
    return _Kernel(model, base_seed, first_run, n_runs).run(on_step)


class _Kernel:
    """State arrays and the step function for one batch."""

    def __init__(self, model: Model, base_seed: int, first_run: int, b: int):
        self.m, self.s, self.b = model, model.scenario, b
        n, s = model.n, model.scenario
        self.rngs = run_generators(base_seed, first_run, b)
        c: Any = s.contagion
        push: Any = s.push
        adapt: Any = s.adaptation
        self.dt = s.step
        thr = np.empty((n, b), np.float32) if c and c.threshold else None
        clock = np.empty((n, b), np.float32)
        clock_d = np.empty((n, b), np.float32) if c and c.discontinuance > 0 else None
        adapted = np.zeros((n, b), bool) if adapt and adapt.probability > 0 else None
        enrol = np.full((n, b), NEVER, np.int32) if push and push.waves else None
        adopted0 = np.zeros((n, b), bool)
        k = _initial_random_count(s, n)
        for j, rng in enumerate(self.rngs):
            # the order of draws per run is fixed: it is what makes runs reproducible
            if thr is not None:
                thr[:, j] = _draw_thresholds(c.threshold, n, rng)
            clock[:, j] = rng.standard_exponential(n, dtype=np.float32)
            if clock_d is not None:
                clock_d[:, j] = rng.standard_exponential(n, dtype=np.float32)
            if adapted is not None:
                adapted[:, j] = rng.random(n) < adapt.probability
            adopted0[model.fixed_initial, j] = True
            if k:
                pool = np.flatnonzero(~adopted0[:, j])
                adopted0[rng.choice(pool, size=min(k, len(pool)), replace=False), j] = True
            if enrol is not None:
                self._draw_waves(enrol[:, j], rng)
        if thr is not None and c.threshold.kind == "fractional" and not model.complete:
            # compare weighted counts with θ·degree: no division per step
            connected = model.inv_degree > 0
            deg = np.divide(1.0, model.inv_degree, out=np.zeros(n, np.float32), where=connected)
            thr *= deg[:, None]
            thr[~connected] = np.inf  # an isolated site has no share of adopting contacts
        self.thr: Any = thr
        self.clock: Any = clock
        self.clock_d: Any = clock_d
        self.adapted: Any = adapted
        self.enrol_step: Any = enrol
        self.adopted = adopted0

    def _draw_waves(self, enrol: np.ndarray, rng: np.random.Generator) -> None:
        for step, size, eligible, select in self.m.waves:
            pool = eligible[enrol[eligible] == NEVER]
            if select == "random":
                chosen = rng.choice(pool, size=min(size, len(pool)), replace=False)
            elif select == "readiness":
                chosen = pool[np.argsort(-self.m.readiness[pool], kind="stable")[:size]]
            else:  # opinion leaders first, then the most ready
                key = np.lexsort((-self.m.readiness[pool], ~self.m.leader[pool]))
                chosen = pool[key[:size]]
            enrol[chosen] = step

    def run(self, on_step: Callable[[int], None] | None = None) -> BatchOutput:
        m, s, b, n = self.m, self.s, self.b, self.m.n
        T, dt = s.horizon, self.dt
        # sections typed Any: each use is guarded by the flag or array that needs it
        c: Any = s.contagion
        push: Any = s.push
        adapt: Any = s.adaptation
        p = (c.p if c else 0.0) * dt
        q = (c.q if c else 0.0) * dt
        has_cascade = m.cascade is not None or (m.complete and c is not None
                                                and c.cascade_probability > 0)
        track_fid = bool(push or adapt)
        drift = (adapt.fidelity_drift * dt) if adapt else 0.0
        readoption = c.readoption if c else 0.0
        adapt_mult = adapt.adoption_multiplier if self.adapted is not None else 1.0
        # a hazard equal for every site and step lets clocks be compared with p·t directly
        constant = not (q > 0 or has_cascade or push or self.clock_d is not None
                        or (c is not None and c.fatigue_growth > 0) or adapt_mult != 1.0
                        or np.any(m.readiness != 1))
        adopted = self.adopted
        A = adopted.astype(np.float32)  # current adopters as floats, for the sparse products
        flat_a, flat_adopted = A.reshape(-1), adopted.reshape(-1)
        ever = adopted.copy()
        flat_ever = ever.reshape(-1)
        abandoned = np.zeros((n, b), bool)
        flat_abandoned = abandoned.reshape(-1)
        t_first = np.where(adopted, 0, NEVER).astype(np.int32)
        t_last = t_first.copy()
        cum: Any = None if constant else np.zeros((n, b), np.float32)
        lam: Any = None if constant else np.empty((n, b), np.float32)
        cum_d: Any = np.zeros((n, b), np.float32) if self.clock_d is not None else None
        fid: Any = np.where(adopted, 1.0, 0.0).astype(np.float32) if track_fid else None
        dose: Any = np.zeros((n, b), np.float32) if push else None
        fatigue: Any = np.zeros((n, b), np.float32) if c and c.fatigue_growth > 0 else None
        new_prev: Any = A.copy() if has_cascade else None  # step-0 adopters make cascade attempts
        hit = np.empty((n, b), bool)
        cand = np.empty((n, b), bool)
        ones = np.ones(n, np.float32)
        hours = np.zeros(b)
        enrolled_count: Any = np.zeros(b)
        ever_count = ever.sum(axis=0).astype(float)
        abandoned_count = np.zeros(b)
        curves = {k: np.zeros((T + 1, b))
                  for k in ("adoption", "ever", "effective", "abandoned", "cost")}
        # cumulative enrolment fees per step: enrolments happen only at the waves' steps
        fees = np.zeros((T + 1, b))
        if push and self.enrol_step is not None and push.cost_per_site:
            for w in sorted({step for step, _, _, _ in m.waves if step <= T}):
                fees[w:] += (self.enrol_step == w).sum(axis=0) * push.cost_per_site
        served: Any = None
        enrolled: Any = None
        if fid is not None and push:
            fid[adopted & (self.enrol_step == 0)] = push.fidelity
        X: Any = None
        tmp: Any = None if constant else np.empty((n, b), np.float32)
        push_haz: Any = np.zeros((n, b), np.float32) if push else None
        q_inv_degree = (q * m.inv_degree[:, None]).astype(np.float32)
        # readiness and the adaptation multiplier do not change over time: one factor
        static_mult: Any = None
        if not constant and (adapt_mult != 1.0 or np.any(m.readiness != 1)):
            static_mult = np.repeat(m.readiness[:, None], b, axis=1).astype(np.float32)
            if adapt_mult != 1.0:
                static_mult[self.adapted] *= np.float32(adapt_mult)
        if constant:
            # the constant-hazard gate: thresholds, +inf for adopters, −inf once the clock rings
            gate = (np.full((n, b), np.inf, np.float32) if self.thr is None
                    else self.thr.copy())
            gate[adopted] = np.inf
            flat_gate = gate.reshape(-1)
            flat_clock = self.clock.reshape(-1)
            ringing = np.flatnonzero(flat_clock <= np.float32(p * T))
            gate_order = ringing[np.argsort(flat_clock[ringing], kind="stable")]
            gate_clock = flat_clock[gate_order]
            k_prev = 0
        for t in range(T + 1):
            if t > 0:
                if self.enrol_step is not None:
                    enrolled = self.enrol_step <= t - 1
                # exposure from the state at step t − 1 (synchronous update)
                if m.complete:
                    count = ones @ A
                    frac = count / n
                    if self.thr is not None:
                        X = np.broadcast_to(count if c.threshold.kind == "absolute" else frac,
                                            (n, b))
                elif m.weights is not None and (self.thr is not None or q > 0):
                    X = m.weights @ A
                if constant:
                    # sites whose clock p·t has passed open their gate (−inf threshold);
                    # adopters' gates are shut (+inf), so one comparison finds all adoptions
                    k_now = int(np.searchsorted(gate_clock, np.float32(p * t), side="right"))
                    released = gate_order[k_prev:k_now]
                    k_prev = k_now
                    released = released[~flat_adopted[released]]
                    if X is None:
                        idx = np.sort(released)
                    else:
                        flat_gate[released] = -np.inf
                        np.greater_equal(X, gate, out=hit)
                        idx = np.flatnonzero(hit)
                    flat_gate[idx] = np.inf
                else:
                    np.equal(A, 0, out=cand)
                    if cum_d is not None and readoption == 0:
                        cand &= ~abandoned
                    lam.fill(p)
                    if q > 0:
                        if m.complete:
                            lam[:] = _bass_mean_field_step(p, q, frac)
                        else:
                            np.multiply(X, q_inv_degree, out=tmp)
                            lam += tmp
                    if m.cascade is not None:
                        lam += m.cascade @ new_prev
                    elif has_cascade:
                        lam += -math.log1p(-c.cascade_probability) * (ones @ new_prev)
                    if push and enrolled is not None:
                        served = enrolled & ~adopted
                        if push.support_steps:
                            served |= enrolled & adopted & (t - t_last <= push.support_steps)
                        n_served = served.sum(axis=0)
                        per_site = _hours_per_site(push, n_served)
                        hours += n_served * per_site
                        # dose and the push hazard change only where facilitation was given
                        got = np.flatnonzero(served)
                        flat_dose = dose.reshape(-1)
                        flat_dose[got] += per_site[got % b].astype(np.float32)
                        push_haz.reshape(-1)[got] = (push.adoption_rate * dt) * -np.expm1(
                            -flat_dose[got] / push.dose_scale)
                        lam += push_haz
                    if fatigue is not None:
                        fatigue *= np.float32(1 - c.fatigue_decay)
                        fatigue += np.float32(c.fatigue_growth * dt * c.concurrent_initiatives)
                        if enrolled is not None:
                            fatigue += enrolled * np.float32(c.fatigue_growth * dt)
                        np.negative(fatigue, out=tmp)
                        np.exp(tmp, out=tmp)
                        lam *= tmp
                    if readoption and readoption != 1.0 and abandoned_count.any():
                        lam.reshape(-1)[np.flatnonzero(abandoned)] *= np.float32(readoption)
                    if static_mult is not None:
                        lam *= static_mult
                    # adopters accumulate too: harmless, their sum is reset when they abandon
                    cum += lam
                    np.greater_equal(cum, self.clock, out=hit)
                if not constant:
                    if self.thr is not None:
                        hit |= np.greater_equal(X, self.thr)
                    hit &= cand
                    idx = np.flatnonzero(hit)
                drops = self._discontinue(t, cum_d, adopted, fid, fatigue, t_last)
                if idx.size:
                    firsts = idx[~flat_ever[idx]]
                    t_first.reshape(-1)[firsts] = t
                    t_last.reshape(-1)[idx] = t
                    ever_count += np.bincount(firsts % b, minlength=b)
                    if fid is not None:
                        f_new = np.ones(idx.size, np.float32)
                        if push and enrolled is not None:
                            f_new[enrolled.reshape(-1)[idx]] = push.fidelity
                        if self.adapted is not None:
                            f_new[self.adapted.reshape(-1)[idx]] = adapt.fidelity
                        fid.reshape(-1)[idx] = f_new
                    if cum_d is not None:
                        readopt = idx[flat_abandoned[idx]]
                        abandoned_count -= np.bincount(readopt % b, minlength=b)
                        cum_d.reshape(-1)[idx] = 0
                        self._redraw(self.clock_d, readopt)
                        flat_abandoned[idx] = False
                    flat_adopted[idx] = True
                    flat_ever[idx] = True
                    flat_a[idx] = 1
                if drops is not None and drops.size:
                    flat_adopted[drops] = False
                    flat_a[drops] = 0
                    flat_abandoned[drops] = True
                    abandoned_count += np.bincount(drops % b, minlength=b)
                    cum.reshape(-1)[drops] = 0
                    self._redraw(self.clock, drops)
                if fid is not None and drift:
                    # only adopters without facilitation support drift
                    ad = np.flatnonzero(adopted)
                    if served is not None:
                        ad = ad[~served.reshape(-1)[ad]]
                    flat_fid = fid.reshape(-1)
                    flat_fid[ad] = np.maximum(flat_fid[ad] - np.float32(drift), 0)
                if new_prev is not None:
                    new_prev.fill(0)
                    new_prev.reshape(-1)[idx] = 1
            curves["adoption"][t] = (ones @ A).astype(np.float64) / n
            curves["ever"][t] = ever_count / n
            curves["abandoned"][t] = abandoned_count / n
            if push:
                curves["cost"][t] = hours * push.cost_per_hour + fees[t]
            if fid is None:
                curves["effective"][t] = curves["adoption"][t]
            else:
                # per-run sums over adopters in row order: the same whatever the batch size
                ad = np.flatnonzero(adopted)
                effect = self._effect(fid.reshape(-1)[ad])
                curves["effective"][t] = np.bincount(ad % b, weights=effect, minlength=b) / n
            if on_step is not None:
                on_step(t)
        if self.enrol_step is not None:
            enrolled_count = (self.enrol_step <= T).sum(axis=0)
        return self._finish(curves, t_first, t_last, adopted, ever, abandoned, hours,
                            enrolled_count)

    def _discontinue(self, t: int, cum_d: np.ndarray | None, adopted: np.ndarray,
                     fid: np.ndarray | None, fatigue: np.ndarray | None,
                     t_last: np.ndarray) -> np.ndarray | None:
        """Flat indices of adopters abandoning at step t (hazards from the state at t − 1)."""
        if cum_d is None:
            return None
        c: Any = self.s.contagion
        dt = self.dt
        base = c.discontinuance * dt
        # only adopters carry a discontinuance hazard: work on their flat indices
        ad = np.flatnonzero(adopted)
        if not ad.size:
            return ad
        if c.discontinuance_tenure_halflife:
            # tenure in steps indexes a small table of δ·Δ·2^(−tenure/half-life)
            table = (base * np.exp2(-np.arange(self.s.horizon + 1) * dt
                                    / c.discontinuance_tenure_halflife)).astype(np.float32)
            tenure = t - 1 - t_last.reshape(-1)[ad]
            np.clip(tenure, 0, self.s.horizon, out=tenure)
            delta = table[tenure]
        else:
            delta = np.full(ad.size, base, np.float32)
        if fid is not None and c.discontinuance_fidelity:
            # (1 + k(1 − f)) written as (1 + k) − k·f to stay in float32
            k = np.float32(c.discontinuance_fidelity)
            delta *= (1 + k) - k * fid.reshape(-1)[ad]
        if fatigue is not None:
            delta *= 1 + fatigue.reshape(-1)[ad]
        flat_cum = cum_d.reshape(-1)
        total = flat_cum[ad] + delta
        flat_cum[ad] = total
        return ad[total >= self.clock_d.reshape(-1)[ad]]

    def _effect(self, fid: np.ndarray) -> np.ndarray:
        """Effect of the intervention as a function of fidelity, between 0 and 1."""
        a = self.s.adaptation
        floor, expo = (a.effect_floor, a.effect_exponent) if a else (0.0, 1.0)
        effect = np.clip((fid - floor) / (1 - floor), 0, 1)
        if expo != 1:
            effect **= expo
        return effect

    def _redraw(self, clocks: np.ndarray, flat: np.ndarray) -> None:
        """Fresh clocks for the entries that changed state, from each run's own stream."""
        if not flat.size:
            return
        rows, cols = np.divmod(flat, self.b)
        order = np.argsort(cols, kind="stable")
        rows, cols = rows[order], cols[order]
        bounds = np.searchsorted(cols, np.arange(self.b + 1))
        for j in range(self.b):
            lo, hi = bounds[j], bounds[j + 1]
            if hi > lo:
                clocks[rows[lo:hi], j] = self.rngs[j].standard_exponential(hi - lo,
                                                                           dtype=np.float32)

    def _finish(self, curves: dict[str, np.ndarray], t_first: np.ndarray, t_last: np.ndarray,
                adopted: np.ndarray, ever: np.ndarray, abandoned: np.ndarray, hours: np.ndarray,
                enrolled_count: np.ndarray) -> BatchOutput:
        s, n, T = self.s, self.m.n, self.s.horizon
        sustained = adopted & (T - t_last >= s.outputs.sustained_steps)
        cost = np.zeros(self.b)
        if s.push:
            cost = hours * s.push.cost_per_hour + enrolled_count * s.push.cost_per_site
        rogers = np.zeros((n, 6), np.int64)
        for j in range(self.b):
            cat = _rogers(t_first[:, j])
            rogers[np.arange(n), cat] += 1
        has = t_first < NEVER
        n_adopters = has.sum(axis=0)
        total_time = np.where(has, t_first, 0).sum(axis=0, dtype=np.float64)
        mean_time = np.divide(total_time, n_adopters, out=np.full(self.b, np.nan),
                              where=n_adopters > 0)
        new_per_step = np.diff(curves["ever"], axis=0)
        peak_step = np.argmax(new_per_step, axis=0).astype(float) + 1
        peak_step[new_per_step.max(axis=0) <= 0] = np.nan  # nobody adopted after step 0
        runs = {
            "final_adoption": curves["adoption"][-1].copy(),
            "ever_adopted": ever.sum(axis=0).astype(float),
            "sustained": sustained.sum(axis=0).astype(float),
            "abandoned": (ever & ~adopted).sum(axis=0).astype(float),
            "currently_abandoned": abandoned.sum(axis=0).astype(float),
            "effective_coverage": curves["effective"][-1].copy(),
            "facilitator_hours": hours,
            "cost": cost,
            "peak_step": peak_step,
            "mean_adoption_step": mean_time,
        }
        return BatchOutput(curves=curves, runs=runs, site_ever=ever.sum(axis=1),
                           site_sustained=sustained.sum(axis=1), rogers=rogers)


def _rogers(first: np.ndarray) -> np.ndarray:
    """Rogers' adopter category per site of one run, from first adoption steps.

    Rogers defines the categories among adopters by standard deviations from their mean
    adoption time: with z = (t − mean)/sd over the run's adopters (sd over the adopters, not
    n − 1), innovators z < −2, early adopters −2 ≤ z < −1, early majority −1 ≤ z ≤ 0, late
    majority 0 < z ≤ 1, laggards z > 1; a boundary belongs to the category nearer the mean (all
    adopters are early majority when they adopted at one step). Sites not adopted by the horizon
    are 5, "not adopted", and do not enter the mean or sd.

    Examples
    --------
    >>> _rogers(np.array([0, 1, 2, 3, 4] + [5] * 10 + [6, NEVER])).tolist()
    [0, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5]
    """
    cat = np.full(len(first), 5, np.int64)
    has = first < NEVER
    if not has.any():
        return cat
    t = first[has].astype(np.float64)
    d = t - t.mean()
    sd = math.sqrt(float(np.mean(d * d)))
    cat[has] = np.select([d < -2 * sd, d < -sd, d <= 0, d <= sd], [0, 1, 2, 3], default=4)
    return cat


def _hours_per_site(push: Any, n_served: np.ndarray) -> np.ndarray:
    """Facilitation hours each served site gets this step, shared pro rata when capacity binds."""
    capacity = push.facilitators * push.hours_per_facilitator
    slots = push.facilitators * push.caseload
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.minimum.reduce([np.full(n_served.shape, push.hours_per_site),
                                 capacity / n_served, push.hours_per_site * slots / n_served])
    return np.where(n_served > 0, per, 0.0)


def _bass_mean_field_step(p: float, q: float, frac: np.ndarray) -> np.ndarray:
    """Integrated Bass hazard over one step for a fully mixed population (per run).

    Holding F fixed within a step (Euler) biases the curve by O(step). Instead the hazard is the
    one that moves the non-adopter share exactly as the Bass ODE would from the current F:
    with r = (p + qF)/(1 − F), the ODE gives r(t + Δ) = r·e^{(p+q)Δ}, and the survival of a
    non-adopter over the step is (r + q)/(r·e^{(p+q)Δ} + q), where p and q are already ·Δ.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (p + q * frac) / (1 - frac)
        out = np.log((r * math.exp(p + q) + q) / (r + q))
    return np.where((frac < 1) & np.isfinite(out), out, 0.0).astype(np.float32)


def _draw_thresholds(th: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    if th.distribution == "fixed":
        return np.full(n, th.value, np.float32)
    if th.distribution == "uniform":
        return rng.uniform(th.low, th.high, n).astype(np.float32)
    return np.maximum(rng.normal(th.mean, th.sd, n), 0).astype(np.float32)


def _batches(runs: int, batch_size: int) -> list[tuple[int, int]]:
    """(first_run, n_runs) pairs covering ``runs`` runs."""
    return [(r, min(batch_size, runs - r)) for r in range(0, runs, batch_size)]


def _default_batch_size(n: int, runs: int, workers: int | None = None) -> int:
    """Runs per batch: state arrays of a few tens of MB at most, and enough work per task.

    In-process (``workers`` None) one batch is as large as memory allows: progress is reported
    per step inside it. For an executor, about 20 batches (at least one per worker) keep its
    progress reports frequent and its workers evenly loaded, but a batch keeps at least ~250,000
    site-runs, below which per-step overheads start to show.

    Examples
    --------
    >>> _default_batch_size(10_000, 100), _default_batch_size(10_000, 1000, workers=2)
    (100, 50)
    >>> _default_batch_size(10_000, 100, workers=2), _default_batch_size(10_000, 100, workers=8)
    (25, 13)
    """
    n = max(n, 1)
    by_memory = max(1, 2_000_000 // n)
    if workers is None:
        return max(1, min(by_memory, runs))
    by_work = max(1, 250_000 // n)
    size = max(by_work, math.ceil(runs / max(20, workers)))
    return max(1, min(by_memory, size, math.ceil(runs / workers)))


def simulate(scenario: Scenario, network: SiteNetwork | None = None, *, runs: int | None = None,
             seed: Any = None, executor: Executor | None = None, batch_size: int | None = None,
             progress: Callable[[int], None] | None = None) -> SimulationResult:
    """Run an ensemble of ``runs`` simulations of ``scenario`` and summarise it.

    Parameters
    ----------
    scenario : Scenario
        What to simulate (see :mod:`spreadscale.analytics.diffusion.scenario`).
    network : SiteNetwork, optional
        The sites; by default the network the scenario generates or reads.
    runs : int, optional
        Number of runs (default ``scenario.runs``).
    seed : int, numpy Generator or None
        Base seed, networkx-style; default ``scenario.seed``; None draws fresh entropy (the
        base seed used is stored in ``result.metadata["seed"]``).
    executor : concurrent.futures.Executor, optional
        Where batches run; None runs them in this process, one after another.
    batch_size : int, optional
        Runs per batch. Results do not depend on it.
    progress : callable, optional
        Called with the number of runs newly finished: in-process, as the steps of a batch go
        by (a batch of k runs over T steps reports about k·t/T runs after step t); with an
        executor, as batches finish. The calls add up to ``runs``.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> s = Scenario.from_dict({"horizon": 10, "network": {"generator": "complete", "n": 200},
    ...                         "contagion": {"p": 0.05, "q": 0.5}})
    >>> res = simulate(s, runs=8, seed=1)
    >>> len(res.mean_adoption), float(res.mean_adoption[0])
    (11, 0.0)
    >>> bool(res.mean_adoption[10] > 0.5)
    True
    """
    model = compile_model(scenario, network)
    return run_model(model, runs=runs, seed=seed, executor=executor, batch_size=batch_size,
                     progress=progress)


def run_model(model: Model, *, runs: int | None = None, seed: Any = None,
              executor: Executor | None = None, batch_size: int | None = None,
              progress: Callable[[int], None] | None = None) -> SimulationResult:
    """Run a compiled model (reuse one :class:`Model` when simulating it many times).

    Same parameters as :func:`simulate`.

    Examples
    --------
    >>> m = compile_model(Scenario.from_dict({"horizon": 4, "initial": {"count": 1},
    ...     "network": {"generator": "complete", "n": 20}, "contagion": {"q": 1.0}}))
    >>> a = run_model(m, runs=6, seed=3, batch_size=4)
    >>> b = run_model(m, runs=6, seed=3, batch_size=1)
    >>> bool((a.curves["adoption"] == b.curves["adoption"]).all())
    True
    """
    s = model.scenario
    runs = s.runs if runs is None else runs
    if runs < 1:
        raise ScenarioError(f"runs must be at least 1, got {runs}")
    base = resolve_seed(s.seed if seed is None else seed)
    workers = None
    if executor is not None:
        workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
    size = batch_size or _default_batch_size(model.n, runs, workers)
    plan = _batches(runs, size)
    outputs: list[BatchOutput | None] = [None] * len(plan)
    if executor is None:
        for i, (first, k) in enumerate(plan):
            tick = _StepProgress(progress, k, s.horizon) if progress else None
            outputs[i] = run_batch(model, base, first, k, on_step=tick)
            if tick is not None:
                tick.finish()
    else:
        futures: dict[Future[BatchOutput], int] = {
            executor.submit(run_batch, model, base, first, k): i
            for i, (first, k) in enumerate(plan)}
        for fut in _as_completed(futures):
            i = futures[fut]
            outputs[i] = fut.result()
            if progress:
                progress(plan[i][1])
    return merge_batches([o for o in outputs if o is not None], model, base)


class _StepProgress:
    """Reports a batch's runs to ``progress`` pro rata to the steps done (whole runs only)."""

    def __init__(self, progress: Callable[[int], None], runs: int, horizon: int):
        self.progress, self.runs, self.steps, self.reported = progress, runs, horizon + 1, 0

    def __call__(self, t: int) -> None:
        done = self.runs * (t + 1) // self.steps
        if done > self.reported:
            self.progress(done - self.reported)
            self.reported = done

    def finish(self) -> None:
        if self.reported < self.runs:
            self.progress(self.runs - self.reported)
            self.reported = self.runs


def _as_completed(futures: Iterable[Future[Any]]) -> Iterable[Future[Any]]:
    from concurrent.futures import as_completed

    return as_completed(list(futures))
