"""The commands that run the web app: migrate (with a backup), serve's refusal, createuser."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

SPREADSCALE = [sys.executable, "-m", "spreadscale.cli"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(SPREADSCALE_HOME=str(home), SPREADSCALE_SECRET_KEY="x" * 50, **extra)
    return env


def _run(args: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(SPREADSCALE + args, env=env, capture_output=True, text=True, timeout=120, **kw)


def test_migrate_backs_up_an_existing_sqlite_database_before_changing_it(tmp_path):
    env = _env(tmp_path)
    assert _run(["migrate"], env).returncode == 0
    db = tmp_path / "spreadscale.sqlite3"
    assert db.exists() and not (tmp_path / "spreadscale.sqlite3.bak").exists()
    # roll one app back so there is something to apply, as after an upgrade
    subprocess.run([sys.executable, "-m", "django", "migrate", "measurement", "zero", "-v0"],
                   env={**env, "DJANGO_SETTINGS_MODULE": "spreadscale.web.settings"}, check=True)
    result = _run(["migrate"], env)
    assert result.returncode == 0, result.stderr
    assert "Backed up the database" in result.stdout
    assert (tmp_path / "spreadscale.sqlite3.bak").stat().st_size > 0


def test_settings_refuse_to_start_without_a_secret_key_outside_demo_mode(tmp_path):
    env = _env(tmp_path)
    del env["SPREADSCALE_SECRET_KEY"]
    result = _run(["migrate"], env)
    assert result.returncode == 1
    assert "SPREADSCALE_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_createuser_makes_an_account_that_can_sign_in(tmp_path):
    env = _env(tmp_path)
    _run(["migrate"], env)
    result = _run(["createuser", "amira", "--password-stdin"], env, input="a-long-enough-passphrase\n")
    assert result.returncode == 0, result.stderr
    again = _run(["createuser", "amira", "--password-stdin"], env, input="a-long-enough-passphrase\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    weak = _run(["createuser", "bo", "--password-stdin"], env, input="123\n")
    assert weak.returncode == 1 and "too short" in weak.stderr


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: runs in the PostgreSQL pass of .ci/run",
)
def test_serve_refuses_to_start_on_a_postgresql_database_with_unapplied_migrations(tmp_path):
    import psycopg

    db = settings.DATABASES["default"]
    name = f"spreadscale_refuse_{uuid.uuid4().hex[:8]}"
    dsn = dict(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True)
    with psycopg.connect(**dsn) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
        result = _run(["serve", "--port", "0"], _env(tmp_path, DATABASE_URL=url))
        assert result.returncode == 1
        assert "unapplied migration" in result.stderr and "spreadscale migrate" in result.stderr
    finally:
        with psycopg.connect(**dsn) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_backs_up_and_migrates_an_sqlite_database_then_serves_it(tmp_path):
    import time
    import urllib.request

    env = _env(tmp_path)
    assert _run(["migrate"], env).returncode == 0
    subprocess.run([sys.executable, "-m", "django", "migrate", "measurement", "zero", "-v0"],
                   env={**env, "DJANGO_SETTINGS_MODULE": "spreadscale.web.settings"}, check=True)
    port = _free_port()
    server = subprocess.Popen([*SPREADSCALE, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line)
            if "Serving on" in line:
                break
        output = "".join(lines)
        assert "Backed up the database" in output, output
        assert (tmp_path / "spreadscale.sqlite3.bak").stat().st_size > 0
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/") as page:
                    assert page.status == 200
                    assert b"Sign in" in page.read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not answer")
        # nothing left to apply: the next start serves without a new backup
        check = _run(["migrate"], env)
        assert "Backed up" not in check.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
