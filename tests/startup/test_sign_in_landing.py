"""Where the real sign-in form lands each persona: agents on the desk, customers on My requests.

Agents used to land on the customer's "My requests" (empty for them). A `next` that is safe
still wins; one pointing at another site is ignored.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import Client

from tests.browser import DESKTOP, PHONE, chromium

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PASSWORD = "correct horse battery staple 9"  # tests/conftest.py's personas


def _sign_in(client: Client, email: str, next_url: str | None = None) -> Any:
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    form = {"login": email, "password": PASSWORD}
    if next_url:
        form["next"] = next_url
    return client.post(url, form)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_each_persona_lands_where_they_work_in_a_real_browser(live_server: Any) -> None:
    from tests.conftest import _make_user

    _make_user("alice@desk.test", staff=True, teams=("general",))
    _make_user("carol@example.com")
    with chromium() as browser:
        for email, locale, viewport, landing, heading in (
            ("alice@desk.test", "zh-CN", PHONE, "/agent/", "[data-testid=bulk]"),
            ("carol@example.com", "en-US", DESKTOP, "/requests/", "h1"),
        ):
            context = browser.new_context(viewport=viewport, locale=locale)
            page = context.new_page()
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("input[name=login]", email)
            page.fill("input[name=password]", PASSWORD)
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url(f"{live_server.url}{landing}", timeout=10_000)
            page.locator(heading).first.wait_for()
            context.close()


@pytest.mark.django_db
def test_an_agent_lands_on_the_desk_and_a_customer_on_my_requests(alice: Any, carol: Any) -> None:
    assert _sign_in(Client(), "alice@desk.test")["Location"] == "/agent/"
    assert _sign_in(Client(), "carol@example.com")["Location"] == "/requests/"


@pytest.mark.django_db
def test_a_safe_next_still_wins_and_an_unsafe_one_is_ignored(alice: Any, carol: Any) -> None:
    assert _sign_in(Client(), "alice@desk.test", "/help/")["Location"] == "/help/"
    assert _sign_in(Client(), "carol@example.com", "/help/")["Location"] == "/help/"
    for evil in ("https://evil.example/agent/", "//evil.example/", "/\\evil.example"):
        assert _sign_in(Client(), "alice@desk.test", evil)["Location"] == "/agent/", evil
        assert _sign_in(Client(), "carol@example.com", evil)["Location"] == "/requests/", evil
