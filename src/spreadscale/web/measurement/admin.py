from django.contrib import admin

from spreadscale.web.core.admin import AuditedAdmin, ReadOnlyAdmin
from spreadscale.web.measurement import actions, models


@admin.register(models.Measure)
class MeasureAdmin(AuditedAdmin):
    list_display = ["name", "programme", "type", "data_kind", "improvement", "default_chart"]
    list_filter = ["programme", "type"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The save wrote back the data token as loaded; a fresh one keeps the board's cache
        # key new even if an observation write renewed the token meanwhile.
        actions.data_changed([obj.pk])


class RevisionInline(admin.TabularInline):
    model = models.ObservationRevision
    extra = 0
    can_delete = False
    readonly_fields = [
        "version",
        "numerator",
        "denominator",
        "value",
        "flags",
        "note",
        "entered_by",
        "replaced_at",
    ]


@admin.register(models.Observation)
class ObservationAdmin(ReadOnlyAdmin):
    """Read-only: values change through the entry grid, the import or the API, which validate
    them, keep the earlier value as a revision and record an Event."""

    list_display = [
        "measure",
        "site",
        "period_start",
        "numerator",
        "denominator",
        "value",
        "version",
    ]
    list_filter = ["measure__programme", "measure"]
    search_fields = ["site__code"]
    readonly_fields = ["version", "entered_by", "updated_at"]
    inlines = [RevisionInline]
    list_select_related = ["measure", "site"]
