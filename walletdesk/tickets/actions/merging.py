"""Folding a duplicate ticket into another."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.core.locks import lock_rows
from walletdesk.tickets.actions._helpers import (
    _event,
    _set_status,
    last_seq,
)
from walletdesk.tickets.actions.errors import TicketError
from walletdesk.tickets.models import (
    Channel,
    Message,
    Status,
    Ticket,
    Visibility,
)


def merge(source: Ticket, target: Ticket, *, actor: Any) -> Ticket:
    """Fold a duplicate into another ticket: its messages move, it closes and points there."""
    if source.pk == target.pk:
        raise TicketError("merge_into_self", _("A ticket cannot be merged into itself."), field="target")
    with transaction.atomic():
        locked = lock_rows(Ticket, [source.pk, target.pk])
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id:
            raise TicketError("already_merged", _("This ticket was already merged."))
        if target.status == Status.CLOSED:
            raise TicketError("target_closed", _("Cannot merge into a closed ticket."), field="target")
        moved = Message.objects.filter(ticket=source).update(ticket=target, seq=None)
        if target.channel == Channel.CHAT:
            # A live chat numbers its public messages; those moved in follow its own.
            last = last_seq(target.pk)
            joined = Message.objects.filter(ticket=target, seq__isnull=True, visibility=Visibility.PUBLIC)
            for offset, message in enumerate(joined.order_by("created_at", "id"), start=1):
                message.seq = last + offset
                message.save(update_fields=["seq"])
        target.search_text = f"{target.search_text} {source.search_text}"
        target.updated_at = timezone.now()
        target.save(update_fields=["search_text", "updated_at"])
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        _set_status(source, Status.CLOSED, actor, why=f"merged into {target.reference}")
        _event(source, "merged_into", actor, target=target.reference, messages=moved)
        _event(target, "merged_from", actor, source=source.reference, messages=moved)
    return target
