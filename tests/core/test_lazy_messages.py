"""Flash messages with storage built on first use (core.middleware.LazyMessageMiddleware)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from walletdesk.core.middleware import LazyMessageMiddleware


def _through(
    view: Callable[[HttpRequest], HttpResponse], cookies: dict[str, str] | None = None
) -> tuple[HttpRequest, Any]:
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies or {})
    chain = SessionMiddleware(LazyMessageMiddleware(view))
    return request, chain(request)


def test_a_flashed_message_reaches_the_next_page_and_is_then_gone(db: None) -> None:
    def flash(request: HttpRequest) -> HttpResponse:
        messages.success(request, "Reply sent.")
        return HttpResponse("ok")

    seen: list[str] = []

    def show(request: HttpRequest) -> HttpResponse:
        seen.extend(str(m) for m in messages.get_messages(request))
        return HttpResponse("page")

    _, first = _through(flash)
    assert "messages" in first.cookies  # stored for the next request
    cookies = {name: morsel.value for name, morsel in first.cookies.items()}
    _, second = _through(show, cookies)
    assert seen == ["Reply sent."]
    # Shown once: the next response clears the cookie.
    assert second.cookies["messages"].value == ""


def test_a_request_that_never_uses_messages_builds_no_storage(db: None) -> None:
    request, response = _through(lambda request: HttpResponse("api"))
    assert request._messages._wrapped is empty  # type: ignore[attr-defined]
    assert "messages" not in response.cookies
