"""Dense vectors of solved tickets, for the desk's similar-tickets panel (tickets.similar)."""

from __future__ import annotations

from django.db import transaction

from walletdesk.kb import actions as kb_actions
from walletdesk.kb import dense
from walletdesk.tickets.models import (
    AuthorRole,
    Message,
    SolvedTicketVector,
    Status,
    Ticket,
    Visibility,
)

SIMILAR_STATE = 3  # kb IndexState row of the solved tickets' vectors (1 lexical, 2 articles)
MAX_CHARS = 1500  # of question and of answer: the model reads ~512 tokens anyway


def question_and_answer(ticket: Ticket) -> tuple[str, str]:
    """(subject + first customer message, last public agent reply), public messages only."""
    public = Message.objects.filter(ticket=ticket, visibility=Visibility.PUBLIC).order_by("created_at", "id")
    first = public.filter(author_role=AuthorRole.CUSTOMER).values_list("body", flat=True).first() or ""
    answer = public.filter(author_role=AuthorRole.AGENT).values_list("body", flat=True).last() or ""
    question = f"{ticket.subject}\n{first}".strip()[:MAX_CHARS]
    return question, answer.strip()[:MAX_CHARS]


def _embeddable(ticket: Ticket | None) -> bool:
    return bool(
        ticket is not None
        and ticket.status in (Status.SOLVED, Status.CLOSED)
        and ticket.merged_into_id is None
    )


def embed_solved_ticket(ticket_id: int) -> str:
    """Store (or drop) the vector of one ticket after its status changed; idempotent.

    The model runs outside the transaction; the row is then written under the ticket's row lock
    from the ticket as it stands then, and only if the texts are still the ones embedded (a
    reply in between enqueued its own run)."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if not _embeddable(ticket):
        return _drop(ticket_id)
    assert ticket is not None
    question, answer = question_and_answer(ticket)
    if not answer:
        return _drop(ticket_id)  # solved without a public answer: nothing to show an agent
    digest = dense.content_hash(f"{question}\n\n{answer}")
    row = SolvedTicketVector.objects.filter(pk=ticket_id).only("content_hash", "model").first()
    if row is not None and row.content_hash == digest and row.model == dense.MODEL_ID:
        return "unchanged"
    vector = dense.embed_passages([f"{question}\n\n{answer}"])[0]
    return _store(ticket_id, question, answer, digest, dense.to_bytes(vector))


@transaction.atomic
def _store(ticket_id: int, question: str, answer: str, digest: str, vector: bytes) -> str:
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if not _embeddable(ticket):
        return _drop(ticket_id)
    assert ticket is not None
    if question_and_answer(ticket) != (question, answer):
        return "moved on"
    SolvedTicketVector.objects.update_or_create(
        pk=ticket_id,
        defaults={
            "question": question,
            "answer": answer,
            "content_hash": digest,
            "model": dense.MODEL_ID,
            "vector": vector,
        },
    )
    kb_actions.vectors_changed(SIMILAR_STATE)
    return "embedded"


@transaction.atomic
def _drop(ticket_id: int) -> str:
    deleted, _ = SolvedTicketVector.objects.filter(pk=ticket_id).delete()
    if deleted:
        kb_actions.vectors_changed(SIMILAR_STATE)
    return "dropped" if deleted else "nothing"


def tickets_to_embed() -> list[int]:
    """Solved or closed tickets with no vector of the current model (the backfill's list)."""
    done = SolvedTicketVector.objects.filter(model=dense.MODEL_ID).values("pk")
    return list(
        Ticket.objects.filter(status__in=(Status.SOLVED, Status.CLOSED), merged_into__isnull=True)
        .exclude(pk__in=done)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
