"""Exact identifiers an agent pastes into the search box: a tx hash, a wallet address, an email,
a phone number.

They are found through the full-text index the ticket already has (`search_text`), never a
LIKE scan and never a new index on the ticket table (every index there is written on every new
ticket; see `tests/tickets/test_batches.py`). For that, each identifier is written into
`search_text` as one token the tokenizers keep whole (letters and digits only):

- a hash or an address is already such a token, lower-cased by `search.segment`, so an EVM
  address matches whatever its EIP-55 capitalisation. Base58 addresses (TRON, legacy
  bitcoin) are case-sensitive, but a case-changed one fails its checksum, so the folded token
  still names exactly one real address;
- an email becomes `em` + a hash of the lower-cased address (the tokenizers would split
  "carol@example.com" into three words that match any text holding them);
- a phone number becomes `tel` + its digits, written in every form it could be searched by
  (international, and national for each plausible country-code length), so "+86 138 0013
  8000", "0086-138-0013-8000" and "13800138000" find one another.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from walletdesk.shield.detect import EMAIL, address_chain
from walletdesk.shield.registry import normalise_phone

_HASH = re.compile(r"^(?:0x)?[0-9a-fA-F]{64}$")
# In free text: an email, or a phone number (an optional "+"/"00", then digits with the
# separators people write), not glued to other word characters (a hex hash holds digit runs).
# The look-behind starts a match only where a run of address characters starts: without it a
# long run with an "@" at its end is scanned again from each of its characters (quadratic).
_EMAIL_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}"
)
_PHONE_IN_TEXT = re.compile(r"(?<![\w+])\+?\d[\d\s().\-]{5,22}\d(?![\w])")
_PHONE_QUERY = re.compile(r"^(?:tel:)?\+?[\d\s().\-]+$")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15


@dataclass(frozen=True)
class Identifier:
    kind: str  # tx_hash, evm_address, tron_address, bitcoin_address, address, email, phone
    value: str  # the canonical form (lower-cased address, lower-cased email, digits)
    tokens: tuple[str, ...]  # any of these in search_text is a match


def email_token(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    return f"em{digest}"


def _phone_forms(digits: str, international: bool) -> list[str]:
    """Every `tel…` token a stored number is indexed under."""
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        return []
    forms = [digits]
    if international:  # country codes are 1 to 3 digits; the national rest is searched too
        forms += [digits[k:] for k in (1, 2, 3) if len(digits) - k >= MIN_PHONE_DIGITS - 1]
    return [f"tel{f}" for f in dict.fromkeys(forms)]


def classify(query: str) -> Identifier | None:
    """The identifier `query` is, or None for words (searched as words)."""
    text = query.strip()
    if not text or len(text) > 200:
        return None
    if _HASH.match(text):
        value = text.lower()
        return Identifier("tx_hash", value, (value,))
    chain = address_chain(text)
    if chain is not None:
        value = text.lower()
        return Identifier(f"{chain}_address" if chain != "evm" else "evm_address", value, (value,))
    if EMAIL.match(text):
        value = text.lower()
        return Identifier("email", value, (email_token(value),))
    if _PHONE_QUERY.match(text):
        phone = normalise_phone(text.removeprefix("tel:"))
        if phone is None:
            return None
        digits, international = phone
        if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
            return None
        # Searched internationally, it may have been written nationally (stored without the
        # country code); searched nationally, the stored international forms carry it too.
        tokens = _phone_forms(digits, international) if international else [f"tel{digits}"]
        return Identifier("phone", digits, tuple(tokens))
    return None


def tokens_in(*parts: str) -> list[str]:
    """The identifier tokens to add to a ticket's search_text for these texts and values."""
    found: list[str] = []
    for part in parts:
        if not part:
            continue
        found += [email_token(m) for m in _EMAIL_IN_TEXT.findall(part)]
        for match in _PHONE_IN_TEXT.findall(part):
            phone = normalise_phone(match)
            if phone is not None:
                found += _phone_forms(*phone)
    return list(dict.fromkeys(found))
