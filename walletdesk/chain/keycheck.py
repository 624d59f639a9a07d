"""Is the customer's "transaction hash" really their private key?

A private key is 0x + 64 hex, exactly the shape of a transaction hash, so the request form's
format check (tickets/facts.py) accepts one. When a hash is found on no chain, this derives the
address the value would control as a key (eth-account) and asks the chains whether that address
has ever sent (nonce) or holds anything (balance). An address with a history is no accident of
hashing: the customer pasted their key. Then ``actions.remove_secret_fact`` blanks the fact,
takes it out of the search index and hands the ticket to the Security desk (the wallet is
compromised: whoever read the ticket could empty it).

A random 32-byte hash is also a valid key, but of an address nobody ever used: such a key
check finds no nonce and no balance, so a real hash that is merely not found changes nothing.

Runs as a task (takes the ticket's id) so the agent's panel request that noticed "not found"
never changes the ticket itself; the value is read again from the ticket, never passed around.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.cache import cache
from django.tasks import task

from walletdesk.tickets import actions
from walletdesk.tickets.models import Ticket

from . import lookup, rpc

if TYPE_CHECKING:
    from .models import Chain


def address_of_key(value: str) -> str | None:
    """The address ``value`` controls if it is a private key, or None (not a valid key)."""
    try:
        from eth_account import Account  # on first use: heavy at import, rarely needed

        return str(Account.from_key(value).address)
    except (ValueError, TypeError):
        return None


def used_on(chains: list[Chain], address: str) -> str | None:
    """The name of the first chain where ``address`` has sent or holds something."""
    for chain in chains:
        client = rpc.client(chain)
        try:
            if client.nonce(address) > 0 or client.balance(address) > 0:
                return str(chain.name)
        except rpc.ChainUnavailable:
            continue
    return None


@task()
def check_key_shaped_hash(ticket_id: int) -> str:
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    value = lookup.evm_hash(ticket.tx_hash) if ticket else ""
    if ticket is None or not value:
        return "skipped"
    chains = lookup.chains_for(ticket.chain)
    outcome = lookup.lookup_any(chains, value)
    if outcome.status != lookup.NOT_FOUND:
        return outcome.status  # a real transaction (or a chain we could not ask: try later)
    address = address_of_key(value)
    chain_name = used_on(chains, address) if address else None
    if address is None or chain_name is None:
        return "not a used key"
    why = (
        f"the transaction hash is a private key: the address it controls ({address}) has a history "
        f"on {chain_name}; treat the wallet as compromised; Security desk, high priority"
    )
    removed = actions.remove_secret_fact(ticket, "tx_hash", value, kind="private_key", why=why)
    return "removed" if removed else "changed meanwhile"


def check_soon(ticket: Ticket, tx_hash: str) -> None:
    """Ask once per ticket and value (per process: a repeat is harmless, the action compares
    the value under the ticket's row lock)."""
    if cache.add(f"chain:keycheck:{ticket.pk}:{tx_hash}", 1, 3600):
        check_key_shaped_hash.enqueue(ticket.pk)
