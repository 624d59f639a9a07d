"""Admin for canned replies."""

from __future__ import annotations

from django.contrib import admin

from walletdesk.desk.models import Macro


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name", "set_status", "set_priority", "set_team", "active", "position")
    list_editable = ("active", "position")
    search_fields = ("name", "body_en", "body_zh")
