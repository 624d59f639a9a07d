from __future__ import annotations

from typing import Any

from walletdesk.core.models import AuditEntry


def record(
    action: str,
    *,
    actor: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    reason: str = "",
    ip_address: str | None = None,
    **data: Any,
) -> AuditEntry:
    """Append one audit entry. Call inside the action's transaction so both land or neither."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    return AuditEntry.objects.create(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        ip_address=ip_address,
        data=data,
    )
