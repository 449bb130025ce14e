from __future__ import annotations

from datetime import date

from django import forms
from django.db.models import Q

from spreadscale.web.core.models import Component
from spreadscale.web.improvement.models import (
    Act,
    ChangeIdea,
    DriverNode,
    PDSACycle,
    ProgressScore,
    Scale,
)
from spreadscale.web.measurement.models import Measure

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NodeForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of box", choices=DriverNode.Kind.choices)
    text = forms.CharField(label="Wording", max_length=300)
    detail = forms.CharField(
        label="Detail",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For the aim: how much, by when. For a driver: why it matters.",
    )
    due = forms.DateField(label="By when (aim only)", required=False, widget=DATE)
    parents = forms.ModelMultipleChoiceField(
        label="Contributes to",
        queryset=DriverNode.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    measures = forms.ModelMultipleChoiceField(
        label="Measures",
        queryset=Measure.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    order = forms.IntegerField(
        label="Position", min_value=0, required=False, help_text="Lower comes first."
    )
    retired = forms.BooleanField(label="Retire this box (kept in the history)", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, programme, site=None, node: DriverNode | None = None, **kwargs):
        prefix = f"node{node.pk}" if node else "add"
        super().__init__(*args, prefix=prefix, **kwargs)
        scope = DriverNode.objects.filter(programme=programme, retired=False, site__isnull=True)
        if site is not None:
            scope = scope | DriverNode.objects.filter(programme=programme, retired=False, site=site)
        if node is not None:
            scope = scope.exclude(pk=node.pk)
            del self.fields["kind"]
        else:
            del self.fields["retired"]
            del self.fields["version"]
        self.fields["parents"].queryset = scope.order_by("kind", "order", "pk")
        self.fields["parents"].label_from_instance = lambda n: f"{n.get_kind_display()}: {n.text}"
        self.fields["measures"].queryset = Measure.objects.filter(programme=programme)


class IdeaForm(forms.Form):
    title = forms.CharField(label="Change idea", max_length=200)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    holder = forms.ChoiceField(label="Belongs to")
    component = forms.ModelChoiceField(
        label="Intervention component it serves",
        queryset=Component.objects.none(),
        required=False,
        help_text="A core function to keep, or an adaptable form.",
    )
    source = forms.ChoiceField(label="Where it came from", choices=ChangeIdea.Source.choices)
    source_detail = forms.CharField(label="Reference or note", required=False, max_length=300)
    drivers = forms.ModelMultipleChoiceField(
        label="Drivers it acts on",
        queryset=DriverNode.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, programme, holders: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = holders
        self.fields["component"].queryset = Component.objects.filter(
            intervention__programme=programme, retired=False
        )
        self.fields["component"].label_from_instance = lambda c: (
            f"{c.name} ({c.get_kind_display().lower()})"
        )
        # the programme's drivers, and those of the sites this person may add ideas for
        site_ids = [int(h) for h, _ in holders if h.isdigit()]
        self.fields["drivers"].queryset = (
            DriverNode.objects.filter(programme=programme, retired=False)
            .filter(Q(site__isnull=True) | Q(site_id__in=site_ids))
            .exclude(kind=DriverNode.Kind.AIM)
            .select_related("site")
        )
        self.fields["drivers"].label_from_instance = lambda n: (
            f"{n.get_kind_display()}: {n.text}" + (f" ({n.site.code})" if n.site_id else "")
        )


class IdeaEditForm(IdeaForm):
    retired = forms.BooleanField(label="Retire this idea (kept with its cycles)", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, programme, site_id: int | None = None, **kwargs):
        holders = [(str(site_id), "")] if site_id else []
        super().__init__(*args, programme=programme, holders=holders, prefix="edit", **kwargs)
        del self.fields["holder"]


class CopyForm(forms.Form):
    site = forms.ChoiceField(label="Copy to")

    def __init__(self, *args, sites: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = sites


class CycleForm(forms.Form):
    site = forms.ChoiceField(label="Site")
    change_idea = forms.ModelChoiceField(
        label="Change idea tested", queryset=ChangeIdea.objects.none(), required=False
    )
    parent = forms.ModelChoiceField(
        label="Builds on cycle",
        queryset=PDSACycle.objects.none(),
        required=False,
        help_text="The earlier cycle of the ramp this one follows, if any.",
    )
    scale = forms.ChoiceField(label="Scale of the test", choices=Scale.choices)
    start_date = forms.DateField(label="Starts", widget=DATE, required=False)
    end_date = forms.DateField(label="Ends", widget=DATE, required=False)
    objective = forms.CharField(
        label="Objective", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    questions = forms.CharField(
        label="Questions", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    predictions = forms.CharField(
        label="Predictions", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    plan_who = forms.CharField(label="Plan: who", required=False)
    plan_what = forms.CharField(
        label="Plan: what", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    plan_where = forms.CharField(label="Plan: where", required=False)
    plan_when = forms.CharField(label="Plan: when", required=False)
    data_plan = forms.CharField(
        label="Plan: data to collect", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    measures = forms.ModelMultipleChoiceField(
        label="Measures it should move",
        queryset=Measure.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    do_observations = forms.CharField(
        label="Do: what happened", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    study = forms.CharField(
        label="Study: results against predictions",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    act = forms.ChoiceField(
        label="Act", choices=[("", "Not decided yet"), *Act.choices], required=False
    )
    adaptation = forms.CharField(
        label="What was adapted", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    act_note = forms.CharField(
        label="What next", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    attachments = forms.CharField(
        label="Attachments (as text)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Paste checklists, audit sheets, notes or links.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, programme, sites: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        site_ids = [s for s, _ in sites]
        self.fields["site"].choices = sites
        # the package's ideas and the sites' own: another site's idea is copied first
        self.fields["change_idea"].queryset = (
            ChangeIdea.objects.filter(programme=programme, retired=False)
            .filter(Q(site__isnull=True) | Q(site_id__in=site_ids))
            .select_related("site")
            .order_by("site__code", "title")
        )
        self.fields["change_idea"].label_from_instance = lambda i: (
            f"{i.title} ({i.site.code if i.site_id else 'change package'})"
        )
        self.fields["parent"].queryset = PDSACycle.objects.filter(
            programme=programme, site_id__in=site_ids
        ).select_related("site", "change_idea")
        self.fields["parent"].label_from_instance = lambda c: f"{c.site.code} · {c}"
        self.fields["measures"].queryset = Measure.objects.filter(programme=programme)


class ScoreForm(forms.Form):
    site = forms.ChoiceField(label="Site")
    month = forms.CharField(
        label="Month", widget=forms.TextInput(attrs={"type": "month"}), help_text="e.g. 2026-05"
    )
    rater = forms.ChoiceField(label="Rated by", choices=ProgressScore.Rater.choices)
    score = forms.TypedChoiceField(
        label="Score", choices=[(str(v), label) for v, label in ProgressScore.SCALE], coerce=str
    )
    note = forms.CharField(
        label="Why this score", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # The version of the score being corrected; empty for a new one (so an existing score for
    # that month, entered meanwhile by someone else, is not overwritten).
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args, sites: list[tuple[int, str]], raters: list[tuple[str, str]], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = sites
        self.fields["rater"].choices = raters

    def clean_month(self) -> date:
        text = self.cleaned_data["month"].strip()
        try:
            year, month = (int(p) for p in text.split("-")[:2])
            return date(year, month, 1)
        except ValueError:
            raise forms.ValidationError("Give the month as YYYY-MM, e.g. 2026-05.") from None
