"""Fidelity assessments, the FRAME adaptation log and stage gates for phase moves."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from spreadscale.analytics import fidelity as frame
from spreadscale.web.core.models import Component, Intervention, Phase, Programme, Role, Site
from spreadscale.web.measurement.models import Measure


class FidelityAssessment(models.Model):
    """One site's core functions rated for one period, by one assessor."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="fidelity_assessments"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="fidelity_assessments")
    intervention = models.ForeignKey(Intervention, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.TextField(blank=True, help_text="Private to the site team, leads and evaluators.")
    score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["site", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "intervention", "period_start"], name="one_assessment_per_period"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="assessment_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"Fidelity of {self.site.code} from {self.period_start}"


class FidelityRating(models.Model):
    assessment = models.ForeignKey(
        FidelityAssessment, on_delete=models.CASCADE, related_name="ratings"
    )
    # PROTECT: a component with ratings is retired, never deleted.
    component = models.ForeignKey(Component, on_delete=models.PROTECT, related_name="ratings")
    rating = models.CharField(max_length=20, choices=frame.RATINGS)
    evidence = models.TextField(blank=True)

    class Meta:
        ordering = ["assessment", "component__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "component"], name="one_rating_per_component"
            )
        ]

    def __str__(self) -> str:
        return f"{self.component}: {self.get_rating_display()}"


class FidelityAssessmentRevision(models.Model):
    """What an assessment said before a correction replaced it (a snapshot, never edited)."""

    assessment = models.ForeignKey(
        FidelityAssessment, on_delete=models.CASCADE, related_name="revisions"
    )
    version = models.PositiveIntegerField(help_text="The assessment's version that said this.")
    # [{"component": id, "name": name then, "rating": code, "evidence": text}], in component order
    ratings = models.JSONField(default=list)
    score = models.FloatField(null=True, blank=True)
    note = models.TextField(blank=True)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assessment", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "version"], name="one_revision_per_assessment_version"
            )
        ]

    def __str__(self) -> str:
        return f"version {self.version} of assessment {self.assessment_id}"


class Adaptation(models.Model):
    """One FRAME (or, for implementation strategies, FRAME-IS) adaptation record."""

    class Target(models.TextChoices):
        INTERVENTION = "intervention", "The intervention (FRAME)"
        STRATEGY = "strategy", "An implementation strategy (FRAME-IS)"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="adaptations")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="adaptations")
    intervention = models.ForeignKey(Intervention, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=20, choices=Target.choices, default=Target.INTERVENTION)
    strategy = models.CharField(
        max_length=200, blank=True, help_text="FRAME-IS: the implementation strategy (ERIC name)."
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    components = models.ManyToManyField(
        Component, through="AdaptationComponent", related_name="adaptations", blank=True
    )
    when_phase = models.CharField(max_length=30, choices=frame.WHEN)
    planned = models.CharField(max_length=30, choices=frame.PLANNED)
    decided_by = models.JSONField(default=list, blank=True)
    final_decider = models.CharField(max_length=30, choices=frame.DECIDED_BY, blank=True)
    participants = models.TextField(
        blank=True, help_text="Who took part in the decision: staff roles, patients, carers."
    )
    patients_involved = models.BooleanField(default=False)
    facilitator_involvement = models.TextField(blank=True)
    what_modified = models.CharField(max_length=30, blank=True)
    context_aspects = models.JSONField(default=list, blank=True)
    level = models.CharField(max_length=30, choices=frame.LEVEL, blank=True)
    content_types = models.JSONField(default=list, blank=True)
    fidelity = models.CharField(max_length=20, choices=frame.FIDELITY, default="unknown")
    fidelity_basis = models.CharField(max_length=200, blank=True)
    goals = models.JSONField(default=list, blank=True)
    # [{"level": "organisation", "code": "workforce", "note": "..."}]: a note per reason.
    reasons = models.JSONField(default=list, blank=True)
    reason_note = models.TextField(blank=True, help_text="The reasons in general, in words.")
    # Links (http/https) or references to the evidence behind the adaptation.
    evidence_links = models.JSONField(default=list, blank=True)
    linked_pdsa = models.ForeignKey(
        "improvement.PDSACycle",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="adaptations",
        help_text="The PDSA cycle (same site) that tested or led to this adaptation.",
    )
    permanence = models.CharField(max_length=20, choices=frame.PERMANENCE, blank=True)
    date_decided = models.DateField(null=True, blank=True)
    date_effective = models.DateField()
    date_ended = models.DateField(null=True, blank=True)
    measures = models.ManyToManyField(Measure, related_name="adaptations", blank=True)
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    origin = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="adoptions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-date_effective", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_ended__isnull=True)
                | models.Q(date_ended__gte=models.F("date_effective")),
                name="adaptation_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_strategy(self) -> bool:
        return self.target == self.Target.STRATEGY


class AdaptationComponent(models.Model):
    adaptation = models.ForeignKey(Adaptation, on_delete=models.CASCADE)
    # PROTECT: a component an adaptation touches is retired, never deleted.
    component = models.ForeignKey(Component, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["adaptation", "component"], name="unique_touch")
        ]

    def __str__(self) -> str:
        return f"{self.adaptation_id} touches {self.component_id}"


class StageGate(models.Model):
    """A criterion a site meets before it moves into a phase."""

    class Kind(models.TextChoices):
        FIDELITY = "fidelity_score", "Fidelity score at least"
        MEASURE = "measure_stable", "Measure stable or improving for the last n points"
        ROLE = "role_in_place", "A named role in place"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="stage_gates")
    to_phase = models.CharField(max_length=20, choices=Phase.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    threshold = models.FloatField(null=True, blank=True, help_text="Fidelity score, 0 to 1.")
    measure = models.ForeignKey(
        Measure, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    n_points = models.PositiveIntegerField(null=True, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme", "to_phase", "id"]

    def __str__(self) -> str:
        return self.description or self.get_kind_display()
