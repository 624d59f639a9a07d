"""Ticket full-text search over jieba-segmented text.

Chinese has no spaces, so both the stored text and the query are segmented with jieba first;
then SQLite's FTS5 or PostgreSQL's full text search (the 'simple' configuration: no stemming,
which would mangle the segmented Chinese) matches whole tokens. This is the one module that
knows which database it runs on.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from walletdesk.tickets import identifiers
from walletdesk.tickets.models import Contact, Ticket

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 12


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def segment(text: str) -> list[str]:
    """Lower-cased tokens: jieba words for Chinese, \\w+ runs for everything else."""
    tokens: list[str] = []
    for piece in _WORD.findall((text or "").lower()):
        if piece.isascii():
            tokens.append(piece)
        else:
            tokens.extend(t for t in _jieba().cut_for_search(piece) if t.strip())
    return tokens


def document(*parts: str) -> str:
    """The words of `parts`, then the identifier tokens of the emails and phone numbers in them."""
    words = segment(" ".join(p for p in parts if p))
    return " ".join([*words, *identifiers.tokens_in(*parts)])


def identifier_document(*values: str) -> str:
    """Tokens for a ticket's facts and contact address: whole, never split into words (an
    email's parts would otherwise match any text holding "example" or "com")."""
    tokens: list[str] = []
    for value in values:
        found = identifiers.classify(value or "")
        if found is not None and found.kind not in ("email", "phone"):
            tokens.append(found.value)
        else:
            tokens += identifiers.tokens_in(value or "")
    return " ".join(dict.fromkeys(tokens))


def _any_token(tickets: QuerySet[Ticket], tokens: tuple[str, ...]) -> QuerySet[Ticket]:
    """Tickets whose search_text holds any of `tokens` (letters and digits only), read from
    the full-text index."""
    if connection.vendor == "postgresql":
        tsquery = " | ".join(f"'{t}'" for t in tokens)
        return tickets.extra(
            where=["to_tsvector('simple', tickets_ticket.search_text) @@ to_tsquery('simple', %s)"],
            params=[tsquery],
        )
    if connection.vendor == "sqlite":
        return tickets.extra(
            where=[
                "tickets_ticket.id IN (SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s)"
            ],
            params=[" OR ".join(f'"{t}"' for t in tokens)],
        )
    from django.db.models import Q

    match = Q()
    for token in tokens:
        match |= Q(search_text__contains=token)
    return tickets.filter(match)


def _contact_ids(email: str) -> list[int]:
    """Contacts with this address, through the two indexes the contact table has: a guest's
    claim (`claim_key`, lower-cased) and a proven address (`uniq_proven_email`, partial on
    proof <> '', so the query repeats that condition)."""
    from django.db.models import Q

    claims = Contact.objects.filter(claim_key=email).values_list("pk", flat=True)
    proven = Contact.objects.filter(Q(email__in={email, email.strip()}) & ~Q(proof="")).values_list(
        "pk", flat=True
    )
    return [*claims, *proven]


def find_identifier(tickets: QuerySet[Ticket], found: identifiers.Identifier) -> QuerySet[Ticket]:
    """Tickets holding exactly this identifier, among `tickets` (so access still applies)."""
    matched = _any_token(tickets, found.tokens)
    if found.kind != "email":
        return matched
    contacts = _contact_ids(found.value)
    if not contacts:
        return matched
    return matched | tickets.filter(contact_id__in=contacts)


def search(tickets: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """Narrow `tickets` to those whose subject or messages contain every term of `query`, or,
    when `query` is one identifier (tx hash, address, email, phone), to those holding it."""
    found = identifiers.classify(query)
    if found is not None:
        return find_identifier(tickets, found)
    terms = list(dict.fromkeys(segment(query)))[:MAX_QUERY_TERMS]
    if not terms:
        return tickets
    if connection.vendor == "postgresql":
        tsquery = " & ".join("'" + t.replace("'", "''").replace("\\", "") + "'" for t in terms)
        return tickets.extra(
            where=["to_tsvector('simple', tickets_ticket.search_text) @@ to_tsquery('simple', %s)"],
            params=[tsquery],
        )
    if connection.vendor == "sqlite":
        fts_query = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        return tickets.extra(
            where=[
                "tickets_ticket.id IN (SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s)"
            ],
            params=[fts_query],
        )
    for term in terms:  # any other database: slower, same meaning
        tickets = tickets.filter(search_text__contains=term)
    return tickets
