"""Who may see and act on which ticket. Every view and endpoint asks here, nowhere else.

- An admin (superuser, or the `view_all_tickets` permission) sees everything.
- An agent sees tickets with no team, tickets of unrestricted teams, and tickets of the
  restricted teams they belong to; and every message of a ticket they see, internal notes too.
- A customer sees the tickets of the contact linked to their account, and the requests someone
  filed by typing an address the account verified (to confirm them as theirs).
- A guest sees one ticket, through a signed tracking link (see `tracking`); the owner of a
  typed address confirms a request through the link mailed there (see `identity`).
- An app (in-app API) sees the tickets of the app user it names, and only its own users.
- Customers, guests and apps see a ticket's public messages and their files, never internal
  notes.
- Quarantined mail is for agents; mail of a mailbox routed to a restricted team is for that
  team (and admins), like its tickets.
- The identity documents of a recovery case are for the agents who may see the case's ticket
  and either belong to its team, when that team is restricted (the Security desk reviews its
  own cases), or hold `accounts.view_identity_document` (an admin, an auditor).

Refusals look like absence (404, or the bad-link page) wherever an id or reference alone
could otherwise reveal that a ticket exists: the callers choose the page, this module decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Model, Q, QuerySet

from walletdesk.core.agents import is_agent
from walletdesk.tickets import identity, tracking
from walletdesk.tickets.models import Attachment, Channel, Message, Team, Ticket, Visibility

# --- Agents -----------------------------------------------------------------------------------


def sees_all(user: Any) -> bool:
    return bool(is_agent(user) and (user.is_superuser or user.has_perm("tickets.view_all_tickets")))


def _team_visible(user: Any, team: str) -> Q:
    """Rows whose team (the field path `team`) an agent who does not see all may see."""
    return (
        Q(**{f"{team}__isnull": True}) | Q(**{f"{team}__restricted": False}) | Q(**{f"{team}__members": user})
    )


def agent_tickets(user: Any) -> QuerySet[Ticket]:
    """Tickets an agent may work on; empty for anyone who is not an agent."""
    tickets = Ticket.objects.all()
    if not is_agent(user):
        return tickets.none()
    if sees_all(user):
        return tickets
    return tickets.filter(_teams_seen(user))


def _teams_seen(user: Any, ticket: str = "") -> Q:
    """The tickets (at field path `ticket`, "" for a ticket itself) of an agent who does not
    see all. The teams as a subquery (a few rows), not a join on team members with DISTINCT
    around it: the inbox reads this in index order with a LIMIT, which a DISTINCT over a
    million tickets defeated, and a COUNT or GROUP BY counts each ticket once."""
    at = f"{ticket}__" if ticket else ""
    return Q(**{f"{at}team__isnull": True}) | Q(**{f"{at}team__in": agent_teams(user).values("pk")})


def agent_rows_to_count(rows: QuerySet[Any], user: Any, ticket: str = "ticket") -> QuerySet[Any]:
    """The rows of a ticket's child table (surveys, say) whose ticket (field path `ticket`)
    the agent may see, for aggregates: the rule reads the ticket's team through the join,
    so a query driven by the child's own index (answered in a period) stays small. Filtering
    with `ticket__in=<the agent's tickets>` listed every visible ticket of the history first."""
    if not is_agent(user):
        return rows.none()
    return rows if sees_all(user) else rows.filter(_teams_seen(user, ticket))


def agent_tickets_to_count(user: Any) -> QuerySet[Ticket]:
    """`agent_tickets` for aggregates (reports): rows with no join around them, so a COUNT or
    GROUP BY counts each ticket once (`agent_tickets` itself no longer joins)."""
    return agent_tickets(user) if is_agent(user) else Ticket.objects.none()


def agent_can_see(user: Any, ticket: Ticket) -> bool:
    if not is_agent(user):
        return False
    if sees_all(user) or ticket.team_id is None:
        return True
    team = ticket.team
    return bool(team is not None and (not team.restricted or team.members.filter(pk=user.pk).exists()))


def agent_teams(user: Any) -> QuerySet[Team]:
    """The teams an agent may look into (report on): unrestricted ones and their own."""
    teams = Team.objects.all()
    if sees_all(user):
        return teams
    # A subquery, not a join on members: the join listed a team once per member.
    return teams.filter(Q(restricted=False) | Q(pk__in=user.teams.values("pk")))


def may_view_identity_documents(user: Any, ticket: Ticket | None) -> bool:
    """Whether an agent may open the identity documents of the recovery case on `ticket`.

    Seeing the ticket comes first, for everyone but an admin: the permission alone does not
    open a restricted team's case to an agent outside it. Then membership of the ticket's team
    grants it, only for a restricted team: an unrestricted team's tickets are every agent's,
    so its membership is no trust boundary for documents. A case whose ticket is gone (`None`)
    is for admins only."""
    if not is_agent(user):
        return False
    granted = bool(user.is_superuser or user.has_perm("accounts.view_identity_document"))
    if ticket is None:
        return granted and sees_all(user)
    if not agent_can_see(user, ticket):
        return False
    if granted:
        return True
    team = ticket.team
    return bool(team is not None and team.restricted and team.members.filter(pk=user.pk).exists())


# --- Customers --------------------------------------------------------------------------------


def customer_tickets(user: Any) -> QuerySet[Ticket]:
    if not (user and user.is_authenticated):
        return Ticket.objects.none()
    return Ticket.objects.filter(contact__user=user)


def customer_owns(user: Any, ticket: Ticket) -> bool:
    return bool(user and user.is_authenticated and ticket.contact.user_id == user.pk)


def verified_addresses(user: Any) -> list[str]:
    """The addresses this account verified (lowercased); none for anyone signed out.

    `actions.confirm_claim` applies the same rule, by calling this."""
    from allauth.account.models import EmailAddress

    if not getattr(user, "is_authenticated", False):
        return []
    return [
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    ]


def claims_of(user: Any) -> QuerySet[Ticket]:
    """Requests someone filed by typing an address this account verified, not yet confirmed:
    signed in as the address's owner, the customer may say which are theirs."""
    return Ticket.objects.filter(
        contact__claim_key__in=verified_addresses(user), contact__proof=""
    ).select_related("contact")


# --- Guests, by link --------------------------------------------------------------------------


def tracking_token_opens(token: str, ticket: Ticket) -> bool:
    """Whether a tracking link was made for this ticket and the contact it is on now (a link
    made for a claim no longer opens the ticket once its owner confirmed it).

    Raises `tracking.BadTrackingToken` for a tampered or expired link."""
    reference, contact_id = tracking.read_token(token)
    return reference == ticket.reference and contact_id == ticket.contact_id


def ticket_by_tracking_token(token: str) -> Ticket | None:
    """The ticket a guest's tracking link opens, or None (a link for another contact of the
    ticket, or a ticket gone). Raises `tracking.BadTrackingToken` for a tampered or expired
    link."""
    reference, contact_id = tracking.read_token(token)
    return (
        Ticket.objects.select_related("category", "contact")
        .filter(reference=reference, contact_id=contact_id)
        .first()
    )


def ticket_by_confirm_token(token: str) -> tuple[Ticket, str] | None:
    """The request a confirm link (mailed to a typed address) may confirm, and the address;
    None once it is no longer a claim of that address (a link works once). Raises
    `identity.BadConfirmToken` for a tampered or expired link."""
    reference, contact_id, email = identity.read_confirm_token(token)
    ticket = (
        Ticket.objects.select_related("contact")
        .filter(reference=reference, contact_id=contact_id, contact__email=email, contact__proof="")
        .first()
    )
    return None if ticket is None else (ticket, email)


# --- Apps (in-app API) ------------------------------------------------------------------------


class HasPk(Protocol):
    @property
    def pk(self) -> Any: ...


def app_user_identity(app: HasPk, app_user_id: str) -> str:
    """The in-app identity of an app's user: namespaced by app, so two apps' user 42 are two
    people and one app's key never reaches another app's users."""
    return f"{app.pk}:{app_user_id}"


def app_user_tickets(app: HasPk, app_user_id: str) -> QuerySet[Ticket]:
    """The tickets of the app user an app (its `AppKey`) names; nothing of another app's."""
    return Ticket.objects.filter(
        contact__identities__channel=Channel.INAPP,
        contact__identities__external_id=app_user_identity(app, app_user_id),
    )


# --- One ticket, its messages and files --------------------------------------------------------


@dataclass(frozen=True)
class Sight:
    """How someone sees one ticket."""

    agent: bool = False  # an agent who may work on it
    owner: bool = False  # the signed-in customer whose ticket it is
    guest: bool = False  # someone holding its tracking link

    @property
    def allowed(self) -> bool:
        return self.agent or self.owner or self.guest


def sight(user: Any, ticket: Ticket, tracking_token: str | None = None) -> Sight:
    """How `user` (and the tracking link they sent, if any) sees `ticket`. The link is read
    only for someone who is neither an agent who sees the ticket nor its owner; then a bad one
    raises `tracking.BadTrackingToken`."""
    agent = agent_can_see(user, ticket)
    owner = customer_owns(user, ticket)
    guest = False
    if not (agent or owner) and tracking_token:
        guest = tracking_token_opens(tracking_token, ticket)
    return Sight(agent=agent, owner=owner, guest=guest)


def visible_messages(ticket: Ticket, *, agent: bool) -> QuerySet[Message]:
    """A ticket's thread as its reader may see it: an agent (who sees the ticket) every
    message, anyone else the public ones only."""
    messages = Message.objects.filter(ticket=ticket)
    return messages if agent else messages.filter(visibility=Visibility.PUBLIC)


def may_see_attachment(user: Any, item: Attachment, tracking_token: str = "") -> bool:
    """A file is for an agent who sees its ticket; a public message's file also for the
    ticket's owner and for whoever holds the ticket's tracking link (a bad link opens
    nothing). `item` with its message, ticket, contact and team loaded."""
    ticket = item.message.ticket
    if agent_can_see(user, ticket):
        return True
    if not item.message.is_public:
        return False
    if customer_owns(user, ticket):
        return True
    if not tracking_token:
        return False
    try:
        return tracking_token_opens(tracking_token, ticket)
    except tracking.BadTrackingToken:
        return False


# --- Quarantined mail -------------------------------------------------------------------------


def may_review_quarantine(user: Any) -> bool:
    """Quarantined mail (its reason, a redacted preview, re-processing) is for agents; which
    rows each agent sees is `visible_quarantine`."""
    return is_agent(user)


def visible_quarantine[M: Model](user: Any, rows: QuerySet[M]) -> QuerySet[M]:
    """The quarantined mail (rows with a `mailbox` whose `default_team` routes it) this agent
    may review: a mailbox routed to a restricted team is for that team (and admins), like
    its tickets; mail of no mailbox or of an unrouted one, for every agent."""
    if not may_review_quarantine(user):
        return rows.none()
    if sees_all(user):
        return rows
    return rows.filter(Q(mailbox__isnull=True) | _team_visible(user, "mailbox__default_team")).distinct()
