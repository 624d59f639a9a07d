"""A ticket's properties: status, priority, assignee, team, facts; the customer's follow-up.

`version`: the ticket's version the change was made from (the desk's form, the API's
If-Match). Under the row lock it must still be the ticket's, or nothing is written and
`StaleTicket` says who changed what since. Without it the change applies as it always did.
Several changes from one form run in the caller's transaction, each passing the version the
previous one returned (`ticket.version`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.tickets import channels, lifecycle
from walletdesk.tickets.actions._helpers import (
    _clean_facts,
    _enqueue,
    _escalate_secret_on_save,
    _event,
    _lock_ticket,
    _set_status,
)
from walletdesk.tickets.actions.errors import TicketError
from walletdesk.tickets.models import (
    PRIORITY_RANK,
    Priority,
    Status,
    Team,
    Ticket,
)


def check_version(ticket: Ticket, version: int) -> Ticket:
    """The ticket locked in the caller's transaction, refused (`StaleTicket`) unless still at
    `version`: for a request that changes nothing but must fail the same way when stale."""
    with transaction.atomic():
        return _lock_ticket(ticket.pk, version)


def change_status(ticket: Ticket, status: str, *, actor: Any, version: int | None = None) -> Ticket:
    if status not in Status.values:
        raise TicketError("unknown_status", _("Unknown status."), field="status")
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk, version)
        if ticket.status != status:
            _set_status(ticket, status, actor)
            if status == Status.SOLVED and channels.reaches(ticket):
                _enqueue("notify_customer", ticket_id=ticket.pk, kind="solved")
    return ticket


def close_by_customer(ticket: Ticket, *, user: Any = None, version: int | None = None) -> Ticket:
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk, version)
        if ticket.status != Status.CLOSED:
            _set_status(ticket, Status.CLOSED, user, why="closed by customer")
    return ticket


def change_priority(ticket: Ticket, priority: str, *, actor: Any, version: int | None = None) -> Ticket:
    if priority not in Priority.values:
        raise TicketError("unknown_priority", _("Unknown priority."), field="priority")
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk, version)
        if ticket.priority != priority:
            old = ticket.priority
            ticket.priority = priority
            ticket.updated_at = timezone.now()
            fields = [
                "priority",
                "updated_at",
                *lifecycle.clock.on_priority_change(ticket, ticket.updated_at),
            ]
            ticket.save(update_fields=list(dict.fromkeys(fields)))
            _event(ticket, "priority_changed", actor, old=old, new=priority)
    return ticket


def assign(ticket: Ticket, assignee: Any, *, actor: Any, version: int | None = None) -> Ticket:
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise TicketError("not_an_agent", _("Tickets can only be assigned to agents."), field="assignee")
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk, version)
        if ticket.assignee_id != (assignee.pk if assignee else None):
            old = ticket.assignee_id
            ticket.assignee = assignee
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=["assignee", "updated_at"])
            _event(
                ticket,
                "assigned",
                actor,
                old=old,
                new=assignee.pk if assignee else None,
                name=assignee.label if assignee else "",
            )
    return ticket


def set_team(ticket: Ticket, team: Team | None, *, actor: Any, version: int | None = None) -> Ticket:
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk, version)
        if ticket.team_id != (team.pk if team else None):
            old = ticket.team_id
            ticket.team = team
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=["team", "updated_at"])
            _event(
                ticket,
                "team_changed",
                actor,
                old=old,
                new=team.pk if team else None,
                name=team.name if team else "",
            )
    return ticket


def update_facts(ticket: Ticket, facts: dict[str, str], *, actor: Any, version: int | None = None) -> Ticket:
    cleaned = _clean_facts(facts)
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk, version)
        changed = {k: v for k, v in cleaned.items() if getattr(ticket, k) != v}
        if changed:
            for name, value in changed.items():
                setattr(ticket, name, value)
            ticket.updated_at = timezone.now()
            ticket.save(update_fields=[*changed, "updated_at"])
            _event(ticket, "facts_changed", actor, fields=sorted(changed))
    return ticket


# The structured facts a secret can hide in: both are hex of a secret's shape (a private key is
# 0x + 64 hex, exactly a transaction hash), so their format check cannot tell.
SECRET_FACTS = ("tx_hash", "wallet_address")


def remove_secret_fact(ticket: Ticket, field: str, value: str, *, kind: str, why: str) -> bool:
    """A structured fact turned out to be a secret (e.g. ``chain.keycheck`` found that a "tx
    hash" is the private key of an address with a history on a chain): blank it, take it out
    of the search index, and treat the ticket as one where the customer shared a secret
    (Security desk, high priority, the banner), in one transaction, with a ``secret_removed``
    event that names the field, never the value. False, changing nothing, when the fact no
    longer holds ``value`` (edited meanwhile)."""
    if field not in SECRET_FACTS:
        raise ValueError(f"not a structured fact: {field}")
    bare = value.strip().lower().removeprefix("0x")
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        if not bare or getattr(ticket, field).strip().lower().removeprefix("0x") != bare:
            return False
        now = timezone.now()
        setattr(ticket, field, "")
        ticket.search_text = " ".join(
            token for token in ticket.search_text.split() if token.lower().removeprefix("0x") != bare
        )
        ticket.updated_at = now
        fields = [field, "search_text", "updated_at"]
        changed, escalated = _escalate_secret_on_save(ticket, now)
        fields += changed
        ticket.save(update_fields=list(dict.fromkeys(fields)))
        _event(ticket, "secret_removed", None, kinds=[kind], where=[field], why=why, **escalated)
    return True


def raise_one_step(priority: str) -> str:
    """The priority one step above this one (urgent stays urgent)."""
    order = sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__)
    index = order.index(Priority(priority))
    return str(order[min(index + 1, len(order) - 1)])


def follow_up_by_customer(ticket: Ticket, *, user: Any = None, now: datetime | None = None) -> Ticket:
    """The customer pressed "follow up": the press is recorded and the ticket goes one priority
    step up, in one transaction.

    Whether a press counts now is the SLA's rule (`sla.followups.can_follow_up`): the caller
    asks it under the ticket's row lock, in the transaction this joins, and passes its `now`.
    """
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        ticket.followed_up_at = now
        ticket.save(update_fields=["followed_up_at"])
        higher = raise_one_step(ticket.priority)
        if higher != ticket.priority:
            change_priority(ticket, higher, actor=None)
            ticket.refresh_from_db()
        _event(ticket, "customer_followed_up", user, priority=ticket.priority)
    return ticket
