"""Account recovery ("account stolen") and the agent's account actions on the ticket page.

These live in tickets because they join the two apps: a recovery case opens an urgent ticket,
and an agent may act on a customer's account only from a ticket they are allowed to see.
The account side of each step is an action in `walletdesk.accounts.actions`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from walletdesk.accounts import actions as account_actions
from walletdesk.accounts import ratelimit, texts
from walletdesk.accounts.actions import AccountError
from walletdesk.accounts.documents import DocumentRejected, PreparedDocument, prepare
from walletdesk.accounts.forms import AgentActionForm, RecoveryCaseForm, ResetMFAForm
from walletdesk.accounts.models import DocumentSide, RecoveryCase, User
from walletdesk.core import ratelimit as shared_ratelimit
from walletdesk.core.agents import agent_required
from walletdesk.tickets import actions, identity
from walletdesk.tickets.actions import NewTicket, TicketError
from walletdesk.tickets.agent_views import _ticket, _ticket_page
from walletdesk.tickets.models import Channel, Ticket
from walletdesk.tickets.tracking import make_token


def _body(data: dict[str, str], case: RecoveryCase, count: int) -> str:
    parts = [data["what_happened"].strip()]
    if data.get("recent_activity", "").strip():
        parts.append(str(texts.RECENT_ACTIVITY) + "\n" + data["recent_activity"].strip())
    parts.append(str(texts.DOCUMENTS_ATTACHED) % {"n": count, "case": case.public_id})
    return "\n\n".join(parts)


@require_http_methods(["GET", "POST"])
def new_recovery_case(request: HttpRequest) -> HttpResponse:
    form = RecoveryCaseForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST":
        # Before anything is read or stored: a flood gets 429 and leaves nothing behind.
        if not shared_ratelimit.hit(request, "document-upload", settings.RATE_LIMIT_DOCUMENT_UPLOAD):
            return ratelimit.too_many(request)
        if form.is_valid() and not request.user.is_authenticated:
            # A guest's case is a guest ticket, mailed to the typed address: the same shared
            # per-address limit as the ticket form and API, or this form mails anyone's inbox
            # from as many addresses as the sender has.
            charge = shared_ratelimit.guest_charge(
                request, "guest-ticket", settings.RATE_LIMIT_GUEST_TICKET, form.cleaned_data["email"]
            )
            try:
                shared_ratelimit.charge(charge)
            except shared_ratelimit.RateLimited as exc:
                response = ratelimit.too_many(request)
                response["Retry-After"] = str(exc.retry_after)
                return response
        if form.is_valid():
            data = form.cleaned_data
            documents: list[PreparedDocument] = []
            for side in (DocumentSide.FRONT, DocumentSide.BACK):
                upload = data.get(side.value)
                if not upload:
                    continue
                try:
                    documents.append(
                        prepare(upload.name, upload.read(), kind=data["document_kind"], side=side.value)
                    )
                except DocumentRejected as exc:
                    form.add_error(side.value, exc.message)
            if form.is_valid():
                user = request.user if request.user.is_authenticated else None
                email = user.email if user is not None and user.email else data["email"]
                language = getattr(request, "LANGUAGE_CODE", "en")
                opened: dict[str, int] = {}

                def open_ticket(case: RecoveryCase) -> tuple[int, str]:
                    ticket = actions.create_ticket(
                        NewTicket(
                            subject=str(texts.RECOVERY_SUBJECT),
                            body=_body(data, case, len(documents)),
                            channel=Channel.WEB,
                            email=email,
                            user=user,
                            language=language,
                            category="account_stolen",
                            priority="urgent",
                            facts={"account": email},
                        )
                    )
                    opened["contact_id"] = ticket.contact_id
                    return ticket.pk, ticket.reference

                try:
                    case = account_actions.open_recovery_case(
                        email=email,
                        user=user,
                        language=language,
                        documents=documents,
                        open_ticket=open_ticket,
                        ip=ratelimit.client_ip(request),
                    )
                except (AccountError, TicketError) as exc:
                    field = getattr(exc, "field", None)
                    form.add_error(field if field in form.fields else None, exc.message)
                else:
                    return redirect(
                        "portal:submitted", token=make_token(case.ticket_reference, opened["contact_id"])
                    )
    return render(
        request,
        "accounts/recovery/new.html",
        {"form": form, "max_mb": settings.DOCUMENT_MAX_BYTES // 1_048_576},
        status=400 if request.method == "POST" else 200,
    )


# --- agent account actions ---------------------------------------------------------------------


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
