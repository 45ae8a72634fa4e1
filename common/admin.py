from django.contrib import admin
from django.http import HttpRequest

from common.models import AccessEvent


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the audit log is append-only, for administrators too."""

    list_display = ("at", "username", "action", "resource", "object_id", "case_id", "ip")
    list_filter = ("action", "resource")
    search_fields = ("username", "object_id", "path")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
