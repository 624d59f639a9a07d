"""The customer's status line of their own transaction on the request page: theirs only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from tests.chain.evm import Node
from tests.chain.test_desk_panel import ticket_with
from tests.conftest import client_for
from walletdesk.chain import rpc
from walletdesk.tickets.tracking import make_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    rpc.forget()
    cache.clear()
    yield
    rpc.forget()
    cache.clear()


@pytest.fixture
def paid(chain: Any, evm: Node) -> str:
    tx_hash = evm.pay(evm.accounts[2], 10**18)
    evm.mine(3)
    return tx_hash


def test_the_owner_sees_their_transaction(carol: Any, paid: str) -> None:
    ticket = ticket_with(paid, user=carol)
    client = client_for(carol)
    page = client.get(f"/requests/{ticket.reference}/").content.decode()
    assert f'hx-get="/requests/{ticket.reference}/chain/"' in page
    line = client.get(f"/requests/{ticket.reference}/chain/").content.decode()
    assert "Succeeded" in line and "on Test EVM" in line and "final" in line
    assert "hx-trigger" not in line  # final: no more polling


def test_a_guest_with_the_tracking_link_sees_it_and_a_forged_link_does_not(paid: str) -> None:
    ticket = ticket_with(paid)
    token = make_token(ticket.reference, ticket.contact_id)
    guest = client_for(None)
    assert f"/track/{token}/chain/" in guest.get(f"/track/{token}/").content.decode()
    assert "Succeeded" in guest.get(f"/track/{token}/chain/").content.decode()
    assert guest.get(f"/track/{token[:-2]}xx/chain/").status_code == 403
    other = make_token(ticket.reference, ticket.contact_id + 1)  # someone else's contact
    assert guest.get(f"/track/{other}/chain/").status_code == 403


def test_nobody_else_sees_it(carol: Any, dave: Any, alice: Any, paid: str) -> None:
    ticket = ticket_with(paid, user=carol)
    url = f"/requests/{ticket.reference}/chain/"
    assert client_for(dave).get(url).status_code == 404
    assert client_for(alice).get(url).status_code == 404  # agents use the desk's panel
    assert client_for(None).get(url).status_code == 302  # to sign in


def test_no_hash_no_line(carol: Any, chain: Any) -> None:
    ticket = ticket_with("", user=carol)
    assert "chain-status-line" not in client_for(carol).get(f"/requests/{ticket.reference}/").content.decode()
    assert client_for(carol).get(f"/requests/{ticket.reference}/chain/").status_code == 404


def test_the_line_is_get_only(carol: Any, paid: str) -> None:
    ticket = ticket_with(paid, user=carol)
    assert client_for(carol).post(f"/requests/{ticket.reference}/chain/").status_code == 405
