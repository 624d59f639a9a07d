"""Every change to a ticket happens here, one function per change.

Each action validates its input, writes in one transaction, records a TicketEvent and enqueues
its follow-up tasks. Views, API endpoints, connectors, tasks, the SLA app and the admin all call
these; nothing else writes a ticket, its messages or its events.

Tasks are enqueued *inside* the transaction rather than on commit: the task queue is a table in
the same database (django-tasks-db), so the ticket and the job that acknowledges it commit
together or not at all. A crash between commit and an on_commit hook would otherwise lose the
acknowledgement.

The package, by concern (each module imports only `errors` and `_helpers`, and `create` the
contact lookups of `contacts`):

- `errors`: `TicketError` and its kinds (a `core.errors.Refused`), `StaleTicket` among them;
- `create`: `NewTicket`, `draft`, `write_drafts`, `create_ticket(s)` and whose contact a new
  ticket lands on;
- `messages`: the customer's, the agent's and the system's messages, and history-only events;
- `properties`: status, priority, assignee, team, facts, the customer's follow-up;
- `merging`: folding a duplicate into another ticket;
- `indexing`: adding the identifier-search tokens older tickets lack (`reindex_identifiers`);
- `contacts`: accounts and proven contacts (`link_contact_to_user`, `confirm_claim`);
- `_helpers`: what they share (input checks, events, files, the row lock and the version
  check, the status change, what changed since a version).

Versions: `Ticket.version` moves up by one in every UPDATE of a ticket (`Ticket.save`). An
action given `version=` compares it with the row it read under the lock and raises
`StaleTicket` (409, code `stale`) naming who changed what since, writing nothing; events record
the version their change produced (`data["version"]`), which is how "since" is found.

Callers import this package: `from walletdesk.tickets import actions; actions.create_ticket(...)`.
"""

from walletdesk.tickets.actions._helpers import (
    MAX_BODY,
    MAX_SUBJECT,
    changes_since,
    describe_change,
    existing_messages,
    forget_categories,
    last_seq,
    replied_since,
)
from walletdesk.tickets.actions.contacts import confirm_claim, link_contact_to_user, verified_addresses
from walletdesk.tickets.actions.create import (
    Draft,
    NewTicket,
    _contacts_for,
    create_ticket,
    create_tickets,
    draft,
    write_drafts,
)
from walletdesk.tickets.actions.errors import (
    AlreadyAnswered,
    DuplicateMessage,
    InvalidInput,
    NotAllowed,
    ReplyCollision,
    StaleTicket,
    StorageUnavailable,
    TicketError,
)
from walletdesk.tickets.actions.first_answer import (
    Offer,
    answer_offer,
    is_first_answer,
    offers,
    pending_offer,
)
from walletdesk.tickets.actions.first_answer import offer as offer_first_answer
from walletdesk.tickets.actions.indexing import Reindexed, reindex_identifiers
from walletdesk.tickets.actions.merging import merge
from walletdesk.tickets.actions.messages import (
    ScreenedMessage,
    add_agent_message,
    add_customer_message,
    add_system_note,
    find_ticket_by_message_ids,
    record_event,
    screen_message,
    tell_customer,
)
from walletdesk.tickets.actions.properties import (
    assign,
    change_priority,
    change_status,
    check_version,
    close_by_customer,
    follow_up_by_customer,
    raise_one_step,
    remove_secret_fact,
    set_team,
    update_facts,
)

__all__ = [
    "MAX_BODY",
    "MAX_SUBJECT",
    "AlreadyAnswered",
    "Draft",
    "DuplicateMessage",
    "InvalidInput",
    "NewTicket",
    "NotAllowed",
    "Offer",
    "Reindexed",
    "ReplyCollision",
    "ScreenedMessage",
    "StaleTicket",
    "StorageUnavailable",
    "TicketError",
    "_contacts_for",
    "add_agent_message",
    "add_customer_message",
    "add_system_note",
    "answer_offer",
    "assign",
    "change_priority",
    "change_status",
    "changes_since",
    "check_version",
    "close_by_customer",
    "confirm_claim",
    "create_ticket",
    "create_tickets",
    "describe_change",
    "draft",
    "existing_messages",
    "find_ticket_by_message_ids",
    "follow_up_by_customer",
    "forget_categories",
    "is_first_answer",
    "last_seq",
    "link_contact_to_user",
    "merge",
    "offer_first_answer",
    "offers",
    "pending_offer",
    "raise_one_step",
    "record_event",
    "reindex_identifiers",
    "remove_secret_fact",
    "replied_since",
    "screen_message",
    "set_team",
    "tell_customer",
    "update_facts",
    "verified_addresses",
    "write_drafts",
]
