"""Admin for SLA policies, business hours, escalation and routing rules, macros and surveys."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from walletdesk.tickets import routing, sla
from walletdesk.tickets.models import CsatSurvey, EscalationRule, Macro, RoutingRule, SlaPolicy, TeamSettings


class _ForgetCaches(admin.ModelAdmin):
    """Saving configuration drops this process's caches (others pick it up within 30 s)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        sla.forget()
        routing.forget()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        sla.forget()
        routing.forget()


@admin.register(SlaPolicy)
class SlaPolicyAdmin(_ForgetCaches):
    list_display = (
        "name",
        "priority",
        "category",
        "channel",
        "first_reply_minutes",
        "next_reply_minutes",
        "resolution_minutes",
        "around_the_clock",
        "active",
        "position",
    )
    list_editable = ("first_reply_minutes", "next_reply_minutes", "resolution_minutes", "active", "position")
    list_filter = ("priority", "category", "around_the_clock", "active")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Tickets point at their policy and other processes cache policy ids for 30 s:
        # switch a policy off (active) instead of deleting it.
        return False


@admin.register(TeamSettings)
class TeamSettingsAdmin(_ForgetCaches):
    list_display = ("team", "timezone", "holiday_countries", "assignment")


@admin.register(EscalationRule)
class EscalationRuleAdmin(_ForgetCaches):
    list_display = (
        "name",
        "clock",
        "team",
        "priority",
        "action",
        "assign_to",
        "move_to_team",
        "active",
        "position",
    )
    list_editable = ("active", "position")


@admin.register(RoutingRule)
class RoutingRuleAdmin(_ForgetCaches):
    list_display = ("name", "category", "channel", "language", "team", "active", "position")
    list_editable = ("active", "position")


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name", "set_status", "set_priority", "set_team", "active", "position")
    list_editable = ("active", "position")
    search_fields = ("name", "body_en", "body_zh")


@admin.register(CsatSurvey)
class CsatSurveyAdmin(admin.ModelAdmin):
    list_display = ("ticket", "sent_at", "rating", "answered_at")
    list_filter = ("rating",)
    readonly_fields = ("ticket", "sent_at", "rating", "comment", "answered_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
