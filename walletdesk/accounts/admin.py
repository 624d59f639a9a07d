from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from walletdesk.accounts.models import ApiToken, User


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
