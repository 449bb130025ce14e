"""The Model for Improvement pages for each persona: diagram, change package, cycles, scores."""

from __future__ import annotations

import pytest
from django.urls import reverse

from spreadscale.web.improvement.models import ChangeIdea, PDSACycle


def _url(name, **kw):
    return reverse(name, kwargs={"slug": "clabsi", **kw})


@pytest.mark.parametrize(
    "persona", ["lead", "facilitator", "site_a", "patient", "evaluator", "viewer"]
)
def test_every_member_reads_the_diagram_package_and_scores(persona, client_for):
    client = client_for(persona)
    diagram = client.get(_url("driver_diagram"))
    assert diagram.status_code == 200
    assert b"<svg" in diagram.content and b"<title" in diagram.content
    assert b"Reliable daily line maintenance" in diagram.content
    package = client.get(_url("change_package"))
    assert package.status_code == 200
    assert b"Insertion checklist completed by an observing nurse" in package.content
    assert client.get(_url("progress_scores")).status_code == 200


def test_an_outsider_finds_no_improvement_pages(client_for):
    client = client_for("outsider")
    for name in ("driver_diagram", "change_package", "progress_scores", "driver_diagram_svg"):
        assert client.get(_url(name)).status_code == 404


def test_the_diagram_downloads_as_a_standalone_svg(client_for):
    response = client_for("viewer").get(_url("driver_diagram_svg"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert body.startswith("<svg") and "<desc" in body and "<script" not in body


def test_a_site_diagram_adds_the_site_nodes_to_the_programme_diagram(client_for):
    page = client_for("site_a").get(_url("driver_diagram") + "?site=RA1-GICU")
    assert page.status_code == 200
    assert b"Infection-free days board in the staff room" in page.content
    assert b"Add a box" in page.content  # the site team edits its own diagram


def test_only_the_lead_gets_the_editor_on_the_programme_diagram(client_for):
    assert b"Add a box" in client_for("lead").get(_url("driver_diagram")).content
    assert b"Add a box" not in client_for("site_a").get(_url("driver_diagram")).content


def test_a_cycle_page_shows_the_linked_measures_around_its_dates(client_for, site):
    cycle = PDSACycle.objects.filter(site=site("RA1-GICU"), measures__isnull=False).first()
    page = client_for("site_a").get(_url("pdsa_detail", cycle_id=cycle.pk))
    assert page.status_code == 200
    assert b"The measures around the cycle" in page.content
    assert b"when-before" in page.content and b"when-after" in page.content
    spec = next(m["spec"] for m in page.context["around"] if m["spec"])
    layers = str(spec)
    assert f"PDSA {cycle.cycle_no}" in layers  # the cycle is marked on its own chart


def test_a_cycle_is_hidden_from_members_who_may_not_read_its_site(client_for, site):
    cycle = PDSACycle.objects.filter(site=site("RB1-GICU")).first()
    assert client_for("site_a").get(_url("pdsa_detail", cycle_id=cycle.pk)).status_code == 404
    assert client_for("facilitator").get(_url("pdsa_detail", cycle_id=cycle.pk)).status_code == 200


def test_the_site_page_lists_its_cycles_and_progress_scores(client_for, site):
    own = site("RA1-GICU")
    page = client_for("site_a").get(
        reverse("site_detail", kwargs={"slug": "clabsi", "site_id": own.pk})
    )
    assert page.status_code == 200
    assert b"PDSA cycles" in page.content and b"Team progress scores" in page.content
    assert b"Insertion checklist completed by an observing nurse" in page.content


def test_an_idea_page_shows_its_copies_and_lets_a_site_copy_it(client_for, site):
    board = ChangeIdea.objects.get(title__startswith="Infection-free days", origin__isnull=True)
    page = client_for("site_b").get(_url("idea_detail", idea_id=board.pk))
    assert page.status_code == 200
    assert b"Copies at other sites" in page.content
    response = client_for("site_b").post(
        _url("idea_detail", idea_id=board.pk), {"site": site("RB1-GICU").pk}
    )
    assert response.status_code == 302
    copy = ChangeIdea.objects.get(origin=board, site=site("RB1-GICU"))
    assert copy.source == ChangeIdea.Source.SITE


def test_the_change_package_page_keeps_its_query_count_flat(
    client_for, django_assert_max_num_queries
):
    client = client_for("lead")
    with django_assert_max_num_queries(25):
        assert client.get(_url("change_package")).status_code == 200


def test_the_progress_page_keeps_its_query_count_flat(client_for, django_assert_max_num_queries):
    client = client_for("lead")
    with django_assert_max_num_queries(20):
        assert client.get(_url("progress_scores")).status_code == 200


def test_the_package_page_shows_what_each_site_adapted_only_to_those_who_may_read_it(client_for):
    url = _url("change_package") + "?q=checklist"
    assert "adapted: Checklist" in client_for("lead").get(url).content.decode()
    own_only = client_for("site_a").get(url).content.decode()
    assert own_only.count("adapted: ") == 1  # RA1-GICU's own ramp adapted once


def test_the_diagram_page_query_count_depends_on_its_boxes_not_on_the_sites(
    client_for, django_assert_max_num_queries
):
    client = client_for("lead")
    with django_assert_max_num_queries(45):  # about two per box for the editor's forms
        assert client.get(_url("driver_diagram")).status_code == 200


def test_a_sites_own_diagram_is_hidden_from_other_sites_teams(client_for):
    assert client_for("site_b").get(_url("driver_diagram") + "?site=RA1-GICU").status_code == 404
    assert (
        client_for("site_b").get(_url("driver_diagram_svg") + "?site=RA1-GICU").status_code == 404
    )
    assert client_for("evaluator").get(_url("driver_diagram") + "?site=RA1-GICU").status_code == 200
