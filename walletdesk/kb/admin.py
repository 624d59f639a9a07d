"""Read-mostly admin: agents edit in the desk (/agent/kb/), where the actions run."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from walletdesk.kb.models import Article, ArticleCategory, DeflectionSession, Troubleshooter


class _ReadOnly(admin.ModelAdmin):
    # Writes must go through walletdesk.kb.actions (rendering, index token, audit), not here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_en", "name_zh", "position")


@admin.register(Article)
class ArticleAdmin(_ReadOnly):
    list_display = ("slug", "category", "status", "helpful_yes", "helpful_no", "updated_at")
    list_filter = ("status", "category")
    search_fields = ("slug", "translations__title")


@admin.register(Troubleshooter)
class TroubleshooterAdmin(_ReadOnly):
    list_display = ("slug", "title_en", "status", "updated_at")


@admin.register(DeflectionSession)
class DeflectionSessionAdmin(_ReadOnly):
    list_display = ("id", "language", "created_at", "ticket_reference")
    date_hierarchy = "created_at"
