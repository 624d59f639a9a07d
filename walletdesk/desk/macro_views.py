"""Agents apply a macro from the ticket page: fill the reply box (htmx) or send it directly."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from walletdesk.core.agents import agent_required
from walletdesk.desk import macros
from walletdesk.desk.forms import AgentReplyForm
from walletdesk.desk.models import Macro
from walletdesk.desk.views import _ticket, _ticket_page
from walletdesk.tickets import access
from walletdesk.tickets.actions import TicketError


@agent_required
@require_POST
def apply_macro(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    pk = request.POST.get("macro", "")
    macro = Macro.objects.filter(pk=int(pk), active=True).first() if pk.isdigit() else None
    if macro is None:
        raise Http404
    if request.POST.get("mode") == "send":
        try:
            ticket = macros.apply(macro, ticket, agent=request.user)
        except TicketError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("Macro “%(name)s” applied.") % {"name": macro.name})
        if not access.agent_tickets(request.user).filter(pk=ticket.pk).exists():
            return redirect("agent:inbox")
        return redirect("agent:ticket", reference=ticket.reference)
    rendered = macros.render(macro, ticket, request.user)
    form = AgentReplyForm(initial={"body": rendered.body, "status": rendered.status})
    if getattr(request, "htmx", False):
        return render(request, "desk/_reply_body.html", {"field": form["body"]})
    return _ticket_page(request, ticket, form)
