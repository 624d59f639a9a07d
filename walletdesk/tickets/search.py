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

from walletdesk.tickets.models import Ticket

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
    return " ".join(segment(" ".join(p for p in parts if p)))


def search(tickets: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """Narrow `tickets` to those whose subject or messages contain every term of `query`."""
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
