"""Over real HTTP, on the real server (two web processes, one SQLite file):

- a write-locked database (another connection holding BEGIN IMMEDIATE) makes /readyz answer 503
  at once, the API a JSON 503 with Retry-After and pages a bilingual 503, while /healthz stays
  up; everything works again once the lock is gone;
- guest limits hold across processes: the two web processes share one count;
- one mailbox spelled many ways, one IPv6 /64 or an IPv4-mapped address counts as one sender.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.servers import walletdesk_up

TOKEN = "probe-token-for-tests"


@dataclass
class Server:
    base: str
    db: Path


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        return dict(json.loads(self.body))


def call(url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Answer:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return Answer(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The web processes alone, as `up` runs them, without the task worker: a write lock held
    # past the busy timeout makes db_worker exit and `up` stop everything (the worker's own
    # crash-safety is issue 16 §5). What is tested here is the web's answer.
    with walletdesk_up(
        tmp_path_factory.mktemp("outage"),
        workers=2,
        task_worker=False,
        env={
            "SQLITE_BUSY_TIMEOUT": "1",  # a locked write fails after 1 s instead of 20
            "READYZ_TOKEN": TOKEN,
            "READYZ_MIN_FREE_MB": "1",
            "READYZ_MAX_QUEUE_LAG_SECONDS": "3600",  # no worker runs here
            "RATE_LIMIT_GUEST_TICKET": "5/h/ip,3/h/email",
            "TRUSTED_PROXIES": "127.0.0.1",  # so each test can speak for its own client address
        },
    ) as up:
        yield Server(up.base_url, up.db)


def guest(server: Server, ip: str, email: str) -> Answer:
    return call(
        f"{server.base}/api/v1/tickets",
        {"email": email, "subject": "cannot sign in", "body": "the app says error 1002"},
        {"X-Forwarded-For": ip},
    )


def test_write_locked_database_answers_503_fast_and_recovers(server: Server) -> None:
    # A page's CSRF token, fetched before the lock (reads keep working under it anyway).
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{server.base}/new/?category=other", timeout=10) as page:
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.read())
    assert csrf is not None

    locker = sqlite3.connect(server.db, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        assert call(f"{server.base}/healthz").status == 200  # liveness: the process is fine

        started = time.monotonic()
        anonymous = call(f"{server.base}/readyz")
        assert time.monotonic() - started < 5
        assert anonymous.status == 503 and anonymous.json() == {"status": "fail"}
        detail = call(f"{server.base}/readyz", headers={"Authorization": f"Bearer {TOKEN}"})
        write = detail.json()["checks"]["database_write"]  # type: ignore[index]
        assert detail.status == 503 and write["ok"] is False and "locked" in write["error"]

        started = time.monotonic()
        api = guest(server, "10.10.0.1", "locked@example.com")
        assert time.monotonic() - started < 10
        assert api.status == 503 and api.headers["content-type"] == "application/json"
        assert api.json()["code"] == "unavailable" and int(api.headers["retry-after"]) > 0

        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": csrf.group(1).decode(),
                "category": "other",
                "email": "page@example.com",
                "subject": "locked page",
                "body": "hello",
            }
        ).encode()
        request = urllib.request.Request(
            f"{server.base}/new/", data=form, headers={"Referer": f"{server.base}/new/"}
        )
        try:
            opener.open(request, timeout=30)
            raise AssertionError("the page was stored under a write lock?")
        except urllib.error.HTTPError as e:
            html = e.read().decode()
            assert e.code == 503 and int(e.headers["Retry-After"]) > 0
            assert e.headers["Content-Type"].startswith("text/html")
            assert "Temporarily unavailable" in html and "请稍后再试" in html
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert guest(server, "10.10.0.2", "after@example.com").status == 201
    deadline = time.monotonic() + 30
    while call(f"{server.base}/readyz").status != 200:
        assert time.monotonic() < deadline, call(
            f"{server.base}/readyz", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        time.sleep(0.5)


def test_guest_limits_are_shared_by_the_web_processes(server: Server) -> None:
    # Every request is a new connection; SO_REUSEPORT spreads them over both processes, and a
    # per-process count would let each process accept its own three.
    per_email = [guest(server, f"10.20.0.{n}", "same@example.com") for n in range(16)]
    assert [a.status for a in per_email].count(201) == 3
    refused = [a for a in per_email if a.status != 201]
    assert {a.status for a in refused} == {429}
    assert all(int(a.headers["retry-after"]) > 0 and a.json()["code"] == "rate_limited" for a in refused)

    per_ip = [guest(server, "10.30.0.1", f"p{n}@example.com") for n in range(12)]
    assert [a.status for a in per_ip].count(201) == 5
    assert guest(server, "10.30.0.2", "p99@example.com").status == 201


def test_guest_limits_count_each_mailbox_and_each_line_once(server: Server) -> None:
    """An attacker varies what is counted: one mailbox spelled many ways (case, "+tag"), and
    the addresses of one IPv6 line (a /64 is one customer's to pick from), or an IPv4 client
    written as an IPv4-mapped IPv6 address. Each is still one sender."""
    spellings = [
        "victim@example.com",
        "VICTIM@example.com",
        "victim+1@example.com",
        "Victim+ack@EXAMPLE.COM",
        "victim+2@example.com",
        "victim+3+x@example.com",
    ]
    per_mailbox = [guest(server, f"10.50.0.{n}", email) for n, email in enumerate(spellings)]
    assert [a.status for a in per_mailbox] == [201, 201, 201, 429, 429, 429]

    line = [guest(server, f"2001:db8:7:9::{n:x}", f"v6-{n}@example.com") for n in range(1, 9)]
    assert [a.status for a in line].count(201) == 5
    assert guest(server, "2001:db8:7:a::1", "v6-next@example.com").status == 201  # another /64

    mapped = [
        guest(server, "10.60.0.1" if n % 2 else "::ffff:10.60.0.1", f"m{n}@example.com") for n in range(8)
    ]
    assert [a.status for a in mapped].count(201) == 5
