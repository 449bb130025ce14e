"""The worked example (examples/demo_programme.py) runs and prints what docs/simulation.md shows."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "demo_programme.py"
FUTURES = ("top-down waves", "opinion-leader seeding", "hybrid")
ROW = re.compile(r"^\s+(\d+)((?:\s+\d+%){6}) \|((?:\s+[\d,]+){3})$")


@pytest.fixture(scope="module")
def output() -> str:
    spec = importlib.util.spec_from_file_location("demo_programme_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        module.main(["--runs", "12", "--draws", "40", "--rank-runs", "4"])
    return buf.getvalue()


def _monthly(output: str, future: str) -> list[tuple[int, list[float], list[float]]]:
    lines = output.splitlines()
    start = lines.index(f"{future}: month by month")
    rows = []
    for line in lines[start + 3:]:
        match = ROW.match(line)
        if not match:
            break
        shares = [float(x.rstrip("%")) / 100 for x in match.group(2).split()]
        costs = [float(x.replace(",", "")) for x in match.group(3).split()]
        rows.append((int(match.group(1)), shares, costs))
    return rows


@pytest.mark.parametrize("future", FUTURES)
def test_every_future_gets_a_row_of_bands_per_month(output, future):
    rows = _monthly(output, future)
    assert [month for month, _, _ in rows] == list(range(30))  # months 0..29
    for _, shares, costs in rows:
        _, p5, p25, p50, p75, p95 = shares
        assert 0 <= p5 <= p25 <= p50 <= p75 <= p95 <= 1
        assert costs[1] <= costs[2]  # cost p5 <= p95
    means = [costs[0] for _, _, costs in rows]
    assert means == sorted(means) and means[-1] > 0  # cumulative cost never falls


def test_the_waves_cost_more_than_seeding_the_opinion_leaders(output):
    # three facilitators enrolling all 24 units against one facilitator for two units
    waves = _monthly(output, "top-down waves")[-1][2][0]
    seeding = _monthly(output, "opinion-leader seeding")[-1][2][0]
    assert waves > seeding


def test_it_prints_the_calibration_the_comparison_and_the_ranking(output):
    assert output.startswith("Demo programme: 24 units, 21 adopted by month 29")
    assert "Rejection ABC: 40 draws" in output
    assert "(12 runs each, same seeds)" in output
    for future in FUTURES:
        assert f"- {future}\n    adopted at month 29: " in output
    assert "Paired differences against top-down waves" in output
    assert re.search(r"greedy order: \S+, \S+, \S+; marginal gains", output)
