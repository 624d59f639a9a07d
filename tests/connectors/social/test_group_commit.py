"""Webhook pushes through the real ASGI handler: each answered only after its rows committed,
the waiting pushes of a web process committed together (social.intake), each stored once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpResponse

from tests import asgi
from tests.conftest import ensure_seed_data
from walletdesk.connectors.social import inbound, intake
from walletdesk.connectors.social.base import Inbound
from walletdesk.connectors.social.models import SocialAccount, SocialInbound
from walletdesk.tickets.models import Message, Ticket

SECRET = "group-commit-secret_0123456789"
BOT = "654321:XYZ-group-commit-bot"


def _update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": user_id, "is_bot": False, "first_name": "Wei", "language_code": "zh-hans"},
            "chat": {"id": user_id, "type": "private"},
            "date": 1765000000,
            "text": text,
        },
    }


async def _asgi_push(body: dict[str, Any], secret: str) -> tuple[int, bytes]:
    headers = [(b"content-type", b"application/json"), (b"x-telegram-bot-api-secret-token", secret.encode())]
    status, _headers, answer = await asgi.request(
        "POST", "/hooks/telegram/main", json.dumps(body).encode(), headers, client=("149.154.167.220", 443)
    )
    return status, answer


@pytest.fixture
def bot(transactional_db: None) -> SocialAccount:
    ensure_seed_data()
    # api_base nowhere: the acknowledgements fail and are retried later, which is not tested here.
    call_command(
        "connect", "telegram", "--slug", "main", "--set", f"bot_token={BOT}", "--set",
        f"secret_token={SECRET}", "--set", "api_base=http://127.0.0.1:9",
    )  # fmt: skip
    return SocialAccount.objects.get(provider="telegram", slug="main")


def test_a_burst_through_the_server_is_stored_once_and_answered_after_its_commit(bot: SocialAccount) -> None:
    pushes = [_update(100 + n, 7000 + n % 4, f"我的转账没有到账 {n}") for n in range(12)]
    replays = pushes[:3]
    forged = _update(999, 7999, "forged")

    async def all_at_once() -> list[tuple[int, bytes]]:
        return await asyncio.gather(
            *(_asgi_push(p, SECRET) for p in [*pushes, *replays]), _asgi_push(forged, SECRET + "x")
        )

    answers = asyncio.run(all_at_once())
    *good, refused = answers
    assert refused[0] == 403
    assert [status for status, _body in good] == [200] * 15
    # Answered after the commit: this thread's own connection sees every row, once.
    rows = SocialInbound.objects.filter(account=bot)
    assert sorted(rows.values_list("provider_id", flat=True)) == sorted(str(100 + n) for n in range(12))
    assert not rows.filter(provider_id="999").exists()
    # The processing task (inline in tests) made one ticket per person, each message once.
    stored = Message.objects.filter(channel="telegram")
    assert stored.count() == 12
    assert len(set(stored.values_list("body", flat=True))) == 12
    assert Ticket.objects.filter(channel="telegram").count() == 4


def _item(account: SocialAccount, n: int, text: str) -> intake.Item:
    from concurrent.futures import Future

    rows = inbound.prepare(account, [Inbound(provider_id=f"p{n}", sender_id=f"u{n}", text=text)])
    return rows, lambda: HttpResponse("ok"), Future()


def test_a_failed_batch_is_stored_push_by_push_and_only_the_bad_push_fails(
    bot: SocialAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_store = inbound.store
    calls: list[int] = []

    def store(pushes: Any) -> Any:
        # A batch that cannot commit (as a database error would), and one push that never can.
        calls.append(len(pushes))
        if len(pushes) > 1 or any(row.text == "poison" for rows in pushes for row in rows):
            with transaction.atomic():  # its inserts happen, then the transaction rolls back
                real_store(pushes)
                raise RuntimeError("disk I/O error")
        return real_store(pushes)

    monkeypatch.setattr(inbound, "store", store)
    monkeypatch.setattr(
        "walletdesk.connectors.social.inbound.queue.enqueue_named", lambda *a, **k: None
    )  # processing is not what this test is about
    batch = [_item(bot, 1, "first"), _item(bot, 2, "poison"), _item(bot, 3, "third")]
    assert not connection.in_atomic_block
    errors = intake._write(batch)
    assert calls == [3, 1, 1, 1]
    assert errors[0] is None and errors[2] is None
    assert isinstance(errors[1], RuntimeError)
    # The others are stored once each; nothing of the failed push, nor of the failed batch.
    assert sorted(SocialInbound.objects.values_list("provider_id", flat=True)) == ["p1", "p3"]
