"""Django admin for every model; runs and history are read-only there, customers and sites cannot be deleted."""

from django.contrib import admin

from syncapp.models import (
    Customer,
    DuplicateCandidate,
    FieldChange,
    HaloClientEntry,
    HaloClientSync,
    HaloLink,
    Site,
    SyncRun,
    SyncSchedule,
    WebhookEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the sync or by services: viewable, never edited or deleted by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class NeverDeletedAdmin(admin.ModelAdmin):
    """Customers and sites are made inactive, never deleted: their billing history must survive."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    can_delete = False
    fields = ("name", "address_1", "city", "postcode", "country", "halo_id", "is_active")


@admin.register(Customer)
class CustomerAdmin(NeverDeletedAdmin):
    list_display = ("name", "city", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = [SiteInline]


@admin.register(Site)
class SiteAdmin(NeverDeletedAdmin):
    list_display = ("name", "customer", "city", "halo_id", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "customer__name")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        # A site is never moved here: its old customer's count of active sites would be left as it was (merges and
        # the sync move sites, and count both customers again).
        return ("customer",) if obj is not None else ()


@admin.register(HaloLink)
class HaloLinkAdmin(admin.ModelAdmin):
    list_display = ("halo_id", "customer", "method", "in_scope", "halo_inactive", "not_syncing_reason", "last_seen_at")
    list_filter = ("method", "in_scope", "not_syncing_reason")
    search_fields = ("customer__name", "=halo_id")
    list_select_related = ("customer",)
    raw_id_fields = ("customer", "linked_by")

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        # A link is made or removed whole (its customer's halo_linked and its client's HaloClientEntry.linked follow
        # it: syncapp.signals), never moved to another customer or HaloPSA client here.
        return ("customer", "halo_id") if obj is not None else ()


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "trigger", "requested_by", "queued_at", "finished_at", "dry_run")
    list_filter = ("kind", "status", "trigger", "dry_run")


@admin.register(FieldChange)
class FieldChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "customer", "site", "action", "field", "old_value", "new_value", "origin")
    list_filter = ("origin", "action")
    search_fields = ("customer__name", "field")
    list_select_related = ("customer", "site", "sync_run", "changed_by")


@admin.register(HaloClientEntry)
class HaloClientEntryAdmin(ReadOnlyAdmin):
    list_display = ("halo_id", "name", "is_ticked", "is_inactive", "last_seen_at")
    search_fields = ("name", "=halo_id")


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(ReadOnlyAdmin):
    list_display = ("halo_id", "halo_name", "customer", "status", "detected_at")
    list_filter = ("status",)


@admin.register(SyncSchedule)
class SyncScheduleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "enabled", "interval_minutes", "updated_at")

    def has_add_permission(self, request) -> bool:
        return not SyncSchedule.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "event", "object_type", "object_id", "client_halo_id", "status", "sync_run")
    list_filter = ("status", "object_type")
    search_fields = ("=client_halo_id", "=object_id", "event")


@admin.register(HaloClientSync)
class HaloClientSyncAdmin(ReadOnlyAdmin):
    list_display = ("halo_id", "queued_at", "last_event_at", "finished_at", "last_run", "last_error")
    search_fields = ("=halo_id",)
