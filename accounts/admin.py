from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Board, Membership, User

# Django's admin classes are generic only in django-stubs; at runtime they cannot be subscripted.
if TYPE_CHECKING:
    _MembershipInlineBase = admin.TabularInline[Membership, User | Board]
    _DjangoUserAdminBase = DjangoUserAdmin[User]
else:
    _MembershipInlineBase = admin.TabularInline
    _DjangoUserAdminBase = DjangoUserAdmin


class MembershipInline(_MembershipInlineBase):
    model = Membership
    extra = 0
    fields = ("board", "discipline", "is_chair", "is_coordinator", "is_read_only", "is_active")


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, _DjangoUserAdminBase):  # type: ignore[misc]  # simple-history is untyped
    list_display = ("username", "first_name", "last_name", "email", "is_service_account", "is_active")
    list_filter = ("is_service_account", "is_active", "is_staff")
    fieldsets = (*DjangoUserAdmin.fieldsets, ("tumourboard", {"fields": ("is_service_account",)}))  # type: ignore[misc]
    inlines = (MembershipInline,)


@admin.register(Board)
class BoardAdmin(SimpleHistoryAdmin):  # type: ignore[misc]  # simple-history is untyped
    list_display = ("name", "institution", "created_at")
    search_fields = ("name", "institution")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):  # type: ignore[misc]  # simple-history is untyped
    list_display = ("user", "board", "discipline", "is_chair", "is_coordinator", "is_read_only", "is_active")
    list_filter = ("board", "discipline", "is_chair", "is_coordinator", "is_read_only", "is_active")
    search_fields = ("user__username", "user__last_name", "board__name")
