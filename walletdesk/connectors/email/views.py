"""Agent pages: quarantined mail (see, re-process) and mailbox health. Agents only."""

from __future__ import annotations

from django.contrib import messages as flash
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from walletdesk import shield
from walletdesk.core.agents import agent_required
from walletdesk.tickets import access

from .health import mailbox_rows
from .inbound import reprocess
from .models import InboundEmail, Outcome
from .parse import UnparseableMail, parse_mail


def _visible(request: HttpRequest) -> QuerySet[InboundEmail]:
    """Quarantined mail of a mailbox routed to a restricted team is for that team (and admins)."""
    rows = InboundEmail.objects.filter(outcome=Outcome.QUARANTINED).select_related("mailbox")
    if access.sees_all(request.user):
        return rows
    return rows.filter(
        Q(mailbox__isnull=True)
        | Q(mailbox__default_team__isnull=True)
        | Q(mailbox__default_team__restricted=False)
        | Q(mailbox__default_team__members=request.user)
    ).distinct()


@agent_required
@require_GET
def quarantine_list(request: HttpRequest) -> HttpResponse:
    rows = _visible(request).order_by("-received_at", "-id")[:200]
    return render(request, "email_channel/quarantine.html", {"rows": rows, "mailboxes": mailbox_rows()})


@agent_required
@require_GET
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = _visible(request).filter(pk=pk).first()
    if row is None:
        raise Http404
    # Agents see a decoded preview passed through the shield, never the raw bytes: a mail that
    # failed to store never went through screening and may hold a recovery phrase.
    preview, headers = "", ""
    try:
        parsed = parse_mail(row.raw)
        headers = f"From: {parsed.from_name} <{parsed.from_address}>\nSubject: {parsed.subject}\nDate: {parsed.date}"
        preview = shield.scan(parsed.text[:5000]).redacted
    except UnparseableMail as exc:
        preview = f"(unparseable: {exc.reason})"
    except Exception as exc:
        preview = f"(preview failed: {type(exc).__name__})"
    context = {"row": row, "headers": shield.scan(headers).redacted, "preview": preview}
    return render(request, "email_channel/quarantine_detail.html", context)


@agent_required
@require_POST
def quarantine_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    row = _visible(request).filter(pk=pk).first()
    if row is None:
        raise Http404
    result = reprocess(row)
    if result.outcome == Outcome.QUARANTINED:
        flash.warning(request, f"Still quarantined: {result.reason}")
    else:
        flash.success(request, f"{result.outcome}: {result.ticket_reference or result.reason}")
    if result.ticket_reference:
        return redirect("agent:ticket", result.ticket_reference)
    return redirect("email_channel:quarantine")
