"""Faults in the scale layout, with real processes: our own PostgreSQL cluster and Redis server
(never the machine's), a real web process, real task workers, a real SMTP server.

1. PostgreSQL stops during traffic and starts again. Clients get 503 with Retry-After (JSON on
   the API, a bilingual page elsewhere), never a 500 or a hang; every ticket that was answered
   201 is in the database with its message and gets exactly one acknowledgement; no ticket
   exists without its message; the site serves again soon after PostgreSQL is back (the time
   is printed, not asserted: the machine is shared).
2. Redis is killed during traffic. Pages and tickets keep working (rate limits fall back to
   the database); a chat socket is told, in a frame, that live chat is unavailable and to try
   again, instead of being dropped without a word; once Redis is back, chat works again.
3. A worker is killed with SIGKILL while it sends an agent's reply (the SMTP server holds the
   mail at RCPT), while a second worker runs beside it: every reply, and every acknowledgement,
   reaches its customer exactly once. tests/core/test_worker_crash.py covers the
   acknowledgement batch with one worker at a time; this is the reply path, over HTTP, with
   a live sibling worker that must not take the task while its owner lives.
4. The only worker is killed with SIGKILL mid-batch, mid-chunk: a backlog of acknowledgements
   queued while no worker ran goes out as one batch; the SMTP server stores the 6th mail of
   the second chunk of 20 and holds its answer. Each customer gets one acknowledgement except
   that one mail, which arrives twice: the five before it in its chunk are in the dead
   worker's sent journal (connectors/email/journal.py), and without it arrived twice too.

One module fixture starts everything once; the tests run in order and each leaves the
services up as it found them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest

from tests.core.test_worker_crash import KillPointServer
from tests.faults.procs import PostgresCluster, RedisServer
from tests.faults.stack import Answer, Stack, call
from tests.servers import SmtpServer, smtp_server, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

AGENT_EMAIL = "faults-agent@example.com"


@dataclass
class Scale:
    pg: PostgresCluster
    redis: RedisServer
    smtp: SmtpServer
    handler: KillPointServer
    stack: Stack
    token: str
    database: str = "walletdesk"

    def sql(self, query: str) -> list[list[str]]:
        out = self.pg.psql(self.database, query)
        return [line.split("|") for line in out.splitlines() if line]


@pytest.fixture(scope="module")
def scale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scale]:
    handler = KillPointServer(delay=0.0)
    with PostgresCluster() as pg, RedisServer() as redis, smtp_server(handler) as smtp:
        url = pg.create_database("walletdesk")
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": redis.url(8),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": smtp.host,
            "EMAIL_PORT": str(smtp.port),
            "HELPER_PROCESSES": "0",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_GUEST_TICKET": "100000/h/ip,100/h/email",
            "RATE_LIMIT_GUEST_CHAT": "100000/h/ip,100/h/email",
            # Short leases, so a killed worker's task is handed back in seconds.
            "WORKER_HEARTBEAT_SECONDS": "1",
            "WORKER_LEASE_SECONDS": "3",
            "WORKER_SWEEP_SECONDS": "1",
            "EMAIL_SENDING_LEASE_SECONDS": "2",
        }
        stack = Stack(tmp_path_factory.mktemp("scale"), env)
        try:
            # One process for the set-up: each Django start costs seconds on a busy machine.
            out = stack.shell(
                "from django.core.management import call_command\n"
                "call_command('migrate', interactive=False, verbosity=0)\n"
                "from django.contrib.auth import get_user_model\n"
                "from walletdesk.accounts.actions import issue_api_token\n"
                f"agent = get_user_model().objects.create_user(email='{AGENT_EMAIL}', password='x-' * 8,"
                " is_staff=True, is_superuser=True)\n"
                "print(issue_api_token(agent, 'faults'))\n"
            )
            token = next(word for word in out.split() if word.startswith("wdk_"))
            stack.start_worker()
            stack.start_web()
            yield Scale(pg, redis, smtp, handler, stack, token)
        finally:
            stack.stop()


# --- traffic -------------------------------------------------------------------------------------


@dataclass
class Traffic:
    """Clients in threads: guests open tickets and read them back, visitors load pages."""

    base: str
    answers: list[tuple[float, str, Answer, float]] = field(default_factory=list)  # (at, kind, answer, s)
    created: dict[str, str] = field(default_factory=dict)  # reference -> customer email
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def record(self, kind: str, fn: Callable[[], Answer]) -> Answer:
        started = time.monotonic()
        answer = fn()
        with self.lock:
            self.answers.append((started, kind, answer, time.monotonic() - started))
        return answer

    def client(self, n: int) -> None:
        tracking: list[str] = []
        i = 0
        while not self.stop.is_set():
            i += 1
            email = f"guest-{n}-{i}-{uuid.uuid4().hex[:6]}@example.com"
            payload = {
                "email": email,
                "subject": f"Withdrawal stuck {n}-{i}",
                "body": "My transfer is pending.",
            }
            answer = self.record("create", partial(call, f"{self.base}/api/v1/tickets", payload, timeout=20))
            if answer.status == 201:
                body = answer.json()
                with self.lock:
                    self.created[body["reference"]] = email
                tracking.append(body["tracking_url"])
            if tracking:
                self.record("track", partial(call, tracking[-1], timeout=20))
            self.record("page", partial(call, f"{self.base}/", timeout=20))
            time.sleep(0.02)

    def __enter__(self) -> Traffic:
        for n in range(3):
            thread = threading.Thread(target=self.client, args=(n,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def since(self, at: float) -> list[tuple[float, str, Answer, float]]:
        with self.lock:
            return [a for a in self.answers if a[0] >= at]

    def wait_for(
        self,
        what: str,
        check: Callable[[list[tuple[float, str, Answer, float]]], bool],
        at: float,
        timeout: float,
    ) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(self.since(at)):
                return time.monotonic() - at
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _statuses(answers: list[tuple[float, str, Answer, float]]) -> Counter[tuple[str, int]]:
    return Counter((kind, a.status) for _, kind, a, _ in answers)


def _wait_until_nothing_left_to_send(scale: Scale) -> None:
    """Until no mail is queued, sending or due a retry: a re-sent chunk goes out only after its
    lease (2 s here), after the rest, so counting before this would miss a duplicate."""
    wait_until(
        "no mail left to send",
        lambda: (
            scale.sql(
                "SELECT count(*) FROM email_channel_outboundemail WHERE state IN ('queued', 'sending', 'retry')"
            )
            == [["0"]]
        ),
        90,
    )


def _acks_per_customer(scale: Scale) -> Counter[str]:
    return Counter(
        m.rcpt_tos[0]
        for m in scale.smtp.messages
        if b"Withdrawal stuck" in m.data and b"Reply-Marker" not in m.data
    )


# --- 1. PostgreSQL restarts -----------------------------------------------------------------------


def test_postgres_restart_answers_503_loses_nothing_and_recovers(scale: Scale) -> None:
    base = scale.stack.base
    with Traffic(base) as traffic:
        traffic.wait_for("tickets before the outage", lambda a: _statuses(a)[("create", 201)] >= 5, 0, 60)
        down_at = time.monotonic()
        scale.pg.stop()
        # Long enough for every client to meet the outage several times.
        traffic.wait_for("503s during the outage", lambda a: _statuses(a)[("create", 503)] >= 3, down_at, 30)
        time.sleep(max(0.0, down_at + 3 - time.monotonic()))  # an outage of 3 s at least
        page = call(f"{base}/new/", timeout=20)
        api = call(
            f"{base}/api/v1/tickets", {"email": "x@example.com", "subject": "s", "body": "b"}, timeout=20
        )
        health = call(f"{base}/healthz", timeout=20)
        ready = call(f"{base}/readyz", timeout=20)
        up_at = time.monotonic()
        scale.pg.start()
        recovery = traffic.wait_for(
            "a ticket created after PostgreSQL came back",
            lambda a: _statuses([x for x in a if x[0] > up_at])[("create", 201)] >= 3,
            up_at,
            30,
        )
        first_ok = min(
            at + took for at, kind, a, took in traffic.since(up_at) if kind == "create" and a.status == 201
        )
        print(
            f"\nPostgreSQL down {up_at - down_at:.1f} s; first ticket accepted {first_ok - up_at:.2f} s after it "
            f"was back (3 accepted after {recovery:.2f} s)"
        )
    during = [a for a in traffic.answers if down_at <= a[0] < up_at]
    statuses = _statuses(traffic.answers)
    print(f"answers: {dict(statuses)}")
    # Nobody got a 500 or a dropped connection or a hang, during the outage or around it.
    assert {status for (_, status) in statuses} <= {200, 201, 503}, statuses
    # Every refusal said "try again" the same clear way.
    for _, kind, answer, took in traffic.answers:
        if answer.status == 503:
            assert answer.headers.get("retry-after"), kind
            assert took < 15, f"a 503 took {took:.1f} s"
            if kind == "create":
                assert answer.json()["code"] == "unavailable"
    assert any(a.status == 503 for _, _, a, _ in during)
    assert page.status == 503 and "text/html" in page.headers["content-type"] and page.headers["retry-after"]
    assert "暂时" in page.text and "unavailable" in page.text.lower()
    assert api.status == 503 and api.json()["code"] == "unavailable"
    assert health.status == 200  # liveness stays up: a load balancer must not restart the web
    assert ready.status == 503
    # No corruption: every ticket answered 201 is stored with its message, and no ticket
    # anywhere lacks one (nothing half-written by a transaction cut in the middle).
    references = set(traffic.created)
    rows = scale.sql(
        "SELECT t.reference, count(m.id) FROM tickets_ticket t "
        "LEFT JOIN tickets_message m ON m.ticket_id = t.id GROUP BY t.reference"
    )
    stored = {ref: int(n) for ref, n in rows}
    assert references <= set(stored), references - set(stored)
    assert all(n >= 1 for n in stored.values()), {r: n for r, n in stored.items() if n < 1}
    # The whole job: each accepted ticket's acknowledgement went out (the worker too lived
    # through the restart). Acknowledgements are marked sent one chunk per UPDATE
    # (EMAIL_SEND_CHUNK); the chunk on the wire when the database went away could not be
    # marked, but each mail of it the server accepted is in the worker's sent journal
    # ("Crash safety" in docs/architecture.md), so none is sent again. The one mail that may
    # arrive twice is one whose sender never read the server's answer (not here: the worker
    # lived), and none is lost.
    emails = set(traffic.created.values())
    wait_until("every acknowledgement", lambda: emails <= set(_acks_per_customer(scale)), 90)
    _wait_until_nothing_left_to_send(scale)
    acks = _acks_per_customer(scale)
    assert {e: acks[e] for e in emails if acks[e] not in (1, 2)} == {}
    assert sum(1 for e in emails if acks[e] == 2) <= 1


# --- 2. Redis goes away ----------------------------------------------------------------------------


async def _open_chat(base: str, email: str) -> tuple[int, dict[str, Any], list[dict[str, Any]], int | None]:
    """Start a chat as a guest and open its socket; (POST status, its body, frames, close code)."""
    from websockets.asyncio.client import connect

    answer = await asyncio.to_thread(
        call,
        f"{base}/api/v1/chat/conversations",
        {"language": "zh-hans", "subject": "转账没到账", "email": email},
        headers={"Accept-Language": "zh-hans"},
    )
    if answer.status != 201:
        return answer.status, {}, [], None
    body = answer.json()
    frames: list[dict[str, Any]] = []
    ws_base = base.replace("http://", "ws://")
    async with connect(ws_base + body["ws_url"], open_timeout=20) as ws:
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                frames.append(frame)
                if frame.get("type") == "hello":
                    break
        except Exception:
            pass
        return answer.status, body, frames, ws.close_code


def test_redis_down_site_serves_chat_says_so_and_recovers(scale: Scale) -> None:
    base = scale.stack.base
    status, _, frames, _ = asyncio.run(_open_chat(base, "before@example.com"))
    assert status == 201 and frames and frames[0]["type"] == "hello"
    with Traffic(base) as traffic:
        traffic.wait_for("tickets before the outage", lambda a: _statuses(a)[("create", 201)] >= 3, 0, 60)
        down_at = time.monotonic()
        scale.redis.kill()
        traffic.wait_for(
            "tickets and pages while Redis is down",
            lambda a: _statuses(a)[("create", 201)] >= 5 and _statuses(a)[("page", 200)] >= 5,
            down_at,
            60,
        )
        # Chat: the conversation is stored (an agent answers it, by mail if need be), and the
        # socket says, in the customer's language, that live chat is unavailable for now.
        status, body, frames, code = asyncio.run(_open_chat(base, "during@example.com"))
        assert status == 201, status
        errors = [f for f in frames if f.get("type") == "error"]
        assert errors and errors[0]["code"] == "live_unavailable", frames
        assert "在线聊天暂时不可用" in errors[0]["message"]
        assert code == 1013  # try again later: the widget reconnects
        chat_page = call(f"{base}/chat/", timeout=20)
        assert chat_page.status == 200
        up_at = time.monotonic()
        scale.redis.start()
        during = traffic.since(down_at)
    print(f"\nRedis down {up_at - down_at:.1f} s: {dict(_statuses(during))}")
    assert {status for (_, status) in _statuses(during)} <= {200, 201}, _statuses(during)
    # Back: the same chat's socket now opens normally.
    from websockets.asyncio.client import connect

    async def reopen() -> dict[str, Any]:
        async with connect(base.replace("http://", "ws://") + body["ws_url"], open_timeout=20) as ws:
            return dict(json.loads(await asyncio.wait_for(ws.recv(), 10)))

    hello = wait_until(
        "the chat socket after Redis came back", lambda: _try(lambda: asyncio.run(reopen())), 30
    )
    assert hello["type"] == "hello", hello


def _try(fn: Callable[[], Any]) -> Any:
    try:
        value = fn()
    except Exception:
        return None
    return value if value and value.get("type") == "hello" else None


# --- 3. a worker killed mid-task ------------------------------------------------------------------


def test_worker_killed_mid_reply_every_reply_sent_once(scale: Scale) -> None:
    base, stack, handler = scale.stack.base, scale.stack, scale.handler
    auth = {"Authorization": f"Bearer {scale.token}"}
    customers = [f"reply-{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(12)]
    references = []
    for email in customers:
        answer = call(
            f"{base}/api/v1/tickets", {"email": email, "subject": "Withdrawal stuck", "body": "Where is it?"}
        )
        assert answer.status == 201, answer.text
        references.append(answer.json()["reference"])
    wait_until("acknowledgements", lambda: set(customers) <= set(_acks_per_customer(scale)), 60)
    # A second worker beside the first: it must not take the first one's task while it lives.
    sibling = stack.start_worker()
    first = stack.task_workers[0]
    handler.arm("rcpt")
    for reference in references:
        answer = call(
            f"{base}/api/v1/tickets/{reference}/messages",
            {"body": "Your transfer was confirmed on chain. Reply-Marker."},
            headers=auth,
        )
        assert answer.status == 201, answer.text
    assert handler.held.wait(60), "no reply mail reached the SMTP server"
    held = handler.held_rcpt
    # The worker running the reply task (its heartbeat row names its pid) is killed; the other
    # one lives on and must finish the job, once.
    rows = scale.sql(
        "SELECT h.pid FROM core_workerheartbeat h JOIN django_tasks_database_dbtaskresult t "
        "ON t.worker_ids::text LIKE '%' || h.worker_id || '%' WHERE t.status = 'RUNNING'"
    )
    pids = {int(row[0]) for row in rows}
    holder = next(w for w in (first, sibling) if w.pid in pids)
    stack.kill_worker(holder)
    handler.release.set()
    survivor = sibling if holder is first else first
    assert survivor.poll() is None

    def replies() -> Counter[str]:
        return Counter(m.rcpt_tos[0] for m in scale.smtp.messages if b"Reply-Marker" in m.data)

    wait_until("every reply", lambda: set(customers) <= set(replies()), 90)
    time.sleep(2)  # a duplicate would come from a sweep handing the task back: give it a beat
    got = replies()
    assert {c: got[c] for c in customers if got[c] != 1} == {}, (held, got)
    acks = _acks_per_customer(scale)
    assert {c: acks[c] for c in customers if acks[c] != 1} == {}
    running = scale.sql("SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'")
    assert running == [["0"]]


# --- 4. the only worker killed mid acknowledgement batch -----------------------------------------


def test_worker_killed_mid_batch_sends_at_most_one_mail_twice(scale: Scale) -> None:
    base, stack, handler = scale.stack.base, scale.stack, scale.handler
    for worker in stack.task_workers:
        if worker.poll() is None:
            stack.kill_worker(worker)
    customers = [f"batch-{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(40)]
    for email in customers:  # queued: no worker runs
        answer = call(
            f"{base}/api/v1/tickets", {"email": email, "subject": "Deposit missing", "body": "Where?"}
        )
        assert answer.status == 201, answer.text
    before = len(scale.smtp.messages)
    handler.arm("data", before + 26)  # the 26th mail of the batch: the 6th of its second chunk
    doomed = stack.start_worker()
    assert handler.held.wait(180), "the batch did not reach its 26th mail"
    stack.kill_worker(doomed)
    handler.release.set()
    stack.start_worker()

    def acks() -> Counter[str]:
        return Counter(m.rcpt_tos[0] for m in scale.smtp.messages if m.rcpt_tos[0] in customers)

    wait_until("every acknowledgement of the batch", lambda: set(customers) <= set(acks()), 120)
    # Nothing left to send: the chunk on the wire was re-sent after its lease (2 s), or not.
    _wait_until_nothing_left_to_send(scale)
    got = acks()
    assert {c: n for c, n in got.items() if n != 1} == {handler.held_rcpt: 2}
