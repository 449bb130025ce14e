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
