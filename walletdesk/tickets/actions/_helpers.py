"""What the actions share: input checks, events, files, the row lock and the status change.

Private to the actions package; it imports no action module.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.core import logs, queue, rows
from walletdesk.core.cache import ProcessCache
from walletdesk.core.locks import lock_rows
from walletdesk.core.storage import storage_errors
from walletdesk.tickets import facts as fact_rules
from walletdesk.tickets import lifecycle, live, routing, screening
from walletdesk.tickets.actions.errors import (
    InvalidInput,
    ReplyCollision,
    StaleTicket,
    StorageUnavailable,
    TicketError,
)
from walletdesk.tickets.files import CheckedFile
from walletdesk.tickets.models import (
    FACT_FIELDS,
    PRIORITY_RANK,
    Attachment,
    Category,
    Channel,
    Message,
    Priority,
    Status,
    Team,
    Ticket,
    TicketEvent,
)

logger = logging.getLogger(__name__)

MAX_SUBJECT = 200
MAX_BODY = 20_000
FACT_MAX_LENGTH = {
    name: getattr(Ticket._meta.get_field(name), "max_length", None) or 200 for name in FACT_FIELDS
}


# --- helpers ----------------------------------------------------------------------------------


def _event(ticket: Ticket, kind: str, actor: Any = None, **data: Any) -> TicketEvent:
    event = _new_event(ticket, kind, actor, **data)
    rows.insert([event])
    live.announce(ticket, kind, actor=actor)
    return event


def _next_seq(ticket: Ticket, *, public: bool = True) -> int | None:
    """The number the ticket's next public message takes, on a live chat (None elsewhere).
    The caller holds the ticket's row lock, so two messages never draw the same number (and
    the unique index would refuse them if they did)."""
    if ticket.channel != Channel.CHAT or not public:
        return None
    return last_seq(ticket.pk) + 1


def last_seq(ticket_id: int) -> int:
    """The highest number a ticket's live-chat messages have (0 for none). Plain SQL: on a
    chat's every message the ORM's query building cost more than the query."""
    with connection.cursor() as cursor:
        cursor.execute(_LAST_SEQ_SQL, [ticket_id])
        last = cursor.fetchone()[0]
    return int(last or 0)


_LAST_SEQ_SQL = f"SELECT MAX(seq) FROM {Message._meta.db_table} WHERE ticket_id = %s AND seq IS NOT NULL"  # noqa: S608


def _new_event(ticket: Ticket, kind: str, actor: Any = None, **data: Any) -> TicketEvent:
    # The ticket's version once this change is written (events follow the save), so a stale
    # change can be told what happened since the version it was made from.
    if isinstance(ticket, Ticket) and ticket.version:
        data.setdefault("version", ticket.version)
    return TicketEvent(
        ticket=ticket,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data,
    )


def _clean_text(value: str | None, *, field: str, limit: int, required: bool = True) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise TicketError("required", _("This field is required."), field=field)
    if len(text) > limit:
        raise TicketError(
            "too_long",
            _("Keep this under %(limit)d characters.") % {"limit": limit},
            field=field,
            limit=limit,
        )
    return text


def _clean_facts(facts: dict[str, str]) -> dict[str, str]:
    return _check_facts(facts).values


def _check_facts(facts: dict[str, str]) -> fact_rules.CheckedFacts:
    cleaned: dict[str, str] = {}
    for name, value in (facts or {}).items():
        if name not in FACT_MAX_LENGTH:
            raise TicketError("unknown_field", _("Unknown field “%(name)s”.") % {"name": name}, field=name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise TicketError("wrong_type", _("This field must be text."), field=name)
        cleaned[name] = _clean_text(value, field=name, limit=FACT_MAX_LENGTH[name], required=False)
    try:
        return fact_rules.check(cleaned)
    except fact_rules.FactError as exc:
        raise InvalidInput(exc.code, exc.message, field=exc.field) from None


# A customer who shared a recovery phrase or key must be treated as compromised: the Security
# desk takes the ticket, at high priority at least.
SECURITY_TEAM = "security"
# In tickets.similar, not tickets.tasks: tasks imports this package (the task runs actions.vectors).
EMBED_SOLVED_TICKET = "walletdesk.tickets.similar.embed_solved_ticket"
SECRET_PRIORITY = Priority.HIGH
_security_team = ProcessCache(lambda: Team.objects.filter(slug=SECURITY_TEAM).first())


def _secret_why(where: Sequence[str]) -> str:
    return (
        "the customer shared a recovery phrase or private key (in: "
        + ", ".join(sorted(set(where)))
        + "): treat the wallet as compromised; Security desk, high priority"
    )


def _escalate_for_secret(ticket: Ticket) -> list[str]:
    """Raise the priority to high (urgent stays) and hand the ticket to the Security desk;
    returns the fields changed."""
    changed = []
    if PRIORITY_RANK[Priority(ticket.priority)] < PRIORITY_RANK[SECRET_PRIORITY]:
        ticket.priority = SECRET_PRIORITY
        changed.append("priority")
    team = _security_team.get()
    if team is not None and ticket.team_id != team.pk:
        ticket.team = team
        changed.append("team")
    if screening.SECRET_TAG not in ticket.tags:
        ticket.tags = sorted({*ticket.tags, screening.SECRET_TAG})
        changed.append("tags")
    return changed


def _escalate_secret_on_save(ticket: Ticket, now: Any) -> tuple[list[str], dict[str, Any]]:
    """`_escalate_for_secret` for a ticket being saved by an action: also moves the SLA clock
    on a priority change, and reassigns a ticket whose agent is not on the (restricted)
    Security desk, where it would sit with someone who can no longer open it; the desk's own
    mode picks again. Returns the fields changed and the event's old/new values."""
    old_priority, old_team = ticket.priority, ticket.team_id
    fields = _escalate_for_secret(ticket)
    escalated: dict[str, Any] = {}
    if "priority" in fields:
        fields += lifecycle.clock.on_priority_change(ticket, now)
        escalated["priority"] = {"old": old_priority, "new": ticket.priority}
    if "team" in fields:
        escalated["team"] = {"old": old_team, "new": ticket.team_id}
        old_assignee = ticket.assignee_id
        if old_assignee is not None and not ticket.team.members.filter(pk=old_assignee).exists():  # type: ignore[union-attr]
            ticket.assignee = None
            routing.assign(ticket)
            fields.append("assignee")
            escalated["assignee"] = {"old": old_assignee, "new": ticket.assignee_id}
    return fields, escalated


def _load_categories() -> dict[str, Category]:
    return {c.slug: c for c in Category.objects.filter(active=True).select_related("default_team")}


# Categories change a few times a year and every ticket needs one.
_categories = ProcessCache(_load_categories)
_active_categories = _categories.get


def forget_categories() -> None:
    """Forget the cached categories and the Security desk team (both load with the teams)."""
    _categories.forget()
    _security_team.forget()


def _category(slug: str | None) -> Category | None:
    if not slug:
        return None
    category = _active_categories().get(slug)
    if category is None:
        raise TicketError(
            "unknown_category",
            _("Unknown category “%(slug)s”.") % {"slug": screening.screen_value(slug).text},
            field="category",
        )
    return category


def _check_count(files: Sequence[CheckedFile]) -> None:
    if len(files) > settings.ATTACHMENT_MAX_COUNT:
        raise TicketError(
            "too_many_files",
            _("Attach at most %(n)d files.") % {"n": settings.ATTACHMENT_MAX_COUNT},
            field="attachments",
        )


def _save_files(files: Sequence[CheckedFile]) -> list[tuple[CheckedFile, str]]:
    """Write the files before the transaction opens, so no lock is held during file I/O.

    Names are content hashes: writing the same file twice is harmless, and a file whose
    transaction then fails is an orphan, never a row without its file.

    A write cut short (a full disk) leaves a partial file under the content's name, and
    Django's storage does not remove it; the next upload of the same file would then find the
    name taken and point its row at the truncated copy. So a failed write removes what it left,
    and a stored file whose size is not the content's is written again.
    """
    _check_count(files)
    stored = []
    for checked in files:
        name = f"attachments/{checked.sha256[:2]}/{checked.sha256}"
        try:
            if default_storage.exists(name) and default_storage.size(name) == checked.size:
                stored.append((checked, name))
                continue
            if default_storage.exists(name):
                default_storage.delete(name)  # a partial copy left by an earlier failed write
            try:
                name = default_storage.save(name, ContentFile(checked.data))
            except BaseException:
                with contextlib.suppress(Exception):
                    if default_storage.size(name) != checked.size:  # ours, cut short
                        default_storage.delete(name)
                raise
        except storage_errors():
            # The disk or the bucket failed before any row was written: no ticket or message
            # exists, the files already written are harmless orphans (content-addressed), and
            # the customer is told to send again rather than shown a 500.
            logger.warning("attachment storage failed", exc_info=True)
            raise StorageUnavailable(
                "storage_unavailable",
                _(
                    "Your files could not be stored just now, so nothing was sent. Please try again in a minute."
                ),
                field="attachments",
            ) from None
        stored.append((checked, name))
    return stored


def _attach(message: Message, stored: list[tuple[CheckedFile, str]]) -> None:
    # What the message now has, as if prefetched: whoever shows it next (a live chat's frame)
    # reads `message.attachments.all()` without a query.
    cache = message.__dict__.setdefault("_prefetched_objects_cache", {})
    if not stored:
        cache["attachments"] = []
        return  # most messages: no need to set up a bulk_create inside the write transaction
    cache["attachments"] = Attachment.objects.bulk_create(
        Attachment(
            message=message,
            file=name,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
        for checked, name in stored
    )


def _existing_reference(channel: str, external_id: str | None) -> str | None:
    """The reference of the ticket already holding this provider message, if any."""
    return existing_messages([(channel, external_id)]).get((channel, external_id or ""))


def existing_messages(keys: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str], str]:
    """The references of tickets already holding these provider messages, by (channel,
    external id): one query per channel (one, in practice) for a whole batch."""
    wanted: dict[str, set[str]] = {}
    for channel, external_id in keys:
        if external_id:
            wanted.setdefault(channel, set()).add(external_id)
    found: dict[tuple[str, str], str] = {}
    for channel, ids in wanted.items():
        for external_id, reference in Message.objects.filter(
            channel=channel, external_id__in=ids
        ).values_list("external_id", "ticket__reference"):
            found[(channel, external_id or "")] = reference
    return found


def _enqueue(task_name: str, **kwargs: Any) -> None:
    from walletdesk.tickets import tasks

    queue.enqueue(getattr(tasks, task_name), **kwargs)


def _lock_ticket(ticket_id: int, version: int | None = None) -> Ticket:
    """The ticket's row, locked until the transaction ends; with `version`, refused
    (`StaleTicket`) unless that is still the ticket's version."""
    ticket = lock_rows(Ticket, [ticket_id])[ticket_id]
    if version is not None and ticket.version != version:
        raise _stale(ticket, version)
    return ticket


# --- versions: what changed since the one a change was made from ------------------------------

REPLY_EVENTS = frozenset({"agent_replied", "customer_replied"})


def changes_since(ticket: Ticket, version: int, *, limit: int = 5) -> list[TicketEvent]:
    """The events that moved the ticket past `version`, newest first (at most `limit`).

    Events carry the version their change produced (`data["version"]`); one action may write
    several (a reply and its status change) at one version.
    """
    recent = (
        TicketEvent.objects.filter(ticket_id=ticket.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:50]
    )
    newer = [e for e in recent if _event_version(e) > version]
    return newer[:limit]


def _event_version(event: TicketEvent) -> int:
    value = (event.data or {}).get("version")
    return value if isinstance(value, int) else 0


def describe_change(event: TicketEvent) -> str:
    """ "status solved", "replied to the customer": what one event did, for people."""
    data = event.data or {}
    kind = event.kind
    if kind == "status_changed":
        return _("status %(status)s") % {"status": _label(Status, data.get("new"))}
    if kind == "priority_changed":
        return _("priority %(priority)s") % {"priority": _label(Priority, data.get("new"))}
    if kind == "assigned":
        return _("assignee %(name)s") % {"name": data["name"]} if data.get("new") else _("unassigned")
    if kind == "team_changed":
        return _("team %(name)s") % {"name": data["name"]} if data.get("new") else _("no team")
    if kind == "facts_changed":
        return _("details %(fields)s") % {"fields": ", ".join(data.get("fields") or [])}
    if kind == "agent_replied":
        return _("replied to the customer")
    if kind == "customer_replied":
        return _("the customer replied")
    if kind == "internal_note":
        return _("internal note")
    return kind.replace("_", " ")


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _who(event: TicketEvent) -> str:
    if event.actor is not None:
        return str(event.actor.label)
    if event.kind == "customer_replied":
        return str(_("the customer"))
    return str(_("the system"))


def _ago(seconds: int) -> str:
    if seconds < 60:
        return _("%(n)d s ago") % {"n": seconds}
    if seconds < 3600:
        return _("%(n)d min ago") % {"n": seconds // 60}
    if seconds < 86400:
        return _("%(n)d h ago") % {"n": seconds // 3600}
    return _("%(n)d days ago") % {"n": seconds // 86400}


def _stale(ticket: Ticket, version: int, *, replies: bool = False) -> StaleTicket:
    """The refusal of a change made from `version`: who changed what, and how long ago."""
    now = timezone.now()
    changes: list[dict[str, Any]] = []
    said = []
    for e in changes_since(ticket, version):
        seconds = max(0, int((now - e.created_at).total_seconds()))
        who, what = _who(e), describe_change(e)
        changes.append({"who": who, "what": what, "at": e.created_at.isoformat(), "seconds_ago": seconds})
        said.append(
            _("changed by %(who)s %(ago)s: %(what)s") % {"who": who, "ago": _ago(seconds), "what": what}
        )
    joined = "; ".join(said)
    if replies:
        message = _(
            "Someone replied after you opened this ticket (%(changes)s). Read the reply, then send yours anyway or change it."
        ) % {"changes": joined}
        return ReplyCollision("replied_meanwhile", message, version=ticket.version, changes=changes)
    if said:
        message = _("Not saved: this ticket was %(changes)s. Check it and make your change again.") % {
            "changes": joined
        }
    else:
        message = _(
            "Not saved: this ticket changed after you opened it. Check it and make your change again."
        )
    return StaleTicket("stale", message, version=ticket.version, changes=changes)


def replied_since(ticket: Ticket, version: int) -> bool:
    """Whether someone replied (agent or customer) after `version`."""
    return any(e.kind in REPLY_EVENTS for e in changes_since(ticket, version, limit=50))


def _status_changed_since(ticket: Ticket, version: int) -> bool:
    return any(e.kind == "status_changed" for e in changes_since(ticket, version, limit=50))


def _set_status(ticket: Ticket, status: str, actor: Any, why: str = "") -> None:
    old = ticket.status
    now = timezone.now()
    ticket.status = status
    ticket.updated_at = now
    fields = ["status", "updated_at"]
    if status == Status.SOLVED:
        ticket.solved_at = now
        fields.append("solved_at")
    elif status == Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
        fields += ["closed_at", "solved_at"]
    elif old in (Status.SOLVED, Status.CLOSED):
        ticket.solved_at = ticket.closed_at = None
        fields += ["solved_at", "closed_at"]
    fields += lifecycle.clock.on_status_change(ticket, old, now)
    ticket.save(update_fields=list(dict.fromkeys(fields)))
    _event(ticket, "status_changed", actor, old=old, new=status, **({"why": why} if why else {}))
    done = (Status.SOLVED, Status.CLOSED)
    if settings.KB_DENSE and (status in done) != (old in done):
        # Solved: its question and answer join the similar-tickets index; reopened: they leave.
        queue.enqueue_named(EMBED_SOLVED_TICKET, ticket_id=ticket.pk)


def inbound_label(channel: str, origin: logs.Origin | None) -> str:
    """The channel a customer's message is counted under: the web form and the API both open
    "web" tickets, told apart by the request they came in through."""
    if channel == Channel.WEB and origin is not None and origin.api:
        return "api"
    return channel
