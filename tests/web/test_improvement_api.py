"""The improvement API: the same rules as the pages, 422 with the field named, 403 and 404."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from spreadscale.web.core.actions import create_api_token
from spreadscale.web.improvement.models import ChangeIdea, DriverNode, PDSACycle

BASE = "/api/programmes/clabsi"


@pytest.fixture
def api(user):
    def make(persona: str):
        _, token = create_api_token(user(persona), "tests")
        client, headers = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}

        def call(method: str, path: str, body=None):
            kwargs = (
                {"content_type": "application/json", "data": json.dumps(body)}
                if body is not None
                else {}
            )
            return getattr(client, method)(BASE + path, **kwargs, **headers)

        return call

    return make


def _checklist():
    return ChangeIdea.objects.get(site=None, title__startswith="Insertion checklist")


def test_members_list_the_diagram_ideas_and_package(api):
    call = api("viewer")
    nodes = call("get", "/drivers").json()
    assert {n["kind"] for n in nodes} == {"aim", "primary", "secondary"}
    assert any(len(n["parents"]) == 2 for n in nodes)
    assert any(i["origin"] for i in call("get", "/change-ideas").json())
    package = call("get", "/change-package?region=RB").json()
    checklist = next(e for e in package if e["idea"]["title"].startswith("Insertion checklist"))
    assert checklist["sites_tested"] == len(checklist["tests"]) > 0
    assert {t["region"] for t in checklist["tests"]} == {"RB"}
    assert checklist["tests"][0]["measures"]  # a viewer reads every site's data


def test_a_site_member_gets_counts_but_not_other_sites_details_from_the_package(api):
    package = api("site_a")("get", "/change-package")
    checklist = next(
        e for e in package.json() if e["idea"]["title"].startswith("Insertion checklist")
    )
    hidden = [t for t in checklist["tests"] if t["site"] != "RA1-GICU"]
    assert hidden and all(t["measures"] is None and t["adaptations"] is None for t in hidden)


def test_a_site_team_creates_and_completes_a_cycle(api):
    call = api("site_a")
    created = call(
        "post",
        "/pdsa-cycles",
        {"site": "RA1-GICU", "change_idea": _checklist().pk, "objective": "Night shift test",
         "start_date": "2026-06-01", "measures": ["bundle-compliance"]},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    cycle = created.json()
    early = call(
        "patch", f"/pdsa-cycles/{cycle['id']}", {"version": cycle["version"], "act": "adopt"}
    )
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "act"
    done = call(
        "patch",
        f"/pdsa-cycles/{cycle['id']}",
        {
            "version": cycle["version"],
            "study": "As predicted",
            "act": "adopt",
            "end_date": "2026-06-14",
        },
    )
    assert done.status_code == 200 and done.json()["act"] == "adopt"
    stale = call(
        "patch", f"/pdsa-cycles/{cycle['id']}", {"version": cycle["version"], "study": "x"}
    )
    assert stale.status_code == 422


def test_bad_cycles_are_refused_naming_the_field(api):
    call = api("site_a")
    no_idea = call(
        "post", "/pdsa-cycles", {"site": "RA1-GICU", "objective": "x", "start_date": "2026-06-01"}
    )
    assert no_idea.status_code == 422 and no_idea.json()["errors"][0]["field"] == "change_idea"
    backwards = call(
        "post",
        "/pdsa-cycles",
        {"site": "RA1-GICU", "change_idea": _checklist().pk, "objective": "x",
         "start_date": "2026-06-10", "end_date": "2026-06-01"},
    )  # fmt: skip
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "end_date"
    unknown = call(
        "post",
        "/pdsa-cycles",
        {"site": "RA1-GICU", "change_idea": _checklist().pk, "objective": "x",
         "start_date": "2026-06-01", "measures": ["falls"]},
    )  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "measures"


def test_the_api_keeps_site_teams_to_their_own_sites(api):
    theirs = PDSACycle.objects.filter(site__code="RB1-GICU").first()
    call = api("site_a")
    assert call("get", f"/pdsa-cycles/{theirs.pk}").status_code == 404
    assert (
        call(
            "patch", f"/pdsa-cycles/{theirs.pk}", {"version": theirs.version, "study": "x"}
        ).status_code
        == 404
    )
    body = {
        "site": "RB1-GICU",
        "change_idea": _checklist().pk,
        "objective": "x",
        "start_date": "2026-06-01",
    }
    assert call("post", "/pdsa-cycles", body).status_code == 403
    assert {c["site"] for c in call("get", "/pdsa-cycles").json()} == {"RA1-GICU"}
    assert api("outsider")("get", "/pdsa-cycles").status_code == 404


def test_only_the_lead_edits_the_programme_diagram_and_loops_are_refused(api):
    primary = DriverNode.objects.get(site=None, text__startswith="Reliable daily")
    body = {"kind": "secondary", "text": "Line audit", "parents": [primary.pk]}
    assert api("site_a")("post", "/drivers", body).status_code == 403
    assert api("site_a")("post", "/drivers", {**body, "site": "RA1-GICU"}).status_code == 201
    lead = api("lead")
    node = lead("post", "/drivers", body).json()
    loop = lead(
        "patch", f"/drivers/{primary.pk}", {"version": primary.version, "parents": [node["id"]]}
    )
    assert loop.status_code == 422 and loop.json()["errors"][0]["field"] == "parents"


def test_ideas_and_copies_through_the_api(api):
    assert api("site_a")("post", "/change-ideas", {"title": "Package idea"}).status_code == 403
    own = api("site_a")("post", "/change-ideas", {"title": "Ward idea", "site": "RA1-GICU"})
    assert own.status_code == 201
    copy = api("site_b")("post", f"/change-ideas/{own.json()['id']}/copy", {"site": "RB1-GICU"})
    assert copy.status_code == 201 and copy.json()["origin"] == own.json()["id"]
    assert (
        api("site_b")(
            "post", f"/change-ideas/{own.json()['id']}/copy", {"site": "RA1-GICU"}
        ).status_code
        == 403
    )


def test_progress_scores_through_the_api(api):
    body = {"site": "RA1-GICU", "month": "2026-06-01", "rater": "team", "score": "3.5"}
    assert api("site_a")("post", "/progress-scores", body).status_code == 201
    assert (
        api("site_a")("post", "/progress-scores", {**body, "rater": "facilitator"}).status_code
        == 403
    )
    off = api("site_a")("post", "/progress-scores", {**body, "score": "3.3"})
    assert off.status_code == 422 and off.json()["errors"][0]["field"] == "score"
    rows = api("site_a")("get", "/progress-scores").json()
    assert {r["site"] for r in rows} == {"RA1-GICU"}


def test_the_lead_curates_an_idea_through_the_api(api):
    idea = _checklist()
    body = {"version": idea.version, "description": "Observer ticks every step."}
    assert api("site_a")("patch", f"/change-ideas/{idea.pk}", body).status_code == 403
    done = api("lead")("patch", f"/change-ideas/{idea.pk}", body)
    assert done.status_code == 200 and done.json()["version"] == idea.version + 1
    assert api("lead")("patch", f"/change-ideas/{idea.pk}", body).status_code == 422


def test_the_spread_network_of_ideas_is_available_to_every_member(api):
    response = api("patient")("get", "/idea-spread")
    assert response.status_code == 200, response.content[:300]
    edges = response.json()
    assert edges and all(e["from_site"] and e["to_site"] for e in edges)


def test_an_unknown_driver_of_a_change_idea_is_refused_naming_drivers(api):
    call = api("lead")
    created = call("post", "/change-ideas", {"title": "Line packs", "drivers": [999999]})
    assert created.status_code == 422
    assert created.json()["errors"][0]["field"] == "drivers"
    idea = _checklist()
    updated = call(
        "patch", f"/change-ideas/{idea.pk}", {"version": idea.version, "drivers": [999999]}
    )
    assert updated.status_code == 422
    assert updated.json()["errors"][0]["field"] == "drivers"
    node = call("post", "/drivers", {"kind": "secondary", "text": "X", "parents": [999999]})
    assert node.status_code == 422 and node.json()["errors"][0]["field"] == "parents"
