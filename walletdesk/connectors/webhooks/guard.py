"""Which URLs a webhook may be sent to (server-side request forgery).

An endpoint's URL is typed by an administrator, but a desk that POSTs wherever it is told can
be turned against its own network: the cloud metadata address (169.254.169.254), a database
admin page on localhost, a router. So only http(s) URLs, with no credentials in them, and, unless
`WEBHOOK_ALLOW_PRIVATE_ADDRESSES` (on outside production, off in it) says otherwise, only to
public addresses: checked when the endpoint is saved (a literal address, "localhost") and again
before every send, on every address the name resolves to then.

The send connects to the address that was checked (`pin`), never to the name: resolving the name
once for the check and letting the HTTP client resolve it again would let the name's DNS answer a
public address to the check and 127.0.0.1 to the connection (DNS rebinding). The request keeps
the name in its Host header and, for https, as the TLS server name, so the receiver's certificate
is still verified against the name the administrator typed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings


class RefusedURL(ValueError):
    pass


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return bool(ip.is_global) and not ip.is_multicast


@dataclass(frozen=True)
class Target:
    """Where a send goes: `url` has the checked address in place of the name."""

    url: str
    host_header: str
    sni_hostname: str | None

    def extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.sni_hostname} if self.sni_hostname else {}


def pin(url: str) -> Target:
    """Check `url`, resolve its name once, check every address, and return the first to connect to."""
    check(url)
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded, as it goes on the wire
    host_header = parsed.netloc.decode("ascii")  # the name (and port) the receiver expects
    if _literal(parsed.host):
        return Target(url, host_header, None)  # an address already: nothing to resolve or rebind
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        # The one place a send turns the name into addresses (the tests put a rebinding DNS here).
        addresses = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except OSError as exc:
        raise RefusedURL(f"{host} does not resolve: {exc}") from None
    if not addresses:
        raise RefusedURL(f"{host} does not resolve")
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        private = sorted({a for a in addresses if not _public(a)})
        if private:
            raise RefusedURL(f"{host} resolves to a non-public address ({', '.join(private)})")
    address = addresses[0].split("%", 1)[0]  # a link-local zone id: only ever allowed outside production
    pinned = str(parsed.copy_with(host=address))
    return Target(pinned, host_header, host if parsed.scheme == "https" else None)


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check(url: str, *, resolve: bool = False) -> None:
    """Raise RefusedURL (with the reason) for a URL a webhook must not go to."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
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
        pin(url)  # a check only: a send must use the Target pin returns, not resolve again
