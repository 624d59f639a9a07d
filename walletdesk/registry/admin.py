"""Admin for the official registry; saving drops this process's cached verdict data."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from walletdesk.registry import lookups
from walletdesk.registry.models import AddressList, OfficialAddress, OfficialContact


@admin.register(OfficialContact)
class OfficialContactAdmin(admin.ModelAdmin):
    list_display = ("kind", "value", "label_en", "label_zh", "current", "position")
    list_filter = ("kind", "current")
    list_editable = ("current", "position")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        lookups.forget()


@admin.register(OfficialAddress)
class OfficialAddressAdmin(admin.ModelAdmin):
    list_display = ("address", "chain_id", "purpose", "label_en", "label_zh", "current", "position")
    list_filter = ("purpose", "current")
    list_editable = ("current", "position")
    search_fields = ("address", "label_en", "label_zh")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        lookups.forget()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        lookups.forget()


@admin.register(AddressList)
class AddressListAdmin(admin.ModelAdmin):
    """Read only: a list changes by importing it again (`manage import_address_list`), whole."""

    list_display = ("source", "count", "imported_at")
    readonly_fields = ("source", "count", "imported_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The confirmation page would list every one of a list's (up to millions of) rows.
        return False
