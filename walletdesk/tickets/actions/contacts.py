"""Who owns a contact: accounts that verified an address, and the customer confirming a claim."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.tickets.access import verified_addresses
from walletdesk.tickets.actions._helpers import _event, _lock_ticket
from walletdesk.tickets.actions.errors import TicketError
from walletdesk.tickets.models import (
    Contact,
    Message,
    Proof,
    Ticket,
)


def _verified_owners(emails: Iterable[str]) -> dict[str, int]:
    """Accounts that verified these addresses: {email: user id}."""
    from allauth.account.models import EmailAddress

    wanted = list(emails)
    if not wanted:
        return {}
    return {
        email.lower(): user_id
        for email, user_id in EmailAddress.objects.filter(email__in=wanted, verified=True).values_list(
            "email", "user_id"
        )
    }


def _account_contact(user: Any, language: str) -> Contact:
    """The signed-in account's contact, created at its first ticket.

    A contact proven for the account's address by other means (a confirmed link, authenticated
    mail) becomes the account's, but only if the account verified that address. A claim never
    does: whoever typed the address before proved nothing.
    """
    contact = Contact.objects.filter(user=user).first()
    if contact is not None:
        return contact
    email = (user.email or "").strip().lower() or None
    if email is not None:
        proven = Contact.objects.filter(email=email).exclude(proof="").first()
        if proven is not None:
            if proven.user_id is None and _verified_owners([email]).get(email) == user.pk:
                proven.user = user
                proven.save(update_fields=["user"])
                return proven
            email = None  # the address is proven for someone else: this account does not get it
    return Contact.objects.create(
        email=email,
        name=user.label,
        language=language,
        user=user,
        proof=Proof.SIGNED_IN,
        proven_at=timezone.now(),
    )


def link_contact_to_user(user: Any) -> int:
    """After a user verifies their email, the contact proven for that address (by a confirmed
    link, authenticated mail or a vouching app) becomes theirs. Claims are never linked: a
    ticket someone filed by typing the address joins the account only when its owner confirms
    it (`confirm_claim`). Returns how many contacts were linked (0 or 1)."""
    email = (user.email or "").strip().lower()
    if not email or _verified_owners([email]).get(email) != user.pk:
        return 0
    with transaction.atomic():
        if Contact.objects.filter(user=user).exists():
            return 0
        return Contact.objects.filter(email=email, user__isnull=True).exclude(proof="").update(user=user)


def confirm_claim(ticket: Ticket, *, email: str, user: Any = None) -> Ticket:
    """The owner of `email` confirmed that this request, filed by someone who typed the
    address, is theirs: the ticket moves from the claim contact to the proven one.

    Proof is either the signed link sent to the address (`user` None) or a signed-in account
    that verified the address. The proven contact is the account's when an account verified
    the address. Refused if the ticket is no longer a claim of this address (already
    confirmed: a link works once).
    """
    email = email.strip().lower()
    # Signed in as someone who did not verify this address: the link, not the session, is the proof.
    signed_in = email in verified_addresses(user)
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        claim = Contact.objects.get(pk=ticket.contact_id)
        if claim.proof or claim.email != email:
            raise TicketError("not_a_claim", _("This request has already been confirmed."))
        now = timezone.now()
        target = _account_contact(user, claim.language) if signed_in else _proven_for_link(email, claim, now)
        ticket.contact = target
        ticket.updated_at = now
        ticket.save(update_fields=["contact", "updated_at"])
        Message.objects.filter(ticket=ticket, author_contact_id=claim.pk).update(author_contact=target)
        _event(
            ticket,
            "identity_confirmed",
            user if signed_in else None,
            how=Proof.SIGNED_IN if signed_in else Proof.LINK,
            at=now.isoformat(),
        )
    return ticket


def _proven_for_link(email: str, claim: Contact, now: Any) -> Contact:
    proven = Contact.objects.filter(email=email).exclude(proof="").first()
    if proven is not None:
        return proven
    owner = _verified_owners([email]).get(email)
    if owner is not None:
        account = Contact.objects.filter(user_id=owner).first()
        if account is not None:
            return account
    return Contact.objects.create(
        email=email,
        name=claim.name,
        language=claim.language,
        user_id=owner,
        proof=Proof.LINK,
        proven_at=now,
    )
