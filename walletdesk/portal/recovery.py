"""Account recovery ("account stolen"): the customer's form.

It joins two apps: the case is an account's (`walletdesk.accounts.actions`) and it opens an
urgent ticket (`walletdesk.tickets.actions`). The agent's side is `walletdesk.desk.account_views`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from walletdesk.accounts import actions as account_actions
from walletdesk.accounts import ratelimit, texts
from walletdesk.accounts.actions import AccountError
from walletdesk.accounts.documents import DocumentRejected, PreparedDocument, prepare
from walletdesk.accounts.forms import RecoveryCaseForm
from walletdesk.accounts.models import DocumentSide, RecoveryCase
from walletdesk.core import ratelimit as shared_ratelimit
from walletdesk.tickets import actions, guestlimits
from walletdesk.tickets.actions import NewTicket, TicketError
from walletdesk.tickets.models import Channel
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
            charge = guestlimits.ticket_charge(request, form.cleaned_data["email"], "account_stolen")
            try:
                shared_ratelimit.charge(charge)
            except shared_ratelimit.RateLimited as exc:
                response = ratelimit.too_many(request)
                response["Retry-After"] = str(exc.retry_after)
                return response
        if form.is_valid():
            data = form.cleaned_data
            documents: list[PreparedDocument] = []
            for side in (DocumentSide.FRONT, DocumentSide.BACK, DocumentSide.SELFIE):
                upload = data.get(side.value)
                if not upload:
                    continue
                try:
                    documents.append(
                        prepare(
                            upload.name,
                            upload.read(),
                            kind=data["document_kind"],
                            side=side.value,
                            photo_only=side == DocumentSide.SELFIE,
                        )
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
