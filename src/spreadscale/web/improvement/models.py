"""Model for Improvement: driver diagrams, change ideas, PDSA cycles and team progress scores."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from spreadscale.web.core.models import Component, Programme, Site
from spreadscale.web.measurement.models import Measure


class DriverNode(models.Model):
    """One box of a driver diagram. Nodes form a DAG: a node may have several parents.

    A node without a site belongs to the programme's diagram; a site's diagram is the programme's
    plus the site's own nodes, which may hang under programme nodes.
    """

    class Kind(models.TextChoices):
        AIM = "aim", "Aim"
        PRIMARY = "primary", "Primary driver"
        SECONDARY = "secondary", "Secondary driver"

    RANK = {"aim": 0, "primary": 1, "secondary": 2}

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="driver_nodes")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="driver_nodes"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.CharField(max_length=300)
    detail = models.TextField(
        blank=True, help_text="For the aim: how much, by when; for a driver: why it matters."
    )
    due = models.DateField(null=True, blank=True, help_text="For the aim: by when.")
    parents = models.ManyToManyField("self", symmetrical=False, related_name="children", blank=True)
    measures = models.ManyToManyField(Measure, blank=True, related_name="driver_nodes")
    order = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["programme", "order", "id"]

    def __str__(self) -> str:
        return self.text


class DriverNodeRevision(models.Model):
    """What a node said before an edit replaced it."""

    node = models.ForeignKey(DriverNode, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    text = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    parent_ids = models.JSONField(default=list)
    measure_ids = models.JSONField(default=list)
    order = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["node", "-version"]

    def __str__(self) -> str:
        return f"version {self.version} of node {self.node_id}"


class ChangeIdea(models.Model):
    """A change to test. Programme ideas (no site) form the change package; sites hold copies."""

    class Source(models.TextChoices):
        EVIDENCE = "evidence", "Published evidence"
        SITE = "site", "Another site"
        CODESIGN = "codesign", "Patient co-design priority"
        TEAM = "team", "The team's own idea"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="change_ideas")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="change_ideas"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    component = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.SET_NULL, related_name="change_ideas"
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.TEAM)
    source_detail = models.CharField(max_length=300, blank=True, help_text="Reference or note.")
    # The idea this one was copied from: the trail along which ideas spread between sites.
    origin = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    drivers = models.ManyToManyField(DriverNode, blank=True, related_name="change_ideas")
    retired = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["programme", "title", "id"]

    def __str__(self) -> str:
        return self.title


class Act(models.TextChoices):
    ADOPT = "adopt", "Adopt"
    ADAPT = "adapt", "Adapt"
    ABANDON = "abandon", "Abandon"


class Scale(models.TextChoices):
    TEST = "test", "Test"
    IMPLEMENT = "implement", "Implement"
    SPREAD = "spread", "Spread"


class PDSACycle(models.Model):
    """One Plan–Do–Study–Act cycle testing a change idea at a site."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="pdsa_cycles")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="pdsa_cycles")
    change_idea = models.ForeignKey(ChangeIdea, on_delete=models.PROTECT, related_name="cycles")
    cycle_no = models.PositiveIntegerField()
    # The earlier cycle this one builds on: cycles chain into ramps.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_cycles"
    )
    objective = models.TextField()
    questions = models.TextField(blank=True)
    predictions = models.TextField(blank=True)
    plan_who = models.CharField("who", max_length=300, blank=True)
    plan_what = models.TextField("what", blank=True)
    plan_where = models.CharField("where", max_length=300, blank=True)
    plan_when = models.CharField("when", max_length=300, blank=True)
    data_plan = models.TextField("data to collect", blank=True)
    do_observations = models.TextField("what happened", blank=True)
    study = models.TextField("results against predictions", blank=True)
    act = models.CharField(max_length=10, choices=Act.choices, blank=True)
    act_note = models.TextField("what next", blank=True)
    adaptation = models.TextField("what was adapted", blank=True)
    scale = models.CharField(max_length=10, choices=Scale.choices, default=Scale.TEST)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    attachments = models.TextField(
        blank=True, help_text="Checklists, notes or links, pasted as text."
    )
    measures = models.ManyToManyField(Measure, blank=True, related_name="pdsa_cycles")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["site", "change_idea", "cycle_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "change_idea", "cycle_no"], name="unique_cycle_number"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="pdsa_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"PDSA {self.cycle_no}: {self.change_idea.title}"


class ProgressScore(models.Model):
    """The IHI assessment scale (1.0–5.0) for one site and month, from one rater's side."""

    class Rater(models.TextChoices):
        TEAM = "team", "Team self-assessment"
        FACILITATOR = "facilitator", "Facilitator"

    SCALE = [
        (Decimal("1.0"), "1.0 Team forming"),
        (Decimal("1.5"), "1.5 Planning begun"),
        (Decimal("2.0"), "2.0 Activity, no changes yet"),
        (Decimal("2.5"), "2.5 Changes tested, no improvement yet"),
        (Decimal("3.0"), "3.0 Modest improvement"),
        (Decimal("3.5"), "3.5 Improvement"),
        (Decimal("4.0"), "4.0 Significant improvement"),
        (Decimal("4.5"), "4.5 Sustainable improvement"),
        (Decimal("5.0"), "5.0 Outstanding sustainable results"),
    ]

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="progress_scores"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="progress_scores")
    month = models.DateField(help_text="First day of the month rated.")
    rater = models.CharField(max_length=12, choices=Rater.choices)
    score = models.DecimalField(max_digits=2, decimal_places=1, choices=SCALE)
    note = models.TextField(blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["site", "month", "rater"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "site", "month", "rater"], name="one_score_per_rater_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.site.code} {self.month:%b %Y} {self.rater}: {self.score}"
