"""The security shield: pure Python, no Django, nothing else from the project.

* :func:`scan` finds recovery phrases, SLIP-39 shares and private keys and redacts them.
* :func:`verify_contact` tells whether a URL, email, phone or handle is an official channel
  (:func:`detect_kind` reads which of them a pasted value is; :func:`render_reasons` words a
  verdict's reason codes, in English unless given another :class:`Wording`).
* :func:`scam_signals` / :func:`outbound_reply_risks` flag scam patterns in a text.
* :class:`AddressBook` / :func:`parse_address_lines`: official EVM addresses, imported scam-address
  lists and their file format, for the address verdicts (official, impersonation, scam).
* :func:`parse_phishing_config` / :func:`parse_domain_list` read imported phishing lists.
"""

from .addresses import (
    AddressBook,
    OfficialAddress,
    checksummed,
    evm_address_problem,
    evm_checksum_ok,
    parse_address_lines,
)
from .detect import detect_kind
from .findings import (
    ALL_PLACEHOLDERS,
    PLACEHOLDERS,
    PLACEHOLDERS_ZH,
    Finding,
    ScanResult,
    SecretKind,
    placeholder_for,
)
from .lists import PhishingLists, parse_domain_list, parse_phishing_config
from .reasons import ENGLISH as REASONS_EN
from .reasons import ENGLISH_WORDS, Reason, Wording
from .reasons import render as render_reasons
from .registry import OfficialRegistry
from .scam import Signal, outbound_reply_risks, scam_signals
from .scanner import scan
from .verifier import ADVICE, SECRET_CODES, Verdict, verify_contact

__all__ = [
    "ADVICE",
    "ALL_PLACEHOLDERS",
    "ENGLISH_WORDS",
    "PLACEHOLDERS",
    "PLACEHOLDERS_ZH",
    "REASONS_EN",
    "SECRET_CODES",
    "AddressBook",
    "Finding",
    "OfficialAddress",
    "OfficialRegistry",
    "PhishingLists",
    "Reason",
    "ScanResult",
    "SecretKind",
    "Signal",
    "Verdict",
    "Wording",
    "checksummed",
    "detect_kind",
    "evm_address_problem",
    "evm_checksum_ok",
    "outbound_reply_risks",
    "parse_address_lines",
    "parse_domain_list",
    "parse_phishing_config",
    "placeholder_for",
    "render_reasons",
    "scam_signals",
    "scan",
    "verify_contact",
]
