"""Admin for data stewards; day-to-day edits go through the pages so that Events are recorded."""

from django.contrib import admin

from spreadscale.web.improvement import models


@admin.register(models.DriverNode)
class DriverNodeAdmin(admin.ModelAdmin):
    list_display = ["text", "kind", "programme", "site", "retired", "version"]
    list_filter = ["kind", "retired"]
    search_fields = ["text"]


@admin.register(models.ChangeIdea)
class ChangeIdeaAdmin(admin.ModelAdmin):
    list_display = ["title", "programme", "site", "component", "source", "origin"]
    list_filter = ["source"]
    search_fields = ["title"]


@admin.register(models.PDSACycle)
class PDSACycleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "site", "start_date", "end_date", "scale", "act"]
    list_filter = ["scale", "act"]


@admin.register(models.ProgressScore)
class ProgressScoreAdmin(admin.ModelAdmin):
    list_display = ["site", "month", "rater", "score"]
    list_filter = ["rater"]
