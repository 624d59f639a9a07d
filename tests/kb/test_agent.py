"""The agent's help-centre editor: agents only; create, edit both languages, publish."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from walletdesk.kb.models import Article, Troubleshooter

pytestmark = pytest.mark.django_db

# Every agent KB page and endpoint, with the method that reaches it.
AGENT_ENDPOINTS = [
    ("get", "/agent/kb/"),
    ("get", "/agent/kb/new/"),
    ("post", "/agent/kb/new/"),
    ("get", "/agent/kb/a/account-locked/"),
    ("post", "/agent/kb/a/account-locked/"),
    ("post", "/agent/kb/a/account-locked/publish/"),
    ("post", "/agent/kb/a/account-locked/unpublish/"),
    ("get", "/agent/kb/flows/new/"),
    ("post", "/agent/kb/flows/new/"),
    ("get", "/agent/kb/flows/cannot-log-in/"),
    ("post", "/agent/kb/flows/cannot-log-in/"),
    ("post", "/agent/kb/flows/cannot-log-in/status/"),
]


@pytest.mark.parametrize(("method", "url"), AGENT_ENDPOINTS)
def test_anonymous_is_sent_to_sign_in(starter: None, method: str, url: str) -> None:
    response = getattr(Client(), method)(url, {"status": "draft"} if method == "post" else None)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Article.objects.get(slug="account-locked").is_published


@pytest.mark.parametrize(("method", "url"), AGENT_ENDPOINTS)
@pytest.mark.parametrize("persona", ["carol", "dave"])
def test_customers_are_refused(
    starter: None, method: str, url: str, persona: str, request: Any, as_user: Any
) -> None:
    client = as_user(request.getfixturevalue(persona))
    response = getattr(client, method)(url, {"status": "draft"} if method == "post" else None)
    assert response.status_code == 403
    assert Article.objects.get(slug="account-locked").is_published
    assert Troubleshooter.objects.get(slug="cannot-log-in").is_published


@pytest.mark.parametrize("persona", ["alice", "bob", "erin", "root"])
def test_every_agent_may_open_the_editor(starter: None, persona: str, request: Any, as_user: Any) -> None:
    client = as_user(request.getfixturevalue(persona))
    assert client.get("/agent/kb/").status_code == 200
    assert client.get("/agent/kb/a/account-locked/").status_code == 200


def test_agent_creates_edits_and_publishes_an_article(starter: None, alice: Any, as_user: Any) -> None:
    client = as_user(alice)
    form = {
        "slug": "gas-station",
        "category": "fees-and-scams",
        "position": 9,
        "ticket_categories": ["fees"],
        "related": ["network-fees-explained"],
        "title_en": "Gas station explained",
        "summary_en": "What the gas station is.",
        "body_en": "It pays **fees** for you.",
        "title_zh": "",
        "summary_zh": "",
        "body_zh": "",
    }
    response = client.post("/agent/kb/new/", form)
    assert response.status_code == 302 and response["Location"] == "/agent/kb/a/gas-station/"
    article = Article.objects.get(slug="gas-station")
    assert not article.is_published and article.ticket_categories == ["fees"]
    assert Client().get("/help/a/gas-station/").status_code == 404

    form.update(title_zh="加油站说明", body_zh="它替你支付**手续费**。")
    del form["slug"]
    assert client.post("/agent/kb/a/gas-station/", form).status_code == 302
    assert (
        article.translations.get(language="zh-hans").body_html
        == "<p>它替你支付<strong>手续费</strong>。</p>\n"
    )

    assert client.post("/agent/kb/a/gas-station/publish/").status_code == 302
    zh = Client(headers={"Accept-Language": "zh-hans"}).get("/help/a/gas-station/").content.decode()
    assert "加油站说明" in zh
    assert Client().get("/api/v1/kb/search", {"q": "gas station"}).json()[0]["slug"] == "gas-station"

    assert client.post("/agent/kb/a/gas-station/unpublish/").status_code == 302
    assert Client().get("/help/a/gas-station/").status_code == 404


def test_bad_article_input_is_shown_on_the_form(starter: None, alice: Any, as_user: Any) -> None:
    page = as_user(alice).post(
        "/agent/kb/new/",
        {"slug": "account-locked", "category": "security", "position": 0, "title_en": "x", "body_en": "y"},
    )
    assert page.status_code == 200 and "already exists" in page.content.decode()
    page = as_user(alice).post("/agent/kb/new/", {"slug": "empty", "category": "security", "position": 0})
    assert "at least one language" in page.content.decode()


def test_agent_creates_and_publishes_a_flow(starter: None, alice: Any, as_user: Any) -> None:
    from django.contrib.auth.models import Permission

    alice.user_permissions.add(Permission.objects.get(codename="change_troubleshooter"))
    client = as_user(alice)
    data = {"slug": "restart", "title_en": "Restart", "title_zh": "重启", "position": 3}
    assert client.post("/agent/kb/flows/new/", data).status_code == 302
    assert Client().get("/help/t/restart/").status_code == 404  # a draft
    assert client.post("/agent/kb/flows/restart/status/", {"status": "published"}).status_code == 302
    assert "What happens?" in Client().get("/help/t/restart/").content.decode()
