"""The admin is for data stewards: their edits reach the event log, and the log outlives them."""

from __future__ import annotations

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
