"""Session bookkeeping and the 2FA requirement for agents."""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

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
