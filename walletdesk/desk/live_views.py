"""What the live ticket page asks after a nudge: who changed what since the version it last
showed, as one sentence in the agent's language. The page itself is fetched through
`views.ticket_view` as usual; the forms keep the version they were rendered from."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from walletdesk.core.agents import agent_required
from walletdesk.desk.views import _ticket
from walletdesk.tickets import actions
from walletdesk.tickets.models import TicketEvent


def _who(event: TicketEvent) -> str:
    if event.actor is not None:
        return str(event.actor.label)
    if event.kind == "customer_replied":
        return str(_("the customer"))
    return str(_("the system"))


@agent_required
@require_GET
def changes(request: HttpRequest, reference: str) -> HttpResponse:
    """`{"version", "banner"}`: the ticket's version now, and "Bob changed this ticket: status
    Solved — the page was refreshed" for the changes since `since` made by someone else
    (empty when there were none, or only the agent's own)."""
    ticket = _ticket(request, reference)
    raw = request.GET.get("since", "")
    since = int(raw) if raw.isdigit() and len(raw) < 10 else ticket.version
    by_who: dict[str, list[str]] = {}
    for event in reversed(actions.changes_since(ticket, since, limit=5)):
        if event.actor_id is not None and event.actor_id == request.user.pk:
            continue
        what = actions.describe_change(event)
        said = by_who.setdefault(_who(event), [])
        if what not in said:
            said.append(what)
    banner = " ".join(
        _("%(who)s changed this ticket: %(what)s — the page was refreshed.")
        % {"who": who, "what": _(", ").join(whats)}
        for who, whats in by_who.items()
    )
    return JsonResponse({"version": ticket.version, "banner": banner})
