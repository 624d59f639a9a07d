"""The embedded default under concurrent load: the real server, two processes, one SQLite file.

Every accepted ticket must be stored exactly once and no request may fail with "database is
locked" — the writers queue on the kernel lock in walletdesk.core.sqlite.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.servers import Walletdesk


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def post(url: str, n: int) -> int:
    body = json.dumps(
        {"email": f"load{n}@example.com", "subject": f"load {n}", "body": f"message {n}"}
    ).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def test_two_processes_store_every_ticket_once(tmp_path: Path) -> None:
    up = Walletdesk(tmp_path, workers=2)
    up.start()
    assert up.proc is not None
    server, port = up.proc, up.port
    try:
        url = f"http://127.0.0.1:{port}/api/v1/tickets"
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda n: post(url, n), range(240)))
        assert statuses == [201] * 240
        # With no SITE_URL set, the tracking link points where `up --port` serves, and works.
        body = json.dumps({"email": "track@example.com", "subject": "track", "body": "where?"}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            tracking_url = json.loads(response.read())["tracking_url"]
        assert tracking_url.startswith(f"http://127.0.0.1:{port}/track/"), tracking_url
        with urllib.request.urlopen(tracking_url, timeout=30) as page:
            assert page.status == 200 and "track" in page.read().decode().lower()
        # The task worker yields the CPU to the web (idle priority), and once the burst is over
        # it has acknowledged every ticket, once.
        # (forked by the web server's parent, a child of `up`)
        (web_server,) = _children(server.pid)
        (worker,) = [pid for pid in _children(web_server) if b"db_worker" in _cmdline(pid)]
        assert os.sched_getscheduler(worker) == os.SCHED_IDLE
        assert os.getpriority(os.PRIO_PROCESS, worker) == 19
        db = sqlite3.connect(tmp_path / "walletdesk.sqlite3")
        count = (
            "SELECT count(*), count(DISTINCT ticket_id) FROM email_channel_outboundemail WHERE state = 'sent'"
        )
        deadline = time.monotonic() + 60
        while db.execute(count).fetchone() != (241, 241):
            assert time.monotonic() < deadline, db.execute(count).fetchone()
            time.sleep(0.5)
        db.close()
    finally:
        up.stop(timeout=30)
    out = up.log()
    assert server.returncode == 0, out
    assert "walletdesk stopped." in out
    assert "database is locked" not in out
    db = sqlite3.connect(tmp_path / "walletdesk.sqlite3")
    tickets = db.execute("SELECT count(*), count(DISTINCT reference) FROM tickets_ticket").fetchone()
    subjects = db.execute("SELECT count(DISTINCT subject) FROM tickets_ticket").fetchone()[0]
    assert tickets == (241, 241) and subjects == 241


def test_site_url_defaults_to_where_up_serves() -> None:
    from walletdesk.cli import site_url_for

    assert site_url_for("127.0.0.1", 9000) == "http://127.0.0.1:9000"
    assert site_url_for("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert site_url_for("::1", 8000) == "http://[::1]:8000"
