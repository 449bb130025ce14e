"""The intervention's components: the lead adds, edits, retires, brings back and deletes them,
on the components page and through the API; retired ones keep their history."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from spreadscale.web.core import actions as core
from spreadscale.web.core.models import Component, Event
from spreadscale.web.fidelity import actions
from spreadscale.web.fidelity.models import FidelityRating

pytestmark = pytest.mark.django_db

PAGE = "/p/clabsi/components/"
API = "/api/programmes/clabsi/components"


def _named(programme, name) -> Component:
    return Component.objects.get(intervention__programme=programme, name=name)


def _rated(programme) -> Component:
    return _named(programme, "Daily review of line necessity")


def _unused(programme) -> Component:
    """An adaptable form with no ratings or adaptations; the demo's change ideas that put it
    into practice are unlinked here, so that nothing refers to it."""
    from spreadscale.web.improvement.models import ChangeIdea

    c = _named(programme, "Insertion cart or kit")
    ChangeIdea.objects.filter(component=c).update(component=None)
    return c


def _edit_data(c: Component, **changes) -> dict:
    data = {
        "name": c.name,
        "kind": c.kind,
        "description": c.description,
        "fidelity_criterion": c.fidelity_criterion,
        "order": c.order,
        "version": c.version,
    }
    return data | changes


def test_the_page_lists_core_functions_first_and_retired_components_apart(client_for, programme):
    c = _named(programme, "Insertion checklist format")
    c.order = 0  # before every core function in order, yet listed after them
    c.save()
    retired = _unused(programme)
    actions.retire_component(None, retired)
    page = client_for("patient").get(PAGE).content.decode()
    in_use, _, retired_part = page.partition("<h3>Retired</h3>")
    assert in_use.index("Daily review of line necessity") < in_use.index(
        "Insertion checklist format"
    )
    assert "Insertion cart or kit" in retired_part and "Insertion cart or kit" not in in_use


def test_the_lead_adds_a_component_on_the_page(client_for, programme):
    response = client_for("lead").post(
        PAGE,
        {
            "intervention": programme.interventions.first().pk,
            "name": "Dressing changed when soiled",
            "kind": "core_function",
            "description": "Transparent dressing",
            "fidelity_criterion": "No soiled dressing at the audit.",
            "order": 9,
        },
    )
    assert response.status_code == 302
    c = _named(programme, "Dressing changed when soiled")
    assert (c.kind, c.order, c.version, c.retired) == ("core_function", 9, 1, False)
    assert Event.objects.filter(verb="component.created", object_id=str(c.pk)).exists()


def test_a_new_core_function_is_offered_at_the_next_assessment(client_for, programme, site):
    c = core.add_component(
        None, programme.interventions.first(), name="Dressing", kind="core_function"
    )
    page = client_for("site_a").get(f"/p/clabsi/sites/{site('RA1-GICU').pk}/fidelity/")
    assert f'name="rating_{c.pk}"' in page.content.decode()


def test_the_lead_edits_a_component_and_the_event_says_what_changed(client_for, programme):
    c = _unused(programme)
    client = client_for("lead")
    assert client.get(f"{PAGE}{c.pk}/edit/").status_code == 200
    response = client.post(
        f"{PAGE}{c.pk}/edit/",
        _edit_data(
            c,
            name="Insertion trolley",
            kind="core_function",
            order=2,
            fidelity_criterion="Trolley stocked at every insertion.",
        ),
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert (c.name, c.kind, c.order, c.version) == ("Insertion trolley", "core_function", 2, 2)
    assert c.fidelity_criterion == "Trolley stocked at every insertion."
    event = Event.objects.get(verb="component.updated", object_id=str(c.pk))
    assert event.payload["fields"] == ["name", "kind", "fidelity_criterion", "order"]
    assert event.summary == (
        "Component updated: Insertion trolley (name, kind, fidelity_criterion, order; version 2)"
    )


def test_a_stale_edit_is_refused_and_the_other_change_kept(client_for, programme):
    c = _unused(programme)
    seen = _edit_data(c)
    core.update_component(None, c, expected_version=c.version, name="Kit, by someone else")
    response = client_for("lead").post(f"{PAGE}{c.pk}/edit/", seen | {"name": "Cart"})
    assert response.status_code == 422
    assert "changed by someone else" in response.content.decode()
    c.refresh_from_db()
    assert (c.name, c.version) == ("Kit, by someone else", 2)


def test_changing_the_kind_of_a_rated_component_is_refused_naming_the_field(client_for, programme):
    c = _rated(programme)
    response = client_for("lead").post(f"{PAGE}{c.pk}/edit/", _edit_data(c, kind="adaptable_form"))
    assert response.status_code == 422
    assert "Kind: Daily review of line necessity has fidelity ratings" in response.content.decode()
    c.refresh_from_db()
    assert (c.kind, c.version) == ("core_function", 1)


def test_a_blank_name_is_refused_on_the_page_and_by_the_action(client_for, programme):
    c = _unused(programme)
    response = client_for("lead").post(f"{PAGE}{c.pk}/edit/", _edit_data(c, name=""))
    assert response.status_code == 422
    with pytest.raises(ValidationError) as exc:
        core.update_component(None, c, expected_version=c.version, name="  ")
    assert "name" in exc.value.message_dict
    c.refresh_from_db()
    assert c.name == "Insertion cart or kit"


def test_a_retired_component_is_not_offered_for_new_ratings_or_adaptations(
    client_for, programme, site, user
):
    c = _rated(programme)
    unit = site("RA1-GICU")
    offered = f'name="components" value="{c.pk}"'
    assert offered in client_for("site_a").get("/p/clabsi/adaptations/new/").content.decode()
    assert client_for("lead").post(f"{PAGE}{c.pk}/retire/").status_code == 302
    c.refresh_from_db()
    assert c.retired
    assert Event.objects.filter(verb="component.retired", object_id=str(c.pk)).exists()
    client = client_for("site_a")
    assessment_form = client.get(f"/p/clabsi/sites/{unit.pk}/fidelity/").content.decode()
    assert f'name="rating_{c.pk}"' not in assessment_form
    quick = client.get("/p/clabsi/adaptations/new/").content.decode()
    assert offered not in quick
    assert "Daily review of line necessity" not in quick
    with pytest.raises(ValidationError) as exc:
        actions.record_assessment(
            user("site_a"),
            programme,
            unit,
            period_start=date(2026, 7, 1),
            ratings=[actions.RatingInput(c.pk, "intended")],
        )
    assert "retired" in exc.value.message_dict["ratings"][0]
    with pytest.raises(ValidationError) as exc:
        actions.create_adaptation(
            user("site_a"),
            programme,
            unit,
            {
                "title": "Review at handover",
                "date_effective": date(2026, 7, 1),
                "when_phase": "implementation",
                "planned": "planned_proactive",
            },
            components=[c],
        )
    assert "retired" in exc.value.message_dict["components"][0]


def test_a_retired_component_stays_in_the_site_history_and_comes_back_when_restored(
    client_for, programme, site
):
    c = _rated(programme)
    unit = site("RA1-GICU")
    assert FidelityRating.objects.filter(component=c, assessment__site=unit).exists()
    actions.retire_component(None, c)
    history = client_for("site_a").get(f"/p/clabsi/sites/{unit.pk}/fidelity/").content.decode()
    assert 'Daily review of line necessity <span class="muted">(retired)</span>' in history
    response = client_for("lead").post(f"{PAGE}{c.pk}/restore/")
    assert response.status_code == 302
    c.refresh_from_db()
    assert not c.retired
    assert Event.objects.get(verb="component.restored", object_id=str(c.pk)).summary == (
        "Component back in use: Daily review of line necessity"
    )
    form = client_for("site_a").get(f"/p/clabsi/sites/{unit.pk}/fidelity/").content.decode()
    assert f'name="rating_{c.pk}"' in form


def test_an_adaptation_already_touching_a_retired_component_can_still_be_edited(programme, user):
    a = _named(programme, "Insertion checklist format").adaptations.select_related("site").first()
    touched = list(a.components.all())
    for c in touched:
        actions.retire_component(None, c)
    edited = actions.update_adaptation(
        user("lead"),
        a,
        {"description": "Still on the tablet"},
        components=[Component.objects.get(pk=c.pk) for c in touched],
        measures=list(a.measures.all()),
        expected_version=a.version,
    )
    assert {c.pk for c in edited.components.all()} == {c.pk for c in touched}


def test_deleting_a_component_with_history_is_refused_with_a_message_to_retire_it(
    client_for, programme
):
    c = _rated(programme)
    response = client_for("lead").post(f"{PAGE}{c.pk}/delete/", follow=True)
    assert "retire it instead" in response.content.decode()
    assert Component.objects.filter(pk=c.pk).exists()


def test_a_component_a_change_idea_puts_into_practice_is_retired_not_deleted(
    client_for, programme, user
):
    from spreadscale.web.improvement import actions as improvement

    c = _unused(programme)
    idea = improvement.create_idea(user("lead"), programme, title="Kit on every ward", component=c)
    page = client_for("lead").get(PAGE).content.decode()
    assert "It has ratings, adaptations or change ideas: retire it instead" in page
    response = client_for("lead").delete(f"{API}/{c.pk}")
    assert response.status_code == 409
    assert "has change ideas: retire it instead" in response.json()["detail"]
    idea.refresh_from_db()
    assert idea.component_id == c.pk  # not silently unlinked
    listed = client_for("lead").get(API).json()
    assert next(x for x in listed if x["id"] == c.pk)["change_ideas"] == 1


def test_the_lead_deletes_a_component_nothing_refers_to(client_for, programme):
    c = _unused(programme)
    response = client_for("lead").post(f"{PAGE}{c.pk}/delete/", follow=True)
    assert "Deleted “Insertion cart or kit”." in response.content.decode()
    assert not Component.objects.filter(pk=c.pk).exists()
    assert Event.objects.filter(verb="component.deleted", object_id=str(c.pk)).exists()


@pytest.mark.parametrize("persona", ["site_a", "member_a", "facilitator", "patient", "evaluator"])
def test_only_the_lead_changes_components_on_the_page(client_for, programme, persona):
    c = _unused(programme)
    client = client_for(persona)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Add a component" not in page.content.decode()
    assert f"{PAGE}{c.pk}/edit/" not in page.content.decode()
    add = {"intervention": c.intervention_id, "name": "Mine", "kind": "core_function", "order": 1}
    assert client.post(PAGE, add).status_code == 403
    assert client.get(f"{PAGE}{c.pk}/edit/").status_code == 403
    assert client.post(f"{PAGE}{c.pk}/edit/", _edit_data(c, name="Mine")).status_code == 403
    for change in ("retire", "restore", "delete"):
        assert client.post(f"{PAGE}{c.pk}/{change}/").status_code == 403
    c.refresh_from_db()
    assert (c.name, c.retired, c.version) == ("Insertion cart or kit", False, 1)
    assert not Component.objects.filter(name="Mine").exists()


def test_outsiders_do_not_see_the_components_page(client_for, programme):
    assert client_for("outsider").get(PAGE).status_code == 404
    c = _unused(programme)
    assert client_for("outsider").get(API).status_code == 404
    assert client_for("outsider").delete(f"{API}/{c.pk}").status_code == 404


def test_the_components_page_is_linked_from_the_fidelity_overview_and_the_programme_nav(
    client_for,
):
    page = client_for("viewer").get("/p/clabsi/fidelity/").content.decode()
    assert page.count(f'href="{PAGE}"') == 2


# API


def test_every_member_lists_the_components_with_their_state_and_history(client_for, programme):
    actions.retire_component(None, _unused(programme))
    rows = {r["name"]: r for r in client_for("patient").get(API).json()}
    assert len(rows) == 7
    assert rows["Insertion cart or kit"]["retired"] is True
    daily = rows["Daily review of line necessity"]
    assert daily["kind"] == "core_function" and daily["version"] == 1
    assert daily["ratings"] > 0 and daily["adaptations"] == 1


def test_the_api_adds_edits_retires_restores_and_deletes_a_component(client_for, programme):
    client = client_for("lead")
    created = client.post(
        API,
        {"name": "Dressing", "kind": "core_function", "order": 8},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["intervention"] == programme.interventions.first().pk and body["version"] == 1
    url = f"{API}/{body['id']}"
    edit = {
        "name": "Dressing intact",
        "kind": "core_function",
        "order": 8,
        "version": 1,
        "fidelity_criterion": "Clean, dry and intact at the audit.",
    }
    put = client.put(url, edit, content_type="application/json")
    assert put.status_code == 200 and put.json()["version"] == 2
    stale = client.put(url, edit | {"name": "Again"}, content_type="application/json")
    assert stale.status_code == 422
    assert "changed by someone else" in stale.json()["errors"][0]["message"]
    assert client.post(f"{url}/retire").json()["retired"] is True
    again = client.post(f"{url}/retire")
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "retired"
    assert client.post(f"{url}/restore").json()["retired"] is False
    assert client.delete(url).status_code == 204
    assert not Component.objects.filter(pk=body["id"]).exists()


def test_the_api_refuses_to_delete_a_component_with_history_with_409_and_the_message(
    client_for, programme
):
    c = _rated(programme)
    response = client_for("lead").delete(f"{API}/{c.pk}")
    assert response.status_code == 409
    body = response.json()
    assert body["errors"][0]["field"] == "component"
    assert "retire it instead" in body["errors"][0]["message"]
    assert "retire it instead" in body["detail"]
    assert Component.objects.filter(pk=c.pk).exists()


def test_the_api_names_bad_component_fields(client_for, programme):
    client = client_for("lead")
    bad_kind = client.post(API, {"name": "X", "kind": "essential"}, content_type="application/json")
    assert bad_kind.status_code == 422 and bad_kind.json()["errors"][0]["field"] == "kind"
    no_name = client.post(API, {"kind": "core_function"}, content_type="application/json")
    assert no_name.status_code == 422 and no_name.json()["errors"][0]["field"] == "name"
    elsewhere = client.post(
        API,
        {"name": "X", "kind": "core_function", "intervention": 999999},
        content_type="application/json",
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["field"] == "intervention"
    c = _rated(programme)
    kind = client.put(
        f"{API}/{c.pk}", _edit_data(c, kind="adaptable_form"), content_type="application/json"
    )
    assert kind.status_code == 422 and kind.json()["errors"][0]["field"] == "kind"


@pytest.mark.parametrize("persona", ["site_a", "member_a", "facilitator", "patient", "evaluator"])
def test_only_the_lead_changes_components_through_the_api(client_for, programme, persona):
    c = _unused(programme)
    client = client_for(persona)
    url = f"{API}/{c.pk}"
    add = {"name": "Mine", "kind": "core_function"}
    assert client.post(API, add, content_type="application/json").status_code == 403
    assert (
        client.put(url, _edit_data(c, name="Mine"), content_type="application/json").status_code
        == 403
    )
    assert client.post(f"{url}/retire").status_code == 403
    assert client.post(f"{url}/restore").status_code == 403
    assert client.delete(url).status_code == 403
    c.refresh_from_db()
    assert (c.name, c.retired) == ("Insertion cart or kit", False)


def test_retiring_moves_the_version_on_so_an_edit_opened_before_is_stale(programme, user):
    from spreadscale.web.core import actions as core_actions
    from spreadscale.web.core.errors import StaleEdit
    from spreadscale.web.fidelity import actions

    c = _unused(programme)
    seen = c.version
    actions.retire_component(user("lead"), c)
    c.refresh_from_db()
    assert c.retired and c.version == seen + 1
    with pytest.raises(StaleEdit):
        core_actions.update_component(
            user("lead"), c, description="Typed before it was retired", expected_version=seen
        )
