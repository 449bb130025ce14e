"""``spreadscale import``: the import page's checks from the command line."""

from __future__ import annotations

from click.testing import CliRunner

from spreadscale.cli.import_ import import_
from spreadscale.web.measurement.models import Observation

GOOD = (
    "measure,site,period,numerator,denominator\n"
    "bundle-compliance,RA1-GICU,2029-01,18,20\n"
    "bundle-compliance,RA1-GICU,2029-02,19,20\n"
)


def _run(tmp_path, text, *args):
    f = tmp_path / "data.csv"
    f.write_text(text)
    return CliRunner().invoke(import_, [str(f), "--programme", "clabsi", *args])


def test_the_cli_imports_a_file_and_a_second_run_changes_nothing(db, tmp_path):
    first = _run(tmp_path, GOOD, "--as", "site")
    assert first.exit_code == 0, first.output
    assert "2 new, 0 changed, 0 unchanged" in first.output
    second = _run(tmp_path, GOOD, "--as", "site")
    assert "0 new, 0 changed, 2 unchanged" in second.output
    assert Observation.objects.filter(period_start__year=2029).count() == 2


def test_the_cli_lists_every_problem_and_writes_nothing(db, tmp_path):
    bad = GOOD + "bundle-compliance,RB1-GICU,2029-03,1,2\nbundle-compliance,RA1-GICU,2029-04,x,2\n"
    result = _run(tmp_path, bad, "--as", "site")
    assert result.exit_code == 2
    assert "row 4, site: your role may not enter data for RB1-GICU" in result.output
    assert "row 5, numerator: 'x' is not a number" in result.output
    assert not Observation.objects.filter(period_start__year=2029).exists()


def test_a_dry_run_writes_nothing(db, tmp_path):
    result = _run(tmp_path, GOOD, "--as", "lead", "--dry-run")
    assert result.exit_code == 0 and "2 rows are fine" in result.output
    assert not Observation.objects.filter(period_start__year=2029).exists()


def test_an_unknown_user_or_programme_is_a_clear_error(db, tmp_path):
    assert "No user 'nobody'" in _run(tmp_path, GOOD, "--as", "nobody").output
    assert "No programme" in _run(tmp_path, GOOD, "--as", "outsider").output


ODD = (
    "Indicator code,Unit,Reporting month,Audited OK,Audited,Comment\n"
    "bundle-compliance,RA1-GICU,2029-01,18,20,checked\n"
    "bundle-compliance,RA1-GICU,2029-02,19,20,\n"
)


def test_map_reads_fields_from_columns_the_guess_does_not_know(db, tmp_path):
    unmapped = _run(tmp_path, ODD, "--as", "site")
    assert unmapped.exit_code == 2  # nothing to guess the period or counts from
    maps = [
        "--map=measure=Indicator code",
        "--map",
        "period=reporting month",  # headers match case-insensitively
        "--map",
        "numerator=Audited OK",
        "--map",
        "denominator=Audited",
    ]
    result = _run(tmp_path, ODD, "--as", "site", *maps)
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    obs = Observation.objects.get(period_start__year=2029, period_start__month=1)
    assert (obs.numerator, obs.denominator, obs.site.code) == (18, 20, "RA1-GICU")
    assert obs.note == "checked"  # "Comment" is still guessed as the note


def test_map_can_unmap_a_guessed_field(db, tmp_path):
    text = GOOD.replace("denominator\n", "denominator,note\n").replace("20\n", "20,hello\n")
    result = _run(tmp_path, text, "--as", "site", "--map", "note=")
    assert result.exit_code == 0, result.output
    assert set(
        Observation.objects.filter(period_start__year=2029).values_list("note", flat=True)
    ) == {""}


def test_map_names_an_unknown_field_or_column_and_exits_2(db, tmp_path):
    bad_field = _run(tmp_path, GOOD, "--as", "site", "--map", "sight=site")
    assert bad_field.exit_code == 2
    assert "unknown field 'sight'; use one of measure, site, period" in bad_field.output
    bad_column = _run(tmp_path, GOOD, "--as", "site", "--map", "site=Unit code")
    assert bad_column.exit_code == 2
    assert "site=Unit code: the file has no column 'Unit code'" in bad_column.output
    assert "'measure', 'site', 'period'" in bad_column.output
    not_pair = _run(tmp_path, GOOD, "--as", "site", "--map", "site")
    assert not_pair.exit_code == 2 and "is not FIELD=COLUMN" in not_pair.output
    twice = _run(
        tmp_path, GOOD, "--as", "site", "--map", "value=numerator", "--map", "numerator=numerator"
    )
    assert twice.exit_code == 2 and "both mapped to 'numerator'" in twice.output
    assert not Observation.objects.filter(period_start__year=2029).exists()
