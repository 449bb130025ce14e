"""``spreadscale import``: load observations from a CSV/XLSX file, all or nothing."""

from __future__ import annotations

import time
from pathlib import Path

import click

from spreadscale.cli.web import _setup_django
from spreadscale.io.observations import FIELDS


def _parse_maps(maps: tuple[str, ...]) -> dict[str, str]:
    """FIELD=COLUMN options as {field: column header}; '' unmaps a field."""
    out: dict[str, str] = {}
    for item in maps:
        name, sep, column = item.partition("=")
        name = name.strip().lower()
        if not sep:
            raise click.BadParameter(f"{item!r} is not FIELD=COLUMN.", param_hint="--map")
        if name not in FIELDS:
            raise click.BadParameter(
                f"unknown field {name!r}; use one of {', '.join(FIELDS)}.", param_hint="--map"
            )
        if name in out:
            raise click.BadParameter(f"{name} is mapped twice.", param_hint="--map")
        out[name] = column.strip()
    return out


def _mapping(
    guessed: dict[str, int], overrides: dict[str, str], headers: list[str]
) -> dict[str, int]:
    """The guessed mapping with the --map choices applied (a column serves one field)."""
    mapping = dict(guessed)
    names = [h.strip() for h in headers]
    for name, column in overrides.items():
        mapping.pop(name, None)
        if not column:
            continue
        matches = [i for i, h in enumerate(names) if h == column] or [
            i for i, h in enumerate(names) if h.lower() == column.lower()
        ]
        if not matches:
            raise click.BadParameter(
                f"{name}={column}: the file has no column {column!r}; its columns are "
                f"{', '.join(repr(h) for h in names)}.",
                param_hint="--map",
            )
        if len(matches) > 1:
            raise click.BadParameter(
                f"{name}={column}: {len(matches)} columns are headed {column!r}.",
                param_hint="--map",
            )
        for other, i in list(mapping.items()):
            if i == matches[0] and other not in overrides:
                del mapping[other]  # the guess gave this column to another field
        mapping[name] = matches[0]
    taken = [n for n in overrides if n in mapping]
    for k, a in enumerate(taken):
        for b in taken[k + 1 :]:
            if mapping[a] == mapping[b]:
                raise click.BadParameter(
                    f"{a} and {b} are both mapped to {headers[mapping[a]]!r}.", param_hint="--map"
                )
    return mapping


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--programme", "slug", required=True, help="Programme slug, e.g. clabsi.")
@click.option("--as", "username", required=True, help="The user recorded as entering the data.")
@click.option("--measure", default=None, help="Measure slug, when the file has no measure column.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read FIELD from the column headed COLUMN (repeatable), e.g. --map site='Unit code'; "
    "FIELD= leaves a field unmapped. Unmapped fields are guessed from the headers, as on the "
    "import page.",
)
@click.option("--dry-run", is_flag=True, help="Check the file and report problems; write nothing.")
def import_(
    path: Path,
    slug: str,
    username: str,
    measure: str | None,
    maps: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Import observations from PATH with the same checks as the import page.

    Every problem is listed by row and column and nothing is written (exit status 2);
    importing the same file again changes nothing.
    """
    overrides = _parse_maps(maps)
    _setup_django()
    from django.contrib.auth import get_user_model
    from django.http import Http404

    from spreadscale.io.observations import guess_mapping
    from spreadscale.io.tables import TableError, read_table
    from spreadscale.web import permissions
    from spreadscale.web.core.models import Enrolment
    from spreadscale.web.measurement import actions, imports

    started = time.perf_counter()
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise click.ClickException(f"No user {username!r}.")
    try:
        access = permissions.access_for(user, slug)
    except Http404:
        raise click.ClickException(f"No programme {slug!r} that {username} belongs to.") from None
    editable = {
        sid
        for sid in Enrolment.objects.filter(programme=access.programme).values_list(
            "site_id", flat=True
        )
        if access.can_edit_site(sid)
    }
    try:
        table = read_table(path.read_bytes(), path.name)
    except TableError as exc:
        raise click.ClickException(str(exc)) from None
    mapping = _mapping(guess_mapping(table.headers), overrides, table.headers)
    preview = imports.preview(access.programme, table, mapping, editable=editable, measure=measure)
    if preview.problems:
        for p in preview.problems[:1000]:
            click.echo(str(p), err=True)
        more = len(preview.problems) - 1000
        if more > 0:
            click.echo(f"... and {more} more", err=True)
        click.echo(f"{len(preview.problems)} problems; nothing was imported.", err=True)
        raise SystemExit(2)
    if dry_run:
        click.echo(f"{len(preview.rows)} rows are fine; nothing written (--dry-run).")
        return
    try:
        result = imports.commit(
            user, access.programme, preview, editable=editable, source=path.name
        )
    except actions.ImportRejected as exc:
        for e in exc.row_errors:
            click.echo(str(e), err=True)
        raise SystemExit(2) from None
    click.echo(
        f"Imported {path.name}: {result.created} new, {result.revised} changed, "
        f"{result.unchanged} unchanged in {time.perf_counter() - started:.1f} s."
    )
