"""The security shield: pure Python, no Django, nothing else from the project.

* :func:`scan` finds recovery phrases, SLIP-39 shares and private keys and redacts them.
* :func:`verify_contact` tells whether a URL, email, phone or handle is an official channel.
* :func:`scam_signals` / :func:`outbound_reply_risks` flag scam patterns in a text.
* :func:`parse_phishing_config` / :func:`parse_domain_list` read imported phishing lists.
"""

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
from .registry import OfficialRegistry
from .scam import Signal, outbound_reply_risks, scam_signals
from .scanner import scan
from .verifier import ADVICE, Verdict, verify_contact

__all__ = [
    "ADVICE",
    "ALL_PLACEHOLDERS",
    "PLACEHOLDERS",
    "PLACEHOLDERS_ZH",
    "Finding",
    "OfficialRegistry",
    "PhishingLists",
    "ScanResult",
    "SecretKind",
    "Signal",
    "Verdict",
    "outbound_reply_risks",
    "parse_domain_list",
    "parse_phishing_config",
    "placeholder_for",
    "scam_signals",
    "scan",
    "verify_contact",
]
