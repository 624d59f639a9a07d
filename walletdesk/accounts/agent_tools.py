"""What the agent sees of a customer's account on the ticket page (the security sidebar).

The tickets app decides whether the agent may see the ticket; this only describes the account.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.models import UserSession
from django.conf import settings

from walletdesk.accounts.forms import AgentActionForm, ResetMFAForm
from walletdesk.accounts.lockout import lock_state
from walletdesk.accounts.models import IdentityDocument, LoginEvent, RecoveryCase, User
from walletdesk.core.models import AuditEntry


def security_summary(
    user: User | None, viewer: Any, *, ticket_id: int | None = None
) -> dict[str, Any] | None:
    """Sidebar context for the ticket's contact; None when the contact has no account."""
    if user is None:
        return None
    documents = (
        IdentityDocument.objects.filter(case__ticket_id=ticket_id).select_related("case")
        if ticket_id is not None
        else IdentityDocument.objects.none()
    )
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
        "documents": list(documents),
        "can_view_documents": bool(viewer.has_perm("accounts.view_identity_document")),
        "can_act": not (user.is_staff or user.is_superuser) or bool(viewer.is_superuser),
        "unlock_form": AgentActionForm(prefix="unlock"),
        "reset_form": AgentActionForm(prefix="reset"),
        "mfa_form": ResetMFAForm(prefix="mfa"),
        "close_form": AgentActionForm(prefix="close"),
        "open_case": ticket_id is not None
        and RecoveryCase.objects.filter(ticket_id=ticket_id, status=RecoveryCase.Status.OPEN).exists(),
        "retention_days": settings.DOCUMENT_RETENTION_DAYS,
    }
