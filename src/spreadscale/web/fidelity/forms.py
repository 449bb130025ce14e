"""Forms of fidelity assessments, adaptations (quick and full FRAME entry) and stage gates."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from django import forms

from spreadscale.analytics import fidelity as frame
from spreadscale.web.core.forms import PhaseChangeForm
from spreadscale.web.core.models import Component, Phase, Role, Site
from spreadscale.web.fidelity.models import Adaptation, StageGate
from spreadscale.web.improvement.models import PDSACycle
from spreadscale.web.measurement.models import Measure

DATE = forms.DateInput(attrs={"type": "date"})
CHECKS = forms.CheckboxSelectMultiple


def _blank(choices: frame.Choices) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


class AssessmentForm(forms.Form):
    period_start = forms.DateField(
        label="Quarter starting", widget=DATE, help_text="The first day of a quarter, e.g. 1 Apr."
    )
    note = forms.CharField(
        label="Note (private to the site team, leads and evaluators)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, components: Sequence[Component], **kwargs):
        super().__init__(*args, **kwargs)
        self.components = list(components)
        for c in self.components:
            self.fields[f"rating_{c.pk}"] = forms.ChoiceField(
                label=c.name,
                choices=frame.RATINGS,
                initial="not_assessed",
                help_text=c.fidelity_criterion,
            )
            self.fields[f"evidence_{c.pk}"] = forms.CharField(
                label=f"Evidence for “{c.name}”",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )


class AssessmentCorrectionForm(AssessmentForm):
    """An assessment's ratings, evidence and note, corrected; its quarter stays."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["period_start"]
        for c in self.components:
            if c.retired:
                self.fields[f"rating_{c.pk}"].label = f"{c.name} (retired)"


class ComponentForm(forms.Form):
    """A component of the intervention: added by the lead, or edited with the version read."""

    intervention = forms.TypedChoiceField(label="Intervention", coerce=int)
    name = forms.CharField(label="Name", max_length=200)
    kind = forms.ChoiceField(
        label="Kind",
        choices=Component.Kind.choices,
        help_text="A core function is kept for fidelity and rated each quarter; an adaptable "
        "form is expected to vary between sites.",
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    fidelity_criterion = forms.CharField(
        label="Fidelity criterion",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="How an assessor tells that it is delivered as intended.",
    )
    order = forms.IntegerField(label="Order", min_value=0, initial=0)

    def __init__(self, *args, interventions: Sequence, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # A component stays with its intervention; the editor sends the version it read.
            del self.fields["intervention"]
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)
        else:
            self.fields["intervention"].choices = [(i.pk, i.name) for i in interventions]
            if len(interventions) == 1:
                self.fields["intervention"].widget = forms.HiddenInput()


class AdaptationForm(forms.Form):
    """The essential FRAME fields; `full=True` adds the rest of the record."""

    site = forms.TypedChoiceField(label="Site", coerce=int)
    title = forms.CharField(label="What changed, in a line", max_length=200)
    date_effective = forms.DateField(label="In use from", widget=DATE)
    when_phase = forms.ChoiceField(label="When (FRAME)", choices=_blank(frame.WHEN))
    planned = forms.ChoiceField(label="Planned or not", choices=_blank(frame.PLANNED))
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    components = forms.TypedMultipleChoiceField(
        label="Components it touches",
        coerce=int,
        required=False,
        widget=CHECKS,
        help_text="Its relation to core functions is computed from these where possible.",
    )
    content_types = forms.MultipleChoiceField(
        label="Type of modification", choices=frame.CONTENT_TYPES, required=False, widget=CHECKS
    )
    measures = forms.TypedMultipleChoiceField(
        label="Measures it should move", coerce=int, required=False, widget=CHECKS
    )

    FULL = {
        "target": forms.ChoiceField(label="What is adapted", choices=Adaptation.Target.choices),
        "strategy": forms.CharField(
            label="Implementation strategy (FRAME-IS, ERIC name)", required=False, max_length=200
        ),
        "decided_by": forms.MultipleChoiceField(
            label="Who decided", choices=frame.DECIDED_BY, required=False, widget=CHECKS
        ),
        "final_decider": forms.ChoiceField(
            label="Who made the final decision", choices=_blank(frame.DECIDED_BY), required=False
        ),
        "participants": forms.CharField(
            label="Who took part in the decision (staff roles, patients, carers)",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
        "patients_involved": forms.BooleanField(
            label="Patients or carers took part", required=False
        ),
        "facilitator_involvement": forms.CharField(
            label="The facilitator's involvement",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
        "what_modified": forms.ChoiceField(
            label="What was modified",
            choices=_blank(
                frame.WHAT_MODIFIED
                + tuple(c for c in frame.IS_WHAT_MODIFIED if c[0] in ("evaluation", "training"))
            ),
            required=False,
            help_text="FRAME-IS strategies: content, evaluation, training or context.",
        ),
        "context_aspects": forms.MultipleChoiceField(
            label="Context: which aspects",
            choices=frame.CONTEXT_ASPECTS,
            required=False,
            widget=CHECKS,
        ),
        "level": forms.ChoiceField(
            label="At what level (for whom)", choices=_blank(frame.LEVEL), required=False
        ),
        "fidelity": forms.ChoiceField(
            label="Relation to core functions (your judgement when it cannot be computed)",
            choices=frame.FIDELITY,
            required=False,
        ),
        "goals": forms.MultipleChoiceField(
            label="Goals",
            choices=frame.GOALS + tuple(g for g in frame.IS_GOALS if g[0] not in dict(frame.GOALS)),
            required=False,
            widget=CHECKS,
            help_text="FRAME goals for the intervention; FRAME-IS goals for a strategy.",
        ),
        # "reasons" stands for the rows of reason_code_<i> and reason_note_<i> (a note per reason).
        "reasons": None,
        "reason_note": forms.CharField(
            label="The reasons in general, in your words",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
        ),
        "evidence_links": forms.CharField(
            label="Evidence: links or references, one a line",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Web addresses (https://…) become links; anything else is kept as a reference.",
        ),
        "linked_pdsa": forms.TypedChoiceField(
            label="The PDSA cycle behind it", coerce=int, empty_value=None, required=False
        ),
        "permanence": forms.ChoiceField(
            label="Temporary or permanent", choices=_blank(frame.PERMANENCE), required=False
        ),
        "date_decided": forms.DateField(label="Decided on", required=False, widget=DATE),
        "date_ended": forms.DateField(label="Ended on", required=False, widget=DATE),
    }

    # Quick entry also takes these, so a change to an implementation strategy (FRAME-IS) can be
    # logged as one from the start: the target, the strategy's name and what was modified.
    QUICK_EXTRA = ("target", "strategy", "what_modified")
    QUICK_ORDER = (
        "site",
        "title",
        "date_effective",
        "when_phase",
        "planned",
        "target",
        "strategy",
        "description",
        "components",
        "content_types",
        "what_modified",
        "measures",
    )

    REASON_GROUPS = [
        (level_label, [(f"{level}:{code}", label) for code, label in frame.REASONS[level]])
        for level, level_label in frame.REASON_LEVELS
    ]

    def __init__(
        self,
        *args,
        sites: Sequence[Site],
        components: Sequence[Component],
        measures: Sequence[Measure],
        full: bool = False,
        cycles: Sequence[PDSACycle] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.pk, f"{s.name} ({s.code})") for s in sites]
        self.fields["components"].choices = [
            (c.pk, f"{c.name} ({c.get_kind_display().lower()})") for c in components
        ]
        self.fields["measures"].choices = [(m.pk, m.name) for m in measures]
        self.reason_rows = 0
        if full:
            for name, field in self.FULL.items():
                if name == "reasons":
                    self._add_reason_rows()
                else:
                    self.fields[name] = copy.deepcopy(field)
            self.fields["linked_pdsa"].choices = [("", "—")] + [
                (c.pk, f"{c} (from {c.start_date:%d %b %Y})") for c in cycles
            ]
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)
            del self.fields["site"]
        else:
            for name in self.QUICK_EXTRA:
                self.fields[name] = copy.deepcopy(self.FULL[name])
            # Left out (as by a form from before), it is the intervention.
            self.fields["target"].required = False
            self.fields["target"].initial = Adaptation.Target.INTERVENTION
            self.order_fields(self.QUICK_ORDER)

    def _add_reason_rows(self) -> None:
        """One row (reason, note) per reason given, and two empty rows to add more."""
        if self.is_bound:
            given = [
                int(k.removeprefix("reason_code_"))
                for k in self.data
                if k.startswith("reason_code_") and k.removeprefix("reason_code_").isdigit()
            ]
            rows = min(max(given, default=-1) + 1, 60)
        else:
            reasons = [r for r in self.initial.get("reasons") or [] if isinstance(r, dict)]
            for i, r in enumerate(reasons):
                self.initial[f"reason_code_{i}"] = f"{r.get('level')}:{r.get('code')}"
                self.initial[f"reason_note_{i}"] = r.get("note", "")
            rows = max(len(reasons) + 2, 3)
        self.reason_rows = rows
        for i in range(rows):
            self.fields[f"reason_code_{i}"] = forms.ChoiceField(
                label=f"Reason {i + 1}",
                choices=[("", "—"), *self.REASON_GROUPS],
                required=False,
                help_text="By level: sociopolitical, organisation, provider, recipient."
                if i == 0
                else "",
            )
            self.fields[f"reason_note_{i}"] = forms.CharField(
                label=f"Reason {i + 1}: note", required=False, max_length=1000
            )

    @property
    def reason_field_names(self) -> set[str]:
        return {f"reason_{k}_{i}" for i in range(self.reason_rows) for k in ("code", "note")}

    def reason_pairs(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"reason_code_{i}"], self[f"reason_note_{i}"]) for i in range(self.reason_rows)
        ]

    def clean(self):
        data = super().clean()
        for i in range(self.reason_rows):
            if data.get(f"reason_note_{i}") and not data.get(f"reason_code_{i}"):
                self.add_error(f"reason_code_{i}", "Choose the reason this note explains.")
        return data

    def frame_data(self) -> dict:
        """Cleaned FRAME fields, as the actions take them."""
        skip = {"site", "components", "measures", "version"}
        out = {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in skip and not k.startswith(("reason_code_", "reason_note_"))
        }
        if "target" in out and not out["target"]:
            out["target"] = Adaptation.Target.INTERVENTION
        if "evidence_links" in self.fields:
            out["evidence_links"] = (out.get("evidence_links") or "").splitlines()
            out["reasons"] = [
                {
                    "level": self.cleaned_data[f"reason_code_{i}"].partition(":")[0],
                    "code": self.cleaned_data[f"reason_code_{i}"].partition(":")[2],
                    "note": self.cleaned_data.get(f"reason_note_{i}", ""),
                }
                for i in range(self.reason_rows)
                if self.cleaned_data.get(f"reason_code_{i}")
            ]
        return out


class AdoptForm(forms.Form):
    site = forms.TypedChoiceField(label="Adopt at", coerce=int)
    date_effective = forms.DateField(label="In use from", widget=DATE)

    def __init__(self, *args, sites: Sequence[Site], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.pk, f"{s.name} ({s.code})") for s in sites]


class StageGateForm(forms.Form):
    to_phase = forms.ChoiceField(label="Before moving into", choices=Phase.choices)
    kind = forms.ChoiceField(label="Criterion", choices=StageGate.Kind.choices)
    threshold = forms.FloatField(
        label="Minimum fidelity score (0 to 1)", required=False, min_value=0, max_value=1
    )
    measure = forms.ChoiceField(label="Measure", required=False)
    n_points = forms.IntegerField(label="Last n points", required=False, min_value=3)
    role = forms.ChoiceField(label="Role", choices=[("", "—"), *Role.choices], required=False)
    description = forms.CharField(label="In words", required=False, max_length=200)

    def __init__(self, *args, measures: Sequence[Measure], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"].choices = [("", "—"), *((m.slug, m.name) for m in measures)]


class GatedPhaseForm(PhaseChangeForm):
    """A phase change checked against the stage gates, with an override reason per gate."""

    def __init__(self, *args, gates: Sequence[StageGate] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.gates = list(gates)
        for g in self.gates:
            self.fields[f"override_{g.pk}"] = forms.CharField(
                label=f"Override “{g}” into {g.get_to_phase_display().lower()}: reason",
                required=False,
                help_text="Only needed if this criterion is not met.",
            )

    def overrides(self) -> dict[int, str]:
        return {
            g.pk: self.cleaned_data.get(f"override_{g.pk}", "")
            for g in self.gates
            if self.cleaned_data.get(f"override_{g.pk}")
        }
