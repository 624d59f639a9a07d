"""Who a ticket's requester is proven to be, and the link that proves a typed address.

A typed email address is a claim (see models.Contact). Its owner proves it by the confirm link
sent to it: signed, expiring, good for one purpose (its own salt) and one use (it names the
claim contact the ticket sits on; confirming moves the ticket away from it). The link's page
only shows a button; the POST confirms, so mail scanners that follow links change nothing.

The desk asks here what the requester proved (`status`) and which account, if any, the ticket
may act on (`account_of`): none until the identity is proven.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from walletdesk.tickets.models import Channel, Contact, ContactIdentity, Proof, Ticket

SALT = "walletdesk.tickets.identity.confirm"


class BadConfirmToken(Exception):
    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def make_confirm_token(reference: str, contact_id: int, email: str) -> str:
    return signing.dumps({"r": reference, "c": contact_id, "e": email.strip().lower()}, salt=SALT)


def read_confirm_token(token: str) -> tuple[str, int, str]:
    max_age = settings.EMAIL_CONFIRM_LINK_MAX_AGE_DAYS * 86400
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise BadConfirmToken(expired=True) from None
    except signing.BadSignature:
        raise BadConfirmToken(expired=False) from None
    return str(data["r"]), int(data["c"]), str(data["e"])


def needs_confirmation(ticket: Ticket) -> bool:
    """A guest's ticket on the claim contact of a typed address: its owner may confirm it."""
    contact = ticket.contact
    return not contact.proof and bool(contact.claim_key) and bool(contact.email)


def confirm_url(ticket: Ticket) -> str | None:
    """The link to put in mail sent to the claimed address (and only there), if it applies."""
    if not needs_confirmation(ticket):
        return None
    token = make_confirm_token(ticket.reference, ticket.contact_id, str(ticket.contact.email))
    return settings.SITE_URL + reverse("portal:confirm", args=[token])


def account_of(ticket: Ticket) -> Any:
    """The account the requester proved to be, or None: account actions and account history
    apply only to this. A claim contact never has one (the database refuses it); checking
    the proof too keeps that true whatever a future migration does."""
    contact: Contact = ticket.contact
    if not contact.proof or contact.user_id is None:
        return None
    return contact.user


@dataclass(frozen=True)
class ProofStatus:
    proven: bool
    label: str  # for the desk, in the agent's language
    at: datetime | None = None
    detail: str = ""


_SOCIAL = {Channel.WECHAT, Channel.WEIBO, Channel.X, Channel.TELEGRAM}


def status(ticket: Ticket, confirmation: dict[str, Any] | None = None) -> ProofStatus:
    """What the desk shows about the requester's identity.

    `confirmation`: the data of the ticket's identity_confirmed event, if any (how and when
    its requester confirmed it), which says more about this ticket than how its contact was
    first proven.
    """
    contact = ticket.contact
    if not contact.email and ticket.channel in _SOCIAL:
        # Someone who wrote from a social account gave no address at all: saying "email not
        # confirmed" would send the agent looking for one.
        return ProofStatus(
            False,
            _("known only by their %(channel)s account (no email address)")
            % {"channel": ticket.get_channel_display()},
        )
    if not contact.proof:
        if ticket.channel == Channel.INAPP:
            return ProofStatus(False, _("email not confirmed: known only by the app's user id"))
        return ProofStatus(False, _("email not confirmed"))
    if confirmation:
        at = datetime.fromisoformat(confirmation["at"]) if confirmation.get("at") else None
        if confirmation.get("how") == Proof.SIGNED_IN:
            return ProofStatus(True, _("confirmed by signing in"), at=at)
        return ProofStatus(True, _("confirmed by link"), at=at)
    if ticket.channel == Channel.INAPP:
        app = (
            ContactIdentity.objects.filter(contact=contact, channel=Channel.INAPP)
            .exclude(vouched_by="")
            .values_list("vouched_by", flat=True)
            .first()
        )
        if app:
            return ProofStatus(True, _("vouched by app %(name)s") % {"name": app}, at=contact.proven_at)
    labels = {
        Proof.SIGNED_IN: _("signed in"),
        Proof.LINK: _("confirmed by link"),
        Proof.APP: _("vouched by app %(name)s") % {"name": contact.proven_by},
        Proof.MAIL: _("authenticated mail (%(by)s)") % {"by": contact.proven_by},
    }
    return ProofStatus(True, str(labels.get(Proof(contact.proof), contact.proof)), at=contact.proven_at)
