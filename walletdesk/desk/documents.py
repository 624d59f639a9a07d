"""The identity documents of a recovery case, opened by a reviewing agent.

Who may open one is `tickets.access.may_view_identity_documents` (the case's ticket decides);
decrypting and auditing is `accounts.actions.view_identity_document`. Every open is audited,
and the decrypted bytes are never cached or sniffed into another type.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from walletdesk.accounts import actions as account_actions
from walletdesk.accounts import ratelimit
from walletdesk.accounts.actions import AccountError
from walletdesk.accounts.models import IdentityDocument, RecoveryCase
from walletdesk.core.agents import agent_required
from walletdesk.tickets import access
from walletdesk.tickets.models import Ticket


def case_ticket(case: RecoveryCase) -> Ticket | None:
    """The ticket a case opened (a plain id on the case: accounts never imports tickets)."""
    if case.ticket_id is None:
        return None
    return Ticket.objects.select_related("team").filter(pk=case.ticket_id).first()


def may_view(user: Any, case: RecoveryCase) -> bool:
    return access.may_view_identity_documents(user, case_ticket(case))


@agent_required
@require_GET
@never_cache
def identity_document(request: HttpRequest, public_id: str) -> HttpResponse:
    """Stream one decrypted document. A refusal is 403, not 404: the id is a random UUID that
    only the case's page shows, so answering "exists" reveals nothing guessable."""
    document = IdentityDocument.objects.select_related("case").filter(public_id=public_id).first()
    if document is None:
        raise Http404
    try:
        data = account_actions.view_identity_document(
            document, actor=request.user, allowed=may_view, ip=ratelimit.client_ip(request)
        )
    except AccountError:
        # Said in the agent's language, on the desk's page: not Django's bare "403 Forbidden".
        return render(request, "desk/document_refused.html", status=403)
    response = HttpResponse(data, content_type=document.content_type)
    disposition = "inline" if document.content_type.startswith("image/") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{document.kind}-{document.side}"'
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
