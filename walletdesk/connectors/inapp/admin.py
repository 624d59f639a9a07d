from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from walletdesk.connectors.inapp.models import AppKey


@admin.register(AppKey)
class AppKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "active", "vouches_for_email", "created_at")
    fields = ("name", "active", "vouches_for_email")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = AppKey.issue(obj.name, vouches_for_email=obj.vouches_for_email)
        obj.pk = key.pk
        # Shown once: only the hash is kept.
        messages.warning(request, f"App key for {key.name}: {raw} — copy it now, it will not be shown again.")
