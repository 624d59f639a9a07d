from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from walletdesk.accounts import actions as account_actions
from walletdesk.accounts.models import ApiToken, LoginEvent, RecoveryCase, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("email", "display_name", "is_staff", "is_superuser", "is_active", "is_away", "last_login")
    search_fields = ("email", "display_name", "username")
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        ("walletdesk", {"fields": ("display_name", "language", "is_away")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at")


@admin.register(LoginEvent)
class LoginEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "outcome", "detail", "ip_address")
    list_filter = ("outcome",)
    search_fields = ("user__email", "ip_address")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecoveryCase)
class RecoveryCaseAdmin(admin.ModelAdmin):
    """Read-only; closing and deleting go through the actions so documents and audit follow."""

    list_display = ("created_at", "email", "status", "ticket_reference", "closed_at", "documents_purge_after")
    list_filter = ("status",)
    search_fields = ("email", "ticket_reference")
    readonly_fields = [f.name for f in RecoveryCase._meta.fields]
    actions = ["close_cases"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Close (documents are deleted after the retention period)")
    def close_cases(self, request: HttpRequest, queryset: Any) -> None:
        for case in queryset:
            account_actions.close_recovery_case(case, actor=request.user, reason="closed in admin")

    def delete_model(self, request: HttpRequest, obj: RecoveryCase) -> None:
        account_actions.delete_recovery_case(obj, actor=request.user, reason="deleted in admin")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for case in queryset:
            account_actions.delete_recovery_case(case, actor=request.user, reason="deleted in admin")
