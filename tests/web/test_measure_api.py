"""The measurement API: SPC results as JSON, filters, and bulk upsert errors as 422 lists."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from spreadscale.web.core.actions import create_api_token
from spreadscale.web.measurement.models import Observation


@pytest.fixture
def api(user):
    def make(persona: str):
        _, token = create_api_token(user(persona), "tests")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


SPC = "/api/programmes/clabsi/measures/bundle-compliance/spc"


def test_spc_results_for_every_readable_site_come_from_one_batch(api):
    body = api("lead").get(SPC).json()
    assert body["chart"] == "p" and body["rules"] == "anhoej"
    assert len(body["sites"]) == 24
    site = body["sites"][0]
    assert {"x", "y", "cl", "lcl", "ucl", "point_type", "reasons"} <= set(site["points"][0])
    assert site["summary"]["variation_type"]
    assert body["rollup"]["n_groups"] == 24
    assert sum(len(v) for k, v in body["rollup"]["groups"].items() if k == "improved") > 0


def test_a_site_lead_gets_only_their_site_and_404_for_another(api):
    client = api("site_a")
    assert [s["site"] for s in client.get(SPC).json()["sites"]] == ["RA1-GICU"]
    assert client.get(SPC, {"site": "RB1-GICU"}).status_code == 404


def test_spc_needs_credentials_and_membership(api, client):
    assert client.get(SPC).status_code == 401
    assert api("outsider").get(SPC).status_code == 404
    assert api("lead").get("/api/programmes/clabsi/measures/nope/spc").status_code == 404


def test_observations_filter_by_site_measure_and_period(api):
    rows = (
        api("lead")
        .get(
            "/api/programmes/clabsi/observations",
            {
                "site": "RA1-GICU",
                "measure": "clabsi-rate",
                "start": "2025-01-01",
                "end": "2025-06-30",
            },
        )
        .json()
    )
    assert rows and all(r["site"] == "RA1-GICU" and r["measure"] == "clabsi-rate" for r in rows)
    assert all("2025-01-01" <= r["period_start"] <= "2025-06-30" for r in rows)


def test_bulk_upsert_reports_every_bad_row_as_422_and_writes_nothing(api):
    rows = [
        {
            "measure": "bundle-compliance",
            "site": "RA1-GICU",
            "period_start": "2028-01-01",
            "numerator": 5,
            "denominator": 10,
        },
        {
            "measure": "bundle-compliance",
            "site": "RA1-GICU",
            "period_start": "2028-02-01",
            "numerator": 50,
            "denominator": 10,
        },
        {"measure": "nope", "site": "RA1-GICU", "period_start": "2028-02-01", "value": 1},
    ]
    response = api("site_a").post(
        "/api/programmes/clabsi/observations", json.dumps(rows), content_type="application/json"
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {(e["row"], e["field"]) for e in errors} >= {(2, "numerator"), (3, "measure")}
    assert not Observation.objects.filter(period_start__year=2028).exists()


def test_bulk_upsert_of_good_rows_is_idempotent(api):
    rows = [
        {
            "measure": "bundle-compliance",
            "site": "RA1-GICU",
            "period_start": "2028-01-01",
            "numerator": 5,
            "denominator": 10,
        },
    ]
    client = api("site_a")
    first = client.post(
        "/api/programmes/clabsi/observations", json.dumps(rows), content_type="application/json"
    ).json()
    again = client.post(
        "/api/programmes/clabsi/observations", json.dumps(rows), content_type="application/json"
    ).json()
    assert first == {"created": 1, "revised": 0, "unchanged": 0}
    assert again == {"created": 0, "revised": 0, "unchanged": 1}


def test_bulk_upsert_for_another_programmes_or_sites_data_is_refused(api):
    rows = [
        {
            "measure": "bundle-compliance",
            "site": "RB1-GICU",
            "period_start": "2028-01-01",
            "numerator": 5,
            "denominator": 10,
        }
    ]
    body = json.dumps(rows)
    assert (
        api("site_a")
        .post("/api/programmes/clabsi/observations", body, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        api("outsider")
        .post("/api/programmes/clabsi/observations", body, content_type="application/json")
        .status_code
        == 404
    )
