"""Load the shipped content (starter articles, troubleshooters) into the database.

Takes an app registry so the same code serves the data migration (historical models) and
the `kb_load_starter` command (live models). Idempotent: existing rows are left alone
unless `overwrite` is set, so an agent's edits survive a re-run.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from walletdesk.kb.render import render_markdown
from walletdesk.kb.starter import CATEGORIES, load_starter_articles

TROUBLESHOOTER_DIR = Path(__file__).parent / "content" / "troubleshooters"

# (English, Chinese) names of the starter categories, in CATEGORIES order.
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "getting-help": ("Getting help", "获取帮助"),
    "account-access": ("Signing in and account access", "登录与账户"),
    "security": ("Account security", "账户安全"),
    "transactions": ("Transfers and transactions", "转账与交易"),
    "fees-and-scams": ("Fees and scams", "手续费与防骗"),
}


def load_starter(apps: Any, *, overwrite: bool = False) -> int:
    """Create (or with `overwrite`, refresh) the starter articles; returns how many were written."""
    category_model = apps.get_model("kb", "ArticleCategory")
    article_model = apps.get_model("kb", "Article")
    translation_model = apps.get_model("kb", "ArticleTranslation")
    state_model = apps.get_model("kb", "IndexState")

    categories = {}
    for position, slug in enumerate(CATEGORIES):
        en, zh = CATEGORY_NAMES[slug]
        categories[slug], _ = category_model.objects.get_or_create(
            slug=slug, defaults={"name_en": en, "name_zh": zh, "position": position}
        )

    written = 0
    starters = load_starter_articles()
    by_slug = {}
    for starter in starters:
        article = article_model.objects.filter(slug=starter.slug).first()
        if article is not None and not overwrite:
            by_slug[starter.slug] = article
            continue
        if article is None:
            article = article_model(slug=starter.slug)
        article.category = categories[starter.category]
        article.position = starter.position
        article.ticket_categories = list(starter.ticket_categories)
        article.status = "published"
        article.save()
        for language, text in starter.translations.items():
            translation_model.objects.update_or_create(
                article=article,
                language=language,
                defaults={
                    "title": text.title,
                    "summary": text.summary,
                    "body_markdown": text.body_markdown,
                    "body_html": render_markdown(text.body_markdown),
                },
            )
        by_slug[starter.slug] = article
        written += 1
    for starter in starters:
        article = by_slug[starter.slug]
        if overwrite or not article.related.exists():
            article.related.set([by_slug[s] for s in starter.related if s in by_slug])
    state_model.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})
    return written


def shipped_troubleshooters() -> list[dict[str, Any]]:
    return [json.loads(path.read_text("utf-8")) for path in sorted(TROUBLESHOOTER_DIR.glob("*.json"))]


def load_troubleshooters(apps: Any, *, overwrite: bool = False) -> int:
    model = apps.get_model("kb", "Troubleshooter")
    written = 0
    for data in shipped_troubleshooters():
        if model.objects.filter(slug=data["slug"]).exists() and not overwrite:
            continue
        model.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "title_en": data["title"]["en"],
                "title_zh": data["title"]["zh-hans"],
                "summary_en": data["summary"]["en"],
                "summary_zh": data["summary"]["zh-hans"],
                "graph": data["graph"],
                "position": data.get("position", 0),
                "status": "published",
            },
        )
        written += 1
    return written
