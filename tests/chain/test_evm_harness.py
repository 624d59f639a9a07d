"""The test chain itself: what the look-up and monitoring tests rely on behaves like a node."""

from __future__ import annotations

import pytest
from web3 import Web3

from tests.chain.evm import UNLIMITED, Node, broken_server, dead_url, serve_evm


def test_json_rpc_answers_like_a_node(evm: Node) -> None:
    w3 = evm.w3
    assert w3.eth.chain_id == 1337
    assert w3.net.version == "1337"
    a, b = evm.accounts[:2]
    tx_hash = evm.pay(b, 12345, a)
    tx = w3.eth.get_transaction(tx_hash)
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert tx["value"] == 12345 and tx["from"] == a and tx["to"] == b
    assert receipt["status"] == 1 and receipt["blockNumber"] == w3.eth.block_number
    block = w3.eth.get_block(receipt["blockNumber"])
    assert w3.eth.get_block(block["hash"])["number"] == block["number"]
    assert w3.eth.get_balance(b) == 10**24 + 12345
    assert w3.eth.get_transaction_count(a) == 1
    assert w3.eth.gas_price > 0
    unknown = "0x" + "ab" * 32
    assert evm.rpc("eth_getTransactionByHash", unknown) is None
    assert evm.rpc("eth_getTransactionReceipt", unknown) is None


def test_contracts_emit_the_events_the_lookup_decodes(evm: Node) -> None:
    a, b, spender = evm.accounts[:3]
    token = evm.deploy("TestToken", "Test", "TST", 6, 10**12)
    evm.send(token.functions.approve(spender, UNLIMITED), a)
    evm.send(token.functions.transferFrom(a, b, 10), spender)
    logs = evm.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": token.address})
    assert len(logs) == 3  # mint, approval, transfer
    assert token.functions.balanceOf(b).call() == 10
    failed = evm.send(token.functions.fail(), a, gas=100_000)
    assert evm.w3.eth.get_transaction_receipt(failed)["status"] == 0
    nft = evm.deploy("TestNFT")
    evm.send(nft.functions.mint(a, 7), a)
    evm.send(nft.functions.setApprovalForAll(spender, True), a)
    assert nft.functions.isApprovedForAll(a, spender).call()
    multi = evm.deploy("TestMulti")
    evm.send(multi.functions.mint(a, 1, 10), a)
    evm.send(multi.functions.safeBatchTransferFrom(a, b, [1], [4], b""), a)
    assert multi.functions.balanceOf(1, b).call() == 4


def test_pending_then_mined(evm: Node) -> None:
    evm.automine(False)
    tx_hash = evm.pay(evm.accounts[1], 5)
    assert evm.w3.eth.get_transaction(tx_hash)["blockNumber"] is None
    assert evm.rpc("eth_getTransactionReceipt", tx_hash) is None
    evm.mine(1)
    assert evm.w3.eth.get_transaction_receipt(tx_hash)["status"] == 1


def test_a_reorg_replaces_blocks_at_the_same_heights(evm: Node) -> None:
    a, b, c = evm.accounts[:3]
    evm.mine(2)
    snap = evm.snapshot()
    first = evm.pay(b, 1, a)
    old_block = evm.w3.eth.get_block("latest")
    evm.revert(snap)
    assert evm.rpc("eth_getTransactionByHash", first) is None
    evm.pay(c, 2, a)
    new_block = evm.w3.eth.get_block("latest")
    assert new_block["number"] == old_block["number"]
    assert new_block["hash"] != old_block["hash"]


def _chain_id(url: str) -> int:
    return int(Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 2})).eth.chain_id)


def test_broken_urls_fail_as_promised() -> None:
    with broken_server("500") as url, pytest.raises(Exception, match="500"):
        _chain_id(url)
    with broken_server("error") as url, pytest.raises(Exception, match="limit exceeded"):
        _chain_id(url)
    with pytest.raises(Exception, match=r"(?i)refused|connect"):
        _chain_id(dead_url())


def test_two_chains_answer_their_own_ids() -> None:
    with serve_evm(5) as one, serve_evm(7) as two:
        assert (one.w3.eth.chain_id, two.w3.eth.chain_id) == (5, 7)


def test_the_chain_as_a_process_of_its_own(evm_proc: Node) -> None:
    evm_proc.mine(3)
    assert evm_proc.block_number == 3
    evm_proc.pay(evm_proc.accounts[1], 1)
    assert evm_proc.block_number == 4
