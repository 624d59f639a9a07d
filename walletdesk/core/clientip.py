"""The client's IP address, for rate limits, lockout and login history.

`X-Forwarded-For` is believed only as far as the operator's named proxies (`TRUSTED_PROXIES`):
anyone can send the header, so without that setting it is ignored and the peer address is the
client. With it, the list is read from the right (the hop nearest to us) and the first address
that is not a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: Any) -> str:
    peer = str(request.META.get("REMOTE_ADDR") or "")
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # A garbled hop was written by someone we cannot vouch for: stop believing the header.
            return peer
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def validate_proxies(spec: list[str]) -> list[str]:
    """Settings-time check: each entry must be an address or a network (CIDR)."""
    from django.core.exceptions import ImproperlyConfigured

    for item in spec:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES must list IP addresses or networks; got {item!r}."
            ) from None
    return spec
