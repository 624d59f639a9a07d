"""The desk's on-chain panel and paste form, through Django's test client against the real test
chain: who sees it, what it shows, and what hostile input does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from tests.chain.conftest import make_chain
from tests.chain.evm import UNLIMITED, Node, broken_server, dead_url
from tests.conftest import client_for
from walletdesk.chain import rpc
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Team, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

PHRASE = "abandon " * 11 + "about"  # a valid BIP-39 phrase (the test vector)


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    rpc.forget()
    cache.clear()
    yield
    rpc.forget()
    cache.clear()


def ticket_with(tx_hash: str, **kw: Any) -> Ticket:
    return actions.create_ticket(
        NewTicket(
            subject="Where is my transfer?",
            body="It has not arrived yet",
            category="other",
            email="guest@example.com",
            facts={"tx_hash": tx_hash, "chain": "Ethereum"},
            **kw,
        )
    )


def panel(client: Any, ticket: Ticket) -> Any:
    return client.get(f"/agent/tickets/{ticket.reference}/chain/", HTTP_HX_REQUEST="true")


def paste(client: Any, ticket: Ticket, value: str, htmx: bool = True) -> Any:
    """The paste form's POST; htmx gets the panel (always 200: htmx swaps only 2xx), a plain
    form post the whole page with the real status."""
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/agent/tickets/{ticket.reference}/chain/lookup/", {"tx_hash": value}, **headers)


@pytest.fixture
def drained(chain: Any, evm: Node) -> dict[str, Any]:
    owner, drainer = evm.accounts[1], evm.accounts[6]
    token = evm.deploy("TestToken", "Tether USD", "USDT", 6, 10**12)
    evm.send(token.functions.transfer(owner, 5 * 10**6), evm.accounts[0])
    approve = evm.send(token.functions.approve(drainer, UNLIMITED), owner)
    drain = evm.send(token.functions.transferFrom(owner, drainer, 5 * 10**6), drainer)
    return {"owner": owner, "drainer": drainer, "token": token, "approve": approve, "drain": drain}


def test_the_ticket_page_loads_the_panel_after_the_page(alice: Any, drained: dict[str, Any]) -> None:
    ticket = ticket_with(drained["approve"])
    html = client_for(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert 'data-testid="chain-panel"' in html
    assert f'hx-get="/agent/tickets/{ticket.reference}/chain/"' in html and 'hx-trigger="load"' in html
    assert "chain-status" not in html  # the page itself never waited on the chain


def test_the_panel_shows_an_unlimited_approval(alice: Any, drained: dict[str, Any], evm: Node) -> None:
    evm.mine(3)
    ticket = ticket_with(drained["approve"])
    response = panel(client_for(alice), ticket)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Succeeded" in html and "final" in html
    assert 'data-unlimited="yes"' in html and "Unlimited" in html and "USDT" in html
    assert drained["drainer"] in html and drained["token"].address in html  # full addresses in titles/links
    assert f"https://explorer.example/tx/{drained['approve']}" in html
    assert "hx-trigger" not in html  # final: no more polling


def test_a_pasted_hash_shows_the_drain(alice: Any, drained: dict[str, Any]) -> None:
    ticket = ticket_with("")
    html = paste(
        client_for(alice), ticket, "  " + drained["drain"].upper().replace("0X", "0x") + " "
    ).content.decode()
    assert "Token transfers" in html and 'data-testid="chain-transfer">5\n' in html and "USDT" in html
    assert "Hash you pasted" in html


def test_pending_polls_and_unconfirmed_says_how_many(alice: Any, chain: Any, evm: Node) -> None:
    evm.automine(False)
    tx_hash = evm.pay(evm.accounts[2], 10**17)
    ticket = ticket_with(tx_hash)
    html = panel(client_for(alice), ticket).content.decode()
    assert "Pending" in html and 'hx-trigger="every 10s"' in html
    evm.mine(1)
    cache.clear()
    html = panel(client_for(alice), ticket).content.decode()
    assert "1 of 3 confirmations" in html and "0.1 ETH" in html and 'hx-trigger="every 10s"' in html


def test_not_found_names_the_chains(alice: Any, chain: Any) -> None:
    html = panel(client_for(alice), ticket_with("0x" + "ab" * 32)).content.decode()
    assert "Not found on Test EVM." in html


def test_unreachable_is_said_as_such(alice: Any, evm: Node) -> None:
    with broken_server("500") as bad:
        make_chain(evm, name="Ethereum", urls=[dead_url(), bad])
        html = panel(client_for(alice), ticket_with("0x" + "ab" * 32)).content.decode()
    assert "Could not reach Ethereum right now" in html and "Not found" not in html
    assert 'hx-trigger="every 10s"' in html


# --- who may ---------------------------------------------------------------------------------


@pytest.fixture
def security_ticket(bob: Any, drained: dict[str, Any]) -> Ticket:
    ticket = ticket_with(drained["approve"])
    actions.set_team(ticket, Team.objects.get(slug="security"), actor=bob)
    return Ticket.objects.get(pk=ticket.pk)


def test_an_agent_of_another_team_gets_404_on_both(alice: Any, bob: Any, security_ticket: Ticket) -> None:
    assert panel(client_for(alice), security_ticket).status_code == 404
    assert paste(client_for(alice), security_ticket, "0x" + "ab" * 32).status_code == 404
    assert panel(client_for(bob), security_ticket).status_code == 200


def test_customers_and_guests_are_refused(carol: Any, dave: Any, drained: dict[str, Any]) -> None:
    ticket = ticket_with(drained["approve"], user=carol)
    for client in (client_for(carol), client_for(dave)):
        assert panel(client, ticket).status_code == 403
        assert paste(client, ticket, drained["drain"]).status_code == 403
    guest = client_for(None)
    assert panel(guest, ticket).status_code == 302  # to sign in
    assert paste(guest, ticket, drained["drain"]).status_code == 302


def test_an_unknown_reference_is_404(alice: Any) -> None:
    assert client_for(alice).get("/agent/tickets/WD-NOPE/chain/").status_code == 404


def test_the_paste_form_is_post_only_and_csrf_protected(alice: Any, chain: Any) -> None:
    ticket = ticket_with("")
    client = client_for(alice)
    assert (
        client.get(f"/agent/tickets/{ticket.reference}/chain/lookup/?tx_hash=0x" + "ab" * 32).status_code
        == 405
    )
    strict = client_for(alice)
    strict.handler.enforce_csrf_checks = True  # type: ignore[attr-defined]
    assert (
        strict.post(
            f"/agent/tickets/{ticket.reference}/chain/lookup/", {"tx_hash": "0x" + "ab" * 32}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "value",
    [
        "0x123abc",
        "0x" + "g" * 64,
        "0x" + "a" * 63,
        "0x" + "a" * 65,
        "<script>alert(1)</script>",
        "0x" + "ab" * 32 + "\n0x" + "cd" * 32,
        "",
    ],
)
def test_bad_values_get_a_clear_error(alice: Any, chain: Any, value: str) -> None:
    response = paste(client_for(alice), ticket_with(""), value, htmx=False)
    html = response.content.decode()
    assert response.status_code == 422
    assert "0x followed by 64" in paste(client_for(alice), ticket_with(""), value).content.decode()
    assert "0x followed by 64 hexadecimal characters" in html
    assert "<script>alert(1)" not in html and "alert(1)" not in html


@pytest.mark.parametrize("secret", [PHRASE, "L1aW4aubDFB7yfras2S1mN3bqg9nwySY8nkoLmJebSLD5BWv3ENZ"])
def test_a_recovery_phrase_or_key_pasted_is_never_echoed(alice: Any, chain: Any, secret: str) -> None:
    html = paste(client_for(alice), ticket_with(""), secret).content.decode()
    assert secret.split()[0] not in html and "0x followed by 64" in html


def test_a_near_miss_hash_is_echoed_to_fix_the_typo(alice: Any, chain: Any) -> None:
    html = paste(client_for(alice), ticket_with(""), "0x123abc").content.decode()
    assert 'value="0x123abc"' in html


def test_the_paste_form_is_rate_limited_per_agent(alice: Any, bob: Any, chain: Any, settings: Any) -> None:
    settings.RATE_LIMIT_CHAIN_LOOKUP = "2/m/key"
    ticket = ticket_with("")
    client = client_for(alice)
    codes = [paste(client, ticket, "0x" + "ab" * 32, htmx=False).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert "Too many look-ups" in paste(client, ticket, "0x" + "ab" * 32).content.decode()
    assert paste(client_for(bob), ticket, "0x" + "ab" * 32).status_code == 200  # bob has his own budget


def test_without_htmx_the_paste_form_answers_a_whole_page(alice: Any, drained: dict[str, Any]) -> None:
    ticket = ticket_with("")
    html = (
        client_for(alice)
        .post(f"/agent/tickets/{ticket.reference}/chain/lookup/", {"tx_hash": drained["drain"]})
        .content.decode()
    )
    assert "<html" in html and ticket.reference in html and "Token transfers" in html
