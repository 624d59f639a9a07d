"""Who may see and act on which ticket. Every view and endpoint asks here, nowhere else.

- An admin (superuser, or the `view_all_tickets` permission) sees everything.
- An agent sees tickets with no team, tickets of unrestricted teams, and tickets of the
  restricted teams they belong to.
- A customer sees the tickets of the contact linked to their account.
- A guest sees one ticket, through a signed tracking link (see `tracking`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from walletdesk.core.agents import is_agent
from walletdesk.tickets.models import Ticket


def sees_all(user: Any) -> bool:
    return bool(is_agent(user) and (user.is_superuser or user.has_perm("tickets.view_all_tickets")))


def agent_tickets(user: Any) -> QuerySet[Ticket]:
    """Tickets an agent may work on; empty for anyone who is not an agent."""
    tickets = Ticket.objects.all()
    if not is_agent(user):
        return tickets.none()
    if sees_all(user):
        return tickets
    return tickets.filter(Q(team__isnull=True) | Q(team__restricted=False) | Q(team__members=user)).distinct()


def customer_tickets(user: Any) -> QuerySet[Ticket]:
    if not (user and user.is_authenticated):
        return Ticket.objects.none()
    return Ticket.objects.filter(contact__user=user)


def agent_can_see(user: Any, ticket: Ticket) -> bool:
    if not is_agent(user):
        return False
    if sees_all(user) or ticket.team_id is None:
        return True
    team = ticket.team
    return bool(team is not None and (not team.restricted or team.members.filter(pk=user.pk).exists()))


def customer_owns(user: Any, ticket: Ticket) -> bool:
    return bool(user and user.is_authenticated and ticket.contact.user_id == user.pk)
