"""State changes for the chain app. Views, tasks and the admin call these; none writes the models.

Linking an address: `start_link` writes a one-time message (site, account, address, nonce,
expiry) for the customer to sign with EIP-191 personal_sign; `confirm_link` recovers the signer
from the signature over the stored text and links only when it is the address, the challenge
is the caller's, unused and unexpired. Without a valid signature an address is never linked.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from walletdesk.chain import notices, rules
from walletdesk.chain.models import ChainAlert, LinkChallenge, LinkedAddress
from walletdesk.core import audit, mail, queue
from walletdesk.core.agents import is_agent
from walletdesk.core.locks import lock_rows
from walletdesk.shield.addresses import evm_checksum_ok  # eth_utils' costs ~20 MiB at import
from walletdesk.tickets import actions as ticket_actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import ACTIVE_STATUSES, Channel, Priority, Ticket
from walletdesk.tickets.screening import screen_value

CHALLENGE_MINUTES = 15
MAX_OPEN_CHALLENGES = 5  # per customer in the last hour: enough to retry, too few to farm
MAX_LINKED = 20
_SIGNATURE = re.compile(r"^(0x)?[0-9a-fA-F]{130}$")


class ChainError(Exception):
    """A refused chain action, with a message safe to show to the person who asked."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def _refuse_secret(value: str, field: str) -> None:
    # A recovery phrase or private key pasted here is refused before anything else looks at
    # it; it is neither stored nor logged, and the message tells the customer why.
    if screen_value(value).secret_kinds:
        raise ChainError(
            "secret",
            _(
                "That looks like a recovery phrase or private key. Never share it with anyone, "
                "including us: nothing was saved. If someone asked you for it, move your funds "
                "to a new wallet now."
            ),
            field=field,
        )


def clean_address(raw: str) -> str:
    """A typed EVM address, lower case; EIP-55 checked when it is typed in mixed case."""
    value = (raw or "").strip()
    _refuse_secret(value, "address")
    if not rules.is_address(value):
        raise ChainError("address", _("Enter an address: 0x followed by 40 hex characters."), field="address")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not evm_checksum_ok(value):
        raise ChainError(
            "checksum",
            _("This address has a typo: its upper and lower case letters do not match."),
            field="address",
        )
    return value.lower()


def challenge_text(*, site: str, user_id: int, address: str, nonce: str, issued: str, expires: str) -> str:
    """The message to sign: a sentence in the customer's language, then ASCII lines a machine
    (and a careful reader) can check, in the order of EIP-4361's fields."""
    intro = _("Sign this message to link this address to your support account. Signing it costs nothing.")
    lines = [
        intro,
        "",
        f"Site: {site}",
        f"Account: {user_id}",
        f"Address: {rules.checksum(address)}",
        f"Nonce: {nonce}",
        f"Issued At: {issued}",
        f"Expiration Time: {expires}",
    ]
    return "\n".join(lines)


@transaction.atomic
def start_link(user: Any, raw_address: str, *, site: str, ip: str | None = None) -> LinkChallenge:
    address = clean_address(raw_address)
    now = timezone.now()
    if LinkedAddress.objects.filter(user=user, address=address).exists():
        raise ChainError("linked", _("This address is already linked to your account."), field="address")
    if LinkedAddress.objects.filter(user=user).count() >= MAX_LINKED:
        raise ChainError("too_many", _("You have linked as many addresses as we allow."), field="address")
    recent = LinkChallenge.objects.filter(user=user, created_at__gte=now - timedelta(hours=1)).count()
    if recent >= MAX_OPEN_CHALLENGES:
        raise ChainError("rate", _("Too many link requests. Try again in an hour."), field="address")
    nonce = secrets.token_hex(16)
    expires = now + timedelta(minutes=CHALLENGE_MINUTES)
    message = challenge_text(
        site=site,
        user_id=user.pk,
        address=address,
        nonce=nonce,
        issued=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        expires=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    challenge = LinkChallenge.objects.create(
        user=user, address=address, nonce=nonce, message=message, expires_at=expires
    )
    audit.record("chain.link_started", actor=user, target=challenge, ip_address=ip, address=address)
    return challenge


def recover_signer(message: str, signature: str) -> str | None:
    """The address that signed `message` with personal_sign, lower case; None if unreadable."""
    try:
        from eth_account import Account  # on first use: heavy, and only this check needs it
        from eth_account.messages import encode_defunct

        signer = Account.recover_message(encode_defunct(text=message), signature=signature)
    except Exception:  # any malformed signature is simply "not a valid signature"
        return None
    return str(signer).lower()


@transaction.atomic
def confirm_link(user: Any, nonce: str, raw_signature: str, *, ip: str | None = None) -> LinkedAddress:
    signature = (raw_signature or "").strip()
    _refuse_secret(signature, "signature")
    if not _SIGNATURE.match(signature):
        raise ChainError(
            "signature",
            _("Paste the signature your wallet gave you: 0x and 130 hex characters."),
            field="signature",
        )
    pk = LinkChallenge.objects.filter(nonce=nonce, user=user).values_list("pk", flat=True).first()
    if pk is None:
        # Someone else's nonce looks exactly like a missing one.
        raise ChainError("unknown", _("This link request was not found. Start again."))
    challenge = lock_rows(LinkChallenge, [pk])[pk]  # two submits of one nonce: one wins
    if challenge.used_at is not None:
        raise ChainError("used", _("This message was already used. Start again to get a new one."))
    if challenge.expires_at <= timezone.now():
        raise ChainError("expired", _("This message has expired. Start again to get a new one."))
    signer = recover_signer(challenge.message, signature)
    if signer != challenge.address:
        audit.record(
            "chain.link_refused", actor=user, target=challenge, ip_address=ip, reason="signer mismatch"
        )
        raise ChainError(
            "mismatch",
            _("This signature was not made by %(address)s for this message. Sign the message shown here.")
            % {"address": rules.checksum(challenge.address)},
            field="signature",
        )
    challenge.used_at = timezone.now()
    challenge.save(update_fields=["used_at"])
    shared = LinkedAddress.objects.filter(address=challenge.address).exclude(user=user).exists()
    try:
        with transaction.atomic():
            linked = LinkedAddress.objects.create(user=user, address=challenge.address, challenge=challenge)
    except IntegrityError:
        raise ChainError("linked", _("This address is already linked to your account.")) from None
    audit.record(
        "chain.address_linked",
        actor=user,
        target=linked,
        ip_address=ip,
        address=linked.address,
        shared=shared,
    )
    return linked


@transaction.atomic
def unlink(user: Any, linked_id: int, *, ip: str | None = None) -> None:
    linked = LinkedAddress.objects.filter(pk=linked_id, user=user).first()
    if linked is None:
        raise ChainError("unknown", _("This address is not linked to your account."))
    audit.record("chain.address_unlinked", actor=user, target=linked, ip_address=ip, address=linked.address)
    linked.delete()


# --- alerts ------------------------------------------------------------------------------------

ALERT_CATEGORY = "unauthorised_tx"  # routed to the Security desk, urgent, by its seed
_SEND_ALERT_MAIL = "walletdesk.chain.tasks.send_alert_mail"
_DELIVER_ALERT = "walletdesk.chain.tasks.deliver_alert"


def _language(user: Any) -> str:
    return mail.language(getattr(user, "language", ""))


def explorer_tx(chain: Any, tx_hash: str) -> str:
    template = chain.explorer_tx_url or ""
    return template.replace("{hash}", tx_hash) if "{hash}" in template else ""


def enqueue_delivery(alert_ids: list[int]) -> None:
    """After the monitor's commit: one delivery task per new alert."""
    for alert_id in alert_ids:
        transaction.on_commit(partial(queue.enqueue_named, _DELIVER_ALERT, alert_id=alert_id))


@transaction.atomic
def deliver_alert(alert_id: int) -> list[int]:
    """Open or update an urgent Security-desk ticket for each customer who linked the alert's
    address, and mail them. Once: under the alert's row lock, `delivered_at` is set in the same
    transaction as the tickets, so a re-run (a duplicate task, a crash before the commit, the
    sweep) either finds it delivered or does all of it again from nothing."""
    alert = lock_rows(ChainAlert, [alert_id]).get(alert_id)
    if alert is None or alert.delivered_at is not None:
        return []
    chain = alert.chain
    site = settings.SITE_URL.rstrip("/")
    tickets: list[int] = []
    users = [link.user for link in LinkedAddress.objects.filter(address=alert.address).select_related("user")]
    for user in users:
        if not user.is_active or is_agent(user):
            continue
        language = _language(user)
        with translation.override(language):
            # The hash alone: the desk's On-chain card links it to the explorer, while a link
            # in the body would be screened as one to an unlisted site and flag our own ticket.
            notice = notices.ticket_notice(alert, site_url=site, explorer="")
        open_ticket = (
            Ticket.objects.filter(
                contact__user=user,
                category__slug=ALERT_CATEGORY,
                wallet_address__iexact=rules.checksum(alert.address),
                status__in=ACTIVE_STATUSES,
            )
            .order_by("-created_at")
            .first()
        )
        if open_ticket is None:
            ticket = ticket_actions.create_ticket(
                NewTicket(
                    subject=notice.subject,
                    body=notice.body,
                    channel=Channel.WEB,
                    user=user,
                    language=language,
                    category=ALERT_CATEGORY,
                    priority=Priority.URGENT,
                    facts={
                        "wallet_address": rules.checksum(alert.address),
                        "tx_hash": alert.tx_hash,
                        "chain": chain.name[:40],
                    },
                    opened_by_system=True,
                )
            )
        else:
            ticket = open_ticket
            ticket_actions.add_system_note(
                ticket, notice.body, kind="chain_alert", rule=alert.rule, tx=alert.tx_hash
            )
            if ticket.priority != Priority.URGENT:
                ticket_actions.change_priority(ticket, Priority.URGENT, actor=None)
        tickets.append(ticket.pk)
        transaction.on_commit(
            partial(
                queue.enqueue_named, _SEND_ALERT_MAIL, alert_id=alert.pk, user_id=user.pk, ticket_id=ticket.pk
            )
        )
    alert.delivered_at = timezone.now()
    alert.ticket_id = tickets[0] if tickets else None
    alert.save(update_fields=["delivered_at", "ticket_id"])
    audit.record("chain.alert_delivered", target=alert, rule=alert.rule, tickets=tickets)
    return tickets
