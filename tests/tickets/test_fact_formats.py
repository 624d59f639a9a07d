"""Facts are checked by format, secrets anywhere in a ticket are screened, and a ticket where the
customer shared a secret goes to the Security desk at high priority with a banner (issue 16)."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from itertools import pairwise
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from mnemonic import Mnemonic

from walletdesk.connectors.inapp.models import AppKey
from walletdesk.shield.checksums import base58check_encode
from walletdesk.tickets import access, actions
from walletdesk.tickets import facts as F
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.files import check_file
from walletdesk.tickets.models import Contact, ContactIdentity, Message, Ticket, TicketEvent

PHRASE = Mnemonic("english").generate(128)
ZH_PHRASE = Mnemonic("chinese_simplified").generate(256)
KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WIF = base58check_encode(b"\x80" + bytes.fromhex(KEY) + b"\x01")
EVM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TX = "0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b"


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (2, 2), "red").save(out, format="PNG")
    return out.getvalue()


# --- formats (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "stored"),
    [
        ({"wallet_address": EVM}, EVM),
        ({"wallet_address": EVM.lower()}, EVM.lower()),  # no checksum in one case
        ({"wallet_address": "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW", "chain": "TRC20"}, None),
        ({"wallet_address": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"}, None),
        ({"wallet_address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "chain": "比特币"}, None),
        ({"wallet_address": "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"}, None),
        ({"wallet_address": "7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV", "chain": "Solana"}, None),
        ({"wallet_address": "EQDtFpEwcFAEcRe5mLVh2N6C0x-_hJEM7W61_JLnSF74p4q2", "chain": "TON"}, None),
        ({"tx_hash": TX}, TX),
        ({"tx_hash": TX[2:], "chain": "TRON"}, TX[2:]),
        ({"tx_hash": TX[2:], "wallet_address": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"}, TX[2:]),
        ({"tx_hash": f"https://etherscan.io/tx/{TX}"}, TX),
    ],
)
def test_well_formed_facts_are_accepted(facts: dict[str, str], stored: str | None) -> None:
    checked = F.check(facts)
    name = "tx_hash" if "tx_hash" in facts else "wallet_address"
    assert checked.values[name] == (stored or facts[name])


@pytest.mark.parametrize(
    ("facts", "field", "code"),
    [
        ({"wallet_address": EVM[:-1]}, "wallet_address", "invalid_address"),
        ({"wallet_address": EVM.replace("aA", "Aa")}, "wallet_address", "invalid_address"),  # EIP-55
        ({"wallet_address": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"}, "wallet_address", "invalid_address"),
        ({"wallet_address": "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMX"}, "wallet_address", "invalid_address"),
        ({"wallet_address": EVM, "chain": "TRON"}, "wallet_address", "invalid_address"),
        ({"wallet_address": "hello"}, "wallet_address", "invalid_address"),
        ({"tx_hash": TX[:-1]}, "tx_hash", "invalid_tx_hash"),
        # A bare 64-digit hex where a 0x hash belongs: refused; the shield takes it for a key.
        ({"tx_hash": TX[2:], "chain": "Ethereum"}, "tx_hash", "secret_in_field"),
        ({"tx_hash": TX[2:]}, "tx_hash", "secret_in_field"),
        ({"tx_hash": "pending"}, "tx_hash", "invalid_tx_hash"),
    ],
)
def test_malformed_facts_are_refused_on_their_field(facts: dict[str, str], field: str, code: str) -> None:
    with pytest.raises(F.FactError) as err:
        F.check(facts)
    assert (err.value.field, err.value.code) == (field, code)


@pytest.mark.parametrize("secret", [PHRASE, ZH_PHRASE, KEY, WIF])
@pytest.mark.parametrize("field", ["wallet_address", "tx_hash"])
def test_a_secret_in_a_structured_fact_is_refused_and_not_echoed(secret: str, field: str) -> None:
    with pytest.raises(F.FactError) as err:
        F.check({field: secret, "chain": "Ethereum"})
    assert err.value.code == "secret_in_field" and err.value.field == field
    assert secret[:16] not in str(err.value)
    # No two of its words in a row either. One word alone proves nothing: the message itself says
    # "never share it", and "share" is a BIP39 word (a random phrase began with it in CI).
    words = secret.split()
    for first, second in pairwise(words):
        assert f"{first} {second}" not in err.value.message, (first, second)


@pytest.mark.parametrize("field", ["account", "error_code", "device", "os", "app_version", "chain"])
def test_a_secret_in_a_free_text_fact_becomes_a_placeholder(field: str) -> None:
    value = (
        WIF
        if field in ("os",)
        else ("".join(ZH_PHRASE.split()) if field in ("app_version", "chain") else KEY)
    )
    checked = F.check({field: f"{value}"})
    # The placeholder follows the value's language: "[…removed]" or its Chinese.
    assert value not in checked.values[field] and checked.values[field].startswith("[")
    assert checked.secrets and checked.secrets[0][0] == field


def test_eip55_agrees_with_eth_utils() -> None:
    from eth_utils import to_checksum_address

    for _ in range(200):
        address = to_checksum_address("0x" + secrets.token_hex(20))
        assert F.evm_checksum_ok(address)
        flipped = address[:2] + address[2:].swapcase()
        if flipped[2:] not in (flipped[2:].lower(), flipped[2:].upper()):
            assert not F.evm_checksum_ok(flipped)


def test_short_values_skip_the_scan_but_a_wif_does_not() -> None:
    from walletdesk.tickets.screening import MIN_ASCII_SECRET_CHARS, could_hold_secret

    assert not could_hold_secret("iPhone 15 Pro Max")
    assert could_hold_secret(WIF) and len(WIF) >= MIN_ASCII_SECRET_CHARS
    assert could_hold_secret("".join(ZH_PHRASE.split()[:12]))
    # The cut-off is the shortest English phrase: 12 three-letter words and 11 separators.
    english = Mnemonic("english").wordlist
    assert 12 * min(len(w) for w in english) + 11 == MIN_ASCII_SECRET_CHARS


@pytest.mark.parametrize(
    "name", [f"{PHRASE}.png", f"{PHRASE.replace(' ', '_')}.jpg", f"my key {KEY}.png", f"{WIF}.PNG"]
)
def test_a_file_name_with_a_secret_becomes_a_neutral_name(name: str, settings: Any) -> None:
    checked = check_file(name, _png())
    assert checked.filename == "attachment.png" and checked.secret_kinds
    from walletdesk.tickets.files import RejectedFile

    with pytest.raises(RejectedFile) as err:
        check_file(name, b"MZ not a picture")
    assert err.value.name == "attachment" and "attachment" in err.value.message
    assert PHRASE.split()[3] not in err.value.message.split() and KEY not in err.value.message


# --- through the actions, the API, the form -------------------------------------------------


@pytest.mark.django_db
def test_a_secret_in_a_fact_sends_the_ticket_to_the_security_desk(
    seeded: None, bob: Any, as_user: Any
) -> None:
    ticket = actions.create_ticket(
        NewTicket(
            subject="App crashes",
            body="It crashes when I open it.",
            email="v@example.com",
            name=f"Li {PHRASE}",
            category="login_locked",  # General support, normal priority
            facts={"account": "v@example.com", "device": KEY},
        )
    )
    assert (ticket.team.slug, ticket.priority) == ("security", "high")  # type: ignore[union-attr]
    assert KEY not in ticket.device and "secret-removed" in ticket.tags
    assert "Security desk" in ticket.triage["secret"]
    event = TicketEvent.objects.get(ticket=ticket, kind="secret_removed")
    assert set(event.data["where"]) == {"facts.device", "name"} and "compromised" in event.data["why"]
    assert PHRASE.split()[4] not in Contact.objects.get(pk=ticket.contact_id).name.split()
    # The agent sees the banner, in both languages.
    page = as_user(bob).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert "treat the wallet as compromised" in page
    page = as_user(bob).get(f"/agent/tickets/{ticket.reference}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert "视为已泄露" in page.decode()


@pytest.mark.django_db
def test_urgent_stays_urgent_and_a_reply_with_a_secret_escalates(seeded: None) -> None:
    stolen = actions.create_ticket(
        NewTicket(subject="stolen", body=PHRASE, email="v@example.com", category="account_stolen")
    )
    assert stolen.priority == "urgent"
    plain = actions.create_ticket(NewTicket(subject="fees", body="why so high", email="w@example.com"))
    assert plain.priority in ("low", "normal") and "secret-removed" not in plain.tags
    actions.add_customer_message(plain, f"here: {WIF}", channel="web")
    plain.refresh_from_db()
    assert (plain.team.slug, plain.priority) == ("security", "high")  # type: ignore[union-attr]
    event = TicketEvent.objects.get(ticket=plain, kind="secret_removed")
    assert event.data["priority"]["new"] == "high" and "why" in event.data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fact", "value"),
    [("wallet_address", WIF), ("tx_hash", KEY), ("wallet_address", PHRASE), ("wallet_address", "0x12")],
)
def test_the_api_answers_422_without_echoing(seeded: None, fact: str, value: str) -> None:
    body = {"email": "v@example.com", "subject": "s", "body": "b", "chain": "Ethereum", fact: value}
    response = Client().post("/api/v1/tickets", json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["field"] == fact and answer["code"] in (
        "secret_in_field",
        "invalid_address",
        "invalid_tx_hash",
    )
    assert value[:12] not in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_an_email_address_holding_a_key_is_refused(seeded: None) -> None:
    body = {"email": f"{KEY}@example.com", "subject": "s", "body": "b"}
    response = Client().post("/api/v1/tickets", json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and response.json()["field"] == "email"
    assert KEY[:16] not in response.content.decode() and not Contact.objects.exists()


@pytest.mark.django_db
def test_the_form_shows_errors_without_writing_the_secret_back(seeded: None) -> None:
    client = Client()
    response = client.post(
        "/new/?category=account_stolen",
        {
            "category": "account_stolen",
            "email": "v@example.com",
            "subject": f"help {PHRASE}",
            "body": f"my words: {PHRASE}",
            "account": "v@example.com",
            "wallet_address": WIF,
            "chain": "Ethereum",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Ticket.objects.exists()
    assert "助记词或私钥" in page  # the field's error, in the customer's language
    assert WIF[:16] not in page
    assert " ".join(PHRASE.split()[:4]) not in page


@pytest.mark.django_db
def test_inapp_ids_holding_a_secret_are_refused(seeded: None) -> None:
    key = AppKey.issue("wallet")[1]
    new = {"message_id": "m-1", "subject": "s", "body": "b"}
    for user, message_id in ((WIF, "m-1"), (PHRASE, "m-1"), ("u-1", KEY)):
        response = Client().post(
            "/api/v1/inapp/tickets",
            json.dumps({**new, "message_id": message_id}),
            content_type="application/json",
            headers={"X-App-Key": key, "X-App-User": user},
        )
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "secret_in_field"
        assert KEY[:16] not in response.content.decode() and WIF[:16] not in response.content.decode()
    assert not ContactIdentity.objects.exists() and not Message.objects.exists()


# --- logs and the database file -------------------------------------------------------------


@pytest.mark.django_db
def test_a_404_path_with_a_phrase_is_logged_without_it(caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    Client().get(f"/nothing-here/{quote(PHRASE)}/")
    Client().get(f"/nothing-here/{PHRASE.replace(' ', '/')}/")
    logging.getLogger("uvicorn.access").warning('"GET /x/%s HTTP/1.1" 404', quote(PHRASE))
    text = caplog.text
    assert "Not Found: /nothing-here/" in text and "GET /x/" in text  # logged, screened
    for i in range(len(PHRASE.split()) - 3):
        run = PHRASE.split()[i : i + 4]
        assert " ".join(run) not in text and "/".join(run) not in text and "%20".join(run) not in text


def test_a_traceback_holding_a_key_is_screened(caplog: Any) -> None:
    try:
        raise ValueError(f"bad value {KEY}")
    except ValueError:
        logging.getLogger("walletdesk.test").exception("failed")
    assert "failed" in caplog.text and KEY not in caplog.text and "ValueError" in caplog.text


@pytest.mark.django_db
def test_sqlite_overwrites_what_is_deleted() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("secure_delete is a SQLite pragma")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1


def test_random_keys_are_not_mistaken_for_hashes() -> None:
    # The random 64-hex key a customer pastes as an Ethereum "hash" without 0x is refused.
    key = secrets.token_hex(32)
    with pytest.raises(F.FactError):
        F.check({"tx_hash": key, "chain": "ETH"})


@pytest.mark.django_db
def test_mail_subject_sender_name_file_names_and_message_id_are_screened(seeded: None) -> None:
    from tests.email.test_ingest import make_mail
    from walletdesk.connectors.email import ingest
    from walletdesk.connectors.email.models import InboundEmail

    quarantined = ingest(make_mail(f"q-{WIF}@x.cn", subject=f"lost {PHRASE}", sender=""))
    assert quarantined.outcome == "quarantined"
    row = InboundEmail.objects.get()
    assert PHRASE not in row.subject and row.subject.startswith("lost [") and WIF not in row.key
    raw = make_mail(
        f"{WIF}@x.cn",
        subject="placeholder",
        sender=f'"{PHRASE}" <li@example.cn>',
        attachments=[(f"{KEY}.png", _png(), "image/png"), (f"{PHRASE}.txt", b"text", "text/plain")],
    )
    # One encoded word, as mail clients write it: Python's own folding drops the space between
    # two encoded words (RFC 2047 ignores it), gluing two phrase words together.
    subject = base64.b64encode(f"求助 {ZH_PHRASE}".encode()).decode()
    created = ingest(raw.replace(b"Subject: placeholder", f"Subject: =?utf-8?b?{subject}?=".encode()))
    assert created.outcome == "created", created
    ticket = Ticket.objects.get(reference=created.ticket_reference)
    stored = json.dumps(
        [
            ticket.subject,
            Contact.objects.get(pk=ticket.contact_id).name,
            [a.filename for m in ticket.messages.all() for a in m.attachments.all()],
            [m.body for m in ticket.messages.all()],
            [e.data for e in TicketEvent.objects.filter(ticket=ticket)],
            list(InboundEmail.objects.values_list("key", "subject")),
        ],
        ensure_ascii=False,
    )
    for secret in (WIF, KEY, " ".join(PHRASE.split()[:4]), " ".join(ZH_PHRASE.split()[:4])):
        assert secret not in stored, stored
    assert "attachment" in stored and ticket.team.slug == "security"  # type: ignore[union-attr]
    where = TicketEvent.objects.get(ticket=ticket, kind="secret_removed").data["where"]
    assert {"subject", "name", "attachment name"} <= set(where)


@pytest.mark.django_db
def test_a_secret_in_a_reply_takes_the_ticket_from_an_agent_outside_the_security_desk(
    seeded: None, alice: Any, bob: Any
) -> None:
    # alice (General support) has the ticket; the customer then pastes a key. The ticket goes
    # to the Security desk, a restricted team alice cannot open: it must not stay hers.
    ticket = actions.create_ticket(
        NewTicket(subject="App crashes", body="It crashes.", email="v@example.com", category="login_locked")
    )
    actions.assign(ticket, alice, actor=alice)
    actions.add_customer_message(ticket, f"here: {WIF}", channel="web")
    ticket.refresh_from_db()
    assert ticket.team.slug == "security" and ticket.assignee_id != alice.pk  # type: ignore[union-attr]
    assert not access.agent_can_see(alice, ticket) and access.agent_can_see(bob, ticket)
    event = TicketEvent.objects.get(ticket=ticket, kind="secret_removed")
    assert event.data["assignee"]["old"] == alice.pk


@pytest.mark.django_db
def test_a_secret_in_a_reply_leaves_a_security_desk_agent_assigned(seeded: None, bob: Any) -> None:
    ticket = actions.create_ticket(
        NewTicket(subject="App crashes", body="It crashes.", email="v@example.com", category="login_locked")
    )
    actions.assign(ticket, bob, actor=bob)
    actions.add_customer_message(ticket, f"here: {WIF}", channel="web")
    ticket.refresh_from_db()
    assert ticket.team.slug == "security" and ticket.assignee_id == bob.pk  # type: ignore[union-attr]
