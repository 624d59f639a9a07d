"""What the agent sees of a customer's account on the ticket page (the security sidebar), and
of the recovery case a ticket carries.

The tickets app decides whether the agent may see the ticket and its documents; this only
describes the account and the case.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.models import UserSession
from django.conf import settings

from walletdesk.accounts.forms import AgentActionForm, ResetMFAForm
from walletdesk.accounts.lockout import lock_state
from walletdesk.accounts.models import LoginEvent, RecoveryCase, User
from walletdesk.core.models import AuditEntry


def security_summary(user: User | None, viewer: Any) -> dict[str, Any] | None:
    """Sidebar context for the ticket's contact; None when the contact has no account."""
    if user is None:
        return None
    return {
        "user": user,
        "lock": lock_state(user.email or user.username),
        "mfa_enabled": is_mfa_enabled(user),
        "has_password": user.has_usable_password(),
        "sessions": UserSession.objects.filter(user_id=user.pk).count(),
        "logins": list(LoginEvent.objects.filter(user=user)[:5]),
        "events": list(
            AuditEntry.objects.filter(target_type="accounts.user", target_id=str(user.pk)).select_related(
                "actor"
            )[:8]
        ),
        "can_act": not (user.is_staff or user.is_superuser) or bool(viewer.is_superuser),
        "unlock_form": AgentActionForm(prefix="unlock"),
        "reset_form": AgentActionForm(prefix="reset"),
        "mfa_form": ResetMFAForm(prefix="mfa"),
    }


def recovery_summary(ticket_id: int, *, can_view_documents: bool) -> dict[str, Any] | None:
    """The recovery cases a ticket opened, with their documents; None when it opened none.

    Shown whether or not the requester has an account: a victim who reports signed out, from an
    address that matches no account, is the case that needs review most."""
    cases = list(RecoveryCase.objects.filter(ticket_id=ticket_id).prefetch_related("documents"))
    if not cases:
        return None
    return {
        "cases": cases,
        "can_view_documents": can_view_documents,
        "open_case": any(c.status == RecoveryCase.Status.OPEN for c in cases),
        "close_form": AgentActionForm(prefix="close"),
        "retention_days": settings.DOCUMENT_RETENTION_DAYS,
    }
