"""Telegram, through the real product: `walletdesk up` (web processes and the task worker) on an
empty data directory, a stand-in Bot API server on loopback, plain HTTP.

Two Telegram users write to the bot; each gets one ticket, threaded, and one acknowledgement
with its reference. A forged push is refused and stores nothing; a replayed one is stored
once. An agent of the General team lists them with `GET /api/v1/tickets?channel=telegram` and
answers through `POST /api/v1/tickets/{reference}/messages`: the answer reaches that user only.
When the second user pastes a recovery phrase, the ticket moves to the restricted Security
desk: the General agent can no longer read it, the Security agent can, and the phrase is
nowhere in the database file. Then the task worker is killed with `kill -9` while it is
sending, and a web process while pushes arrive: every message is stored exactly once, every
user is acknowledged.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.connectors.standin import Recorded, StandIn
from tests.servers import Walletdesk, walletdesk_up

BOT = "424242:AAE-stand-in-bot-token_xyz"
SECRET = "hook-secret_0123456789"
SEND = f"/bot{BOT}/sendMessage"
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"

SETUP = """
from walletdesk.accounts.models import User
from walletdesk.tickets.models import Team
for address, team in (("alice@desk.example.com", "general"), ("bob@desk.example.com", "security")):
    user = User.objects.create_user(email=address, password="correct horse battery staple 9")
    user.is_staff = True
    user.save()
    Team.objects.get(slug=team).members.add(user)
"""


class Bot:
    """The stand-in Bot API: answers sendMessage, optionally slowly (to be killed mid-send)."""

    def __init__(self) -> None:
        self.slow = threading.Event()
        self.sending = threading.Event()
        self.api = StandIn({SEND: self._send})

    def _send(self, request: Recorded) -> tuple[int, Any]:
        self.sending.set()
        if self.slow.is_set():
            time.sleep(4)
        return 200, {"ok": True, "result": {"message_id": len(self.api.requests)}}

    def sent_to(self, chat_id: int) -> list[str]:
        return [r.json()["text"] for r in self.api.requests_to(SEND) if r.json()["chat_id"] == str(chat_id)]


@pytest.fixture(scope="module")
def bot() -> Iterator[Bot]:
    found = Bot()
    with found.api:
        yield found


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory, bot: Bot) -> Iterator[Walletdesk]:
    def setup(server: Walletdesk) -> None:
        server.manage("migrate", "-v", "0")
        server.manage("shell", "-c", SETUP)
        server.manage(
            "connect",
            "telegram",
            "--slug",
            "support",
            "--set",
            f"bot_token={BOT}",
            "--set",
            f"secret_token={SECRET}",
            "--set",
            f"api_base={bot.api.base_url}",
        )

    env = {"HELPER_PROCESSES": "0", "SOCIAL_SENDING_LEASE_SECONDS": "3", "WORKER_SWEEP_SECONDS": "2"}
    with walletdesk_up(tmp_path_factory.mktemp("social"), workers=2, env=env, before_start=setup) as server:
        yield server
    assert "Internal Server Error" not in server.log(), server.log()[-4000:]


def token(up: Walletdesk, address: str) -> dict[str, str]:
    raw = up.manage("issue_api_token", address, "--name", "journey").strip().splitlines()[-1]
    return {"Authorization": f"Bearer {raw}"}


def push(up: Walletdesk, update_id: int, user: int, text: str, secret: str = SECRET) -> int:
    body = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": user, "is_bot": False, "first_name": f"User {user}", "language_code": "en"},
            "chat": {"id": user, "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }
    answer = requests.post(
        f"{up.base_url}/hooks/telegram/support",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        timeout=30,
    )
    return answer.status_code


def eventually(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {check}")
        time.sleep(0.2)


def rows(up: Walletdesk, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{up.db}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, args).fetchall()


def test_two_users_an_agent_and_the_wrong_agent(up: Walletdesk, bot: Bot) -> None:
    assert push(up, 1, 501, "My transfer has not arrived after two hours") == 200
    assert push(up, 2, 502, "The app says error 1003 when I swap") == 200
    assert push(up, 3, 501, "It was USDT on TRON") == 200
    assert push(up, 3, 501, "It was USDT on TRON") == 200  # Telegram's retry: stored once
    assert push(up, 4, 501, "forged", secret="not-the-secret") == 403
    acks = eventually(lambda: bot.sent_to(501) and bot.sent_to(502) and (bot.sent_to(501), bot.sent_to(502)))
    assert len(acks[0]) == 1 and len(acks[1]) == 1
    assert "WD-" in acks[0][0] and "free" in acks[0][0]

    alice, bob = token(up, "alice@desk.example.com"), token(up, "bob@desk.example.com")
    listed = eventually(
        lambda: (
            (
                r := requests.get(
                    f"{up.base_url}/api/v1/tickets?channel=telegram", headers=alice, timeout=30
                ).json()
            )["items"]
            and len(r["items"]) == 2
            and r
        )
    )
    assert {t["channel"] for t in listed["items"]} == {"telegram"}
    mine = {t["reference"] for t in listed["items"] if t["reference"] in acks[0][0]}
    assert len(mine) == 1
    reference = mine.pop()
    detail = requests.get(f"{up.base_url}/api/v1/tickets/{reference}", headers=alice, timeout=30).json()
    assert [m["body"] for m in detail["messages"]] == [
        "My transfer has not arrived after two hours",
        "It was USDT on TRON",
    ]
    assert rows(up, "select count(*) from tickets_message where body = 'forged'") == [(0,)]

    answer = requests.post(
        f"{up.base_url}/api/v1/tickets/{reference}/messages",
        json={"body": "Please send the transaction hash."},
        headers=alice,
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    eventually(lambda: "Please send the transaction hash." in bot.sent_to(501))
    assert "Please send the transaction hash." not in bot.sent_to(502)

    # User 502 pastes a recovery phrase: the ticket goes to the Security desk, out of Alice's sight.
    assert push(up, 5, 502, f"support asked for my words: {PHRASE}") == 200
    other = next(t["reference"] for t in listed["items"] if t["reference"] in acks[1][0])
    eventually(
        lambda: (
            requests.get(f"{up.base_url}/api/v1/tickets/{other}", headers=alice, timeout=30).status_code
            == 404
        )
    )
    seen = requests.get(f"{up.base_url}/api/v1/tickets/{other}", headers=bob, timeout=30).json()
    assert "sausage" not in json.dumps(seen) and "[recovery phrase removed]" in json.dumps(seen)
    for path in up.data_dir.glob("walletdesk.sqlite3*"):
        assert b"sausage worth" not in path.read_bytes(), path


def _worker_pid(up: Walletdesk) -> int:
    assert up.proc is not None
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            pgid = os.getpgid(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
        if pgid == up.proc.pid and b"db_worker" in argv:
            return int(cmdline.parent.name)
    raise AssertionError("no task worker found")


def _alive_worker(up: Walletdesk, killed: int) -> bool:
    try:
        return _worker_pid(up) != killed
    except AssertionError:
        return False


def _web_pids(up: Walletdesk) -> list[int]:
    assert up.proc is not None
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes()
            pgid = os.getpgid(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
        if pgid == up.proc.pid and b"walletdesk.core.serve" in argv:
            found.append(int(cmdline.parent.name))
    return sorted(found)


def test_kill_9_the_worker_mid_send_and_a_web_process_mid_burst(up: Walletdesk, bot: Bot) -> None:
    users = list(range(700, 712))
    bot.slow.set()
    bot.sending.clear()
    for n, user in enumerate(users):
        assert push(up, 1000 + n, user, f"crash test message from {user}") == 200
    assert bot.sending.wait(60), "the worker never started sending"
    killed = _worker_pid(up)
    os.kill(killed, signal.SIGKILL)  # `up` restarts it
    bot.slow.clear()
    eventually(lambda: _alive_worker(up, killed), timeout=60)

    # A web process dies while pushes arrive; Telegram retries what got no answer.
    pushes = [(2000 + n, user, f"second message from {user}") for n, user in enumerate(users)]
    serve = _web_pids(up)
    if len(serve) > 1:
        os.kill(serve[-1], signal.SIGKILL)  # a child web process; `core.serve` replaces it
    for update_id, user, text in pushes:
        eventually(lambda u=update_id, s=user, t=text: _retrying_push(up, u, s, t), timeout=60)
    for update_id, user, text in pushes[:4]:  # and some twice
        assert push(up, update_id, user, text) == 200

    def all_stored() -> bool:
        count = rows(
            up,
            "select count(*) from tickets_message where body like 'crash test message from %' "
            "or body like 'second message from %'",
        )[0][0]
        return count == 2 * len(users)

    eventually(all_stored, timeout=120)
    per_ticket = rows(
        up,
        "select t.id, count(m.id) from tickets_ticket t join tickets_message m on m.ticket_id = t.id "
        "where m.body like 'crash test message from %' or m.body like 'second message from %' group by t.id",
    )
    assert len(per_ticket) == len(users) and {n for _t, n in per_ticket} == {2}
    # Everyone acknowledged; the one message on the wire when the worker died may come twice.
    eventually(lambda: all(bot.sent_to(user) for user in users), timeout=120)
    assert all(len([t for t in bot.sent_to(user) if "WD-" in t]) in (1, 2) for user in users)
    assert sum(len([t for t in bot.sent_to(user) if "WD-" in t]) for user in users) <= len(users) + 1


def _retrying_push(up: Walletdesk, update_id: int, user: int, text: str) -> bool:
    try:
        return push(up, update_id, user, text) == 200
    except requests.RequestException:
        return False
