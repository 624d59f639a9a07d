"""Messages on a ticket: the customer's, the agent's, the system's; and history-only events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.core import logs, mail, metrics, rows
from walletdesk.tickets import channels, lifecycle, live, screening, search
from walletdesk.tickets.actions._helpers import (
    MAX_BODY,
    _attach,
    _clean_text,
    _enqueue,
    _escalate_secret_on_save,
    _event,
    _existing_reference,
    _lock_ticket,
    _new_event,
    _next_seq,
    _save_files,
    _secret_why,
    _set_status,
    _stale,
    _status_changed_since,
    inbound_label,
    replied_since,
)
from walletdesk.tickets.actions.errors import DuplicateMessage, TicketError
from walletdesk.tickets.files import CheckedFile
from walletdesk.tickets.models import (
    AuthorRole,
    Channel,
    Message,
    Status,
    Ticket,
    TicketEvent,
    Visibility,
)
from walletdesk.tickets.tracking import tracking_url


@dataclass(frozen=True)
class ScreenedMessage:
    """A customer's message checked and screened, ready for `add_customer_message`."""

    screened: screening.Screened
    document: str  # its search tokens


def screen_message(body: str) -> ScreenedMessage:
    """The work on a customer's message that needs no database: done ahead of the write
    transaction, or by a helper process (the mail poller's)."""
    body = _clean_text(body, field="body", limit=MAX_BODY)
    screened = screening.screen(body)
    return ScreenedMessage(screened, search.document(screened.text))


def add_customer_message(
    ticket: Ticket,
    body: str,
    *,
    channel: str,
    user: Any = None,
    external_id: str | None = None,
    attachments: Sequence[CheckedFile] = (),
    locked: bool = False,
    screened: ScreenedMessage | None = None,
    checked_new: bool = False,
    version: int | None = None,
    secrets: Sequence[tuple[str, str]] = (),
) -> Message:
    """A customer's message on their ticket (reopening it if it was waiting or solved).

    `locked`: the caller holds the ticket's row lock in its open transaction and passes the
    row it read under that lock (the mail poller locks a batch's tickets at once).
    `screened`: `screen_message(body)`, worked out already. `checked_new`: the caller's
    transaction found no message with this external id (the poller asks once per batch).
    `version`: written only if the ticket is still at this version (the API's If-Match).
    `secrets`: (where, kind) of secrets the channel already removed (a social push is screened
    before it is stored); they count as shared like any other.
    """
    message_text = screened or screen_message(body)
    contact = ticket.contact if Ticket.contact.is_cached(ticket) else None
    stored = _save_files(attachments)
    now = timezone.now()
    with transaction.atomic():
        duplicate = None if checked_new else _existing_reference(channel, external_id)
        if duplicate is not None:
            raise DuplicateMessage(
                "duplicate_message", _("This message was already received."), reference=duplicate
            )
        if not locked:
            ticket = _lock_ticket(ticket.pk, version)
        elif version is not None and ticket.version != version:
            raise _stale(ticket, version)
        if ticket.status == Status.CLOSED:
            raise TicketError("ticket_closed", _("This request is closed. Please open a new request."))
        message = Message(
            ticket=ticket,
            author_role=AuthorRole.CUSTOMER,
            author_user=user if getattr(user, "is_authenticated", False) else None,
            author_contact_id=ticket.contact_id,
            channel=channel,
            external_id=external_id or None,
            body=message_text.screened.text,
            created_at=now,
            seq=_next_seq(ticket),
        )
        rows.insert([message])
        if contact is not None and contact.pk == ticket.contact_id:
            message.author_contact = contact  # known already: who shows it needs no query
        _attach(message, stored)
        fields = ["updated_at", "last_customer_message_at", "search_text", "flags", "tags"]
        previous = ticket.status
        if ticket.status in (Status.PENDING, Status.SOLVED, Status.ON_HOLD):
            ticket.status = Status.OPEN
            fields += ["status", "solved_at"]
            ticket.solved_at = None
            fields += lifecycle.clock.on_status_change(ticket, previous, now)
        ticket.updated_at = ticket.last_customer_message_at = now
        fields += lifecycle.clock.on_customer_message(ticket, now)
        ticket.search_text = f"{ticket.search_text} {message_text.document}"
        ticket.flags = screening.merge_flags(ticket.flags, message_text.screened.flags)
        ticket.tags = sorted(set(ticket.tags) | set(message_text.screened.tags))
        secrets = [*secrets, *(("message", kind) for kind in message_text.screened.secret_kinds)]
        secrets += [("attachment name", kind) for f in attachments for kind in f.secret_kinds]
        escalated: dict[str, Any] = {}
        if secrets:
            changed, escalated = _escalate_secret_on_save(ticket, now)
            fields += changed
        ticket.save(update_fields=list(dict.fromkeys(fields)))
        events = [_new_event(ticket, "customer_replied", user, channel=channel)]
        arrived = [inbound_label(channel, logs.current())]
        transaction.on_commit(lambda: metrics.inbound(arrived))
        if previous != ticket.status:
            events.append(
                _new_event(
                    ticket, "status_changed", None, old=previous, new=ticket.status, why="customer replied"
                )
            )
        if secrets:
            events.append(
                _new_event(
                    ticket,
                    "secret_removed",
                    kinds=sorted({kind for _where, kind in secrets}),
                    where=sorted({where for where, _kind in secrets}),
                    why=_secret_why([where for where, _kind in secrets]),
                    **escalated,
                )
            )
        rows.insert(events)
        if previous != ticket.status:  # reopened by the reply: a status change like any other
            live.announce(ticket, "status_changed", actor=user)
        live.announce(ticket, "message", message=message, actor=user)
    return message


def add_agent_message(
    ticket: Ticket,
    body: str,
    *,
    agent: Any,
    internal: bool = False,
    new_status: str | None = None,
    attachments: Sequence[CheckedFile] = (),
    override_risks: bool = False,
    version: int | None = None,
    strict: bool = False,
    external_id: str | None = None,
) -> Message:
    """An agent's reply or internal note, optionally setting the status after it.

    `external_id`: the client's id for this reply (the chat's agent socket), unique per channel.

    `version`: the ticket's version the agent wrote it from. If the ticket moved on since,
    under the row lock: with `strict` (the API's If-Match) any change refuses it
    (`StaleTicket`); otherwise a public reply since asks for a confirmation
    (`ReplyCollision`: send again with the version it carries), and so does a status change
    when this reply sets the status (`StaleTicket`), since it would undo it. Other changes
    (priority, assignee...) let it through.
    """
    body = _clean_text(body, field="body", limit=MAX_BODY)
    checked = screening.screen(body)
    if checked.secret_kinds:
        # An agent never sends (or stores) a recovery phrase or key, not even in a note.
        raise TicketError(
            "reply_contains_secret",
            _(
                "This reply contains what looks like a recovery phrase or private key. Remove it before sending."
            ),
            field="body",
        )
    risks = [] if internal else screening.outbound_risks(body)
    if risks and not override_risks:
        raise TicketError(
            "reply_needs_override",
            _("This reply contains a non-official link or a payment request. Confirm to send it anyway."),
            field="body",
            risks=risks,
        )
    if new_status and new_status not in Status.values:
        raise TicketError("unknown_status", _("Unknown status."), field="status")
    stored = _save_files(attachments)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk, version if strict else None)
        if version is not None and version > ticket.version:
            # A version never issued: no events lie past it, so the checks below would pass.
            raise _stale(ticket, version)
        if version is not None and ticket.version != version:
            if not internal and replied_since(ticket, version):
                raise _stale(ticket, version, replies=True)
            if new_status and _status_changed_since(ticket, version):
                raise _stale(ticket, version)
        if not internal:
            # The channel may refuse it (WeChat's 48-hour window): say so before storing it.
            channels.check_reply(ticket)
        message = Message.objects.create(
            ticket=ticket,
            visibility=Visibility.INTERNAL if internal else Visibility.PUBLIC,
            author_role=AuthorRole.AGENT,
            author_user=agent,
            channel=ticket.channel if not internal else Channel.WEB,
            external_id=external_id,
            body=body,
            created_at=now,
            seq=_next_seq(ticket, public=not internal),
        )
        _attach(message, stored)
        fields = ["updated_at", "search_text"]
        ticket.updated_at = now
        ticket.search_text = f"{ticket.search_text} {search.document(body)}"
        if not internal:
            if ticket.first_replied_at is None:
                ticket.first_replied_at = now
                ticket.first_replied_by = agent  # the reports' first replier
                fields += ["first_replied_at", "first_replied_by"]
            fields += lifecycle.clock.on_agent_reply(ticket, now)
        ticket.save(update_fields=list(dict.fromkeys(fields)))
        _event(
            ticket,
            "internal_note" if internal else "agent_replied",
            agent,
            **({"override": risks} if risks else {}),
        )
        if not internal and ticket.status == Status.NEW and not new_status:
            new_status = Status.OPEN
        if new_status and new_status != ticket.status:
            _set_status(ticket, new_status, agent)
        if not internal and channels.reaches(ticket):
            _enqueue("notify_customer", ticket_id=ticket.pk, kind="reply", message_id=message.pk)
        live.announce(ticket, "note" if internal else "message", message=message, actor=agent)
    return message


def find_ticket_by_message_ids(channel: str, external_ids: Sequence[str]) -> Ticket | None:
    """The ticket holding a message with one of these provider ids; the first id wins.

    Channels thread replies with it (email: In-Reply-To, then References newest first).
    """
    ids = [i for i in dict.fromkeys(external_ids) if i]
    if not ids:
        return None
    found = {
        m.external_id: m.ticket
        for m in Message.objects.select_related("ticket").filter(channel=channel, external_id__in=ids[:200])
    }
    return next((found[i] for i in ids if i in found), None)


def add_system_note(
    ticket: Ticket,
    body: str,
    *,
    kind: str,
    flag: dict[str, str] | None = None,
    **data: Any,
) -> Message:
    """An internal note written by the system (a dropped attachment, an undeliverable reply),
    with its event and optionally a flag agents see on the ticket. The text may quote
    customer input (a file name), so it passes the shield like any inbound text."""
    screened = screening.screen(_clean_text(body, field="body", limit=MAX_BODY))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        message = Message.objects.create(
            ticket=ticket,
            visibility=Visibility.INTERNAL,
            author_role=AuthorRole.SYSTEM,
            channel=Channel.WEB,
            body=screened.text,
            created_at=now,
        )
        if flag is not None and flag not in ticket.flags:
            ticket.flags = [*ticket.flags, flag]
            ticket.save(update_fields=["flags"])
        _event(ticket, kind, **data)
    return message


def tell_customer(ticket: Ticket, body: str, *, event: str | None = None, **data: Any) -> Message:
    """A public system message in the thread (a pending reminder, an auto-solve notice), sent
    after commit on the ticket's channel, or by email when the channel has no sender of its
    own; with `event`, its line in the history (`data` its details).

    The text is the desk's own, not the customer's: it is not screened. The caller's
    transaction holds the ticket (an SLA check runs under the ticket's row lock).
    """
    with transaction.atomic(savepoint=False):
        message = Message.objects.create(
            ticket=ticket,
            visibility=Visibility.PUBLIC,
            author_role=AuthorRole.SYSTEM,
            channel=ticket.channel if ticket.channel != Channel.EMAIL else Channel.WEB,
            body=body,
            created_at=timezone.now(),
            seq=_next_seq(ticket),
        )
        if event is not None:
            _event(ticket, event, **data)
        live.announce(ticket, "message", message=message)
    ticket_id, message_id = ticket.pk, message.pk

    def send() -> None:
        fresh = Ticket.objects.select_related("contact").get(pk=ticket_id)
        if channels.sender_for(fresh) is not None:
            from walletdesk.tickets import tasks

            tasks.notify_customer.enqueue(ticket_id=ticket_id, kind="reply", message_id=message_id)
        elif fresh.contact.email:
            # The message is committed on the ticket (the customer sees it when they look).
            channels.mail_plainly(
                f"[{fresh.reference}] {fresh.subject}",
                f"{body}\n\n{tracking_url(fresh.reference, fresh.contact_id)}\n",
                [fresh.contact.email],
                language=mail.language(fresh.language),
                about=f"the message on {fresh.reference}",
            )

    transaction.on_commit(send)
    return message


def record_event(ticket: Ticket | int, kind: str, *, actor: Any = None, **data: Any) -> TicketEvent:
    """A line in a ticket's history that changes nothing else: an SLA warning or breach, an
    escalation rule applied, a survey sent or answered. `ticket` may be its primary key."""
    event = TicketEvent(
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data,
        **({"ticket": ticket} if isinstance(ticket, Ticket) else {"ticket_id": ticket}),
    )
    rows.insert([event])
    return event
