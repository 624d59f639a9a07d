"""Social channels in the admin: accounts (keys write-only), and the inbound and outbound logs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from walletdesk.connectors.social.base import adapter_for
from walletdesk.connectors.social.models import SocialAccount, SocialInbound, SocialOutbound


class SocialAccountForm(forms.ModelForm):
    keys = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text="One KEY=VALUE per line; only the keys written here change (empty value removes "
        "it). Stored encrypted; never shown again.",
    )

    class Meta:
        model = SocialAccount
        fields = ["provider", "slug", "name", "active", "team", "language"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        adapter = adapter_for(data.get("provider") or "")
        if adapter is None:
            raise forms.ValidationError("This provider is not installed.")
        allowed = set(adapter.required_keys) | set(adapter.optional_keys) | {"api_base"}
        changes: dict[str, str] = {}
        for line in (data.get("keys") or "").splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or key.strip() not in allowed:
                raise forms.ValidationError(
                    f"Unknown key line {key.strip()!r}; keys: {', '.join(sorted(allowed))}"
                )
            changes[key.strip()] = value.strip()
        current = self.instance.credentials() if self.instance.pk else {}
        current.update(changes)
        current = {k: v for k, v in current.items() if v}
        missing = [k for k in adapter.required_keys if not current.get(k)]
        if missing:
            raise forms.ValidationError(f"Missing keys: {', '.join(missing)}")
        self._keys = current
        return data

    def save(self, commit: bool = True) -> Any:
        self.instance.set_credentials(self._keys)
        return super().save(commit)


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    form = SocialAccountForm
    list_display = ("__str__", "name", "active", "team", "webhook", "keys_set")
    list_filter = ("provider", "active")

    @admin.display(description="webhook")
    def webhook(self, obj: SocialAccount) -> str:
        return obj.hook_path

    @admin.display(description="keys set")
    def keys_set(self, obj: SocialAccount) -> str:
        return ", ".join(sorted(obj.credentials()))


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SocialInbound)
class SocialInboundAdmin(ReadOnly):
    list_display = ("received_at", "account", "provider_id", "kind", "state", "ticket")
    list_filter = ("state", "kind", "account")
    search_fields = ("provider_id",)
    raw_id_fields = ("ticket",)


@admin.register(SocialOutbound)
class SocialOutboundAdmin(ReadOnly):
    list_display = ("created_at", "account", "kind", "state", "attempts", "ticket", "last_error")
    list_filter = ("state", "kind", "account")
    raw_id_fields = ("ticket", "message")
