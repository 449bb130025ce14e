"""Admin for data stewards.

Day-to-day work goes through the pages, the import and the API, whose actions validate and keep
revisions. The admin is for stewardship (setting up a programme, fixing a name, a membership): each
admin save or delete is appended to the programme's event log as ``admin.changed`` /
``admin.deleted`` with the fields touched, so the audit trail stays whole. Phases change only
through the site page's gated form, so their history stays whole too.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Model

from spreadscale.web.core import models
from spreadscale.web.core.actions import record_event


def _programme_and_site(obj: Model) -> tuple[Any, Any]:
    """The programme and site an object belongs to, where it has them."""
    if isinstance(obj, models.Programme):
        return obj, None
    programme = getattr(obj, "programme", None)
    if programme is None:
        for via in ("intervention", "measure", "enrolment"):
            parent = getattr(obj, via, None)
            if parent is not None:
                programme = getattr(parent, "programme", None)
                break
    site = obj if isinstance(obj, models.Site) else getattr(obj, "site", None)
    return programme, site


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by stewards, changed only through the actions (or never, for the event log)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _versioned(obj: Model) -> bool:
    return any(f.name == "version" for f in obj._meta.concrete_fields)


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes (inline rows included) are recorded as Events.

    A model's ``version`` (the pages' stale-edit check) is read-only here and moves on with
    each admin change, so a page form opened before the change is refused rather than
    overwriting it.
    """

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if _versioned(self.model()) and "version" not in fields:
            fields.append("version")
        return fields

    def _record(self, request, verb: str, obj: Model, fields: list[str]) -> None:
        programme, site = _programme_and_site(obj)
        if verb == "admin.deleted":
            # The log must not point at the row it outlives.
            programme = None if programme is obj else programme
            site = None if site is obj else site
        record_event(
            request.user,
            verb,
            obj,
            programme=programme,
            site=site,
            payload={"model": obj._meta.verbose_name, "object": str(obj), "fields": fields},
        )

    def save_model(self, request, obj, form, change):
        if change and form.changed_data and _versioned(obj):
            obj.version += 1
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            self._record(request, "admin.changed", obj, list(form.changed_data))

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        changed = {id(obj) for obj, _ in formset.changed_objects}
        for obj in instances:
            if id(obj) in changed and _versioned(obj):
                obj.version += 1
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()
        for obj in formset.new_objects:
            self._record(request, "admin.changed", obj, ["(added)"])
        for obj, fields in formset.changed_objects:
            self._record(request, "admin.changed", obj, list(fields))
        for obj in formset.deleted_objects:
            self._record(request, "admin.deleted", obj, [])

    def delete_model(self, request, obj):
        self._record(request, "admin.deleted", obj, [])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(models.Programme)
class ProgrammeAdmin(AuditedAdmin):
    list_display = ["name", "slug", "start_date", "end_date"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


class ComponentInline(admin.TabularInline):
    model = models.Component
    extra = 0
    readonly_fields = ["version"]


@admin.register(models.Intervention)
class InterventionAdmin(AuditedAdmin):
    list_display = ["name", "programme"]
    inlines = [ComponentInline]


@admin.register(models.Site)
class SiteAdmin(AuditedAdmin):
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
class EnrolmentAdmin(AuditedAdmin):
    list_display = ["site", "programme", "phase", "phase_since", "wave"]
    list_filter = ["programme", "phase"]
    readonly_fields = ["phase", "phase_since", "version"]
    inlines = [PhaseChangeInline]


@admin.register(models.Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "programme", "role", "site"]
    list_filter = ["programme", "role"]
    autocomplete_fields = ["site"]


@admin.register(models.Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "verb", "object_type", "object_id", "actor", "programme", "site"]
    list_filter = ["verb", "programme"]
    date_hierarchy = "created_at"
