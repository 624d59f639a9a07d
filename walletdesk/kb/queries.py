"""Read side of the knowledge base: what a given person may see, shaped for pages and the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from walletdesk.core.agents import is_agent
from walletdesk.kb import hybrid, index
from walletdesk.kb.models import (
    Article,
    ArticleCategory,
    ArticleStatus,
    ArticleTranslation,
    Troubleshooter,
    other_language,
)


def visible_articles(user: Any = None) -> QuerySet[Article]:
    articles = Article.objects.select_related("category")
    return articles if is_agent(user) else articles.filter(status=ArticleStatus.PUBLISHED)


def visible_troubleshooters(user: Any = None) -> QuerySet[Troubleshooter]:
    flows = Troubleshooter.objects.all()
    return flows if is_agent(user) else flows.filter(status=ArticleStatus.PUBLISHED)


def pick_translation(translations: Iterable[ArticleTranslation], language: str) -> ArticleTranslation | None:
    """The translation in `language`, else the other one, else None."""
    by_lang = {t.language: t for t in translations}
    return by_lang.get(language) or by_lang.get(other_language(language))


@dataclass(frozen=True, slots=True)
class ArticleCard:
    slug: str
    title: str
    summary: str
    language: str
    url: str
    score: float | None = None


def card(article: Article, language: str, score: float | None = None) -> ArticleCard | None:
    text = pick_translation(article.translations.all(), language)
    if text is None:
        return None
    return ArticleCard(
        slug=article.slug,
        title=text.title,
        summary=text.summary,
        language=text.language,
        url=reverse("kb:article", args=[article.slug]),
        score=score,
    )


def _with_translations(articles: QuerySet[Article]) -> QuerySet[Article]:
    return articles.prefetch_related(Prefetch("translations", queryset=ArticleTranslation.objects.all()))


def cards(articles: QuerySet[Article], language: str) -> list[ArticleCard]:
    return [c for a in _with_translations(articles) if (c := card(a, language)) is not None]


def search_cards(query: str, language: str, k: int = 10, *, dense: bool = False) -> list[ArticleCard]:
    """Published articles matching `query`, best first, shown in the user's language.

    `dense`: lexical and dense mixed (walletdesk.kb.hybrid), for the search page and the search
    API; without it the lexical index alone, for suggestions as the customer types (~1 ms; the
    model's ~20 ms per query would be paid on every keystroke)."""
    hits: list[index.Hit] | list[hybrid.HybridHit] = (
        hybrid.search(query, language, k) if dense else index.search(query, language, k)
    )
    if not hits:
        return []
    found = {
        a.slug: a
        for a in _with_translations(
            Article.objects.filter(slug__in=[h.slug for h in hits], status=ArticleStatus.PUBLISHED)
        )
    }
    # The index can be a few seconds behind an unpublish in another process: drop what is gone.
    out = [card(found[h.slug], language, h.score) for h in hits if h.slug in found]
    return [c for c in out if c is not None]


def articles_for_ticket_category(slug: str, language: str, k: int = 5) -> list[ArticleCard]:
    # JSONField "contains" is not portable to SQLite; the list is small, filter in Python.
    published = _with_translations(Article.objects.filter(status=ArticleStatus.PUBLISHED))
    out = [card(a, language) for a in published if slug in (a.ticket_categories or [])]
    return [c for c in out if c is not None][:k]


@dataclass(frozen=True, slots=True)
class CategoryBlock:
    category: ArticleCategory
    articles: list[ArticleCard]


def categories_with_articles(user: Any, language: str) -> list[CategoryBlock]:
    by_category: dict[int, list[ArticleCard]] = {}
    for article in _with_translations(visible_articles(user)):
        c = card(article, language)
        if c is not None:
            by_category.setdefault(article.category_id, []).append(c)
    return [
        CategoryBlock(category, by_category[category.pk])
        for category in ArticleCategory.objects.all()
        if by_category.get(category.pk)
    ]
