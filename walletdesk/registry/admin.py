"""Admin for the official registry; saving drops this process's cached verdict data."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from walletdesk.registry import lookups
from walletdesk.registry.models import OfficialContact


@admin.register(OfficialContact)
class OfficialContactAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "label_en", "label_zh", "current", "position")
    list_filter = ("kind", "current")
    list_editable = ("current", "position")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        lookups.forget()
