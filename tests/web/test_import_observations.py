"""Importing observation files on the import page: preview, every bad input, all-or-nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from spreadscale.web.measurement.models import Observation

GOOD = (
    "measure,site,period,numerator,denominator,flags,note\n"
    "bundle-compliance,RA1-GICU,2027-01,18,20,,first\n"
    "bundle-compliance,RA1-GICU,2027-02,19,20,estimated,\n"
)


def _url(name="measurement_import", **kw):
    return reverse(name, kwargs={"slug": "clabsi", **kw})


def _upload(client, text, name="data.csv", **extra):
    body = text.encode() if isinstance(text, str) else text
    return client.post(_url(), {"file": SimpleUploadedFile(name, body), **extra})


def _commit(client, response):
    ctx = response.context
    data = {"token": ctx["token"], "commit": "1"}
    data.update({f"map_{k}": v for k, v in ctx["mapping"].items()})
    return client.post(_url(), data)


def _count():
    return Observation.objects.filter(period_start__year=2027).count()


def test_a_clean_file_previews_then_imports_and_reimporting_changes_nothing(client_for):
    client = client_for("site_a")
    preview = _upload(client, GOOD)
    assert preview.status_code == 200
    assert preview.context["preview"].ok
    assert _count() == 0  # the preview writes nothing
    done = _commit(client, preview)
    assert done.status_code == 302
    assert _count() == 2
    again = _commit(client, _upload(client, GOOD))
    assert again.status_code == 302
    page = client.get(_url())
    assert "0 new, 0 changed, 2 unchanged" in page.text
    assert Observation.objects.get(period_start__year=2027, period_start__month=1).version == 1


def test_a_changed_value_becomes_a_revision(client_for):
    client = client_for("site_a")
    _commit(client, _upload(client, GOOD))
    _commit(client, _upload(client, GOOD.replace(",18,20,", ",17,20,")))
    obs = Observation.objects.get(period_start__year=2027, period_start__month=1)
    assert obs.numerator == 17 and obs.version == 2
    assert obs.revisions.get().numerator == 18


def test_an_xlsx_file_imports_the_same_way(client_for):
    wb = openpyxl.Workbook()
    for line in GOOD.strip().split("\n"):
        wb.active.append(line.split(","))
    buf = io.BytesIO()
    wb.save(buf)
    client = client_for("site_a")
    response = _commit(client, _upload(client, buf.getvalue(), "data.xlsx"))
    assert response.status_code == 302
    assert _count() == 2


BAD = {
    "unknown site": ("bundle-compliance,NOPE,2027-01,1,2,,", "site", "no site 'NOPE'"),
    "unknown measure": ("nope,RA1-GICU,2027-01,1,2,,", "measure", "no measure 'nope'"),
    "bad period": ("bundle-compliance,RA1-GICU,Jan 27,1,2,,", "period", "is not a date"),
    "numerator above denominator": (
        "bundle-compliance,RA1-GICU,2027-03,30,20,,",
        "numerator",
        "cannot be above the denominator",
    ),
    "negative count": ("bundle-compliance,RA1-GICU,2027-03,-1,20,,", "numerator", "negative"),
    "text in a number": (
        "bundle-compliance,RA1-GICU,2027-03,ten,20,,",
        "numerator",
        "not a number",
    ),
    "duplicate": ("bundle-compliance,RA1-GICU,2027-01,1,20,,", "period", "duplicates row 2"),
    "another site's data": ("bundle-compliance,RB1-GICU,2027-01,1,20,,", "site", "may not enter"),
}


@pytest.mark.parametrize("case", BAD)
def test_every_bad_row_is_reported_by_row_and_column_and_nothing_is_written(case, client_for):
    line, column, message = BAD[case]
    text = GOOD.split("\n", 2)
    body = "\n".join([text[0], text[1], line]) + "\n"
    client = client_for("site_a")
    response = _upload(client, body)
    assert response.status_code == 422
    problems = response.context["preview"].problems
    assert any(p.row == 3 and p.column == column and message in p.message for p in problems), [
        str(p) for p in problems
    ]
    forced = _commit(client, response)  # committing anyway still writes nothing
    assert forced.status_code == 422
    assert _count() == 0


@pytest.mark.parametrize(
    ("body", "name", "message"),
    [
        (b"", "empty.csv", "The file is empty"),
        (b"foo,bar\n1,2\n", "wrong.csv", "no column for measure, site, period"),
        (b"not a zip", "fake.xlsx", "not a valid XLSX"),
        (b"a,b\n1,2\n", "data.pdf", "Upload a .csv or .xlsx"),
    ],
)
def test_unreadable_files_get_a_clear_message(body, name, message, client_for):
    response = _upload(client_for("site_a"), body, name)
    assert response.status_code == 422
    assert message in response.text


def test_a_formula_workbook_is_refused(client_for):
    wb = openpyxl.Workbook()
    wb.active.append(["measure", "site", "period", "numerator", "denominator"])
    wb.active.append(["bundle-compliance", "RA1-GICU", "2027-01", "=1+1", 20])
    buf = io.BytesIO()
    wb.save(buf)
    response = _upload(client_for("site_a"), buf.getvalue(), "f.xlsx")
    assert response.status_code == 422
    assert "holds a formula" in response.text


def test_a_file_above_50_mb_is_refused(client_for, settings):
    big = b"measure,site,period,value\n" + b"x" * (50 * 1024 * 1024)
    response = _upload(client_for("site_a"), big)
    assert response.status_code == 422
    assert "the limit is 50 MB" in response.text


def test_a_remapped_column_is_used_on_the_next_check(client_for):
    client = client_for("site_a")
    body = GOOD.replace("numerator,denominator", "events,cases")
    first = _upload(client, body)
    assert "denominator" not in first.context["mapping"]
    mapping = {f"map_{k}": v for k, v in first.context["mapping"].items()}
    second = client.post(
        _url(), {"token": first.context["token"], "map_denominator": 4, "check": "1", **mapping}
    )
    assert second.status_code == 200 and second.context["preview"].ok


def test_the_template_lists_the_sites_the_user_may_enter(client_for):
    response = client_for("site_a").get(
        _url("measurement_import_template", measure_slug="bundle-compliance")
    )
    lines = response.content.decode("utf-8-sig").strip().split("\r\n")
    assert lines[0] == "measure,site,period,numerator,denominator,flags,note"
    assert lines[1:] == ["bundle-compliance,RA1-GICU,,,,,"]


@pytest.mark.parametrize("persona", ["patient", "evaluator", "viewer"])
def test_roles_that_cannot_enter_data_cannot_import(persona, client_for):
    assert client_for(persona).get(_url()).status_code == 403


def test_outsiders_get_404(client_for):
    assert client_for("outsider").get(_url()).status_code == 404


def test_an_xml_bomb_workbook_is_refused_and_nothing_is_written(client_for):
    import zipfile

    wb = openpyxl.Workbook()
    wb.active.append(["measure"])
    buf = io.BytesIO()
    wb.save(buf)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData>'
        "</worksheet>"
    )
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            body = src.read(item.filename)
            z.writestr(item, bomb.encode() if item.filename == "xl/worksheets/sheet1.xml" else body)
    response = _upload(client_for("site_a"), out.getvalue(), "bomb.xlsx")
    assert response.status_code == 422
    assert "could not be read safely" in response.text
    assert _count() == 0


# --- where uploads wait, and how long ---------------------------------------------------------


@pytest.fixture
def home(settings, tmp_path):
    settings.HOME = tmp_path
    return tmp_path


def test_uploads_wait_in_the_data_directory_and_go_after_the_import(client_for, home):
    client = client_for("site_a")
    preview = _upload(client, GOOD)
    stored = home / "imports" / f"{preview.context['token']}.bin"
    assert stored.read_bytes() == GOOD.encode()
    assert _commit(client, preview).status_code == 302
    assert not stored.exists()


def test_an_abandoned_upload_is_removed_when_a_new_one_is_stored(client_for, home):
    import os
    import time

    client = client_for("site_a")
    old = _upload(client, GOOD)
    recent = _upload(client, GOOD)
    old_path = home / "imports" / f"{old.context['token']}.bin"
    recent_path = home / "imports" / f"{recent.context['token']}.bin"
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old_path, (two_days_ago, two_days_ago))
    newest = _upload(client_for("site_b"), GOOD.replace("RA1", "RB1"))
    assert not old_path.exists()
    assert recent_path.exists()  # less than a day old: kept
    assert (home / "imports" / f"{newest.context['token']}.bin").exists()
    # the abandoned preview's form now asks for the file again; nothing is imported
    gone = _commit(client, old)
    assert gone.status_code == 422 and "Choose a CSV or XLSX file" in gone.text
    assert _count() == 0


def test_an_expired_upload_is_not_imported_even_before_pruning(client_for, home):
    import os
    import time

    client = client_for("site_a")
    preview = _upload(client, GOOD)
    path = home / "imports" / f"{preview.context['token']}.bin"
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(path, (two_days_ago, two_days_ago))
    assert _commit(client, preview).status_code == 422
    assert not path.exists() and _count() == 0


def test_discard_only_touches_upload_tokens(client_for, home):
    outside = home / "keep.bin"
    outside.write_text("x")
    client = client_for("site_a")
    response = client.post(_url("measurement_import_discard"), {"token": "../keep"})
    assert response.status_code == 302
    assert outside.exists()


# --- the full problem list -------------------------------------------------------------------


def test_every_problem_downloads_as_csv_beyond_the_500_shown(client_for):
    import csv

    client = client_for("site_a")
    rows = "".join(
        f"bundle-compliance,RA1-GICU,{2100 + k // 12}-{k % 12 + 1:02d},x,20,,\n" for k in range(620)
    )
    text = GOOD.splitlines()[0] + "\n" + rows + "bundle-compliance,RB1-GICU,2027-01,1,2,,\n"
    preview = _upload(client, text)
    assert preview.status_code == 422
    problems = preview.context["preview"].problems
    assert len(problems) == 621
    assert len(preview.context["problems_shown"]) == 500
    assert "Showing the first 500." in preview.text
    assert "Download all 621 problems as CSV" in preview.text
    data = {"token": preview.context["token"], "problems": "csv"}
    data.update({f"map_{k}": v for k, v in preview.context["mapping"].items()})
    response = client.post(_url(), data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="data-problems.csv"'
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["row", "column", "message"]
    assert len(lines) == 622
    assert lines[1] == ["2", "numerator", "'x' is not a number"]
    assert lines[-1] == ["622", "site", "your role may not enter data for RB1-GICU"]
    assert _count() == 0
