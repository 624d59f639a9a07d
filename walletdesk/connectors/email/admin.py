from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from .models import InboundEmail, Mailbox, OutboundEmail


class MailboxForm(forms.ModelForm):
    # Write-only: the stored secret is never rendered back; leave empty to keep it.
    secret = forms.CharField(
        label="Password or app password",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Never shown again; leave empty to keep the current one.",
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "address",
            "host",
            "port",
            "security",
            "username",
            "secret",
            "folder",
            "default_category",
            "default_team",
            "active",
            "poll_seconds",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.instance.pk and not data.get("secret"):
            self.add_error("secret", "A new mailbox needs its password.")
        return data


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["name", "username", "host", "active", "last_success_at", "last_error_at", "last_fetched"]
    readonly_fields = ["last_polled_at", "last_success_at", "last_error_at", "last_error", "last_fetched"]

    def save_model(self, request: HttpRequest, obj: Mailbox, form: Any, change: bool) -> None:
        secret = form.cleaned_data.get("secret")
        if secret:
            obj.set_secret(secret)
        super().save_model(request, obj, form, change)
        from .tasks import ensure_polling

        ensure_polling()


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "outcome", "from_address", "subject", "ticket", "reason"]
    list_filter = ["outcome", "source", "mailbox"]
    search_fields = ["key", "from_address", "subject"]
    exclude = ["raw_encrypted"]
    readonly_fields = [f.name for f in InboundEmail._meta.fields if f.name != "raw_encrypted"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "to_address", "state", "attempts", "ticket", "message_id_header"]
    list_filter = ["state", "kind", "automatic"]
    search_fields = ["message_id_header", "to_address"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
