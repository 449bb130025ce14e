"""Admin for data stewards: saves and deletes are logged as events (core.admin.AuditedAdmin).

Day-to-day writes go through the pages and the API, whose actions validate. Here, assessments are
view only (a correction on the site page recomputes the score and its observation and keeps the
earlier version; an edit here could do neither), and an adaptation's components and computed
relation to core functions are read-only.
"""

from django.contrib import admin

from spreadscale.web.core.admin import AuditedAdmin, ReadOnlyAdmin
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
class FidelityAssessmentAdmin(ReadOnlyAdmin):
    """View only: assessments are recorded and corrected on the site's fidelity page or through
    the API, where the ratings are checked, the score and its observation computed and the
    earlier version kept."""

    list_display = ["site", "period_start", "score", "assessor", "version"]
    list_filter = ["programme"]
    inlines = [RatingInline]


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
