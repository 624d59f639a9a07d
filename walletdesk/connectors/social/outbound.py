"""Replies and notices out through the provider the customer wrote from.

`send_notification` is the sender registered in `tickets.channels` for each social provider:
an agent's reply (desk or API), the acknowledgement of a new ticket (reference, promised reply
time, "support is free"), the solved notice and the satisfaction survey. Each becomes a
`SocialOutbound` row, recorded before the send ("sending", with a lease) and marked right
after the provider answers. A provider 5xx, a 429 or a network error is retried with backoff
(the provider's Retry-After first), by re-enqueueing `deliver_social` with `run_after`; a 4xx
fails at once. A final failure adds a note, an event and a flag on the ticket, so an agent
sees the customer was not reached. A worker killed mid-send leaves the row "sending"; the
sweep sends it again after its lease (a provider without idempotency keys may then show that
one message twice: the same trade the email sender makes, see connectors/email/outbound.py).

`check_reply` is the guard `tickets.actions.add_agent_message` runs before storing a reply:
a provider whose window has closed (WeChat: 48 hours after the customer's last message, 5
messages) refuses it there, with the reason, before anything is sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.tasks import default_task_backend
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from walletdesk.connectors.social.base import Outgoing, ProviderError, Window, adapter_for
from walletdesk.connectors.social.models import SocialAccount, SocialOutbound
from walletdesk.core import queue
from walletdesk.core.retry import backoff as backoff_from
from walletdesk.tickets import actions
from walletdesk.tickets.actions import TicketError
from walletdesk.tickets.models import ContactIdentity, Message, Ticket

_DELIVER = "walletdesk.connectors.social.tasks.deliver_social"
MAX_ATTEMPTS = 8
logger = logging.getLogger(__name__)

# A ticket that looks like a report of someone posing as us: its answers link the official
# contacts, so the customer can check who is real.
IMPERSONATION_CATEGORIES = {"scam_report"}
IMPERSONATION_FLAGS = {"lookalike_link", "unofficial_link", "impersonation", "fake_support"}


def origin(ticket: Ticket) -> tuple[SocialAccount, str] | None:
    """The account and the person a ticket's customer wrote from: the contact's id on this
    channel, `<account id>:<provider's user id>` (inbound.identity_of)."""
    identity = (
        ContactIdentity.objects.filter(contact_id=ticket.contact_id, channel=ticket.channel)
        .order_by("-pk")
        .values_list("external_id", flat=True)
        .first()
    )
    account_id, _sep, recipient = (identity or "").partition(":")
    if not account_id.isdigit() or not recipient:
        return None
    account = SocialAccount.objects.filter(pk=int(account_id), provider=ticket.channel).first()
    return (account, recipient) if account is not None else None


def window(ticket: Ticket, *, exclude: int | None = None) -> Window | None:
    """The provider's reply window for this ticket now, or None if it is not a social ticket.
    `exclude`: an outbound row not to count (the one being delivered is not "sent before")."""
    found = origin(ticket)
    if found is None:
        return None
    account, recipient = found
    adapter = adapter_for(account.provider)
    if adapter is None:
        return Window(open=False, reason=_("This channel is not connected."))
    since = ticket.last_customer_message_at or ticket.created_at
    sent = (
        SocialOutbound.objects.filter(account=account, recipient=recipient, created_at__gte=since)
        .exclude(Q(state=SocialOutbound.State.FAILED) | Q(kind="template") | Q(pk=exclude))
        .count()
    )
    return adapter.reply_window(account, since, sent)


def deliveries(ticket: Ticket) -> dict[int, SocialOutbound]:
    """The outbound row of each message sent through the provider, by message id (one query)."""
    return {
        row.message_id: row
        for row in SocialOutbound.objects.filter(ticket=ticket, message__isnull=False).only(
            "message_id", "state", "last_error", "attempts", "next_attempt_at", "sent_at", "kind"
        )
        if row.message_id is not None
    }


def check_reply(ticket: Ticket) -> None:
    """Refuse an agent's public reply the provider would refuse (tickets.channels guard)."""
    found = window(ticket)
    if found is not None and not found.open:
        raise TicketError(
            "outside_reply_window",
            found.reason,
            field="body",
            alternative=found.alternative,
            closes_at=found.closes_at.isoformat() if found.closes_at else None,
        )


def impersonation_report(ticket: Ticket) -> bool:
    category = ticket.category.slug if ticket.category_id and ticket.category else ""
    codes = {str(flag.get("code", "")) for flag in (ticket.flags or []) if isinstance(flag, dict)}
    return category in IMPERSONATION_CATEGORIES or bool(codes & IMPERSONATION_FLAGS)


def _site(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _language(ticket: Ticket) -> str:
    return "zh-hans" if ticket.language.startswith("zh") else "en"


def compose(
    ticket: Ticket, kind: str, message: Message | None, *, survey_links: tuple[str, str] | None = None
) -> str:
    """The text a customer receives for `kind`, in their language."""
    from walletdesk.sla import clock

    with override(_language(ticket)):
        free = _("Support is free. We never ask for your recovery phrase, private key or any fee.")
        official = _("Our official contacts: %(url)s") % {"url": _site(reverse("portal:contact"))}
        if kind == "reply" and message is not None:
            text = message.body
            adapter = adapter_for(ticket.channel)
            # The first picture travels with the message where the provider can send one.
            images_sent = 1 if adapter is not None and adapter.sends_images else 0
            files = list(message.attachments.all())
            pictures = [a for a in files if a.content_type.startswith("image/")]
            names = [a.filename for a in files if not a.content_type.startswith("image/")]
            names += [a.filename for a in pictures[images_sent:]]
            if names:
                text += "\n\n" + _("Attached in the help centre: %(names)s") % {"names": ", ".join(names)}
            if impersonation_report(ticket):
                text += "\n\n" + official
            return text
        if kind == "created":
            due = clock.current_due(ticket)
            parts = [_("We received your message. Your reference is %(ref)s.") % {"ref": ticket.reference}]
            if due is not None:
                parts.append(
                    _("We will reply by %(when)s.")
                    % {"when": timezone.localtime(due).strftime("%Y-%m-%d %H:%M (UTC%:z)")}
                )
            parts.append(free)
            if impersonation_report(ticket):
                parts.append(official)
            return "\n".join(parts)
        if kind == "solved":
            return _("Your request %(ref)s is solved. Write here if you still need help.") % {
                "ref": ticket.reference
            }
        if kind == "csat" and survey_links is not None:
            return _("How did we do on %(ref)s? Good: %(good)s  Bad: %(bad)s") % {
                "ref": ticket.reference,
                "good": survey_links[0],
                "bad": survey_links[1],
            }
    return ""


def _survey_links(ticket: Ticket) -> tuple[str, str] | None:
    from walletdesk.sla.csat import survey_url
    from walletdesk.sla.models import CsatSurvey

    survey = CsatSurvey.objects.filter(ticket=ticket).order_by("-pk").first()
    if survey is None:
        return None
    return survey_url(survey, "good"), survey_url(survey, "bad")


def _dedupe_key(ticket: Ticket, kind: str, message: Message | None) -> str:
    if message is not None:
        return f"{kind}:{ticket.pk}:m{message.pk}"
    if kind == "solved":
        return f"solved:{ticket.pk}:{ticket.solved_at.isoformat() if ticket.solved_at else ''}"
    if kind == "csat":
        links = _survey_links(ticket)
        return f"csat:{ticket.pk}:{links[0][-40:] if links else ''}"
    return f"{kind}:{ticket.pk}"


def send_notification(ticket: Ticket, kind: str, message: Message | None) -> str:
    """tickets.channels sender: record the message, then try it once now."""
    found = origin(ticket)
    if found is None:
        return "no_channel"
    account, recipient = found
    text = compose(ticket, kind, message, survey_links=_survey_links(ticket) if kind == "csat" else None)
    if not text:
        return "nothing_to_send"
    try:
        with transaction.atomic():
            outbound = SocialOutbound.objects.create(
                account=account,
                ticket=ticket,
                message=message,
                kind=kind,
                recipient=recipient,
                text=text,
                dedupe_key=_dedupe_key(ticket, kind, message),
            )
    except IntegrityError:
        existing = SocialOutbound.objects.get(dedupe_key=_dedupe_key(ticket, kind, message))
        if existing.state == SocialOutbound.State.SENT:
            return "already_sent"
        return deliver(existing.pk)
    return deliver(outbound.pk)


def send_template(ticket: Ticket, *, agent: Any) -> SocialOutbound:
    """WeChat's template message for a customer outside the reply window: a fixed notice that
    their request has an answer, linking the tracking page. Refused if the provider has none."""
    from walletdesk.tickets.tracking import tracking_url

    found = origin(ticket)
    if found is None:
        raise TicketError("not_social", _("This request did not come from a social channel."))
    account, recipient = found
    current = window(ticket)
    if current is not None and current.open:
        raise TicketError("window_open", _("The reply window is open: send a normal reply."))
    if current is None or current.alternative != "template":
        raise TicketError("no_template", _("This channel has no template message."))
    link = tracking_url(ticket.reference, ticket.contact_id)
    with override(_language(ticket)):
        text = _("There is an answer to your request %(ref)s.") % {"ref": ticket.reference}
    with transaction.atomic():
        outbound = SocialOutbound.objects.create(
            account=account,
            ticket=ticket,
            kind="template",
            recipient=recipient,
            text=text,
            link=link,
            dedupe_key=f"template:{ticket.pk}:{timezone.now().timestamp()}",
        )
        actions.record_event(ticket, "template_sent", actor=agent, provider=account.provider)
    deliver(outbound.pk)
    outbound.refresh_from_db()
    return outbound


def _claim(outbound_id: int) -> SocialOutbound | None:
    """Claim a row for one attempt (a conditional UPDATE: two workers never both send it)."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.SOCIAL_SENDING_LEASE_SECONDS)
    claimed = (
        SocialOutbound.objects.filter(pk=outbound_id, state__in=["queued", "retry"])
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(state=SocialOutbound.State.SENDING, lease_until=lease)
    )
    if not claimed:
        return None
    return SocialOutbound.objects.select_related("account", "message").get(pk=outbound_id)


def _image_of(outbound: SocialOutbound) -> tuple[bytes, str, str] | None:
    adapter = adapter_for(outbound.account.provider)
    if outbound.message_id is None or adapter is None or not adapter.sends_images:
        return None
    for attachment in outbound.message.attachments.all():  # type: ignore[union-attr]
        if attachment.content_type.startswith("image/"):
            with attachment.file.open("rb") as handle:
                return handle.read(), attachment.filename, attachment.content_type
    return None


def deliver(outbound_id: int) -> str:
    """One attempt at one message; schedules the next on a retryable failure."""
    outbound = _claim(outbound_id)
    if outbound is None:
        return "not_due"
    adapter = adapter_for(outbound.account.provider)
    attempt = outbound.attempts + 1
    try:
        if adapter is None:
            raise ProviderError("the provider is not connected", retry=False)
        if outbound.kind == "reply":
            current = window(outbound.ticket, exclude=outbound.pk)
            if current is not None and not current.open:
                raise ProviderError(current.reason, retry=False)
        provider_id = adapter.send(
            outbound.account,
            outbound.recipient,
            Outgoing(text=outbound.text, kind=outbound.kind, image=_image_of(outbound), link=outbound.link),
        )
    except ProviderError as exc:
        return _failed(outbound, attempt, exc)
    except Exception as exc:  # a bug or an unexpected answer: retried like a 5xx, and logged
        logger.exception("sending social message %s failed", outbound.pk)
        return _failed(outbound, attempt, ProviderError(f"{type(exc).__name__}: {exc}", retry=True))
    SocialOutbound.objects.filter(pk=outbound.pk).update(
        state=SocialOutbound.State.SENT,
        attempts=attempt,
        sent_at=timezone.now(),
        provider_message_id=provider_id[:200],
        last_error="",
        lease_until=None,
    )
    return "sent"


def backoff(attempt: int, retry_after: float | None) -> float:
    return backoff_from(attempt, base=30, cap=3600, wait=retry_after)


def _failed(outbound: SocialOutbound, attempt: int, exc: ProviderError) -> str:
    error = str(exc)[:2000]
    if exc.retry and attempt < MAX_ATTEMPTS:
        delay = backoff(attempt, exc.retry_after)
        when = timezone.now() + timedelta(seconds=delay)
        with transaction.atomic():
            SocialOutbound.objects.filter(pk=outbound.pk).update(
                state=SocialOutbound.State.RETRY, attempts=attempt, next_attempt_at=when, last_error=error
            )
            if default_task_backend.supports_defer:  # the immediate backend (tests) cannot wait
                queue.enqueue_named(_DELIVER, run_after=when, outbound_id=outbound.pk)
        return f"retry in {delay:.0f}s"
    with transaction.atomic():
        SocialOutbound.objects.filter(pk=outbound.pk).update(
            state=SocialOutbound.State.FAILED, attempts=attempt, last_error=error, lease_until=None
        )
        if outbound.kind in ("reply", "template"):
            # The agent must know the customer did not get it.
            actions.add_system_note(
                outbound.ticket,
                _("Not delivered through %(provider)s: %(why)s")
                % {"provider": outbound.account.get_provider_display(), "why": error[:300]},
                kind="social_send_failed",
                flag={
                    "code": "social_undelivered",
                    "reason": f"A message to the customer was not delivered through {outbound.account.provider}.",
                },
                provider=outbound.account.provider,
            )
    return "failed"


def recover_stalled() -> str:
    """The worker's sweep: a row left "sending" past its lease (its worker died mid-send) is
    tried again; a row waiting to retry whose task was lost is re-enqueued."""
    now = timezone.now()
    stalled = list(
        SocialOutbound.objects.filter(state=SocialOutbound.State.SENDING, lease_until__lt=now).values_list(
            "pk", flat=True
        )
    )
    for pk in stalled:
        with transaction.atomic():
            if SocialOutbound.objects.filter(pk=pk, state="sending", lease_until__lt=now).update(
                state=SocialOutbound.State.RETRY, next_attempt_at=now
            ):
                queue.enqueue_named(_DELIVER, outbound_id=pk)
    return f"stalled={len(stalled)}"
