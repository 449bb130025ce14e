"""The cross-site fidelity view, the adaptation list and the site panel; the adaptation API."""

from __future__ import annotations

import pytest

from spreadscale.web.core.models import Site
from spreadscale.web.fidelity import actions
from spreadscale.web.fidelity.models import Adaptation

pytestmark = pytest.mark.django_db


def test_the_cross_site_view_shows_functions_kept_adapted_or_lost_beside_outcome_status(
    client_for,
):
    page = client_for("lead").get("/p/clabsi/fidelity/").content.decode()
    assert "Sites × core functions" in page
    assert page.count('<th scope="row"><a href="/p/clabsi/sites/') == 24
    for cell in ('class="cell-kept"', 'class="cell-adapted"', 'class="cell-lost"'):
        assert cell in page
    assert 'class="variation-icon variation-' in page
    # The demo's fidelity-inconsistent adaptation is counted on its site's row.
    assert "fidelity=inconsistent" in page
    assert "Fidelity-inconsistent (core changed)" in page
    assert "not proof of cause" in page


def test_the_demo_adaptation_that_preceded_an_improvement_is_counted_as_improved(client_for):
    page = client_for("evaluator").get("/p/clabsi/fidelity/").content.decode()
    row = page.split("Packaging or materials changes</th>")[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    adaptations, sites, improved = cells
    assert int(sites) >= 2
    assert int(adaptations) >= 2
    assert improved.startswith(adaptations + " of ")


def test_a_site_team_sees_only_its_own_sites_data_in_the_cross_site_view(client_for):
    page = client_for("site_a").get("/p/clabsi/fidelity/").content.decode()
    assert page.count("Only the people working with this site see its data.") == 23


@pytest.mark.parametrize("url", ["/p/clabsi/fidelity/", "/p/clabsi/adaptations/"])
def test_list_pages_use_a_fixed_number_of_queries(
    client_for, django_assert_max_num_queries, url, programme, user
):
    client = client_for("lead")
    client.get(url)  # warm caches such as the content types
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200
    # Twelve more adaptations and assessments must not add queries.
    unit = Site.objects.get(code="RA4-GICU")
    for i in range(12):
        actions.create_adaptation(
            user("lead"),
            programme,
            unit,
            {
                "title": f"Extra {i}",
                "date_effective": "2025-01-01",
                "when_phase": "implementation",
                "planned": "planned_reactive",
            },
        )
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200


def test_the_site_page_panel_uses_a_fixed_number_of_queries(
    client_for, django_assert_max_num_queries, site
):
    client = client_for("lead")
    url = f"/p/clabsi/sites/{site('RA1-GICU').pk}/"
    client.get(url)
    with django_assert_max_num_queries(40):
        page = client.get(url).content.decode()
    assert "Fidelity, adaptations and stage gates" in page
    assert "Move phase through the stage gates" in page


def test_the_site_panel_offers_no_forms_to_readers(client_for, site):
    page = client_for("patient").get(f"/p/clabsi/sites/{site('RA1-GICU').pk}/").content.decode()
    assert "Fidelity, adaptations and stage gates" in page
    assert "Move phase through the stage gates" not in page
    assert "Log an adaptation" not in page


@pytest.mark.parametrize(
    "persona", ["lead", "facilitator", "site_a", "member_a", "patient", "evaluator", "viewer"]
)
def test_every_member_reaches_the_fidelity_pages(client_for, persona):
    client = client_for(persona)
    for url in ("/p/clabsi/fidelity/", "/p/clabsi/adaptations/", "/p/clabsi/stage-gates/"):
        assert client.get(url).status_code == 200


def test_outsiders_get_not_found(client_for, programme):
    a = Adaptation.objects.filter(programme=programme, published=True).first()
    client = client_for("outsider")
    for url in ("/p/clabsi/fidelity/", "/p/clabsi/adaptations/", f"/p/clabsi/adaptations/{a.pk}/"):
        assert client.get(url).status_code == 404
    assert client.get("/api/programmes/clabsi/adaptations").status_code == 404


def test_the_api_logs_an_adaptation_and_returns_its_evidence(client_for, programme):
    client = client_for("site_a")
    response = client.post(
        "/api/programmes/clabsi/adaptations",
        {
            "site": "RA1-GICU",
            "title": "Chlorhexidine wipes instead of swabs",
            "date_effective": "2024-09-01",
            "when_phase": "implementation",
            "planned": "planned_reactive",
            "components": [
                programme.interventions.first()
                .components.get(name="Chlorhexidine skin antisepsis")
                .pk
            ],
            "content_types": ["substituting"],
            "measures": ["clabsi-rate"],
            "reasons": [{"level": "organisation", "code": "resources", "note": "No swabs"}],
            "evidence_links": ["https://example.org/supply-note"],
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["fidelity"] == "inconsistent" and body["measures"] == ["clabsi-rate"]
    assert body["reasons"] == [{"level": "organisation", "code": "resources", "note": "No swabs"}]
    assert body["evidence_links"] == ["https://example.org/supply-note"]
    assert body["linked_pdsa"] is None
    detail = client.get(f"/api/programmes/clabsi/adaptations/{body['id']}").json()
    [ev] = detail["evidence"]
    assert ev["measure"] == "clabsi-rate" and ev["enough"] is True
    assert ev["caveat"] == "Association in time, not proof of cause."
    assert ev["before_cl"] is not None and ev["after_cl"] is not None


def test_the_api_refuses_bad_adaptations_naming_the_field(client_for):
    response = client_for("site_a").post(
        "/api/programmes/clabsi/adaptations",
        {
            "site": "RA1-GICU",
            "title": "Backwards",
            "date_effective": "2025-05-01",
            "date_ended": "2025-04-01",
            "when_phase": "implementation",
            "planned": "planned_reactive",
            "measures": ["no-such-measure"],
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"measures"}
    response = client_for("site_a").post(
        "/api/programmes/clabsi/adaptations",
        {
            "site": "RA1-GICU",
            "title": "Backwards",
            "date_effective": "2025-05-01",
            "date_ended": "2025-04-01",
            "when_phase": "implementation",
            "planned": "planned_reactive",
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "date_ended"


def test_the_api_publishes_and_another_site_adopts(client_for):
    created = (
        client_for("site_a")
        .post(
            "/api/programmes/clabsi/adaptations",
            {
                "site": "RA1-GICU",
                "title": "Line cart restocked by pharmacy",
                "date_effective": "2025-02-01",
                "when_phase": "implementation",
                "planned": "planned_proactive",
            },
            content_type="application/json",
        )
        .json()
    )
    site_b = client_for("site_b")
    assert site_b.get(f"/api/programmes/clabsi/adaptations/{created['id']}").status_code == 404
    published = client_for("site_a").post(
        f"/api/programmes/clabsi/adaptations/{created['id']}/publish"
    )
    assert published.json()["published"] is True
    adopted = site_b.post(
        f"/api/programmes/clabsi/adaptations/{created['id']}/adopt",
        {"site": "RB1-GICU", "date_effective": "2025-06-01"},
        content_type="application/json",
    )
    assert adopted.status_code == 201
    assert adopted.json()["origin"] == created["id"] and adopted.json()["site"] == "RB1-GICU"
    # A patient partner of RA1 sees the shared original but not RB1's private copy.
    patient = client_for("patient").get("/api/programmes/clabsi/adaptations").json()
    ids = {a["id"] for a in patient}
    assert created["id"] in ids and adopted.json()["id"] not in ids


def test_the_cross_site_link_lists_a_sites_fidelity_inconsistent_adaptations(client_for, programme):
    inconsistent = Adaptation.objects.get(programme=programme, fidelity="inconsistent")
    page = client_for("lead").get(
        f"/p/clabsi/adaptations/?site={inconsistent.site_id}&fidelity=inconsistent"
    )
    text = page.content.decode()
    assert inconsistent.title in text
    assert text.count('<th scope="row"><a href="/p/clabsi/adaptations/') == 1
    assert "Show every adaptation" in text


def test_the_full_record_groups_checkboxes_in_labelled_fieldsets(client_for, programme):
    a = Adaptation.objects.filter(programme=programme, site__code="RA1-GICU").first()
    page = client_for("site_a").get(f"/p/clabsi/adaptations/{a.pk}/edit/").content.decode()
    for legend in ("Who decided", "Type of modification", "Reasons, by level", "Goals"):
        assert f"<legend>{legend}</legend>" in page


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/p/clabsi/adaptations/new/", {"site": "x", "date_effective": "yesterday"}),
        ("/p/clabsi/adaptations/new/", {"components": ["999999"], "measures": ["abc"]}),
        ("/p/clabsi/stage-gates/", {"delete": "not-a-number"}),
        ("/p/clabsi/stage-gates/", {"kind": "measure_stable", "measure": "gone", "n_points": "x"}),
        ("/p/clabsi/sites/999999/fidelity/", {}),
        ("/p/clabsi/sites/999999/phase-gated/", {}),
        ("/p/clabsi/adaptations/999999/adopt/", {}),
    ],
)
def test_garbage_gets_a_clear_refusal_never_a_server_error(client_for, url, data):
    response = client_for("lead").post(url, data)
    assert response.status_code in (404, 422)


def test_garbage_in_the_gated_phase_form_is_refused_by_field(client_for, site):
    response = client_for("lead").post(
        f"/p/clabsi/sites/{site('RA1-GICU').pk}/phase-gated/",
        {"to_phase": "flying", "effective_on": "soon", "version": "v"},
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "New phase:" in text and "From:" in text


# The cross-site view through the API: the same tables, the same access rules.

STATUS_OF = {
    "intended": "kept",
    "adapted_kept": "adapted",
    "adapted_lost": "lost",
    "not_delivered": "lost",
    "not_assessed": "not_assessed",
}


def test_the_matrix_api_gives_each_sites_latest_ratings_beside_its_outcome_status(
    client_for, programme
):
    from spreadscale.web.fidelity.models import FidelityAssessment

    response = client_for("lead").get("/api/programmes/clabsi/fidelity/matrix")
    assert response.status_code == 200
    body = response.json()
    assert body["measure"]["slug"] == "clabsi-rate"
    assert body["components"][0]["name"] == "Hand hygiene before line access"
    assert len(body["components"]) == 4
    assert len(body["rows"]) == 24 and all(r["readable"] for r in body["rows"])
    rows = {r["site"]: r for r in body["rows"]}
    latest = (
        FidelityAssessment.objects.filter(programme=programme, site__code="RA1-GICU")
        .order_by("period_start")
        .last()
    )
    rated = {r.component_id: r.rating for r in latest.ratings.all()}
    ra1 = rows["RA1-GICU"]
    assert ra1["score"] == pytest.approx(latest.score)
    assert ra1["period_start"] == latest.period_start.isoformat()
    for cell in ra1["cells"]:
        assert cell["rating"] == rated.get(cell["component"], "not_assessed")
        assert cell["status"] == STATUS_OF[cell["rating"]]
    statuses = {c["status"] for r in body["rows"] for c in r["cells"]}
    assert {"kept", "adapted", "lost"} <= statuses
    assert any(r["variation"] and r["latest"] is not None for r in body["rows"])
    assert rows["RB3-GICU"]["inconsistent_adaptations"] >= 1


@pytest.mark.parametrize("persona", ["site_a", "patient"])
def test_the_matrix_api_hides_other_sites_data_as_the_page_does(client_for, persona):
    response = client_for(persona).get("/api/programmes/clabsi/fidelity/matrix")
    assert response.status_code == 200
    rows = {r["site"]: r for r in response.json()["rows"]}
    hidden = [r for r in rows.values() if not r["readable"]]
    assert len(hidden) == 23
    assert all(
        r["cells"] == [] and r["score"] is None and r["variation"] is None and r["latest"] is None
        for r in hidden
    )
    assert rows["RA1-GICU"]["readable"] and len(rows["RA1-GICU"]["cells"]) == 4
    # ratings only: no evidence or assessment notes, whoever asks
    assert "evidence" not in response.content.decode()
    assert "note" not in response.content.decode()


def test_the_summary_api_counts_adaptations_and_how_often_sites_improved(client_for):
    body = client_for("evaluator").get("/api/programmes/clabsi/adaptations/summary").json()
    packaging = next(r for r in body["by_content_type"] if r["code"] == "packaging")
    assert packaging["sites"] >= 2 and packaging["adaptations"] >= 2
    assert packaging["improved"] == packaging["adaptations"] == packaging["with_data"]
    assert packaging["share_improved"] == 1.0
    inconsistent = next(r for r in body["by_fidelity"] if r["code"] == "inconsistent")
    assert inconsistent["adaptations"] >= 1
    assert any(r["code"].startswith("organisation:") for r in body["by_reason"])
    assert body["caveat"] == "Association in time, not proof of cause."
    total = sum(r["adaptations"] for r in body["by_fidelity"])
    assert total == Adaptation.objects.filter(programme__slug="clabsi").count()


def test_the_summary_api_counts_only_the_adaptations_the_user_may_read(client_for, programme):
    from django.db.models import Q

    body = client_for("patient").get("/api/programmes/clabsi/adaptations/summary").json()
    readable = Adaptation.objects.filter(programme=programme).filter(
        Q(published=True) | Q(site__code="RA1-GICU")
    )
    assert readable.count() < Adaptation.objects.filter(programme=programme).count()
    assert sum(r["adaptations"] for r in body["by_fidelity"]) == readable.count()


def test_outsiders_get_no_cross_site_tables_from_the_api(client_for):
    client = client_for("outsider")
    assert client.get("/api/programmes/clabsi/fidelity/matrix").status_code == 404
    assert client.get("/api/programmes/clabsi/adaptations/summary").status_code == 404


def test_an_out_of_range_id_in_an_adaptation_is_a_422_and_nothing_is_saved(client_for):
    from spreadscale.web.fidelity.models import Adaptation

    before = Adaptation.objects.count()
    response = client_for("site_a").post(
        "/api/programmes/clabsi/adaptations",
        {
            "site": "RA1-GICU",
            "title": "A mistyped component id",
            "date_effective": "2024-09-01",
            "when_phase": "implementation",
            "planned": "planned_reactive",
            "components": [2**70],
        },
        content_type="application/json",
    )
    # SQLite cannot look the id up ("too large"); PostgreSQL finds no such component
    assert response.status_code == 422, response.content
    assert "nothing was saved" in response.json()["detail"]
    assert Adaptation.objects.count() == before


def test_the_demo_has_a_corrected_assessment_whose_earlier_evidence_its_team_can_read(
    client_for, programme
):
    from spreadscale.web.fidelity.models import FidelityAssessmentRevision

    [revision] = FidelityAssessmentRevision.objects.filter(assessment__programme=programme)
    a = revision.assessment
    assert a.version == 2 and revision.score == a.score  # the evidence was corrected, not ratings
    assert (
        "Night shift's sheet added" in a.ratings.get(component__name__startswith="Daily").evidence
    )
    url = f"/p/clabsi/sites/{a.site_id}/fidelity/"
    page = client_for("lead").get(url).content.decode()
    assert "Corrected" in page and "Night shift" in page
    assert "Night shift" not in client_for("patient").get(url).content.decode()
