"""DNS rebinding: an endpoint's name is resolved once per send, every address it resolves to is
checked, and the POST goes to the checked address, keeping the name in the Host header and as
the TLS server name (so the certificate is still verified against it).

No DNS server of ours runs here, so `socket.getaddrinfo` is replaced for one made-up name by a
resolver that answers as an attacker's DNS would: one address the first time, another after.
Every other name (the database, Redis) still goes to the real resolver.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.connectors.standin import StandIn
from tests.connectors.webhooks.conftest import make_endpoint, verified
from walletdesk.connectors.webhooks.models import WebhookDelivery
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket

pytestmark = pytest.mark.django_db

NAME = "hooks.rebind.test"
Answers = list[list[str]]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Answers], list[str]]]:
    """Answer NAME with each list of addresses in turn (the last one from then on)."""
    real = socket.getaddrinfo
    asked: list[str] = []
    answers: Answers = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        addresses = answers[min(len(asked), len(answers)) - 1]
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, int(port), 0, 0) if ":" in a else (a, int(port)),
            )
            for a in addresses
        ]

    def answer(these: Answers) -> list[str]:
        answers[:] = these
        return asked

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield answer


def _send(capture: Any) -> WebhookDelivery:
    with capture(execute=True):
        actions.create_ticket(NewTicket(subject="Fee", body="Why so high?", email="li@example.com"))
    row = WebhookDelivery.objects.get()
    row.refresh_from_db()
    return row


def test_the_post_goes_to_the_address_that_was_checked_with_the_name_as_host(
    dns: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The name answers the receiver's loopback address once, then an address nobody listens on:
    # only a send that connects to what it resolved (once) reaches the receiver.
    asked = dns([["127.0.0.1"], ["127.0.0.9"]])
    with StandIn({"/hook": (200, {"ok": True})}) as receiver:
        make_endpoint(f"http://{NAME}:{receiver.base_url.rsplit(':', 1)[1]}/hook")
        row = _send(django_capture_on_commit_callbacks)
    assert (row.state, row.last_error) == ("delivered", "")
    (sent,) = receiver.requests_to("/hook")
    assert sent.headers["host"] == f"{NAME}:{receiver.base_url.rsplit(':', 1)[1]}"
    assert verified(sent)["type"] == "ticket.created"
    assert len(asked) == 1


def test_a_name_that_rebinds_to_loopback_after_the_check_never_reaches_it(
    dns: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # production
    settings.WEBHOOK_TIMEOUT_SECONDS = 2  # the public address is not reachable from here
    # A public address for the check, then the desk's own loopback for whoever resolves again.
    asked = dns([["93.184.216.34"], ["127.0.0.1"]])
    with StandIn({"/hook": (200, {"ok": True})}) as receiver:
        make_endpoint(f"http://{NAME}:{receiver.base_url.rsplit(':', 1)[1]}/hook")
        row = _send(django_capture_on_commit_callbacks)
    assert receiver.requests == []
    assert row.state != "delivered" and len(asked) == 1


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["10.0.0.5"],
        ["192.168.1.1"],
        ["169.254.169.254"],  # the cloud metadata service
        ["::1"],
        ["fe80::1"],
        ["::ffff:127.0.0.1"],
        ["::ffff:169.254.169.254"],
        ["0.0.0.0"],
        ["93.184.216.34", "127.0.0.1"],  # one private answer among public ones is enough
    ],
)
def test_a_name_resolving_to_any_non_public_address_is_refused(
    dns: Any, settings: Any, django_capture_on_commit_callbacks: Any, addresses: list[str]
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    dns([addresses])
    with StandIn({"/hook": (200, {"ok": True})}) as receiver:
        make_endpoint(f"http://{NAME}:{receiver.base_url.rsplit(':', 1)[1]}/hook")
        row = _send(django_capture_on_commit_callbacks)
    assert row.state == "failed" and row.last_error.startswith("refused:")
    assert "non-public" in row.last_error and receiver.requests == []


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_to_the_pinned_address_sends_the_name_as_sni_and_still_verifies_the_certificate(
    dns: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, server_name, _ctx: names.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass  # the desk hangs up: it does not trust a self-signed certificate
        finally:
            conn.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    dns([["127.0.0.1"]])
    make_endpoint(f"https://{NAME}:{port}/hook")
    row = _send(django_capture_on_commit_callbacks)
    server.join(10)
    listener.close()
    assert names == [NAME]  # the certificate asked for is the name's, not the address's
    assert row.state == "retry" and "CERTIFICATE_VERIFY_FAILED" in row.last_error
