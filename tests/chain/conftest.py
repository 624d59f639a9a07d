"""Fixtures for the on-chain tests: a real EVM behind a real JSON-RPC server (tests/chain/evm.py).

- ``evm``: a fresh chain (chain id 1337) on a free port in this process; a ``Node``.
- ``chain``: a ``Chain`` row pointing at it (3 confirmations, explorer templates set).
- ``evm_proc``: the same chain in a process of its own, for tests that kill the product's
  worker (or the node) and need the other side to live on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.chain.evm import Node, evm_process, serve_evm

TEST_CHAIN_ID = 1337


@pytest.fixture
def evm() -> Iterator[Node]:
    with serve_evm(TEST_CHAIN_ID) as node:
        yield node


@pytest.fixture
def evm_proc() -> Iterator[Node]:
    with evm_process(TEST_CHAIN_ID) as node:
        yield node


def make_chain(node: Node, *, name: str = "Test EVM", urls: list[str] | None = None, **fields: Any) -> Any:
    """A Chain row for ``node`` (``urls`` replaces its RPC URL list, e.g. a dead one first)."""
    from walletdesk.chain.models import Chain

    defaults: dict[str, Any] = {
        "name": name,
        "chain_id": node.chain_id,
        "rpc_urls": "\n".join(urls or [node.url]),
        "explorer_tx_url": "https://explorer.example/tx/{hash}",
        "explorer_address_url": "https://explorer.example/address/{address}",
        "native_symbol": "ETH",
        "confirmations": 3,
    }
    defaults.update(fields)
    return Chain.objects.create(**defaults)


@pytest.fixture
def chain(db: None, evm: Node) -> Any:
    return make_chain(evm)
