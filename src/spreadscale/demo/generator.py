"""A central-line infection (CLABSI) prevention bundle spreading across 24 ICUs.

Region A spreads through a peer network from two opinion-leader units; region B enrols in
top-down waves; region C joins late. Infection rates fall and bundle compliance rises after a
unit implements the bundle, so the SPC charts have real shifts to find. Two units abandon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

START = date(2024, 1, 1)
MONTHS = 30
PHASES = ("not_started", "preparing", "testing", "implementing", "sustaining", "abandoned")


def month_start(index: int) -> date:
    """First day of the programme's month ``index`` (0 = January 2024)."""
    year, month = divmod(START.month - 1 + index, 12)
    return date(START.year + year, month + 1, 1)


@dataclass
class DemoSite:
    code: str
    name: str
    region: str  # region code
    organisation: str  # organisation code
    opinion_leader: bool = False
    wave: str = ""
    enrol_month: int | None = None
    adopt_month: int | None = None  # month the unit started implementing the bundle
    abandon_month: int | None = None
    # (month index, phase, reason): the phase history after enrolment
    phases: list[tuple[int, str, str]] = field(default_factory=list)
    baseline_rate: float = 3.0  # CLABSI per 1,000 line days before the bundle
    line_days: int = 400


@dataclass
class DemoObservation:
    measure: str
    site: str
    period_start: date
    granularity: str
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    flags: tuple[str, ...] = ()
    note: str = ""


@dataclass
class DemoProgramme:
    start: date
    months: int
    regions: dict[str, str]  # code -> name
    organisations: dict[str, tuple[str, str]]  # code -> (name, region code)
    sites: list[DemoSite]
    edges: list[tuple[str, str, str, float]]  # (from, to, layer, weight)
    observations: list[DemoObservation]

    def adoption_dates(self) -> dict[str, date | None]:
        """Date each unit started implementing the bundle (None if it never did)."""
        return {
            s.code: (month_start(s.adopt_month) if s.adopt_month is not None else None)
            for s in self.sites
        }


REGIONS = {
    "RA": "Northern region (peer network)",
    "RB": "Midlands region (waves)",
    "RC": "Southern region (joins late)",
}
TOWNS = {
    "RA": ["Aldbury", "Brackwell", "Carnforth", "Dunmere"],
    "RB": ["Eastleigh Vale", "Fenbridge", "Greyhurst", "Hallam Cross"],
    "RC": ["Ivybridge Bay", "Juniper Hill", "Kestrel Moor", "Lowmarsh"],
}
UNIT_TYPES = [("GICU", "General ICU"), ("CICU", "Cardiothoracic ICU")]


def _phase_history(
    enrol: int, adopt: int | None, abandon: int | None, rng: np.random.Generator
) -> list[tuple[int, str, str]]:
    history = [
        (enrol, "preparing", "Enrolled in the programme; team formed and baseline audit begun.")
    ]
    if adopt is not None:
        testing = max(enrol + 1, adopt - int(rng.integers(1, 3)))
        history.append(
            (testing, "testing", "First PDSA cycles of the insertion checklist on one shift.")
        )
        history.append(
            (adopt, "implementing", "Bundle in use on every shift; compliance audited weekly.")
        )
        sustain = adopt + 7
        if sustain < MONTHS and (abandon is None or sustain < abandon):
            history.append(
                (sustain, "sustaining", "Six months of high compliance; audit moved to monthly.")
            )
    if abandon is not None:
        history.append(
            (
                abandon,
                "abandoned",
                "Staffing crisis and two competing initiatives; the team stood down.",
            )
        )
    return history


def generate(seed: int = 2026) -> DemoProgramme:
    """Generate the demo programme. The same seed always gives the same programme.

    >>> demo = generate()
    >>> len(demo.sites), demo.months
    (24, 30)
    >>> sorted({s.region for s in demo.sites})
    ['RA', 'RB', 'RC']
    """
    rng = np.random.default_rng(seed)
    organisations: dict[str, tuple[str, str]] = {}
    sites: list[DemoSite] = []
    for region, towns in TOWNS.items():
        for t, town in enumerate(towns):
            org = f"{region}{t + 1}"
            organisations[org] = (f"{town} Hospitals NHS Trust", region)
            for code, label in UNIT_TYPES:
                sites.append(
                    DemoSite(
                        code=f"{org}-{code}",
                        name=f"{town} {label}",
                        region=region,
                        organisation=org,
                        baseline_rate=float(rng.uniform(2.2, 4.2)),
                        line_days=int(rng.integers(260, 620)),
                    )
                )
    by_region = {r: [s for s in sites if s.region == r] for r in REGIONS}

    # Region A: two opinion leaders adopt early, the rest follow their peers.
    a = by_region["RA"]
    a[0].opinion_leader = a[3].opinion_leader = True
    for i, s in enumerate(a):
        s.wave = "peer network"
        if s.opinion_leader:
            s.enrol_month, s.adopt_month = 1, 3 + (i > 0)
        else:
            s.enrol_month = 3 + i // 2
            s.adopt_month = s.enrol_month + 3 + int(rng.integers(0, 4))
    # Region B: three waves of enrolment from the centre; one unit of wave 2 abandons.
    b = by_region["RB"]
    for i, s in enumerate(b):
        wave = 1 if i < 3 else 2 if i < 6 else 3
        s.wave = f"wave {wave}"
        s.enrol_month = {1: 3, 2: 9, 3: 15}[wave]
        s.adopt_month = s.enrol_month + 4 + int(rng.integers(0, 2))
    b[4].abandon_month = b[4].adopt_month + 7  # type: ignore[operator]
    # Region C: joins late; two units still testing at the end, one abandons before adopting.
    c = by_region["RC"]
    for i, s in enumerate(c):
        s.wave = "late joiners"
        s.enrol_month = 18 + (i % 3)
        s.adopt_month = s.enrol_month + 4 + int(rng.integers(0, 3)) if i < 5 else None
    c[6].abandon_month = 25
    for s in sites:
        assert s.enrol_month is not None
        s.phases = _phase_history(s.enrol_month, s.adopt_month, s.abandon_month, rng)

    edges = _network(sites, rng)
    observations = _observations(sites, rng)
    return DemoProgramme(START, MONTHS, dict(REGIONS), organisations, sites, edges, observations)


def _network(sites: list[DemoSite], rng: np.random.Generator) -> list[tuple[str, str, str, float]]:
    edges: list[tuple[str, str, str, float]] = []
    a = [s for s in sites if s.region == "RA"]
    leaders = [s for s in a if s.opinion_leader]
    for s in a:  # peers in a ring with a chord, and everyone learns from a leader
        if not s.opinion_leader:
            edges.append((s.code, leaders[len(edges) % 2].code, "learns-from", 1.0))
    for i in range(len(a)):
        edges.append((a[i].code, a[(i + 1) % len(a)].code, "peer", 0.6))
    edges.append((a[1].code, a[5].code, "peer", 0.6))
    for s in sites:
        if s.region != "RA":  # units report to the regional team; twin units talk as peers
            edges.append((s.code, s.region, "reports-to", 1.0))
    for org in {s.organisation for s in sites}:
        twins = [s.code for s in sites if s.organisation == org]
        if len(twins) == 2:
            edges.append((twins[0], twins[1], "peer", 0.8))
    # A few ties across regions: late joiners learn from region A's opinion leaders.
    for s in sites:
        if s.region == "RC" and rng.random() < 0.5:
            edges.append((s.code, leaders[0].code, "learns-from", 0.5))
    return edges


def _effect(s: DemoSite, month: int) -> float:
    """How far the bundle has taken hold in a unit in a month, from 0 (not at all) to 1."""
    if s.adopt_month is None or month < s.adopt_month - 1:
        level = 0.0
    elif month < s.adopt_month + 1:
        level = 0.5 if month == s.adopt_month - 1 else 0.8  # testing, then the ramp
    else:
        level = 1.0
    if s.abandon_month is not None and month >= s.abandon_month:
        level *= 0.25
    return level


def _observations(sites: list[DemoSite], rng: np.random.Generator) -> list[DemoObservation]:
    out: list[DemoObservation] = []
    for s in sites:
        last_infection: date | None = None
        for m in range(MONTHS):
            start = month_start(m)
            effect = _effect(s, m)
            line_days = int(rng.poisson(s.line_days))
            rate = s.baseline_rate * (1 - 0.6 * effect)  # the bundle prevents ~60% of infections
            infections = int(rng.poisson(rate * line_days / 1000))
            out.append(
                DemoObservation(
                    "clabsi-rate",
                    s.code,
                    start,
                    "month",
                    numerator=infections,
                    denominator=line_days,
                )
            )
            audited = int(rng.integers(20, 41))
            p_comply = 0.38 + 0.52 * effect
            compliant = int(rng.binomial(audited, p_comply))
            flags: tuple[str, ...] = ()
            note = ""
            if rng.random() < 0.03:
                flags, note = ("incomplete",), "Night-shift audit sheets missing for one week."
            out.append(
                DemoObservation(
                    "bundle-compliance",
                    s.code,
                    start,
                    "month",
                    numerator=compliant,
                    denominator=audited,
                    flags=flags,
                    note=note,
                )
            )
            removals = int(rng.integers(30, 61))
            reinsertions = int(rng.binomial(removals, 0.05 + 0.01 * effect))
            out.append(
                DemoObservation(
                    "line-reinsertion",
                    s.code,
                    start,
                    "month",
                    numerator=reinsertions,
                    denominator=removals,
                )
            )
            days_in_month = (month_start(m + 1) - start).days
            for day in sorted(rng.integers(0, days_in_month, size=infections)):
                when = start + timedelta(days=int(day))
                if last_infection is not None:
                    out.append(
                        DemoObservation(
                            "days-between-infections",
                            s.code,
                            when,
                            "event",
                            value=float((when - last_infection).days),
                        )
                    )
                last_infection = when
    # the event series may have two infections on one day: keep the first of each date
    seen: set[tuple[str, str, date]] = set()
    unique: list[DemoObservation] = []
    for o in out:
        key = (o.measure, o.site, o.period_start)
        if key not in seen:
            seen.add(key)
            unique.append(o)
    return unique
