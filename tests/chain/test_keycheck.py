"""A private key typed as a transaction hash (the same shape): found on no chain, its address
has a history, so the fact is removed and the ticket goes to the Security desk."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from eth_account import Account

from tests.chain.conftest import make_chain
from tests.chain.evm import Node, dead_url
from tests.chain.test_desk_panel import panel, ticket_with
from tests.conftest import client_for
from walletdesk.chain import keycheck, rpc
from walletdesk.tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    rpc.forget()
    cache.clear()
    yield
    rpc.forget()
    cache.clear()


def test_a_used_key_pasted_as_a_hash_is_removed_and_the_ticket_escalated(
    alice: Any, chain: Any, evm: Node
) -> None:
    key = "0x" + secrets.token_hex(32)
    evm.pay(Account.from_key(key).address, 10**16)  # the customer's wallet has funds
    ticket = ticket_with(key)
    assert ticket.team.slug != "security" and key[2:] in ticket.search_text.lower()
    html = panel(client_for(alice), ticket).content.decode()
    assert "Not found on Test EVM." in html  # what alice saw before the check ran
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.tx_hash == ""
    assert key[2:] not in ticket.search_text.lower()
    assert ticket.team.slug == "security" and ticket.priority in ("high", "urgent")
    assert "secret-removed" in ticket.tags
    event = TicketEvent.objects.get(ticket=ticket, kind="secret_removed")
    assert event.data["where"] == ["tx_hash"] and event.data["kinds"] == ["private_key"]
    assert key[2:] not in str(event.data).lower()
    assert panel(client_for(alice), ticket).status_code == 404  # the Security desk's now


def test_a_real_hash_not_found_changes_nothing(alice: Any, chain: Any) -> None:
    ticket = ticket_with("0x" + secrets.token_hex(32))  # also a valid key, of an unused address
    panel(client_for(alice), ticket)
    after = Ticket.objects.get(pk=ticket.pk)
    assert after.tx_hash == ticket.tx_hash and after.team_id == ticket.team_id
    assert not TicketEvent.objects.filter(ticket=ticket, kind="secret_removed").exists()


def test_a_hash_found_on_chain_is_never_checked_as_a_key(alice: Any, chain: Any, evm: Node) -> None:
    tx_hash = evm.pay(evm.accounts[1], 1)
    assert keycheck.check_key_shaped_hash.call(ticket_with(tx_hash).pk) == "success"


def test_an_unreachable_chain_is_not_evidence(db: Any, alice: Any, evm: Node) -> None:
    key = "0x" + secrets.token_hex(32)
    evm.pay(Account.from_key(key).address, 10**16)
    make_chain(evm, urls=[dead_url()])
    ticket = ticket_with(key)
    assert keycheck.check_key_shaped_hash.call(ticket.pk) == "unavailable"
    assert Ticket.objects.get(pk=ticket.pk).tx_hash == key


def test_the_value_is_compared_under_the_lock(alice: Any, chain: Any, evm: Node) -> None:
    from walletdesk.tickets import actions

    key = "0x" + secrets.token_hex(32)
    ticket = ticket_with(key)
    assert not actions.remove_secret_fact(ticket, "tx_hash", "0x" + "ab" * 32, kind="private_key", why="x")
    assert Ticket.objects.get(pk=ticket.pk).tx_hash == key
    with pytest.raises(ValueError):
        actions.remove_secret_fact(ticket, "subject", key, kind="private_key", why="x")
