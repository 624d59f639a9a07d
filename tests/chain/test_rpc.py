"""The RPC client against the real test chain over HTTP: fail-over, one clear failure, no
other chain's data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chain.conftest import make_chain
from tests.chain.evm import Node, broken_server, dead_url, serve_evm
from walletdesk.chain import rpc


@pytest.fixture(autouse=True)
def _forget_urls() -> Iterator[None]:
    rpc.forget()
    yield
    rpc.forget()


@pytest.fixture
def short_timeout(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CHAIN_RPC_TIMEOUT = 1


def test_answers_from_the_chain(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    a, b = evm.accounts[:2]
    tx_hash = evm.pay(b, 7, a)
    client = rpc.client(chain)
    assert client.block_number() == evm.block_number
    tx = client.transaction(tx_hash)
    assert tx is not None and tx["hash"] == tx_hash and int(tx["value"], 16) == 7
    assert client.receipt(tx_hash)["status"] == "0x1"
    assert client.balance(b) == 10**24 + 7
    assert client.nonce(a) == 1
    assert client.transaction("0x" + "12" * 32) is None  # "not found" is an answer, not a failure


@pytest.mark.parametrize("failure", ["dead", "500", "garbage", "error", "hang"])
def test_a_failing_first_url_falls_over_to_the_second(db, evm: Node, failure: str, short_timeout) -> None:  # type: ignore[no-untyped-def]
    if failure == "dead":
        chain = make_chain(evm, urls=[dead_url(), evm.url])
        assert rpc.client(chain).block_number() == evm.block_number
        return
    with broken_server(failure) as bad:
        chain = make_chain(evm, urls=[bad, evm.url])
        tx_hash = evm.pay(evm.accounts[1], 1)
        assert rpc.client(chain).transaction(tx_hash)["hash"] == tx_hash


def test_all_urls_failing_is_one_clear_unavailable_not_a_not_found(db, evm: Node, short_timeout) -> None:  # type: ignore[no-untyped-def]
    with broken_server("500") as bad, broken_server("hang") as slow:
        chain = make_chain(evm, name="Mainnet", urls=[dead_url(), bad, slow])
        with pytest.raises(rpc.ChainUnavailable) as caught:
            rpc.client(chain).transaction("0x" + "12" * 32)
    reasons = [reason for _host, reason in caught.value.failures]
    assert reasons == ["connection failed", "HTTP 500", "timed out"]
    assert "Mainnet is unavailable" in str(caught.value)


def test_a_url_of_another_chain_is_refused(db, evm: Node) -> None:  # type: ignore[no-untyped-def]
    with serve_evm(chain_id=5) as other:
        tx_hash = other.pay(other.accounts[1], 3)  # exists on chain 5 only
        chain = make_chain(evm, urls=[other.url])  # configured as chain 1337
        with pytest.raises(rpc.ChainUnavailable, match="answers chain id 5, not 1337"):
            rpc.client(chain).transaction(tx_hash)
        # with the right URL behind it, the wrong one is skipped and never trusted
        chain.rpc_urls = f"{other.url}\n{evm.url}"
        assert rpc.client(chain).transaction(tx_hash) is None


def test_a_reverting_call_is_the_chain_s_answer_not_a_dead_node(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    token = evm.deploy("TestToken", "Test", "TST", 6, 10**6)
    data = token.encode_abi("fail", [])
    with pytest.raises(rpc.CallReverted, match="always fails"):
        rpc.client(chain).call(token.address, data)
    symbol = rpc.client(chain).call(token.address, token.encode_abi("symbol", []))
    assert bytes.fromhex(symbol[2:]).rstrip(b"\0").endswith(b"TST")


def test_a_chain_in_a_process_of_its_own(db, evm_proc: Node) -> None:  # type: ignore[no-untyped-def]
    chain = make_chain(evm_proc)
    evm_proc.mine(2)
    assert rpc.client(chain).block_number() == 2
