"""The production layout of issue #23, as real processes: 2 web processes and 2 task workers on
one PostgreSQL and one Redis, each with a data directory of its own as if on its own machine.

Nothing is shared but what the README says must be: the database, Redis, SECRET_KEY and
DOCUMENT_KEYS. Then a ticket filed on web 1 is on web 2's desk, its acknowledgement goes out
once (from whichever worker claimed it), a guest's rate limit is counted across both web
processes, and a chat message sent on web 1's socket reaches an agent whose socket is on web 2
(and back). The processes are started once for the module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.fernet import Fernet

from tests.conftest import need
from tests.servers import (
    SmtpServer,
    Walletdesk,
    free_port,
    scratch_postgres,
    smtp_env,
    smtp_server,
    start_worker,
    stop_workers,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]
# Generous bounds on waits for real processes on a busy machine; never a speed assertion.
WAIT = 120.0


@dataclass
class Cluster:
    web1: Walletdesk
    web2: Walletdesk
    workers: list[subprocess.Popen[bytes]]
    smtp: SmtpServer
    agent_cookie: str
    database_url: str

    def scalar(self, sql: str) -> Any:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            row = conn.execute(sql).fetchone()
            return row[0] if row else None

    def agent(self) -> requests.Session:
        session = requests.Session()
        session.cookies.set("sessionid", self.agent_cookie)
        return session


def _until(what: str, check: Any, timeout: float = WAIT) -> Any:
    return wait_until(what, check, timeout)


@contextlib.contextmanager
def _redis_server(where: Path) -> Iterator[str]:
    """A Redis of our own: the machine's is shared with other test runs, whose flushes and
    counters must not meet these processes'."""
    need(shutil.which("redis-server") is not None, "redis-server (apt-get install redis-server)")
    port = free_port()
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(where)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        _until("redis to answer", lambda: _ping(client), 30)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def _ping(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


_AGENT = """
from django.test import Client
from walletdesk.accounts.models import User
from walletdesk.tickets.models import Team
user = User.objects.create_user(email="alice@example.com", password="correct horse battery staple 9")
user.is_staff = True
user.display_name = "Alice"
user.save()
Team.objects.get(slug="general").members.add(user)
client = Client()
client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
print("SESSION=" + client.cookies["sessionid"].value)
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("layout")
    need(bool(os.environ.get("REDIS_URL")), "Redis (set REDIS_URL=redis://…)")
    with (
        scratch_postgres("_layout") as database_url,
        _redis_server(base / "redis") as redis_url,
        smtp_server() as smtp,
    ):
        shared = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Generated per data directory when unset: each "machine" would have its own.
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DOCUMENT_KEYS": Fernet.generate_key().decode(),
            **smtp_env(smtp),
            # Three guest tickets per address and hour, counted across every process.
            "RATE_LIMIT_GUEST_TICKET": "300/h/ip,3/h/email",
            "HELPER_PROCESSES": "0",
        }
        web1 = Walletdesk(base / "web1", workers=1, env=shared, task_worker=False)
        web2 = Walletdesk(base / "web2", workers=1, env=shared, task_worker=False, migrate=False)
        workers: list[subprocess.Popen[bytes]] = []
        try:
            web1.start()  # migrates the shared database first
            web2.start()
            cookie = web1.manage("shell", "-c", _AGENT).split("SESSION=")[1].split()[0]
            worker_env = {**web1.env, "SITE_URL": web1.base_url}
            workers = [start_worker(worker_env, base / f"worker{i}", "--verbosity", "0") for i in (1, 2)]
            yield Cluster(web1, web2, workers, smtp, cookie, database_url)
        finally:
            stop_workers(workers)
            web2.stop()
            web1.stop()


def _file(server: Walletdesk, email: str, subject: str) -> requests.Response:
    return requests.post(
        f"{server.base_url}/api/v1/tickets",
        json={"subject": subject, "body": "The withdrawal has been pending since Monday.", "email": email},
        timeout=60,
    )


def _references_mailed(smtp: SmtpServer) -> list[str]:
    import email
    from email.policy import default

    found = []
    for mail in smtp.messages:
        subject = str(email.message_from_bytes(mail.data, policy=default)["Subject"] or "")
        found.extend(
            word.strip("[]()#:,") for word in subject.split() if word.strip("[]()#:,").startswith("WD-")
        )
    return found


def test_a_ticket_filed_on_one_web_process_is_on_the_others_desk_and_acknowledged_once(
    cluster: Cluster,
) -> None:
    references = []
    for i, server in enumerate((cluster.web1, cluster.web2, cluster.web1, cluster.web2)):
        response = _file(server, f"customer{i}@example.com", f"Withdrawal stuck {i}")
        assert response.status_code == 201, response.text
        references.append(response.json()["reference"])
    # The agent's session was made through web 1's database; web 2 knows it (shared key and
    # sessions) and shows the ticket filed on web 1.
    page = cluster.agent().get(f"{cluster.web2.base_url}/agent/tickets/{references[0]}/", timeout=60)
    assert page.status_code == 200 and "Withdrawal stuck 0" in page.text
    inbox = cluster.agent().get(f"{cluster.web2.base_url}/agent/", timeout=60)
    assert inbox.status_code == 200 and all(ref in inbox.text for ref in references)
    # Nobody else sees it on either process.
    for server in (cluster.web1, cluster.web2):
        stranger = requests.get(f"{server.base_url}/agent/tickets/{references[0]}/", timeout=60)
        assert urlsplit(stranger.url).path == "/accounts/login/" and "Withdrawal stuck 0" not in stranger.text
    # Each acknowledgement goes out, through one of the two workers; then the queue is empty,
    # so nothing can still send a second copy, and each went exactly once.
    _until("acknowledgements", lambda: set(references) <= set(_references_mailed(cluster.smtp)))
    from django_tasks_db.models import DBTaskResult

    waiting = (
        f"SELECT count(*) FROM {DBTaskResult._meta.db_table} "
        "WHERE task_path LIKE '%notify_customers' AND status IN ('READY', 'RUNNING')"
    )
    _until("the acknowledgement tasks to finish", lambda: cluster.scalar(waiting) == 0)
    mailed = _references_mailed(cluster.smtp)
    assert all(mailed.count(ref) == 1 for ref in references), mailed
    # Every acknowledgement task ran once, claimed by a single worker, and both workers are
    # registered (heartbeats) on the shared queue: either may take the next one.
    from walletdesk.core.models import WorkerHeartbeat

    table = DBTaskResult._meta.db_table
    assert cluster.scalar(f"SELECT count(*) FROM {table} WHERE task_path LIKE '%notify_customers'") >= 1
    assert (
        cluster.scalar(
            f"SELECT count(*) FROM {table} WHERE task_path LIKE '%notify_customers' "
            "AND (status <> 'SUCCESSFUL' OR jsonb_array_length(worker_ids::jsonb) <> 1)"
        )
        == 0
    )
    pids = {proc.pid for proc in cluster.workers}
    registered = cluster.scalar(f"SELECT array_agg(pid) FROM {WorkerHeartbeat._meta.db_table}") or []
    assert pids <= set(registered), (pids, registered)
    assert all(proc.poll() is None for proc in cluster.workers)  # both workers still serve


def test_a_guests_rate_limit_is_shared_by_both_web_processes(cluster: Cluster) -> None:
    answers = [
        _file(server, "busy@example.com", "Again").status_code
        for server in (cluster.web1, cluster.web2, cluster.web1, cluster.web2, cluster.web1)
    ]
    # Three per address in all, not three per process.
    assert answers == [201, 201, 201, 429, 429]
    # Another address is not held back by this one's count.
    assert _file(cluster.web2, "calm@example.com", "First").status_code == 201


async def _frames_until(sock: Any, want: Any, timeout: float = WAIT) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await sock.recv())
            if want(frame):
                return frame  # type: ignore[no-any-return]


async def _chat(cluster: Cluster) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    web1, web2 = cluster.web1, cluster.web2
    ws2 = web2.base_url.replace("http", "ws", 1)
    # A socket without the agent's cookie, or from another site's page, is refused.
    for headers in ({"Origin": web2.base_url}, {"Origin": "https://evil.example", "Cookie": ""}):
        with contextlib.suppress(InvalidStatus, ConnectionError):
            async with connect(f"{ws2}/ws/chat/agent/", additional_headers=headers) as stranger:
                with pytest.raises(Exception):  # noqa: B017 - closed at once, whatever the close code
                    await _frames_until(stranger, lambda f: f.get("type") == "hello", 30)
    cookie = f"sessionid={cluster.agent_cookie}"
    async with connect(
        f"{ws2}/ws/chat/agent/", additional_headers={"Cookie": cookie, "Origin": web2.base_url}
    ) as agent:
        await _frames_until(agent, lambda f: f.get("type") == "hello")
        await agent.send(json.dumps({"type": "presence", "status": "online"}))
        started = await asyncio.to_thread(
            requests.post,
            f"{web1.base_url}/api/v1/chat/conversations",
            json={"email": "ana@example.com", "name": "Ana", "subject": "Card declined"},
            timeout=60,
        )
        assert started.status_code == 201, started.text
        reference, ws_url = started.json()["reference"], started.json()["ws_url"]
        async with connect(web1.base_url.replace("http", "ws", 1) + ws_url) as customer:
            await _frames_until(customer, lambda f: f.get("type") == "hello")
            await agent.send(json.dumps({"type": "join", "reference": reference}))
            await customer.send(
                json.dumps({"type": "message", "client_id": "c-1", "body": "My card is declined"})
            )
            got = await _frames_until(
                agent,
                lambda f: (
                    f.get("type") == "message"
                    and f.get("reference") == reference
                    and f.get("author") == "customer"
                ),
            )
            assert got["body"] == "My card is declined" and got["author"] == "customer"
            # And back: the agent's answer on web 2 reaches the customer's socket on web 1.
            await agent.send(
                json.dumps(
                    {"type": "message", "reference": reference, "client_id": "a-1", "body": "Checking now"}
                )
            )
            answer = await _frames_until(
                customer, lambda f: f.get("type") == "message" and f.get("author") == "agent"
            )
            assert answer["body"] == "Checking now"


def test_a_chat_message_crosses_from_one_web_process_to_an_agent_on_the_other(cluster: Cluster) -> None:
    asyncio.run(_chat(cluster))
