"""Upload → preview → commit for observation files (CSV/XLSX), shared by the page and the CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spreadscale.io.observations import Parsed, Problem, parse_rows
from spreadscale.io.periods import PeriodError, parse_period
from spreadscale.io.tables import Table
from spreadscale.web.core.actions import Actor
from spreadscale.web.core.models import Programme
from spreadscale.web.measurement import actions
from spreadscale.web.measurement.models import Measure


@dataclass
class Preview:
    rows: list[actions.ObservationRow] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # file row of each row
    problems: list[Problem] = field(default_factory=list)
    keyed: actions.Keyed = field(default_factory=list)  # the rows as validated

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def preview(
    programme: Programme,
    table: Table,
    mapping: dict[str, int],
    *,
    editable: set[int] | None = None,
    measure: str | None = None,
) -> Preview:
    """Every problem of the file by row and column; nothing is written."""
    parsed: Parsed = parse_rows(table, mapping, measure=measure)
    out = Preview(problems=list(parsed.problems))
    freq = dict(Measure.objects.filter(programme=programme).values_list("slug", "frequency"))
    for raw in parsed.rows:
        granularity = freq.get(raw.measure)
        if granularity is None:
            out.problems.append(
                Problem(raw.line, "measure", f"no measure {raw.measure!r} in this programme")
            )
            continue
        try:
            start, _ = parse_period(raw.period, granularity)
        except PeriodError as exc:
            out.problems.append(Problem(raw.line, "period", str(exc)))
            continue
        out.rows.append(
            actions.ObservationRow(
                measure=raw.measure,
                site=raw.site,
                period_start=start,
                numerator=raw.numerator,
                denominator=raw.denominator,
                value=raw.value,
                flags=raw.flags,
                note=raw.note,
            )
        )
        out.lines.append(raw.line)
    if out.rows:
        try:
            out.keyed = actions.validate_rows(programme, out.rows, editable=editable)
        except actions.ImportRejected as exc:
            out.problems.extend(
                Problem(out.lines[e.row - 1], e.field, _file_rows(e.message, out.lines))
                for e in exc.row_errors
            )
    out.problems.sort(key=lambda p: (p.row, p.column))
    return out


def commit(
    actor: Actor, programme: Programme, result: Preview, *, editable: set[int] | None, source: str
) -> actions.ImportResult:
    """Write a clean preview in one transaction (validated again inside the action)."""
    if not result.keyed:
        result.keyed = actions.validate_rows(programme, result.rows, editable=editable)
    return actions.write_rows(actor, programme, result.keyed, source=source)


def _file_rows(message: str, lines: list[int]) -> str:
    """Say "duplicates row 7" with the file's row number, not the position among valid rows."""
    return re.sub(
        r"duplicates row (\d+)", lambda m: f"duplicates row {lines[int(m[1]) - 1]}", message
    )
