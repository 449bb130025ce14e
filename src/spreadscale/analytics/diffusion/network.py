"""Site networks: ids, per-site attributes and one sparse influence matrix per layer.

Influence runs along ``learns-from`` and ``reports-to`` edges from the target to the source
(a site learns from, or reports to, the site that influences it); ``peer`` edges and every edge of
an undirected graph act both ways. Row i of a layer matrix holds the weights of i's influencers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from spreadscale.analytics.diffusion.scenario import LAYERS, NetworkSpec, ScenarioError

SITE_COLUMNS = ("id", "kind", "region", "size", "readiness", "opinion_leader")


@dataclass
class SiteNetwork:
    """Sites with attributes and a CSR influence matrix per layer (``layers[name][i, j]``)."""

    ids: list[str]
    layers: dict[str, sp.csr_array]
    kind: np.ndarray
    region: np.ndarray
    size: np.ndarray
    readiness: np.ndarray
    opinion_leader: np.ndarray
    complete: bool = False  # fully mixed (mean-field): no matrices, everyone influences everyone
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {s: i for i, s in enumerate(self.ids)}

    @property
    def n(self) -> int:
        """Number of sites."""
        return len(self.ids)

    def combined(self, layer_weights: dict[str, float], leader_weight: float) -> sp.csr_array:
        """Weighted sum of the layers, with edges from opinion leaders scaled by ``leader_weight``."""
        total = sp.csr_array((self.n, self.n), dtype=np.float64)
        for name, matrix in self.layers.items():
            w = layer_weights.get(name, 1.0)
            if w:
                total = total + w * matrix
        if leader_weight != 1.0:
            scale = np.where(self.opinion_leader, leader_weight, 1.0)
            total = total @ sp.diags_array(scale)
        total = sp.csr_array(total)
        total.eliminate_zeros()
        total.sort_indices()
        return total

    def to_networkx(self) -> nx.Graph:
        """An undirected networkx graph of all layers (for centrality heuristics)."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        for matrix in self.layers.values():
            coo = matrix.tocoo()
            g.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
        return g


def from_networkx(graph: nx.Graph, *, default_layer: str = "peer") -> SiteNetwork:
    """Build a :class:`SiteNetwork` from a networkx graph.

    Edge attributes ``layer`` (default ``default_layer``) and ``weight`` (default 1); node
    attributes ``kind``, ``region``, ``size``, ``readiness`` (default 1) and ``opinion_leader``.

    Examples
    --------
    >>> net = from_networkx(nx.path_graph(3))
    >>> net.n, net.layers["peer"].toarray().tolist()
    (3, [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    """
    ids = [str(v) for v in graph.nodes]
    if len(set(ids)) != len(ids):
        raise ScenarioError("network: node ids are not unique once written as text")
    pos = {v: i for i, v in enumerate(graph.nodes)}
    edges = [(pos[u], pos[v], str(d.get("layer", default_layer)), float(d.get("weight", 1.0)))
             for u, v, d in graph.edges(data=True)]
    attrs = [graph.nodes[v] for v in graph.nodes]
    return _assemble(ids, edges, attrs, directed=graph.is_directed())


def generate(spec: NetworkSpec) -> SiteNetwork:
    """Generate the network a scenario describes (``network.generator`` and its parameters).

    Examples
    --------
    >>> net = generate(NetworkSpec(generator="barabasi_albert", n=100, m=3, seed=42))
    >>> net.n, int(net.layers["peer"].nnz) // 2
    (100, 291)
    """
    g = spec.generator
    if not g:
        raise ScenarioError("network: give network.generator (with its parameters), "
                            "network.edges or --network FILE")
    if spec.n < 2:
        raise ScenarioError(f"network.n must be at least 2 for generator {g!r}, got {spec.n}")
    try:
        if g == "barabasi_albert":
            if spec.m >= spec.n:
                raise ScenarioError("network.m must be smaller than network.n")
            return from_networkx(nx.barabasi_albert_graph(spec.n, spec.m, seed=spec.seed))
        if g == "watts_strogatz":
            return from_networkx(nx.watts_strogatz_graph(spec.n, spec.k, spec.p, seed=spec.seed))
        if g == "erdos_renyi":
            return from_networkx(nx.fast_gnp_random_graph(spec.n, spec.p, seed=spec.seed))
    except nx.NetworkXException as exc:  # parameters changed after validation
        raise ScenarioError(f"network: generator {g!r}: {exc}") from None
    if g == "complete":
        ids = [str(i) for i in range(spec.n)]
        kind, region, size, readiness, leader = _default_attrs(spec.n)
        return SiteNetwork(ids, {}, kind, region, size, readiness, leader, complete=True)
    if g == "layered":
        return layered_network(spec.n, m=spec.m, regions=spec.regions,
                               opinion_leader_share=spec.opinion_leader_share, seed=spec.seed)
    raise ScenarioError(f"network.generator: unknown generator {g!r}")


def layered_network(n: int, *, m: int = 3, regions: int = 3, opinion_leader_share: float = 0.05,
                    seed: int | None = None) -> SiteNetwork:
    """A synthetic three-layer programme network.

    ``peer``: a Barabási–Albert graph within each region; ``learns-from``: each site learns from
    one opinion leader of its region (leaders are the best-connected peers); ``reports-to``:
    each site reports to its region's hub site. Readiness ~ Beta(2, 2); sizes ~ lognormal.

    Examples
    --------
    >>> net = layered_network(60, regions=3, seed=1)
    >>> net.n, sorted(net.layers), int(net.opinion_leader.sum())
    (60, ['learns-from', 'peer', 'reports-to'], 3)
    """
    if not 1 <= regions <= n:
        raise ScenarioError(f"network.regions must be between 1 and network.n ({n}), "
                            f"got {regions}")
    rng = np.random.default_rng(seed)
    region_of = np.arange(n) * regions // n
    edges: list[tuple[int, int, str, float]] = []
    leader = np.zeros(n, dtype=bool)
    for r in range(regions):
        members = np.flatnonzero(region_of == r)
        k = len(members)
        if k > m + 1:
            g = nx.barabasi_albert_graph(k, m, seed=int(rng.integers(2**31)))
            edges += [(int(members[u]), int(members[v]), "peer", 1.0) for u, v in g.edges]
            degree = np.array([g.degree(i) for i in range(k)])
        else:
            degree = np.zeros(k)
        n_lead = max(1, round(opinion_leader_share * k))
        leaders = members[np.argsort(-degree, kind="stable")[:n_lead]]
        leader[leaders] = True
        hub = int(members[0])
        for s in members:
            if s not in leaders:
                edges.append((int(s), int(rng.choice(leaders)), "learns-from", 1.0))
            if s != hub:
                edges.append((int(s), hub, "reports-to", 1.0))
    ids = [f"S{i:05d}" for i in range(n)]
    attrs = [{"kind": "hub" if i == np.flatnonzero(region_of == region_of[i])[0] else "unit",
              "region": chr(ord("A") + int(region_of[i])) if regions <= 26 else str(region_of[i]),
              "size": float(rng.lognormal(0, 0.5)), "readiness": float(rng.beta(2, 2)),
              "opinion_leader": bool(leader[i])} for i in range(n)]
    return _assemble(ids, edges, attrs, directed=True)


def read_network_csv(edges: str | Path, sites: str | Path | None = None) -> SiteNetwork:
    """Read an edge list CSV (``source,target,layer,weight``) and optional site attributes CSV.

    Site ids in the edge list must all appear in the sites file when one is given; every problem
    is reported with its file and row number.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "edges.csv")
    >>> _ = open(p, "w").write("source,target,layer,weight\\nA,B,learns-from,1\\nB,C,peer,0.5\\n")
    >>> net = read_network_csv(p)
    >>> net.ids, net.layers["learns-from"].toarray()[0].tolist()
    (['A', 'B', 'C'], [0.0, 1.0, 0.0])
    """
    problems: list[str] = []
    ids: list[str] = []
    attrs: list[dict[str, Any]] = []
    if sites is not None:
        for row_no, row in _rows(sites, ("id",), problems):
            sid = (row.get("id") or "").strip()
            if not sid:
                problems.append(f"{Path(sites).name} row {row_no}: id is empty")
                continue
            if sid in ids:
                problems.append(f"{Path(sites).name} row {row_no}: duplicate site id {sid!r}")
                continue
            ids.append(sid)
            attrs.append(_site_attrs(row, f"{Path(sites).name} row {row_no}", problems))
    known = set(ids)
    raw: list[tuple[str, str, str, float]] = []
    for row_no, row in _rows(edges, ("source", "target"), problems):
        where = f"{Path(edges).name} row {row_no}"
        u, v = (row.get("source") or "").strip(), (row.get("target") or "").strip()
        layer = (row.get("layer") or "peer").strip()
        if layer not in LAYERS:
            problems.append(f"{where}: unknown layer {layer!r} (allowed: {', '.join(LAYERS)})")
        try:
            weight = float(row.get("weight") or 1.0)
            if not weight >= 0:
                raise ValueError
        except ValueError:
            problems.append(f"{where}: weight must be a number >= 0, got {row.get('weight')!r}")
            weight = 0.0
        for col, sid in (("source", u), ("target", v)):
            if not sid:
                problems.append(f"{where}: {col} is empty")
            elif sites is not None and sid not in known:
                problems.append(f"{where}: unknown site id {sid!r} in {col} "
                                f"(not in {Path(sites).name})")
        raw.append((u, v, layer, weight))
    if not problems and not raw and not ids:
        problems.append(f"{Path(edges).name}: no edges (and no sites listed): the network has "
                        "no sites")
    if problems:
        raise ScenarioError(problems)
    if sites is None:
        for u, v, _, _ in raw:
            for sid in (u, v):
                if sid not in known:
                    known.add(sid)
                    ids.append(sid)
                    attrs.append({})
    pos = {s: i for i, s in enumerate(ids)}
    return _assemble(ids, [(pos[u], pos[v], la, w) for u, v, la, w in raw], attrs, directed=True)


def _rows(path: str | Path, required: tuple[str, ...],
          problems: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                problems.append(f"{Path(path).name}: missing column(s) {', '.join(missing)}")
                return []
            return [(i + 2, row) for i, row in enumerate(reader)]
    except OSError as exc:
        problems.append(f"{path}: cannot read ({exc.strerror})")
        return []


def _site_attrs(row: dict[str, str], where: str, problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": (row.get("kind") or "").strip(),
                           "region": (row.get("region") or "").strip()}
    for col, default in (("size", 1.0), ("readiness", 1.0)):
        text = (row.get(col) or "").strip()
        try:
            out[col] = float(text) if text else default
        except ValueError:
            problems.append(f"{where}: {col} must be a number, got {text!r}")
            continue
        if col == "readiness" and not 0 <= out[col] <= 1:
            problems.append(f"{where}: readiness must be in [0, 1], got {text!r}")
    flag = (row.get("opinion_leader") or "").strip().lower()
    if flag not in ("", "0", "1", "true", "false", "yes", "no"):
        problems.append(f"{where}: opinion_leader must be true/false, got {flag!r}")
    out["opinion_leader"] = flag in ("1", "true", "yes")
    return out


def _default_attrs(n: int) -> tuple[np.ndarray, ...]:
    return (np.full(n, "", dtype=object), np.full(n, "", dtype=object), np.ones(n), np.ones(n),
            np.zeros(n, dtype=bool))


def _assemble(ids: list[str], edges: list[tuple[int, int, str, float]],
              attrs: list[dict[str, Any]], *, directed: bool) -> SiteNetwork:
    """Build per-layer CSR matrices; duplicate edges add their weights, self-loops are dropped."""
    n = len(ids)
    by_layer: dict[str, list[tuple[int, int, float]]] = {}
    for u, v, layer, w in edges:
        if layer not in LAYERS:
            raise ScenarioError(f"network: unknown layer {layer!r} (allowed: {', '.join(LAYERS)})")
        if u == v:
            continue
        entries = by_layer.setdefault(layer, [])
        # row = the influenced site; learns-from/reports-to point at the influencer
        entries.append((u, v, w))
        if layer == "peer" or not directed:
            entries.append((v, u, w))
    layers = {}
    for layer, entries in by_layer.items():
        rows, cols, vals = (np.array(x) for x in zip(*entries, strict=True))
        m = sp.csr_array((vals.astype(float), (rows.astype(np.int64), cols.astype(np.int64))),
                         shape=(n, n))
        m.sum_duplicates()
        layers[layer] = m
    kind, region, size, readiness, leader = _default_attrs(n)
    for i, a in enumerate(attrs):
        kind[i] = str(a.get("kind", "") or "")
        region[i] = str(a.get("region", "") or "")
        size[i] = float(a.get("size", 1.0))
        readiness[i] = float(a.get("readiness", 1.0))
        leader[i] = bool(a.get("opinion_leader", False))
    if np.any((readiness < 0) | (readiness > 1)):
        raise ScenarioError("network: readiness must be in [0, 1]")
    return SiteNetwork(ids, layers, kind, region, size, readiness, leader)


def load_network(spec: NetworkSpec, override: str | Path | None = None,
                 sites: str | Path | None = None) -> SiteNetwork:
    """The network for a scenario: ``override`` (CLI ``--network``) or the scenario's files/generator.

    Examples
    --------
    >>> load_network(NetworkSpec(generator="complete", n=5)).complete
    True
    """
    if override is not None:
        return read_network_csv(override, sites or (spec.sites or None))
    if spec.edges:
        return read_network_csv(spec.edges, spec.sites or None)
    return generate(spec)
