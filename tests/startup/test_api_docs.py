"""The API docs page renders in a real browser, from our own origin, under our own CSP.

It was a blank page: Swagger UI came from a CDN that the site's Content-Security-Policy
(script-src 'self') refused. Screenshots: test-artifacts/startup/{zh-phone,en-desktop}-api-docs.png.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.browser import DESKTOP, PHONE, chromium, shot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_docs_page_lists_the_operations_from_our_own_origin(live_server: Any) -> None:
    base = live_server.url
    with chromium() as browser:
        for locale, lang, size, viewport in (
            ("zh-CN", "zh", "phone", PHONE),
            ("en-US", "en", "desktop", DESKTOP),
        ):
            context = browser.new_context(viewport=viewport, locale=locale, is_mobile=size == "phone")
            page = context.new_page()
            hosts: set[str] = set()
            blocked: list[str] = []
            page.on("request", lambda request, seen=hosts: seen.add(urlsplit(request.url).netloc))
            page.on(
                "console",
                lambda message, errors=blocked: (
                    errors.append(message.text)
                    if "Content Security Policy" in message.text or message.type == "error"
                    else None
                ),
            )
            page.goto(f"{base}/api/v1/docs")
            page.locator(".opblock").first.wait_for(timeout=15_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any(p.replace("\u200b", "") == "/api/v1/tickets" for p in paths), paths
            assert page.locator(".opblock").count() >= 10
            # The agent's token is declared, so the page offers to authorise with it.
            page.locator("button.authorize").first.click()
            page.get_by_text("agentToken").first.wait_for(timeout=5_000)
            page.locator(".modal-ux .close-modal").click()
            shot(page, f"startup/{lang}-{size}-api-docs")
            # Everything came from us: no CDN, nothing the CSP had to block.
            assert hosts == {urlsplit(base).netloc}, hosts
            assert not blocked, blocked
            context.close()


@pytest.mark.django_db
def test_the_openapi_declares_the_agent_bearer_token_on_the_ticket_endpoints() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["agentToken"]["type"] == "http" and schemes["agentToken"]["scheme"] == "bearer"
    assert schemes["trackingToken"] == {
        **schemes["trackingToken"],
        "in": "header",
        "name": "X-Tracking-Token",
    }
    tickets = schema["paths"]["/api/v1/tickets"]
    assert tickets["get"]["security"] == [{"agentToken": []}]
    # Creating a ticket works without a credential too; OpenAPI says so with an empty alternative.
    assert {} in tickets["post"]["security"] and {"agentToken": []} in tickets["post"]["security"]
    one = schema["paths"]["/api/v1/tickets/{reference}"]
    for method in ("get", "patch"):
        assert {"agentToken": []} in one[method]["security"], method
    # The in-app API keeps its own key.
    assert "AppKeyAuth" in schemes


@pytest.mark.django_db
def test_the_declared_bearer_token_is_what_the_endpoints_accept(alice: Any, carol: Any) -> None:
    """What the document declares works: the token as a bearer lists the agent's tickets; a
    wrong one is refused, not ignored; none at all is 401."""
    from walletdesk.accounts.actions import issue_api_token

    token = issue_api_token(alice, name="docs test")
    client = Client()
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    wrong = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_token"
    assert client.get("/api/v1/tickets").status_code == 401
