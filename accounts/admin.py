from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Board, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("board", "discipline", "is_chair", "is_coordinator", "is_read_only", "is_active")


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "is_service_account", "is_active")
    list_filter = ("is_service_account", "is_active", "is_staff")
    fieldsets = (*DjangoUserAdmin.fieldsets, ("tumourboard", {"fields": ("is_service_account",)}))  # type: ignore[misc]
    inlines = (MembershipInline,)


@admin.register(Board)
class BoardAdmin(SimpleHistoryAdmin):
    list_display = ("name", "institution", "created_at")
    search_fields = ("name", "institution")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ("user", "board", "discipline", "is_chair", "is_coordinator", "is_read_only", "is_active")
    list_filter = ("board", "discipline", "is_chair", "is_coordinator", "is_read_only", "is_active")
    search_fields = ("user__username", "user__last_name", "board__name")
