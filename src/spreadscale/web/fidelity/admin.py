"""Admin for data stewards: saves and deletes are logged as events (core.admin.AuditedAdmin).

Day-to-day writes go through the pages and the API, whose actions validate. Here, what is computed
stays read-only: an assessment's ratings, score and period (the score and the fidelity-score
observation were computed from the ratings when the assessment was recorded, so editing a rating
here would leave them wrong), and the components an adaptation touches (its relation to core
functions is computed from them).
"""

from django.contrib import admin

from spreadscale.web.core.admin import AuditedAdmin
from spreadscale.web.fidelity.models import (
    Adaptation,
    AdaptationComponent,
    FidelityAssessment,
    FidelityRating,
    StageGate,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RatingInline(ReadOnlyInline):
    model = FidelityRating
    fields = readonly_fields = ["component", "rating", "evidence"]


@admin.register(FidelityAssessment)
class FidelityAssessmentAdmin(AuditedAdmin):
    list_display = ["site", "period_start", "score", "assessor"]
    list_filter = ["programme"]
    inlines = [RatingInline]
    readonly_fields = [
        "programme",
        "site",
        "intervention",
        "period_start",
        "period_end",
        "assessor",
        "score",
        "created_at",
    ]

    # Assessments are recorded on the site's fidelity page or through the API, where the
    # ratings are checked and the score and its observation computed.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TouchInline(ReadOnlyInline):
    model = AdaptationComponent
    fields = readonly_fields = ["component"]


@admin.register(Adaptation)
class AdaptationAdmin(AuditedAdmin):
    list_display = ["title", "site", "date_effective", "fidelity", "published"]
    list_filter = ["programme", "fidelity", "published", "target"]
    search_fields = ["title", "description"]
    inlines = [TouchInline]
    readonly_fields = ["fidelity", "fidelity_basis", "origin", "created_by"]


@admin.register(StageGate)
class StageGateAdmin(AuditedAdmin):
    list_display = ["__str__", "programme", "to_phase", "kind"]
