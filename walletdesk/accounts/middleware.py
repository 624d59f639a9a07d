"""Session bookkeeping and the 2FA requirement for agents."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote_plus

from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from walletdesk import shield

SEEN_KEY = "_wd_seen"
SEEN_EVERY = 300  # seconds: last-seen is a hint, not worth a write per request


class SessionActivityMiddleware:
    """Keep a UserSession row for every signed-in session, and its last-seen time, cheaply.

    allauth.usersessions creates the row at an allauth login; this also covers sessions made
    otherwise (admin login, tests' force_login) and refreshes last-seen at most every 5 minutes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None and session.session_key:
            now = time.time()
            if now - float(session.get(SEEN_KEY, 0)) > SEEN_EVERY:
                UserSession.objects.create_from_request(request)
                session[SEEN_KEY] = now
        return response


class RequireAgentMFAMiddleware:
    """With REQUIRE_AGENT_MFA, staff without 2FA are sent to enrolment before the agent desk."""

    PROTECTED = ("/agent/", "/admin/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.REQUIRE_AGENT_MFA
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(self.PROTECTED)
            and not is_mfa_enabled(user)
        ):
            messages.warning(
                request, _("Agents must turn on two-factor authentication before using the desk.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


@lru_cache(maxsize=512)
def _screened(value: str) -> str:
    # Browsers send the same few user agents over and over: the scan runs once per string.
    return shield.scan(value).redacted


class ScreenStoredHeadersMiddleware:
    """The request values the account machinery stores pass the shield first.

    allauth's sessions, our login history and django-axes write the User-Agent header, and
    axes writes a failed sign-in's query string, as sent. A header is anyone's to write, so a
    recovery phrase pasted there would otherwise reach the database unscreened.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        agent = request.META.get("HTTP_USER_AGENT")
        if agent:
            request.META["HTTP_USER_AGENT"] = _screened(str(agent)[:512])
        query = request.META.get("QUERY_STRING", "")
        if query and request.method == "POST" and request.path.startswith("/accounts/"):
            plain = unquote_plus(query)
            if shield.scan(plain).findings:
                request.META["QUERY_STRING"] = ""
                request.GET = QueryDict("")
        return self.get_response(request)
