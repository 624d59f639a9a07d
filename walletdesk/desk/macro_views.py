"""Agents apply a macro from the ticket page: fill the reply box (htmx) or send it directly.

Both carry the ticket's version the page was rendered from (the picker's hidden `version`):
"Send now" is refused when stale as the reply and properties forms are (`macros.apply`),
"Insert" changes nothing and passes it on to the reply form it fills.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from walletdesk.core.agents import agent_required
from walletdesk.desk import macros
from walletdesk.desk.forms import AgentReplyForm, VersionField
from walletdesk.desk.models import Macro
from walletdesk.desk.views import _ticket, _ticket_page
from walletdesk.tickets import access
from walletdesk.tickets.actions import StaleTicket, TicketError


class MacroVersionForm(forms.Form):
    version = VersionField()


@agent_required
@require_POST
def apply_macro(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    pk = request.POST.get("macro", "")
    if not pk:
        # The picker preselects nothing on a ticket no macro fits: a press before choosing
        # changes nothing (the reply box stays as typed).
        if getattr(request, "htmx", False):
            return HttpResponse(status=204)
        flash.error(request, _("Choose a macro first."))
        return redirect("agent:ticket", reference=ticket.reference)
    macro = Macro.objects.filter(pk=int(pk), active=True).first() if pk.isdigit() else None
    if macro is None:
        raise Http404
    checked = MacroVersionForm(request.POST)
    if not checked.is_valid():
        # A malformed version is refused, never ignored: nothing sent, nothing filled.
        flash.error(
            request,
            _("This form was damaged or out of date: nothing was saved. Check the ticket and try again."),
        )
        if getattr(request, "htmx", False):
            # The reply box is not replaced; htmx loads the page, which shows the message.
            answer = HttpResponse(status=400)
            answer["HX-Redirect"] = reverse("agent:ticket", args=[ticket.reference])
            return answer
        return redirect("agent:ticket", reference=ticket.reference)
    version = checked.cleaned_data["version"]
    if request.POST.get("mode") == "send":
        try:
            ticket = macros.apply(macro, ticket, agent=request.user, version=version)
        except StaleTicket as exc:
            # Nothing applied: the page again, as the ticket is now, saying who changed what,
            # with this macro chosen in the picker, whose "Send anyway" carries the version
            # now seen (as the reply form's does).
            current = _ticket(request, reference)
            current.macro_confirm = macro.pk  # type: ignore[attr-defined]
            return _ticket_page(request, current, stale=exc, status=409)
        except TicketError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("Macro “%(name)s” applied.") % {"name": macro.name})
        if not access.agent_tickets(request.user).filter(pk=ticket.pk).exists():
            return redirect("agent:inbox")
        return redirect("agent:ticket", reference=ticket.reference)
    rendered = macros.render(macro, ticket, request.user)
    # The reply form sends later from the version the agent chose the macro on.
    form = AgentReplyForm(initial={"body": rendered.body, "status": rendered.status, "version": version})
    if getattr(request, "htmx", False):
        return render(request, "desk/_reply_body.html", {"field": form["body"]})
    return _ticket_page(request, ticket, form)
