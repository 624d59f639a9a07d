"""The agent's account actions on the ticket page: unlock, force a reset, reset 2FA, close a case.

An agent may act on a customer's account only from a ticket they are allowed to see; the
account side of each step is an action in `walletdesk.accounts.actions`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from walletdesk.accounts import actions as account_actions
from walletdesk.accounts import ratelimit, texts
from walletdesk.accounts.actions import AccountError
from walletdesk.accounts.forms import AgentActionForm, ResetMFAForm
from walletdesk.accounts.models import User
from walletdesk.core.agents import agent_required
from walletdesk.desk.views import _ticket, _ticket_page
from walletdesk.tickets import identity
from walletdesk.tickets.models import Ticket


def _account_action(
    request: HttpRequest, reference: str, form_class: type[AgentActionForm], prefix: str
) -> tuple[Ticket, User | None, AgentActionForm]:
    """The ticket (only if this agent may see it), the account its requester proved to be
    (None until proven: a typed email is not the account), and the posted form."""
    ticket = _ticket(request, reference)  # 404 for a ticket the agent may not see
    user = identity.account_of(ticket)
    form = form_class(request.POST, prefix=prefix)
    return ticket, user, form


def _done(
    request: HttpRequest, reference: str, form: AgentActionForm, run: Callable[[dict[str, str]], str]
) -> HttpResponse:
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                flash.error(request, str(error))
        return redirect("agent:ticket", reference=reference)
    try:
        message = run(form.cleaned_data)
    except AccountError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, message)
    return redirect("agent:ticket", reference=reference)


def _agent(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # agent_required let only a signed-in agent through
    return request.user


def _no_account(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """Refused: no account, or one the requester has not proven to be theirs. Enforced here,
    not only by the sidebar hiding the buttons."""
    flash.error(
        request,
        _(
            "No account action: the requester has not proven that an account is theirs (signed in, or confirmed by link)."
        ),
    )
    return _ticket_page(request, ticket, status=403)


@agent_required
@require_POST
def unlock(request: HttpRequest, reference: str) -> HttpResponse:
    ticket, user, form = _account_action(request, reference, AgentActionForm, "unlock")
    if user is None:
        return _no_account(request, ticket)

    def run(data: dict[str, str]) -> str:
        account_actions.unlock_account(
            user, actor=request.user, reason=data["reason"], ip=ratelimit.client_ip(request)
        )
        return str(texts.UNLOCKED)

    return _done(request, ticket.reference, form, run)


@agent_required
@require_POST
def force_reset(request: HttpRequest, reference: str) -> HttpResponse:
    ticket, user, form = _account_action(request, reference, AgentActionForm, "reset")
    if user is None:
        return _no_account(request, ticket)

    def run(data: dict[str, str]) -> str:
        account_actions.force_password_reset(
            user,
            actor=_agent(request),
            reason=data["reason"],
            ip=ratelimit.client_ip(request),
        )
        return str(texts.RESET_FORCED)

    return _done(request, ticket.reference, form, run)


@agent_required
@require_POST
def reset_mfa(request: HttpRequest, reference: str) -> HttpResponse:
    ticket, user, form = _account_action(request, reference, ResetMFAForm, "mfa")
    if user is None:
        return _no_account(request, ticket)

    def run(data: dict[str, str]) -> str:
        account_actions.reset_mfa(
            user,
            actor=_agent(request),
            reason=data["reason"],
            identity_check=data["identity_check"],
            ip=ratelimit.client_ip(request),
        )
        return str(texts.MFA_RESET)

    return _done(request, ticket.reference, form, run)


@agent_required
@require_POST
def close_case(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = AgentActionForm(request.POST, prefix="close")

    def run(data: dict[str, str]) -> str:
        closed = account_actions.close_recovery_cases_for_ticket(
            ticket.pk, actor=request.user, reason=data["reason"]
        )
        if not closed:
            raise AccountError("no_case", str(texts.NO_OPEN_CASE))
        return str(texts.CASE_CLOSED) % {"days": settings.DOCUMENT_RETENTION_DAYS}

    return _done(request, ticket.reference, form, run)
