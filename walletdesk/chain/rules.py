"""Risk rules for a watched address, as plain functions on plain data (no Django).

The monitor hands in what it stored for one linked address — the new events and the address's
earlier history — plus the operator's rule settings (the `RiskRule` rows, as `RuleConfig`), the
imported scam addresses and the allow list of verified spenders. Out come `Finding`s, each with
a reason code and the params that explain it ("spender 0x…", "12× your largest outflow"). The
same inputs always give the same findings, so a re-run after a crash or a reorg finds the same
(rule, tx hash, log index) keys, and the alert table's unique key makes each fire once.

Addresses are compared lower-case. Amounts are raw integers (wei, token base units): the rules
never need decimals, because they compare an asset only with itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from walletdesk.shield.addresses import checksummed
from walletdesk.shield.lookalike import looks_alike

# Event kinds (what the monitor decoded from a log or a transaction).
TRANSFER = "transfer"
APPROVAL = "approval"  # ERC-20 approve(spender, amount)
APPROVAL_FOR_ALL = "approval_for_all"  # ERC-721/1155 setApprovalForAll(operator, bool)

# Token standards of a transfer; NATIVE is the chain's own coin (no token contract).
NATIVE = "native"
ERC20 = "erc20"
ERC721 = "erc721"
ERC1155 = "erc1155"

# Rule codes: the keys of `RiskRule.code`, of alert keys and of the reason texts.
SCAM_RECIPIENT = "scam_recipient"
UNLIMITED_APPROVAL = "unlimited_approval"
ADDRESS_POISONING = "address_poisoning"
LARGE_OUTFLOW = "large_outflow"
RAPID_OUTFLOWS = "rapid_outflows"

LOW, MEDIUM, HIGH, CRITICAL = "low", "medium", "high", "critical"
SEVERITIES = (LOW, MEDIUM, HIGH, CRITICAL)


@dataclass(frozen=True)
class Event:
    """One stored transfer or approval touching a watched address.

    For a transfer, `sender` → `recipient` moved `value` of `token` (None for the native coin).
    For an approval, `sender` is the owner, `recipient` the spender or operator, `value` the
    allowance (ERC-20) and `approved` the flag (setApprovalForAll). `log_index` is -1 for a
    native transfer (it has no log). `timestamp` is the block's, in seconds.
    """

    kind: str
    tx_hash: str
    log_index: int
    block_number: int
    timestamp: int
    sender: str
    recipient: str
    value: int = 0
    token: str | None = None
    standard: str = NATIVE
    approved: bool = True

    @property
    def key(self) -> tuple[str, int]:
        return (self.tx_hash.lower(), self.log_index)

    @property
    def order(self) -> tuple[int, int]:
        return (self.block_number, self.log_index)

    @property
    def asset(self) -> str:
        return (self.token or NATIVE).lower()


@dataclass(frozen=True)
class RuleConfig:
    code: str
    enabled: bool = True
    severity: str = HIGH
    params: Mapping[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        """The operator's value, or the default when the admin left it out."""
        if name in self.params:
            return self.params[name]
        return DEFAULTS[self.code].params[name]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    tx_hash: str
    log_index: int
    params: dict[str, str]

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.code, self.tx_hash.lower(), self.log_index)


@dataclass(frozen=True)
class Lists:
    """What the operator maintains outside the rules: scam-listed addresses (imported lists)
    and verified spenders (routers and marketplaces an unlimited approval to is normal)."""

    scam: frozenset[str] = frozenset()
    verified_spenders: frozenset[str] = frozenset()

    @classmethod
    def of(cls, scam: Iterable[str] = (), verified_spenders: Iterable[str] = ()) -> Lists:
        return cls(frozenset(a.lower() for a in scam), frozenset(a.lower() for a in verified_spenders))


# The defaults, seeded into `RiskRule` by migration 0002; the admin changes them there.
DEFAULTS: dict[str, RuleConfig] = {
    SCAM_RECIPIENT: RuleConfig(SCAM_RECIPIENT, severity=CRITICAL),
    UNLIMITED_APPROVAL: RuleConfig(
        UNLIMITED_APPROVAL,
        severity=HIGH,
        # An allowance of 2**128 or more is "unlimited" in practice: wallets and drainers use
        # 2**256-1, some 2**255 or 2**160-1; no real token supply comes near 2**128 base units.
        params={"unlimited_from_bits": 128},
    ),
    ADDRESS_POISONING: RuleConfig(
        ADDRESS_POISONING,
        severity=HIGH,
        params={
            # Dust: at most this many base units counts as "nothing was really sent".
            "native_dust_wei": 10**14,  # 0.0001 of an 18-decimal coin
            "token_dust_units": 10**4,  # 0.01 of a 6-decimal stablecoin
            # How many end characters must copy the real counterparty (shield.lookalike).
            "head": 3,
            "tail": 3,
        },
    ),
    LARGE_OUTFLOW: RuleConfig(
        LARGE_OUTFLOW,
        severity=MEDIUM,
        # Flag an outflow above `factor` × the largest of the last `window` outflows of the
        # same asset, once at least `min_history` of them exist: a new address's first moves
        # have nothing to compare with and are never flagged.
        params={"factor": 5, "window": 50, "min_history": 3},
    ),
    RAPID_OUTFLOWS: RuleConfig(
        RAPID_OUTFLOWS,
        severity=HIGH,
        # Flag the outgoing transaction that makes `count` within `minutes` (a drain sweeps
        # token after token in a burst). Fires on the one that reaches the count, not on every
        # later one, so a burst is one alert.
        params={"count": 5, "minutes": 10},
    ),
}


def evaluate(
    address: str,
    new: Sequence[Event],
    history: Sequence[Event],
    configs: Mapping[str, RuleConfig],
    lists: Lists,
) -> list[Finding]:
    """The findings of every enabled rule for the `new` events of `address`.

    `history` holds the address's earlier events (it may include the new ones; each rule
    only looks at what came strictly before the event it judges, by (block, log index)).
    """
    me = address.lower()
    everything = _dedupe([*history, *new])
    findings: list[Finding] = []
    for event in sorted(new, key=lambda e: e.order):
        before = [e for e in everything if e.order < event.order]
        for code, check in _RULES.items():
            config = configs.get(code, DEFAULTS[code])
            if not config.enabled:
                continue
            params = check(me, event, before, config, lists)
            if params is not None:
                findings.append(
                    Finding(code, config.severity, event.tx_hash.lower(), event.log_index, params)
                )
    return findings


def _dedupe(events: Iterable[Event]) -> list[Event]:
    seen: dict[tuple[str, int], Event] = {}
    for event in events:
        seen.setdefault(event.key, event)
    return list(seen.values())


def _is_outflow(me: str, event: Event) -> bool:
    return event.kind == TRANSFER and event.sender.lower() == me and event.recipient.lower() != me


def _scam_recipient(
    me: str, event: Event, before: list[Event], config: RuleConfig, lists: Lists
) -> dict[str, str] | None:
    if _is_outflow(me, event) and event.recipient.lower() in lists.scam:
        return {"recipient": event.recipient, "asset": event.asset}
    # An approval to a listed address hands it the tokens just the same (a revoke does not).
    granted = event.approved and (event.kind != APPROVAL or event.value > 0)
    approving = event.kind in (APPROVAL, APPROVAL_FOR_ALL) and event.sender.lower() == me
    if approving and granted and event.recipient.lower() in lists.scam:
        return {"recipient": event.recipient, "asset": event.asset}
    return None


def _unlimited_approval(
    me: str, event: Event, before: list[Event], config: RuleConfig, lists: Lists
) -> dict[str, str] | None:
    if event.sender.lower() != me or event.recipient.lower() in lists.verified_spenders:
        return None
    if event.kind == APPROVAL and event.value >= 2 ** int(config.param("unlimited_from_bits")):
        return {"spender": event.recipient, "token": event.token or "", "call": "approve"}
    if event.kind == APPROVAL_FOR_ALL and event.approved:
        return {"spender": event.recipient, "token": event.token or "", "call": "setApprovalForAll"}
    return None


def _address_poisoning(
    me: str, event: Event, before: list[Event], config: RuleConfig, lists: Lists
) -> dict[str, str] | None:
    if event.kind != TRANSFER or event.recipient.lower() != me or event.sender.lower() == me:
        return None
    # Only what the victim sent out proves a real counterparty: a poisoner can send to the
    # victim as easily as anyone, so incoming transfers prove nothing.
    mine = [e for e in before if _is_outflow(me, e)]
    counterparties = {e.recipient.lower() for e in mine}
    sender = event.sender.lower()
    if sender in counterparties:
        return None  # someone the victim really pays, sending back a little: not poisoning
    my_tokens = {e.asset for e in mine}
    if event.value == 0:
        shape = "zero"
    elif event.standard == NATIVE and event.value <= int(config.param("native_dust_wei")):
        shape = "dust"
    elif event.standard != NATIVE and event.asset not in my_tokens:
        shape = "fake_token"  # a token the victim never sent: typically a fake "USDT"
    elif event.standard == ERC20 and event.value <= int(config.param("token_dust_units")):
        shape = "dust"
    else:
        return None
    head, tail = int(config.param("head")), int(config.param("tail"))
    for genuine in sorted(counterparties):
        if looks_alike(sender, genuine, head=head, tail=tail):
            return {"sender": event.sender, "lookalike_of": genuine, "shape": shape, "asset": event.asset}
    return None


def _large_outflow(
    me: str, event: Event, before: list[Event], config: RuleConfig, lists: Lists
) -> dict[str, str] | None:
    if not _is_outflow(me, event) or event.standard not in (NATIVE, ERC20) or event.value <= 0:
        return None
    past = [e.value for e in before if _is_outflow(me, e) and e.asset == event.asset and e.value > 0]
    past = past[-int(config.param("window")) :]
    if len(past) < int(config.param("min_history")):
        return None
    largest = max(past)
    factor = int(config.param("factor"))
    if event.value > factor * largest:
        return {
            "asset": event.asset,
            "value": str(event.value),
            "largest": str(largest),
            "factor": str(factor),
        }
    return None


def _rapid_outflows(
    me: str, event: Event, before: list[Event], config: RuleConfig, lists: Lists
) -> dict[str, str] | None:
    if not _is_outflow(me, event):
        return None
    # Count transactions, not logs: one multicall that moves five tokens is one move.
    if any(_is_outflow(me, e) and e.tx_hash.lower() == event.tx_hash.lower() for e in before):
        return None
    minutes = int(config.param("minutes"))
    since = event.timestamp - minutes * 60
    txs = {e.tx_hash.lower() for e in before if _is_outflow(me, e) and e.timestamp > since}
    count = int(config.param("count"))
    if len(txs) + 1 == count:
        return {"count": str(count), "minutes": str(minutes)}
    return None


_RULES = {
    SCAM_RECIPIENT: _scam_recipient,
    UNLIMITED_APPROVAL: _unlimited_approval,
    ADDRESS_POISONING: _address_poisoning,
    LARGE_OUTFLOW: _large_outflow,
    RAPID_OUTFLOWS: _rapid_outflows,
}


_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def is_address(value: str) -> bool:
    """0x and 40 hex characters (any case: the EIP-55 checksum is checked where it is typed)."""
    return bool(_ADDRESS.match(value))


def checksum(address: str) -> str:
    """The EIP-55 mixed-case form, for display (addresses are stored lower case)."""
    return checksummed(address)  # eth_utils' costs ~20 MiB per process at import


def check_params(code: str, params: Mapping[str, Any]) -> list[str]:
    """What is wrong with an operator's params for rule `code` (empty when they are fine)."""
    if code not in DEFAULTS:
        return [f"unknown rule {code!r}"]
    known = DEFAULTS[code].params
    problems = [f"unknown parameter {name!r}" for name in params if name not in known]
    for name, value in params.items():
        if name in known and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"{name} must be a whole number ≥ 0")
    return problems
