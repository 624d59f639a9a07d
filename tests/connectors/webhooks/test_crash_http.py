"""Through the real product (`walletdesk up`: web processes and the task worker): tickets made
over HTTP while the receiver is down are retried until it is back; the worker is killed with
SIGKILL in the middle of a POST, and after `up` restarts it every event still arrives, at least
once, identified by its X-Walletdesk-Delivery and correctly signed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from tests.connectors.standin import Recorded, StandIn
from tests.connectors.webhooks.conftest import SECRET, verified
from tests.servers import Walletdesk, wait_until, walletdesk_up

ENV = {
    "HELPER_PROCESSES": "0",
    "LOG_LEVEL": "WARNING",
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",  # the receiver is on loopback
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WEBHOOK_SENDING_LEASE_SECONDS": "11",
    "WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WORKER_HEARTBEAT_SECONDS": "1",
    "WORKER_LEASE_SECONDS": "3",
    "WORKER_SWEEP_SECONDS": "1",
}


class Receiver:
    """The wallet's system: down (503), up (200), or holding the next request until released."""

    def __init__(self) -> None:
        self.mode = "down"
        self.held = threading.Event()
        self.release = threading.Event()

    def __call__(self, request: Recorded) -> Any:
        if self.mode == "down":
            return (503, "maintenance")
        if self.mode == "hold":
            self.mode = "up"
            self.held.set()
            self.release.wait(60)  # until the test has killed the worker that sent this
        return (200, {"ok": True})


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _worker(server: Walletdesk) -> int:
    """The task worker: forked by the web server's parent, `up`'s child (core.serve)."""
    assert server.proc is not None
    for pid in [p for parent in _children(server.proc.pid) for p in _children(parent)]:
        try:
            if b"db_worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return 0


def _create(server: Walletdesk, n: int) -> str:
    body = json.dumps({"email": f"crash{n}@example.com", "subject": f"crash {n}", "body": f"help {n}"})
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/tickets", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return str(json.loads(response.read())["reference"])


def test_every_event_arrives_after_a_down_receiver_and_a_killed_worker(tmp_path: Path) -> None:
    receiver = Receiver()
    with StandIn({"/hook": receiver}) as stand_in:

        def setup(server: Walletdesk) -> None:
            server.manage("migrate", "--noinput", "-v", "0")
            server.manage(
                "shell",
                "-c",
                "from walletdesk.connectors.webhooks.models import WebhookEndpoint as E\n"
                f"e = E(name='ops', url='{stand_in.base_url}/hook', events=['ticket.created'])\n"
                f"e.set_secret('{SECRET}')\n"
                "e.save()\n",
            )

        with walletdesk_up(tmp_path, env=ENV, before_start=setup) as server:

            def rows() -> list[tuple[str, str, int]]:
                db = sqlite3.connect(server.db, timeout=30)
                try:
                    sql = "SELECT event_id, state, attempts FROM webhooks_webhookdelivery ORDER BY id"
                    return [(str(e).replace("-", ""), s, a) for e, s, a in db.execute(sql).fetchall()]
                finally:
                    db.close()

            # 1. The receiver is down: the ticket is made anyway, its event retried with backoff.
            first = _create(server, 1)
            wait_until("two refused attempts", lambda: len(stand_in.requests) >= 2, 60, 0.1)
            assert rows()[0][1] in ("retry", "sending")
            receiver.mode = "up"
            wait_until(
                "the event delivered once the receiver is back", lambda: rows()[0][1] == "delivered", 60, 0.1
            )
            assert rows()[0][2] >= 3  # two refused, then delivered; the log counts them

            # 2. The worker is killed while its POST is at the receiver (not yet answered).
            receiver.mode = "hold"
            second = _create(server, 2)
            assert receiver.held.wait(60), "the second event never reached the receiver"
            worker = _worker(server)
            assert worker, server.log()[-2000:]
            os.kill(worker, signal.SIGKILL)
            receiver.release.set()
            # Made while no worker runs: its task waits in the queue for the next one.
            third = _create(server, 3)
            wait_until("`up` to restart the worker", lambda: _worker(server) not in (0, worker), 30, 0.1)
            wait_until(
                "every event delivered", lambda: [s for _, s, _ in rows()] == ["delivered"] * 3, 90, 0.1
            )
            assert "restarted the task worker" in server.log()

        received = [verified(r) for r in stand_in.requests_to("/hook")]
        references = {p["data"]["ticket"]["reference"] for p in received}
        assert references == {first, second, third}
        per_event = Counter(p["id"].replace("-", "") for p in received)
        logged = {event: attempts for event, _, attempts in rows()}
        assert set(per_event) == set(logged)  # every event arrived, none unknown
        killed = next(
            p["id"].replace("-", "") for p in received if p["data"]["ticket"]["reference"] == second
        )
        # The POST the dead worker made reached the receiver, so it came twice, same delivery id:
        # the one duplicate the design admits, and a receiver drops it by that id.
        assert per_event[killed] == 2 and logged[killed] == 2
        assert all(n == 1 for event, n in per_event.items() if event != killed and logged[event] == 1)
