"""The official-contact registry as plain data for the shield."""

from __future__ import annotations

import time

from walletdesk.tickets.models import OfficialContact

_TTL = 30.0
_cache: tuple[float, list[tuple[str, str]]] | None = None

# Registry kinds map onto the verifier's (kind, value) pairs; social handles are prefixed with
# their platform so "@imToken" on X and on Telegram stay distinct.
_SOCIAL = {"wechat", "weibo", "x", "telegram"}


def registry_pairs() -> list[tuple[str, str]]:
    global _cache
    now = time.monotonic()
    if _cache is None or now - _cache[0] > _TTL:
        pairs = []
        for kind, value in OfficialContact.objects.filter(current=True).values_list("kind", "value"):
            pairs.append(("handle", f"{kind}:{value}") if kind in _SOCIAL else (kind, value))
        _cache = (now, pairs)
    return _cache[1]


def official_domains() -> list[str]:
    return [value for kind, value in registry_pairs() if kind == "domain"]


def forget() -> None:
    global _cache
    _cache = None
