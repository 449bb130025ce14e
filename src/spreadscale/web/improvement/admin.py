"""Admin for data stewards; day-to-day edits go through the pages so that actions validate.
Saves and deletes here are logged as events (core.admin.AuditedAdmin)."""

from django.contrib import admin

from spreadscale.web.core.admin import AuditedAdmin
from spreadscale.web.improvement import actions, models


@admin.register(models.DriverNode)
class DriverNodeAdmin(AuditedAdmin):
    list_display = ["text", "kind", "programme", "site", "retired", "version"]
    list_filter = ["kind", "retired"]
    search_fields = ["text"]

    def save_model(self, request, obj, form, change):
        # Keep what the node said before, as the diagram's edit does (relations are saved
        # after this, so the stored node still has its old parents and measures).
        if change and form.changed_data:
            stored = models.DriverNode.objects.get(pk=obj.pk)
            actions.node_revision(request.user, stored).save()
        super().save_model(request, obj, form, change)


@admin.register(models.ChangeIdea)
class ChangeIdeaAdmin(AuditedAdmin):
    list_display = ["title", "programme", "site", "component", "source", "origin"]
    list_filter = ["source"]
    search_fields = ["title"]


@admin.register(models.PDSACycle)
class PDSACycleAdmin(AuditedAdmin):
    list_display = ["__str__", "site", "start_date", "end_date", "scale", "act"]
    list_filter = ["scale", "act"]


@admin.register(models.ProgressScore)
class ProgressScoreAdmin(AuditedAdmin):
    list_display = ["site", "month", "rater", "score"]
    list_filter = ["rater"]
