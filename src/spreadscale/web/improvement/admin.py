"""Admin for data stewards; day-to-day edits go through the pages so that actions validate.
Saves and deletes here are logged as events (core.admin.AuditedAdmin)."""

from django.contrib import admin

from spreadscale.web.core.admin import AuditedAdmin
from spreadscale.web.improvement import models


@admin.register(models.DriverNode)
class DriverNodeAdmin(AuditedAdmin):
    list_display = ["text", "kind", "programme", "site", "retired", "version"]
    list_filter = ["kind", "retired"]
    search_fields = ["text"]


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
