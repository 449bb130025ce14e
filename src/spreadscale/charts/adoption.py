"""Adoption curve charts: ensemble mean with 5–95% and 25–75% bands, one colour per scenario."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"


def adoption_spec(time: Sequence[float], series: Mapping[str, Mapping[str, Sequence[Any]]], *,
                  title: str = "Adoption", time_unit: str = "step",
                  y_title: str = "Share of sites adopted", width: int = 560,
                  height: int = 300) -> dict[str, Any]:
    """Vega-Lite spec of adoption bands.

    ``series`` maps a scenario name to its bands: ``mean``, ``p5``, ``p25``, ``p50``, ``p75``,
    ``p95``, each a sequence aligned with ``time`` (``None`` values are skipped by Vega-Lite).

    >>> spec = adoption_spec([0, 1], {"base": {"mean": [0, .5], "p5": [0, .4], "p25": [0, .45],
    ...                      "p50": [0, .5], "p75": [0, .55], "p95": [0, .6]}})
    >>> spec["data"]["values"][1]["p95"], len(spec["layer"])
    (0.6, 4)
    """
    rows = []
    for name, bands in series.items():
        for i, t in enumerate(time):
            row: dict[str, Any] = {"time": t, "scenario": name}
            for key in ("mean", "p5", "p25", "p50", "p75", "p95"):
                value = bands[key][i]
                row[key] = None if value is None else float(value)
            rows.append(row)
    x = {"field": "time", "type": "quantitative", "title": f"Time ({time_unit}s)"}
    colour = {"field": "scenario", "type": "nominal", "title": "Scenario",
              "legend": None if len(series) == 1 else {"orient": "bottom"}}
    y_axis = {"type": "quantitative", "title": y_title, "scale": {"domain": [0, 1]},
              "axis": {"format": "%"}}
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": width,
        "height": height,
        "data": {"values": rows},
        "encoding": {"x": x, "color": colour},
        "layer": [
            {"mark": {"type": "area", "opacity": 0.15},
             "encoding": {"y": {"field": "p5", **y_axis}, "y2": {"field": "p95"}}},
            {"mark": {"type": "area", "opacity": 0.3},
             "encoding": {"y": {"field": "p25", **y_axis}, "y2": {"field": "p75"}}},
            {"mark": {"type": "line", "strokeWidth": 2},
             "encoding": {"y": {"field": "mean", **y_axis},
                          "tooltip": [{"field": "scenario"}, {"field": "time"},
                                      {"field": "mean", "format": ".1%"},
                                      {"field": "p5", "format": ".1%"},
                                      {"field": "p95", "format": ".1%"}]}},
            {"mark": {"type": "line", "strokeDash": [4, 3], "strokeWidth": 1},
             "encoding": {"y": {"field": "p50", **y_axis}}},
        ],
    }
