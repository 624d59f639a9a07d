"""/api/v1/kb: search, suggest, articles; drafts only for agents; JSON errors like the rest."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from walletdesk.kb.models import Article

pytestmark = pytest.mark.django_db


def test_search_in_both_languages(starter: None) -> None:
    zh = Client().get("/api/v1/kb/search", {"q": "转账一直在确认中", "lang": "zh-hans", "k": 3}).json()
    assert zh[0]["slug"] == "transaction-pending" and zh[0]["language"] == "zh-hans"
    assert len(zh) <= 3 and zh[0]["url"] == "/help/a/transaction-pending/"
    en = Client().get("/api/v1/kb/search", {"q": "how do I revoke an approval", "lang": "en"}).json()
    assert en[0]["slug"] == "revoke-token-approvals" and en[0]["title"].startswith("How to check and revoke")
    assert Client().get("/api/v1/kb/search", {"q": ""}).json() == []


@pytest.mark.parametrize(
    ("question", "lang", "slug"),
    [
        ("我的账号被锁定了，登不进去", "zh-hans", "account-locked"),
        ("有人说解冻要先交保证金，是真的吗", "zh-hans", "paid-support-links-scam"),
        ("I forgot my password and cannot sign in", "en", "forgot-password"),
        ("someone stole my crypto, there is a transfer I did not make", "en", "unauthorised-transaction"),
    ],
)
def test_suggest_answers_the_question(starter: None, question: str, lang: str, slug: str) -> None:
    hits = Client().get("/api/v1/kb/suggest", {"q": question, "lang": lang}).json()
    assert 1 <= len(hits) <= 5
    assert slug in [h["slug"] for h in hits[:3]]


def test_article_endpoint(starter: None) -> None:
    body = Client().get("/api/v1/kb/articles/account-locked", {"lang": "zh-hans"}).json()
    assert body["title"] == "密码输错太多次，账户被锁定了怎么办" and body["status"] == "published"
    assert "<strong>" in body["body_html"] and body["category"] == "account-access"
    assert "forgot-password" in [r["slug"] for r in body["related"]]


def test_draft_article_is_404_for_public_and_visible_to_agents(
    draft: Article, carol: Any, alice: Any, as_user: Any
) -> None:
    for client in (Client(), as_user(carol)):
        response = client.get("/api/v1/kb/articles/secret-draft")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "No such article.", "field": None}
        assert client.get("/api/v1/kb/search", {"q": "quokka"}).json() == []
    agent = as_user(alice).get("/api/v1/kb/articles/secret-draft", {"lang": "en"})
    assert agent.status_code == 200 and agent.json()["status"] == "draft"


def test_bad_parameters_are_json_errors(starter: None) -> None:
    response = Client().get("/api/v1/kb/search", {"q": "x", "lang": "fr"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input" and body["field"] == "lang"
    assert Client().get("/api/v1/kb/search", {"q": "x", "k": 500}).json()["field"] == "k"


def test_openapi_lists_the_kb_endpoints() -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/kb/search", "/api/v1/kb/suggest", "/api/v1/kb/articles/{slug}"} <= set(paths)
