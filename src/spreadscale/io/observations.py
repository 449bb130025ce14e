"""Observation files: column mapping and row parsing, with every problem named by row and column."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from spreadscale.io.tables import Table

FIELDS = ("measure", "site", "period", "numerator", "denominator", "value", "flags", "note")
REQUIRED = ("measure", "site", "period")
ALIASES = {
    "measure": ("measure", "measure_slug", "indicator"),
    "site": ("site", "site_code", "unit", "code"),
    "period": ("period", "period_start", "date", "month", "week"),
    "numerator": ("numerator", "events", "num"),
    "denominator": ("denominator", "den", "population", "exposure"),
    "value": ("value", "result"),
    "flags": ("flags", "data_quality"),
    "note": ("note", "notes", "comment"),
}


@dataclass
class Problem:
    row: int  # row number in the file (the header is row 1); 0 for the whole file
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row else ""
        return f"{where}{self.column}: {self.message}"


@dataclass
class RawRow:
    line: int  # row number in the file
    measure: str
    site: str
    period: str
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    flags: tuple[str, ...] = ()
    note: str = ""


@dataclass
class Parsed:
    rows: list[RawRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """Which file column holds each field, matched on common names (case-insensitive).

    >>> guess_mapping(["Site code", "Month", "Events", "Measure"])
    {'measure': 3, 'site': 0, 'period': 1, 'numerator': 2}
    """
    norm = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in headers]
    out: dict[str, int] = {}
    for name in FIELDS:
        for alias in ALIASES[name]:
            if alias in norm and norm.index(alias) not in out.values():
                out[name] = norm.index(alias)
                break
    return out


def _number(text: str) -> float:
    x = float(text.replace(",", "")) if text.count(",") and text.count(".") else float(text)
    if not math.isfinite(x):
        raise ValueError
    return x


def parse_rows(table: Table, mapping: dict[str, int], *, measure: str | None = None) -> Parsed:
    """Turn text rows into RawRows; ``measure`` fills the measure when the file has no column."""
    out = Parsed()
    missing = [f for f in REQUIRED if f not in mapping and not (f == "measure" and measure)]
    if missing:
        out.problems.append(
            Problem(
                0,
                ", ".join(missing),
                f"no column for {', '.join(missing)}; the file's columns are "
                f"{', '.join(repr(h) for h in table.headers)}. Expected headers: "
                f"{', '.join(FIELDS)} (download the template).",
            )
        )
        return out
    if not any(f in mapping for f in ("numerator", "denominator", "value")):
        out.problems.append(
            Problem(0, "value", "no numerator/denominator or value column in the file.")
        )
        return out
    width = len(table.headers)
    for i, cells in enumerate(table.rows):
        line = i + 2
        if not any(cells):
            continue  # blank lines inside a file are harmless
        if len(cells) > width and any(cells[width:]):
            out.problems.append(Problem(line, "row", "has more cells than the header row"))
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            j = mapping.get(name)
            return cells[j].strip() if j is not None and j < len(cells) else ""

        nums: dict[str, float | None] = {}
        ok = True
        for name in ("numerator", "denominator", "value"):
            text = cell(name)
            if not text:
                nums[name] = None
                continue
            try:
                nums[name] = _number(text)
            except ValueError:
                out.problems.append(Problem(line, name, f"{text!r} is not a number"))
                ok = False
        row_measure = cell("measure") or (measure or "")
        if not row_measure:
            out.problems.append(Problem(line, "measure", "is empty"))
            ok = False
        if not cell("site"):
            out.problems.append(Problem(line, "site", "is empty"))
            ok = False
        if not cell("period"):
            out.problems.append(Problem(line, "period", "is empty"))
            ok = False
        if not ok:
            continue
        flags = tuple(f.strip().lower() for f in cell("flags").replace(";", ",").split(",") if f)
        out.rows.append(
            RawRow(
                line=line,
                measure=row_measure,
                site=cell("site"),
                period=cell("period"),
                flags=tuple(f for f in flags if f),
                note=cell("note"),
                **nums,
            )
        )
    return out
