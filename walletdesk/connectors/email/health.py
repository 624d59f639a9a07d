"""Mailbox health for /readyz and the agent pages: last success and last error per mailbox.

/readyz shows this detail only to agents and to the operator's token (core.views): mailbox
names and server errors are internals.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from .models import InboundEmail, Mailbox, Outcome


def mailbox_rows() -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for m in Mailbox.objects.filter(active=True).order_by("name"):
        stale_after = timedelta(seconds=max(m.poll_seconds, settings.EMAIL_POLL_SECONDS) * 5)
        stale = m.last_polled_at is None or now - m.last_polled_at > stale_after
        rows.append(
            {
                "name": m.name,
                "ok": m.healthy and not stale,
                "stale": stale,
                "last_success_at": m.last_success_at.isoformat() if m.last_success_at else None,
                "last_error_at": m.last_error_at.isoformat() if m.last_error_at else None,
                "last_error": m.last_error if not m.healthy else "",
            }
        )
    return rows


def mailbox_health() -> dict[str, Any]:
    """A readiness check: a mailbox that fails or stopped being polled fails /readyz (503), so
    the operator learns that mail is not coming in. /healthz (liveness) never looks at it."""
    rows = mailbox_rows()
    quarantined = InboundEmail.objects.filter(outcome=Outcome.QUARANTINED).count()
    failing = [r["name"] for r in rows if not r["ok"]]
    return {
        "ok": not failing,
        "error": f"mailboxes failing or not polled: {', '.join(failing)}" if failing else "",
        "mailboxes": rows,
        "quarantined": quarantined,
    }
