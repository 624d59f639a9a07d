"""Search by tx hash, wallet address, email or phone, through the desk and the API (#20)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket

TX = "0x" + "9f3c" * 16
EVM = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 checksummed
TRON = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def refs(client: Any, q: str) -> set[str]:
    response = client.get("/api/v1/tickets", {"q": q, "view": "all"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["items"]}


def desk_refs(client: Any, q: str) -> str:
    response = client.get("/agent/", {"q": q, "view": "all"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def tickets(carol: Any) -> dict[str, Ticket]:
    def new(**kw: Any) -> Ticket:
        kw.setdefault("subject", "Transfer missing")
        kw.setdefault("body", "It never arrived")
        return actions.create_ticket(NewTicket(**kw))

    return {
        "tx": new(category="other", facts={"tx_hash": TX}, email="dan@example.com"),
        "evm": new(category="other", facts={"wallet_address": EVM}, email="erik@example.com"),
        "tron": new(category="other", facts={"wallet_address": TRON}, email="fay@example.com"),
        "btc": new(category="other", facts={"wallet_address": BTC}, email="gus@example.com"),
        "email": new(category="other", email="Mia.Chen@Example.com"),
        "signed_in": new(category="other", user=carol),
        "phone": new(category="other", body="Call me on +86 138-0013-8000 please", email="hu@example.com"),
        "noise": new(category="other", body="example com mia chen 138", email="zed@example.com"),
    }


def test_an_agent_finds_a_ticket_by_each_identifier(
    tickets: dict[str, Ticket], alice: Any, as_user: Any
) -> None:
    client = as_user(alice)
    ref = {k: t.reference for k, t in tickets.items()}
    assert refs(client, TX) == {ref["tx"]}
    assert refs(client, TX.upper().replace("0X", "0x")) == {ref["tx"]}
    # EIP-55: the checksummed, lower- and upper-case spellings are one address.
    for spelling in (EVM, EVM.lower(), "0x" + EVM[2:].upper()):
        assert refs(client, spelling) == {ref["evm"]}, spelling
    assert refs(client, TRON) == {ref["tron"]}
    assert refs(client, BTC) == {ref["btc"]}
    assert refs(client, "mia.chen@example.com") == {ref["email"]}
    assert refs(client, " MIA.CHEN@EXAMPLE.COM ") == {ref["email"]}
    assert refs(client, "carol@example.com") == {ref["signed_in"]}
    for spelling in ("+8613800138000", "0086 138 0013 8000", "138-0013-8000", "(138) 0013 8000"):
        assert refs(client, spelling) == {ref["phone"]}, spelling
    # Part of an identifier is not the identifier.
    assert refs(client, TX[:-2]) == set()
    # Words are still words; an address's parts are not words of its ticket.
    assert refs(client, "mia chen") == {ref["noise"]}
    # The desk's search box reads the same search.
    assert ref["tx"] in desk_refs(client, TX)
    assert ref["email"] in desk_refs(client, "mia.chen@example.com")
    assert ref["evm"] not in desk_refs(client, "mia.chen@example.com")


def test_the_lookup_reads_the_index_not_every_ticket(
    tickets: dict[str, Ticket], alice: Any, as_user: Any
) -> None:
    client = as_user(alice)
    with CaptureQueriesContext(connection) as queries:
        refs(client, TX)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "tickets_ticket_fts" in sql or "to_tsquery" in sql
    assert "LIKE" not in sql.upper()


def test_an_agent_never_finds_a_ticket_of_a_team_they_cannot_see(
    carol: Any, alice: Any, bob: Any, as_user: Any
) -> None:
    stolen = actions.create_ticket(
        NewTicket(
            subject="Stolen",
            body="someone took my account, reach me on +44 7700 900123",
            category="account_stolen",
            facts={"tx_hash": TX, "wallet_address": EVM},
            email="victim@example.com",
        )
    )
    assert stolen.team is not None and stolen.team.restricted
    for q in (TX, EVM.lower(), "victim@example.com", "07700 900123"):
        assert refs(as_user(bob), q) == {stolen.reference}, q
        assert refs(as_user(alice), q) == set(), q
        assert stolen.reference not in desk_refs(as_user(alice), q)
    # A customer's list is their own tickets only, whatever they search for.
    assert refs(as_user(carol), TX) == set()


def test_hostile_queries_and_texts(tickets: dict[str, Ticket], alice: Any, as_user: Any) -> None:
    import time

    from walletdesk.tickets import identifiers

    client = as_user(alice)
    # Full-text syntax typed into the box is searched as words, never run as a query.
    for q in ('" OR 1=1 --', "* OR em*", "tel*", "NEAR(a b)", TX + '" OR "x'):
        assert refs(client, q) == set(), q
    # A long run of address characters ending in "@" is read once, not once per character.
    started = time.perf_counter()
    identifiers.tokens_in("a" * 60_000 + "@", "1 " * 30_000)
    assert time.perf_counter() - started < 1
