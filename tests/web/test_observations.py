"""Recording observations: validation, revisions, stale edits and the event trail."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.core.models import Event, Site
from spreadscale.web.measurement.actions import (
    ImportRejected,
    ObservationInput,
    ObservationRow,
    import_observations,
    record_observation,
)
from spreadscale.web.measurement.models import Measure, Observation, ObservationRevision

NEW_MONTH = date(2026, 7, 1)  # after the demo's last month


@pytest.fixture
def compliance(programme):
    return Measure.objects.get(programme=programme, slug="bundle-compliance")


@pytest.fixture
def unit(site):
    return site("RA1-GICU")


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict


def test_it_rejects_numerator_above_denominator(user, compliance, unit):
    with pytest.raises(ValidationError) as exc:
        record_observation(
            user("site_a"),
            compliance,
            unit,
            ObservationInput(NEW_MONTH, numerator=31, denominator=30),
        )
    assert "cannot be above the denominator" in _errors(exc.value)["numerator"][0]


@pytest.mark.parametrize(
    "field, values",
    [
        ("numerator", {"numerator": -1, "denominator": 30}),
        ("denominator", {"numerator": 0, "denominator": -5}),
    ],
)
def test_it_rejects_negative_counts(field, values, user, compliance, unit):
    with pytest.raises(ValidationError) as exc:
        record_observation(user("site_a"), compliance, unit, ObservationInput(NEW_MONTH, **values))
    assert field in _errors(exc.value)


def test_it_rejects_a_period_that_ends_before_it_starts(user, compliance, unit):
    with pytest.raises(ValidationError) as exc:
        record_observation(
            user("site_a"),
            compliance,
            unit,
            ObservationInput(NEW_MONTH, numerator=1, denominator=2, period_end=date(2026, 6, 30)),
        )
    assert "ends (2026-06-30) before it starts" in _errors(exc.value)["period_end"][0]


def test_it_rejects_a_monthly_period_that_does_not_start_on_the_first(user, compliance, unit):
    with pytest.raises(ValidationError) as exc:
        record_observation(
            user("site_a"),
            compliance,
            unit,
            ObservationInput(date(2026, 7, 3), numerator=1, denominator=2),
        )
    assert "start on the 1st" in _errors(exc.value)["period_start"][0]


def test_it_rejects_an_observation_for_a_site_outside_the_programme(user, compliance):
    stray = Site.objects.create(
        name="Elsewhere ICU", code="ZZ-ICU", level="region", path="/999999/"
    )
    with pytest.raises(ValidationError) as exc:
        record_observation(
            user("lead"), compliance, stray, ObservationInput(NEW_MONTH, numerator=1, denominator=2)
        )
    assert "not part of this programme" in _errors(exc.value)["site"][0]


def test_it_rejects_a_value_of_the_wrong_kind(user, compliance, unit, programme):
    with pytest.raises(ValidationError) as exc:
        record_observation(user("site_a"), compliance, unit, ObservationInput(NEW_MONTH, value=0.9))
    assert set(_errors(exc.value)) == {"value", "numerator", "denominator"}
    gaps = Measure.objects.get(programme=programme, slug="days-between-infections")
    with pytest.raises(ValidationError) as exc:
        record_observation(
            user("site_a"), gaps, unit, ObservationInput(NEW_MONTH, numerator=1, denominator=2)
        )
    assert {"value", "numerator", "denominator"} == set(_errors(exc.value))


def test_re_entering_a_period_updates_it_and_keeps_the_old_values_as_a_revision(
    user, compliance, unit
):
    first = record_observation(
        user("site_a"),
        compliance,
        unit,
        ObservationInput(NEW_MONTH, numerator=20, denominator=30),
        expected_version=0,
    )
    second = record_observation(
        user("member_a"),
        compliance,
        unit,
        ObservationInput(NEW_MONTH, numerator=25, denominator=30, flags=("revised",)),
        expected_version=first.version,
    )
    assert second.pk == first.pk
    assert second.version == first.version + 1
    assert (
        Observation.objects.filter(measure=compliance, site=unit, period_start=NEW_MONTH).count()
        == 1
    )
    revision = ObservationRevision.objects.get(observation=first)
    assert (revision.numerator, revision.version) == (20, first.version)
    verbs = list(
        Event.objects.filter(site=unit, object_id=str(first.pk)).values_list("verb", flat=True)
    )
    assert sorted(verbs) == ["observation.created", "observation.revised"]


def test_a_stale_edit_is_refused_not_silently_overwritten(user, compliance, unit):
    obs = record_observation(
        user("site_a"), compliance, unit, ObservationInput(NEW_MONTH, numerator=20, denominator=30)
    )
    record_observation(
        user("member_a"),
        compliance,
        unit,
        ObservationInput(NEW_MONTH, numerator=21, denominator=30),
        expected_version=obs.version,
    )
    with pytest.raises(StaleEdit):
        record_observation(
            user("site_a"),
            compliance,
            unit,
            ObservationInput(NEW_MONTH, numerator=22, denominator=30),
            expected_version=obs.version,
        )
    assert Observation.objects.get(pk=obs.pk).numerator == 21


def test_a_new_entry_for_a_period_someone_already_filled_is_refused(user, compliance, unit):
    record_observation(
        user("member_a"),
        compliance,
        unit,
        ObservationInput(NEW_MONTH, numerator=21, denominator=30),
    )
    with pytest.raises(StaleEdit):
        record_observation(
            user("site_a"),
            compliance,
            unit,
            ObservationInput(NEW_MONTH, numerator=22, denominator=30),
            expected_version=0,
        )


def test_an_import_with_any_bad_row_writes_nothing_and_names_every_problem(user, programme):
    before = Observation.objects.count()
    rows = [
        ObservationRow("bundle-compliance", "RA1-GICU", NEW_MONTH, numerator=5, denominator=10),
        ObservationRow("bundle-compliance", "RA1-GICU", NEW_MONTH, numerator=6, denominator=10),
        ObservationRow("no-such-measure", "RA1-GICU", NEW_MONTH, numerator=1, denominator=2),
        ObservationRow("bundle-compliance", "XX-NOWHERE", NEW_MONTH, numerator=1, denominator=2),
        ObservationRow("clabsi-rate", "RA2-GICU", NEW_MONTH, numerator=-1, denominator=300),
    ]
    with pytest.raises(ImportRejected) as exc:
        import_observations(user("lead"), programme, rows)
    found = {(e.row, e.field) for e in exc.value.row_errors}
    assert found == {(2, "period"), (3, "measure"), (4, "site"), (5, "numerator")}
    assert Observation.objects.count() == before


def test_re_importing_the_same_rows_changes_nothing(user, programme):
    rows = [
        ObservationRow("bundle-compliance", code, NEW_MONTH, numerator=9, denominator=10)
        for code in ("RA1-GICU", "RA2-GICU")
    ]
    first = import_observations(user("lead"), programme, rows)
    events = Event.objects.count()
    second = import_observations(user("lead"), programme, rows)
    assert (first.created, second.created, second.revised, second.unchanged) == (2, 0, 0, 2)
    assert Event.objects.count() == events


def test_events_are_append_only(programme):
    event = Event.objects.filter(programme=programme).first()
    event.verb = "tampered"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(verb="tampered")
