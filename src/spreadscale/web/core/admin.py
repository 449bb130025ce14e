"""Admin for data stewards. Django records admin edits in its own log (LogEntry); phases change only
through the site page, so their history stays whole."""

from django.contrib import admin

from spreadscale.web.core import models


@admin.register(models.Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "start_date", "end_date"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class ComponentInline(admin.TabularInline):
    model = models.Component
    extra = 0


@admin.register(models.Intervention)
class InterventionAdmin(admin.ModelAdmin):
    list_display = ["name", "programme"]
    inlines = [ComponentInline]


@admin.register(models.Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "kind", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["name", "code"]
    readonly_fields = ["path"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        path = f"{obj.parent.path if obj.parent else '/'}{obj.pk}/"
        if obj.path != path:
            # moving a site moves its whole subtree
            old = obj.path
            obj.path = path
            obj.save(update_fields=["path"])
            if old:
                for child in models.Site.objects.filter(path__startswith=old).exclude(pk=obj.pk):
                    child.path = path + child.path[len(old) :]
                    child.save(update_fields=["path"])


class PhaseChangeInline(admin.TabularInline):
    model = models.PhaseChange
    extra = 0
    readonly_fields = [
        "from_phase",
        "to_phase",
        "effective_on",
        "reason",
        "changed_by",
        "changed_at",
    ]
    can_delete = False


@admin.register(models.Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["site", "programme", "phase", "phase_since", "wave"]
    list_filter = ["programme", "phase"]
    readonly_fields = ["phase", "phase_since", "version"]
    inlines = [PhaseChangeInline]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "programme", "role", "site"]
    list_filter = ["programme", "role"]
    autocomplete_fields = ["site"]


@admin.register(models.Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "verb", "object_type", "object_id", "actor", "programme", "site"]
    list_filter = ["verb", "programme"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
