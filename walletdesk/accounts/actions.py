"""State changes for accounts. Views, API, admin, signals and tasks call these; none writes the models.

Each action validates, writes in one transaction, records an AuditEntry (who, when, why) and
enqueues its follow-up mail with `transaction.on_commit`, so nothing is sent for a rolled-back
change. The tasks module imports these actions (a task runs an action), so the actions name
the tasks they enqueue by path (`core.queue.task_named`) and never import the tasks module.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.models import UserSession
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.tasks import default_task_backend
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.accounts import crypto
from walletdesk.accounts.documents import PreparedDocument
from walletdesk.accounts.lockout import normalise
from walletdesk.accounts.models import (
    ApiToken,
    IdentityDocument,
    LoginEvent,
    RecoveryCase,
    UnlockToken,
    User,
    hash_token,
)
from walletdesk.core import audit, queue
from walletdesk.core.storage import storage_errors

logger = logging.getLogger(__name__)

REASON_MAX = 1000

# The follow-up tasks, in accounts.tasks (which imports this module).
_SEND_SECURITY_NOTICE = "walletdesk.accounts.tasks.send_security_notice"
_SEND_UNLOCK_LINK = "walletdesk.accounts.tasks.send_unlock_link"
_SEND_RESET_LINK = "walletdesk.accounts.tasks.send_password_reset_link"
_PURGE_EXPIRED_DOCUMENTS = "walletdesk.accounts.tasks.purge_expired_documents"


class AccountError(Exception):
    """A refused account action, with a message safe to show to the person who asked."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def _after_commit(callback: Callable[[], Any]) -> None:
    """Run `callback` once the surrounding transaction commits (tests run it at once)."""
    transaction.on_commit(callback)


def _notify(user_id: int, kind: str, **data: Any) -> None:
    _after_commit(lambda: queue.task_named(_SEND_SECURITY_NOTICE).enqueue(user_id, kind, data))


def _reason(reason: str, *, field: str = "reason") -> str:
    text = (reason or "").replace("\x00", "").strip()
    if len(text) < 5:
        raise AccountError("reason_required", _("Say why (at least a few words)."), field=field)
    if len(text) > REASON_MAX:
        raise AccountError(
            "too_long", _("Keep this under %(n)d characters.") % {"n": REASON_MAX}, field=field
        )
    return text


def _guard_target(user: User, actor: Any) -> None:
    # An agent may act on customers; only an admin may act on another agent or an admin.
    if (user.is_staff or user.is_superuser) and not getattr(actor, "is_superuser", False):
        raise AccountError("staff_target", _("Only an admin can do this to a staff account."))


# --- API tokens --------------------------------------------------------------------------------


@transaction.atomic
def issue_api_token(user: User, name: str, *, actor: User | None = None) -> str:
    """Create a token for `user` and return the raw value; it is never retrievable again."""
    raw = "wdk_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], token_hash=hash_token(raw))
    audit.record("api_token.issued", actor=actor or user, target=token, name=name)
    return raw


def user_for_api_token(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return token.user if token else None


# --- login history, devices ---------------------------------------------------------------------


def ip_prefix(ip: str | None) -> str:
    """The network a device signs in from: /24 for IPv4, /48 for IPv6 (mobile IPs wander)."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


def device_key(user_agent: str, ip: str | None) -> str:
    return hashlib.sha256(f"{user_agent}\n{ip_prefix(ip)}".encode()).hexdigest()


def record_login(
    user: User, *, outcome: str, ip: str | None, user_agent: str, detail: str = ""
) -> LoginEvent:
    """Keep one sign-in attempt; a success from a new device (agent + network) mails a notice."""
    user_agent = (user_agent or "")[:300]
    key = device_key(user_agent, ip)
    with transaction.atomic():
        new_device = False
        if outcome == LoginEvent.Outcome.SUCCESS:
            successes = LoginEvent.objects.filter(user=user, outcome=LoginEvent.Outcome.SUCCESS)
            new_device = successes.exists() and not successes.filter(device_key=key).exists()
        event = LoginEvent.objects.create(
            user=user, outcome=outcome, detail=detail, ip_address=ip, user_agent=user_agent, device_key=key
        )
        if new_device:
            audit.record("account.new_device_login", actor=user, target=user, ip_address=ip)
            _notify(
                user.pk, "new_device", ip=ip or "", user_agent=user_agent, at=event.created_at.isoformat()
            )
    return event


# --- sessions ----------------------------------------------------------------------------------


def end_sessions(user: User, *, keep_session_key: str | None = None) -> int:
    """Delete the user's Django sessions (all, or all but one). Returns how many ended."""
    ended = 0
    for session in UserSession.objects.filter(user_id=user.pk):
        if keep_session_key and session.session_key == keep_session_key:
            continue
        session.end()
        ended += 1
    return ended


def revoke_session(user: User, session_id: int, *, actor: User, ip: str | None = None) -> None:
    if actor.pk != user.pk:
        raise AccountError("not_allowed", _("You can only sign out your own sessions."))
    with transaction.atomic():
        session = UserSession.objects.filter(pk=session_id, user_id=user.pk).first()
        if session is None:
            raise AccountError("not_found", _("That session has already ended."))
        audit.record(
            "account.session_revoked",
            actor=actor,
            target=user,
            ip_address=ip,
            session_ip=session.ip,
            user_agent=session.user_agent[:200],
        )
        session.end()


# --- password, 2FA notices (allauth does the change; we record it) ------------------------------


def password_changed(user: User, *, current_session_key: str | None, ip: str | None, reset: bool) -> int:
    """After a change or a reset: end the other sessions (a reset ends them all), log, notify."""
    with transaction.atomic():
        ended = end_sessions(user, keep_session_key=None if reset else current_session_key)
        kind = "password_reset" if reset else "password_changed"
        audit.record(f"account.{kind}", actor=user, target=user, ip_address=ip, sessions_ended=ended)
        _notify(user.pk, kind, ip=ip or "")
    return ended


def mfa_changed(user: User, *, enabled: bool, ip: str | None, actor: Any = None, reason: str = "") -> None:
    with transaction.atomic():
        kind = "mfa_enabled" if enabled else "mfa_disabled"
        audit.record(f"account.{kind}", actor=actor or user, target=user, ip_address=ip, reason=reason)
        _notify(user.pk, kind, ip=ip or "", by_agent=bool(actor and actor.pk != user.pk))


# --- lockout ------------------------------------------------------------------------------------


def unlock_account(user: User, *, actor: Any, reason: str, via: str = "agent", ip: str | None = None) -> int:
    """Clear axes' failed attempts for this account's username. Returns how many records went."""
    if via == "agent":
        reason = _reason(reason)
        _guard_target(user, actor)
    with transaction.atomic():
        cleared = axes_reset(username=normalise(user.email or user.username))
        audit.record(
            "account.unlocked",
            actor=actor,
            target=user,
            reason=reason,
            ip_address=ip,
            via=via,
            cleared=cleared,
        )
        _notify(user.pk, "unlocked", via=via)
    return cleared


def _verified_user(email: str) -> User | None:
    address = (
        EmailAddress.objects.select_related("user")
        .filter(email__iexact=(email or "").strip(), verified=True, user__is_active=True)
        .first()
    )
    return address.user if address else None


def request_unlock(email: str, *, ip: str | None = None) -> None:
    """Queue an unlock link if `email` is a verified address. Says nothing either way."""
    user = _verified_user(email)
    if user is None:
        return
    user_id = user.pk
    _after_commit(lambda: queue.task_named(_SEND_UNLOCK_LINK).enqueue(user_id))


def issue_unlock_token(user: User) -> str:
    """Create a single-use unlock token; only its hash is kept. Called by the mail task."""
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    UnlockToken.objects.create(
        user=user,
        token_hash=hash_token(raw),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.UNLOCK_LINK_MAX_AGE_MINUTES),
    )
    return raw


def unlock_token_user(raw: str) -> User | None:
    """The user a still-valid token belongs to, without using it up."""
    token = (
        UnlockToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw or ""), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    return token.user if token else None


def redeem_unlock_token(raw: str, *, ip: str | None = None) -> User:
    with transaction.atomic():
        # A conditional UPDATE claims the token, so two clicks never both succeed.
        now = timezone.now()
        claimed = UnlockToken.objects.filter(
            token_hash=hash_token(raw or ""), used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            raise AccountError("bad_link", _("This unlock link has expired or was already used."))
        token = UnlockToken.objects.select_related("user").get(token_hash=hash_token(raw))
        unlock_account(token.user, actor=token.user, reason="", via="email_link", ip=ip)
    return token.user


# --- agent actions -------------------------------------------------------------------------------


def force_password_reset(user: User, *, actor: User, reason: str, ip: str | None = None) -> int:
    """Make the password unusable, end every session, mail a reset link. Returns sessions ended."""
    reason = _reason(reason)
    _guard_target(user, actor)
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        ended = end_sessions(user)
        audit.record(
            "account.password_reset_forced",
            actor=actor,
            target=user,
            reason=reason,
            ip_address=ip,
            sessions_ended=ended,
        )
        user_id = user.pk
        _after_commit(lambda: queue.task_named(_SEND_RESET_LINK).enqueue(user_id))
    return ended


def reset_mfa(user: User, *, actor: User, reason: str, identity_check: str, ip: str | None = None) -> int:
    """Remove the user's authenticators, only after the agent records how identity was checked."""
    identity_check = _reason(identity_check, field="identity_check")
    reason = _reason(reason)
    _guard_target(user, actor)
    with transaction.atomic():
        removed, _detail = Authenticator.objects.filter(user=user).delete()
        audit.record(
            "account.mfa_reset",
            actor=actor,
            target=user,
            reason=reason,
            ip_address=ip,
            identity_check=identity_check,
            authenticators_removed=removed,
        )
        _notify(user.pk, "mfa_disabled", by_agent=True)
    return removed


def mfa_is_enabled(user: User) -> bool:
    return is_mfa_enabled(user)


# --- recovery cases and identity documents -----------------------------------------------------


def add_identity_document(
    case: RecoveryCase, doc: PreparedDocument, *, actor: Any = None
) -> IdentityDocument:
    """Encrypt and store one document; the storage only ever sees ciphertext."""
    document = IdentityDocument(
        case=case,
        kind=doc.kind,
        side=doc.side,
        content_type=doc.content_type,
        size=len(doc.data),
        metadata_stripped=doc.metadata_stripped,
    )
    try:
        document.file.save("document.bin", ContentFile(crypto.encrypt(doc.data)), save=False)
    except storage_errors():
        # The disk or bucket refused: the caller's transaction rolls the case back and deletes
        # the documents stored before this one, so nothing half-made stays (portal.recovery).
        logger.warning("identity document storage failed", exc_info=True)
        raise AccountError(
            "storage_unavailable",
            _(
                "Your documents could not be stored just now, so nothing was sent. Please try again in a minute."
            ),
            field="front",
        ) from None
    try:
        document.save()
        audit.record(
            "identity_document.added",
            actor=actor,
            target=document,
            case=str(case.public_id),
            kind=doc.kind,
            side=doc.side,
            content_type=doc.content_type,
        )
    except Exception:
        document.file.delete(save=False)
        raise
    return document


def open_recovery_case(
    *,
    email: str,
    user: Any,
    language: str,
    documents: Sequence[PreparedDocument],
    open_ticket: Callable[[RecoveryCase], tuple[int, str]],
    ip: str | None = None,
) -> RecoveryCase:
    """Open a case, store its documents encrypted, and open the linked ticket, all or nothing.

    `open_ticket` is supplied by the tickets app (accounts never imports tickets) and returns
    the new ticket's (id, reference).
    """
    if not documents:
        raise AccountError(
            "documents_required", _("Add a photo or scan of an identity document."), field="front"
        )
    if len(documents) > settings.DOCUMENT_MAX_COUNT:
        raise AccountError("too_many_files", _("Too many files."), field="front")
    owner = user if getattr(user, "is_authenticated", False) else None
    stored: list[IdentityDocument] = []
    try:
        with transaction.atomic():
            case = RecoveryCase.objects.create(
                user=owner,
                email=(owner.email if owner and owner.email else email).strip().lower(),
                language="zh-hans" if (language or "").startswith("zh") else "en",
            )
            for doc in documents:
                stored.append(add_identity_document(case, doc, actor=owner))
            case.ticket_id, case.ticket_reference = open_ticket(case)
            case.save(update_fields=["ticket_id", "ticket_reference"])
            audit.record(
                "recovery_case.opened",
                actor=owner,
                target=case,
                ip_address=ip,
                ticket=case.ticket_reference,
                documents=len(stored),
            )
    except Exception:
        for document in stored:
            document.file.delete(save=False)
        raise
    return case


def view_identity_document(
    document: IdentityDocument,
    *,
    actor: Any,
    allowed: Callable[[Any, RecoveryCase], bool],
    ip: str | None = None,
) -> bytes:
    """Decrypt for an agent `allowed` admits; every view is written to the audit log.

    Who may open a case's documents depends on the case's ticket (its team, who sees it), and
    accounts cannot import tickets: the caller passes that rule
    (`tickets.access.may_view_identity_documents`), as `open_recovery_case` is passed the
    function that opens the ticket.
    """
    if not (
        getattr(actor, "is_authenticated", False)
        and actor.is_active
        and actor.is_staff
        and allowed(actor, document.case)
    ):
        raise AccountError("not_allowed", _("You are not allowed to view identity documents."))
    with document.file.open("rb") as handle:
        ciphertext = handle.read()
    data = crypto.decrypt(ciphertext)
    audit.record(
        "identity_document.viewed",
        actor=actor,
        target=document,
        ip_address=ip,
        case=str(document.case.public_id),
        ticket=document.case.ticket_reference,
        side=document.side,
    )
    return data


def close_recovery_case(case: RecoveryCase, *, actor: Any, reason: str = "") -> RecoveryCase:
    """Close a case; its documents are deleted DOCUMENT_RETENTION_DAYS later."""
    with transaction.atomic():
        case = RecoveryCase.objects.select_for_update().get(pk=case.pk)
        if case.status == RecoveryCase.Status.CLOSED:
            return case
        now = timezone.now()
        case.status = RecoveryCase.Status.CLOSED
        case.closed_at = now
        case.documents_purge_after = now + timedelta(days=settings.DOCUMENT_RETENTION_DAYS)
        case.save(update_fields=["status", "closed_at", "documents_purge_after"])
        audit.record(
            "recovery_case.closed",
            actor=actor,
            target=case,
            reason=reason,
            purge_after=case.documents_purge_after.isoformat(),
        )
        run_after = case.documents_purge_after
        _after_commit(lambda: _schedule_document_purge(run_after))
    return case


def _schedule_document_purge(run_after: datetime) -> None:
    """Ask the queue to purge when retention ends, where the backend can defer.

    `manage.py purge_identity_documents` (run daily by cron or `walletdesk up`) is the backstop
    for backends that cannot defer and for tasks lost in between.
    """
    if default_task_backend.supports_defer:
        queue.task_named(_PURGE_EXPIRED_DOCUMENTS).using(run_after=run_after).enqueue()


def close_recovery_cases_for_ticket(ticket_id: int, *, actor: Any, reason: str = "") -> int:
    cases = list(RecoveryCase.objects.filter(ticket_id=ticket_id, status=RecoveryCase.Status.OPEN))
    for case in cases:
        close_recovery_case(case, actor=actor, reason=reason)
    return len(cases)


def _delete_documents(case: RecoveryCase) -> int:
    count = 0
    for document in list(case.documents.all()):
        document.delete()  # the post_delete receiver removes the file
        count += 1
    return count


def delete_recovery_case(case: RecoveryCase, *, actor: Any, reason: str = "") -> None:
    with transaction.atomic():
        removed = _delete_documents(case)
        audit.record(
            "recovery_case.deleted", actor=actor, target=case, reason=reason, documents_deleted=removed
        )
        case.delete()


def purge_expired_documents(now: datetime | None = None) -> int:
    """Delete the documents of cases closed more than DOCUMENT_RETENTION_DAYS ago. Idempotent."""
    now = now or timezone.now()
    removed = 0
    due = RecoveryCase.objects.filter(
        status=RecoveryCase.Status.CLOSED, documents_purge_after__lte=now, documents__isnull=False
    ).distinct()
    for case_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            # Claim the case's documents in one place; a second worker finds nothing left.
            case = RecoveryCase.objects.select_for_update().filter(pk=case_id).first()
            if case is None:
                continue
            count = _delete_documents(case)
            if count:
                audit.record("identity_document.purged", target=case, documents_deleted=count)
            removed += count
    return removed
