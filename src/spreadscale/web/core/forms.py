from django import forms

from spreadscale.web.core.models import Phase


class PhaseChangeForm(forms.Form):
    to_phase = forms.ChoiceField(label="New phase", choices=Phase.choices)
    effective_on = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date the new phase began.",
    )
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What happened: it becomes part of the site's story.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
