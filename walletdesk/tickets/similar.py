"""Similar solved tickets for the desk: the same dense model and store as the help centre,
over the solved tickets' questions and final public answers (`SolvedTicketVector`).

Access is decided after the vector search, on the ticket rows, by `access.agent_tickets`: an
agent never sees a similar ticket they could not open (a Security-desk ticket for a General
agent). Only agents reach this module (the desk's panel); customers never see other tickets.

The store is process-wide and follows changes like the help centre's (row 3 of kb's
IndexState is its token); it loads on the first panel, not at start, so a process that never
shows the panel never holds it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.tasks import task

from walletdesk.kb import dense
from walletdesk.kb.dense import MatrixStore
from walletdesk.kb.models import IndexState
from walletdesk.tickets import access
from walletdesk.tickets.actions import vectors
from walletdesk.tickets.actions.vectors import SIMILAR_STATE, question_and_answer
from walletdesk.tickets.models import SolvedTicketVector, Ticket

MIN_COSINE = 0.84  # under this a "similar" ticket is noise (e5 cosines of unrelated texts: ~0.75-0.82)
CANDIDATES = 50  # from the store, before access filtering


@dataclass(frozen=True, slots=True)
class SimilarTicket:
    reference: str
    subject: str
    answer: str
    score: float


@dataclass(slots=True)
class _Live:
    token: str
    store: MatrixStore
    hashes: dict[str, str]  # ticket id -> content hash in the store


_lock = threading.Lock()
_live: _Live | None = None
_checked_at = 0.0
_checked_token = ""


def _token() -> str:
    global _checked_at, _checked_token
    now = time.monotonic()
    if not _checked_token or now - _checked_at >= float(getattr(settings, "KB_INDEX_CHECK_SECONDS", 2.0)):
        token = IndexState.objects.filter(pk=SIMILAR_STATE).values_list("token", flat=True).first()
        _checked_token, _checked_at = token or "none", now
    return _checked_token


def _refresh(live: _Live | None, token: str) -> _Live:
    live = live or _Live(token, MatrixStore(), {})
    rows = dict(
        (str(pk), digest)
        for pk, digest in SolvedTicketVector.objects.filter(model=dense.MODEL_ID).values_list(
            "pk", "content_hash"
        )
    )
    for key in live.hashes.keys() - rows.keys():
        live.store.remove(key)
    changed = [key for key, digest in rows.items() if live.hashes.get(key) != digest]
    for pk, vector in (
        SolvedTicketVector.objects.filter(pk__in=[int(k) for k in changed])
        .values_list("pk", "vector")
        .iterator(chunk_size=2000)
    ):
        live.store.upsert(str(pk), dense.from_bytes(bytes(vector))[None, :])
    live.hashes, live.token = rows, token
    return live


def similar_to(ticket: Ticket, user: Any, k: int = 5) -> list[SimilarTicket]:
    """Up to k solved tickets like `ticket`, best first, among those `user` may open."""
    global _live
    if not settings.KB_DENSE:
        return []
    question, _ = question_and_answer(ticket)
    with _lock:
        token = _token()
        if _live is None or _live.token != token:
            _live = _refresh(_live, token)
        if not len(_live.store):
            return []
        vector: np.ndarray = dense.embed_query(question)
        found = _live.store.search(vector, CANDIDATES)
    scores = {int(key): score for key, score, _ in found if score >= MIN_COSINE and int(key) != ticket.pk}
    if not scores:
        return []
    allowed = access.agent_tickets(user).filter(pk__in=scores, merged_into__isnull=True)
    rows = {t.pk: t for t in allowed.only("pk", "reference", "subject")}
    answers = dict(SolvedTicketVector.objects.filter(pk__in=rows).values_list("pk", "answer"))
    ranked = sorted((pk for pk in rows if pk in answers), key=lambda pk: -scores[pk])[:k]
    return [SimilarTicket(rows[pk].reference, rows[pk].subject, answers[pk], scores[pk]) for pk in ranked]


def forget() -> None:
    global _live, _checked_token
    _live, _checked_token = None, ""


@task()
def embed_solved_ticket(ticket_id: int) -> str:
    """Embed (or drop) a ticket's question and final answer after it was solved, closed or
    reopened (actions.vectors): off the request path, the model takes ~0.5 s a ticket here."""
    return vectors.embed_solved_ticket(ticket_id)
