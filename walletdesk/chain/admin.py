from django.contrib import admin

from .models import Chain


@admin.register(Chain)
class ChainAdmin(admin.ModelAdmin):
    list_display = ["name", "chain_id", "native_symbol", "confirmations", "enabled"]
    list_filter = ["enabled"]
