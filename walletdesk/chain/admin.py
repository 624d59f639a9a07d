from django.contrib import admin

from .models import Chain, RiskRule, VerifiedSpender


@admin.register(Chain)
class ChainAdmin(admin.ModelAdmin):
    list_display = ["name", "chain_id", "native_symbol", "confirmations", "enabled"]
    list_filter = ["enabled"]


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    # Rules are seeded by migration; the operator tunes them, and a rule's code names its logic.
    list_display = ["code", "enabled", "severity", "params", "updated_at"]
    list_editable = ["enabled", "severity"]
    readonly_fields = ["code", "updated_at"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(VerifiedSpender)
class VerifiedSpenderAdmin(admin.ModelAdmin):
    list_display = ["label", "address"]
    search_fields = ["label", "address"]
