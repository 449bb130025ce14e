"""Import (upload → mapping and preview → commit), templates and exports of measurement data."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from spreadscale.io.observations import FIELDS, Problem, guess_mapping
from spreadscale.io.tables import MAX_BYTES, TableError, read_table, write_csv, write_xlsx
from spreadscale.web import permissions
from spreadscale.web.core import selectors as core_selectors
from spreadscale.web.measurement import actions, imports
from spreadscale.web.measurement.models import Measure, Observation
from spreadscale.web.measurement.views import _measure

SESSION_KEY = "measurement_imports"
UPLOAD_TTL = 24 * 3600  # seconds an upload waits for its import before it is removed


def upload_dir() -> Path:
    """Uploads waiting for their import, in the data directory (not the shared /tmp)."""
    return Path(settings.HOME) / "imports"


def _editable(access: permissions.Access) -> set[int]:
    rows = core_selectors.site_rows(access.programme)
    return {r.enrolment.site_id for r in rows if access.can_edit_site(r.enrolment.site_id)}


def _expired(path: Path, now: float) -> bool:
    try:
        return now - path.stat().st_mtime > UPLOAD_TTL
    except FileNotFoundError:
        return True


def _stored(request: HttpRequest, token: str) -> tuple[Path, str] | None:
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if not entry:
        return None
    path = upload_dir() / f"{token}.bin"
    if _expired(path, time.time()):
        path.unlink(missing_ok=True)
        return None
    return path, entry


def prune_uploads(now: float | None = None) -> int:
    """Remove uploads older than UPLOAD_TTL (abandoned previews); the number removed."""
    now = time.time() if now is None else now
    removed = 0
    for path in upload_dir().glob("*.bin"):
        if _expired(path, now):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _store(request: HttpRequest, data: bytes, filename: str) -> str:
    directory = upload_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    prune_uploads()
    token = secrets.token_urlsafe(16)
    path = directory / f"{token}.bin"
    path.touch(mode=0o600)
    path.write_bytes(data)
    stored = request.session.get(SESSION_KEY, {})
    stored[token] = filename
    request.session[SESSION_KEY] = stored
    return token


def _forget(request: HttpRequest, token: str) -> None:
    stored = request.session.get(SESSION_KEY, {})
    stored.pop(token, None)
    request.session[SESSION_KEY] = stored
    if token and token.replace("-", "").replace("_", "").isalnum():
        (upload_dir() / f"{token}.bin").unlink(missing_ok=True)


@login_required
def import_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload a CSV/XLSX file, map its columns, see every problem, then import all or nothing."""
    access = permissions.access_for(request.user, slug)
    editable = _editable(access)
    access.require(bool(editable))
    measures = list(Measure.objects.filter(programme=access.programme))
    context: dict = {
        "programme": access.programme,
        "access": access,
        "measures": measures,
        "fields": FIELDS,
        "max_mb": MAX_BYTES // 1024 // 1024,
    }
    if request.method != "POST":
        return render(request, "measurement/import.html", context)

    token = request.POST.get("token", "")
    upload = request.FILES.get("file")
    if upload is not None:
        if upload.size > MAX_BYTES:
            context["file_error"] = (
                f"The file is {upload.size / 1024 / 1024:.0f} MB; the limit is "
                f"{MAX_BYTES // 1024 // 1024} MB. Split it into smaller files."
            )
            return render(request, "measurement/import.html", context, status=422)
        token = _store(request, upload.read(), upload.name)
    stored = _stored(request, token) if token else None
    if stored is None:
        context["file_error"] = "Choose a CSV or XLSX file to upload."
        return render(request, "measurement/import.html", context, status=422)
    path, filename = stored
    try:
        table = read_table(path.read_bytes(), filename)
    except TableError as exc:
        _forget(request, token)
        context["file_error"] = str(exc)
        return render(request, "measurement/import.html", context, status=422)

    fixed_measure = request.POST.get("measure") or None
    if upload is not None:
        mapping = guess_mapping(table.headers)
    else:
        mapping = {}
        for name in FIELDS:
            raw = request.POST.get(f"map_{name}", "")
            if raw.isdigit() and int(raw) < len(table.headers):
                mapping[name] = int(raw)
    result = imports.preview(
        access.programme, table, mapping, editable=editable, measure=fixed_measure
    )
    if request.POST.get("problems") == "csv":
        body = write_csv(
            ["row", "column", "message"],
            ([p.row or "file", p.column, p.message] for p in result.problems),
        )
        return _download(body, f"{Path(filename).stem}-problems.csv", "text/csv")
    if request.POST.get("commit") and result.ok:
        try:
            done = imports.commit(
                request.user, access.programme, result, editable=editable, source=filename
            )
        except actions.ImportRejected as exc:
            result.problems = [
                Problem(result.lines[e.row - 1], e.field, e.message) for e in exc.row_errors
            ]
        except ValidationError as exc:
            result.problems = [Problem(0, "file", m) for m in exc.messages]
        else:
            _forget(request, token)
            messages.success(
                request,
                f"Imported {filename}: {done.created} new, {done.revised} changed, "
                f"{done.unchanged} unchanged.",
            )
            return redirect("measurement_import", slug=slug)
    context.update(
        {
            "token": token,
            "filename": filename,
            "headers": list(enumerate(table.headers)),
            "mapping": mapping,
            "fixed_measure": fixed_measure,
            "preview": result,
            "n_rows": len(table.rows),
            "sample": table.rows[:5],
            "problems_shown": result.problems[:500],
        }
    )
    status = 422 if result.problems else 200
    return render(request, "measurement/import.html", context, status=status)


@login_required
def import_template(request: HttpRequest, slug: str, measure_slug: str) -> HttpResponse:
    """A CSV to fill in: the measure's columns and one row per site the user may enter."""
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    editable = _editable(access)
    access.require(bool(editable))
    rows = core_selectors.site_rows(access.programme)
    numbers = ["numerator", "denominator"] if measure.uses_ratio else ["value"]
    headers = ["measure", "site", "period", *numbers, "flags", "note"]
    body = write_csv(
        headers,
        (
            [measure.slug, r.enrolment.site.code, "", *([""] * len(numbers)), "", ""]
            for r in rows
            if r.enrolment.site_id in editable
        ),
    )
    return _download(body, f"{measure.slug}-template.csv", "text/csv")


def _download(body: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def export_observations(request: HttpRequest, slug: str, measure_slug: str, fmt: str):
    """Every readable observation of a measure as CSV or XLSX (notes only where readable)."""
    access = permissions.access_for(request.user, slug)
    measure = _measure(access, measure_slug)
    qs = (
        Observation.objects.filter(measure=measure)
        .filter(access.readable_site_filter())
        .order_by("site__code", "period_start")
        .values_list(
            "site_id",
            "site__code",
            "period_start",
            "period_end",
            "numerator",
            "denominator",
            "value",
            "flags",
            "note",
            "version",
        )
    )
    headers = [
        "measure",
        "site",
        "period",
        "period_end",
        "numerator",
        "denominator",
        "value",
        "flags",
        "note",
        "version",
    ]

    def rows():
        for sid, code, start, end, num, den, val, flags, note, version in qs.iterator(4000):
            yield [
                measure.slug,
                code,
                start.isoformat(),
                end.isoformat(),
                num,
                den,
                val,
                ",".join(flags or []),
                note if access.can_read_notes(sid) else "",
                version,
            ]

    name = f"{access.programme.slug}-{measure.slug}"
    if fmt == "csv":
        return _download(write_csv(headers, rows()), f"{name}.csv", "text/csv")
    if fmt == "xlsx":
        return _download(write_xlsx([(measure.name, headers, rows())]), f"{name}.xlsx", XLSX)
    raise Http404("Export as csv or xlsx.")


@login_required
@require_POST
def discard_import(request: HttpRequest, slug: str) -> HttpResponse:
    """Throw away an uploaded file without importing it."""
    permissions.access_for(request.user, slug)
    _forget(request, request.POST.get("token", ""))
    messages.info(request, "Upload discarded; nothing was imported.")
    return redirect("measurement_import", slug=slug)
