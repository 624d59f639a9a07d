"""The official-contact registry and imported phishing lists, as plain data for the shield.

Both are read on almost every inbound message, so each process keeps a copy for a few seconds
instead of querying per message; admin edits call `forget()`.
"""

from __future__ import annotations

import time

from walletdesk import shield
from walletdesk.tickets.models import OfficialContact, PhishingDomain

_TTL = 30.0
_pairs_cache: tuple[float, list[tuple[str, str]]] | None = None
_lists_cache: tuple[float, shield.PhishingLists | None] | None = None

# Social handles are prefixed with their platform so "@imToken" on X and on Telegram stay
# distinct; that is the shield verifier's "[platform:]@name" form.
_SOCIAL = {"wechat", "weibo", "x", "telegram"}


def registry_pairs() -> list[tuple[str, str]]:
    global _pairs_cache
    now = time.monotonic()
    if _pairs_cache is None or now - _pairs_cache[0] > _TTL:
        pairs = []
        for kind, value in OfficialContact.objects.filter(current=True).values_list("kind", "value"):
            pairs.append(("handle", f"{kind}:{value}") if kind in _SOCIAL else (kind, value))
        _pairs_cache = (now, pairs)
    return _pairs_cache[1]


def official_domains() -> list[str]:
    return [value for kind, value in registry_pairs() if kind == "domain"]


def phishing_lists() -> shield.PhishingLists | None:
    global _lists_cache
    now = time.monotonic()
    if _lists_cache is None or now - _lists_cache[0] > _TTL:
        by_type: dict[str, set[str]] = {"block": set(), "allow": set(), "fuzzy": set()}
        for domain, list_type in PhishingDomain.objects.values_list("domain", "list_type"):
            by_type[list_type].add(domain)
        lists = (
            shield.PhishingLists(
                allowlist=frozenset(by_type["allow"]),
                blocklist=frozenset(by_type["block"]),
                fuzzylist=frozenset(by_type["fuzzy"]),
            )
            if any(by_type.values())
            else None
        )
        _lists_cache = (now, lists)
    return _lists_cache[1]


def verify(kind: str, value: str) -> shield.Verdict:
    return shield.verify_contact(kind, value, registry_pairs(), phishing_lists())


def forget() -> None:
    global _pairs_cache, _lists_cache
    _pairs_cache = _lists_cache = None
