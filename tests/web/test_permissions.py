"""The permission matrix: each persona against each page and action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from spreadscale.web.measurement.models import Observation

OWN, OTHER = "RA1-GICU", "RB1-GICU"  # site_a's unit; site_b's unit, in facilitator's region

# persona: (overview, own-site page shows data, other-site data visible, edit own, edit other, phase own)
MATRIX = {
    "lead": (200, True, True, True, True, True),
    "facilitator": (200, True, True, False, True, False),
    "site_a": (200, True, False, True, False, True),
    "site_b": (200, False, True, False, True, False),
    "member_a": (200, True, False, True, False, False),
    "patient": (200, True, False, False, False, False),
    "evaluator": (200, True, True, False, False, False),
    "viewer": (200, True, True, False, False, False),
    "outsider": (404, False, False, False, False, False),
}


def _url(name, **kw):
    return reverse(name, kwargs={"slug": "clabsi", **kw})


def _post_observation(client, site_id, period="2026-07"):
    return client.post(
        _url("measure_detail", measure_slug="bundle-compliance"),
        {
            "site": site_id,
            "period": period,
            "numerator": 30,
            "denominator": 32,
            "version": 0,
        },
    )


@pytest.mark.parametrize("persona", MATRIX)
def test_each_role_sees_and_changes_only_what_it_may(persona, client_for, site):
    overview, own_data, other_data, edit_own, edit_other, phase_own = MATRIX[persona]
    client = client_for(persona)
    own, other = site(OWN), site(OTHER)

    assert client.get(_url("programme_overview")).status_code == overview
    if overview == 404:
        for url in (
            _url("site_detail", site_id=own.pk),
            _url("measure_detail", measure_slug="clabsi-rate"),
        ):
            assert client.get(url).status_code == 404
        assert _post_observation(client, own.pk).status_code == 404
        return

    page = client.get(_url("site_detail", site_id=own.pk))
    assert page.status_code == 200
    assert ("Recent events" in page.text) == own_data
    page = client.get(_url("site_detail", site_id=other.pk))
    assert ("Recent events" in page.text) == other_data

    measure_page = client.get(_url("measure_detail", measure_slug="clabsi-rate"))
    assert measure_page.status_code == 200
    tables = {t["row"].enrolment.site.code for t in measure_page.context["tables"]}
    assert (OWN in tables) == own_data
    assert (OTHER in tables) == other_data

    for site_obj, allowed in ((own, edit_own), (other, edit_other)):
        before = Observation.objects.filter(
            site=site_obj, measure__slug="bundle-compliance"
        ).count()
        response = _post_observation(client, site_obj.pk)
        after = Observation.objects.filter(site=site_obj, measure__slug="bundle-compliance").count()
        if allowed:
            assert response.status_code == 302, response.content[:500]
            assert after == before + 1
        else:
            # no editable site at all -> 403; some other editable site -> the choice is refused
            assert response.status_code in (403, 422)
            assert after == before

    response = client.post(
        _url("fidelity:move_phase", site_id=own.pk),
        {
            "to_phase": "abandoned",
            "effective_on": "2026-07-01",
            "reason": "test",
            "version": 999,
        },
    )
    if phase_own:
        assert response.status_code == 422  # allowed in, then refused as a stale edit
        assert "changed by someone else" in response.text
    else:
        assert response.status_code == 403


def test_programme_list_shows_only_programmes_the_user_belongs_to(client_for):
    assert "Zero central line infections" in client_for("patient").get("/").text
    assert "Zero central line infections" not in client_for("outsider").get("/").text


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(_url("programme_overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "persona, sees_notes",
    [
        ("lead", True),
        ("evaluator", True),
        ("site_a", True),
        ("member_a", True),
        ("patient", False),
        ("viewer", False),
        ("facilitator", False),
    ],
)
def test_private_notes_are_shown_only_to_those_who_work_with_the_site(
    persona, sees_notes, client_for, site
):
    obs = Observation.objects.filter(site=site(OWN)).first()
    Observation.objects.filter(pk=obs.pk).update(note="Agency nurse unfamiliar with the checklist")
    page = client_for(persona).get(
        _url("measure_detail", measure_slug=obs.measure.slug) + f"?site={OWN}"
    )
    assert ("Agency nurse unfamiliar" in page.text) == sees_notes


def test_a_site_team_reads_programme_summaries_but_not_other_sites_values(client_for):
    page = client_for("site_a").get(_url("programme_overview"))
    assert "Programme median of latest values" in page.text
    groups = page.context["groups"]
    readable = {
        item["row"].enrolment.site.code: item["readable"] for g in groups for item in g["rows"]
    }
    assert readable[OWN] is True
    assert readable[OTHER] is False
    assert "not shared" in page.text


@pytest.mark.parametrize(
    "persona",
    ["lead", "facilitator", "site_a", "site_b", "member_a", "patient", "evaluator", "viewer"],
)
def test_every_member_finds_their_programme_in_the_list(persona, client_for):
    page = client_for(persona).get("/")
    assert page.status_code == 200
    assert "Zero central line infections" in page.text


@pytest.mark.parametrize(
    "persona, site_code, sees_notes",
    [
        ("facilitator", "RB1-GICU", True),  # an assigned site
        ("site_b", "RB1-GICU", True),
        ("site_b", OWN, False),
        ("patient", OWN, False),
    ],
)
def test_private_notes_follow_the_site_a_user_works_with(
    persona, site_code, sees_notes, client_for, site
):
    obs = Observation.objects.filter(site=site(site_code)).first()
    Observation.objects.filter(pk=obs.pk).update(note="Theatre list overran; bundle audit late")
    page = client_for(persona).get(
        _url("measure_detail", measure_slug=obs.measure.slug) + f"?site={site_code}"
    )
    assert ("Theatre list overran" in page.text) == sees_notes
