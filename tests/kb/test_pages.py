"""Help-centre pages in both languages: what the public sees, drafts, and votes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from walletdesk.kb.models import Article, ArticleVote

pytestmark = pytest.mark.django_db


def zh_client(user: Any = None) -> Client:
    client = Client(headers={"Accept-Language": "zh-hans"})
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_help_home_lists_categories_articles_and_flows_in_both_languages(starter: None) -> None:
    en = Client().get("/help/").content.decode()
    assert "My account is locked after too many wrong passwords" in en
    assert "Signing in and account access" in en and "I cannot log in" in en
    assert 'action="/help/search/"' in en
    zh = zh_client().get("/help/").content.decode()
    assert "密码输错太多次，账户被锁定了怎么办" in zh and "登录与账户" in zh and "我无法登录" in zh


def test_portal_home_offers_the_search_box() -> None:
    page = Client().get("/").content.decode()
    assert 'action="/help/search/"' in page and 'href="/help/"' in page


def test_category_and_article_pages(starter: None) -> None:
    category = Client().get("/help/c/account-access/").content.decode()
    assert "/help/a/account-locked/" in category
    page = zh_client().get("/help/a/account-locked/").content.decode()
    assert "<strong>连续多次输错密码后，账户会被临时锁定</strong>" in page  # Markdown rendered
    assert "/help/a/forgot-password/" in page  # related
    assert 'action="/help/a/account-locked/vote/"' in page
    assert "这篇文章对你有帮助吗？" in page and "相关文章" in page  # the kb catalogue is compiled
    assert Client().get("/help/a/no-such-article/").status_code == 404
    assert Client().get("/help/c/no-such-category/").status_code == 404


def test_search_page_finds_chinese_and_english(starter: None) -> None:
    zh = zh_client().get("/help/search/", {"q": "账户被锁了怎么办"}).content.decode()
    assert "/help/a/account-locked/" in zh
    en = Client().get("/help/search/", {"q": "forgot my password"}).content.decode()
    assert "/help/a/forgot-password/" in en
    empty = Client().get("/help/search/", {"q": "zzzzqqqq"}).content.decode()
    assert "No article matched your question." in empty


def test_draft_is_hidden_from_public_pages_and_shown_to_agents(
    draft: Article, carol: Any, alice: Any, as_user: Any
) -> None:
    for client in (Client(), as_user(carol)):
        assert client.get("/help/a/secret-draft/").status_code == 404
        assert "Quokka" not in client.get("/help/").content.decode()
        assert "Quokka" not in client.get("/help/c/security/").content.decode()
        assert "Quokka" not in client.get("/help/search/", {"q": "quokka"}).content.decode()
    page = as_user(alice).get("/help/a/secret-draft/").content.decode()
    assert "Quokka migration notice" in page and "Draft" in page


def test_votes_are_recorded_by_post_only(starter: None) -> None:
    client = Client()
    article = Article.objects.get(slug="account-locked")
    assert client.get("/help/a/account-locked/vote/").status_code == 405
    client.get("/help/a/account-locked/?helpful=yes")
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 0)

    response = client.post("/help/a/account-locked/vote/", {"helpful": "yes"})
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    # The same visitor changes their mind: the answer moves, it is not counted twice.
    partial = client.post("/help/a/account-locked/vote/", {"helpful": "no"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "improve" in partial.content.decode()
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 1)
    assert ArticleVote.objects.filter(article=article).count() == 1
    # Another visitor adds a vote.
    Client().post("/help/a/account-locked/vote/", {"helpful": "yes"})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    assert client.post("/help/a/account-locked/vote/", {"helpful": "maybe"}).status_code == 400


def test_voting_needs_csrf(starter: None) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/help/a/account-locked/vote/", {"helpful": "yes"}).status_code == 403


def test_drafts_cannot_be_voted_on(draft: Article, carol: Any, as_user: Any) -> None:
    assert as_user(carol).post("/help/a/secret-draft/vote/", {"helpful": "yes"}).status_code == 404


def test_article_html_is_sanitised(starter: None, alice: Any) -> None:
    from walletdesk.kb import actions
    from walletdesk.kb.actions import ArticleInput, TranslationInput

    body = "Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> [ok](/help/)"
    article = actions.create_article(
        "xss",
        ArticleInput(category="security", translations={"en": TranslationInput("T", "", body)}),
        actor=alice,
    )
    html = article.translations.get().body_html
    # Raw HTML is shown as text, never as markup; a javascript: link is not a link.
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html
    assert '<a href="/help/"' in html
