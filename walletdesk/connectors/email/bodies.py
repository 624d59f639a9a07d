"""The bodies of acknowledgements and solved notices, rendered once per shape and filled in.

These mails differ from ticket to ticket only in four values: the reference, the promised reply
time, the tracking link and the confirmation link. Django's template engine took about 0.4 ms
of the ~0.9 ms of worker CPU a batched acknowledgement cost (bench/worker_drain.py), and under
a burst the worker's CPU is what decides how far acknowledgements fall behind (#23). So each
shape (language, kind, with or without a due time, with or without a confirmation link) is
rendered once per process through the real templates, with stand-ins for the four values, and
each mail replaces the stand-ins with its own values, escaped exactly as the template's
autoescape would have escaped them in the HTML part and left as they are in the text part.

The stand-ins are private-use characters, which neither HTML escaping nor the templates change
and which no template or translation contains. The due time's stand-in is a datetime that no
ticket has, since the templates format it with the `zoned` filter; its formatted text is what is
replaced. Mails with a message (agent replies) are rendered whole, since the body is the
message. `tests/email/test_bodies.py` renders every shape both ways and compares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape

from walletdesk.core.when import zoned
from walletdesk.tickets import identity
from walletdesk.tickets.models import Ticket
from walletdesk.tickets.tracking import tracking_url

REFERENCE = "\ue000reference\ue001"
TRACKING = "\ue000tracking\ue001"
CONFIRM = "\ue000confirm\ue001"
# No ticket is due at this moment; its `zoned` text (a fixed format) stands in for the due time.
DUE_MOMENT = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)

SHAPED_KINDS = frozenset({"created", "solved"})


@dataclass(frozen=True)
class _StandIn:
    """What the templates read of a ticket, as stand-ins."""

    reference: str
    first_reply_due: datetime | None


_shapes: dict[tuple[str, str, bool, bool], tuple[str, str, str]] = {}


def context(ticket: Ticket, kind: str, message: object | None) -> dict[str, object]:
    return {
        "ticket": ticket,
        "message": message,
        "kind": kind,
        "tracking_url": tracking_url(ticket.reference, ticket.contact_id),
        # Sent only to the typed address, so only its owner can confirm the request is theirs.
        "confirm_url": identity.confirm_url(ticket) if kind == "created" else None,
    }


def render_whole(language: str, ctx: dict[str, object]) -> tuple[str, str]:
    """Both bodies through the templates (the active language must be `language`)."""
    text = render_to_string(f"email_channel/notification.{language}.txt", ctx)
    html = render_to_string(f"email_channel/notification.{language}.html", ctx)
    return text, html


def _shape(language: str, kind: str, due: bool, confirm: bool) -> tuple[str, str, str]:
    key = (language, kind, due, confirm)
    shape = _shapes.get(key)
    if shape is None:
        stand_in = _StandIn(REFERENCE, DUE_MOMENT if due else None)
        ctx: dict[str, object] = {
            "ticket": stand_in,
            "message": None,
            "kind": kind,
            "tracking_url": TRACKING,
            "confirm_url": CONFIRM if confirm else None,
        }
        text, html = render_whole(language, ctx)
        shape = _shapes[key] = (text, html, zoned(DUE_MOMENT))
    return shape


def render(ticket: Ticket, kind: str, language: str) -> tuple[str, str]:
    """Both bodies of a mail without a message, in `language` (active during the call)."""
    ctx = context(ticket, kind, None)
    if kind not in SHAPED_KINDS:
        return render_whole(language, ctx)
    due = ticket.first_reply_due if kind == "created" else None
    confirm = ctx["confirm_url"]
    text, html, due_text = _shape(language, kind, due is not None, bool(confirm))
    values = {
        REFERENCE: ticket.reference,
        TRACKING: str(ctx["tracking_url"]),
        CONFIRM: str(confirm or ""),
        due_text: zoned(due),
    }
    for stand_in, value in values.items():
        text = text.replace(stand_in, value)
        html = html.replace(stand_in, escape(value))
    return text, html


def render_bodies(ticket: Ticket, kind: str, message: object | None, language: str) -> tuple[str, str]:
    with translation.override(language):
        if message is None:
            return render(ticket, kind, language)
        return render_whole(language, context(ticket, kind, message))
