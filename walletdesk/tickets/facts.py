"""The ticket's structured facts, checked by their format before anything stores them.

Two kinds of fact:

* Structured (wallet address, transaction hash): a value is what its chain says it is or it is
  refused. A recovery phrase or key is never a valid address or hash, so a secret pasted into
  one of these fields is refused too, and the error never repeats the value.
* Free text (account, chain, error code, device, OS, app version): anything goes, but it is
  screened like a message body: a secret becomes a placeholder and is reported, so the ticket
  gets the same treatment as a phrase in the body (Security desk, banner). Refusing instead
  would lose requests from channels that cannot ask again (the in-app backend, a retried API
  call), and the secret has already left the customer's device either way: what matters is
  that nothing stores it and that an agent treats the wallet as compromised.

The chain is free text ("Ethereum", "BSC", "TRON", "比特币"…); it decides which address and hash
formats apply. With no chain, or one we do not know, the address's own shape decides.

EIP-55 checksums need Keccak-256 (not SHA3-256): eth-hash (with pycryptodome as its backend)
computes it, and eth-utils' `to_checksum_address` is the reference the tests compare with. Both
are the Ethereum Foundation's maintained libraries that web3.py itself builds on, so the
on-chain work to come adds no second implementation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from walletdesk.shield.addresses import evm_checksum_ok
from walletdesk.shield.checksums import base58_decode, base58check_decode
from walletdesk.tickets.screening import screen_value

EVM, TRON, BITCOIN, SOLANA = "evm", "tron", "bitcoin", "solana"

# Names customers type for a chain, folded (casefold, no spaces, dashes or dots).
_CHAIN_NAMES = {
    EVM: [
        "ethereum",
        "eth",
        "erc20",
        "ethmainnet",
        "以太坊",
        "以太坊主网",
        "bnbchain",
        "bnbsmartchain",
        "bsc",
        "bep20",
        "bnb",
        "币安链",
        "币安智能链",
        "polygon",
        "matic",
        "pol",
        "arbitrum",
        "arb",
        "arbitrumone",
        "optimism",
        "op",
        "base",
        "avalanche",
        "avax",
        "avaxc",
        "avalanchecchain",
        "fantom",
        "ftm",
        "linea",
        "zksync",
        "zksyncera",
        "scroll",
        "mantle",
        "gnosis",
        "celo",
        "cronos",
        "heco",
        "okc",
        "okx",
        "okxchain",
        "xlayer",
        "opbnb",
        "blast",
        "sepolia",
        "holesky",
        "goerli",
    ],
    TRON: ["tron", "trx", "trc20", "波场", "波场链"],
    BITCOIN: ["bitcoin", "btc", "比特币", "比特幣", "testnet", "btctestnet"],
    SOLANA: ["solana", "sol", "spl", "索拉纳"],
}
_FAMILY_OF = {name: family for family, names in _CHAIN_NAMES.items() for name in names}
_FOLD = re.compile(r"[\s\-_.·()（）]+")

_EVM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_EVM_TX = re.compile(r"0x[0-9a-fA-F]{64}")
_HEX_TX = re.compile(r"[0-9a-fA-F]{64}")  # Bitcoin and TRON transaction ids: no 0x
# An explorer link pasted instead of the hash: ".../tx/<hash>" (etherscan, tronscan, mempool...).
_TX_IN_URL = re.compile(
    r"^https?://\S+?/(?:#/)?(?:tx|transaction)/(0x[0-9a-fA-F]{64}|[0-9a-fA-F]{64}|[1-9A-HJ-NP-Za-km-z]{86,88})/?(?:[?#]\S*)?$"
)
# Shaped like a Bitcoin or TRON address: with no chain named, one that fails its checksum is a
# typo, not some other chain's address.
_LOOKS_BITCOIN = re.compile(r"[13][1-9A-HJ-NP-Za-km-z]{25,34}|(?i:bc1)[a-zA-Z0-9]{8,87}")
_LOOKS_TRON = re.compile(r"T[1-9A-HJ-NP-Za-km-z]{33}")
# Any other chain (TON, XRP, Cosmos, Aptos…): one token of address characters.
_GENERIC_ADDRESS = re.compile(r"[A-Za-z0-9:_\-]{20,128}")

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


class FactError(ValueError):
    """A fact that is not in its format; the message never contains the value."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class CheckedFacts:
    values: dict[str, str]
    # (field, secret kind) for every secret replaced by a placeholder in a free-text fact
    secrets: tuple[tuple[str, str], ...] = ()

    @property
    def secret_kinds(self) -> list[str]:
        return sorted({kind for _field, kind in self.secrets})


def chain_family(chain: str) -> str | None:
    """evm, tron, bitcoin or solana for a chain name a customer typed; None when unknown."""
    return _FAMILY_OF.get(_FOLD.sub("", chain.casefold()))


def check(facts: dict[str, str]) -> CheckedFacts:
    """Check every fact; raises FactError on the first one out of format."""
    values = dict(facts)
    secrets: list[tuple[str, str]] = []
    # Free text first: the chain decides how the structured facts are read.
    for name, value in facts.items():
        if name in ("wallet_address", "tx_hash") or not value:
            continue
        screened = screen_value(value)
        values[name] = screened.text
        secrets += [(name, kind) for kind in screened.secret_kinds]
    family = chain_family(values.get("chain", ""))
    for name in ("wallet_address", "tx_hash"):
        value = values.get(name, "").strip()
        if not value:
            continue
        try:
            if name == "wallet_address":
                values[name], family = check_address(value, family)
            else:
                values[name] = check_tx_hash(value, family)
        except FactError:
            # Out of format, and maybe a secret: a valid hash is itself 64 hex digits, which
            # the scanner alone would take for a key, so the format is checked first and the
            # scan decides only how a refusal is worded. Neither wording repeats the value.
            _refuse_secret(value, name)
            raise
    return CheckedFacts(values, tuple(secrets))


def _refuse_secret(value: str, field: str) -> None:
    if screen_value(value).secret_kinds:
        raise FactError(
            "secret_in_field",
            _(
                "This looks like a recovery phrase or private key, not an address or hash. It was "
                "not stored. Never share it with anyone, support included."
            ),
            field,
        )


def check_address(value: str, family: str | None) -> tuple[str, str | None]:
    """The address as stored, and the chain family it belongs to."""
    value = value.strip()
    if family in (None, EVM) and value[:2].lower() == "0x":
        if not _EVM_ADDRESS.fullmatch(value):
            raise FactError(
                "invalid_address",
                _("An Ethereum-style address is 0x followed by 40 hexadecimal characters."),
                "wallet_address",
            )
        if not evm_checksum_ok(value):
            raise FactError(
                "invalid_address",
                _("This address's capital letters do not match its checksum (EIP-55): check for a typo."),
                "wallet_address",
            )
        return value, EVM
    checks = {TRON: tron_address_ok, BITCOIN: bitcoin_address_ok, SOLANA: solana_address_ok}
    if family in checks:
        if checks[family](value):
            return value, family
        raise FactError("invalid_address", _address_help(family), "wallet_address")
    if family is None:
        for name, ok in checks.items():
            if ok(value):
                return value, name
        if _LOOKS_BITCOIN.fullmatch(value):
            raise FactError("invalid_address", _address_help(BITCOIN), "wallet_address")
        if _LOOKS_TRON.fullmatch(value):
            raise FactError("invalid_address", _address_help(TRON), "wallet_address")
    if family == EVM or not _GENERIC_ADDRESS.fullmatch(value):
        raise FactError("invalid_address", _address_help(family), "wallet_address")
    # Only a shape, not a format: a WIF or a hex key has that shape too.
    _refuse_secret(value, "wallet_address")
    return value, family


def _address_help(family: str | None) -> str:
    if family == EVM:
        return _("An Ethereum-style address is 0x followed by 40 hexadecimal characters.")
    if family == TRON:
        return _("A TRON address starts with T and has 34 characters: check for a typo.")
    if family == BITCOIN:
        return _("This is not a valid Bitcoin address (1…, 3… or bc1…): check for a typo.")
    if family == SOLANA:
        return _("A Solana address has 32 to 44 letters and digits: check for a typo.")
    return _("This does not look like a wallet address: copy it from your wallet's receive screen.")


def check_tx_hash(value: str, family: str | None) -> str:
    value = value.strip()
    if link := _TX_IN_URL.match(value):
        value = link.group(1)
    if _EVM_TX.fullmatch(value) and family in (None, EVM, TRON):
        return value
    # Bitcoin and TRON explorers show the id without 0x. A bare 64-digit hex string is also what
    # a raw private key looks like, so it is taken as a hash only where the chain (named, or
    # read off the address) says that is how its hashes look.
    if _HEX_TX.fullmatch(value) and family in (BITCOIN, TRON):
        return value
    if family == SOLANA and 86 <= len(value) <= 88 and len(base58_decode(value) or b"") == 64:
        return value
    if family == SOLANA:
        message = _("A Solana transaction signature has 87 or 88 letters and digits.")
    elif family in (BITCOIN, TRON):
        message = _("A transaction ID is 64 hexadecimal characters.")
    elif _HEX_TX.fullmatch(value):
        message = _(
            "An Ethereum-style transaction hash starts with 0x. For Bitcoin or TRON, also fill in the chain."
        )
    else:
        message = _(
            "A transaction hash is 0x followed by 64 hexadecimal characters: copy it from the explorer."
        )
    raise FactError("invalid_tx_hash", message, "tx_hash")


# --- chain formats (pure) ------------------------------------------------------------------


def tron_address_ok(value: str) -> bool:
    if len(value) != 34 or not value.startswith("T"):
        return False
    payload = base58check_decode(value)
    return payload is not None and len(payload) == 21 and payload[0] == 0x41


def solana_address_ok(value: str) -> bool:
    return 32 <= len(value) <= 44 and len(base58_decode(value) or b"") == 32


def bitcoin_address_ok(value: str) -> bool:
    if value[:3].lower() in ("bc1", "tb1"):
        return _segwit_ok(value)
    if not 26 <= len(value) <= 35:
        return False
    payload = base58check_decode(value)
    # P2PKH and P2SH, mainnet (0x00, 0x05) and testnet (0x6f, 0xc4)
    return payload is not None and len(payload) == 21 and payload[0] in (0x00, 0x05, 0x6F, 0xC4)


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            checksum ^= generator[i] if (top >> i) & 1 else 0
    return checksum


def _segwit_ok(value: str) -> bool:
    """BIP-173 (bech32, witness v0) and BIP-350 (bech32m, v1+) addresses."""
    if value != value.lower() and value != value.upper():
        return False
    value = value.lower()
    hrp, _sep, data = value.rpartition("1")
    if hrp not in ("bc", "tb") or len(data) < 6 or len(value) > 90:
        return False
    if any(c not in _BECH32 for c in data):
        return False
    values = [_BECH32.index(c) for c in data]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    constant = _bech32_polymod(expanded + values)
    witness = values[:-6]
    if not witness:
        return False
    version = witness[0]
    if constant != (1 if version == 0 else 0x2BC830A3):
        return False
    # 5-bit groups back to bytes: the witness program is 2 to 40 bytes (20 or 32 for v0).
    bits = (len(witness) - 1) * 5
    length = bits // 8
    if bits % 8 >= 5 or not 2 <= length <= 40:
        return False
    return version <= 16 and (version != 0 or length in (20, 32))
