"""The monitor on a real EVM over JSON-RPC (tests/chain/evm.py): an ERC-20 is deployed, the
victim pays a friend, approves a drainer without limit, is drained, and is poisoned with a
zero-value transfer from a lookalike of the friend. Each alert fires exactly once: on a second
pass, after a reorg that re-includes the same transactions, and after one that drops one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.chain.evm import UNLIMITED, Node
from walletdesk.chain import monitor, rules
from walletdesk.chain.models import ChainAlert, ChainCursor, ChainEvent, LinkChallenge, LinkedAddress

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_from_genesis")]

FRIEND = "0x1234aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5678"
LOOKALIKE = "0x1234bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb5678"


@pytest.fixture
def _from_genesis() -> Any:
    with override_settings(CHAIN_MONITOR_START_BACK=10**6):
        yield


def link(user: Any, address: str) -> LinkedAddress:
    # The signature path is tested in test_linking; here the link is the starting state.
    challenge = LinkChallenge.objects.create(
        user=user, address=address.lower(), nonce=address[-32:], message="-", expires_at="2100-01-01T00:00Z"
    )
    return LinkedAddress.objects.create(user=user, address=address.lower(), challenge=challenge)


def keys() -> list[tuple[str, str, int]]:
    return sorted(ChainAlert.objects.values_list("rule", "tx_hash", "log_index"))


def run(chain: Any, owner: str = "w1") -> list[monitor.Step]:
    return monitor.follow(chain, owner, budget_steps=100, max_blocks=7)


@pytest.fixture
def story(evm: Node, chain: Any, carol: Any) -> dict[str, Any]:
    victim, drainer, poisoner = evm.accounts[1], evm.accounts[2], evm.accounts[3]
    link(carol, victim)
    token = evm.deploy("TestToken", "Tether", "USDT", 6, 10**12)
    evm.send(token.functions.transfer(victim, 10**9), evm.accounts[0])
    paid = [
        evm.send(token.functions.transfer(evm.w3.to_checksum_address(FRIEND), 10**6), victim)
        for _ in range(3)
    ]
    approve = evm.send(token.functions.approve(drainer, UNLIMITED), victim)
    drain = evm.send(token.functions.transferFrom(victim, drainer, 10**9 - 3 * 10**6), drainer)
    return {
        "evm": evm,
        "token": token,
        "victim": victim,
        "poisoner": poisoner,
        "paid": paid,
        "approve": approve,
        "drain": drain,
    }


def poison(story: dict[str, Any]) -> str:
    evm, token = story["evm"], story["token"]
    call = token.functions.transferFrom(evm.w3.to_checksum_address(LOOKALIKE), story["victim"], 0)
    return evm.send(call, story["poisoner"])


def test_the_drain_and_the_poisoning_alert_once(story: dict[str, Any], chain: Any) -> None:
    poisoned = poison(story)
    run(chain)
    expected = sorted(
        [
            (rules.UNLIMITED_APPROVAL, story["approve"], 0),
            (rules.LARGE_OUTFLOW, story["drain"], 0),
            (rules.ADDRESS_POISONING, poisoned, 0),
        ]
    )
    assert keys() == expected
    alert = ChainAlert.objects.get(rule=rules.ADDRESS_POISONING)
    assert alert.params["lookalike_of"] == FRIEND and alert.address == story["victim"].lower()
    # Stored: 3 payments, the approval, the drain, the poison, the funding (all touch the victim).
    assert ChainEvent.objects.count() == 7
    cursor = ChainCursor.objects.get(chain=chain)
    assert cursor.block_number == story["evm"].block_number
    # A second pass (a restart from the stored cursor) finds nothing new and fires nothing.
    story["evm"].mine(2)
    run(chain, owner="w2")
    assert keys() == expected and ChainEvent.objects.count() == 7


def test_a_reorg_that_re_includes_the_poison_does_not_fire_it_twice(
    story: dict[str, Any], chain: Any
) -> None:
    evm = story["evm"]
    snap = evm.snapshot()
    poisoned = poison(story)
    run(chain)
    assert (rules.ADDRESS_POISONING, poisoned, 0) in keys()
    orphaned = ChainEvent.objects.get(tx_hash=poisoned).block_hash
    evm.revert(snap)
    evm.mine(1)  # another block at the poison's height
    again = poison(story)  # the same transaction, now one block later
    evm.mine(1)
    run(chain)
    assert again == poisoned
    event = ChainEvent.objects.get(tx_hash=poisoned)
    assert event.block_hash != orphaned
    assert [k for k in keys() if k[0] == rules.ADDRESS_POISONING] == [(rules.ADDRESS_POISONING, poisoned, 0)]
    assert ChainAlert.objects.count() == 3


def test_a_reorg_that_drops_a_transaction_deletes_its_event(story: dict[str, Any], chain: Any) -> None:
    evm = story["evm"]
    snap = evm.snapshot()
    poisoned = poison(story)
    run(chain)
    evm.revert(snap)
    evm.mine(3)  # a longer branch without the poison
    steps = run(chain)
    assert any(s.reorg_to is not None for s in steps)
    assert not ChainEvent.objects.filter(tx_hash=poisoned).exists()
    assert ChainCursor.objects.get(chain=chain).block_number == evm.block_number


def test_two_workers_never_follow_one_chain_at_once(story: dict[str, Any], chain: Any) -> None:
    assert monitor.claim(chain.pk, "w1")
    assert monitor.follow(chain, "w2") == []  # w1 holds the lease
    monitor.release(chain.pk, "w1")
    assert monitor.follow(chain, "w2")


def test_nothing_is_stored_for_addresses_nobody_linked(story: dict[str, Any], chain: Any) -> None:
    LinkedAddress.objects.all().delete()
    run(chain)
    assert not ChainEvent.objects.exists() and not ChainAlert.objects.exists()
    assert ChainCursor.objects.get(chain=chain).block_number == story["evm"].block_number


def test_alerts_open_one_urgent_security_ticket_and_mail_the_customer(
    story: dict[str, Any], chain: Any, carol: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from walletdesk.tickets.models import Ticket

    poison(story)
    with django_capture_on_commit_callbacks(execute=True):
        run(chain)
    assert ChainAlert.objects.filter(delivered_at__isnull=True).count() == 0
    tickets = list(Ticket.objects.filter(contact__user=carol))
    assert len(tickets) == 1  # three alerts, one open ticket, updated
    ticket = tickets[0]
    assert (ticket.team.slug, ticket.priority, ticket.category.slug) == (
        "security",
        "urgent",
        "unauthorised_tx",
    )
    assert ticket.wallet_address.lower() == story["victim"].lower()
    bodies = "\n".join(ticket.messages.values_list("body", flat=True))
    assert f"approve({story['evm'].accounts[2]}".lower() in bodies.lower()
    assert "recovery phrase" in bodies
    # Our own alert is not screened as a message pointing at an unlisted site.
    assert "explorer.example" not in bodies and ticket.flags == []
    alerts_mail = [m for m in mailoutbox if "On-chain alert" in m.body]
    assert len(alerts_mail) == 3 and all(m.to == [carol.email] for m in alerts_mail)
    assert any("approve(" in m.body and ", 0)" in m.body for m in alerts_mail)
    assert all("链上" in m.body for m in alerts_mail)  # bilingual: the other language under it
    # Delivering again (a duplicate task, the sweep) changes nothing.
    from walletdesk.chain import actions

    for alert in ChainAlert.objects.all():
        assert actions.deliver_alert(alert.pk) == []
    assert Ticket.objects.filter(contact__user=carol).count() == 1


def test_a_traditional_chinese_customers_alert_mail_is_in_traditional(
    story: dict[str, Any], chain: Any, carol: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from walletdesk.core.hant import to_hant

    carol.language = "zh-hant"
    carol.save(update_fields=["language"])
    poison(story)
    with django_capture_on_commit_callbacks(execute=True):
        run(chain)
    alerts_mail = [m for m in mailoutbox if "On-chain alert" in m.body]
    assert len(alerts_mail) == 3
    for message in alerts_mail:
        first = message.body.split("-" * 40)[0]
        assert "鏈上" in first and any("\u4e00" <= c <= "\u9fff" for c in message.subject), message.subject
        assert to_hant(first) == first and to_hant(message.subject) == message.subject
        assert "链上" not in message.body  # Traditional, then English: no Simplified part


def test_the_activity_page_shows_the_flags_to_the_owner_only(
    story: dict[str, Any], chain: Any, carol: Any, dave: Any, alice: Any
) -> None:
    from html import unescape

    from tests.conftest import client_for

    poisoned = poison(story)
    run(chain)
    page = client_for(carol).get("/account/addresses/activity/")
    assert page.status_code == 200
    html = unescape(page.content.decode())
    assert poisoned in html and "Address poisoning attempt" in html
    assert f"approve({story['evm'].accounts[2]}, 0)" in html
    # "Report this transaction" prefills the request form (GET, nothing filed).
    report = next(
        line.split('href="')[1].split('"')[0]
        for line in html.splitlines()
        if 'data-testid="report-tx"' in line and poisoned in line
    )
    form = unescape(client_for(carol).get(report).content.decode())
    assert poisoned in form and story["victim"] in form
    zh = client_for(carol)
    zh.cookies["django_language"] = "zh-hans"
    assert "地址投毒企图" in zh.get("/account/addresses/activity/").content.decode()
    # Another customer, a guest and an agent see none of it.
    other = client_for(dave).get("/account/addresses/activity/")
    assert other.status_code == 200 and poisoned not in other.content.decode()
    assert client_for(None).get("/account/addresses/activity/").status_code == 302
    assert client_for(alice).get("/account/addresses/activity/").status_code == 403


def test_the_activity_page_shows_token_amounts_with_the_tokens_decimals(
    story: dict[str, Any], chain: Any, carol: Any
) -> None:
    from html import unescape

    from tests.conftest import client_for

    evm, token = story["evm"], story["token"]
    # A token whose decimals() answers nonsense: its amount stays in raw units.
    liar = evm.deploy("LiarToken")
    evm.send(liar.functions.transfer(story["victim"], 5000), evm.accounts[0])
    run(chain)
    html = unescape(client_for(carol).get("/account/addresses/activity/").content.decode())
    short = token.address[:10] + "…"
    amounts = [
        line.split("</strong> · ", 1)[1].split("</p>")[0]
        for line in html.splitlines()
        if "</strong> · " in line
    ]
    # USDT has 6 decimals: the three payments of 10**6 read 1 USDT, the drain 997 USDT.
    assert amounts.count(f"1 USDT (token {short})") == 3, amounts
    assert f"997 USDT (token {short})" in amounts and f"1000 USDT (token {short})" in amounts
    assert "1000000" not in " ".join(amounts)
    assert f"5000 units of {liar.address[:10]}…" in amounts
    zh = client_for(carol)
    zh.cookies["django_language"] = "zh-hant"
    assert f"997 USDT（代幣 {short}）" in unescape(zh.get("/account/addresses/activity/").content.decode())


def test_a_transfer_to_an_address_on_an_imported_scam_list_alerts_with_the_list(
    story: dict[str, Any], chain: Any, tmp_path: Any
) -> None:
    from django.core.management import call_command

    evm, token = story["evm"], story["token"]
    scammer = evm.accounts[4]
    listed = tmp_path / "list.csv"
    listed.write_text(f"address,label\n{scammer},fake airdrop\n")
    call_command("import_address_list", str(listed), "--source", "scamsniffer")
    evm.send(token.functions.transfer(story["victim"], 10**6), evm.accounts[0])  # after the drain
    sent = evm.send(token.functions.transfer(scammer, 10**6), story["victim"])
    run(chain)
    assert (rules.SCAM_RECIPIENT, sent, 0) in keys()
    # An address on no list draws no such alert: the friend was paid three times.
    assert [k for k in keys() if k[0] == rules.SCAM_RECIPIENT] == [(rules.SCAM_RECIPIENT, sent, 0)]
