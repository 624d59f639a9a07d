"""Knowledge-base API, mounted at /api/v1/kb: search, suggestions as you type, articles.

Public and read-only. Drafts exist only for agents (by their session); for anyone else a
draft is a 404, the same answer as an article that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from walletdesk.kb import queries
from walletdesk.kb.models import current_language

router = Router(tags=["knowledge base"])

Language = Literal["en", "zh-hans"]


class ArticleHitOut(Schema):
    slug: str
    title: str
    summary: str
    language: str = Field(description="The language this title and summary are in.")
    url: str = Field(description="The help-centre page of the article.")
    score: float | None = None


class ArticleOut(Schema):
    slug: str
    category: str
    status: str
    language: str
    title: str
    summary: str
    body_html: str = Field(description="Rendered from Markdown and sanitised; safe to show as is.")
    updated_at: datetime
    related: list[ArticleHitOut]


class SearchParams(Schema):
    q: str = Field("", max_length=500)
    lang: Language | None = None
    k: int = Field(10, ge=1, le=50)


class SuggestParams(Schema):
    q: str = Field("", max_length=500)
    lang: Language | None = None


def _hit(c: queries.ArticleCard) -> ArticleHitOut:
    return ArticleHitOut(
        slug=c.slug, title=c.title, summary=c.summary, language=c.language, url=c.url, score=c.score
    )


@router.get("/search", response=list[ArticleHitOut], summary="Search published articles")
def search(request: HttpRequest, params: Query[SearchParams]) -> list[ArticleHitOut]:
    """Best first, in `lang` (default: the request's language), then the other language."""
    if not params.q.strip():
        return []
    return [
        _hit(c)
        for c in queries.search_cards(params.q, params.lang or current_language(), params.k, dense=True)
    ]


@router.get("/suggest", response=list[ArticleHitOut], summary="Articles that may answer a question")
def suggest(request: HttpRequest, params: Query[SuggestParams]) -> list[ArticleHitOut]:
    """The top five for what the user has typed so far (the in-app help screen calls this)."""
    if not params.q.strip():
        return []
    return [_hit(c) for c in queries.search_cards(params.q, params.lang or current_language(), 5)]


@router.get("/articles/{slug}", response=ArticleOut, summary="One article")
def article(request: HttpRequest, slug: str, lang: Language | None = None) -> ArticleOut:
    language = lang or current_language()
    found = queries.visible_articles(request.user).filter(slug=slug).prefetch_related("translations").first()
    text = queries.pick_translation(found.translations.all(), language) if found else None
    if found is None or text is None:
        raise HttpError(404, _("No such article."))
    related = queries.cards(
        queries.visible_articles(request.user).filter(pk__in=found.related.all()), language
    )
    return ArticleOut(
        slug=found.slug,
        category=found.category.slug,
        status=found.status,
        language=text.language,
        title=text.title,
        summary=text.summary,
        body_html=text.body_html,
        updated_at=text.updated_at,
        related=[_hit(c) for c in related],
    )
