"""Measures defined by a programme and the observations sites record against them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from spreadscale.web.core.models import Programme, Site


class Granularity(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"
    EVENT = "event", "Event (time between events)"


def new_data_token() -> str:
    return uuid.uuid4().hex


class Measure(models.Model):
    class Type(models.TextChoices):
        OUTCOME = "outcome", "Outcome"
        PROCESS = "process", "Process"
        BALANCING = "balancing", "Balancing"

    class DataKind(models.TextChoices):
        PROPORTION = "proportion", "Proportion (numerator of denominator)"
        RATE = "rate", "Rate (events per exposure)"
        COUNT = "count", "Count"
        CONTINUOUS = "continuous", "Continuous value"
        TIME_BETWEEN = "time_between", "Time between events"

    class Improvement(models.TextChoices):
        INCREASE = "increase", "Higher is better"
        DECREASE = "decrease", "Lower is better"
        NEUTRAL = "neutral", "Neither"

    class Chart(models.TextChoices):
        RUN = "run", "Run chart"
        I = "i", "I chart (XmR)"  # noqa: E741
        P = "p", "P chart"
        PP = "pp", "P′ chart (Laney)"
        U = "u", "U chart"
        UP = "up", "U′ chart (Laney)"
        C = "c", "C chart"
        G = "g", "G chart"
        T = "t", "T chart"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="measures")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    type = models.CharField(max_length=20, choices=Type.choices)
    data_kind = models.CharField(max_length=20, choices=DataKind.choices)
    unit = models.CharField(max_length=80, blank=True, help_text="e.g. 'per 1,000 line days', '%'")
    multiplier = models.FloatField(
        default=1.0, help_text="Displayed value = numerator / denominator × multiplier."
    )
    numerator_label = models.CharField(max_length=120, blank=True)
    denominator_label = models.CharField(max_length=120, blank=True)
    improvement = models.CharField(max_length=10, choices=Improvement.choices)
    target = models.FloatField(null=True, blank=True, help_text="In displayed units.")
    operational_definition = models.TextField(blank=True)
    default_chart = models.CharField(max_length=10, choices=Chart.choices)
    frequency = models.CharField(
        max_length=10, choices=Granularity.choices, default=Granularity.MONTH
    )
    order = models.PositiveIntegerField(default=0)
    data_token = models.CharField(
        max_length=32,
        default=new_data_token,
        editable=False,
        help_text="Renewed by every write to this measure's observations or chart adjustments; "
        "the board's cache is keyed on it.",
    )

    class Meta:
        ordering = ["programme", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "slug"], name="unique_measure_slug")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def uses_ratio(self) -> bool:
        return self.data_kind in (self.DataKind.PROPORTION, self.DataKind.RATE)


class Flag(models.TextChoices):
    ESTIMATED = "estimated", "Estimated"
    INCOMPLETE = "incomplete", "Incomplete"
    REVISED = "revised", "Revised"
    SUSPECT = "suspect", "Suspect"


class Observation(models.Model):
    """One measure, one site, one period. Re-entering updates it and records a revision."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="observations")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="observations")
    period_start = models.DateField()
    period_end = models.DateField()
    granularity = models.CharField(max_length=10, choices=Granularity.choices)
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["measure", "site", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "site", "period_start", "period_end"],
                name="one_observation_per_period",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="observation_period_ordered",
            ),
        ]
        indexes = [models.Index(fields=["measure", "site", "-period_start"])]

    def __str__(self) -> str:
        return f"{self.measure} at {self.site.code}, {self.period_start}"

    @property
    def display_value(self) -> float | None:
        """The value in the measure's displayed units."""
        if self.value is not None:
            return self.value
        if self.numerator is None or not self.denominator:
            return None
        return self.numerator / self.denominator * self.measure.multiplier


class ObservationRevision(models.Model):
    """The values an observation held before an edit replaced them."""

    observation = models.ForeignKey(Observation, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["observation", "version"]

    def __str__(self) -> str:
        return f"version {self.version} of {self.observation_id}"


DEFAULT_CHART = {
    Measure.DataKind.RATE: Measure.Chart.U,
    Measure.DataKind.PROPORTION: Measure.Chart.P,
    Measure.DataKind.TIME_BETWEEN: Measure.Chart.G,
    Measure.DataKind.COUNT: Measure.Chart.C,
    Measure.DataKind.CONTINUOUS: Measure.Chart.I,
}


class ChartSettings(models.Model):
    """A measure's chart type, rule profile and y-scale, as the programme chose them."""

    class YScale(models.TextChoices):
        SHARED = "shared", "Shared across sites"
        FREE = "free", "Each site its own"

    measure = models.OneToOneField(Measure, on_delete=models.CASCADE, related_name="chart_settings")
    chart = models.CharField(max_length=10, choices=Measure.Chart.choices)
    rules = models.CharField(max_length=20, default="anhoej")
    y_scale = models.CharField(max_length=10, choices=YScale.choices, default=YScale.FREE)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.measure}: {self.chart}/{self.rules}"


class ChartAdjustment(models.Model):
    """A site team's change to how one site's chart is computed: a phase, baseline or exclusion.

    Withdrawing keeps the row (who, when) so the history stays readable; a dismissed rebase
    proposal is stored as kind "dismissed" so the engine's suggestion is not shown again.
    """

    class Kind(models.TextChoices):
        PHASE = "phase", "New phase from"
        BASELINE = "baseline", "Baseline frozen until"
        EXCLUDE = "exclude", "Point excluded"
        DISMISSED = "dismissed", "Rebase proposal dismissed"

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="adjustments")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    on = models.DateField(help_text="The period start it applies to.")
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["measure", "site", "on", "pk"]
        indexes = [models.Index(fields=["measure", "site"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.on} ({self.site_id})"
