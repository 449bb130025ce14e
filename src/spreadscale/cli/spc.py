"""``spreadscale spc``: run and control charts for many series from one CSV file.

The CSV is read with pyarrow and handed to :func:`spreadscale.analytics.spc.spc_batch`
as columns, so a national file is charted in one vectorised pass. See docs/spc.md for
the full contract; bad input exits with status 2 and a message naming row and column.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from spreadscale.analytics.spc import (
    CHARTS,
    POINT_TYPES,
    PROFILES,
    RULE_CODES,
    SpcInputError,
    spc_batch,
)

POINT_COLUMNS = ("by", "x", "y", "n", "part", "cl", "lcl", "ucl", "sigma_signal", "runs_signal",
                 "baseline", "include", "point_type", "reasons")
SUMMARY_COLUMNS = ("by", "part", "n_obs", "n_useful", "longest_run", "longest_run_max",
                   "n_crossings", "n_crossings_min", "runs_signal", "lcl", "cl", "ucl",
                   "sigma_signal", "variation_type", "assurance_type", "proposed_rebase",
                   "rebase_evidence", "runs_reasons", "trial_limits")
_MISSING = ["", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "#N/A"]
_NUMBER = r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|inf|infinity|nan)\s*$"


class SpcCliError(click.ClickException):
    """A usage or data problem: printed as 'Error: ...' with exit status 2."""

    exit_code = 2


class SpcOutputError(click.ClickException):
    """An output file that cannot be written: 'Error: ...' with exit status 1.

    As for ``spreadscale simulate``: the input was fine, the environment was not.
    """

    exit_code = 1


#: Engine fields that are command-line options rather than columns.
_OPTIONS = {"freeze": "--freeze", "part": "--part", "exclude": "--exclude",
            "rebase": "--rebase", "shift_length": "--shift-length",
            "trend_length": "--trend-length", "rules": "--rules"}


def _param_value(text: str) -> Any:
    """A --param value: true/false, none, an integer or a number."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "off"):
        return None
    try:
        return int(low)
    except ValueError:
        pass
    try:
        return float(low)
    except ValueError:
        raise SpcCliError(f"--param value {text!r} is not true/false, none or a number") from None


def _profile(rules: str, params: tuple[str, ...]) -> Any:
    """The named profile, with --param NAME=VALUE overrides applied."""
    if not params:
        return rules
    over: dict[str, Any] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SpcCliError(f"--param takes NAME=VALUE, e.g. sigma=2; got {item!r}")
        over[name.strip()] = _param_value(value)
    try:
        return PROFILES[rules].with_params(**over)
    except ValueError as exc:
        raise SpcCliError(f"--param: {exc}") from None


def _check_writable(dest: str | None, option: str) -> None:
    """Fail before the work when an output cannot be created (exit 1, like simulate)."""
    if not dest:
        return
    path = Path(dest)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise SpcOutputError(f"cannot write {dest} ({option}): it is a directory")
    if not parent.is_dir():
        raise SpcOutputError(f"cannot write {dest} ({option}): directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise SpcOutputError(f"cannot write {dest} ({option}): permission denied")


def _int_list(value: str | None, option: str) -> list[int] | None:
    if not value:
        return None
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise SpcCliError(f"{option} takes 1-based positions like 12 or 12,24; "
                          f"got {value!r}") from None
    if any(v < 1 for v in out):
        raise SpcCliError(f"{option} positions start at 1; got {value!r}")
    return out


def _read(path: str, columns: dict[str, str]) -> pa.Table:
    """Read the needed columns; strings for labels, inferred types for the rest."""
    try:
        header = pacsv.open_csv(path).schema.names
    except (pa.ArrowInvalid, OSError) as exc:
        raise SpcCliError(f"cannot read {path}: {exc}") from None
    for role, col in columns.items():
        if col not in header:
            raise SpcCliError(f"column {col!r} (given to --{role}) not found in {path}; "
                              f"columns are: {', '.join(header)}")
    wanted = list(dict.fromkeys(columns.values()))
    text_cols = {columns[r]: pa.string() for r in ("by", "phase-col") if r in columns}
    try:
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=wanted, column_types=text_cols))
    except pa.ArrowInvalid:
        # A non-numeric value after the first block: read as text and report the rows.
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            include_columns=wanted, column_types={c: pa.string() for c in wanted},
            strings_can_be_null=True))


def _numeric(table: pa.Table, col: str) -> np.ndarray:
    """Column as float64 with NaN for missing; non-numeric text is an error naming rows."""
    arr = table.column(col).combine_chunks()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        blank = pc.is_in(pc.utf8_trim_whitespace(arr), pa.array(_MISSING))
        arr = pc.if_else(blank, pa.scalar(None, arr.type), arr)
        ok = pc.match_substring_regex(arr, _NUMBER, ignore_case=True)
        bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False).astype(bool)
                             & arr.is_valid().to_numpy(zero_copy_only=False))
        if bad.size:
            rows = ", ".join(f"row {r + 1} ({arr[int(r)].as_py()!r})" for r in bad[:5])
            raise SpcCliError(f"column {col!r}: non-numeric value at {rows}"
                              + (f" and {bad.size - 5} more" if bad.size > 5 else "")
                              + " (rows count data lines after the header; leave a cell "
                              "empty for a missing value)")
        arr = pc.cast(pc.utf8_trim_whitespace(arr), pa.float64())
    if pa.types.is_boolean(arr.type) or pa.types.is_null(arr.type):
        arr = arr.cast(pa.float64())
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        raise SpcCliError(f"column {col!r} must be numeric, found {arr.type}")
    return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)


def _flags(table: pa.Table, col: str) -> np.ndarray:
    """A flag column: true/1/yes/y/x are set; false/0/no/empty are not."""
    arr = table.column(col).combine_chunks()
    if pa.types.is_boolean(arr.type):
        return arr.fill_null(False).to_numpy(zero_copy_only=False)
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return arr.fill_null(0).to_numpy(zero_copy_only=False) != 0
    text = pc.utf8_lower(pc.utf8_trim_whitespace(arr.cast(pa.string()))).fill_null("")
    yes = pc.is_in(text, pa.array(["true", "t", "1", "yes", "y", "x"]))
    no = pc.is_in(text, pa.array(["false", "f", "0", "no", "n", ""]))
    bad = np.flatnonzero(~(yes.to_numpy(zero_copy_only=False)
                           | no.to_numpy(zero_copy_only=False)))
    if bad.size:
        r = int(bad[0])
        raise SpcCliError(f"row {r + 1}, column {col!r}: {text[r].as_py()!r} is not a flag "
                          "(use true/false, 1/0, yes/no or leave empty)")
    return yes.to_numpy(zero_copy_only=False)


def _x_values(table: pa.Table, col: str) -> tuple[np.ndarray, pa.Array]:
    """x as numbers or datetime64 (strings only when they are not dates: categorical)."""
    arr = table.column(col).combine_chunks()
    text = arr.cast(pa.string())
    if pa.types.is_string(arr.type):
        for fmt in ("%Y-%m-%d", "%Y-%m"):
            try:
                arr = pc.strptime(pc.utf8_trim_whitespace(arr), format=fmt, unit="s")
                break
            except pa.ArrowInvalid:
                continue
    if pa.types.is_timestamp(arr.type) and pc.all(pc.equal(
            arr.cast(pa.date32()).cast(arr.type), arr)).as_py() is not False:
        arr = arr.cast(pa.date32())  # whole days: keep dates, so evidence reads 2024-01-13
    if pa.types.is_date(arr.type):
        return arr.cast(pa.date32()).to_numpy(zero_copy_only=False), text
    if pa.types.is_timestamp(arr.type):
        return arr.cast(pa.timestamp("s")).to_numpy(zero_copy_only=False), text
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False), text
    if pa.types.is_null(arr.type):
        return np.full(len(arr), np.nan), text
    return np.asarray(arr.to_pylist(), dtype=object), text


def _rebase_values(value: str | None, x: np.ndarray) -> list[Any] | None:
    if not value:
        return None
    out: list[Any] = []
    for v in (s.strip() for s in value.split(",") if s.strip()):
        try:
            if x.dtype.kind == "M":
                out.append(np.datetime64(v, "s"))
            elif x.dtype.kind == "f":
                out.append(float(v))
            else:
                raise SpcCliError("--rebase needs an ordered x (numbers or dates), "
                                  "not categories")
        except ValueError:
            raise SpcCliError(f"--rebase value {v!r} does not look like an x value") from None
    return out


def _column(values: np.ndarray) -> pa.Array:
    if values.dtype.kind == "f":
        return pa.array(values, from_pandas=True)  # NaN -> empty cell
    if values.dtype.kind == "O":
        return pa.array(values.tolist())
    return pa.array(values)


def _repeated(values: np.ndarray) -> pa.Array:
    """A float column with few distinct values (limits, sizes), formatted once per value.

    Formatting floats dominates writing a big CSV; limits repeat along each part, so
    formatting the distinct values and taking them is about twice as fast.
    """
    enc = _column(values).dictionary_encode()
    return pc.take(enc.dictionary.cast(pa.string()), enc.indices)


_NEEDS_QUOTES = '[",\r\n]'


def _is_text(arr: pa.Array | pa.ChunkedArray) -> bool:
    return pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)


def _plain_text(*columns: pa.Array | pa.ChunkedArray) -> bool:
    """True when no text needs CSV quoting, so numbers formatted as text stay unquoted."""
    return not any(pc.any(pc.match_substring_regex(c, _NEEDS_QUOTES)).as_py() for c in columns)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in '",\r\n') else text


def _minimal_csv(table: pa.Table) -> bytes:
    """CSV with RFC 4180 minimal quoting: only values with a comma, quote or line break.

    pyarrow's writer quotes every string (and the header) as soon as it quotes at all;
    this path is taken only when some label needs quotes, so its speed matters less.
    """
    cells = []
    for col in table.columns:
        if _is_text(col):
            needs = pc.fill_null(pc.match_substring_regex(col, _NEEDS_QUOTES), False)
            quoted = pc.binary_join_element_wise(
                '"', pc.replace_substring(col, '"', '""'), '"', "")
            cells.append(pc.if_else(needs, quoted, col))
        else:
            cells.append(pc.cast(col, pa.string()))
    header = ",".join(_quote(name) for name in table.column_names)
    if not cells or table.num_rows == 0:
        return (header + "\n").encode()
    lines = pc.binary_join_element_wise(*cells, ",", null_handling="replace",
                                        null_replacement="")
    return (header + "\n" + "\n".join(lines.to_pylist()) + "\n").encode()


def _write(table: pa.Table, dest: str | None, fmt: str,
           safe_text: tuple[str, ...] = ()) -> None:
    """Write ``table`` as CSV or JSON to ``dest`` (stdout when None).

    CSV text is quoted only when it needs it; ``safe_text`` names text columns known to
    hold no comma, quote or line break (skipped by the check, for speed).
    """
    try:
        if fmt == "json":
            text = json.dumps(table.to_pylist(), default=str, indent=None)
            if dest is None:
                click.echo(text)
            else:
                Path(dest).write_text(text + "\n", encoding="utf-8")
            return
        texts = [table.column(i) for i, name in enumerate(table.column_names)
                 if _is_text(table.column(i)) and name not in safe_text]
        if _plain_text(*texts):
            # Nothing to quote: pyarrow's fast writer without quotes, and a plain header
            # (pyarrow would quote it).
            options = pacsv.WriteOptions(quoting_style="none", include_header=False)
            header = (",".join(table.column_names) + "\n").encode()
            if dest is None:
                sink = pa.BufferOutputStream()
                pacsv.write_csv(table, sink, write_options=options)
                sys.stdout.write((header + sink.getvalue().to_pybytes()).decode())
            else:
                with pa.OSFile(dest, "wb") as out:
                    out.write(header)
                    pacsv.write_csv(table, out, write_options=options)
            return
        data = _minimal_csv(table)
        if dest is None:
            sys.stdout.write(data.decode())
        else:
            Path(dest).write_bytes(data)
    except OSError as exc:
        if dest is None:
            raise
        reason = exc.strerror or str(exc)
        raise SpcOutputError(f"cannot write {dest}: {reason}") from None


@click.command("spc")
@click.argument("data", type=click.Path(exists=True, dir_okay=False))
@click.option("--chart", required=True, type=click.Choice(CHARTS), help="Chart type.")
@click.option("--x", "x_col", required=True, help="Column ordering the points (dates, numbers).")
@click.option("--y", "y_col", required=True, help="Value column (a ratio when --n is given).")
@click.option("--n", "n_col", help="Denominator / subgroup size column.")
@click.option("--sd", "sd_col", help="Subgroup standard deviation (xbar/s with --n).")
@click.option("--by", "by_col", help="Group (site/series) column.")
@click.option("--freeze", type=click.IntRange(min=1), help="Baseline = first K points.")
@click.option("--part", "part_", help="Positions after which a new part starts, e.g. 12,24.")
@click.option("--exclude", help="Positions left out of limits and runs, e.g. 3,7.")
@click.option("--phase-col", help="Per-row phase label column.")
@click.option("--baseline-col", help="Per-row baseline flag column.")
@click.option("--exclude-col", help="Per-row exclusion flag column.")
@click.option("--rules", type=click.Choice(sorted(PROFILES)), default="anhoej", show_default=True)
@click.option("--improvement", type=click.Choice(["increase", "decrease", "neutral"]),
              default="neutral", show_default=True)
@click.option("--target", type=float, help="Target for the assurance icon.")
@click.option("--rebase", help="x values where a new phase starts, e.g. 2024-04-01.")
@click.option("--shift-length", type=click.IntRange(min=2), help="Shift length (not anhoej).")
@click.option("--trend-length", type=click.IntRange(min=2), help="Trend length (not anhoej).")
# Output paths are checked by _check_writable (exit 1 like simulate), not by click (exit 2).
@click.option("--points", "points_out", type=click.Path(), help="Points file.")
@click.option("--summary", "summary_out", type=click.Path(), help="Summary file.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set a parameter of the rule profile, e.g. sigma=2 or "
                   "screen_moving_ranges=false (repeatable; see docs/spc.md).")
def spc(data: str, chart: str, x_col: str, y_col: str, n_col: str | None, sd_col: str | None,
        by_col: str | None, freeze: int | None, part_: str | None, exclude: str | None,
        phase_col: str | None, baseline_col: str | None, exclude_col: str | None, rules: str,
        improvement: str, target: float | None, rebase: str | None,
        shift_length: int | None, trend_length: int | None, points_out: str | None,
        summary_out: str | None, fmt: str, params: tuple[str, ...]) -> None:
    """Run and control charts for every group of DATA.csv, with signals and icons.

    Rows sharing (by, x) are one subgroup. Positions (--freeze, --part, --exclude) count
    1-based inside each group. Without --points/--summary the summary goes to stdout.
    """
    cols = {"x": x_col, "y": y_col}
    for role, col in (("n", n_col), ("sd", sd_col), ("by", by_col), ("phase-col", phase_col),
                      ("baseline-col", baseline_col), ("exclude-col", exclude_col)):
        if col:
            cols[role] = col
    if sd_col and chart not in ("xbar", "s"):
        raise SpcCliError("--sd is only for xbar and s charts")
    if chart in ("xbar", "s") and n_col and not sd_col:
        raise SpcCliError("xbar/s with --n (subgroup means and sizes) also need --sd; "
                          "without --n each row is one raw observation")
    if chart in ("p", "pp", "u", "up") and not n_col:
        raise SpcCliError(f"the {chart} chart needs --n (the denominator column)")
    profile = _profile(rules, params)
    _check_writable(points_out, "--points")
    _check_writable(summary_out, "--summary")
    table = _read(data, cols)
    if table.num_rows == 0:
        raise SpcCliError(f"{data} has no data rows (only a header): nothing to chart")
    y = _numeric(table, y_col)
    n = _numeric(table, n_col) if n_col else None
    sd = _numeric(table, sd_col) if sd_col else None
    x, x_text = _x_values(table, x_col)
    if by_col:
        by_arr = table.column(by_col).combine_chunks().fill_null("").dictionary_encode()
        group: np.ndarray = by_arr.indices.to_numpy(zero_copy_only=False)
        by_labels = by_arr.dictionary
    else:
        group, by_labels = np.zeros(len(y), np.int32), pa.array([""])
    # With a denominator, y in the file is the ratio; the engine takes numerators.
    y_engine = y * n if (n is not None and sd is None) else y
    names = {"y": y_col, "n": n_col or "n", "sd": sd_col or "sd", "x": x_col}
    try:
        res = spc_batch(
            y_engine, group=group if by_col else None, x=x, n=n, sd=sd, chart=chart,
            rules=profile, group_names=by_labels.to_pylist() if by_col else None,
            improvement=improvement, target=target, part=_int_list(part_, "--part"),
            freeze=freeze, exclude=_int_list(exclude, "--exclude"),
            phase=(table.column(phase_col).combine_chunks().fill_null("")
                   .to_numpy(zero_copy_only=False) if phase_col else None),
            baseline_flag=_flags(table, baseline_col) if baseline_col else None,
            exclude_flag=_flags(table, exclude_col) if exclude_col else None,
            rebase=_rebase_values(rebase, x),
            shift_length=shift_length, trend_length=trend_length,
        )
    except SpcInputError as exc:
        lines = []
        for row, field, msg in exc.problems[:10]:
            col = names.get(field)
            where = f"row {row + 1}, " if row is not None else ""
            if field in _OPTIONS:
                lines.append(f"{where}{_OPTIONS[field]}: {msg}")
            else:
                lines.append(f"{where}column {col!r}: {msg}" if col else f"{where}{field}: {msg}")
        more = f"\n(and {len(exc.problems) - 10} more)" if len(exc.problems) > 10 else ""
        raise SpcCliError("\n".join(lines) + more) from None

    pts, summ = res.points, res.summary
    rows = pa.array(pts["row"])
    reason_table = pa.array(["|".join(c for i, c in enumerate(RULE_CODES) if u >> i & 1)
                             for u in range(1 << len(RULE_CODES))])
    point_cols: dict[str, pa.Array] = {
        "by": pc.take(by_labels, pa.array(group[pts["row"]])),
        "x": pc.take(x_text, rows),
        "y": _column(pts["y"]),
        "n": _column(pts["n"]),
        "part": pa.array(pts["part"]),
        "cl": _column(pts["cl"]),
        "lcl": _column(pts["lcl"]),
        "ucl": _column(pts["ucl"]),
        "sigma_signal": pa.array(pts["sigma_signal"]),
        "runs_signal": pa.array(pts["runs_signal"]),
        "baseline": pa.array(pts["baseline"]),
        "include": pa.array(pts["include"]),
        "point_type": pc.take(pa.array(POINT_TYPES), pa.array(pts["point_type_code"])),
        "reasons": pc.take(reason_table, pa.array(pts["reason_mask"])),
    }
    if rules == "mdc":  # the close-to-limits band of Making Data Count
        point_cols["lcl_close"] = _column(pts["lcl_close"])
        point_cols["ucl_close"] = _column(pts["ucl_close"])
    prop_row = summ["proposed_rebase_row"]
    has_prop = prop_row >= 0
    prop_x = pc.if_else(pa.array(has_prop), pc.take(x_text, pa.array(np.maximum(prop_row, 0))),
                        pa.scalar(None, pa.string()))
    first_row = pts["row"][np.flatnonzero(np.r_[True, np.diff(pts["part"]) != 0]
                                          | np.r_[True, pts["group"][1:] != pts["group"][:-1]])]
    summary_cols: dict[str, pa.Array] = {
        "by": pc.take(by_labels, pa.array(group[first_row])),
        "part": pa.array(summ["part"]),
        "n_obs": pa.array(summ["n_obs"]),
        "n_useful": pa.array(summ["n_useful"]),
        "longest_run": pa.array(summ["longest_run"]),
        "longest_run_max": _column(summ["longest_run_max"]).cast(pa.int64()),
        "n_crossings": pa.array(summ["n_crossings"]),
        "n_crossings_min": _column(summ["n_crossings_min"]).cast(pa.int64()),
        "runs_signal": pa.array(summ["runs_signal"]),
        "lcl": _column(summ["lcl"]),
        "cl": _column(summ["cl"]),
        "ucl": _column(summ["ucl"]),
        "sigma_signal": pa.array(summ["sigma_signal"]),
        "variation_type": _column(summ["variation_type"]),
        "assurance_type": _column(summ["assurance_type"]),
        "proposed_rebase": prop_x,
        "rebase_evidence": _column(summ["rebase_evidence"]),
        "runs_reasons": _column(summ["runs_reasons"]),
        "trial_limits": pa.array(summ["trial_limits"]),
    }
    summary_table = pa.table(summary_cols)
    if points_out:
        if fmt == "csv":
            # Limits and sizes repeat along each part: format each distinct value once.
            for name in ("n", "cl", "lcl", "ucl", "lcl_close", "ucl_close"):
                if name in point_cols:
                    point_cols[name] = _repeated(pts[name])
        _write(pa.table(point_cols), points_out, fmt,
               safe_text=("n", "cl", "lcl", "ucl", "lcl_close", "ucl_close", "point_type",
                          "reasons"))
    if summary_out:
        _write(summary_table, summary_out, fmt)
    if not points_out and not summary_out:
        _write(summary_table, None, fmt)
