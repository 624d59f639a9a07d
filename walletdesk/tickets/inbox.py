"""The agent inbox: named views, filters and keyset pagination over tickets.

Pagination is by id cursor, never OFFSET or COUNT(*): page 500 of a million tickets costs the
same as page 1, and no request reads the whole table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from django.db import connection
from django.db.models import Q, QuerySet

from walletdesk.tickets import search
from walletdesk.tickets.models import ACTIVE_STATUSES, NEVER_DUE, Category, Priority, Status, Team, Ticket

ViewName = Literal["unassigned", "mine", "urgent", "open", "all"]
VIEWS: tuple[ViewName, ...] = ("unassigned", "mine", "urgent", "open", "all")
MAX_PAGE = 100


# `status IN (…active…)` written out as literals, the very condition of `ticket_due_idx`:
# SQLite uses a partial index only when the query's WHERE visibly implies the index's, and
# it does not look into bound parameters for that (`status__in=…` sends them as %s), so
# with parameters it sorted the whole table. Constants from the code, not input.
ACTIVE_SQL = "tickets_ticket.status IN ({})".format(", ".join(f"'{s}'" for s in ACTIVE_STATUSES))


def only_active(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Active tickets, in words both databases match against `ticket_due_idx`."""
    return tickets.extra(where=[ACTIVE_SQL])  # noqa: S610 - constants, no input


def apply_view(tickets: QuerySet[Ticket], view: str | None, user: Any) -> QuerySet[Ticket]:
    active = only_active(tickets)
    if view == "unassigned":
        return active.filter(assignee__isnull=True)
    if view == "mine":
        return active.filter(assignee=user)
    if view == "urgent":
        return active.filter(priority=Priority.URGENT)
    if view == "all":
        return tickets
    return active  # "open" and the default


def filtered(tickets: QuerySet[Ticket], user: Any, params: dict[str, Any]) -> QuerySet[Ticket]:
    tickets = apply_view(tickets, params.get("view"), user)
    if params.get("status"):
        tickets = tickets.filter(status=params["status"])
    if params.get("priority"):
        tickets = tickets.filter(priority=params["priority"])
    # Category and team by id, looked up first: filtering on the joined slug left PostgreSQL
    # without an estimate for the team, so at 1M tickets it joined and sorted all 8k of the
    # General queue's active tickets (0.2 s) instead of reading ticket_due_idx in order to
    # the LIMIT.
    if params.get("category"):
        category = Category.objects.filter(slug=params["category"]).values_list("pk", flat=True).first()
        tickets = tickets.filter(category_id=category) if category is not None else tickets.none()
    if params.get("channel"):
        tickets = tickets.filter(channel=params["channel"])
    if params.get("team") == "none":
        tickets = tickets.filter(team__isnull=True)
    elif params.get("team"):
        team = Team.objects.filter(slug=params["team"]).values_list("pk", flat=True).first()
        tickets = tickets.filter(team_id=team) if team is not None else tickets.none()
    if params.get("q"):
        q = params["q"].strip()
        if q.upper().startswith("WD-"):
            tickets = tickets.filter(reference_prefix(q))
        else:
            tickets = search.search(tickets, q)
    return tickets


def reference_prefix(text: str) -> Q:
    """References starting with `text`, any case, read from an index. References are stored
    upper-case, so the text is upper-cased and matched as is: on PostgreSQL a case-sensitive
    LIKE 'WD-2406%' that the reference's pattern-ops index serves (whatever the database's
    collation); on SQLite, whose LIKE ignores case and so skips the index, the range
    [text, text + U+FFFF) of the unique index (binary order: U+FFFF sorts after every
    reference character). `istartswith` (UPPER(reference) LIKE …) read every row."""
    prefix = text.strip().upper()
    if connection.vendor == "postgresql":
        return Q(reference__startswith=prefix)
    return Q(reference__gte=prefix, reference__lt=prefix + "\uffff")


def page(tickets: QuerySet[Ticket], *, cursor: int | None, limit: int) -> tuple[list[Ticket], int | None]:
    limit = max(1, min(limit or 25, MAX_PAGE))
    if cursor:
        tickets = tickets.filter(pk__lt=cursor)
    rows = list(
        tickets.select_related("category", "team", "assignee", "contact").order_by("-pk")[: limit + 1]
    )
    next_cursor = rows[limit - 1].pk if len(rows) > limit else None
    return rows[:limit], next_cursor


def counts(tickets: QuerySet[Ticket], user: Any) -> dict[str, int]:
    """How many tickets each named view holds, in one query over active tickets only.

    `only_active` is the condition of `ticket_due_idx`, which carries the priority,
    assignee and team the counts read (on PostgreSQL as included columns: an index-only scan):
    the cost follows the backlog, never the solved history. Exact on every request, no cache
    and no counter for a new ticket to contend on."""
    from django.db.models import Count

    return only_active(tickets).aggregate(
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        mine=Count("pk", filter=Q(assignee=user)),
        urgent=Count("pk", filter=Q(priority=Priority.URGENT)),
        open=Count("pk"),
    )


STATUS_CHOICES = Status.choices
SORTS = ("due", "new")
# Tickets with nothing due (paused, answered) sort after every real due time.
_NEVER = NEVER_DUE


def default_sort(view: str | None) -> str:
    """Open work is sorted by what falls due first; "everything" by newest."""
    return "new" if view == "all" else "due"


def page_by_due(
    tickets: QuerySet[Ticket], *, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    """Keyset pages ordered by (due, id), read from `ticket_due_idx` (the stored `inbox_due`,
    see models.inbox_due_of): the cursor is the last row's due time and id."""
    limit = max(1, min(limit or 25, MAX_PAGE))
    if cursor:
        try:
            stamp, _, pk = cursor.partition("_")
            after = datetime.fromtimestamp(int(stamp) / 1_000_000, tz=UTC)
            tickets = tickets.filter(Q(inbox_due__gt=after) | Q(inbox_due=after, pk__gt=int(pk)))
        except (ValueError, OverflowError):
            pass
    # The page's ids first, then their rows with what they show: PostgreSQL estimated a
    # view's rows from the whole table (unassigned: 63 where 6,190 of the backlog are) and so
    # joined every contact before sorting for the LIMIT (0.16 s at 1M tickets).
    ids = list(tickets.order_by("inbox_due", "pk").values_list("pk", flat=True)[: limit + 1])
    by_id = Ticket.objects.select_related("category", "team", "assignee", "contact").in_bulk(ids)
    rows = [by_id[pk] for pk in ids if pk in by_id]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = f"{int(last.inbox_due.timestamp() * 1_000_000)}_{last.pk}"
    return rows[:limit], next_cursor
