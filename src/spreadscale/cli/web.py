"""Commands that run the web app: demo, serve, migrate, createuser."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click

DEMO_LOGINS = ["lead", "facilitator", "site", "patient", "evaluator"]


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spreadscale.web.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from None


def _unapplied_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def _sqlite_path() -> Path | None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return Path(db["NAME"]) if db["ENGINE"].endswith("sqlite3") else None


def _backup_sqlite(path: Path) -> Path:
    """Copy the live database with SQLite's backup API (safe with WAL), to NAME.bak."""
    target = path.with_name(path.name + ".bak")
    source = sqlite3.connect(path)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return target


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _run_server(host: str, port: int) -> None:
    from waitress import serve as waitress_serve

    from spreadscale.web.wsgi import application

    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    waitress_serve(application, host=host, port=port, threads=8, ident="spreadscale")


@click.command()
@click.option("--port", default=8000, show_default=True, help="Port to serve on (127.0.0.1).")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Data directory for the demo; its database is replaced.",
)
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop.")
def demo(port: int, home: Path, no_serve: bool) -> None:
    """Build a fresh demo programme and serve it on 127.0.0.1."""
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    for name in ("spreadscale.sqlite3", "spreadscale.sqlite3-wal", "spreadscale.sqlite3-shm"):
        (home / name).unlink(missing_ok=True)
    os.environ["SPREADSCALE_HOME"] = str(home)
    os.environ["SPREADSCALE_DEMO"] = "1"
    os.environ.pop("DATABASE_URL", None)  # the demo always uses its own embedded database
    _setup_django()
    _migrate()
    from spreadscale.demo.load import DEMO_PASSWORD, load_demo

    programme = load_demo()
    url = f"http://127.0.0.1:{port}/"
    click.echo(f"Demo programme '{programme.name}' is ready in {home}.")
    click.echo(
        f"Open {url} and sign in as one of: {', '.join(DEMO_LOGINS)} (password: {DEMO_PASSWORD})."
    )
    if not no_serve:
        _run_server("127.0.0.1", port)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """Serve the web app. SQLite is migrated automatically (after a backup); PostgreSQL is not."""
    _setup_django()
    pending = _unapplied_migrations()
    sqlite_path = _sqlite_path()
    if pending:
        if sqlite_path is None:
            raise click.ClickException(
                f"The database has {len(pending)} unapplied migration(s) ({', '.join(pending[:3])}"
                f"{'…' if len(pending) > 3 else ''}). Run `spreadscale migrate` first."
            )
        if sqlite_path.exists() and sqlite_path.stat().st_size > 0:
            backup = _backup_sqlite(sqlite_path)
            click.echo(f"Backed up the database to {backup} before migrating.")
        _migrate(verbosity=1)
    _run_server(host, port)


@click.command()
def migrate() -> None:
    """Apply database migrations (SQLite is backed up first)."""
    _setup_django()
    sqlite_path = _sqlite_path()
    if sqlite_path is not None and sqlite_path.exists() and _unapplied_migrations():
        click.echo(f"Backed up the database to {_backup_sqlite(sqlite_path)}.")
    _migrate(verbosity=1)


@click.command()
@click.argument("username")
@click.option("--email", default="")
@click.option("--superuser", is_flag=True, help="May use the admin pages (data stewards).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def createuser(username: str, email: str, superuser: bool, password_stdin: bool) -> None:
    """Create a user account."""
    _setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise click.ClickException(f"A user called {username!r} already exists.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        raise click.ClickException(" ".join(exc.messages)) from None
    make = User.objects.create_superuser if superuser else User.objects.create_user
    make(username=username, email=email, password=password)
    click.echo(f"Created {'superuser' if superuser else 'user'} {username}.")


__all__ = ["createuser", "demo", "migrate", "serve"]
