"""The relevance cut-off: unrelated questions list nothing, typical ones a handful, not all 21."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from walletdesk.kb.search import SearchIndex
from walletdesk.kb.starter import load_starter_articles

UNRELATED = (
    "how do I bake a chocolate cake",
    "best pizza near me",
    "天气预报明天下雨吗",
    "附近有什么好吃的餐厅",
)


@pytest.fixture(scope="module")
def starter_index() -> SearchIndex:
    docs = [
        (a.slug, f"{t.title}\n{t.summary}\n{t.body_markdown}")
        for a in load_starter_articles()
        for t in a.translations.values()
    ]
    return SearchIndex.build(docs)


@pytest.mark.parametrize("query", UNRELATED)
def test_a_question_no_article_covers_finds_nothing(starter_index: SearchIndex, query: str) -> None:
    assert starter_index.search(query, k=20) == []


def test_without_the_cut_off_typo_correction_found_cake_recipes(starter_index: SearchIndex) -> None:
    # The old behaviour the cut-off removes: "cake" -> "fake" listed 13 articles.
    assert len(starter_index.search("how do I bake a chocolate cake", k=20, cutoff=False)) > 5


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("my account is locked", "account-locked"),
        ("账户被锁了怎么办", "account-locked"),
        ("pasword reset", "forgot-password"),
    ],
)
def test_a_typical_question_lists_a_handful_with_the_answer_first(
    starter_index: SearchIndex, query: str, slug: str
) -> None:
    hits = starter_index.search(query, k=20)
    assert hits[0][0] == slug
    assert 1 <= len(hits) <= 8
    assert len(starter_index.search(query, k=20, cutoff=False)) > len(hits)


def test_search_page_says_no_article_matched_and_lists_a_handful(starter: None) -> None:
    page = Client().get("/help/search/", {"q": "how do I bake a chocolate cake"}).content.decode()
    assert 'data-testid="kb-no-match"' in page and "No article matched your question." in page
    assert "/help/a/" not in page.split('id="kb-results"')[1]
    page = (
        Client()
        .get("/help/search/", {"q": "账户被锁了怎么办"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    listed = re.findall(r'href="(/help/a/[^"/]+/)"', page.split('id="kb-results"')[1])
    assert listed[0] == "/help/a/account-locked/" and 1 <= len(listed) <= 8


def test_suggestions_say_no_article_matched(starter: None) -> None:
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    box = zh.get("/help/suggest/", {"subject": "附近有什么好吃的餐厅", "kb_ds": "x"}).content.decode()
    assert "没有与您的问题相符的文章" in box and "/help/a/" not in box
    box = zh.get("/help/suggest/", {"subject": "账户被锁了怎么办", "kb_ds": "x"}).content.decode()
    assert "/help/a/account-locked/" in box and "kb-no-match" not in box


def test_the_no_match_state_echoes_the_query_escaped(starter: None) -> None:
    page = Client().get("/help/search/", {"q": "<b>明天下雨吗</b>"}).content.decode()
    assert "No article matched your question." in page
    assert "<b>明天" not in page and "&lt;b&gt;明天下雨吗" in page
