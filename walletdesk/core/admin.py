from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from walletdesk.core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Admins read the audit log; nobody edits or deletes it, not even a superuser."""

    list_display = ("created_at", "action", "actor", "target_type", "target_id", "reason")
    list_filter = ("action",)
    search_fields = ("target_id", "reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
