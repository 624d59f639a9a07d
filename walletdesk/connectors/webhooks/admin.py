"""Outbound webhooks in the admin: endpoints (the secret write-only, shown once) and the
delivery log (filter by state, event and endpoint; "redeliver" queues one more attempt)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from walletdesk.connectors.webhooks import delivery, guard
from walletdesk.connectors.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint, new_secret


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=gettext_lazy("events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
    new_secret = forms.BooleanField(
        required=False,
        label=gettext_lazy("Generate a new signing secret"),
        help_text=gettext_lazy("The old one stops working at once; the new one is shown once, after saving."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "active"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            guard.check(url)
        except guard.RefusedURL as exc:
            raise forms.ValidationError(_("Refused: %(reason)s") % {"reason": exc}) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "subscribed", "active", "created_at")
    list_filter = ("active",)

    @admin.display(description=gettext_lazy("events"))
    def subscribed(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events or [])

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:  # a new endpoint always gets a secret: the choice is only for a change
            kwargs["exclude"] = ["new_secret"]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        secret = None
        if not change or form.cleaned_data.get("new_secret"):
            secret = new_secret()
            obj.set_secret(secret)
        super().save_model(request, obj, form, change)
        if secret is not None:
            # Shown this once: only its encrypted form is kept, and no page reads it back.
            self.message_user(
                request,
                _("Signing secret for %(name)s (copy it now; it is not shown again): %(secret)s")
                % {"name": obj.name, "secret": secret},
                messages.WARNING,
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "endpoint",
        "event_type",
        "event_id",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    )
    list_filter = ("state", "event_type", "endpoint")
    search_fields = ("=event_id",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["redeliver"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Redeliver (queue one more attempt now)"), permissions=["change"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        queued = delivery.redeliver(list(queryset.values_list("pk", flat=True)))
        skipped = queryset.count() - queued
        text = _("%(count)d queued for another attempt.") % {"count": queued}
        if skipped:
            text += " " + _("%(count)d being sent now, left alone.") % {"count": skipped}
        self.message_user(
            request,
            text,
            messages.SUCCESS,
        )
