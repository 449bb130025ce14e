"""The data-entry grid: per-cell validation, all-or-nothing saves, stale edits refused."""

from __future__ import annotations

from django.urls import reverse

from spreadscale.web.measurement.models import Observation


def _url():
    return reverse("measurement_entry", kwargs={"slug": "clabsi"})


def _grid(client, measure="bundle-compliance"):
    return client.get(_url(), {"measure": measure})


def _form(response):
    data = {}
    for g in response.context["grid"]:
        for f, v, _ in g.cells:
            data[f"{g.key}-{f}"] = v
        data[f"{g.key}-note"] = g.values["note"]
        data[f"{g.key}-version"] = g.values["version"]
        data[f"{g.key}-flags"] = g.values["flags"]
    return data


def test_the_grid_shows_recent_periods_and_one_empty_next_period(client_for):
    response = _grid(client_for("site_a"))
    assert response.status_code == 200
    grid = response.context["grid"]
    assert len(grid) == 12
    assert grid[-1].obs is None and grid[-2].obs is not None


def test_entering_the_next_period_saves_it(client_for, site):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    key = page.context["grid"][-1].key
    data.update(
        {f"{key}-numerator": "18", f"{key}-denominator": "20", f"{key}-flags": ["estimated"]}
    )
    response = client.post(_url() + "?measure=bundle-compliance", data)
    assert response.status_code == 302
    obs = Observation.objects.get(
        site=site("RA1-GICU"), period_start=key, measure__slug="bundle-compliance"
    )
    assert obs.numerator == 18 and obs.flags == ["estimated"]


def test_a_bad_cell_is_named_and_nothing_is_saved(client_for, site):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    last, before = page.context["grid"][-1].key, page.context["grid"][-2]
    data.update({f"{last}-numerator": "30", f"{last}-denominator": "20"})
    data[f"{before.key}-numerator"] = "abc"
    response = client.post(_url() + "?measure=bundle-compliance", data)
    assert response.status_code == 422
    grid = {g.key: g for g in response.context["grid"]}
    assert "cannot be above the denominator" in grid[last].errors["numerator"]
    assert "not a number" in grid[before.key].errors["numerator"]
    assert not Observation.objects.filter(site=site("RA1-GICU"), period_start=last).exists()


def test_a_stale_edit_is_refused_with_a_message(client_for, site):
    client = client_for("site_a")
    page = _grid(client)
    data = _form(page)
    row = page.context["grid"][-2]
    Observation.objects.filter(pk=row.obs.pk).update(version=row.obs.version + 1)
    data[f"{row.key}-numerator"] = str(int(row.obs.numerator) - 1 if row.obs.numerator else 0)
    response = client.post(_url() + "?measure=bundle-compliance", data)
    assert response.status_code == 422
    assert "Someone else saved this period" in response.text


def test_roles_without_write_access_cannot_open_the_grid(client_for):
    assert client_for("patient").get(_url()).status_code == 403
    assert client_for("outsider").get(_url()).status_code == 404
