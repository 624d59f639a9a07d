"""Which URLs a webhook may be sent to (server-side request forgery).

An endpoint's URL is typed by an administrator, but a desk that POSTs wherever it is told can
be turned against its own network: the cloud metadata address (169.254.169.254), a database
admin page on localhost, a router. So only http(s) URLs, with no credentials in them, and, unless
`WEBHOOK_ALLOW_PRIVATE_ADDRESSES` (on outside production, off in it) says otherwise, only to
public addresses: checked when the endpoint is saved (a literal address, "localhost") and again
before every send, on every address the name resolves to then.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class RefusedURL(ValueError):
    pass


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return bool(ip.is_global) and not ip.is_multicast


def check(url: str, *, resolve: bool = False) -> None:
    """Raise RefusedURL (with the reason) for a URL a webhook must not go to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedURL(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedURL("only http:// and https:// URLs are allowed")
    host = parts.hostname or ""
    if not host:
        raise RefusedURL("the URL has no host")
    if parts.username or parts.password:
        # It would be stored and logged in clear; the signature authenticates us instead.
        raise RefusedURL("credentials in the URL are not allowed")
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not _public(host):
            raise RefusedURL(f"{host} is not a public address")
        return
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise RefusedURL(f"{host} is not a public address")
    if resolve:
        try:
            infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80))
        except OSError as exc:
            raise RefusedURL(f"{host} does not resolve: {exc}") from None
        private = sorted({str(info[4][0]) for info in infos if not _public(str(info[4][0]))})
        if private:
            raise RefusedURL(f"{host} resolves to a non-public address ({', '.join(private)})")
