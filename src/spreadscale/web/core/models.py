"""The programme spine: programmes, interventions, sites, phases, memberships and the event log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Programme(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    aim = models.TextField(
        blank=True, help_text="What the programme sets out to achieve, how much, by when."
    )
    description = models.TextField(blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="programme_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Intervention(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="interventions")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["programme", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """A part of an intervention: a core function to keep, or a form that sites may adapt."""

    class Kind(models.TextChoices):
        CORE_FUNCTION = "core_function", "Core function"
        ADAPTABLE_FORM = "adaptable_form", "Adaptable form"

    intervention = models.ForeignKey(
        Intervention, on_delete=models.CASCADE, related_name="components"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(blank=True)
    fidelity_criterion = models.TextField(
        blank=True, help_text="How an assessor tells that this component is delivered as intended."
    )
    order = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["intervention", "order", "name"]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """An organisation or unit; sites form a hierarchy region → organisation → unit."""

    class Level(models.TextChoices):
        REGION = "region", "Region"
        ORGANISATION = "organisation", "Organisation"
        UNIT = "unit", "Unit"

    class Kind(models.TextChoices):
        REGION = "region", "Region"
        HOSPITAL = "hospital", "Hospital"
        WARD = "ward", "Ward or unit"
        GENERAL_PRACTICE = "general_practice", "General practice"
        CARE_HOME = "care_home", "Care home"
        SCHOOL = "school", "School"
        COMMUNITY = "community", "Community service"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    code = models.CharField(max_length=40, unique=True)
    level = models.CharField(max_length=20, choices=Level.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of ancestor ids ("/3/17/42/"): descendants are one LIKE query away.
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    population_served = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


class Phase(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    PREPARING = "preparing", "Preparing"
    TESTING = "testing", "Testing"
    IMPLEMENTING = "implementing", "Implementing"
    SUSTAINING = "sustaining", "Sustaining"
    ABANDONED = "abandoned", "Abandoned"


class Enrolment(models.Model):
    """A site taking part in a programme, with its current phase."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="enrolments")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="enrolments")
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.NOT_STARTED)
    phase_since = models.DateField(null=True, blank=True)
    enrolled_on = models.DateField(null=True, blank=True)
    wave = models.CharField(max_length=40, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["programme", "site__path"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "site"], name="one_enrolment_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site} in {self.programme}"


class PhaseChange(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="phase_changes")
    from_phase = models.CharField(max_length=20, choices=Phase.choices, blank=True)
    to_phase = models.CharField(max_length=20, choices=Phase.choices)
    effective_on = models.DateField()
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["enrolment", "effective_on", "id"]

    def __str__(self) -> str:
        return f"{self.from_phase or '—'} → {self.to_phase} on {self.effective_on}"


class Role(models.TextChoices):
    LEAD = "lead", "Programme lead"
    FACILITATOR = "facilitator", "Facilitator"
    SITE_LEAD = "site_lead", "Site lead"
    SITE_MEMBER = "site_member", "Site team member"
    PATIENT = "patient", "Patient or carer partner"
    EVALUATOR = "evaluator", "Evaluator"
    VIEWER = "viewer", "Viewer"


# Roles that must name a site, and roles that act on the whole programme.
SITE_ROLES = {Role.FACILITATOR, Role.SITE_LEAD, Role.SITE_MEMBER}
PROGRAMME_ROLES = {Role.LEAD, Role.EVALUATOR, Role.VIEWER}


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text="For site roles and facilitators: the site (and every site below it).",
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme", "role", "user"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "programme", "site", "role"], name="unique_membership"
            ),
            models.UniqueConstraint(
                fields=["user", "programme", "role"],
                condition=models.Q(site__isnull=True),
                name="unique_programme_membership",
            ),
        ]

    def __str__(self) -> str:
        where = f" at {self.site.code}" if self.site_id else ""
        return f"{self.user} — {self.get_role_display()}{where}"


# How timelines describe each kind of event: a format string over the payload, or a function.
# Other apps add their verbs in AppConfig.ready().
EVENT_DESCRIPTIONS: dict[str, str] = {
    "programme.created": "Programme set up: {name}",
    "intervention.created": "Intervention described: {name}",
    "component.created": "Component added: {name}",
    "component.updated": "Component updated: {name} ({field_list}; version {version})",
    "site.created": "Site {code} added",
    "site.enrolled": "Enrolled in the programme",
    "phase.changed": "Phase changed from {from_label} to {to_label}: {reason}",
    "membership.added": "{user} joined as {role_label}",
    "measure.created": "Measure defined: {name}",
    "observation.created": "Value entered: {measure}, period from {period_start}",
    "observation.revised": "Value revised: {measure}, period from {period_start} (version {version})",
    "observations.imported": "{created} new and {revised} revised values ({source})",
    "api_token.created": "API token created: {name}",
    "api_token.revoked": "API token revoked: {name}",
    "admin.changed": "Changed in the admin: {model} “{object}” ({field_list})",
    "admin.deleted": "Deleted in the admin: {model} “{object}”",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("events are append-only")


class Event(models.Model):
    """One row per write: the audit trail and the raw material of the programme timeline."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    verb = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    payload = models.JSONField(default=dict, blank=True)
    # When it happened; the demo loader and backfills pass a historical time.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["programme", "site", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.verb} {self.object_type} {self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("events are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("events are append-only")

    @property
    def summary(self) -> str:
        """One sentence for timelines, from the verb and its payload."""
        template = EVENT_DESCRIPTIONS.get(self.verb)
        if template is None:
            return self.verb.replace(".", " ").replace("_", " ").capitalize()
        values = _Blank(self.payload if isinstance(self.payload, dict) else {})
        for key in ("from", "to"):
            if values.get(key) in Phase.values:
                values[f"{key}_label"] = Phase(values[key]).label.lower()
        if isinstance(values.get("fields"), list):
            values["field_list"] = ", ".join(map(str, values["fields"])) or "no field"
        if values.get("role") in Role.values:
            values["role_label"] = Role(values["role"]).label.lower()
        return template.format_map(values)


class APIToken(models.Model):
    """A personal API token. Only a hash is stored; the token is shown once, when created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(
        max_length=100, help_text="What the token is for, e.g. 'nightly import'."
    )
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
