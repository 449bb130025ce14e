"""Writes for measures and observations."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from spreadscale.io.periods import PeriodError, check_period_start, period_end
from spreadscale.web.core.actions import Actor, record_event
from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.core.models import Enrolment, Programme, Site
from spreadscale.web.measurement.models import (
    DEFAULT_CHART,
    ChartAdjustment,
    ChartSettings,
    Flag,
    Granularity,
    Measure,
    Observation,
    ObservationRevision,
    new_data_token,
)

Kind = Measure.DataKind
FLAG_VALUES = frozenset(Flag.values)
GRANULARITY_VALUES = frozenset(Granularity.values)  # looked up once: enum .values is slow per row


def data_changed(measure_ids: Iterable[int]) -> None:
    """Renew the data token of measures whose observations or chart adjustments changed.

    Call it inside the write's transaction: a rollback then keeps the old token with the old data.
    """
    ids = set(measure_ids)
    if ids:
        Measure.objects.filter(pk__in=ids).update(data_token=new_data_token())


@transaction.atomic
def create_measure(actor: Actor, programme: Programme, **fields: Any) -> Measure:
    measure = Measure(programme=programme, **fields)
    measure.full_clean()
    measure.save()
    record_event(
        actor, "measure.created", measure, programme=programme, payload={"name": measure.name}
    )
    return measure


def _is_whole(x: float) -> bool:
    return float(x).is_integer()


def check_values(
    measure: Measure,
    numerator: float | None,
    denominator: float | None,
    value: float | None,
    flags: list[str] | None = None,
) -> dict[str, str]:
    """Problems with one observation's numbers, by field name; empty when all is well."""
    errors: dict[str, str] = {}
    for name, x in (("numerator", numerator), ("denominator", denominator), ("value", value)):
        if x is not None and not math.isfinite(x):
            errors[name] = "Enter a finite number."
    if errors:
        return errors
    kind = measure.data_kind
    if kind in (Kind.PROPORTION, Kind.RATE):
        if value is not None:
            errors["value"] = (
                f"{measure.name} is recorded as numerator and denominator; leave the value empty."
            )
        if numerator is None:
            errors["numerator"] = f"Enter the numerator ({measure.numerator_label or 'events'})."
        elif numerator < 0:
            errors["numerator"] = "The numerator cannot be negative."
        elif not _is_whole(numerator):
            errors["numerator"] = "The numerator counts events: enter a whole number."
        if denominator is None:
            errors["denominator"] = (
                f"Enter the denominator ({measure.denominator_label or 'population'})."
            )
        elif denominator <= 0:
            errors["denominator"] = "The denominator must be greater than zero."
        elif kind == Kind.PROPORTION and not _is_whole(denominator):
            errors["denominator"] = "The denominator counts cases: enter a whole number."
        if (
            kind == Kind.PROPORTION
            and "numerator" not in errors
            and "denominator" not in errors
            and numerator is not None
            and denominator is not None
            and numerator > denominator
        ):
            errors["numerator"] = (
                f"The numerator ({numerator:g}) cannot be above the denominator ({denominator:g})."
            )
    else:
        for name, x in (("numerator", numerator), ("denominator", denominator)):
            if x is not None:
                errors[name] = f"{measure.name} is recorded as a single value; leave {name} empty."
        if value is None:
            errors["value"] = "Enter the value."
        elif kind == Kind.COUNT and (value < 0 or not _is_whole(value)):
            errors["value"] = "A count is a whole number, zero or more."
        elif kind == Kind.TIME_BETWEEN and value < 0:
            errors["value"] = "Time between events cannot be negative."
    unknown = sorted(set(flags) - FLAG_VALUES) if flags else []
    if unknown:
        errors["flags"] = f"Unknown flag {', '.join(unknown)}; use {', '.join(Flag.values)}."
    return errors


@dataclass(frozen=True)
class ObservationInput:
    period_start: date
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    flags: tuple[str, ...] = ()
    note: str = ""
    granularity: str | None = None  # defaults to the measure's frequency
    period_end: date | None = None  # optional: checked against the start and granularity


def check_period(
    start: date, end: date | None, granularity: str
) -> tuple[date | None, dict[str, str]]:
    """The period's end date, or problems by field, for a start, optional end and granularity."""
    if granularity not in GRANULARITY_VALUES:
        return None, {
            "granularity": f"Unknown granularity {granularity!r}; use one of "
            f"{', '.join(Granularity.values)}."
        }
    if end is not None and end < start:
        return None, {
            "period_end": f"The period ends ({end.isoformat()}) before it starts "
            f"({start.isoformat()})."
        }
    try:
        check_period_start(start, granularity)
    except PeriodError as exc:
        return None, {"period_start": str(exc).capitalize() + "."}
    expected = period_end(start, granularity)
    if end is not None and end != expected:
        return None, {
            "period_end": f"A {granularity} starting {start.isoformat()} ends on "
            f"{expected.isoformat()}, not {end.isoformat()}."
        }
    return expected, {}


@transaction.atomic
def record_observation(
    actor: Actor,
    measure: Measure,
    site: Site,
    data: ObservationInput,
    *,
    expected_version: int | None = None,
) -> Observation:
    """Create or update the observation for (measure, site, period).

    ``expected_version`` is the version the editor saw: 0 for "there was none", None to
    update whatever is there (imports). A mismatch raises StaleEdit instead of overwriting.
    """
    granularity = data.granularity or measure.frequency
    errors = check_values(measure, data.numerator, data.denominator, data.value, list(data.flags))
    end, period_errors = check_period(data.period_start, data.period_end, granularity)
    errors.update(period_errors)
    if not Enrolment.objects.filter(programme_id=measure.programme_id, site=site).exists():
        errors["site"] = f"{site.code} is not part of this programme."
    if errors or end is None:
        raise ValidationError(errors)
    fields = {
        "numerator": data.numerator,
        "denominator": data.denominator,
        "value": data.value,
        "flags": sorted(set(data.flags)),
        "note": data.note.strip(),
    }
    existing = (
        Observation.objects.select_for_update()
        .filter(measure=measure, site=site, period_start=data.period_start, period_end=end)
        .first()
    )
    entered_by = actor if actor is not None and actor.is_authenticated else None
    if existing is None:
        if expected_version not in (None, 0):
            raise StaleEdit("This observation")
        obs = Observation.objects.create(
            measure=measure,
            site=site,
            period_start=data.period_start,
            period_end=end,
            granularity=granularity,
            entered_by=entered_by,
            **fields,
        )
        verb = "observation.created"
    else:
        if expected_version is not None and expected_version != existing.version:
            raise StaleEdit(f"The {measure.name} value for {data.period_start:%b %Y}")
        if all(getattr(existing, k) == v for k, v in fields.items()):
            return existing  # re-entering the same numbers changes nothing
        ObservationRevision.objects.create(
            observation=existing,
            version=existing.version,
            numerator=existing.numerator,
            denominator=existing.denominator,
            value=existing.value,
            flags=existing.flags,
            note=existing.note,
            entered_by=existing.entered_by,
        )
        updated = Observation.objects.filter(pk=existing.pk, version=existing.version).update(
            version=F("version") + 1, entered_by=entered_by, updated_at=timezone.now(), **fields
        )
        if not updated:  # pragma: no cover - select_for_update makes this a belt and braces check
            raise StaleEdit("This observation")
        obs = Observation.objects.get(pk=existing.pk)
        verb = "observation.revised"
    data_changed([measure.pk])
    record_event(
        actor,
        verb,
        obs,
        programme=measure.programme,
        site=site,
        payload={
            "measure": measure.slug,
            "period_start": data.period_start.isoformat(),
            "numerator": data.numerator,
            "denominator": data.denominator,
            "value": data.value,
            "version": obs.version,
        },
    )
    return obs


@dataclass(frozen=True)
class ObservationRow:
    """One row of an import: names rather than objects, as they come from a file or the API."""

    measure: str  # measure slug
    site: str  # site code
    period_start: date
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    flags: tuple[str, ...] = ()
    note: str = ""
    granularity: str | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based position in the input
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    revised: int = 0
    unchanged: int = 0


class ImportRejected(ValidationError):
    """Some rows are wrong; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.row_errors = errors
        super().__init__([str(e) for e in errors], code="import_rejected")


def import_observations(
    actor: Actor,
    programme: Programme,
    rows: list[ObservationRow],
    *,
    source: str = "import",
    at: Any = None,
    editable: set[int] | None = None,
) -> ImportResult:
    """Validate every row, then upsert them all in one transaction (or write nothing).

    Re-importing the same rows changes nothing; changed numbers become revisions.
    """
    keyed = validate_rows(programme, rows, editable=editable)
    return _write_rows(actor, programme, keyed, source=source, at=at)


Keyed = list[tuple[ObservationRow, Measure, int, str, date]]


def validate_rows(
    programme: Programme, rows: list[ObservationRow], *, editable: set[int] | None = None
) -> Keyed:
    """Check every row (nothing written); raise ImportRejected listing all problems.

    ``editable``: site ids the importer may write; other sites are reported by row.
    """
    measures = {m.slug: m for m in Measure.objects.filter(programme=programme)}
    enrolled = dict(
        Enrolment.objects.filter(programme=programme).values_list("site__code", "site_id")
    )
    errors: list[RowError] = []
    seen: dict[tuple[str, str, date, date], int] = {}
    keyed: list[tuple[ObservationRow, Measure, int, str, date]] = []
    for i, row in enumerate(rows, start=1):
        measure = measures.get(row.measure)
        if measure is None:
            errors.append(RowError(i, "measure", f"no measure {row.measure!r} in this programme"))
        site_id = enrolled.get(row.site)
        if site_id is None:
            errors.append(RowError(i, "site", f"no site {row.site!r} in this programme"))
        elif editable is not None and site_id not in editable:
            errors.append(RowError(i, "site", f"your role may not enter data for {row.site}"))
        if measure is None:
            continue
        for name, msg in check_values(
            measure, row.numerator, row.denominator, row.value, list(row.flags)
        ).items():
            errors.append(RowError(i, name, msg))
        granularity = row.granularity or measure.frequency
        end, period_errors = check_period(row.period_start, row.period_end, granularity)
        for name, msg in period_errors.items():
            errors.append(RowError(i, name, msg))
        if end is None:
            continue
        key = (row.measure, row.site, row.period_start, end)
        if key in seen:
            errors.append(
                RowError(i, "period", f"duplicates row {seen[key]} (same measure, site and period)")
            )
            continue
        seen[key] = i
        if site_id is not None:
            keyed.append((row, measure, site_id, granularity, end))
    if errors:
        raise ImportRejected(errors)
    return keyed


def _insert_observations(new: list[tuple]) -> None:
    """Insert new observations with one prepared statement (bulk_create compiles SQL per batch,
    which dominates a million-row import)."""
    if not new:
        return
    meta = Observation._meta
    cols = [
        "measure_id",
        "site_id",
        "period_start",
        "period_end",
        "granularity",
        "numerator",
        "denominator",
        "value",
        "flags",
        "note",
        "entered_by_id",
        "updated_at",
        "version",
    ]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in cols)}) "
        f"VALUES ({', '.join(['%s'] * len(cols))})"
    )
    now = timezone.now()
    # SQLite takes ISO text (Python's default date adapters are deprecated)
    text = connection.vendor == "sqlite"
    now_param: Any = now.isoformat() if text else now
    params = [
        (
            m,
            site,
            start.isoformat() if text else start,
            end.isoformat() if text else end,
            gran,
            num,
            den,
            val,
            json.dumps(flags),
            note,
            by,
            now_param,
            1,
        )
        for m, site, start, end, gran, num, den, val, flags, note, by in new
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # COPY streams rows without a round trip each
            copy_sql = f"COPY {qn(meta.db_table)} ({', '.join(qn(c) for c in cols)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in params:
                    copy.write_row(row)
            return
        for i in range(0, len(params), 20000):
            cursor.executemany(sql, params[i : i + 20000])


def write_rows(
    actor: Actor, programme: Programme, keyed: Keyed, *, source: str, at: Any = None
) -> ImportResult:
    """Upsert rows that :func:`validate_rows` accepted (all in one transaction)."""
    return _write_rows(actor, programme, keyed, source=source, at=at)


def _write_rows(
    actor: Actor, programme: Programme, keyed: Keyed, *, source: str, at: Any
) -> ImportResult:
    result = ImportResult()
    entered_by = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        # plain tuples, not model instances: a million-row import touches every one
        existing = {
            (r[1], r[2], r[3], r[4]): r
            for r in Observation.objects.filter(
                measure__programme=programme,
                site_id__in={k[2] for k in keyed},
                period_start__gte=min((k[0].period_start for k in keyed), default=date.min),
                period_start__lte=max((k[0].period_start for k in keyed), default=date.max),
            ).values_list(
                "pk",
                "measure_id",
                "site_id",
                "period_start",
                "period_end",
                "numerator",
                "denominator",
                "value",
                "flags",
                "note",
                "version",
                "entered_by_id",
            )
        }
        new: list[tuple] = []
        changed: list[Observation] = []
        revisions: list[ObservationRevision] = []
        now = timezone.now()
        entered_by_id = entered_by.pk if entered_by is not None else None
        for row, measure, site_id, granularity, end in keyed:
            fields = (
                row.numerator,
                row.denominator,
                row.value,
                sorted(set(row.flags)),
                row.note.strip(),
            )
            old = existing.get((measure.pk, site_id, row.period_start, end))
            if old is None:
                new.append(
                    (
                        measure.pk,
                        site_id,
                        row.period_start,
                        end,
                        granularity,
                        *fields,
                        entered_by_id,
                    )
                )
            elif tuple(old[5:10]) == fields:
                result.unchanged += 1
            else:
                pk, _, _, _, _, num, den, val, flags, note, version, by = old
                revisions.append(
                    ObservationRevision(
                        observation_id=pk,
                        version=version,
                        numerator=num,
                        denominator=den,
                        value=val,
                        flags=flags,
                        note=note,
                        entered_by_id=by,
                    )
                )
                changed.append(
                    Observation(
                        pk=pk,
                        measure_id=measure.pk,
                        site_id=site_id,
                        numerator=fields[0],
                        denominator=fields[1],
                        value=fields[2],
                        flags=fields[3],
                        note=fields[4],
                        version=version + 1,
                        entered_by_id=entered_by_id,
                        updated_at=now,
                    )
                )
        _insert_observations(new)
        ObservationRevision.objects.bulk_create(revisions, batch_size=2000)
        Observation.objects.bulk_update(
            changed,
            [
                "numerator",
                "denominator",
                "value",
                "flags",
                "note",
                "version",
                "entered_by",
                "updated_at",
            ],
            batch_size=1000,
        )
        result.created, result.revised = len(new), len(changed)
        data_changed({t[0] for t in new} | {o.measure_id for o in changed})
        per_site: dict[int, list[int]] = {}
        for t in new:
            per_site.setdefault(t[1], [0, 0])[0] += 1
        for obs in changed:
            per_site.setdefault(obs.site_id, [0, 0])[1] += 1
        for site_id, (created, revised) in sorted(per_site.items()):
            record_event(
                actor,
                "observations.imported",
                programme,
                programme=programme,
                site=site_id,
                payload={"source": source, "created": created, "revised": revised},
                at=at,
            )
    return result


def chart_settings_for(measure: Measure) -> ChartSettings:
    """The measure's saved chart settings, or the defaults (unsaved) when none were chosen."""
    saved = ChartSettings.objects.filter(measure=measure).first()
    return saved if saved is not None else chart_settings_for_unsaved(measure)


def chart_settings_for_unsaved(measure: Measure) -> ChartSettings:
    """The defaults: the measure's default chart (else one by data kind) and Anhøj rules."""
    chart = measure.default_chart or DEFAULT_CHART.get(measure.data_kind, Measure.Chart.RUN)
    return ChartSettings(measure=measure, chart=chart, rules="anhoej", version=0)


@transaction.atomic
def update_chart_settings(
    actor: Actor,
    measure: Measure,
    *,
    chart: str,
    rules: str,
    y_scale: str,
    reason: str,
    expected_version: int,
) -> ChartSettings:
    """Change the chart type, rule profile or y-scale of a measure, saying why."""
    from spreadscale.analytics.spc import PROFILES

    errors: dict[str, str] = {}
    if chart not in Measure.Chart.values:
        errors["chart"] = f"Unknown chart {chart!r}; use one of {', '.join(Measure.Chart.values)}."
    if rules not in PROFILES:
        errors["rules"] = f"Unknown rule profile {rules!r}; use one of {', '.join(PROFILES)}."
    if y_scale not in ChartSettings.YScale.values:
        errors["y_scale"] = "Choose a shared or a free y-scale."
    if not reason.strip():
        errors["reason"] = "Say why the chart changes, so others can follow the decision."
    if errors:
        raise ValidationError(errors)
    current = chart_settings_for(measure)
    before = {"chart": current.chart, "rules": current.rules, "y_scale": current.y_scale}
    if current.version != expected_version:
        raise StaleEdit(f"The chart settings of {measure.name}")
    fields = {"chart": chart, "rules": rules, "y_scale": y_scale, "reason": reason.strip()}
    changed_by = actor if actor is not None and actor.is_authenticated else None
    if current.pk is None:
        current = ChartSettings.objects.create(measure=measure, changed_by=changed_by, **fields)
    else:
        updated = ChartSettings.objects.filter(pk=current.pk, version=expected_version).update(
            version=F("version") + 1, changed_by=changed_by, changed_at=timezone.now(), **fields
        )
        if not updated:
            raise StaleEdit(f"The chart settings of {measure.name}")
        current.refresh_from_db()
    record_event(
        actor,
        "measure.chart_changed",
        measure,
        programme=measure.programme,
        payload={"measure": measure.slug, "before": before, "after": fields},
    )
    return current


@transaction.atomic
def add_adjustment(
    actor: Actor, measure: Measure, site: Site, *, kind: str, on: date, reason: str
) -> ChartAdjustment:
    """Record a phase change, frozen baseline, excluded point or dismissed proposal for a site."""
    errors: dict[str, str] = {}
    if kind not in ChartAdjustment.Kind.values:
        errors["kind"] = f"Unknown adjustment {kind!r}."
    if not reason.strip():
        errors["reason"] = "Say why (for example: new process from March)."
    if not Enrolment.objects.filter(programme_id=measure.programme_id, site=site).exists():
        errors["site"] = f"{site.code} is not part of this programme."
    if (
        kind == ChartAdjustment.Kind.EXCLUDE
        and not Observation.objects.filter(measure=measure, site=site, period_start=on).exists()
    ):
        errors["on"] = f"There is no {measure.name} value for a period starting {on:%d %b %Y}."
    if errors:
        raise ValidationError(errors)
    adj = ChartAdjustment.objects.create(
        measure=measure,
        site=site,
        kind=kind,
        on=on,
        reason=reason.strip(),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    data_changed([measure.pk])
    record_event(
        actor,
        f"chart.{kind}_added",
        adj,
        programme=measure.programme,
        site=site,
        payload={"measure": measure.slug, "on": on.isoformat(), "reason": adj.reason},
    )
    return adj


@transaction.atomic
def withdraw_adjustment(actor: Actor, adjustment: ChartAdjustment) -> ChartAdjustment:
    """Undo an adjustment; the row stays, marked withdrawn, so the history is kept."""
    if adjustment.withdrawn_at is not None:
        raise ValidationError({"adjustment": "This adjustment was already withdrawn."})
    adjustment.withdrawn_at = timezone.now()
    adjustment.withdrawn_by = actor if actor is not None and actor.is_authenticated else None
    adjustment.save(update_fields=["withdrawn_at", "withdrawn_by"])
    data_changed([adjustment.measure_id])
    record_event(
        actor,
        f"chart.{adjustment.kind}_withdrawn",
        adjustment,
        programme=adjustment.measure.programme,
        site=adjustment.site_id,
        payload={"measure": adjustment.measure.slug, "on": adjustment.on.isoformat()},
    )
    return adjustment
