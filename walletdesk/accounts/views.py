"""Customer-facing account pages: security overview, session revocation, self-service unlock.

The agent's identity-document viewer is `walletdesk.desk.documents`: who may open a document
depends on the case's ticket, which accounts cannot see."""

from __future__ import annotations

from typing import Any

from allauth.mfa.base.views import AuthenticateView as AllauthAuthenticateView
from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from walletdesk.accounts import actions, ratelimit
from walletdesk.accounts.actions import AccountError
from walletdesk.accounts.adapters import SIGN_IN_FAILED
from walletdesk.accounts.forms import UnlockRequestForm
from walletdesk.accounts.models import LoginEvent, RecoveryCase, User
from walletdesk.core import ratelimit as shared_ratelimit


def _ip(request: HttpRequest) -> str | None:
    return ratelimit.client_ip(request)


@login_required
@require_GET
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    """Only ever the signed-in user's own data: there is no user id in the URL."""
    user: User = request.user  # type: ignore[assignment]
    sessions = UserSession.objects.purge_and_list(user)
    sessions.sort(key=lambda s: s.last_seen_at, reverse=True)
    current = request.session.session_key
    context = {
        "events": LoginEvent.objects.filter(user=user)[:20],
        "sessions": [(s, s.session_key == current) for s in sessions],
        "mfa_enabled": is_mfa_enabled(user),
        "has_password": user.has_usable_password(),
        "cases": RecoveryCase.objects.filter(user=user)[:5],
    }
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
def revoke_session(request: HttpRequest, session_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not UserSession.objects.filter(pk=session_id, user_id=user.pk).exists():
        raise Http404
    is_current = UserSession.objects.filter(pk=session_id, session_key=request.session.session_key).exists()
    try:
        actions.revoke_session(user, session_id, actor=user, ip=_ip(request))
    except AccountError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:security")
    if is_current:
        return redirect("account_login")
    messages.success(request, _("That session is signed out."))
    return redirect("accounts:security")


@require_http_methods(["GET", "POST"])
@never_cache
def unlock_request(request: HttpRequest) -> HttpResponse:
    form = UnlockRequestForm(request.POST or None)
    context: dict[str, Any] = {"form": form, "minutes": settings.UNLOCK_LINK_MAX_AGE_MINUTES}
    if request.method == "POST":
        if not shared_ratelimit.hit(request, "unlock", settings.RATE_LIMIT_UNLOCK):
            return ratelimit.too_many(request)
        if form.is_valid():
            email = form.cleaned_data["email"]
            # Also limit per address, so nobody floods someone's inbox from many IPs.
            if shared_ratelimit.hit(request, "unlock-email", "3/h/key", key=email.lower()):
                actions.request_unlock(email, ip=_ip(request))
            # The same answer whether or not the address is an account: no enumeration.
            context["sent"] = True
    return render(request, "accounts/unlock_request.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
def unlock_confirm(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: mail scanners that open links must not use up the token.
    if request.method == "GET":
        valid = actions.unlock_token_user(token) is not None
        return render(request, "accounts/unlock_confirm.html", {"valid": valid}, status=200 if valid else 410)
    try:
        actions.redeem_unlock_token(token, ip=_ip(request))
    except AccountError:
        return render(request, "accounts/unlock_confirm.html", {"valid": False}, status=410)
    return render(request, "accounts/unlock_confirm.html", {"done": True})


class AuthenticateView(AllauthAuthenticateView):
    """allauth's 2FA step, but a wrong code ends the attempt like a wrong password does.

    The failure has already been counted towards the axes lockout (receivers.on_mfa_failed);
    the user goes back to the sign-in page with the one generic message, so the page never says
    which factor was wrong.
    """

    def form_invalid(self, form: Any) -> HttpResponse:
        response = self.stage.abort()
        messages.error(self.request, str(SIGN_IN_FAILED))
        return response


mfa_authenticate = AuthenticateView.as_view()
