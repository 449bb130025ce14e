"""All writes to the programme spine. Each validates, saves in a transaction and logs an Event."""

from __future__ import annotations

import copy
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone

from spreadscale.web.core.errors import StaleEdit
from spreadscale.web.core.models import (
    PROGRAMME_ROLES,
    SITE_ROLES,
    APIToken,
    Component,
    Enrolment,
    Event,
    Intervention,
    Membership,
    Phase,
    PhaseChange,
    Programme,
    Role,
    Site,
)

Actor = AbstractBaseUser | None

# Backfills (the demo loader, historical imports) set the time their events happened.
_event_time: ContextVar[datetime | None] = ContextVar("event_time", default=None)


@contextmanager
def events_dated(when: datetime) -> Iterator[None]:
    """Date the events recorded inside this block ``when`` instead of now."""
    token = _event_time.set(when)
    try:
        yield
    finally:
        _event_time.reset(token)


def record_event(
    actor: Actor,
    verb: str,
    obj: Model,
    *,
    programme: Programme | None = None,
    site: Site | int | None = None,
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    return Event.objects.create(
        created_at=at or _event_time.get() or timezone.now(),
        site_id=site.pk if isinstance(site, Site) else site,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        programme=programme,
        payload=payload or {},
    )


def _full_clean(obj: Model, exclude: list[str] | None = None) -> None:
    obj.full_clean(exclude=exclude, validate_constraints=True)


@transaction.atomic
def create_programme(actor: Actor, **fields: Any) -> Programme:
    programme = Programme(**fields)
    _full_clean(programme)
    programme.save()
    record_event(
        actor, "programme.created", programme, programme=programme, payload={"name": programme.name}
    )
    return programme


@transaction.atomic
def create_intervention(actor: Actor, programme: Programme, **fields: Any) -> Intervention:
    intervention = Intervention(programme=programme, **fields)
    _full_clean(intervention)
    intervention.save()
    record_event(
        actor,
        "intervention.created",
        intervention,
        programme=programme,
        payload={"name": intervention.name},
    )
    return intervention


@transaction.atomic
def add_component(actor: Actor, intervention: Intervention, **fields: Any) -> Component:
    component = Component(intervention=intervention, **fields)
    _full_clean(component)
    component.save()
    record_event(
        actor,
        "component.created",
        component,
        programme=intervention.programme,
        payload={"name": component.name, "kind": component.kind},
    )
    return component


COMPONENT_FIELDS = ("name", "kind", "description", "fidelity_criterion", "order")


@transaction.atomic
def update_component(
    actor: Actor, component: Component, *, expected_version: int, **fields: Any
) -> Component:
    """Reword, reorder or reclassify a component (optimistic locking on version)."""
    unknown = set(fields) - set(COMPONENT_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be edited here." for f in sorted(unknown)})
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    changed = [f for f in COMPONENT_FIELDS if f in fields and fields[f] != getattr(component, f)]
    # Ratings, and fidelity consistency computed from the kind, were judged against the old kind.
    if "kind" in changed and (component.ratings.exists() or component.adaptations.exists()):
        raise ValidationError(
            {
                "kind": f"{component.name} has fidelity ratings or adaptations recorded as a "
                f"{component.get_kind_display().lower()}: retire it and add a new component "
                "of the other kind instead."
            }
        )
    candidate = copy.copy(component)
    for name in changed:
        setattr(candidate, name, fields[name])
    _full_clean(candidate, exclude=["version"])
    updated = Component.objects.filter(pk=component.pk, version=expected_version).update(
        version=F("version") + (1 if changed else 0),
        **{name: getattr(candidate, name) for name in changed},
    )
    if not updated:
        raise StaleEdit("This component")
    if not changed:
        return component
    for name in changed:
        setattr(component, name, getattr(candidate, name))
    component.version = expected_version + 1
    record_event(
        actor,
        "component.updated",
        component,
        programme=component.intervention.programme,
        payload={
            "name": component.name,
            "kind": component.kind,
            "fields": changed,
            "version": component.version,
        },
    )
    return component


@transaction.atomic
def create_site(actor: Actor, *, parent: Site | None = None, **fields: Any) -> Site:
    site = Site(parent=parent, **fields)
    expected_parent = {
        Site.Level.REGION: None,
        Site.Level.ORGANISATION: Site.Level.REGION,
        Site.Level.UNIT: Site.Level.ORGANISATION,
    }.get(site.level)
    if parent is None and site.level == Site.Level.UNIT:
        raise ValidationError({"parent": "A unit belongs to an organisation; choose its parent."})
    if parent is not None and expected_parent is None:
        raise ValidationError({"parent": "A region sits at the top of the hierarchy: no parent."})
    if parent is not None and parent.level != expected_parent:
        raise ValidationError(
            {"parent": f"A {site.level} sits under a {expected_parent}, not a {parent.level}."}
        )
    _full_clean(site, exclude=["path"])
    site.save()
    site.path = f"{parent.path if parent else '/'}{site.pk}/"
    site.save(update_fields=["path"])
    record_event(actor, "site.created", site, site=site, payload={"code": site.code})
    return site


@transaction.atomic
def enrol_site(
    actor: Actor,
    programme: Programme,
    site: Site,
    *,
    phase: str = Phase.NOT_STARTED,
    enrolled_on: date | None = None,
    wave: str = "",
) -> Enrolment:
    if Enrolment.objects.filter(programme=programme, site=site).exists():
        raise ValidationError({"site": f"{site.code} is already enrolled in {programme.name}."})
    enrolment = Enrolment(
        programme=programme,
        site=site,
        phase=phase,
        phase_since=enrolled_on,
        enrolled_on=enrolled_on,
        wave=wave,
    )
    _full_clean(enrolment)
    enrolment.save()
    record_event(
        actor,
        "site.enrolled",
        enrolment,
        programme=programme,
        site=site,
        payload={"phase": phase, "wave": wave},
    )
    return enrolment


@transaction.atomic
def change_phase(
    actor: Actor,
    enrolment: Enrolment,
    *,
    to_phase: str,
    effective_on: date,
    reason: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> PhaseChange:
    """Move a site to another phase, keeping who decided, when it took effect and why."""
    errors: dict[str, str] = {}
    if to_phase not in Phase.values:
        errors["to_phase"] = f"Unknown phase {to_phase!r}."
    elif to_phase == enrolment.phase:
        errors["to_phase"] = f"The site is already {Phase(to_phase).label.lower()}."
    if not reason or not reason.strip():
        errors["reason"] = "Say why the phase changes: it becomes part of the site's story."
    if enrolment.phase_since and effective_on < enrolment.phase_since:
        errors["effective_on"] = (
            f"The current phase began on {enrolment.phase_since:%d %b %Y}; "
            "a change cannot take effect before that."
        )
    if errors:
        raise ValidationError(errors)
    version = expected_version if expected_version is not None else enrolment.version
    updated = Enrolment.objects.filter(pk=enrolment.pk, version=version).update(
        phase=to_phase, phase_since=effective_on, version=F("version") + 1
    )
    if not updated:
        raise StaleEdit("This site's phase")
    change = PhaseChange.objects.create(
        enrolment=enrolment,
        from_phase=enrolment.phase,
        to_phase=to_phase,
        effective_on=effective_on,
        reason=reason.strip(),
        changed_by=actor if actor is not None and actor.is_authenticated else None,
    )
    record_event(
        actor,
        "phase.changed",
        change,
        programme=enrolment.programme,
        site=enrolment.site,
        payload={
            "from": enrolment.phase,
            "to": to_phase,
            "effective_on": effective_on.isoformat(),
            "reason": reason.strip(),
        },
        at=at,
    )
    enrolment.refresh_from_db()
    return change


@transaction.atomic
def add_membership(
    actor: Actor,
    user: AbstractBaseUser,
    programme: Programme,
    role: str,
    site: Site | None = None,
) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if role in SITE_ROLES and site is None:
        raise ValidationError({"site": f"A {Role(role).label.lower()} works at a site; choose it."})
    if role in PROGRAMME_ROLES and site is not None:
        raise ValidationError({"site": f"A {Role(role).label.lower()} covers the whole programme."})
    if site is not None and not _site_in_programme(programme, site):
        raise ValidationError({"site": f"{site.code} is not part of {programme.name}."})
    membership, created = Membership.objects.get_or_create(
        user=user, programme=programme, role=role, site=site
    )
    if created:
        record_event(
            actor,
            "membership.added",
            membership,
            programme=programme,
            site=site,
            payload={"user": user.get_username(), "role": role},
        )
    return membership


def _site_in_programme(programme: Programme, site: Site) -> bool:
    """A site belongs to a programme if it, an ancestor or a descendant is enrolled."""
    enrolled_paths = Enrolment.objects.filter(programme=programme).values_list(
        "site__path", flat=True
    )
    return any(p.startswith(site.path) or site.path.startswith(p) for p in enrolled_paths)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_api_token(user: AbstractBaseUser, name: str) -> tuple[APIToken, str]:
    """Create a token for the user; returns the row and the token text (shown once)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after what will use it."})
    token = "ss_" + secrets.token_urlsafe(32)
    row = APIToken.objects.create(
        user=user, name=name[:100], prefix=token[:10], key_hash=_token_hash(token)
    )
    record_event(user, "api_token.created", row, payload={"name": row.name, "prefix": row.prefix})
    return row, token


@transaction.atomic
def revoke_api_token(user: AbstractBaseUser, token_id: int) -> APIToken:
    row = APIToken.objects.select_for_update().get(pk=token_id, user=user)
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record_event(
            user, "api_token.revoked", row, payload={"name": row.name, "prefix": row.prefix}
        )
    return row


def user_for_token(token: str) -> AbstractBaseUser | None:
    """The active user a token belongs to, or None. Marks the token used (at most once a minute)."""
    row = (
        APIToken.objects.select_related("user")
        .filter(key_hash=_token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        APIToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
