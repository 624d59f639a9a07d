"""The look-up on a real EVM through the JSON-RPC server: what an agent sees for each kind of
transaction, across chains, and what it says when the chain cannot be asked."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.cache import cache

from tests.chain.conftest import make_chain
from tests.chain.evm import UNLIMITED, Node, broken_server, dead_url, serve_evm
from walletdesk.chain import lookup as lk
from walletdesk.chain import rpc


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    rpc.forget()
    cache.clear()
    yield
    rpc.forget()
    cache.clear()


def test_native_payment_success_with_exact_value_and_fee(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    a, b = evm.accounts[:2]
    tx_hash = evm.pay(b, 10**18 + 1, a)
    result = lk.lookup(chain, tx_hash)
    receipt = evm.w3.eth.get_transaction_receipt(tx_hash)
    assert result.status == "success"
    assert (result.sender, result.recipient) == (a, b)
    assert result.value == Decimal("1.000000000000000001")
    assert result.fee == Decimal(receipt["gasUsed"] * receipt["effectiveGasPrice"]).scaleb(-18)
    assert result.block == receipt["blockNumber"] and result.time is not None
    assert (result.confirmations, result.final) == (1, False)  # the chain wants 3
    assert result.tx_url == f"https://explorer.example/tx/{tx_hash}"
    evm.mine(2)
    again = lk.lookup(chain, tx_hash, fresh=True)
    assert (again.confirmations, again.final) == (3, True)


def test_erc20_transfer_and_unlimited_approval(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    a, b, drainer = evm.accounts[:3]
    token = evm.deploy("TestToken", "Tether USD", "USDT", 6, 10**12)
    sent = lk.lookup(chain, evm.send(token.functions.transfer(b, 1_500_000), a))
    (transfer,) = sent.transfers
    assert (transfer.standard, transfer.sender, transfer.recipient) == ("erc20", a, b)
    assert transfer.amount == 1_500_000 and transfer.display_amount == Decimal("1.5")
    assert (transfer.token.address, transfer.token.symbol, transfer.token.decimals) == (
        token.address,
        "USDT",
        6,
    )
    approved = lk.lookup(chain, evm.send(token.functions.approve(drainer, UNLIMITED), a))
    (approval,) = approved.approvals
    assert (approval.owner, approval.spender, approval.unlimited_reason) == (a, drainer, "max")
    assert approval.display_amount is None and approval.token.symbol == "USDT"
    drained = lk.lookup(chain, evm.send(token.functions.transferFrom(a, drainer, 10**6), drainer))
    assert [(t.sender, t.recipient, t.amount) for t in drained.transfers] == [(a, drainer, 10**6)]
    limited = lk.lookup(chain, evm.send(token.functions.approve(drainer, 5), a)).approvals[0]
    assert not limited.unlimited and limited.display_amount == Decimal("0.000005")


def test_nft_transfer_and_approval_for_all(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    a, b, operator = evm.accounts[:3]
    nft = evm.deploy("TestNFT")
    evm.send(nft.functions.mint(a, 42), a)
    moved = lk.lookup(chain, evm.send(nft.functions.transferFrom(a, b, 42), a)).transfers[0]
    assert (moved.standard, moved.token_id, moved.amount, moved.token.symbol) == ("erc721", 42, None, "TNFT")
    everything = lk.lookup(chain, evm.send(nft.functions.setApprovalForAll(operator, True), b)).approvals[0]
    assert (everything.kind, everything.owner, everything.spender, everything.unlimited) == (
        "all",
        b,
        operator,
        True,
    )
    revoked = lk.lookup(chain, evm.send(nft.functions.setApprovalForAll(operator, False), b)).approvals[0]
    assert not revoked.approved and not revoked.unlimited


def test_erc1155_batch(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    a, b = evm.accounts[:2]
    multi = evm.deploy("TestMulti")
    evm.send(multi.functions.mint(a, 1, 10), a)
    evm.send(multi.functions.mint(a, 2, 10), a)
    result = lk.lookup(chain, evm.send(multi.functions.safeBatchTransferFrom(a, b, [1, 2], [3, 4], b""), a))
    assert [(t.standard, t.token_id, t.amount, t.recipient) for t in result.transfers] == [
        ("erc1155", 1, 3, b),
        ("erc1155", 2, 4, b),
    ]
    assert result.transfers[0].token.symbol is None  # no symbol() on this contract: unknown, no error


def test_a_reverted_transaction_is_failed_and_moved_nothing(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    token = evm.deploy("TestToken", "Test", "TST", 6, 10**6)
    result = lk.lookup(chain, evm.send(token.functions.fail(), evm.accounts[0], gas=100_000))
    assert result.status == "failed" and result.transfers == () and result.fee and result.fee > 0


def test_a_lying_token_does_not_break_the_lookup(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    liar = evm.deploy("LiarToken")
    (transfer,) = lk.lookup(
        chain, evm.send(liar.functions.transfer(evm.accounts[1], 9), evm.accounts[0])
    ).transfers
    assert (transfer.amount, transfer.token.symbol, transfer.token.decimals, transfer.display_amount) == (
        9,
        None,
        None,
        None,
    )


def test_pending_then_final_and_the_cache_follows(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    evm.automine(False)
    tx_hash = evm.pay(evm.accounts[1], 5)
    assert lk.lookup(chain, tx_hash).status == "pending"
    evm.mine(3)
    # still pending from the cache (5 s) until asked fresh: a pending answer is never kept long
    assert lk.lookup(chain, tx_hash).status == "pending"
    final = lk.lookup(chain, tx_hash, fresh=True)
    assert final.status == "success" and final.final
    assert lk.cache_seconds(final) == lk.FINAL_SECONDS
    assert cache.get(f"chain:tx:{chain.chain_id}:{tx_hash}") == final


def test_not_found_on_every_chain_names_them(db, evm: Node) -> None:  # type: ignore[no-untyped-def]
    with serve_evm(chain_id=56) as bsc:
        make_chain(evm, name="Ethereum")
        make_chain(bsc, name="BNB Chain")
        tx_hash = bsc.pay(bsc.accounts[1], 7)
        found = lk.lookup_any(lk.chains_for(), tx_hash)
        assert found.hit is not None and found.hit.chain_name == "BNB Chain"
        missing = lk.lookup_any(lk.chains_for(), "0x" + "cd" * 32)
        assert missing.status == "not_found" and set(missing.not_found_on) == {"Ethereum", "BNB Chain"}
        assert [c.name for c in lk.chains_for("bnb chain")] == ["BNB Chain", "Ethereum"]


def test_one_dead_url_then_the_second_answers(db, evm: Node, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CHAIN_RPC_TIMEOUT = 1
    with broken_server("hang") as slow:
        chain = make_chain(evm, urls=[dead_url(), slow, evm.url])
        tx_hash = evm.pay(evm.accounts[1], 1)
        assert lk.lookup(chain, tx_hash).status == "success"


def test_all_dead_is_unavailable_never_not_found(db, evm: Node) -> None:  # type: ignore[no-untyped-def]
    with broken_server("500") as bad:
        make_chain(evm, name="Ethereum", urls=[dead_url(), bad])
        tx_hash = evm.pay(evm.accounts[1], 1)
        outcome = lk.lookup_any(lk.chains_for(), tx_hash)
        assert outcome.status == "unavailable" and outcome.unavailable_on == ("Ethereum",)
        assert outcome.not_found_on == ()
        # nothing cached as "not found" for this chain
        assert cache.get(f"chain:tx:{evm.chain_id}:{tx_hash}") is None


def test_a_chain_id_mismatch_is_refused(db, evm: Node) -> None:  # type: ignore[no-untyped-def]
    with serve_evm(chain_id=5) as goerli:
        tx_hash = goerli.pay(goerli.accounts[1], 1)
        make_chain(evm, name="Ethereum", chain_id=1, urls=[goerli.url])
        outcome = lk.lookup_any(lk.chains_for(), tx_hash)
        assert outcome.hit is None and outcome.unavailable_on == ("Ethereum",)


def test_a_reorg_drops_the_transaction(chain, evm: Node) -> None:  # type: ignore[no-untyped-def]
    snap = evm.snapshot()
    tx_hash = evm.pay(evm.accounts[1], 5)
    assert lk.lookup(chain, tx_hash).status == "success"
    evm.revert(snap)
    evm.mine(2)
    assert lk.lookup(chain, tx_hash, fresh=True).status == "not_found"
