"""Exports: observations as CSV/XLSX and charts as SVG, PNG and PDF from the same spec."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse


def _url(name, **kw):
    return reverse(name, kwargs={"slug": "clabsi", **kw})


def test_observations_export_as_csv_with_only_readable_sites(client_for):
    response = client_for("site_a").get(
        _url("measurement_export", measure_slug="bundle-compliance", fmt="csv")
    )
    lines = response.content.decode("utf-8-sig").strip().split("\r\n")
    assert lines[0].startswith("measure,site,period")
    assert len(lines) > 10
    assert {line.split(",")[1] for line in lines[1:]} == {"RA1-GICU"}


def test_observations_export_as_a_workbook_that_reimports(client_for):
    response = client_for("lead").get(
        _url("measurement_export", measure_slug="clabsi-rate", fmt="xlsx")
    )
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert ws["A1"].value == "measure" and ws.max_row > 24


def test_viewers_get_no_private_notes_in_exports(client_for):
    response = client_for("viewer").get(
        _url("measurement_export", measure_slug="bundle-compliance", fmt="csv")
    )
    rows = [r.split(",") for r in response.content.decode("utf-8-sig").strip().split("\r\n")[1:]]
    assert all(r[8] == "" for r in rows)


@pytest.mark.parametrize(
    ("fmt", "magic"), [("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF")]
)
def test_a_chart_exports_without_a_browser(fmt, magic, client_for, site):
    response = client_for("site_a").get(
        _url(
            "measure_chart_export",
            measure_slug="bundle-compliance",
            site_id=site("RA1-GICU").pk,
            fmt=fmt,
        )
    )
    assert response.status_code == 200
    assert response.content[:200].lstrip().startswith(magic) or magic in response.content[:200]


def test_another_sites_chart_is_not_exported_to_a_site_lead(client_for, site):
    response = client_for("site_a").get(
        _url(
            "measure_chart_export",
            measure_slug="bundle-compliance",
            site_id=site("RB1-GICU").pk,
            fmt="svg",
        )
    )
    assert response.status_code in (403, 404)


def _render_like_the_export(spec):
    import vl_convert

    from spreadscale.web.measurement.views import VL_VERSION

    spec = {**spec, "width": 720, "height": 300, "background": "white"}
    return vl_convert.vegalite_to_svg(spec, vl_version=VL_VERSION).encode()


def _set_y_scale(user, programme, y_scale):
    from spreadscale.web.measurement import actions
    from spreadscale.web.measurement.models import Measure

    measure = Measure.objects.get(programme=programme, slug="bundle-compliance")
    current = actions.chart_settings_for(measure)
    actions.update_chart_settings(
        user("lead"),
        measure,
        chart=current.chart,
        rules=current.rules,
        y_scale=y_scale,
        reason="compare sites on one scale",
        expected_version=current.version,
    )


@pytest.mark.parametrize("y_scale", ["shared", "free"])
def test_an_exported_chart_uses_the_pages_y_scale(y_scale, client_for, site, user, programme):
    _set_y_scale(user, programme, y_scale)
    client = client_for("lead")
    ra1 = site("RA1-GICU")
    page = client.get(_url("measure_detail", measure_slug="bundle-compliance"))
    shown = next(t for t in page.context["tables"] if t["row"].enrolment.site_id == ra1.pk)
    y = shown["spec"]["layer"][0]["encoding"]["y"] if "layer" in shown["spec"] else {}
    link = _url("measure_chart_export", measure_slug="bundle-compliance", site_id=ra1.pk, fmt="svg")
    assert f'href="{link}?page=1"' in page.text
    exported = client.get(link, {"page": 1})
    assert exported.status_code == 200
    assert exported.content == _render_like_the_export(shown["spec"])
    # without the page's query the export still uses the unfiltered page holding the site
    assert client.get(link).content == exported.content
    if y_scale == "shared":  # the test has teeth: the shared range differs from the site's own
        assert "domain" in str(y) or "domain" in str(shown["spec"])
        alone = client.get(
            _url("measure_detail", measure_slug="bundle-compliance"), {"site": "RA1-GICU"}
        ).context["tables"][0]["spec"]
        assert _render_like_the_export(alone) != exported.content
        filtered = client.get(link, {"site": "RA1-GICU", "page": 1})
        assert filtered.content == _render_like_the_export(alone)
