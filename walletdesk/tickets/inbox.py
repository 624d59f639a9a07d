"""The agent inbox: named views, filters and keyset pagination over tickets.

Pagination is by id cursor, never OFFSET or COUNT(*): page 500 of a million tickets costs the
same as page 1, and no request reads the whole table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from django.db.models import Case, DateTimeField, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from walletdesk.tickets import search
from walletdesk.tickets.models import ACTIVE_STATUSES, Priority, Status, Ticket

ViewName = Literal["unassigned", "mine", "urgent", "open", "all"]
VIEWS: tuple[ViewName, ...] = ("unassigned", "mine", "urgent", "open", "all")
MAX_PAGE = 100


def apply_view(tickets: QuerySet[Ticket], view: str | None, user: Any) -> QuerySet[Ticket]:
    active = tickets.filter(status__in=ACTIVE_STATUSES)
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
    if params.get("category"):
        tickets = tickets.filter(category__slug=params["category"])
    if params.get("channel"):
        tickets = tickets.filter(channel=params["channel"])
    if params.get("team"):
        tickets = (
            tickets.filter(team__slug=params["team"])
            if params["team"] != "none"
            else tickets.filter(team__isnull=True)
        )
    if params.get("q"):
        q = params["q"].strip()
        if q.upper().startswith("WD-"):
            tickets = tickets.filter(Q(reference__iexact=q) | Q(reference__istartswith=q))
        else:
            tickets = search.search(tickets, q)
    return tickets


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
    """How many tickets each named view holds, in one query."""
    from django.db.models import Count

    active = Q(status__in=ACTIVE_STATUSES)
    return tickets.aggregate(
        unassigned=Count("pk", filter=active & Q(assignee__isnull=True)),
        mine=Count("pk", filter=active & Q(assignee=user)),
        urgent=Count("pk", filter=active & Q(priority=Priority.URGENT)),
        open=Count("pk", filter=active),
    )


STATUS_CHOICES = Status.choices
SORTS = ("due", "new")
# Tickets with nothing due (paused, answered) sort after every real due time.
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def default_sort(view: str | None) -> str:
    """Open work is sorted by what falls due first; "everything" by newest."""
    return "new" if view == "all" else "due"


def with_due(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate `sort_due`: the due time being worked against (first, then next reply)."""
    paused = Q(status__in=(Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED))
    return tickets.annotate(
        sort_due=Coalesce(
            Case(
                When(paused, then=Value(None, output_field=DateTimeField())),
                When(first_replied_at__isnull=True, then=F("first_reply_due")),
                default=F("next_reply_due"),
                output_field=DateTimeField(),
            ),
            Value(_NEVER, output_field=DateTimeField()),
        )
    )


def page_by_due(
    tickets: QuerySet[Ticket], *, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    """Keyset pages ordered by (due, id): the cursor is the last row's due time and id."""
    limit = max(1, min(limit or 25, MAX_PAGE))
    tickets = with_due(tickets)
    if cursor:
        try:
            stamp, _, pk = cursor.partition("_")
            after = datetime.fromtimestamp(int(stamp) / 1_000_000, tz=UTC)
            tickets = tickets.filter(Q(sort_due__gt=after) | Q(sort_due=after, pk__gt=int(pk)))
        except (ValueError, OverflowError):
            pass
    ordered = tickets.order_by("sort_due", "pk")  # type: ignore[misc]  # an annotation, unknown to the stubs
    rows = list(ordered.select_related("category", "team", "assignee", "contact")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        due: datetime = last.sort_due  # type: ignore[attr-defined]
        next_cursor = f"{int(due.timestamp() * 1_000_000)}_{last.pk}"
    return rows[:limit], next_cursor
