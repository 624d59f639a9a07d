"""Macros: canned replies in Chinese and English, with placeholders and field changes.

Placeholders are replaced by a small regex, never `str.format`, so a stray brace in a reply is
harmless and nothing in the text can reach attributes of Python objects:

- {customer_name}  the contact's name (or a polite fallback)
- {reference}      the ticket's reference
- {agent_name}     the agent applying the macro
- {article:slug}   the absolute link to a help-centre article

Unknown placeholders are left as written, so the agent sees them before sending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from walletdesk.desk.models import Macro
from walletdesk.tickets.models import Ticket

PLACEHOLDER = re.compile(r"\{(customer_name|reference|agent_name|article:[a-z0-9_-]+)\}")


@dataclass(frozen=True)
class Rendered:
    body: str
    status: str
    priority: str
    team_id: int | None


@dataclass(frozen=True)
class Offered:
    """The picker's macros for one ticket, most relevant first."""

    fitting: list[Macro]  # written for the ticket's category
    general: list[Macro]  # written for no category: fit any ticket
    others: list[Macro]  # written for other categories: offered last, never preselected

    @property
    def default(self) -> Macro | None:
        """What the picker preselects: only a macro that fits the ticket, else nothing."""
        return next(iter([*self.fitting, *self.general]), None)

    def __bool__(self) -> bool:
        return bool(self.fitting or self.general or self.others)


def offered(ticket: Ticket) -> Offered:
    """Active macros by relevance to the ticket's category, each group in the admin's order."""
    groups: dict[str, list[Macro]] = {"fitting": [], "general": [], "others": []}
    macros = Macro.objects.filter(active=True).only("pk", "name").prefetch_related("categories")
    for macro in macros:
        category_ids = {c.pk for c in macro.categories.all()}
        if not category_ids:
            groups["general"].append(macro)
        elif ticket.category_id in category_ids:
            groups["fitting"].append(macro)
        else:
            groups["others"].append(macro)
    return Offered(**groups)


def is_chinese(ticket: Ticket) -> bool:
    return ticket.language.lower().startswith("zh")


def _article_url(slug: str) -> str:
    try:
        return settings.SITE_URL + reverse("kb:article", args=[slug])
    except NoReverseMatch:
        return slug


def render_text(template: str, *, ticket: Ticket, agent: Any = None) -> str:
    zh = is_chinese(ticket)
    name = ticket.contact.name or (ticket.contact.email or "").split("@")[0]
    values = {
        "customer_name": name or ("您好" if zh else "there"),
        "reference": ticket.reference,
        "agent_name": getattr(agent, "label", "") or ("客服" if zh else "Support"),
    }

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.startswith("article:"):
            return _article_url(key.split(":", 1)[1])
        return values[key]

    return PLACEHOLDER.sub(replace, template)


def render(macro: Macro, ticket: Ticket, agent: Any = None) -> Rendered:
    template = macro.body_zh if is_chinese(ticket) and macro.body_zh else macro.body_en
    return Rendered(
        body=render_text(template, ticket=ticket, agent=agent),
        status=macro.set_status,
        priority=macro.set_priority,
        team_id=macro.set_team_id,
    )


def apply(macro: Macro, ticket: Ticket, *, agent: Any, version: int | None = None) -> Ticket:
    """Send the macro's reply and make its field changes, all through actions, in one
    transaction: a refusal leaves nothing half applied.

    `version`: the ticket's version the page was rendered from (None: unchecked, as before).
    The reply and the status it sets are checked as the reply form's are (a public reply since
    asks for a confirmation, `ReplyCollision`; a status change since refuses a macro that sets
    the status, `StaleTicket`). A macro that also sets the priority or the team is checked as
    the properties form is: any change since refuses it, unless it was a reply (then the reply's
    confirmation is asked, which covers the rest)."""
    from django.db import transaction

    from walletdesk.tickets import actions
    from walletdesk.tickets.models import Team

    rendered = render(macro, ticket, agent)
    with transaction.atomic():
        if version is not None and (rendered.priority or rendered.team_id):
            try:
                actions.check_version(ticket, version)  # locks the row until the end
            except actions.StaleTicket:
                if not actions.replied_since(ticket, version):
                    raise
                # Someone replied meanwhile: add_agent_message below raises the confirmation.
        actions.add_agent_message(
            ticket, rendered.body, agent=agent, new_status=rendered.status or None, version=version
        )
        ticket = Ticket.objects.get(pk=ticket.pk)
        # The row stays locked: each next change passes the version the previous one left.
        if rendered.priority:
            ticket = actions.change_priority(
                ticket,
                rendered.priority,
                actor=agent,
                version=ticket.version if version is not None else None,
            )
        if rendered.team_id and rendered.team_id != ticket.team_id:
            ticket = actions.set_team(
                ticket,
                Team.objects.get(pk=rendered.team_id),
                actor=agent,
                version=ticket.version if version is not None else None,
            )
    return ticket
