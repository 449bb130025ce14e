"""Vega-Lite spec builders, and the vendored front-end versions matching vl-convert's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import vl_convert

from spreadscale.charts.spc import funnel_spec, sparkline_points, spc_spec

VENDOR = Path(__file__).parents[2] / "src/spreadscale/web/static/vendor"
PACKAGE = Path(__file__).parents[2] / "frontend/package.json"

POINTS = [
    {
        "x": f"2024-{m:02d}-01",
        "y": y,
        "cl": 5.0,
        "lcl": 1.0,
        "ucl": 9.0,
        "part": 1,
        "point_type": t,
        "reasons": r,
        "flags": f,
    }
    for m, y, t, r, f in [
        (1, 4.0, "common_cause", "", []),
        (2, 6.0, "common_cause", "", ["estimated"]),
        (3, 9.5, "special_cause_concern", "beyond_limits", []),
    ]
]


def test_the_spc_spec_renders_to_svg_with_vl_convert():
    spec = spc_spec(
        POINTS,
        title="Unit A",
        y_title="%",
        annotations=[{"on": "2024-02-01", "kind": "phase", "label": "Testing"}],
        target=8.0,
        width=400,
    )
    svg = vl_convert.vegalite_to_svg(spec, vl_version="6.4")
    assert svg.startswith("<svg") and "Testing" in svg


def test_points_carry_their_signal_rules_and_flags_for_the_tooltip():
    values = spc_spec(POINTS, title="t", y_title="%")["data"]["values"]
    assert values[2]["status"] == "Special cause: concern"
    assert values[2]["reasons_text"] == "beyond_limits"
    assert values[1]["flags_text"] == "estimated"


def test_a_shared_scale_fixes_the_y_domain():
    spec = spc_spec(POINTS, title="t", y_title="%", y_domain=(0.0, 20.0))
    assert spec["layer"][0]["encoding"]["y"]["scale"]["domain"] == [0.0, 20.0]


def test_the_funnel_spec_renders():
    sites = [{"site": "A", "n": 100, "y": 0.1, "status": "within"}]
    curve = [{"n": n, "level": "95%", "lower": 0.0, "upper": 0.3, "target": 0.1} for n in (50, 150)]
    svg = vl_convert.vegalite_to_svg(funnel_spec(sites, curve, title="f", y_title="%", width=300))
    assert "<svg" in svg


def test_a_sparkline_skips_gaps_and_needs_two_values():
    assert sparkline_points([1.0]) == ""
    assert len(sparkline_points([1.0, None, 3.0]).split()) == 2


def test_vendored_vega_versions_match_the_ones_vl_convert_bundles():
    deps = json.loads(PACKAGE.read_text())["dependencies"]
    assert deps["vega"] == vl_convert.get_vega_version()
    assert deps["vega-embed"] == vl_convert.get_vega_embed_version()
    assert deps["vega-lite"].rsplit(".", 1)[0] in vl_convert.get_vegalite_versions()
    bundled = re.findall(r'"(6\.4\.\d+)"', vl_convert.javascript_bundle(vl_version="6.4"))
    assert deps["vega-lite"] in bundled
    for name, version in [("vega.min.js", deps["vega"]), ("vega-lite.min.js", deps["vega-lite"])]:
        assert f'"{version}"' in (VENDOR / name).read_text()
    assert deps["vega-embed"] in (VENDOR / "vega-embed.min.js").read_text()
