"""How a ticket's answer reaches the customer: one outbound adapter per channel.

Connectors register their sender from their AppConfig.ready(); tickets never import a
connector (the dependency runs connectors -> tickets only). A channel without its own sender
(web, in-app, phone) reaches a customer who gave an email address through the email sender.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from django.core.mail import send_mail
from django.utils import translation

from walletdesk.core import mail, metrics
from walletdesk.tickets.models import Channel, Message, Ticket

# sender(ticket, kind, message) -> a short outcome for the task result ("sent", "queued", ...)
Sender = Callable[[Ticket, str, Message | None], str]
# batch(tickets, kind) -> {ticket id: outcome}: the same, for many tickets at once (no message)
BatchSender = Callable[[Sequence[Ticket], str], dict[int, str]]

# guard(ticket) raises TicketError when the channel would refuse an agent's reply now (WeChat's
# 48-hour window); add_agent_message runs it under the ticket's lock, before storing the reply.
Guard = Callable[[Ticket], None]

_senders: dict[str, Sender] = {}
_batch_senders: dict[str, BatchSender] = {}
_guards: dict[str, Guard] = {}
# Channels whose sender reaches the customer without an email address (a social account).
_reach_alone: set[str] = set()

logger = logging.getLogger(__name__)


def register_sender(
    channel: str,
    sender: Sender,
    batch: BatchSender | None = None,
    *,
    reaches: bool = False,
    guard: Guard | None = None,
) -> None:
    """`reaches`: the sender reaches the ticket's customer by itself (no email needed), so
    acknowledgements, replies and solved notices are queued for it. `guard`: see Guard."""
    _senders[channel] = sender
    if batch is not None:
        _batch_senders[channel] = batch
    if reaches:
        _reach_alone.add(channel)
    if guard is not None:
        _guards[channel] = guard


def unregister_sender(channel: str) -> None:
    _senders.pop(channel, None)
    _batch_senders.pop(channel, None)
    _guards.pop(channel, None)
    _reach_alone.discard(channel)


def reaches(ticket: Ticket) -> bool:
    """Whether a notice for this ticket's customer has somewhere to go."""
    return ticket.channel in _reach_alone or bool(ticket.contact.email)


def check_reply(ticket: Ticket) -> None:
    """Raise the channel's refusal of an agent's reply now, if it has one."""
    guard = _guards.get(ticket.channel)
    if guard is not None:
        guard(ticket)


def _channel_for(ticket: Ticket) -> str | None:
    if ticket.channel in _senders:
        return ticket.channel
    if ticket.contact.email and Channel.EMAIL in _senders:
        return Channel.EMAIL
    return None


def sender_for(ticket: Ticket) -> Sender | None:
    channel = _channel_for(ticket)
    return None if channel is None else _senders[channel]


def send_to_customer(ticket: Ticket, kind: str, message: Message | None = None) -> str:
    """Tell the customer about `kind` (created, reply, solved) on the channel that reaches them."""
    sender = sender_for(ticket)
    if sender is None:
        return "no_channel"
    return sender(ticket, kind, message)


def send_to_customers(tickets: Sequence[Ticket], kind: str) -> dict[int, str | Exception]:
    """`send_to_customer` for many tickets (no message): each channel's batch sender takes its
    tickets together where it has one. What a ticket's sending raised is its outcome, so one
    failure never stops the others; a batch sender that raises as a whole hands its tickets to
    the one-by-one sender, whose dedupe keys skip what the batch already sent."""
    outcomes: dict[int, str | Exception] = {}
    together: dict[str, list[Ticket]] = {}
    alone: list[Ticket] = []
    for ticket in tickets:
        channel = _channel_for(ticket)
        if channel is None:
            outcomes[ticket.pk] = "no_channel"
        elif channel in _batch_senders:
            together.setdefault(channel, []).append(ticket)
        else:
            alone.append(ticket)
    for channel, group in together.items():
        try:
            outcomes.update(_batch_senders[channel](group, kind))
        except Exception:
            logger.exception("the %s batch sender failed; sending one by one", channel)
            alone += group
    for ticket in alone:
        try:
            outcomes[ticket.pk] = send_to_customer(ticket, kind)
        except Exception as exc:
            logger.exception("notifying the customer of ticket %s (%s) failed", ticket.pk, kind)
            outcomes[ticket.pk] = exc
    return outcomes


def mail_plainly(subject: str, body: str, to: Sequence[str], *, language: str, about: str) -> None:
    """A plain mail outside the channel senders (agent notices, a reminder with no channel),
    in `language`, in the shared layout (core.mail: the brand prefix and closing lines; pass
    the subject without it). `subject` may be lazy: it is read in `language`. For work already committed: a mail server that is down must not undo it or
    fail its task, so the failure is logged (naming `about`), not raised and not swallowed."""
    try:
        with translation.override(language):
            send_mail(mail.subject(str(subject)), mail.plain(body, language), None, list(to))
    except Exception:
        metrics.mail("notice", "failed")
        logger.exception("mailing %s failed", about)
