"""What every social provider shares, through Telegram (the simplest provider): the `connect`
command, keys encrypted at rest and write-only in the admin, the outbox (solved notice, survey,
permanent failures, a send left hanging by a dead worker), follow-ups after a closed ticket,
the acknowledgement of an impersonation report, and who may see the logs."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.connectors.standin import StandIn
from tests.connectors.telegram.test_webhook import BOT, SECRET, push, update
from walletdesk.connectors.social import outbound
from walletdesk.connectors.social.models import SocialAccount, SocialOutbound
from walletdesk.tickets import actions
from walletdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db
SEND = f"/bot{BOT}/sendMessage"


@pytest.fixture
def api() -> Any:
    with StandIn({SEND: (200, {"ok": True, "result": {"message_id": 1}})}) as server:
        yield server


@pytest.fixture
def bot(api: StandIn) -> SocialAccount:
    call_command(
        "connect",
        "telegram",
        "--slug",
        "main",
        "--set",
        f"bot_token={BOT}",
        "--set",
        f"secret_token={SECRET}",
        "--set",
        f"api_base={api.base_url}",
        stdout=StringIO(),
    )
    return SocialAccount.objects.get(provider="telegram", slug="main")


def texts(api: StandIn, chat_id: str = "1001") -> list[str]:
    return [r.json()["text"] for r in api.requests_to(SEND) if r.json()["chat_id"] == chat_id]


# --- connect ----------------------------------------------------------------------------------


def test_connect_prints_the_hook_and_never_a_secret(api: StandIn) -> None:
    out = StringIO()
    call_command(
        "connect",
        "telegram",
        "--slug",
        "cn-bot",
        "--set",
        f"bot_token={BOT}",
        "--set",
        f"secret_token={SECRET}",
        stdout=out,
    )
    printed = out.getvalue()
    assert "/hooks/telegram/cn-bot" in printed
    assert BOT not in printed and SECRET not in printed
    # Keys are encrypted at rest: the raw column holds neither.
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM social_socialaccount")
        raw = bytes(cursor.fetchone()[0])
    assert BOT.encode() not in raw and SECRET.encode() not in raw


def test_connect_updates_only_the_keys_given(bot: SocialAccount) -> None:
    call_command(
        "connect", "telegram", "--slug", "main", "--set", "secret_token=rotated-secret-123", stdout=StringIO()
    )
    bot.refresh_from_db()
    keys = SocialAccount.objects.get(pk=bot.pk).credentials()
    assert keys["secret_token"] == "rotated-secret-123" and keys["bot_token"] == BOT
    assert SocialAccount.objects.count() == 1


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["facebook", "--slug", "a", "--set", "x=y"], "unknown provider"),
        (["telegram", "--slug", "a", "--set", "bot_token=1"], "needs secret_token"),
        (
            [
                "telegram",
                "--slug",
                "a",
                "--set",
                "bot_token=1",
                "--set",
                "secret_token=2",
                "--set",
                "colour=red",
            ],
            "no key 'colour'",
        ),
        (["telegram", "--slug", "Not A Slug", "--set", "bot_token=1", "--set", "secret_token=2"], "slug"),
        (["telegram", "--slug", "a", "--set", "bot_token"], "KEY=VALUE"),
        (["wechat", "--slug", "a"], "unknown provider"),  # until the WeChat app is installed, said plainly
    ],
)
def test_connect_refuses_with_a_reason(argv: list[str], complaint: str) -> None:
    from walletdesk.connectors.social.base import adapter_for

    if argv[0] == "wechat" and adapter_for("wechat") is not None:
        argv = ["wechat", "--slug", "a", "--set", "token=t"]
        complaint = "needs"
    with pytest.raises(CommandError, match=complaint):
        call_command("connect", *argv, stdout=StringIO())
    assert not SocialAccount.objects.filter(slug="a").exists()


# --- admin ------------------------------------------------------------------------------------


def test_the_admin_never_shows_a_key_and_only_admins_see_the_logs(
    bot: SocialAccount, client: Client, as_user: Any, root: Any, alice: Any, carol: Any
) -> None:
    page = as_user(root).get(f"/admin/social/socialaccount/{bot.pk}/change/").content.decode()
    assert "bot_token" not in page or BOT not in page
    assert BOT not in page and SECRET not in page
    assert as_user(root).get("/admin/social/socialinbound/").status_code == 200
    for person in (alice, carol):
        assert as_user(person).get("/admin/social/socialinbound/").status_code in (302, 403)
        assert as_user(person).get("/admin/social/socialoutbound/").status_code in (302, 403)
    assert Client().get("/admin/social/socialaccount/").status_code == 302


def test_the_admin_changes_one_key_and_keeps_the_others(bot: SocialAccount, as_user: Any, root: Any) -> None:
    answer = as_user(root).post(
        f"/admin/social/socialaccount/{bot.pk}/change/",
        {
            "provider": "telegram",
            "slug": "main",
            "name": "Bot",
            "active": "on",
            "language": "en",
            "keys": "secret_token=from-the-admin-42",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[-1500:]
    keys = SocialAccount.objects.get(pk=bot.pk).credentials()
    assert keys["secret_token"] == "from-the-admin-42" and keys["bot_token"] == BOT


# --- the outbox -------------------------------------------------------------------------------


def test_solved_notice_and_survey_reach_the_chat(
    client: Client, bot: SocialAccount, api: StandIn, alice: Any
) -> None:
    from walletdesk.sla.csat import send_survey

    push(client, update(1, 1001, "I forgot my wallet password"))
    ticket = Ticket.objects.get(channel="telegram")
    actions.add_agent_message(
        ticket, "Use your recovery phrase in the app to reset it; never share it.", agent=alice
    )
    actions.change_status(ticket, "solved", actor=alice)
    assert any("solved" in t.lower() or "解决" in t for t in texts(api))
    send_survey.call(ticket_id=ticket.pk)
    survey = texts(api)[-1]
    assert (
        ticket.reference in survey
        and "/satisfaction/" in survey
        and "?r=good" in survey
        and "?r=bad" in survey
    )


def test_a_permanent_refusal_tells_the_agent(
    client: Client, bot: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, update(1, 1001, "hello, my swap failed"))
    ticket = Ticket.objects.get(channel="telegram")
    api.routes[SEND] = (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    actions.add_agent_message(ticket, "Could you send a screenshot?", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "failed" and "blocked" in row.last_error
    ticket.refresh_from_db()
    assert any(f.get("code") == "social_undelivered" for f in ticket.flags)
    note = ticket.messages.filter(visibility="internal").last()
    assert note is not None and "blocked" in note.body


def test_a_send_left_hanging_by_a_dead_worker_is_sent_by_the_sweep(
    client: Client, bot: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, update(1, 1001, "hello, my swap failed"))
    ticket = Ticket.objects.get(channel="telegram")
    message = actions.add_agent_message(ticket, "Looking into it.", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    # As a worker killed mid-send leaves it: "sending", lease run out.
    SocialOutbound.objects.filter(pk=row.pk).update(
        state="sending", lease_until=timezone.now() - timedelta(seconds=1)
    )
    before = len(texts(api))
    assert outbound.recover_stalled() == "stalled=1"
    row.refresh_from_db()
    assert row.state == "sent" and len(texts(api)) == before + 1
    assert texts(api)[-1] == message.body
    # Run again (a second sweep, a repeated task): nothing more is sent.
    assert outbound.recover_stalled() == "stalled=0"
    assert outbound.send_notification(ticket, "reply", message) == "already_sent"
    assert len(texts(api)) == before + 1


def test_after_a_closed_ticket_the_next_message_opens_a_follow_up(
    client: Client, bot: SocialAccount, alice: Any
) -> None:
    push(client, update(1, 1001, "first problem with my wallet"))
    first = Ticket.objects.get(channel="telegram")
    actions.change_status(first, "closed", actor=alice)
    push(client, update(2, 1001, "a new problem with my wallet"))
    second = Ticket.objects.exclude(pk=first.pk).get(channel="telegram")
    assert second.follow_up_of_id == first.pk and second.contact_id == first.contact_id
    # While it is open, more messages thread onto it.
    push(client, update(3, 1001, "more details"))
    assert Ticket.objects.filter(channel="telegram").count() == 2
    assert second.messages.count() == 2


def test_a_report_of_fake_support_is_answered_with_the_official_contacts(
    client: Client, bot: SocialAccount, api: StandIn
) -> None:
    push(
        client,
        update(
            1,
            1001,
            "A Telegram account called imToken Support asked me to pay a 50 USDT fee to unlock "
            "my wallet. Is this a scam? Their link was imtoken-unlock.help",
        ),
    )
    ticket = Ticket.objects.get(channel="telegram")
    ack = texts(api)[0]
    assert ticket.reference in ack
    assert "/contact/" in ack, (ticket.category, ticket.flags, ack)


def test_a_web_ticket_without_email_still_gets_no_notification(api: StandIn, alice: Any, carol: Any) -> None:
    # channels.reaches: only senders that reach without an email are tried without one.
    from walletdesk.tickets.channels import reaches

    ticket = actions.create_ticket(actions.NewTicket(subject="s", body="b", user=carol))
    assert reaches(ticket)  # carol's account email
    assert not api.requests
    assert json.dumps(ticket.flags) == "[]"


def test_retry_after_as_seconds_or_an_http_date() -> None:
    from email.utils import format_datetime

    from walletdesk.core.retry import retry_after

    assert retry_after("7") == 7.0
    assert retry_after("") is None and retry_after("soon") is None
    assert retry_after("1.5") is None  # RFC 9110: delta-seconds are digits
    later = format_datetime(timezone.now() + timedelta(seconds=120), usegmt=True)
    assert 100 < (retry_after(later) or 0) <= 121
    assert retry_after("Wed, 21 Oct 2099 07:28:00") is None  # an HTTP date names GMT


def test_an_event_name_is_kept_only_as_the_providers_word(client: Client, bot: SocialAccount) -> None:
    from walletdesk.connectors.social.base import Inbound
    from walletdesk.connectors.social.inbound import accept

    rows = accept(
        bot,
        [
            Inbound(provider_id="e1", sender_id="1", kind="event", event="subscribe"),
            Inbound(provider_id="e2", sender_id="1", kind="event", event="<script>x</script>"),
        ],
    )
    assert [r.event for r in rows] == ["subscribe", "other"]


def test_a_picture_the_provider_cannot_send_is_named_in_the_text(
    client: Client, bot: SocialAccount, alice: Any
) -> None:
    from tests.connectors.telegram.test_webhook import _png
    from walletdesk.connectors.social.base import adapter_for
    from walletdesk.tickets.files import check_file

    push(client, update(1, 1001, "my screen shows an error"))
    ticket = Ticket.objects.get(channel="telegram")
    picture = check_file("steps.png", _png())
    message = actions.add_agent_message(ticket, "Follow these steps.", agent=alice, attachments=[picture])
    adapter = adapter_for("telegram")
    assert adapter is not None and adapter.sends_images
    assert "steps.png" not in outbound.compose(ticket, "reply", message)  # it goes as a photo
    type(adapter).sends_images = False
    try:
        assert "steps.png" in outbound.compose(ticket, "reply", message)
    finally:
        type(adapter).sends_images = True


def test_the_desk_shows_whether_each_answer_was_delivered(
    client: Client, bot: SocialAccount, api: StandIn, alice: Any, as_user: Any
) -> None:
    push(client, update(1, 1001, "hello, my swap failed"))
    ticket = Ticket.objects.get(channel="telegram")
    actions.add_agent_message(ticket, "First answer.", agent=alice)
    api.routes[SEND] = (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    actions.add_agent_message(ticket, "Second answer.", agent=alice)
    page = as_user(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert page.count('data-testid="delivery"') == 2
    assert "delivered</span>" in page and "bot was blocked by the user" in page


def test_the_desk_does_not_ask_a_social_customer_to_confirm_an_email(
    client: Client, bot: SocialAccount, alice: Any, as_user: Any
) -> None:
    push(client, update(1, 1001, "hello, my swap failed", language="en"))
    ticket = Ticket.objects.get(channel="telegram")
    page = as_user(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert "known only by their Telegram account (no email address)" in page
    assert 'data-testid="identity-unproven"' not in page  # "the requester only typed this address"
