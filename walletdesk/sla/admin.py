"""Admin for SLA policies, business hours, escalation rules and surveys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from walletdesk.sla import clock as sla
from walletdesk.sla.models import CsatSurvey, EscalationRule, SlaPolicy
from walletdesk.tickets import routing
from walletdesk.tickets.models import TeamSettings


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


class TeamSettingsForm(forms.ModelForm):
    """Refuses business hours the SLA clock cannot read.

    The check lives here, not in `TeamSettings.clean`, because the calendar is the SLA app's:
    tickets (where the team's settings row lives) does not import the layer above it.
    """

    class Meta:
        model = TeamSettings
        fields = (
            "team",
            "timezone",
            "weekly_hours",
            "holiday_countries",
            "days_off",
            "assignment",
            "last_assigned",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        candidate = TeamSettings(**{k: v for k, v in cleaned.items() if k != "team"})
        try:
            sla.calendar_from_settings(candidate)
        except (ValueError, TypeError, KeyError, LookupError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


@admin.register(TeamSettings)
class TeamSettingsAdmin(_ForgetCaches):
    form = TeamSettingsForm
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


@admin.register(CsatSurvey)
class CsatSurveyAdmin(admin.ModelAdmin):
    list_display = ("ticket", "sent_at", "rating", "answered_at")
    list_filter = ("rating",)
    readonly_fields = ("ticket", "sent_at", "rating", "comment", "answered_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
