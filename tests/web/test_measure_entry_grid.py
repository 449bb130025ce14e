"""The data-entry grid: per-cell validation, all-or-nothing saves, stale edits refused.

Two layouts: one measure × periods, and periods × all the site's measures of one frequency.
"""

from __future__ import annotations

from django.urls import reverse

from spreadscale.web.measurement import actions
from spreadscale.web.measurement.entry import N_PERIODS
from spreadscale.web.measurement.models import Measure, Observation


def _url():
    return reverse("measurement_entry", kwargs={"slug": "clabsi"})


def _grid(client, measure="bundle-compliance", **params):
    return client.get(_url(), {"measure": measure, **params})


def _form(response):
    """What the browser would send back for the page as shown."""
    data: dict = {"period": [g.key for g in response.context["grid"]]}
    layout = response.context["layout"]
    for g in response.context["grid"]:
        for c in g.cells:
            for i in c.inputs:
                data[i.name] = i.value
            data[f"{c.prefix}-version"] = c.values["version"]
            if layout == "measure":
                data[f"{c.prefix}-note"] = c.values["note"]
                data[f"{c.prefix}-flags"] = c.values["flags"]
    return data


def _cell(response, row, measure_slug=None):
    g = response.context["grid"][row]
    return next(c for c in g.cells if measure_slug is None or c.measure.slug == measure_slug)


def _post(client, data, **params):
    query = "&".join(f"{k}={v}" for k, v in {"measure": "bundle-compliance", **params}.items())
    return client.post(f"{_url()}?{query}", data)


def test_the_grid_shows_recent_periods_and_one_empty_next_period(client_for):
    response = _grid(client_for("site_a"))
    assert response.status_code == 200
    grid = response.context["grid"]
    assert len(grid) == N_PERIODS
    assert grid[-1].cells[0].obs is None and grid[-2].cells[0].obs is not None
    assert response.text.count('name="period"') == N_PERIODS
    assert 'src="/static/measurement/entry-grid.js"' in response.text
    assert 'data-col="0"' in response.text


def test_entering_the_next_period_saves_it(client_for, site):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    p = _cell(page, -1).prefix
    data.update({f"{p}-numerator": "18", f"{p}-denominator": "20", f"{p}-flags": ["estimated"]})
    response = _post(client, data)
    assert response.status_code == 302
    obs = Observation.objects.get(
        site=site("RA1-GICU"),
        period_start=page.context["grid"][-1].start,
        measure__slug="bundle-compliance",
    )
    assert obs.numerator == 18 and obs.flags == ["estimated"]


def test_a_bad_cell_is_named_and_nothing_is_saved(client_for, site):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    last, before = _cell(page, -1), _cell(page, -2)
    data.update({f"{last.prefix}-numerator": "30", f"{last.prefix}-denominator": "20"})
    data[f"{before.prefix}-numerator"] = "abc"
    response = _post(client, data)
    assert response.status_code == 422
    assert "cannot be above the denominator" in _cell(response, -1).errors["numerator"]
    assert "not a number" in _cell(response, -2).errors["numerator"]
    assert not Observation.objects.filter(site=site("RA1-GICU"), period_start=last.start).exists()


def test_a_stale_edit_is_refused_with_a_message(client_for, site):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    c = _cell(page, -2)
    Observation.objects.filter(pk=c.obs.pk).update(version=c.obs.version + 1)
    data[f"{c.prefix}-numerator"] = str(int(c.obs.numerator) - 1 if c.obs.numerator else 0)
    response = _post(client, data)
    assert response.status_code == 422
    assert "Someone else saved this period" in response.text


def _someone_else_enters(user, measure_slug, site, start, num=5, den=10):
    measure = Measure.objects.get(slug=measure_slug, programme__slug="clabsi")
    return actions.record_observation(
        user("lead"),
        measure,
        site,
        actions.ObservationInput(period_start=start, numerator=num, denominator=den),
        expected_version=0,
    )


def test_a_later_period_added_meanwhile_does_not_shift_the_grid_or_block_the_save(
    client_for, site, user
):
    """Regression: the window used to move one period on, so the POST was checked against a
    row the editor never saw ("Enter the numerator…")."""
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    edited, empty = _cell(page, -2), _cell(page, -1)
    data[f"{edited.prefix}-numerator"] = str(int(edited.obs.numerator) - 1)
    # someone adds the empty next period shown, then the one after (outside the window)
    _someone_else_enters(user, "bundle-compliance", site("RA1-GICU"), empty.start)
    after = page.context["grid"][-1].end.replace(day=1)
    after = after.replace(month=after.month % 12 + 1, year=after.year + (after.month == 12))
    _someone_else_enters(user, "bundle-compliance", site("RA1-GICU"), after)
    response = _post(client, data)
    assert response.status_code == 302, response.context and response.context["problems"]
    edited.obs.refresh_from_db()
    assert edited.obs.numerator == int(data[f"{edited.prefix}-numerator"])
    assert Observation.objects.get(pk=_cell(_grid(client), -3).obs.pk).numerator == 5


def test_typing_into_a_period_someone_else_has_filled_is_stale(client_for, site, user):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    empty = _cell(page, -1)
    data.update({f"{empty.prefix}-numerator": "9", f"{empty.prefix}-denominator": "10"})
    _someone_else_enters(user, "bundle-compliance", site("RA1-GICU"), empty.start)
    response = _post(client, data)
    assert response.status_code == 422
    assert "Someone else saved this period" in _cell(response, -1).errors["numerator"]
    assert (
        Observation.objects.get(
            measure=empty.measure, site=site("RA1-GICU"), period_start=empty.start
        ).numerator
        == 5
    )


def test_a_row_left_as_shown_is_not_stale_when_someone_revised_it(client_for, site, user):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    untouched, edited = _cell(page, -2), _cell(page, -3)
    theirs = untouched.obs.numerator - 1
    data[f"{edited.prefix}-numerator"] = str(int(edited.obs.numerator) - 1)
    actions.record_observation(
        user("lead"),
        untouched.measure,
        site("RA1-GICU"),
        actions.ObservationInput(
            period_start=untouched.start,
            numerator=theirs,
            denominator=untouched.obs.denominator,
        ),
    )
    response = _post(client, data)
    assert response.status_code == 302
    untouched.obs.refresh_from_db()
    assert untouched.obs.numerator == theirs  # their value stands
    edited.obs.refresh_from_db()
    assert edited.obs.numerator == int(data[f"{edited.prefix}-numerator"])


def test_a_post_without_its_periods_is_refused(client_for, site):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    del data["period"]
    p = _cell(page, -1).prefix
    data.update({f"{p}-numerator": "1", f"{p}-denominator": "2"})
    response = _post(client, data)
    assert response.status_code == 422
    assert "did not say which periods" in response.text
    assert not Observation.objects.filter(
        site=site("RA1-GICU"), period_start=_cell(page, -1).start, measure__slug="bundle-compliance"
    ).exists()


def test_roles_without_write_access_cannot_open_the_grid(client_for):
    assert client_for("patient").get(_url()).status_code == 403
    assert client_for("outsider").get(_url()).status_code == 404
    assert client_for("patient").post(_url(), {"period": "2024-01-01"}).status_code == 403


# --- periods × measures ---------------------------------------------------------------------

MONTHLY = {"clabsi-rate", "bundle-compliance", "line-reinsertion"}


def test_the_measures_layout_shows_every_monthly_measure_side_by_side(client_for):
    page = _grid(client_for("site_a"), layout="measures")
    assert page.status_code == 200
    grid = page.context["grid"]
    assert len(grid) == N_PERIODS
    assert {c.measure.slug for c in grid[0].cells} == MONTHLY  # the event measure is not here
    assert all(len(c.inputs) == 2 for c in grid[0].cells)  # numerator and denominator each
    cols = [i.col for c in grid[0].cells for i in c.inputs]
    assert cols == list(range(6))
    assert "Periods × all measures" in page.text


def test_the_measures_layout_saves_several_measures_of_a_period_together(client_for, site):
    client = client_for("site_a")
    page = _grid(client, layout="measures")
    data = _form(page)
    for slug, (n, d) in {"bundle-compliance": (8, 10), "clabsi-rate": (1, 400)}.items():
        p = _cell(page, -1, slug).prefix
        data.update({f"{p}-numerator": str(n), f"{p}-denominator": str(d)})
    response = _post(client, data, layout="measures")
    assert response.status_code == 302
    assert "layout=measures" in response.url
    start = page.context["grid"][-1].start
    saved = Observation.objects.filter(site=site("RA1-GICU"), period_start=start)
    assert {o.measure.slug: o.numerator for o in saved} == {
        "bundle-compliance": 8,
        "clabsi-rate": 1,
    }


def test_measures_layout_errors_name_period_and_measure_and_nothing_is_saved(client_for, site):
    client = client_for("site_a")
    page = _grid(client, layout="measures")
    data = _form(page)
    good = _cell(page, -1, "clabsi-rate").prefix
    data.update({f"{good}-numerator": "2", f"{good}-denominator": "300"})
    bad = _cell(page, -1, "line-reinsertion")
    data.update({f"{bad.prefix}-numerator": "7", f"{bad.prefix}-denominator": "3"})
    text = _cell(page, -2, "bundle-compliance").prefix
    data[f"{text}-denominator"] = "ten"
    response = _post(client, data, layout="measures")
    assert response.status_code == 422
    problems = [msg for _, msg in response.context["problems"]]
    label = page.context["grid"][-1].label
    earlier = page.context["grid"][-2].label
    assert any(
        m.startswith(f"{label}, Central lines reinserted within 48 hours of removal, Lines")
        and "cannot be above the denominator" in m
        for m in problems
    ), problems
    assert any(
        m.startswith(f"{earlier}, Insertion and maintenance bundle compliance, Lines audited")
        and "not a number" in m
        for m in problems
    ), problems
    assert len(problems) == 2
    assert f'id="e-{bad.prefix}-numerator"' in response.text
    assert not Observation.objects.filter(
        site=site("RA1-GICU"), period_start=bad.start, measure__slug="clabsi-rate"
    ).exists()


def test_measures_layout_refuses_a_stale_cell_and_keeps_flags_and_notes(client_for, site, user):
    client = client_for("site_a")
    page = _grid(client, layout="measures")
    data = _form(page)
    c = _cell(page, -2, "line-reinsertion")
    Observation.objects.filter(pk=c.obs.pk).update(note="checked", flags=["estimated"])
    data[f"{c.prefix}-denominator"] = str(int(c.obs.denominator) + 1)
    other = _cell(page, -2, "bundle-compliance")
    Observation.objects.filter(pk=other.obs.pk).update(version=other.obs.version + 1)
    data[f"{other.prefix}-denominator"] = str(int(other.obs.denominator) + 1)
    response = _post(client, data, layout="measures")
    assert response.status_code == 422
    assert _cell(response, -2, "bundle-compliance").errors["numerator"].startswith("Someone else")
    assert any(
        "Insertion and maintenance bundle compliance" in m and "Someone else" in m
        for _, m in response.context["problems"]
    )
    c.obs.refresh_from_db()
    assert c.obs.version == 1  # all or nothing: the good cell was not saved either
    del data[f"{other.prefix}-denominator"]
    data[f"{other.prefix}-denominator"] = _cell(page, -2, "bundle-compliance").values["denominator"]
    Observation.objects.filter(pk=other.obs.pk).update(version=other.obs.version)
    response = _post(client, data, layout="measures")
    assert response.status_code == 302
    c.obs.refresh_from_db()
    assert c.obs.denominator == int(data[f"{c.prefix}-denominator"])
    assert c.obs.note == "checked" and c.obs.flags == ["estimated"]
