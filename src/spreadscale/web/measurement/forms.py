from django import forms

from spreadscale.io.periods import PeriodError, parse_period
from spreadscale.web.measurement.models import ChartAdjustment, ChartSettings, Flag, Measure


class ObservationForm(forms.Form):
    site = forms.TypedChoiceField(coerce=int, label="Site")
    period = forms.CharField(
        label="Period", help_text="2024-03 for a month, 2024-W05 for a week, a date for an event."
    )
    numerator = forms.FloatField(required=False)
    denominator = forms.FloatField(required=False)
    value = forms.FloatField(required=False)
    flags = forms.MultipleChoiceField(
        choices=Flag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Data quality",
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note (visible to the site team, facilitators and evaluators)",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, initial=0, min_value=0)

    def __init__(self, *args, measure: Measure, sites: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.measure = measure
        self.fields["site"].choices = sites
        if measure.uses_ratio:
            del self.fields["value"]
            self.fields["numerator"].label = measure.numerator_label or "Numerator"
            self.fields["denominator"].label = measure.denominator_label or "Denominator"
        else:
            del self.fields["numerator"], self.fields["denominator"]
            self.fields["value"].label = f"Value ({measure.unit})" if measure.unit else "Value"
        if measure.frequency == "month":
            self.fields["period"].widget = forms.TextInput(attrs={"type": "month"})
        elif measure.frequency in ("day", "event"):
            self.fields["period"].widget = forms.DateInput(attrs={"type": "date"})

    def clean_period(self):
        try:
            start, _ = parse_period(self.cleaned_data["period"], self.measure.frequency)
        except PeriodError as exc:
            raise forms.ValidationError(str(exc).capitalize() + ".") from None
        return start


class ChartSettingsForm(forms.Form):
    chart = forms.ChoiceField(choices=Measure.Chart.choices, label="Chart type")
    rules = forms.ChoiceField(label="Rule profile")
    y_scale = forms.ChoiceField(choices=ChartSettings.YScale.choices, label="Y-scale")
    reason = forms.CharField(label="Why the change", max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from spreadscale.analytics.spc import PROFILES

        self.fields["rules"].choices = [(k, k) for k in PROFILES]


class AdjustmentForm(forms.Form):
    site = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        choices=[c for c in ChartAdjustment.Kind.choices if c[0] != "dismissed"], label="Change"
    )
    on = forms.DateField(label="Period starting", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="Why", max_length=500)
