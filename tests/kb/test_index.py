"""The process-wide search index follows edits without a restart, and searches only published text."""

from __future__ import annotations

from typing import Any

import pytest

from walletdesk.kb import actions, index
from walletdesk.kb.actions import ArticleInput, TranslationInput
from walletdesk.kb.forms import ArticleForm
from walletdesk.kb.models import Article, IndexState

pytestmark = pytest.mark.django_db


def slugs(query: str, language: str = "en") -> list[str]:
    return [hit.slug for hit in index.search(query, language, 5)]


def _input_for(article: Article, **changes: str) -> ArticleInput:
    form = ArticleForm(data=None, initial=ArticleForm.initial_for(article), editing=article)
    data = {**form.initial, **changes}
    return ArticleInput(
        category=data["category"].slug,
        position=data["position"],
        ticket_categories=tuple(data["ticket_categories"]),
        related=tuple(a.slug for a in data["related"]),
        translations={
            "en": TranslationInput(data["title_en"], data["summary_en"], data["body_en"]),
            "zh-hans": TranslationInput(data["title_zh"], data["summary_zh"], data["body_zh"]),
        },
    )


def test_editing_a_title_is_searchable_at_once(starter: None, alice: Any) -> None:
    assert slugs("wombat") == []
    article = Article.objects.get(slug="network-fees-explained")
    actions.update_article(article, _input_for(article, title_en="Wombat fees explained"), actor=alice)
    assert slugs("wombat")[0] == "network-fees-explained"
    actions.update_article(article, _input_for(article, title_zh="袋熊手续费说明"), actor=alice)
    assert slugs("袋熊", "zh-hans")[0] == "network-fees-explained"


def test_another_process_sees_the_change_after_the_check_interval(
    starter: None, settings: Any, monkeypatch: Any
) -> None:
    settings.KB_INDEX_CHECK_SECONDS = 60
    clock = [1000.0]
    monkeypatch.setattr(index.time, "monotonic", lambda: clock[0])
    assert slugs("forgot password")[0] == "forgot-password"
    # Another process publishes a change: it writes rows and a new token, nothing else.
    from walletdesk.kb.models import ArticleTranslation

    ArticleTranslation.objects.filter(article__slug="forgot-password", language="en").update(title="Platypus")
    IndexState.objects.filter(pk=1).update(token="changed-elsewhere")
    assert "forgot-password" not in slugs("platypus")  # still within the interval: old index
    clock[0] += 61
    assert slugs("platypus") == ["forgot-password"]


def test_drafts_are_not_searchable_until_published(draft: Article, alice: Any) -> None:
    assert slugs("quokka") == []
    actions.publish_article(draft, actor=alice)
    assert slugs("quokka") == ["secret-draft"]
    actions.unpublish_article(draft, actor=alice)
    assert slugs("quokka") == []


def test_search_falls_back_to_the_other_language(starter: None, alice: Any) -> None:
    actions.create_article(
        "en-only",
        ArticleInput(
            category="security", translations={"en": TranslationInput("Narwhal tips", "", "Narwhal.")}
        ),
        actor=alice,
    )
    actions.publish_article(Article.objects.get(slug="en-only"), actor=alice)
    hits = index.search("narwhal", "zh-hans", 5)
    assert [(h.slug, h.language) for h in hits] == [("en-only", "en")]


def test_chinese_question_finds_chinese_article_first(starter: None) -> None:
    hits = index.search("忘记密码怎么办", "zh-hans", 5)
    assert hits[0].slug == "forgot-password" and hits[0].language == "zh-hans"
