"""Tickets stored before identifier search become findable by tx hash, address and phone once
`reindex_ticket_identifiers` has run (#20). Runs on SQLite (FTS5) and PostgreSQL (GIN)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from walletdesk.tickets import actions, search
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

TX = "0x" + "7e1d" * 16
EVM = "0x52908400098527886E0F7030069857D2E4169EE7"


def refs(client: Any, q: str) -> set[str]:
    response = client.get("/api/v1/tickets", {"q": q, "view": "all"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["items"]}


def old_format(ticket: Ticket) -> Ticket:
    """What the ticket's search_text was before identifier search: its words only (the facts and
    addresses were not written, messages added no email or phone tokens)."""
    bodies = Message.objects.filter(ticket=ticket).values_list("body", flat=True)
    words = " ".join(search.segment(" ".join([ticket.subject, *bodies])))
    Ticket.objects.filter(pk=ticket.pk).update(search_text=words)
    ticket.refresh_from_db()
    return ticket


def reindex(*args: str) -> str:
    out = StringIO()
    call_command("reindex_ticket_identifiers", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old(seeded: None) -> dict[str, Ticket]:
    def new(**kw: Any) -> Ticket:
        kw.setdefault("subject", "Transfer missing")
        kw.setdefault("body", "It never arrived")
        kw.setdefault("category", "other")
        return old_format(actions.create_ticket(NewTicket(**kw)))

    return {
        "tx": new(facts={"tx_hash": TX}, email="dan@example.com"),
        "evm": new(facts={"wallet_address": EVM}, email="erik@example.com"),
        "phone": new(body="Call me on +86 138-0013-8000 please", email="hu@example.com"),
        "secure": new(category="account_stolen", subject="Stolen", body="they took it",
                      facts={"tx_hash": "0x" + "ab" * 32}, email="victim@example.com"),
    }  # fmt: skip


def test_an_old_ticket_becomes_findable_by_its_tx_hash(
    old: dict[str, Ticket], alice: Any, as_user: Any
) -> None:
    client = as_user(alice)
    # Before: the old-format rows hold none of the identifiers.
    assert refs(client, TX) == set()
    assert refs(client, EVM) == set()
    assert refs(client, "13800138000") == set()
    versions = {k: t.version for k, t in old.items()}

    out = reindex("--batch", "2")
    assert out.strip().endswith(f"done: {len(old)} of {len(old)} ticket(s) updated.")
    assert refs(client, TX) == {old["tx"].reference}
    assert refs(client, EVM.lower()) == {old["evm"].reference}
    assert refs(client, "+86 138 0013 8000") == {old["phone"].reference}
    # The index is housekeeping, not a change an agent with the ticket open must reload for.
    for key, ticket in old.items():
        ticket.refresh_from_db()
        assert ticket.version == versions[key]
    # Words still match as before.
    assert old["tx"].reference in refs(client, "never arrived")


def test_a_second_run_changes_nothing(old: dict[str, Ticket]) -> None:
    reindex()
    before = dict(Ticket.objects.values_list("pk", "search_text"))
    assert reindex().strip().endswith(f"done: 0 of {len(old)} ticket(s) updated.")
    assert dict(Ticket.objects.values_list("pk", "search_text")) == before
    # A ticket created by today's code already holds every token.
    fresh = actions.create_ticket(
        NewTicket(
            subject="New",
            body="fresh",
            category="other",
            facts={"tx_hash": "0x" + "cd" * 32},
            email="n@example.com",
        )
    )
    assert actions.reindex_identifiers(fresh.pk - 1).changed == 0


def test_it_resumes_after_an_id_and_touches_nothing_before(
    old: dict[str, Ticket], alice: Any, as_user: Any
) -> None:
    ordered = sorted(old.values(), key=lambda t: t.pk)
    untouched, rest = ordered[0], ordered[1:]
    out = reindex("--after", str(untouched.pk), "--batch", "1")
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [f"up to id {t.pk}" for t in rest]
    untouched_text = Ticket.objects.get(pk=untouched.pk).search_text
    assert untouched_text == untouched.search_text


def selects(queries: CaptureQueriesContext) -> list[dict[str, str]]:
    return [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]


def test_queries_per_batch_do_not_grow_with_the_rows(old: dict[str, Ticket]) -> None:
    first = min(t.pk for t in old.values())
    with CaptureQueriesContext(connection) as one:
        assert actions.reindex_identifiers(first - 1, batch=1).changed == 1
    with CaptureQueriesContext(connection) as many:
        assert actions.reindex_identifiers(first, batch=100).changed == len(old) - 1
    assert len(selects(many)) == len(selects(one)) <= 4
    updates = [q for q in many.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1


def test_after_reindexing_another_team_still_cannot_find_a_security_ticket(
    old: dict[str, Ticket], alice: Any, bob: Any, carol: Any, as_user: Any
) -> None:
    reindex()
    secure = old["secure"]
    assert secure.team is not None and secure.team.restricted
    hash_ = "0x" + "ab" * 32
    assert refs(as_user(bob), hash_) == {secure.reference}
    assert refs(as_user(alice), hash_) == set()
    assert refs(as_user(carol), TX) == set()


def test_a_hostile_message_adds_only_whole_identifier_tokens(old: dict[str, Ticket]) -> None:
    ticket = old["tx"]
    # FTS syntax and a near-identifier in a customer's message cannot widen the index.
    Message.objects.filter(ticket=ticket).update(body='" OR * NEAR( tel123 em0 0x' + "ab" * 31 + " mail@ex")
    before = set(ticket.search_text.split())
    reindex()
    ticket.refresh_from_db()
    added = [t for t in ticket.search_text.split() if t not in before]
    # Only the ticket's own tx hash (its fact) and its contact's email token were missing.
    assert len(added) == 2 and all(token.isalnum() for token in added), added
    assert any(token.startswith("em") for token in added)
