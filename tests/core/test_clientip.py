"""Which address is the client: X-Forwarded-For only counts behind a named proxy."""

from __future__ import annotations

from typing import Any

from django.test import RequestFactory

from walletdesk.core.clientip import client_ip

rf = RequestFactory()


def _req(peer: str, xff: str | None = None) -> Any:
    extra = {"REMOTE_ADDR": peer}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return rf.get("/", **extra)


def test_without_trusted_proxies_a_spoofed_header_is_ignored(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    assert client_ip(_req("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client prepended a lie; the proxy appended the real address it saw.
    assert client_ip(_req("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_req("10.0.0.2", "198.51.100.7, 10.0.0.5")) == "198.51.100.7"


def test_a_peer_that_is_not_a_trusted_proxy_cannot_forward(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_req("203.0.113.9", "198.51.100.7")) == "203.0.113.9"


def test_a_garbled_hop_stops_the_walk(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_req("10.0.0.2", "198.51.100.7, not-an-ip")) == "10.0.0.2"
