"""PDSA cycles: the rules of a cycle and of ramps, who may write them, events and annotations."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from spreadscale.web.core.models import Event, Programme
from spreadscale.web.improvement import actions
from spreadscale.web.improvement.models import ChangeIdea, PDSACycle
from spreadscale.web.measurement.annotations import annotations_for
from spreadscale.web.measurement.models import Measure
from spreadscale.web.permissions import access_for


@pytest.fixture
def checklist(programme):
    return ChangeIdea.objects.get(
        programme=programme, site=None, title__startswith="Insertion checklist"
    )


def _start(user, programme, site, idea, **kw):
    fields = {"objective": "Try it on one shift", "start_date": date(2026, 5, 4)}
    return actions.create_cycle(user, programme, site=site, change_idea=idea, **{**fields, **kw})


def test_a_new_cycle_is_numbered_after_the_sites_earlier_cycles_of_the_idea(
    programme, user, site, checklist
):
    earlier = PDSACycle.objects.filter(site=site("RA1-GICU"), change_idea=checklist).count()
    cycle = _start(user("site_a"), programme, site("RA1-GICU"), checklist)
    assert cycle.cycle_no == earlier + 1
    event = Event.objects.get(verb="pdsa.created", object_id=str(cycle.pk))
    assert event.site_id == cycle.site_id and event.programme_id == programme.pk


def test_a_cycle_without_a_change_idea_is_refused(programme, user, site):
    with pytest.raises(ValidationError) as exc:
        _start(user("site_a"), programme, site("RA1-GICU"), None)
    assert "change idea" in exc.value.message_dict["change_idea"][0]


def test_dates_out_of_order_are_refused_naming_the_end_date(programme, user, site, checklist):
    with pytest.raises(ValidationError) as exc:
        _start(user("site_a"), programme, site("RA1-GICU"), checklist, end_date=date(2026, 5, 1))
    assert "end_date" in exc.value.message_dict


def test_an_act_decision_before_the_study_is_written_is_refused(programme, user, site, checklist):
    with pytest.raises(ValidationError) as exc:
        _start(user("site_a"), programme, site("RA1-GICU"), checklist, act="adopt")
    assert "study" in exc.value.message_dict["act"][0].lower()
    cycle = _start(user("site_a"), programme, site("RA1-GICU"), checklist)
    with pytest.raises(ValidationError):
        actions.update_cycle(user("site_a"), cycle, expected_version=cycle.version, act="abandon")
    cycle = actions.update_cycle(
        user("site_a"),
        cycle,
        expected_version=cycle.version,
        study="8 of 10, as predicted",
        act="adopt",
    )
    assert cycle.act == "adopt"
    assert Event.objects.filter(verb="pdsa.acted", object_id=str(cycle.pk)).exists()


def test_adapting_asks_what_was_adapted(programme, user, site, checklist):
    cycle = _start(user("site_a"), programme, site("RA1-GICU"), checklist)
    with pytest.raises(ValidationError) as exc:
        actions.update_cycle(
            user("site_a"), cycle, expected_version=cycle.version, study="so-so", act="adapt"
        )
    assert "adaptation" in exc.value.message_dict


def test_a_measure_of_another_programme_is_refused(programme, user, site, checklist):
    other = Programme.objects.create(name="Other", slug="other-pdsa")
    foreign = Measure.objects.create(
        programme=other, name="Falls", slug="falls", type="outcome", data_kind="count",
        improvement="decrease", default_chart="c",
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        _start(user("site_a"), programme, site("RA1-GICU"), checklist, measures=[foreign])
    assert "another programme" in exc.value.message_dict["measures"][0]


def test_a_ramp_that_would_loop_is_refused(programme, user, site, checklist):
    first = _start(user("site_a"), programme, site("RA1-GICU"), checklist)
    second = _start(user("site_a"), programme, site("RA1-GICU"), checklist, parent=first)
    third = _start(user("site_a"), programme, site("RA1-GICU"), checklist, parent=second)
    with pytest.raises(ValidationError) as exc:
        actions.update_cycle(user("site_a"), first, expected_version=first.version, parent=third)
    assert "loop" in exc.value.message_dict["parent"][0]
    with pytest.raises(ValidationError):
        actions.update_cycle(user("site_a"), first, expected_version=first.version, parent=first)


def test_a_ramp_stays_within_one_site(programme, user, site, checklist):
    other_site = PDSACycle.objects.filter(site=site("RB1-GICU")).first()
    with pytest.raises(ValidationError) as exc:
        _start(user("lead"), programme, site("RA1-GICU"), checklist, parent=other_site)
    assert "parent" in exc.value.message_dict


def test_another_sites_idea_must_be_copied_before_it_is_tested(programme, user, site):
    board = ChangeIdea.objects.get(title__startswith="Infection-free days", origin__isnull=True)
    with pytest.raises(ValidationError) as exc:
        _start(user("site_b"), programme, site("RB1-GICU"), board)
    assert "copy it" in exc.value.message_dict["change_idea"][0]


def test_a_stale_edit_of_a_cycle_is_refused(programme, user, site, checklist):
    cycle = _start(user("site_a"), programme, site("RA1-GICU"), checklist)
    actions.update_cycle(user("site_a"), cycle, expected_version=1, do_observations="Went fine")
    with pytest.raises(ValidationError) as exc:
        actions.update_cycle(
            user("member_a"), cycle, expected_version=1, do_observations="Other words"
        )
    assert "someone else" in exc.value.messages[0]


def _form(site_id, idea_id, **extra):
    return {"site": site_id, "change_idea": idea_id, "scale": "test", "objective": "Try it",
            "start_date": "2026-05-04", **extra}  # fmt: skip


@pytest.mark.parametrize(
    "persona,own,other",
    [
        ("lead", 302, 302),
        ("facilitator", 422, 302),  # RA1 is not in the facilitator's region: not offered
        ("site_a", 302, 422),
        ("member_a", 302, 422),
        ("patient", 403, 403),
        ("evaluator", 403, 403),
        ("viewer", 403, 403),
        ("outsider", 404, 404),
    ],
)
def test_a_site_team_starts_cycles_at_its_own_sites_only(
    persona, own, other, client_for, site, checklist
):
    url = reverse("pdsa_new", kwargs={"slug": "clabsi"})
    client = client_for(persona)
    assert client.post(url, _form(site("RA1-GICU").pk, checklist.pk)).status_code == own
    assert client.post(url, _form(site("RB1-GICU").pk, checklist.pk)).status_code == other


def test_a_site_team_edits_its_own_cycles_only(client_for, site):
    theirs = PDSACycle.objects.filter(site=site("RB1-GICU")).first()
    url = reverse("pdsa_detail", kwargs={"slug": "clabsi", "cycle_id": theirs.pk})
    assert client_for("site_a").post(url, {}).status_code == 404
    assert client_for("evaluator").post(url, {}).status_code == 403
    response = client_for("site_b").post(
        url,
        _form(
            theirs.site_id, theirs.change_idea_id, version=theirs.version,
            start_date=theirs.start_date.isoformat(), objective=theirs.objective,
            do_observations="Written by the site team", study=theirs.study, act=theirs.act,
            adaptation=theirs.adaptation,
        ),
    )  # fmt: skip
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.do_observations == "Written by the site team"


def test_the_form_names_the_missing_change_idea(client_for, site):
    response = client_for("site_a").post(
        reverse("pdsa_new", kwargs={"slug": "clabsi"}), _form(site("RA1-GICU").pk, "")
    )
    assert response.status_code == 422
    assert "Change idea tested: Choose the change idea" in response.content.decode()


def test_cycles_become_annotations_on_the_measures_they_expect_to_move(programme, user, site):
    measure = Measure.objects.get(programme=programme, slug="bundle-compliance")
    own, other = site("RA1-GICU"), site("RB1-GICU")
    notes = annotations_for(access_for(user("site_a"), programme), measure, [own.pk, other.pk])
    pdsa = [a for a in notes if a.kind == "pdsa"]
    assert pdsa and {a.site_id for a in pdsa} == {own.pk}  # RB1 is not readable by site_a
    assert all(a.label.startswith("PDSA ") and a.url for a in pdsa)
    reinsertion = Measure.objects.get(programme=programme, slug="days-between-infections")
    assert not [
        a
        for a in annotations_for(access_for(user("lead"), programme), reinsertion, [own.pk])
        if a.kind == "pdsa"
    ]


def test_the_new_cycle_form_offers_the_package_and_the_sites_own_ideas_only(client_for):
    board = ChangeIdea.objects.get(title__startswith="Infection-free days", origin__isnull=True)
    page = client_for("site_b").get(reverse("pdsa_new", kwargs={"slug": "clabsi"}))
    options = page.context["form"].fields["change_idea"].queryset
    assert board not in options
    assert options.filter(site=None).exists()
