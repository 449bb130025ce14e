from django.contrib import admin

from spreadscale.web.fidelity.models import (
    Adaptation,
    AdaptationComponent,
    FidelityAssessment,
    FidelityRating,
    StageGate,
)


class RatingInline(admin.TabularInline):
    model = FidelityRating
    extra = 0


@admin.register(FidelityAssessment)
class FidelityAssessmentAdmin(admin.ModelAdmin):
    list_display = ["site", "period_start", "score", "assessor"]
    list_filter = ["programme"]
    inlines = [RatingInline]


class TouchInline(admin.TabularInline):
    model = AdaptationComponent
    extra = 0


@admin.register(Adaptation)
class AdaptationAdmin(admin.ModelAdmin):
    list_display = ["title", "site", "date_effective", "fidelity", "published"]
    list_filter = ["programme", "fidelity", "published", "target"]
    search_fields = ["title", "description"]
    inlines = [TouchInline]


@admin.register(StageGate)
class StageGateAdmin(admin.ModelAdmin):
    list_display = ["__str__", "programme", "to_phase", "kind"]
