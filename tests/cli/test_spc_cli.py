"""The `spreadscale spc` command: output contract and bad-input handling."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.spc_reference import E, N, Y

from spreadscale.cli import main

POINTS = ["by", "x", "y", "n", "part", "cl", "lcl", "ucl", "sigma_signal", "runs_signal",
          "baseline", "include", "point_type", "reasons"]
SUMMARY = ["by", "part", "n_obs", "n_useful", "longest_run", "longest_run_max", "n_crossings",
           "n_crossings_min", "runs_signal", "lcl", "cl", "ucl", "sigma_signal", "variation_type",
           "assurance_type", "proposed_rebase"]


def write(path: Path, header: str, rows: list[tuple]) -> str:
    path.write_text(header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return str(path)


@pytest.fixture
def sites(tmp_path: Path) -> str:
    """Two sites with the reference series, monthly dates."""
    rows = []
    for site in ("north", "south"):
        for i, (y, n, e) in enumerate(zip(Y, N, E, strict=True)):
            rows.append((site, f"{2022 + i // 12}-{i % 12 + 1:02d}-01", y, n, e / n))
    return write(tmp_path / "sites.csv", "site,month,value,n,rate", rows)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["spc", *args])
    return result.exit_code, result.output


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open() as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_it_writes_points_and_summary_with_the_contract_columns(sites: str,
                                                                tmp_path: Path) -> None:
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "value", "--by", "site",
                    "--freeze", "12", "--points", str(tmp_path / "p.csv"),
                    "--summary", str(tmp_path / "s.csv"))
    assert code == 0, out
    head, points = read_csv(tmp_path / "p.csv")
    assert head[: len(POINTS)] == POINTS
    assert len(points) == 48
    assert points[0]["by"] == "north" and points[0]["x"] == "2022-01-01"
    head, summary = read_csv(tmp_path / "s.csv")
    assert head[: len(SUMMARY)] == SUMMARY
    assert [s["by"] for s in summary] == ["north", "south"]
    assert abs(float(summary[0]["cl"]) - 10.0125) <= 1e-4
    assert abs(float(summary[0]["ucl"]) - 14.6039) <= 1e-4
    assert summary[0]["sigma_signal"] == "2"


def test_p_chart_takes_proportions_and_denominators(sites: str) -> None:
    code, out = run(sites, "--chart", "p", "--x", "month", "--y", "rate", "--n", "n",
                    "--by", "site")
    assert code == 0, out
    summary = list(csv.DictReader(out.splitlines()))
    assert abs(float(summary[0]["cl"]) - 0.2281) <= 1e-4
    assert abs(float(summary[0]["lcl"]) - 0.1092) <= 1e-4
    assert abs(float(summary[0]["ucl"]) - 0.3469) <= 1e-4
    assert summary[0]["runs_signal"] == "true"


def test_without_by_the_by_column_is_empty(sites: str) -> None:
    code, out = run(sites, "--chart", "run", "--x", "month", "--y", "value", "--format", "json")
    assert code == 0, out
    (summary,) = json.loads(out)
    assert summary["by"] == "" and summary["n_obs"] == 24


def test_positions_phases_and_rebase_options(sites: str, tmp_path: Path) -> None:
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "value", "--by", "site",
                    "--part", "12", "--exclude", "3,7")
    assert code == 0, out
    assert [r["part"] for r in csv.DictReader(out.splitlines())] == ["1", "2", "1", "2"]
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "value", "--by", "site",
                    "--rules", "mdc", "--rebase", "2023-01-01", "--improvement", "increase",
                    "--target", "12")
    assert code == 0, out
    rows = list(csv.DictReader(out.splitlines()))
    assert abs(float(rows[1]["cl"]) - 11.7333) <= 1e-4
    assert rows[1]["assurance_type"] == "inconsistent"


def test_per_row_phase_baseline_and_exclude_columns(tmp_path: Path) -> None:
    rows = [("a", i + 1, y, "pre" if i < 12 else "post", int(i < 6), int(i == 2))
            for i, y in enumerate(Y)]
    path = write(tmp_path / "d.csv", "site,week,y,phase,base,drop", rows)
    code, out = run(path, "--chart", "i", "--x", "week", "--y", "y", "--by", "site",
                    "--phase-col", "phase", "--baseline-col", "base", "--exclude-col", "drop",
                    "--points", str(tmp_path / "p.csv"))
    assert code == 0, out
    _, points = read_csv(tmp_path / "p.csv")
    assert points[2]["include"] == "false" and points[13]["part"] == "2"
    assert points[6]["baseline"] == "false"


def test_a_sustained_shift_is_proposed_in_the_summary(tmp_path: Path) -> None:
    ys = [5, 6, 4, 5, 6, 4, 5, 6, 4, 5, 6, 4, 9, 10, 11, 9, 10, 11, 9, 10, 11, 10]
    path = write(tmp_path / "d.csv", "week,y", [(f"2024-01-{i + 1:02d}", y)
                                                for i, y in enumerate(ys)])
    code, out = run(path, "--chart", "i", "--x", "week", "--y", "y")
    assert code == 0, out
    (row,) = csv.DictReader(out.splitlines())
    assert row["proposed_rebase"] == "2024-01-13"


def test_xbar_takes_means_sizes_and_sds(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "k,m,size,sd", [(1, 10, 4, 1), (2, 11, 6, 2), (3, 9, 5, 1.5)])
    code, out = run(path, "--chart", "xbar", "--x", "k", "--y", "m", "--n", "size", "--sd", "sd")
    assert code == 0, out
    code, out = run(path, "--chart", "xbar", "--x", "k", "--y", "m", "--n", "size")
    assert code == 2 and "--sd" in out


def assert_clean_error(code: int, out: str, *needles: str) -> None:
    assert code == 2, out
    assert "Traceback" not in out
    for needle in needles:
        assert needle in out, out


def test_it_rejects_an_unknown_column(sites: str) -> None:
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "nope")
    assert_clean_error(code, out, "'nope'", "not found")


def test_it_rejects_non_numeric_values_naming_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "x,y", [(1, 2.5), (2, "abc"), (3, 4)])
    assert_clean_error(*run(path, "--chart", "i", "--x", "x", "--y", "y"), "row 2", "'y'")


def test_it_rejects_numerator_above_denominator(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "x,p,n", [(1, 0.5, 10), (2, 1.5, 10), (3, 0.2, 10)])
    assert_clean_error(*run(path, "--chart", "p", "--x", "x", "--y", "p", "--n", "n"),
                       "row 2", "column 'p'", "numerator above denominator")


def test_it_rejects_a_zero_denominator(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "x,p,n", [(1, 0.5, 10), (2, 0.5, 10), (3, 0.2, 0)])
    assert_clean_error(*run(path, "--chart", "u", "--x", "x", "--y", "p", "--n", "n"),
                       "row 3", "column 'n'", "denominator is 0")


def test_it_rejects_negative_counts(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "x,c", [(1, 3), (2, -1), (3, 4)])
    assert_clean_error(*run(path, "--chart", "c", "--x", "x", "--y", "c"),
                       "row 2", "column 'c'", "negative")


def test_it_rejects_too_few_points_for_the_chart(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "site,x,y", [("a", 1, 3), ("a", 2, 4), ("b", 1, 5)])
    assert_clean_error(*run(path, "--chart", "i", "--x", "x", "--y", "y", "--by", "site"),
                       "row 3", "column 'y'", "needs at least 2")


def test_it_rejects_bad_positions_and_flags(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "x,y,f", [(1, 3, "yes"), (2, 4, "maybe"), (3, 5, "")])
    assert_clean_error(*run(path, "--chart", "i", "--x", "x", "--y", "y", "--part", "a"),
                       "--part")
    assert_clean_error(*run(path, "--chart", "i", "--x", "x", "--y", "y", "--exclude-col", "f"),
                       "row 2", "'f'")


def test_empty_cells_are_missing_values(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "x,y", [(1, 3), (2, ""), (3, 5), (4, 4)])
    code, out = run(path, "--chart", "i", "--x", "x", "--y", "y")
    assert code == 0, out
    (row,) = csv.DictReader(out.splitlines())
    assert row["n_obs"] == "3"


def test_it_finds_a_non_numeric_value_deep_in_a_large_file(tmp_path: Path) -> None:
    # Past pyarrow's first block, whose values decide the inferred column type.
    rows = [(i, i % 7) for i in range(1, 200_000)] + [(200_000, "oops"), (200_001, "")]
    path = write(tmp_path / "d.csv", "x,y", rows)
    assert_clean_error(*run(path, "--chart", "i", "--x", "x", "--y", "y"), "row 200000", "'y'")


def test_labels_with_commas_are_quoted(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('ward,x,y\n"Ward 1, North",1,3\n"Ward 1, North",2,4\n"Ward 1, North",3,5\n')
    code, out = run(str(path), "--chart", "i", "--x", "x", "--y", "y", "--by", "ward",
                    "--points", str(tmp_path / "p.csv"))
    assert code == 0, out
    _, points = read_csv(tmp_path / "p.csv")
    assert [p["by"] for p in points] == ["Ward 1, North"] * 3
    assert float(points[0]["cl"]) == 4.0


# --- empty input, unwritable outputs -----------------------------------------------------

def test_a_csv_with_only_a_header_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("x,y\n")
    assert_clean_error(*run(str(path), "--chart", "i", "--x", "x", "--y", "y"), "no data rows")


def test_a_csv_where_every_x_is_empty_is_a_clean_error(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "x,y", [("", 1), ("", 2), ("", 3)])
    assert_clean_error(*run(path, "--chart", "run", "--x", "x", "--y", "y"),
                       "column 'x'", "missing x")


@pytest.mark.parametrize("option", ["--points", "--summary"])
def test_an_unwritable_output_exits_1_with_a_message(sites: str, tmp_path: Path,
                                                     option: str) -> None:
    # Exit 1 as for `spreadscale simulate`: the input was fine, the output place is not.
    dest = str(tmp_path / "no" / "such" / "dir" / "out.csv")
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "value", option, dest)
    assert code == 1, out
    assert "Traceback" not in out
    assert f"cannot write {dest}" in out and "does not exist" in out
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "value", option,
                    str(tmp_path))
    assert code == 1 and "is a directory" in out, out


# --- silent acceptance that is now an error --------------------------------------------

@pytest.mark.parametrize("chart", ["s", "xbar"])
def test_xbar_and_s_on_one_row_per_x_name_the_group(sites: str, chart: str) -> None:
    assert_clean_error(*run(sites, "--chart", chart, "--x", "month", "--y", "value",
                            "--by", "site"),
                       "group 'north'", "subgroup of 2 or more")


@pytest.mark.parametrize("option", ["--freeze", "--exclude", "--part"])
def test_a_position_beyond_a_group_names_the_group_and_the_option(sites: str,
                                                                  option: str) -> None:
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "value", "--by", "site",
                    option, "100")
    assert_clean_error(code, out, option, "group 'north'", "group 'south'", "24 points",
                       "position 100")


def test_infinity_in_y_is_an_error_naming_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "x,y", [(1, 2.5), (2, "inf"), (3, 4), (4, "-Infinity")])
    assert_clean_error(*run(path, "--chart", "i", "--x", "x", "--y", "y"),
                       "row 2, column 'y'", "row 4, column 'y'", "infinite")


def test_too_few_points_names_the_by_label(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "site,x,y", [("Ward 9", 1, 3), ("Ward 9", 2, 4),
                                                  ("Ward 12", 1, 5)])
    code, out = run(path, "--chart", "i", "--x", "x", "--y", "y", "--by", "site")
    assert_clean_error(code, out, "group 'Ward 12'")
    assert "group 1" not in out and "group 0" not in out


# --- quoting: the same minimal rule for both files ---------------------------------------

def test_neither_file_quotes_its_header_or_plain_text(sites: str, tmp_path: Path) -> None:
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "value", "--by", "site",
                    "--points", str(tmp_path / "p.csv"), "--summary", str(tmp_path / "s.csv"))
    assert code == 0, out
    for name in ("p.csv", "s.csv"):
        text = (tmp_path / name).read_text()
        assert '"' not in text, (name, text[:200])
        assert text.startswith("by,")
    code, out = run(sites, "--chart", "i", "--x", "month", "--y", "value")
    assert code == 0 and out.startswith("by,part,") and '"' not in out


def test_only_values_that_need_quotes_are_quoted_in_both_files(tmp_path: Path) -> None:
    rows = [(site, i + 1, y) for site in ('Ward 1, North', 'Ward "B"', "Ward C")
            for i, y in enumerate(Y[:6])]
    path = tmp_path / "d.csv"
    path.write_text("ward,x,y\n" + "".join(
        f'"{w.replace(chr(34), chr(34) * 2)}",{x},{y}\n' for w, x, y in rows))
    code, out = run(str(path), "--chart", "i", "--x", "x", "--y", "y", "--by", "ward",
                    "--points", str(tmp_path / "p.csv"), "--summary", str(tmp_path / "s.csv"))
    assert code == 0, out
    for name, width in (("p.csv", len(POINTS)), ("s.csv", len(SUMMARY))):
        lines = (tmp_path / name).read_text().splitlines()
        assert lines[0].startswith("by,") and '"' not in lines[0]
        assert [ln.split(",")[0] for ln in lines[1:] if ln.startswith("Ward C")] \
            and all(ln.startswith(('"Ward 1, North"', '"Ward ""B"""', "Ward C,"))
                    for ln in lines[1:])
        assert "common_cause" in lines[1] and '"common_cause"' not in lines[1]
        head, recs = read_csv(tmp_path / name)
        assert len(head) >= width
        assert {r["by"] for r in recs} == {"Ward 1, North", 'Ward "B"', "Ward C"}


# --- the reference table of the project SPC spec, through the command -------------------

G = [12, 30, 5, 44, 8, 19, 60, 2, 25, 33, 14, 9, 51, 27, 6, 38, 17, 22]
# call -> (chart, value column, with --n, options, rows). A row is (CL, aLCL, aUCL,
# n_useful, longest, max, crossings, min, runs signal, sigma signal), copied from the
# spec's table (qicharts2 0.8.1 output); None where it shows a dash.
REFERENCE = {
    "run y": ("run", "y", False, [], [(10.9600, None, None, 24, 4, 8, 11, 8, 0, 0)]),
    "i y": ("i", "y", False, [], [(10.8729, 5.6532, 16.0926, 24, 7, 8, 9, 8, 0, 0)]),
    "mr y": ("mr", "y", False, [], [(1.9626, 0, 6.4118, 23, 9, 8, 6, 7, 0, 0)]),
    "i y, freeze=12": ("i", "y", False, ["--freeze", "12"],
                       [(10.0125, 5.4211, 14.6039, 24, 7, 8, 11, 8, 0, 2)]),
    "i y, part=12": ("i", "y", False, ["--part", "12"],
                     [(10.0125, 5.4211, 14.6039, 12, 3, 7, 7, 3, 0, 0),
                      (11.7333, 5.5534, 17.9132, 12, 5, 7, 5, 3, 0, 0)]),
    "i y, exclude=3,7": ("i", "y", False, ["--exclude", "3,7"],
                         [(10.9100, 5.7226, 16.0974, 21, 6, 7, 7, 6, 0, 0)]),
    "p e/n": ("p", "rate", True, [], [(0.2281, 0.1092, 0.3469, 24, 6, 8, 7, 8, 1, 0)]),
    "pp e/n": ("pp", "rate", True, [], [(0.2281, 0.1329, 0.3232, 24, 6, 8, 7, 8, 1, 0)]),
    "u e/n": ("u", "rate", True, [], [(0.2281, 0.0928, 0.3633, 24, 6, 8, 7, 8, 1, 0)]),
    "c e": ("c", "e", False, [], [(25.8750, 10.6148, 41.1352, 24, 6, 8, 9, 8, 0, 0)]),
    "g g": ("g", "g", False, [], [(20.5000, 0, 95.2621, 18, 2, 7, 13, 5, 0, 0)]),
    "t g": ("t", "g", False, [], [(19.0376, 0.0005, 209.6419, 18, 2, 7, 13, 5, 0, 0)]),
}


@pytest.fixture
def reference(tmp_path: Path) -> tuple[str, str]:
    """The spec's fixtures as two CSV files: the 24-point series and the 18-point g series."""
    rows = [(i + 1, y, n, e, e / n) for i, (y, n, e) in enumerate(zip(Y, N, E, strict=True))]
    main_csv = write(tmp_path / "ref.csv", "i,y,n,e,rate", rows)
    g_csv = write(tmp_path / "g.csv", "i,g", [(i + 1, g) for i, g in enumerate(G)])
    return main_csv, g_csv


def near(cell: str, printed: float | None) -> bool:
    if printed is None:
        return cell == ""
    return abs(float(cell) - printed) <= 1e-4


@pytest.mark.parametrize("call", list(REFERENCE))
def test_the_command_reproduces_the_reference_table_row(reference: tuple[str, str],
                                                        call: str) -> None:
    chart, col, with_n, options, want = REFERENCE[call]
    path = reference[1] if col == "g" else reference[0]
    args = [path, "--chart", chart, "--x", "i", "--y", col, *options]
    if with_n:
        args += ["--n", "n"]
    code, out = run(*args)
    assert code == 0, out
    got = list(csv.DictReader(out.splitlines()))
    assert len(got) == len(want)
    for row, (cl, lcl, ucl, useful, longest, lmax, cross, cmin, runs, sigma) in zip(
            got, want, strict=True):
        assert near(row["cl"], cl) and near(row["lcl"], lcl) and near(row["ucl"], ucl), row
        assert row["n_useful"] == str(useful)
        assert (row["longest_run"], row["longest_run_max"]) == (str(longest), str(lmax))
        assert (row["n_crossings"], row["n_crossings_min"]) == (str(cross), str(cmin))
        assert row["runs_signal"] == ("true" if runs else "false")
        assert row["sigma_signal"] == str(sigma)


SCREEN = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


@pytest.mark.parametrize(("rules", "screened", "unscreened"),
                         [("anhoej", 4.6040, 6.9507), ("mdc", 4.6044, 6.9515)])
def test_the_screening_check_through_the_command(tmp_path: Path, rules: str, screened: float,
                                                 unscreened: float) -> None:
    path = write(tmp_path / "d.csv", "i,y", [(i + 1, y) for i, y in enumerate(SCREEN)])
    base = [path, "--chart", "i", "--x", "i", "--y", "y", "--rules", rules]
    code, out = run(*base)
    assert code == 0, out
    (row,) = csv.DictReader(out.splitlines())
    assert near(row["cl"], 1.9444) and near(row["ucl"], screened)
    code, out = run(*base, "--param", "screen_moving_ranges=false")
    assert code == 0, out
    (row,) = csv.DictReader(out.splitlines())
    assert near(row["cl"], 1.9444) and near(row["ucl"], unscreened)


def test_profile_parameters_are_set_with_param(reference: tuple[str, str]) -> None:
    code, out = run(reference[0], "--chart", "i", "--x", "i", "--y", "y",
                    "--param", "sigma=2", "--param", "crossings_p=0.3")
    assert code == 0, out
    (row,) = csv.DictReader(out.splitlines())
    # 2 sigma: two thirds of the 3-sigma half-width (10.8729 +- 5.2197).
    assert near(row["ucl"], 10.8729 + 2 / 3 * (16.0926 - 10.8729))
    assert row["n_crossings_min"] == "10" and row["runs_signal"] == "true"
    assert_clean_error(*run(reference[0], "--chart", "i", "--x", "i", "--y", "y",
                            "--param", "shift_length=5"), "--param", "no parameter")
    assert_clean_error(*run(reference[0], "--chart", "i", "--x", "i", "--y", "y",
                            "--param", "sigma"), "NAME=VALUE")
