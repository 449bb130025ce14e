"""Scenarios: what to simulate, as validated dataclasses read from TOML or built in Python.

Every time-based parameter is a hazard *rate per time unit* (``time_unit``); one step lasts
``step`` time units, so a rate r gives a per-step probability 1 − exp(−r·step). Keys whose name
says *probability* are probabilities in [0, 1]. All problems in a scenario are reported at once
in one :class:`ScenarioError` whose messages name the key (``contagion.q``) or row.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESETS_DIR = Path(__file__).parent / "presets"
LAYERS = ("learns-from", "reports-to", "peer")


class ScenarioError(ValueError):
    """A scenario or network that cannot be simulated; ``problems`` lists every reason."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class _Checked:
    """Validates its fields on construction."""

    def __post_init__(self) -> None:
        problems = _check(self, "")
        if problems:
            raise ScenarioError(problems)


def _rate(default: float = 0.0) -> Any:
    return field(default=default, metadata={"min": 0.0})


def _prob(default: float) -> Any:
    return field(default=default, metadata={"min": 0.0, "max": 1.0})


def _pos(default: float) -> Any:
    return field(default=default, metadata={"min": 0.0, "strict": True})


@dataclass
class Threshold(_Checked):
    """Threshold distribution: ``fixed`` (value), ``uniform`` (low, high) or ``normal`` (mean, sd)."""

    kind: str = field(default="fractional", metadata={"choices": ("fractional", "absolute")})
    distribution: str = field(default="uniform",
                              metadata={"choices": ("fixed", "uniform", "normal")})
    value: float = _rate(0.5)
    low: float = _rate(0.0)
    high: float = _rate(1.0)
    mean: float = _rate(0.5)
    sd: float = _rate(0.0)


@dataclass
class Eligibility(_Checked):
    """Which sites a wave may enrol (empty lists mean any)."""

    region: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    min_readiness: float = _prob(0.0)
    min_size: float = _rate(0.0)
    opinion_leader: bool | None = None


@dataclass
class Wave(_Checked):
    """One wave of enrolment: ``size`` eligible sites enrolled at ``step``."""

    step: int = field(default=0, metadata={"min": 0})
    size: int = field(default=0, metadata={"min": 0})
    eligible: Eligibility = field(default_factory=Eligibility)
    select: str = field(default="random",
                        metadata={"choices": ("random", "readiness", "opinion_leaders")})


@dataclass
class Push(_Checked):
    """Mechanistic push: waves, facilitation capacity and dose, costs."""

    waves: list[Wave] = field(default_factory=list)
    facilitators: float = _rate(1.0)
    hours_per_facilitator: float = _rate(7.5)  # per step
    caseload: float = _pos(8.0)  # sites one facilitator can hold at once
    hours_per_site: float = _rate(1.1)  # per step, while enrolled and not yet adopted
    support_steps: int = field(default=0, metadata={"min": 0})  # facilitation after adoption
    adoption_rate: float = _rate(0.1)  # hazard per time unit at full dose
    dose_scale: float = _pos(20.0)  # hours: hazard = rate·(1 − exp(−dose/dose_scale))
    fidelity: float = _prob(0.95)
    cost_per_hour: float = _rate(60.0)
    cost_per_site: float = _rate(0.0)


@dataclass
class Adaptation(_Checked):
    """Ecological adaptation: who adapts, how it changes adoption, fidelity and effect."""

    probability: float = _prob(0.0)
    adoption_multiplier: float = _rate(1.0)
    fidelity: float = _prob(0.7)  # fidelity of an adapted site at adoption
    fidelity_drift: float = _rate(0.0)  # fidelity lost per time unit, all unsupported adopters
    effect_floor: float = field(default=0.0, metadata={"min": 0.0, "max": 0.999})
    effect_exponent: float = _pos(1.0)


@dataclass
class Contagion(_Checked):
    """Social contagion: Bass terms, thresholds, cascades, layers, fatigue, discontinuance."""

    p: float = _rate(0.0)
    q: float = _rate(0.0)
    threshold: Threshold | None = None
    cascade_probability: float = _prob(0.0)
    layer_weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(LAYERS, 1.0))
    opinion_leader_weight: float = _rate(1.0)
    fatigue_growth: float = _rate(0.0)
    fatigue_decay: float = _prob(0.0)  # share of fatigue lost per step
    concurrent_initiatives: float = _rate(0.0)
    discontinuance: float = _rate(0.0)
    discontinuance_fidelity: float = _rate(0.0)  # extra hazard multiple per unit fidelity lost
    discontinuance_tenure_halflife: float = _rate(0.0)  # time units; 0 = tenure does not protect
    readoption: float = _rate(0.0)  # hazard multiplier for abandoned sites; 0 = never re-adopt


@dataclass
class Initial(_Checked):
    """Initial adopters at step 0: a random ``fraction`` or ``count``, named ``sites``, leaders."""

    fraction: float = _prob(0.0)
    count: int = field(default=0, metadata={"min": 0})
    sites: list[str] = field(default_factory=list)
    opinion_leaders: bool = False


@dataclass
class NetworkSpec(_Checked):
    """Where the network comes from: a generator with parameters or CSV files."""

    generator: str = field(default="", metadata={"choices": (
        "", "barabasi_albert", "watts_strogatz", "erdos_renyi", "complete", "layered")})
    n: int = field(default=0, metadata={"min": 0})
    m: int = field(default=3, metadata={"min": 1})
    k: int = field(default=4, metadata={"min": 1})
    p: float = _prob(0.1)
    seed: int = field(default=0, metadata={"min": 0})
    regions: int = field(default=3, metadata={"min": 1})
    opinion_leader_share: float = _prob(0.05)
    edges: str = ""
    sites: str = ""


@dataclass
class Outputs(_Checked):
    """What to report: coverage levels for time-to-X, and how long adoption must last."""

    coverage_levels: list[float] = field(default_factory=lambda: [0.1, 0.25, 0.5, 0.75, 0.9])
    sustained_steps: int = field(default=0, metadata={"min": 0})


@dataclass
class Scenario(_Checked):
    """A complete scenario. Build in Python or with :meth:`from_toml` / :meth:`from_dict`.

    Examples
    --------
    >>> s = Scenario.from_dict({"horizon": 20, "network": {"generator": "complete", "n": 100},
    ...                         "contagion": {"p": 0.03, "q": 0.38}})
    >>> s.horizon, s.contagion.q
    (20, 0.38)
    >>> Scenario.from_dict({"horizon": 5, "contagion": {"q": -1}})
    Traceback (most recent call last):
    ...
    spreadscale.analytics.diffusion.scenario.ScenarioError: contagion.q must be >= 0, got -1
    """

    horizon: int = field(default=100, metadata={"min": 1})
    step: float = _pos(1.0)
    time_unit: str = "step"
    runs: int = field(default=100, metadata={"min": 1})
    seed: int | None = field(default=None, metadata={"min": 0})
    name: str = ""
    description: str = ""
    network: NetworkSpec = field(default_factory=NetworkSpec)
    initial: Initial = field(default_factory=Initial)
    push: Push | None = None
    adaptation: Adaptation | None = None
    contagion: Contagion | None = None
    outputs: Outputs = field(default_factory=Outputs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Build and validate a scenario from plain data (the parsed TOML)."""
        problems: list[str] = []
        kwargs = _convert(cls, data, "", problems)
        try:
            scenario = cls(**kwargs)
        except ScenarioError as exc:
            problems = exc.problems + problems
        if problems:
            raise ScenarioError(problems)
        return scenario

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Read a scenario TOML file; relative network paths resolve against its folder."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path.name}: not valid TOML: {exc}") from None
        scenario = cls.from_dict(data)
        for key in ("edges", "sites"):
            value = getattr(scenario.network, key)
            if value and not Path(value).is_absolute():
                setattr(scenario.network, key, str(path.parent / value))
        if not scenario.name:
            scenario.name = path.stem
        return scenario

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready data; ``Scenario.from_dict(s.to_dict())`` round-trips."""
        return _prune(dataclasses.asdict(self))

    def config_hash(self, network_hash: str = "") -> str:
        """SHA-256 of the canonical JSON of the scenario, and of ``network_hash`` when given.

        Name, description and the network's file paths (``network.edges``, ``network.sites``,
        which differ between machines) are excluded: a result's hash is that of its effective
        scenario (runs and seed as run) with the network's content hash.
        """
        data = self.to_dict()
        data.pop("name", None)
        data.pop("description", None)
        data["network"].pop("edges", None)
        data["network"].pop("sites", None)
        if network_hash:
            data["network_hash"] = network_hash
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def replace(self, **changes: Any) -> Scenario:
        """A validated copy with some top-level fields changed."""
        return dataclasses.replace(self, **changes)


def preset_names() -> list[str]:
    """Names of the scenarios shipped in ``presets/``.

    Examples
    --------
    >>> "reference_threshold" in preset_names()
    True
    """
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a scenario TOML by path, or a shipped preset by name (``bass``, ``reference_threshold``).

    Examples
    --------
    >>> load_scenario("bass").network.generator
    'complete'
    """
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        preset = PRESETS_DIR / f"{name_or_path}.toml"
        if preset.exists():
            return Scenario.from_toml(preset)
        raise ScenarioError(f"{name_or_path}: no such file and no preset of that name "
                            f"(presets: {', '.join(preset_names())})")
    if not path.exists():
        raise ScenarioError(f"{path}: no such scenario file")
    return Scenario.from_toml(path)


def _prune(value: Any) -> Any:
    """Drop None entries so the dict is valid TOML-shaped data and hashes stably."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _nested_type(cls: type, name: str) -> type | None:
    """The dataclass type of a field, if it holds one (or a list of them for ``waves``)."""
    nested = {"network": NetworkSpec, "initial": Initial, "push": Push, "adaptation": Adaptation,
              "contagion": Contagion, "outputs": Outputs, "threshold": Threshold,
              "eligible": Eligibility, "waves": Wave}
    return nested.get(name) if dataclasses.is_dataclass(cls) else None


def _convert(cls: type, data: Any, path: str, problems: list[str]) -> dict[str, Any]:
    """Turn a TOML table into constructor kwargs, recording unknown keys and wrong types."""
    if not isinstance(data, dict):
        problems.append(f"{path.rstrip('.') or 'scenario'} must be a table")
        return {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{path}{key}"
        if key not in fields:
            problems.append(f"{where}: unknown key (allowed: {', '.join(sorted(fields))})")
            continue
        sub = _nested_type(cls, key)
        if key == "waves":
            if not isinstance(value, list):
                problems.append(f"{where} must be an array of tables ([[push.waves]])")
                continue
            waves = []
            for i, w in enumerate(value):
                try:
                    waves.append(Wave(**_convert(Wave, w, f"{where}[{i}].", problems)))
                except ScenarioError as exc:
                    problems.extend(f"{where}[{i}].{p}" for p in exc.problems)
            kwargs[key] = waves
        elif sub is not None:
            sub_kwargs = _convert(sub, value, f"{where}.", problems)
            try:
                kwargs[key] = sub(**sub_kwargs)
            except ScenarioError as exc:
                problems.extend(f"{where}.{p}" for p in exc.problems)
        else:
            kwargs[key] = value
    return kwargs


def _check(obj: Any, path: str) -> list[str]:
    """Type and range checks of one dataclass instance (nested ones check themselves)."""
    problems: list[str] = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        where = f"{path}{f.name}"
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        if value is None or dataclasses.is_dataclass(value):
            continue
        if isinstance(default, bool) or f.name == "opinion_leader":
            if not isinstance(value, bool):
                problems.append(f"{where} must be true or false, got {value!r}")
            continue
        if isinstance(default, int | float) or f.name == "seed":
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{where} must be a number, got {value!r}")
                continue
            if isinstance(default, int) and not isinstance(default, bool) and \
                    not isinstance(value, int):
                if float(value).is_integer():
                    setattr(obj, f.name, int(value))
                else:
                    problems.append(f"{where} must be a whole number, got {value!r}")
                    continue
            if not math.isfinite(value):
                problems.append(f"{where} must be finite, got {value!r}")
                continue
            lo, hi = f.metadata.get("min"), f.metadata.get("max")
            if lo is not None and (value < lo or (f.metadata.get("strict") and value == lo)):
                op = ">" if f.metadata.get("strict") else ">="
                problems.append(f"{where} must be {op} {lo:g}, got {value!r}")
            if hi is not None and value > hi:
                problems.append(f"{where} must be <= {hi:g}, got {value!r}")
        elif isinstance(default, str):
            if not isinstance(value, str):
                problems.append(f"{where} must be a string, got {value!r}")
            elif "choices" in f.metadata and value not in f.metadata["choices"]:
                choices = ", ".join(repr(c) for c in f.metadata["choices"] if c)
                problems.append(f"{where} must be one of {choices}, got {value!r}")
        elif isinstance(default, list) and not isinstance(value, list):
            problems.append(f"{where} must be an array, got {value!r}")
    problems.extend(_check_special(obj, path))
    return problems


def _check_special(obj: Any, path: str) -> list[str]:
    problems: list[str] = []
    if isinstance(obj, Contagion):
        if not isinstance(obj.layer_weights, dict):
            return [f"{path}layer_weights must be a table"]
        for layer, w in obj.layer_weights.items():
            if layer not in LAYERS:
                problems.append(f"{path}layer_weights.{layer}: unknown layer "
                                f"(allowed: {', '.join(LAYERS)})")
            elif isinstance(w, bool) or not isinstance(w, int | float) or w < 0:
                problems.append(f"{path}layer_weights.{layer} must be a number >= 0, got {w!r}")
        obj.layer_weights = {**dict.fromkeys(LAYERS, 1.0), **obj.layer_weights}
    if isinstance(obj, Threshold):
        if obj.low > obj.high:
            problems.append(f"{path}low must be <= high, got {obj.low} > {obj.high}")
        if obj.kind == "fractional" and max(obj.value, obj.high) > 1 and \
                obj.distribution != "normal":
            problems.append(f"{path}fractional thresholds must be <= 1")
    if isinstance(obj, Outputs):
        for i, level in enumerate(obj.coverage_levels):
            if isinstance(level, bool) or not isinstance(level, int | float) or \
                    not 0 < level <= 1:
                problems.append(f"{path}coverage_levels[{i}] must be in (0, 1], got {level!r}")
    if isinstance(obj, NetworkSpec):
        problems.extend(_check_generator(obj, path))
    if isinstance(obj, Initial) and obj.fraction and obj.count:
        problems.append(f"{path}fraction and {path}count: give one, not both")
    return problems


def _check_generator(spec: NetworkSpec, path: str) -> list[str]:
    """The generator's parameters against each other (networkx would raise, or build nonsense)."""
    g = spec.generator
    values = {k: getattr(spec, k) for k in ("n", "m", "k", "regions")}
    if not g or any(isinstance(v, bool) or not isinstance(v, int) for v in values.values()):
        return []  # no generator, or a wrong type already reported
    n = values["n"]
    if n < 2:
        return [f"{path}n must be at least 2 for generator {g!r}, got {n}"]
    problems = []
    if g == "barabasi_albert" and spec.m >= n:
        problems.append(f"{path}m must be smaller than n ({n}) for 'barabasi_albert', "
                        f"got {spec.m}")
    if g == "watts_strogatz":
        if spec.k < 2:
            problems.append(f"{path}k must be at least 2 for 'watts_strogatz' (k // 2 neighbours "
                            f"on each side of the ring), got {spec.k}")
        elif spec.k >= n:
            problems.append(f"{path}k must be smaller than n ({n}) for 'watts_strogatz', "
                            f"got {spec.k}")
    if g == "layered" and spec.regions > n:
        problems.append(f"{path}regions must be at most n ({n}) for 'layered' (every "
                        f"region needs a site), got {spec.regions}")
    return problems
