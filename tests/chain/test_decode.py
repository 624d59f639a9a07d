"""Decoding is pure: plain JSON-RPC dicts in, dataclasses out; no node, no database."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from walletdesk.chain import lookup as lk

TOKEN = "0x" + "11" * 20
ALICE = "0x" + "aa" * 20
BOB = "0x" + "bb" * 20


def topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:]


def word(n: int) -> str:
    return f"{n:064x}"


def log(*topics: str, data: str = "0x", address: str = TOKEN) -> dict[str, object]:
    return {"address": address, "topics": list(topics), "data": data}


def test_erc20_and_erc721_transfers_share_a_name_but_not_a_shape() -> None:
    transfers, approvals = lk.decode_logs(
        [
            log(lk.TRANSFER, topic(ALICE), topic(BOB), data="0x" + word(5)),
            log(lk.TRANSFER, topic(ALICE), topic(BOB), "0x" + word(7)),
        ]
    )
    assert approvals == []
    erc20, erc721 = transfers
    assert (erc20.standard, erc20.amount, erc20.token_id) == ("erc20", 5, None)
    assert (erc721.standard, erc721.amount, erc721.token_id) == ("erc721", None, 7)
    assert erc20.sender == "0x" + "aA" * 20 or erc20.sender.lower() == ALICE  # checksummed
    assert erc20.recipient.lower() == BOB


def test_erc1155_single_and_batch() -> None:
    batch_data = "0x" + word(64) + word(160) + word(2) + word(1) + word(2) + word(2) + word(30) + word(40)
    transfers, _ = lk.decode_logs(
        [
            log(lk.TRANSFER_SINGLE, topic(ALICE), topic(ALICE), topic(BOB), data="0x" + word(9) + word(3)),
            log(lk.TRANSFER_BATCH, topic(ALICE), topic(ALICE), topic(BOB), data=batch_data),
        ]
    )
    assert [(t.standard, t.token_id, t.amount) for t in transfers] == [
        ("erc1155", 9, 3),
        ("erc1155", 1, 30),
        ("erc1155", 2, 40),
    ]


def test_unlimited_thresholds_say_which_rule() -> None:
    _, approvals = lk.decode_logs(
        [
            log(lk.APPROVAL, topic(ALICE), topic(BOB), data="0x" + word(2**256 - 1)),
            log(lk.APPROVAL, topic(ALICE), topic(BOB), data="0x" + word(2**255)),
            log(lk.APPROVAL, topic(ALICE), topic(BOB), data="0x" + word(2**255 - 1)),
            log(lk.APPROVAL, topic(ALICE), topic(BOB), data="0x" + word(0)),
            log(lk.APPROVAL_FOR_ALL, topic(ALICE), topic(BOB), data="0x" + word(1)),
            log(lk.APPROVAL_FOR_ALL, topic(ALICE), topic(BOB), data="0x" + word(0)),
            log(lk.APPROVAL, topic(ALICE), topic(BOB), "0x" + word(4)),  # ERC-721 approve
        ]
    )
    assert [(a.kind, a.unlimited_reason) for a in approvals] == [
        ("amount", "max"),
        ("amount", "half"),
        ("amount", ""),
        ("amount", ""),
        ("all", "all"),
        ("all", ""),
        ("token", ""),
    ]
    assert approvals[5].approved is False
    assert approvals[6].token_id == 4


def test_what_does_not_decode_is_skipped_not_guessed() -> None:
    dirty_topic = "0x" + "ff" * 12 + "aa" * 20  # not an address: the high bytes are set
    transfers, approvals = lk.decode_logs(
        [
            log(lk.TRANSFER, topic(ALICE), topic(BOB), data="0x1234"),  # truncated
            log(lk.TRANSFER, dirty_topic, topic(BOB), data="0x" + word(1)),
            log(lk.TRANSFER, topic(ALICE)),  # too few topics
            log(lk.TRANSFER_BATCH, topic(ALICE), topic(ALICE), topic(BOB), data="0x" + word(999) + word(0)),
            log(lk.APPROVAL_FOR_ALL, topic(ALICE), topic(BOB), data="0x" + word(2)),  # not a bool
            {"address": None, "topics": [lk.TRANSFER]},
            {"address": TOKEN, "topics": []},
        ]
    )
    assert transfers == [] and approvals == []


@given(
    st.lists(
        st.dictionaries(st.sampled_from(["address", "topics", "data"]), st.text(max_size=80)), max_size=5
    )
)
def test_garbage_logs_never_raise(logs: list[dict[str, object]]) -> None:
    lk.decode_logs(logs)


def test_symbols_and_decimals_from_liars() -> None:
    abi_string = "0x" + word(32) + word(4) + b"USDT".hex().ljust(64, "0")
    assert lk.decode_symbol(abi_string) == "USDT"
    assert lk.decode_symbol("0x" + b"MKR".hex().ljust(64, "0")) == "MKR"  # bytes32
    control = "0x" + word(32) + word(6) + b"U\x00S\x1bDT".hex().ljust(64, "0")
    assert lk.decode_symbol(control) == "USDT"
    long = "0x" + word(32) + word(40) + (b"A" * 40).hex().ljust(128, "0")
    assert lk.decode_symbol(long) == "A" * 16
    assert lk.decode_symbol("0x" + word(32) + word(10**6)) is None  # length beyond the data
    assert lk.decode_symbol("0xzz") is None
    assert lk.decode_decimals("0x" + word(6)) == 6
    assert lk.decode_decimals("0x" + word(2**200)) is None
    assert lk.decode_decimals("0x") is None


def test_amounts_are_exact_decimals() -> None:
    assert lk.units(21000 * 10**9 + 1, 18) == Decimal("0.000021000000000001")
    assert lk.units(2**256 - 1, 18) == Decimal(
        "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    )
    assert format(lk.units(100 * 10**18, 18), "f") == "100"
    assert lk.units(0, 6) == 0


CHAIN = SimpleNamespace(
    chain_id=1,
    name="Ethereum",
    native_symbol="ETH",
    confirmations=12,
    explorer_tx_url="https://etherscan.io/tx/{hash}",
    explorer_address_url="https://etherscan.io/address/{address}",
)
HASH = "0x" + "ab" * 32


def test_build_statuses_and_confirmations() -> None:
    tx = {"from": ALICE, "to": BOB, "value": hex(10**18), "blockNumber": hex(100), "gasPrice": hex(10)}
    receipt = {"status": "0x1", "gasUsed": hex(21000), "effectiveGasPrice": hex(2 * 10**9), "logs": []}
    done = lk.build(CHAIN, HASH, tx, receipt, 111, {"timestamp": hex(1_700_000_000)})  # type: ignore[arg-type]
    assert (done.status, done.confirmations, done.final) == ("success", 12, True)
    assert done.value == 1 and done.fee == Decimal("0.000042")
    assert done.tx_url == f"https://etherscan.io/tx/{HASH}"
    assert done.link(done.sender) == f"https://etherscan.io/address/{done.sender}"
    young = lk.build(CHAIN, HASH, tx, receipt, 105, None)  # type: ignore[arg-type]
    assert (young.confirmations, young.final) == (6, False)
    failed = lk.build(CHAIN, HASH, tx, {**receipt, "status": "0x0"}, 200, None)  # type: ignore[arg-type]
    assert failed.status == "failed" and failed.final
    pending = lk.build(CHAIN, HASH, {**tx, "blockNumber": None}, None, 200, None)  # type: ignore[arg-type]
    assert pending.status == "pending" and not pending.final
    assert lk.build(CHAIN, HASH, None, None, None, None).status == "not_found"  # type: ignore[arg-type]
    assert lk.cache_seconds(done) == lk.FINAL_SECONDS
    assert lk.cache_seconds(young) == lk.cache_seconds(pending) == lk.UNCONFIRMED_SECONDS


def test_an_explorer_template_is_not_a_format_string() -> None:
    chain = SimpleNamespace(**{**vars(CHAIN), "explorer_tx_url": "https://x.example/{0.__class__}/{hash}"})
    result = lk.build(chain, HASH, None, None, None, None)  # type: ignore[arg-type]
    assert result.tx_url == f"https://x.example/{{0.__class__}}/{HASH}"
