"""Imported phishing lists (MetaMask eth-phishing-detect format, or one domain per line)."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from .domains import parse_url

DEFAULT_TOLERANCE = 1


@dataclass(frozen=True, slots=True)
class PhishingLists:
    allowlist: frozenset[str] = field(default_factory=frozenset)  # never flagged
    blocklist: frozenset[str] = field(default_factory=frozenset)  # always impersonation
    fuzzylist: frozenset[str] = field(default_factory=frozenset)  # names lookalikes are measured against
    tolerance: int = DEFAULT_TOLERANCE  # edit distance within which a fuzzylist name matches

    def merged(self, other: "PhishingLists") -> "PhishingLists":
        return PhishingLists(
            self.allowlist | other.allowlist,
            self.blocklist | other.blocklist,
            self.fuzzylist | other.fuzzylist,
            max(self.tolerance, other.tolerance),
        )

    def allows(self, host: str) -> bool:
        return _listed(host, self.allowlist)

    def blocks(self, host: str) -> bool:
        return _listed(host, self.blocklist)


def _listed(host: str, domains: frozenset[str]) -> bool:
    """A listed domain covers its subdomains too."""
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels) - 1))


def normalise_domain(entry: str) -> str | None:
    """'*.Evil.io', 'https://evil.io/x', 'evil.io.' -> 'evil.io'; None when not a domain."""
    entry = entry.strip().lower()
    if entry.startswith("*."):
        entry = entry[2:]
    parsed = parse_url(entry)
    return parsed.host if parsed is not None else None


def _domains(entries: Iterable[object]) -> frozenset[str]:
    found = set()
    for entry in entries:
        if isinstance(entry, str):
            domain = normalise_domain(entry)
            if domain:
                found.add(domain)
    return frozenset(found)


def parse_phishing_config(json_text: str) -> PhishingLists:
    """Parse MetaMask eth-phishing-detect ``config.json``.

    Reads "allowlist" (or the older "whitelist"), "blocklist" ("blacklist"), "fuzzylist" and
    "tolerance". Raises ValueError when the text is not a JSON object.
    """
    data = json.loads(json_text)
    if not isinstance(data, dict):
        raise ValueError("phishing config must be a JSON object")
    tolerance = data.get("tolerance", DEFAULT_TOLERANCE)
    return PhishingLists(
        allowlist=_domains([*data.get("allowlist", []), *data.get("whitelist", [])]),
        blocklist=_domains([*data.get("blocklist", []), *data.get("blacklist", [])]),
        fuzzylist=_domains(data.get("fuzzylist", [])),
        tolerance=tolerance if isinstance(tolerance, int) and tolerance >= 0 else DEFAULT_TOLERANCE,
    )


def parse_domain_list(text: str) -> frozenset[str]:
    """One domain (or URL) per line; '#' starts a comment; blank lines are ignored."""
    return _domains(line.split("#", 1)[0] for line in text.splitlines())
