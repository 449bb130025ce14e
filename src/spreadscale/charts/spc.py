"""Vega-Lite specs for SPC charts: plain data in, a dict out (the browser and vl-convert share it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"

# Making Data Count colours: blue improvement, orange concern, grey common cause.
POINT_COLOURS = {
    "common_cause": "#7b7d7d",
    "special_cause_improvement": "#1f6fb4",
    "special_cause_concern": "#e46c0a",
    "special_cause_neutral_high": "#6a3d9a",
    "special_cause_neutral_low": "#6a3d9a",
    "no_data": "#bbbbbb",
}
POINT_LABELS = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neutral_high": "Special cause: high",
    "special_cause_neutral_low": "Special cause: low",
    "no_data": "No data",
}
ANNOTATION_COLOURS = {
    "phase": "#2e7d32",
    "pdsa": "#8e24aa",
    "adaptation": "#c62828",
    "chart": "#00695c",
}
OTHER_COLOURS = ["#5d4037", "#1565c0", "#ef6c00", "#37474f"]


def spc_spec(
    points: Sequence[Mapping[str, Any]],
    *,
    title: str,
    y_title: str,
    annotations: Sequence[Mapping[str, Any]] = (),
    target: float | None = None,
    y_domain: tuple[float, float] | None = None,
    width: int | str = "container",
    height: int = 180,
    description: str = "",
) -> dict[str, Any]:
    """A layered SPC chart for one site.

    ``points`` are dicts with ``x`` (ISO date), ``y``, ``cl``, ``lcl``, ``ucl``, ``part``,
    ``point_type`` and optional ``numerator``, ``denominator``, ``flags``, ``reasons``,
    ``excluded``; ``annotations`` are dicts with ``on`` (ISO date), ``kind`` and ``label``.
    """
    values = [
        {
            **p,
            "status": POINT_LABELS.get(p.get("point_type") or "no_data", "No data"),
            "flags_text": ", ".join(p.get("flags") or []) or "none",
            "reasons_text": (p.get("reasons") or "").replace("|", ", ") or "none",
        }
        for p in points
    ]
    x = {"field": "x", "type": "temporal", "title": None}
    y_scale: dict[str, Any] = {"zero": False}
    if y_domain is not None:
        y_scale = {"domain": list(y_domain), "zero": False, "nice": True}
    y = {"field": "y", "type": "quantitative", "title": y_title, "scale": y_scale}
    # step lines: p/u limits change with each point's denominator
    limit_line = {
        "mark": {"type": "line", "interpolate": "step", "strokeDash": [4, 3], "color": "#a33"}
    }
    layers: list[dict[str, Any]] = [
        {
            "mark": {"type": "line", "color": "#555", "strokeWidth": 1.5},
            "encoding": {"x": x, "y": y},
        },
        {
            "mark": {"type": "line", "color": "#222", "strokeWidth": 1},
            "encoding": {
                "x": x,
                "y": {"field": "cl", "type": "quantitative"},
                "detail": {"field": "part", "type": "nominal"},
            },
        },
        *(
            {
                **limit_line,
                "encoding": {
                    "x": x,
                    "y": {"field": name, "type": "quantitative"},
                    "detail": {"field": "part", "type": "nominal"},
                },
            }
            for name in ("ucl", "lcl")
        ),
        {
            "mark": {"type": "point", "filled": True, "size": 45},
            "encoding": {
                "x": x,
                "y": y,
                "color": {
                    "field": "status",
                    "type": "nominal",
                    "scale": {
                        "domain": list(POINT_LABELS.values()),
                        "range": [POINT_COLOURS[k] for k in POINT_LABELS],
                    },
                    "legend": None,
                },
                "shape": {
                    "condition": {"test": "datum.excluded", "value": "cross"},
                    "value": "circle",
                },
                "tooltip": [
                    {"field": "x", "type": "temporal", "title": "Period", "format": "%d %b %Y"},
                    {"field": "y", "type": "quantitative", "title": y_title, "format": ".3~f"},
                    {"field": "numerator", "type": "quantitative", "title": "Numerator"},
                    {"field": "denominator", "type": "quantitative", "title": "Denominator"},
                    {"field": "status", "title": "Signal"},
                    {"field": "reasons_text", "title": "Rules"},
                    {"field": "flags_text", "title": "Data quality"},
                ],
            },
        },
    ]
    if target is not None:
        layers.append(
            {
                "mark": {"type": "rule", "color": "#2e7d32", "strokeDash": [2, 2]},
                "encoding": {"y": {"datum": target}},
            }
        )
    if annotations:
        notes = [
            {"on": a["on"], "kind": a["kind"], "label": a["label"], "detail": a.get("detail", "")}
            for a in annotations
        ]
        kinds = {a["kind"] for a in notes}
        colour = {
            "field": "kind",
            "type": "nominal",
            # only kinds present get a colour: other areas register kinds we do not know here
            "scale": {
                "domain": [k for k in ANNOTATION_COLOURS if k in kinds]
                + sorted(kinds - set(ANNOTATION_COLOURS)),
                "range": [ANNOTATION_COLOURS[k] for k in ANNOTATION_COLOURS if k in kinds]
                + [OTHER_COLOURS[i % len(OTHER_COLOURS)] for i in range(len(kinds))],
            },
            "legend": None,
        }
        ax = {"field": "on", "type": "temporal"}
        layers.append(
            {
                "data": {"values": notes},
                "layer": [
                    {
                        "mark": {"type": "rule", "strokeWidth": 1, "opacity": 0.7},
                        "encoding": {
                            "x": ax,
                            "color": colour,
                            "tooltip": [
                                {"field": "on", "type": "temporal", "title": "Date"},
                                {"field": "label", "title": "Event"},
                                {"field": "detail", "title": "Detail"},
                            ],
                        },
                    },
                    {
                        "mark": {
                            "type": "text",
                            "angle": 270,
                            "align": "right",
                            "baseline": "bottom",
                            "dx": -2,
                            "dy": -2,
                            "fontSize": 9,
                            "y": 0,
                        },
                        "encoding": {"x": ax, "text": {"field": "label"}, "color": colour},
                    },
                ],
            }
        )
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "anchor": "start", "fontSize": 13},
        "description": description or title,
        "width": width,
        "height": height,
        "data": {"values": values},
        "layer": layers,
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 10, "titleFontSize": 10}},
    }


def funnel_spec(
    sites: Sequence[Mapping[str, Any]],
    curve: Sequence[Mapping[str, Any]],
    *,
    title: str,
    y_title: str,
    width: int | str = "container",
    height: int = 320,
) -> dict[str, Any]:
    """A funnel plot: sites as points (size on x, value on y) inside control limits by size.

    ``sites`` hold ``site``, ``n``, ``y`` and ``status``; ``curve`` holds ``n``, ``level``,
    ``lower`` and ``upper`` for each limit level, plus ``target``.
    """
    x = {"field": "n", "type": "quantitative", "title": "Denominator (size)"}
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "anchor": "start"},
        "description": title,
        "width": width,
        "height": height,
        "layer": [
            {
                "data": {"values": list(curve)},
                "layer": [
                    {
                        "mark": {"type": "line", "color": "#a33", "strokeDash": [4, 3]},
                        "encoding": {
                            "x": x,
                            "y": {"field": "upper", "type": "quantitative", "title": y_title},
                            "detail": {"field": "level"},
                        },
                    },
                    {
                        "mark": {"type": "line", "color": "#a33", "strokeDash": [4, 3]},
                        "encoding": {
                            "x": x,
                            "y": {"field": "lower", "type": "quantitative"},
                            "detail": {"field": "level"},
                        },
                    },
                    {
                        "mark": {"type": "line", "color": "#222"},
                        "encoding": {"x": x, "y": {"field": "target", "type": "quantitative"}},
                    },
                ],
            },
            {
                "data": {"values": list(sites)},
                "mark": {"type": "point", "filled": True, "size": 50},
                "encoding": {
                    "x": x,
                    "y": {"field": "y", "type": "quantitative"},
                    "color": {
                        "field": "status",
                        "type": "nominal",
                        "scale": {
                            "domain": ["within", "above", "below"],
                            "range": ["#7b7d7d", "#e46c0a", "#1f6fb4"],
                        },
                        "title": "Site",
                    },
                    "tooltip": [
                        {"field": "site", "title": "Site"},
                        {"field": "y", "type": "quantitative", "title": y_title, "format": ".3~f"},
                        {"field": "n", "type": "quantitative", "title": "Size"},
                        {"field": "status", "title": "Position"},
                    ],
                },
            },
        ],
    }


def sparkline_points(values: Sequence[float | None], width: int = 80, height: int = 20) -> str:
    """SVG polyline points for a tiny trend line (server-rendered, so the board needs no JS)."""
    ys = [v for v in values if v is not None]
    if len(ys) < 2:
        return ""
    lo, hi = min(ys), max(ys)
    span = (hi - lo) or 1.0
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 1 - (v - lo) / span * (height - 2):.1f}"
        for i, v in enumerate(values)
        if v is not None
    )
