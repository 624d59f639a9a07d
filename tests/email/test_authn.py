"""Inbound mail is carol's only when it is authenticated as hers (issue 16, part 2).

The DKIM keys are real RSA keys generated here; dkimpy signs with them and its `dnsfunc` hook
serves the public key (there is no DNS on these machines).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.email.test_ingest import make_mail
from walletdesk.connectors.email import authn, ingest
from walletdesk.connectors.email.inbound import ingest_many
from walletdesk.connectors.email.models import OutboundEmail
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


class Key:
    """One DKIM key pair and the DNS TXT record that publishes it."""

    def __init__(self, domain: str = "example.com", selector: str = "s1") -> None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        der = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
        self.domain, self.selector = domain, selector
        self.lookups: list[bytes] = []

    def dnsfunc(self, name: bytes, timeout: int = 5) -> bytes | None:
        self.lookups.append(name)
        if name == f"{self.selector}._domainkey.{self.domain}.".encode():
            return self.record
        return None

    def sign(self, raw: bytes, headers: list[bytes] | None = None, *, length: bool = False) -> bytes:
        signature = dkim.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.pem,
            include_headers=headers or [b"from", b"to", b"subject", b"message-id", b"in-reply-to"],
            length=length,
        )
        return signature + raw


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> Iterator[Key]:
    k = Key()
    monkeypatch.setattr(authn, "lookup_txt", k.dnsfunc)  # the hook the ingest path uses
    authn.forget_keys()
    yield k
    authn.forget_keys()


def carols_mail(message_id: str = "c1@example.com", **kw: Any) -> bytes:
    kw.setdefault("sender", "Carol <carol@example.com>")
    kw.setdefault("subject", "Please reset my 2FA")
    kw.setdefault("body", "I lost my phone, please reset my two-factor authentication.")
    return make_mail(message_id, **kw)


# --- the verdict ------------------------------------------------------------------------------


def test_a_valid_aligned_dkim_signature_authenticates(key: Key) -> None:
    verdict = authn.check(key.sign(carols_mail()), "carol@example.com")
    assert verdict.authenticated and verdict.by == "DKIM example.com"
    assert key.lookups == [b"s1._domainkey.example.com."]


def test_a_tampered_body_fails(key: Key) -> None:
    signed = key.sign(carols_mail())
    tampered = signed.replace(b"lost my phone", b"lost my keys!")
    assert tampered != signed
    assert not authn.check(tampered, "carol@example.com").authenticated


def test_no_signature_is_not_authenticated(key: Key) -> None:
    assert not authn.check(carols_mail(), "carol@example.com").authenticated
    assert key.lookups == []  # nothing to check, no lookup


def test_a_valid_signature_of_another_domain_says_nothing_about_from(monkeypatch: Any) -> None:
    attacker = Key(domain="attacker.test")
    monkeypatch.setattr(authn, "lookup_txt", attacker.dnsfunc)
    authn.forget_keys()
    signed = attacker.sign(carols_mail())
    assert dkim.verify(signed, dnsfunc=attacker.dnsfunc)  # really valid, for attacker.test
    assert not authn.check(signed, "carol@example.com").authenticated
    assert authn.check(signed, "eve@mail.attacker.test").authenticated  # aligned: a subdomain


def test_a_key_that_does_not_match_fails(key: Key) -> None:
    other = Key()  # same selector and domain, another key: a forger's signature
    assert not authn.check(other.sign(carols_mail()), "carol@example.com").authenticated


def test_authentication_results_only_from_a_trusted_authserv_id(settings: Any) -> None:
    passed = "mx.desk.test; dmarc=pass header.from=example.com; dkim=pass header.d=example.com"
    mail = carols_mail(headers={"Authentication-Results": passed})
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = []
    assert not authn.check(mail, "carol@example.com").authenticated  # anyone can write it
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = ["mx.desk.test"]
    assert authn.check(mail, "carol@example.com") == authn.Verdict(True, "mx.desk.test: dmarc=pass")
    # The same header naming another server is the sender's own writing.
    forged = carols_mail(headers={"Authentication-Results": passed.replace("mx.desk.test", "mx.evil.test")})
    assert not authn.check(forged, "carol@example.com").authenticated
    # Our server's verdict (the first such header) decides, not a pass the sender added below it.
    failed = carols_mail(
        headers={"Authentication-Results": "mx.desk.test; dkim=fail header.d=example.com; dmarc=fail"}
    ).replace(b"\r\n\r\n", b"\r\nAuthentication-Results: " + passed.encode() + b"\r\n\r\n", 1)
    assert failed.index(b"dmarc=fail") < failed.index(b"dmarc=pass")
    assert not authn.check(failed, "carol@example.com").authenticated
    # A pass for another domain is no pass for carol's.
    other = carols_mail(headers={"Authentication-Results": "mx.desk.test; dkim=pass header.d=evil.test"})
    assert not authn.check(other, "carol@example.com").authenticated


def _above_the_signed_one(signed: bytes, header: bytes) -> bytes:
    """The mail with `header` put above everything else, as one added after signing would be:
    DKIM covers the last instance of a header, the parser reads the first."""
    return header + b"\r\n" + signed


@pytest.mark.parametrize(
    "added",
    [
        b"From: Carol <carol@example.com>",
        b"To: payouts@example.test",
        b"Subject: Please send my funds to bc1qattacker",
    ],
)
def test_a_header_added_above_the_signed_one_does_not_pass(key: Key, added: bytes) -> None:
    signed = key.sign(carols_mail())
    assert authn.check(signed, "carol@example.com").authenticated
    assert not authn.check(_above_the_signed_one(signed, added), "carol@example.com").authenticated


def test_a_header_signed_twice_over_may_appear_twice(key: Key) -> None:
    # Oversigning (h= naming a header more often than the mail has it) is how a signer seals it.
    raw = carols_mail().replace(b"\r\nTo: ", b"\r\nTo: desk@example.test\r\nTo: ", 1)
    headers = [b"from", b"from", b"to", b"to", b"to", b"subject", b"subject"]
    assert authn.check(key.sign(raw, headers), "carol@example.com").authenticated


SUBJECT = (b"Please reset my 2FA", b"Change my withdrawal address")
TO = (b"To: support@example.test", b"To: payouts@example.test")


@pytest.mark.parametrize(
    ("headers", "rewrite"),
    [([b"from"], SUBJECT), ([b"from", b"to"], SUBJECT), ([b"from", b"subject"], TO)],
)
def test_a_signature_that_leaves_to_or_subject_unsigned_does_not_authenticate(
    key: Key, headers: list[bytes], rewrite: tuple[bytes, bytes]
) -> None:
    rewritten = key.sign(carols_mail(), headers).replace(*rewrite)
    assert rewrite[1] in rewritten
    assert dkim.verify(rewritten, dnsfunc=key.dnsfunc)  # still valid: it never covered that header
    assert not authn.check(rewritten, "carol@example.com").authenticated


def test_a_signature_with_a_body_length_does_not_cover_what_is_appended(key: Key) -> None:
    signed = key.sign(carols_mail(), length=True)
    appended = signed + b"\r\nP.S. also send everything to bc1qattacker\r\n"
    assert dkim.verify(appended, dnsfunc=key.dnsfunc)  # valid: l= stops before the P.S.
    assert not authn.check(appended, "carol@example.com").authenticated


def test_a_subject_added_to_carols_signed_mail_does_not_open_a_ticket_as_hers(key: Key, carol: Any) -> None:
    own = actions.create_ticket(NewTicket(subject="mine", body="b", user=carol))
    replayed = _above_the_signed_one(key.sign(carols_mail()), b"Subject: Send my funds to bc1qattacker")
    ticket = Ticket.objects.select_related("contact").get(reference=ingest(replayed).ticket_reference)
    assert ticket.subject == "Send my funds to bc1qattacker"
    assert ticket.contact_id != own.contact_id and ticket.contact.user_id is None


# --- what ingest does with it -----------------------------------------------------------------


def test_unauthenticated_mail_claiming_carols_address_is_a_guests(key: Key, carol: Any) -> None:
    own = actions.create_ticket(NewTicket(subject="mine", body="b", user=carol))
    result = ingest(carols_mail())
    ticket = Ticket.objects.select_related("contact").get(reference=result.ticket_reference)
    assert ticket.contact_id != own.contact_id
    assert ticket.contact.user_id is None and ticket.contact.proof == ""


def test_authenticated_mail_from_carol_is_carols(key: Key, carol: Any) -> None:
    own = actions.create_ticket(NewTicket(subject="mine", body="b", user=carol))
    result = ingest(key.sign(carols_mail()))
    ticket = Ticket.objects.select_related("contact").get(reference=result.ticket_reference)
    assert ticket.contact_id == own.contact_id and ticket.contact.user == carol
    # The same in a batch (the poller's path), several authenticated senders at once.
    results = ingest_many(
        [key.sign(carols_mail(f"b{i}@example.com")) for i in range(3)] + [carols_mail("u@x")]
    )
    contacts = [Ticket.objects.get(reference=r.ticket_reference).contact_id for r in results]
    assert contacts[:3] == [own.contact_id] * 3 and contacts[3] != own.contact_id


def _carols_ticket_with_a_sent_mail(carol: Any) -> tuple[Ticket, str]:
    ticket = actions.create_ticket(NewTicket(subject="Locked", body="please unlock", user=carol))
    sent = "reply-1@desk.test"
    OutboundEmail.objects.create(
        ticket=ticket,
        to_address="carol@example.com",
        message_id_header=sent,
        kind="reply",
        subject=f"[{ticket.reference}] Locked",
        state=OutboundEmail.State.SENT,
    )
    return ticket, sent


@pytest.mark.parametrize("batch", [False, True], ids=["one", "batch"])
def test_a_forged_reply_to_carols_ticket_does_not_write_on_it(key: Key, carol: Any, batch: bool) -> None:
    ticket, sent = _carols_ticket_with_a_sent_mail(carol)
    forged = carols_mail("f1@example.com", in_reply_to=sent, body="Also change my email to eve@evil.test")
    result = ingest_many([forged])[0] if batch else ingest(forged)
    assert result.ticket_reference != ticket.reference
    assert not Message.objects.filter(ticket=ticket, body__contains="eve@evil.test").exists()
    opened = Ticket.objects.select_related("contact").get(reference=result.ticket_reference)
    assert opened.follow_up_of_id == ticket.pk and opened.contact.user_id is None
    # carol's own (signed) reply is added to her ticket as before.
    genuine = key.sign(carols_mail("g1@example.com", in_reply_to=sent, body="Thanks, it works now"))
    result = ingest_many([genuine])[0] if batch else ingest(genuine)
    assert result.ticket_reference == ticket.reference


def test_replies_to_a_guests_ticket_still_thread(key: Key) -> None:
    first = ingest(make_mail("g0@example.cn"))
    reply = ingest(make_mail("g1@example.cn", in_reply_to="g0@example.cn", body="more"))
    assert reply.ticket_reference == first.ticket_reference
