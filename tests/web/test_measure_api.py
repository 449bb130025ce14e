"""The measurement API: SPC results as JSON, filters, and bulk upsert errors as 422 lists."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from spreadscale.web.core.actions import create_api_token
from spreadscale.web.measurement.api import PAGE_DEFAULT, PAGE_MAX
from spreadscale.web.measurement.models import Observation


@pytest.fixture
def api(user):
    def make(persona: str):
        _, token = create_api_token(user(persona), "tests")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


SPC = "/api/programmes/clabsi/measures/bundle-compliance/spc"
OBS = "/api/programmes/clabsi/observations"


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
    page = (
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
    rows = page["results"]
    assert rows and page["count"] == len(rows) and page["next"] is None
    assert all(r["site"] == "RA1-GICU" and r["measure"] == "clabsi-rate" for r in rows)
    assert all("2025-01-01" <= r["period_start"] <= "2025-06-30" for r in rows)
    expected = Observation.objects.filter(
        site__code="RA1-GICU",
        measure__slug="clabsi-rate",
        period_start__gte="2025-01-01",
        period_start__lte="2025-06-30",
    ).count()
    assert page["count"] == expected


def test_observations_come_in_pages_that_follow_next_to_the_end(api):
    client = api("lead")
    total = Observation.objects.filter(measure__programme__slug="clabsi").count()
    first = client.get(OBS).json()
    assert first["count"] == total > PAGE_DEFAULT
    assert len(first["results"]) == PAGE_DEFAULT and first["previous"] is None
    seen, url, pages = [], f"{OBS}?measure=clabsi-rate&limit=100", 0
    while url:
        page = client.get(url).json()
        seen += [(r["site"], r["period_start"]) for r in page["results"]]
        url, pages = page["next"], pages + 1
        if url:
            assert url.startswith("http://testserver/api/") and "measure=clabsi-rate" in url
    clabsi_rate = Observation.objects.filter(measure__slug="clabsi-rate").count()
    assert len(seen) == len(set(seen)) == clabsi_rate  # every row once, none skipped
    assert pages == -(-clabsi_rate // 100)
    assert seen == sorted(seen)
    last = client.get(OBS, {"offset": total - 1}).json()
    assert len(last["results"]) == 1 and last["next"] is None and last["previous"]


def test_a_page_size_over_the_maximum_is_a_field_error(api):
    response = api("lead").get(OBS, {"limit": PAGE_MAX + 1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"
    assert api("lead").get(OBS, {"offset": -1}).json()["errors"][0]["field"] == "offset"


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


def test_bulk_upsert_for_another_programme_is_404_and_another_site_a_row_error(api):
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
    refused = api("site_a").post(OBS, body, content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"row": 1, "field": "site", "message": "your role may not enter data for RB1-GICU"}
    ]
    assert api("outsider").post(OBS, body, content_type="application/json").status_code == 404


def _upsert(client, rows):
    return client.post(OBS, json.dumps(rows), content_type="application/json")


def _bc(period, **cells):
    return {"measure": "bundle-compliance", "site": "RA1-GICU", "period": period, **cells}


def test_text_in_a_number_field_is_reported_like_the_import_does(api):
    response = _upsert(api("site_a"), [_bc("2028-01", numerator="12a", denominator=10)])
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"row": 1, "field": "numerator", "message": "'12a' is not a number"}
    ]


def test_an_unreadable_period_is_reported_under_the_field_the_client_sent(api):
    client = api("site_a")
    old_style = {
        "measure": "bundle-compliance",
        "site": "RA1-GICU",
        "period_start": "31/01/2028",
        "numerator": 1,
        "denominator": 2,
    }
    errors = _upsert(client, [old_style, _bc("March 2028", numerator=1, denominator=2)]).json()
    assert [(e["row"], e["field"]) for e in errors["errors"]] == [
        (1, "period_start"),
        (2, "period"),
    ]
    assert "'31/01/2028' is not a date or period" in errors["errors"][0]["message"]


def test_every_bad_row_is_reported_at_once_and_nothing_is_written(api):
    before = Observation.objects.count()
    rows = [
        _bc("2028-01", numerator="5", denominator="10"),  # fine: numbers as text, like a file
        _bc("2028-02", numerator="many", denominator=10),
        _bc("2028-03", numerator=12, denominator=10),
        _bc("not a month", numerator=1, denominator=10),
        _bc("2028-04", numerator=True, denominator=10),
        {"measure": "nope", "site": "RA1-GICU", "period": "2028-05", "value": 1},
        _bc("2028-01", numerator=5, denominator=10),  # the same period as row 1
        _bc("2028-06", numerator=-1, denominator=10),
        {"site": "RA1-GICU", "period": "2028-07", "numerator": 1, "denominator": 2},
        {},
    ]
    response = _upsert(api("site_a"), rows)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "numerator"),
        (3, "numerator"),
        (4, "period"),
        (5, "numerator"),
        (6, "measure"),
        (7, "period"),
        (8, "numerator"),
        (9, "measure"),
        (10, "row"),
    ]
    by_row = {e["row"]: e["message"] for e in errors}
    assert by_row[3] == "The numerator (12) cannot be above the denominator (10)."
    assert by_row[5] == "'true' is not a number"
    assert by_row[7] == "duplicates row 1 (same measure, site and period)"
    assert Observation.objects.count() == before
    assert not Observation.objects.filter(period_start__year=2028).exists()


def test_numbers_sent_as_text_and_a_file_style_period_are_accepted(api):
    client = api("site_a")
    first = _upsert(client, [_bc("2028-01", numerator="5", denominator="10", flags="estimated")])
    assert first.json() == {"created": 1, "revised": 0, "unchanged": 0}
    obs = Observation.objects.get(measure__slug="bundle-compliance", period_start="2028-01-01")
    assert (obs.numerator, obs.denominator, obs.flags) == (5, 10, ["estimated"])
    again = _upsert(client, [_bc("2028-01-01", numerator=5, denominator=10, flags=["estimated"])])
    assert again.json() == {"created": 0, "revised": 0, "unchanged": 1}


def test_a_wrong_period_end_is_a_row_error(api):
    rows = [_bc("2028-01", period_end="2028-01-30", numerator=1, denominator=2)]
    errors = _upsert(api("site_a"), rows).json()["errors"]
    assert errors == [
        {
            "row": 1,
            "field": "period_end",
            "message": "A month starting 2028-01-01 ends on 2028-01-31, not 2028-01-30.",
        }
    ]


def test_schema_errors_anywhere_in_the_api_use_the_same_error_list(api):
    client = api("site_a")
    bad_query = client.get(OBS, {"start": "someday"})
    assert bad_query.status_code == 422
    [error] = bad_query.json()["errors"]
    assert error["field"] == "start" and "row" not in error and error["message"]
    rows = [_bc("2028-01", numerator=1, denominator=20), "row two", _bc("2028-02", numerator=3)]
    not_an_object = _upsert(client, rows)
    assert not_an_object.status_code == 422
    assert not_an_object.json()["errors"] == [
        {"row": 2, "field": "row", "message": "is str, not an object of named cells"},
        {"row": 3, "field": "denominator", "message": "Enter the denominator (Lines audited)."},
    ]
    not_a_list = client.post(OBS, json.dumps({"rows": []}), content_type="application/json")
    assert not_a_list.status_code == 422
    assert not_a_list.json()["errors"][0]["field"] is None
    assert not Observation.objects.filter(period_start__year=2028).exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2048)
def test_a_body_over_the_limit_is_a_json_413(api):
    rows = [_bc(f"2028-{m:02d}", numerator=1, denominator=2, note="x" * 300) for m in range(1, 13)]
    response = _upsert(api("site_a"), rows)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "over the limit of 2 KB" in response.json()["detail"]
    assert "smaller batches" in response.json()["errors"][0]["message"]
    assert not Observation.objects.filter(period_start__year=2028).exists()
    assert _upsert(api("site_a"), rows[:1]).status_code == 200


def test_a_body_over_djangos_default_limit_is_accepted(api, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 50 * 1024 * 1024  # SPREADSCALE_API_MAX_BODY_MB
    rows = [_bc("2028-01", numerator=1, denominator=2)]
    body = json.dumps(rows) + " " * 3_000_000  # ~3 MB: Django's 2.5 MB default refused this
    response = api("site_a").post(OBS, body, content_type="application/json")
    assert response.status_code == 200 and response.json()["created"] == 1
