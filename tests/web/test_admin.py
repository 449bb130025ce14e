"""The admin is for data stewards: their edits reach the event log, and the log outlives them."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from spreadscale.web.core.models import Event, Membership, Programme, Role
from spreadscale.web.measurement.models import Observation


@pytest.fixture
def steward(db) -> Client:
    user = get_user_model().objects.create_superuser("steward", password="x")
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_edit_is_recorded_in_the_programme_event_log(steward, programme):
    membership = Membership.objects.filter(programme=programme, role=Role.VIEWER).first()
    assert membership is not None
    url = reverse("admin:core_membership_change", args=[membership.pk])
    form = steward.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(role=Role.EVALUATOR.value, user=membership.user_id, programme=programme.pk)
    response = steward.post(url, data)
    assert response.status_code == 302, response.content[:1000]
    event = Event.objects.filter(verb="admin.changed", object_id=str(membership.pk)).get()
    assert event.programme_id == programme.pk
    assert event.actor.username == "steward"
    assert event.payload["fields"] == ["role"]
    membership.refresh_from_db()
    assert event.summary == f"Changed in the admin: membership “{membership}” (role)"


def test_an_admin_delete_is_recorded_before_the_row_goes(steward, programme):
    membership = Membership.objects.filter(programme=programme, role=Role.VIEWER).first()
    url = reverse("admin:core_membership_delete", args=[membership.pk])
    response = steward.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    event = Event.objects.get(verb="admin.deleted", object_id=str(membership.pk))
    assert event.programme_id == programme.pk
    assert str(membership.user) in event.payload["object"]


def test_observations_are_read_only_in_the_admin(steward):
    obs = Observation.objects.first()
    change = steward.get(reverse("admin:measurement_observation_change", args=[obs.pk]))
    assert change.status_code == 200  # viewable
    assert b'name="numerator"' not in change.content
    before = (obs.numerator, obs.version)
    response = steward.post(
        reverse("admin:measurement_observation_change", args=[obs.pk]), {"numerator": "0"}
    )
    assert response.status_code == 403
    obs.refresh_from_db()
    assert (obs.numerator, obs.version) == before
    assert steward.get(reverse("admin:measurement_observation_add")).status_code == 403


def test_the_event_log_outlives_any_attempt_to_delete_its_programme(programme):
    with pytest.raises(ProtectedError) as refused:
        Programme.objects.filter(pk=programme.pk).delete()
    assert any(isinstance(o, Event) for o in refused.value.protected_objects)
    assert Programme.objects.filter(pk=programme.pk).exists()
    assert Event.objects.filter(programme=programme).exists()


class _FormValues(HTMLParser):
    """The values a browser would send from a page's form: inputs, textareas, selections."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(name, a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # as in a browser, the newline right after <textarea> is not part of the value
            values = self.data[self._textarea]
            values[-1] = values[-1].removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def _change_data(response, **changes) -> dict:
    """What the admin change page would send back unchanged, with ``changes`` applied."""
    parser = _FormValues()
    parser.feed(response.content.decode())
    data = {k: v if len(v) > 1 else v[0] for k, v in parser.data.items()}
    data.pop("csrfmiddlewaretoken", None)
    return data | changes


def test_fidelity_assessments_are_view_only_in_the_admin(steward, programme):
    from spreadscale.web.fidelity.models import FidelityAssessment

    a = FidelityAssessment.objects.filter(programme=programme, score__lt=1).first()
    url = reverse("admin:fidelity_fidelityassessment_change", args=[a.pk])
    page = steward.get(url)
    assert page.status_code == 200  # the steward can read it
    html = page.content.decode()
    assert 'name="ratings-0-rating"' not in html and 'name="note"' not in html
    before = {r.pk: r.rating for r in a.ratings.all()}
    ratings = {"ratings-0-id": a.ratings.first().pk, "ratings-0-rating": "intended"}
    response = steward.post(url, {"note": "Edited in the admin", "score": "1.0", **ratings})
    assert response.status_code == 403
    a.refresh_from_db()
    assert a.note != "Edited in the admin" and a.score < 1 and a.version == 1
    assert {r.pk: r.rating for r in a.ratings.all()} == before
    assert steward.get(reverse("admin:fidelity_fidelityassessment_add")).status_code == 403
    delete = reverse("admin:fidelity_fidelityassessment_delete", args=[a.pk])
    assert steward.post(delete, {"post": "yes"}).status_code == 403
    assert FidelityAssessment.objects.filter(pk=a.pk).exists()


def test_an_admin_edit_of_an_adaptation_is_logged_and_makes_open_page_forms_stale(
    steward, programme, user
):
    from spreadscale.web.core.errors import StaleEdit
    from spreadscale.web.fidelity import actions
    from spreadscale.web.fidelity.models import Adaptation

    a = Adaptation.objects.filter(programme=programme, components__isnull=False).first()
    seen = a.version
    url = reverse("admin:fidelity_adaptation_change", args=[a.pk])
    page = steward.get(url)
    assert 'name="fidelity"' not in page.content.decode()  # computed from the components
    response = steward.post(url, _change_data(page, title="Checklist on the EPR (renamed)"))
    assert response.status_code == 302, response.content[:2000]
    a.refresh_from_db()
    assert a.title == "Checklist on the EPR (renamed)" and a.version == seen + 1
    event = Event.objects.get(verb="admin.changed", object_id=str(a.pk))
    assert (event.programme_id, event.site_id) == (programme.pk, a.site_id)
    assert event.payload["fields"] == ["title"]
    with pytest.raises(StaleEdit):
        actions.update_adaptation(
            user("lead"),
            a,
            {"description": "From a form opened before"},
            components=list(a.components.all()),
            measures=list(a.measures.all()),
            expected_version=seen,
        )


def test_improvement_admin_edits_and_deletes_are_logged(steward, programme):
    from spreadscale.web.improvement.models import ChangeIdea, ProgressScore

    idea = ChangeIdea.objects.filter(programme=programme).first()
    url = reverse("admin:improvement_changeidea_change", args=[idea.pk])
    page = steward.get(url)
    response = steward.post(url, _change_data(page, title="Renamed by the steward"))
    assert response.status_code == 302, response.content[:2000]
    event = Event.objects.get(verb="admin.changed", object_id=str(idea.pk))
    assert event.programme_id == programme.pk and event.payload["fields"] == ["title"]
    idea.refresh_from_db()
    assert idea.version == 2
    score = ProgressScore.objects.filter(programme=programme).first()
    delete = reverse("admin:improvement_progressscore_delete", args=[score.pk])
    assert steward.post(delete, {"post": "yes"}).status_code == 302
    event = Event.objects.get(verb="admin.deleted", object_id=str(score.pk))
    assert event.programme_id == programme.pk and event.site_id == score.site_id


def test_an_inline_component_edit_moves_its_version_on_and_is_logged(steward, programme, user):
    from spreadscale.web.core import actions
    from spreadscale.web.core.errors import StaleEdit
    from spreadscale.web.core.models import Intervention

    intervention = Intervention.objects.filter(programme=programme).first()
    components = list(intervention.components.all())
    seen = {c.pk: c.version for c in components}
    url = reverse("admin:core_intervention_change", args=[intervention.pk])
    page = steward.get(url)
    assert 'name="components-0-version"' not in page.content.decode()  # read-only there
    first = components[0]
    index = next(
        i
        for i in range(len(components))
        if _change_data(page)[f"components-{i}-id"] == str(first.pk)
    )
    response = steward.post(
        url, _change_data(page, **{f"components-{index}-name": "Renamed by the steward"})
    )
    assert response.status_code == 302, response.content[:2000]
    now = {c.pk: c.version for c in intervention.components.all()}
    assert now[first.pk] == seen[first.pk] + 1
    assert all(now[pk] == v for pk, v in seen.items() if pk != first.pk)  # untouched rows stay
    event = Event.objects.get(verb="admin.changed", object_id=str(first.pk))
    assert event.programme_id == programme.pk and event.payload["fields"] == ["name"]
    first.refresh_from_db()
    with pytest.raises(StaleEdit):
        actions.update_component(
            user("lead"),
            first,
            description="From a form opened before",
            expected_version=seen[first.pk],
        )


def test_an_admin_edit_of_a_driver_node_keeps_what_it_said_before(steward, programme):
    from spreadscale.web.improvement.models import DriverNode

    node = DriverNode.objects.filter(programme=programme, parents__isnull=False).first()
    old_text, old_version = node.text, node.version
    old_parents = sorted(node.parents.values_list("pk", flat=True))
    url = reverse("admin:improvement_drivernode_change", args=[node.pk])
    page = steward.get(url)
    response = steward.post(url, _change_data(page, text="Reworded by the steward"))
    assert response.status_code == 302, response.content[:2000]
    node.refresh_from_db()
    assert (node.text, node.version) == ("Reworded by the steward", old_version + 1)
    revision = node.revisions.get(version=old_version)
    assert revision.text == old_text and revision.parent_ids == old_parents
    assert revision.changed_by.username == "steward"


def test_an_admin_save_of_a_measure_renews_its_board_cache_token(steward, programme):
    from spreadscale.web.measurement.models import Measure

    measure = Measure.objects.filter(programme=programme).first()
    token = measure.data_token
    url = reverse("admin:measurement_measure_change", args=[measure.pk])
    page = steward.get(url)
    response = steward.post(url, _change_data(page, name="Renamed by the steward"))
    assert response.status_code == 302, response.content[:2000]
    measure.refresh_from_db()
    assert measure.name == "Renamed by the steward" and measure.data_token != token
