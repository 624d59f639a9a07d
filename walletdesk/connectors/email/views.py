"""Agent pages: quarantined mail (see, re-process) and mailbox health. Agents only."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from walletdesk import shield
from walletdesk.tickets import access

from .health import mailbox_rows
from .inbound import reprocess
from .models import InboundEmail, Outcome
from .parse import UnparseableMail, parse_mail

View = Callable[..., HttpResponse]


def _reviewers_only(view: View) -> View:
    """Anonymous visitors go to sign in; anyone `access` does not let review quarantined mail
    gets 403 (the desk's `agent_required` answers)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not access.may_review_quarantine(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _visible(request: HttpRequest) -> QuerySet[InboundEmail]:
    rows = InboundEmail.objects.filter(outcome=Outcome.QUARANTINED).select_related("mailbox")
    return access.visible_quarantine(request.user, rows)


@_reviewers_only
@require_GET
def quarantine_list(request: HttpRequest) -> HttpResponse:
    rows = _visible(request).order_by("-received_at", "-id")[:200]
    return render(request, "email_channel/quarantine.html", {"rows": rows, "mailboxes": mailbox_rows()})


@_reviewers_only
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


@_reviewers_only
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
