"""Admin for data stewards; day-to-day edits go through the pages so that actions validate.
Saves and deletes here are logged as events (core.admin.AuditedAdmin)."""

from django.contrib import admin

from spreadscale.web.core.admin import AuditedAdmin
from spreadscale.web.improvement import models


class VersionedAdmin(AuditedAdmin):
    """An admin save moves the version on, so a page form opened before it is refused as stale."""

    def save_model(self, request, obj, form, change):
        if change and form.changed_data:
            obj.version += 1
        super().save_model(request, obj, form, change)


@admin.register(models.DriverNode)
class DriverNodeAdmin(VersionedAdmin):
    list_display = ["text", "kind", "programme", "site", "retired", "version"]
    list_filter = ["kind", "retired"]
    search_fields = ["text"]
    readonly_fields = ["version"]


@admin.register(models.ChangeIdea)
class ChangeIdeaAdmin(VersionedAdmin):
    list_display = ["title", "programme", "site", "component", "source", "origin"]
    list_filter = ["source"]
    search_fields = ["title"]
    readonly_fields = ["version"]


@admin.register(models.PDSACycle)
class PDSACycleAdmin(VersionedAdmin):
    list_display = ["__str__", "site", "start_date", "end_date", "scale", "act"]
    list_filter = ["scale", "act"]
    readonly_fields = ["version"]


@admin.register(models.ProgressScore)
class ProgressScoreAdmin(VersionedAdmin):
    list_display = ["site", "month", "rater", "score"]
    list_filter = ["rater"]
    readonly_fields = ["version"]
