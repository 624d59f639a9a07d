"""Admin: configuration only (categories, teams, triage and routing rules).

Tickets are worked in the agent desk, where every change goes through actions and leaves history;
here they are read-only so nothing bypasses that.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from walletdesk.tickets import actions, routing, screening
from walletdesk.tickets.models import Category, RoutingRule, Team, Ticket, TicketEvent, TriageRuleRecord


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_en", "name_zh", "default_priority", "default_team", "position", "active")
    list_editable = ("position", "active")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        actions.forget_categories()


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "restricted", "lead")
    filter_horizontal = ("members",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(TriageRuleRecord)
class TriageRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "language", "weight", "priority", "active", "__str__")
    list_filter = ("category", "language", "active")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        screening.forget_rules()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("reference", "subject", "status", "priority", "channel", "category", "team", "created_at")
    list_filter = ("status", "priority", "channel", "category", "team")
    search_fields = ("reference", "subject")
    show_full_result_count = False


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "ticket", "kind", "actor")
    list_select_related = ("ticket", "actor")
    show_full_result_count = False


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "channel", "language", "team", "active", "position")
    list_editable = ("active", "position")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        routing.forget()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        routing.forget()
