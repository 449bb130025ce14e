"""The REST API: tokens, the same access rules as the pages, and all-or-nothing bulk upsert."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from spreadscale.web.core.actions import create_api_token, revoke_api_token
from spreadscale.web.core.models import APIToken
from spreadscale.web.measurement.models import Observation


@pytest.fixture
def token_client(user):
    def make(persona: str) -> tuple[Client, dict[str, str]]:
        _, token = create_api_token(user(persona), "tests")
        return Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    return make


def test_a_request_without_credentials_gets_401(client):
    assert client.get("/api/programmes").status_code == 401


def test_a_token_is_stored_only_as_a_hash_and_stops_working_when_revoked(user):
    row, token = create_api_token(user("lead"), "nightly import")
    assert token not in (row.key_hash, row.prefix) and token.startswith(row.prefix)
    assert not APIToken.objects.filter(key_hash=token).exists()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert Client().get("/api/programmes", **headers).status_code == 200
    revoke_api_token(user("lead"), row.pk)
    assert Client().get("/api/programmes", **headers).status_code == 401


def test_another_programme_is_404_for_an_outsider(token_client):
    client, headers = token_client("outsider")
    assert client.get("/api/programmes", **headers).json() == []
    assert client.get("/api/programmes/clabsi/observations", **headers).status_code == 404


def test_observations_follow_the_pages_access_rules(token_client):
    url = "/api/programmes/clabsi/observations?measure=clabsi-rate&limit=10000"
    client, headers = token_client("patient")
    page = client.get(url, **headers).json()
    rows = page["results"]
    assert rows and {r["site"] for r in rows} == {"RA1-GICU"}
    assert page["count"] == len(rows) and page["next"] is None
    assert all(r["note"] is None for r in rows)
    client, headers = token_client("evaluator")
    page = client.get(url, **headers).json()
    assert len({r["site"] for r in page["results"]}) == 24
    assert page["count"] == len(page["results"]) == 24 * len(rows)


def _post(client, headers, rows):
    return client.post(
        "/api/programmes/clabsi/observations",
        data=json.dumps(rows),
        content_type="application/json",
        **headers,
    )


def test_bulk_upsert_rejects_the_whole_batch_with_every_error_as_422(token_client):
    client, headers = token_client("site_a")
    before = Observation.objects.count()
    response = _post(
        client,
        headers,
        [
            {
                "measure": "bundle-compliance",
                "site": "RA1-GICU",
                "period_start": "2026-07-01",
                "numerator": 5,
                "denominator": 10,
            },
            {
                "measure": "bundle-compliance",
                "site": "RA1-GICU",
                "period_start": "2026-08-01",
                "numerator": 12,
                "denominator": 10,
            },
        ],
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "row": 2,
            "field": "numerator",
            "message": "The numerator (12) cannot be above the denominator (10).",
        }
    ]
    assert Observation.objects.count() == before


def _row(site: str, period: str = "2026-07-01", **cells):
    return {
        "measure": "bundle-compliance",
        "site": site,
        "period_start": period,
        "numerator": 5,
        "denominator": 10,
        **cells,
    }


@pytest.mark.parametrize(
    ("persona", "own", "other"),
    [
        ("site_a", "RA1-GICU", "RB1-GICU"),
        ("site_b", "RB1-GICU", "RA1-GICU"),
        ("member_a", "RA1-GICU", "RB1-GICU"),
        ("facilitator", "RB1-GICU", "RA1-GICU"),  # facilitates the Midlands (RB) units only
    ],
)
def test_a_row_for_a_site_the_user_may_not_edit_is_reported_by_row(
    token_client, persona, own, other
):
    client, headers = token_client(persona)
    before = Observation.objects.count()
    response = _post(client, headers, [_row(own), _row(other)])
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"row": 2, "field": "site", "message": f"your role may not enter data for {other}"}
    ]
    assert Observation.objects.count() == before
    assert _post(client, headers, [_row(own)]).status_code == 200


def test_the_lead_may_write_any_site(token_client):
    client, headers = token_client("lead")
    response = _post(client, headers, [_row("RA1-GICU"), _row("RB1-GICU")])
    assert response.status_code == 200 and response.json()["created"] == 2


@pytest.mark.parametrize("persona", ["evaluator", "viewer", "patient"])
def test_a_role_that_may_edit_no_site_gets_403_for_the_whole_request(token_client, persona):
    client, headers = token_client(persona)
    before = Observation.objects.count()
    response = _post(client, headers, [_row("RA1-GICU")])
    assert response.status_code == 403
    assert Observation.objects.count() == before


def test_bulk_upsert_then_the_same_again_changes_nothing(token_client):
    client, headers = token_client("site_a")
    rows = [
        {
            "measure": "bundle-compliance",
            "site": "RA1-GICU",
            "period_start": "2026-07-01",
            "numerator": 5,
            "denominator": 10,
        }
    ]
    assert _post(client, headers, rows).json() == {"created": 1, "revised": 0, "unchanged": 0}
    assert _post(client, headers, rows).json() == {"created": 0, "revised": 0, "unchanged": 1}


def test_session_writes_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user("site_a"))
    assert client.get("/api/programmes").status_code == 200
    response = _post(
        client,
        {},
        [
            {
                "measure": "bundle-compliance",
                "site": "RA1-GICU",
                "period_start": "2026-07-01",
                "numerator": 5,
                "denominator": 10,
            }
        ],
    )
    assert response.status_code in (401, 403)


def test_tokens_page_shows_a_new_token_once(client_for):
    client = client_for("site_a")
    page = client.post("/account/tokens/", {"name": "laptop"})
    assert "ss_" in page.context["new_token"]
    assert page.context["new_token"] not in client.get("/account/tokens/").text
    assert client.post("/account/tokens/", {"name": "  "}).status_code == 422


def test_openapi_schema_is_served_locally(client_for):
    schema = client_for("lead").get("/api/openapi.json").json()
    assert "/api/programmes/{slug}/observations" in schema["paths"]


def test_api_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    from html.parser import HTMLParser

    from django.contrib.staticfiles import finders

    class Assets(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[str] = []
            self.inline_scripts = 0

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "script" and a.get("src"):
                self.urls.append(a["src"])
            elif tag == "script" and a.get("type") != "application/json":
                self.inline_scripts += 1
            elif tag == "link" and a.get("href"):
                self.urls.append(a["href"])

    response = client.get("/api/docs")
    assert response.status_code == 200
    parser = Assets()
    parser.feed(response.text)
    assert any(u.endswith("swagger-ui-bundle.js") for u in parser.urls)
    assert parser.inline_scripts == 0  # the CSP allows only same-origin or nonce'd scripts
    for url in parser.urls:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a static file we ship"
    assert "cdn" not in response.text.lower()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "jsdelivr" not in csp
