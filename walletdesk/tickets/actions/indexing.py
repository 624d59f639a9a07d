"""Filling the identifier tokens of tickets written before identifier search existed.

Ticket creation writes a ticket's facts (tx hash, wallet address...) and its contact's address
into `search_text` as whole tokens, and every message adds the tokens of the emails and phone
numbers in it (`tickets.search`, `tickets.identifiers`). Tickets stored before that have none
of them, so the desk's identifier search cannot find them by a tx hash. `reindex_identifiers`
appends the missing tokens, one primary-key range at a time (the `reindex_ticket_identifiers`
command walks the table).

- Idempotent: a token already in `search_text` is not added again, and a ticket missing none is
  not written. Running it twice, or over tickets created since, changes nothing.
- A fixed number of queries per batch, never one per row: the ids, the messages' text, the
  locked tickets, their contacts, and one bulk UPDATE of the tickets that changed.
- Under the tickets' row locks (`lock_rows`): a message stored meanwhile appends its own text
  to `search_text`, and appending ours to the row read under the lock cannot lose it. The
  messages are read before the lock (a message stored after that read indexes itself).
- Not a ticket change: no event, and `version` stays (the UPDATE bypasses `Ticket.save`), so an
  agent with the ticket open is not told it changed, and no webhook or live update fires for
  what is only the search index.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from walletdesk.core.locks import lock_rows
from walletdesk.tickets import identifiers, search
from walletdesk.tickets.models import FACT_FIELDS, Contact, Message, Ticket

REINDEX_BATCH = 500


@dataclass(frozen=True)
class Reindexed:
    last_pk: int | None  # the highest id looked at; None when no ticket is left past `after`
    seen: int
    changed: int


def _missing(search_text: str, tokens: list[str]) -> list[str]:
    present = set(search_text.split())
    return [t for t in dict.fromkeys(tokens) if t not in present]


def reindex_identifiers(after: int = 0, *, batch: int = REINDEX_BATCH) -> Reindexed:
    """Add the missing identifier tokens to the next `batch` tickets with an id above `after`."""
    ids = list(
        Ticket.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[: max(1, batch)]
    )
    if not ids:
        return Reindexed(None, 0, 0)
    texts: dict[int, list[str]] = defaultdict(list)
    for ticket_id, body in Message.objects.filter(ticket_id__in=ids).values_list("ticket_id", "body"):
        texts[ticket_id].append(body)
    with transaction.atomic():
        tickets = lock_rows(Ticket, ids)
        addresses = {
            pk: (email or "", user_email or "")
            for pk, email, user_email in Contact.objects.filter(
                pk__in={t.contact_id for t in tickets.values()}
            ).values_list("pk", "email", "user__email")
        }
        changed = []
        for ticket in tickets.values():
            facts = [str(getattr(ticket, name) or "") for name in FACT_FIELDS]
            tokens = search.identifier_document(*facts, *addresses.get(ticket.contact_id, ("", ""))).split()
            tokens += identifiers.tokens_in(*texts.get(ticket.pk, []))
            missing = _missing(ticket.search_text, tokens)
            if missing:
                ticket.search_text = " ".join(filter(None, [ticket.search_text, *missing]))
                changed.append(ticket)
        if changed:
            Ticket.objects.bulk_update(changed, ["search_text"], batch_size=len(changed))
    return Reindexed(ids[-1], len(ids), len(changed))
