"""``spreadscale import``: load observations from a CSV/XLSX file, all or nothing."""

from __future__ import annotations

import time
from pathlib import Path

import click

from spreadscale.cli.web import _setup_django


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--programme", "slug", required=True, help="Programme slug, e.g. clabsi.")
@click.option("--as", "username", required=True, help="The user recorded as entering the data.")
@click.option("--measure", default=None, help="Measure slug, when the file has no measure column.")
@click.option("--dry-run", is_flag=True, help="Check the file and report problems; write nothing.")
def import_(path: Path, slug: str, username: str, measure: str | None, dry_run: bool) -> None:
    """Import observations from PATH with the same checks as the import page.

    Every problem is listed by row and column and nothing is written (exit status 2);
    importing the same file again changes nothing.
    """
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
    preview = imports.preview(
        access.programme, table, guess_mapping(table.headers), editable=editable, measure=measure
    )
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
