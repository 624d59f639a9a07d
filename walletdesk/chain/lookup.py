"""Look up a transaction by its hash: what happened, on which chain, and what it moved or allowed.

Two halves:

* Decoding is pure: plain JSON-RPC dicts in (the transaction, its receipt, the latest block
  number), dataclasses out. ``decode_logs`` reads ERC-20 / ERC-721 ``Transfer``, ERC-1155
  ``TransferSingle`` / ``TransferBatch``, ERC-20 / ERC-721 ``Approval`` and ``ApprovalForAll``.
  Unit-tested without a node (tests/chain/test_decode.py).
* Fetching (``lookup`` for one chain, ``lookup_any`` across the enabled chains) goes through
  ``rpc.client`` and caches in the Django cache.

Amounts are integers on the chain and ``Decimal`` here, never floats: a fee of
0.000021000000000001 ETH must read exactly that.

An approval is **unlimited** when its amount is at least 2**255. Wallets and dapps ask for
2**256-1 (the largest uint256, "max"), and a drainer's approval is exactly that; but some
tokens decrement even a max allowance on every ``transferFrom``, and some dapps ask for 2**255
or "max minus something", so equality with 2**256-1 alone would call a drained allowance
limited. Anything from 2**255 up exceeds any real token supply by dozens of orders of
magnitude, so treating it as unlimited loses nothing. ``unlimited_reason`` says which rule
applied: "max" (exactly 2**256-1) or "half" (at least 2**255).

Token symbols and decimals come from ``eth_call`` (cached a day per chain and token). Any token
may lie: a symbol is cut to 16 printable characters and always shown next to the token's
address (a fake "USDT" is the poisoner's favourite), decimals outside 0..36 are ignored (the
raw amount is shown), and a call that reverts or answers garbage leaves them unknown without
failing the look-up.

Cache lifetimes (``cache_seconds``): a final result (``Chain.confirmations`` deep) for a day, a
pending or unconfirmed one for 5 s, "not found" for 15 s. An unavailable chain is never
cached as "not found"; ``lookup_any`` remembers "unavailable" for 10 s only so a polling
panel does not hammer a dead node.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from eth_hash.auto import keccak

# eth_utils' own costs ~20 MiB per process at import; the address is valid hex here (a node's answer).
from walletdesk.shield.addresses import checksummed as to_checksum_address

from . import rpc

if TYPE_CHECKING:
    from .models import Chain

TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")

UNLIMITED_MAX = 2**256 - 1
UNLIMITED_FROM = 2**255
NATIVE_DECIMALS = 18  # every EVM chain's native coin (ETH, BNB, POL…) counts in 10**-18


def _topic(signature: str) -> str:
    return "0x" + keccak(signature.encode()).hex()


TRANSFER = _topic("Transfer(address,address,uint256)")
APPROVAL = _topic("Approval(address,address,uint256)")
APPROVAL_FOR_ALL = _topic("ApprovalForAll(address,address,bool)")
TRANSFER_SINGLE = _topic("TransferSingle(address,address,address,uint256,uint256)")
TRANSFER_BATCH = _topic("TransferBatch(address,address,address,uint256[],uint256[])")

PENDING, SUCCESS, FAILED, NOT_FOUND, UNAVAILABLE = "pending", "success", "failed", "not_found", "unavailable"

FINAL_SECONDS = 24 * 3600
UNCONFIRMED_SECONDS = 5
NOT_FOUND_SECONDS = 15
UNAVAILABLE_SECONDS = 10
TOKEN_SECONDS = 24 * 3600


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    address: str
    symbol: str | None = None
    decimals: int | None = None


@dataclass(frozen=True)
class Transfer:
    """One token movement. ``standard``: erc20, erc721 or erc1155; ``amount`` is raw (erc20,
    erc1155), ``token_id`` set for erc721 and erc1155."""

    standard: str
    token: Token
    sender: str
    recipient: str
    amount: int | None = None
    token_id: int | None = None

    @property
    def display_amount(self) -> Decimal | None:
        if self.amount is None or self.token.decimals is None or self.standard != "erc20":
            return None
        return units(self.amount, self.token.decimals)


@dataclass(frozen=True)
class Approval:
    """An allowance given. ``kind``: "amount" (ERC-20 approve), "token" (ERC-721 approve of one
    token id), "all" (setApprovalForAll, ERC-721 and ERC-1155: every token of the collection)."""

    kind: str
    token: Token
    owner: str
    spender: str
    amount: int | None = None
    token_id: int | None = None
    approved: bool = True  # setApprovalForAll(…, false) revokes
    unlimited_reason: str = ""  # "max" (2**256-1), "half" (>= 2**255), "all" (a whole collection)

    @property
    def unlimited(self) -> bool:
        return bool(self.unlimited_reason)

    @property
    def display_amount(self) -> Decimal | None:
        if self.amount is None or self.token.decimals is None or self.unlimited:
            return None
        return units(self.amount, self.token.decimals)


@dataclass(frozen=True)
class TxLookup:
    """What one chain says about a hash."""

    status: str
    tx_hash: str
    chain_id: int
    chain_name: str
    native_symbol: str = "ETH"
    block: int | None = None
    time: datetime | None = None
    confirmations: int = 0
    required: int = 0
    sender: str = ""
    recipient: str = ""  # empty for a contract creation
    created: str = ""  # the contract a creation made
    value: Decimal = Decimal(0)
    fee: Decimal | None = None
    transfers: tuple[Transfer, ...] = ()
    approvals: tuple[Approval, ...] = ()
    tx_url: str = ""
    address_url: str = ""  # the chain's template, with {address}

    @property
    def found(self) -> bool:
        return self.status in (PENDING, SUCCESS, FAILED)

    @property
    def final(self) -> bool:
        return self.status in (SUCCESS, FAILED) and self.confirmations >= self.required

    def link(self, address: str) -> str:
        return self.address_url.replace("{address}", address) if self.address_url and address else ""


@dataclass(frozen=True)
class Outcome:
    """The answer across chains: the hit, or where it was not found and where we could not ask."""

    tx_hash: str
    hit: TxLookup | None = None
    not_found_on: tuple[str, ...] = ()
    unavailable_on: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        if self.hit is not None:
            return self.hit.status
        return UNAVAILABLE if self.unavailable_on else NOT_FOUND

    @property
    def settled(self) -> bool:
        """Nothing more to wait for (a polling panel stops)."""
        return self.hit is not None and self.hit.final


# --- pure decoding -------------------------------------------------------------------------


def units(raw: int, decimals: int) -> Decimal:
    """``raw`` in 10**-decimals units, exactly (a uint256 has 78 digits)."""
    with localcontext() as ctx:
        ctx.prec = 100
        return (Decimal(raw).scaleb(-decimals)).normalize() if raw else Decimal(0)


def _int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            return None
    return None


def _address_topic(topic: Any) -> str | None:
    if not isinstance(topic, str) or not TX_HASH.fullmatch(topic):  # 32 bytes, like a hash
        return None
    if int(topic[2:26], 16):
        return None  # an address topic has 12 zero bytes before the 20 address bytes
    return to_checksum_address("0x" + topic[-40:])


def _words(data: Any) -> list[int]:
    if not isinstance(data, str) or not data.startswith("0x"):
        return []
    body = data[2:]
    if len(body) % 64:
        return []
    try:
        return [int(body[i : i + 64], 16) for i in range(0, len(body), 64)]
    except ValueError:
        return []


def _uint_array(words: list[int], offset_word: int) -> list[int] | None:
    """A dynamic uint256[] in ABI encoding: ``words[offset_word]`` is its byte offset."""
    if offset_word >= len(words) or words[offset_word] % 32:
        return None
    start = words[offset_word] // 32
    if start >= len(words):
        return None
    length = words[start]
    if start + 1 + length > len(words):
        return None
    return words[start + 1 : start + 1 + length]


def decode_logs(logs: list[dict[str, Any]]) -> tuple[list[Transfer], list[Approval]]:
    """Transfers and approvals in a receipt's logs. A log that does not decode (a non-standard
    event with a standard name, truncated data) is skipped, never guessed at."""
    transfers: list[Transfer] = []
    approvals: list[Approval] = []
    for log in logs:
        topics = log.get("topics") if isinstance(log, dict) else None
        address = log.get("address") if isinstance(log, dict) else None
        if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
            continue
        if not isinstance(address, str) or not ADDRESS.fullmatch(address):
            continue
        token = Token(to_checksum_address(address))
        head, words = str(topics[0]).lower(), _words(log.get("data", "0x"))
        if head == TRANSFER:
            decoded_t = _decode_transfer(token, topics, words)
            if decoded_t:
                transfers.append(decoded_t)
        elif head == TRANSFER_SINGLE and len(topics) == 4 and len(words) == 2:
            sender, recipient = _address_topic(topics[2]), _address_topic(topics[3])
            if sender and recipient:
                transfers.append(Transfer("erc1155", token, sender, recipient, words[1], words[0]))
        elif head == TRANSFER_BATCH and len(topics) == 4:
            sender, recipient = _address_topic(topics[2]), _address_topic(topics[3])
            ids, values = _uint_array(words, 0), _uint_array(words, 1)
            if sender and recipient and ids is not None and values is not None and len(ids) == len(values):
                transfers += [
                    Transfer("erc1155", token, sender, recipient, value, token_id)
                    for token_id, value in zip(ids, values, strict=True)
                ]
        elif head == APPROVAL:
            decoded_a = _decode_approval(token, topics, words)
            if decoded_a:
                approvals.append(decoded_a)
        elif head == APPROVAL_FOR_ALL and len(topics) == 3 and len(words) == 1 and words[0] in (0, 1):
            owner, operator = _address_topic(topics[1]), _address_topic(topics[2])
            if owner and operator:
                approved = bool(words[0])
                approvals.append(
                    Approval(
                        "all",
                        token,
                        owner,
                        operator,
                        approved=approved,
                        unlimited_reason="all" if approved else "",
                    )
                )
    return transfers, approvals


def _decode_transfer(token: Token, topics: list[Any], words: list[int]) -> Transfer | None:
    sender, recipient = (_address_topic(t) for t in topics[1:3]) if len(topics) >= 3 else (None, None)
    if not sender or not recipient:
        return None
    if len(topics) == 3 and len(words) == 1:  # ERC-20: the amount in data
        return Transfer("erc20", token, sender, recipient, amount=words[0])
    token_id = _int(topics[3]) if len(topics) == 4 else None
    if token_id is not None and not words:  # ERC-721: the token id indexed
        return Transfer("erc721", token, sender, recipient, token_id=token_id)
    return None


def unlimited_reason(amount: int) -> str:
    if amount == UNLIMITED_MAX:
        return "max"
    if amount >= UNLIMITED_FROM:
        return "half"
    return ""


def _decode_approval(token: Token, topics: list[Any], words: list[int]) -> Approval | None:
    owner, spender = (_address_topic(t) for t in topics[1:3]) if len(topics) >= 3 else (None, None)
    if not owner or not spender:
        return None
    if len(topics) == 3 and len(words) == 1:
        return Approval(
            "amount", token, owner, spender, amount=words[0], unlimited_reason=unlimited_reason(words[0])
        )
    token_id = _int(topics[3]) if len(topics) == 4 else None
    if token_id is not None and not words:
        return Approval("token", token, owner, spender, token_id=token_id)
    return None


def decode_symbol(result: str) -> str | None:
    """``symbol()``'s answer: an ABI string, or a bytes32 (older tokens such as MKR)."""
    words = result[2:] if isinstance(result, str) and result.startswith("0x") else ""
    try:
        raw = bytes.fromhex(words)
    except ValueError:
        return None
    text: bytes | None = None
    if len(raw) >= 64:
        offset, length = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
        if offset == 32 and length <= len(raw) - 64:
            text = raw[64 : 64 + length]
    if text is None and len(raw) == 32:
        text = raw.rstrip(b"\0")
    if not text:
        return None
    symbol = "".join(
        ch for ch in text.decode("utf-8", "replace") if ch.isprintable() and ch != "\ufffd"
    ).strip()
    return symbol[:16] or None


def decode_decimals(result: str) -> int | None:
    words = _words(result)
    if len(words) != 1 or words[0] > 36:
        return None
    return words[0]


def build(
    chain: Chain,
    tx_hash: str,
    tx: dict[str, Any] | None,
    receipt: dict[str, Any] | None,
    head: int | None,
    block: dict[str, Any] | None,
) -> TxLookup:
    """Everything but the token metadata, from the node's answers (pure)."""
    base = TxLookup(
        status=NOT_FOUND,
        tx_hash=tx_hash.lower(),
        chain_id=int(chain.chain_id),
        chain_name=chain.name,
        native_symbol=chain.native_symbol,
        required=int(chain.confirmations),
        tx_url=_http(chain.explorer_tx_url).replace("{hash}", tx_hash.lower()),
        address_url=_http(chain.explorer_address_url),
    )
    if tx is None:
        return base
    sender = to_checksum_address(tx["from"]) if tx.get("from") else ""
    recipient = to_checksum_address(tx["to"]) if tx.get("to") else ""
    value = units(_int(tx.get("value")) or 0, NATIVE_DECIMALS)
    block_number = _int(tx.get("blockNumber"))
    if block_number is None or receipt is None:
        # Not in a block yet (or the node has the block but not the receipt yet: same to us).
        return replace(base, status=PENDING, sender=sender, recipient=recipient, value=value)
    gas_used = _int(receipt.get("gasUsed")) or 0
    price = _int(receipt.get("effectiveGasPrice")) or _int(tx.get("gasPrice")) or 0
    transfers, approvals = decode_logs(list(receipt.get("logs") or []))
    timestamp = _int((block or {}).get("timestamp"))
    return replace(
        base,
        status=SUCCESS if _int(receipt.get("status")) == 1 else FAILED,
        block=block_number,
        time=datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None,
        confirmations=max(0, (head or block_number) - block_number + 1),
        sender=sender,
        recipient=recipient,
        created=to_checksum_address(receipt["contractAddress"]) if receipt.get("contractAddress") else "",
        value=value,
        fee=units(gas_used * price, NATIVE_DECIMALS),
        transfers=tuple(transfers),
        approvals=tuple(approvals),
    )


def _http(template: str) -> str:
    """An explorer template, kept only if it is an http(s) link (never javascript: or data:)."""
    return template if template.startswith(("https://", "http://")) else ""


def cache_seconds(result: TxLookup) -> int:
    if result.status == NOT_FOUND:
        return NOT_FOUND_SECONDS
    return FINAL_SECONDS if result.final else UNCONFIRMED_SECONDS


# --- fetching --------------------------------------------------------------------------------


def _key(*parts: Any) -> str:
    return "chain:" + ":".join(str(p) for p in parts)


def token_info(client: rpc.ChainClient, chain_id: int, address: str) -> tuple[Token, bool]:
    """Symbol and decimals, cached; unknown (None) when the token reverts or answers garbage.
    The flag is False when the node failed meanwhile: then nothing is cached, and the look-up
    still shows the transfer (a token must not be able to turn a look-up into "unavailable")."""
    key = _key("token", chain_id, address.lower())
    cached = cache.get(key)
    if isinstance(cached, Token):
        return cached, True
    answers: dict[str, str | None] = {}
    try:
        for name, selector in (("symbol", "0x95d89b41"), ("decimals", "0x313ce567")):
            try:
                answers[name] = client.call(address, selector)
            except rpc.CallReverted:
                answers[name] = None
    except rpc.ChainUnavailable:
        return Token(address), False
    symbol, decimals = answers.get("symbol"), answers.get("decimals")
    token = Token(
        address, decode_symbol(symbol) if symbol else None, decode_decimals(decimals) if decimals else None
    )
    cache.set(key, token, TOKEN_SECONDS)
    return token, True


def _with_tokens(result: TxLookup, client: rpc.ChainClient) -> tuple[TxLookup, bool]:
    addresses = {t.token.address for t in result.transfers} | {a.token.address for a in result.approvals}
    tokens: dict[str, Token] = {}
    complete = True
    for address in sorted(addresses):
        tokens[address], ok = token_info(client, result.chain_id, address)
        complete = complete and ok
    return replace(
        result,
        transfers=tuple(replace(t, token=tokens[t.token.address]) for t in result.transfers),
        approvals=tuple(replace(a, token=tokens[a.token.address]) for a in result.approvals),
    ), complete


def lookup(chain: Chain, tx_hash: str, *, fresh: bool = False, deadline: float | None = None) -> TxLookup:
    """What ``chain`` says about ``tx_hash`` (cached; ``fresh`` skips the cache).
    Raises ``rpc.ChainUnavailable`` when no URL of the chain answers."""
    tx_hash = tx_hash.lower()
    if not TX_HASH.fullmatch(tx_hash):
        raise ValueError("not a transaction hash")
    key = _key("tx", chain.chain_id, tx_hash)
    if not fresh:
        cached = cache.get(key)
        if isinstance(cached, TxLookup):
            return cached
    client = rpc.client(chain, deadline)
    tx = client.transaction(tx_hash)
    receipt = head = block = None
    if tx is not None and tx.get("blockNumber"):
        receipt = client.receipt(tx_hash)
        head = client.block_number()
        block = client.block(tx["blockNumber"]) if receipt is not None else None
        if block is not None and receipt is not None and block.get("hash") != receipt.get("blockHash"):
            # A reorg between the two calls: the block at that height is another one now.
            receipt = None
    result = build(chain, tx_hash, tx, receipt, head, block)
    complete = True
    if result.transfers or result.approvals:
        result, complete = _with_tokens(result, client)
    cache.set(key, result, cache_seconds(result) if complete else UNCONFIRMED_SECONDS)
    return result


def lookup_any(
    chains: list[Chain], tx_hash: str, *, fresh: bool = False, budget: float | None = None
) -> Outcome:
    """Ask each chain in order (the customer rarely knows which): the first that has it wins.
    ``budget``: seconds for the whole look-up (a web request's), after which the chains not yet
    asked count as unavailable."""
    deadline = time.monotonic() + budget if budget is not None else None
    tx_hash = tx_hash.lower()
    key = _key("any", ",".join(str(c.chain_id) for c in chains), tx_hash)
    if not fresh:
        cached = cache.get(key)
        if isinstance(cached, Outcome):
            return cached
    not_found: list[str] = []
    unavailable: list[str] = []
    outcome: Outcome | None = None
    for chain in chains:
        try:
            result = lookup(chain, tx_hash, fresh=fresh, deadline=deadline)
        except rpc.ChainUnavailable:
            unavailable.append(chain.name)
            continue
        if result.found:
            outcome = Outcome(tx_hash, result)
            break
        not_found.append(chain.name)
    if outcome is None:
        outcome = Outcome(tx_hash, None, tuple(not_found), tuple(unavailable))
    if outcome.hit is not None:
        seconds = cache_seconds(outcome.hit)
    else:
        seconds = UNAVAILABLE_SECONDS if outcome.unavailable_on else NOT_FOUND_SECONDS
    cache.set(key, outcome, seconds)
    return outcome


def evm_hash(value: str) -> str:
    """A fact's value as an EVM transaction hash (lower case), or "" (Bitcoin/TRON ids, other)."""
    value = (value or "").strip()
    return value.lower() if TX_HASH.fullmatch(value) else ""


def chains_for(preferred: str = "") -> list[Chain]:
    """The enabled chains, the one whose name the customer typed first."""
    from .models import Chain

    chains = list(Chain.objects.filter(enabled=True))
    wanted = preferred.strip().casefold()
    return sorted(chains, key=lambda c: 0 if wanted and c.name.casefold() == wanted else 1)
