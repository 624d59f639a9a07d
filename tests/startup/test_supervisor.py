"""`walletdesk up`'s supervisor, as a real process tree: slim, and it starts a catch-up worker.

One server for the module. The supervisor must not hold Django (it ran migrations itself and
kept ~100 MiB for days): it prepares in a child. The web processes and the task worker are
forked from one warmed parent (core.serve), so they share its memory. When the idle-priority
worker says its tasks wait too long (SIGUSR1 to that parent, core.worker), the parent starts one
catch-up worker at normal priority, which stops by itself once the queue is empty; a second
signal while it runs starts no second one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Walletdesk, wait_until, walletdesk_up


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    with walletdesk_up(tmp_path_factory.mktemp("supervisor"), workers=2) as running:
        yield running


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _status(pid: int, field: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return line.split(":", 1)[1].strip()
    return ""


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _web_parent(server: Walletdesk) -> int:
    assert server.proc is not None
    (web_parent,) = _children(server.proc.pid)  # the supervisor's only child
    assert b"walletdesk.core.serve" in _cmdline(web_parent)
    return web_parent


def test_the_supervisor_does_not_hold_django(server: Walletdesk) -> None:
    assert server.proc is not None
    supervisor = server.proc.pid
    # Django, the apps and the migration state are ~100 MiB; a Python running only the
    # supervisor loop is ~20. The web server's parent is its only child.
    assert int(_status(supervisor, "VmRSS").split()[0]) < 60 * 1024
    assert len(_children(supervisor)) == 1


def _shared_dirty(pid: int) -> int:
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Shared_Dirty:"))


def test_web_processes_and_the_worker_share_their_warmed_parent(server: Walletdesk) -> None:
    forked = _children(_web_parent(server))
    web = [pid for pid in forked if b"db_worker" not in _cmdline(pid)]
    workers = [pid for pid in forked if b"db_worker" in _cmdline(pid) and b"--batch" not in _cmdline(pid)]
    assert len(web) == 2
    assert len(workers) == 1
    for pid in [*web, *workers]:
        # The loaded app, shared with the parent it was forked from (a worker that loaded its
        # own Django held ~95 MiB of it privately).
        assert _shared_dirty(pid) > 50 * 1024


def test_a_client_pausing_between_requests_keeps_its_connection(server: Walletdesk) -> None:
    """A client that pauses longer than uvicorn's default keep-alive (5 s) between two requests
    on one connection gets its second answer on it. With the default the server closed the
    connection at 5 s, and a request sent as that happened was reset: errors in bench/load.py,
    whose agents poll every 5-15 s."""
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()

    def answer(conn: socket.socket) -> bytes:
        conn.sendall(request)
        got = b""
        while b"\r\n\r\nok" not in got:
            chunk = conn.recv(4096)
            if not chunk:
                return got  # closed by the server
            got += chunk
        return got

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        assert answer(conn).startswith(b"HTTP/1.1 200")
        time.sleep(6)  # the pause of a client between two polls
        assert answer(conn).startswith(b"HTTP/1.1 200")


def test_a_lagging_worker_gets_one_catch_up_worker_which_stops_by_itself(server: Walletdesk) -> None:
    assert server.proc is not None
    web_parent = _web_parent(server)

    def workers(catch_up: bool) -> list[int]:
        return [
            pid
            for pid in _children(web_parent)
            if b"db_worker" in (line := _cmdline(pid)) and (b"--batch" in line) == catch_up
        ]

    (worker,) = workers(catch_up=False)
    os.kill(web_parent, signal.SIGUSR1)  # what the worker sends when its tasks wait too long
    # (On a busy machine the parent may have started one already, seeing the idle worker
    # starved of CPU; then this signal falls within the pause and starts none.)
    wait_until("a catch-up worker", lambda: "starting a catch-up worker" in server.log(), 120)
    helpers = workers(catch_up=True)
    os.kill(web_parent, signal.SIGUSR1)  # again: never two at once
    assert len(workers(catch_up=True)) <= 1
    for helper in helpers:  # not at SCHED_IDLE like the worker: that is its point
        with contextlib.suppress(ProcessLookupError):  # it had finished already
            assert os.sched_getscheduler(helper) != os.SCHED_IDLE
    assert os.sched_getscheduler(worker) == os.SCHED_IDLE
    # The queue is empty: it exits on its own, and nobody restarts it.
    wait_until("the catch-up worker to stop", lambda: not workers(catch_up=True), 120)
    assert server.proc.poll() is None
    assert workers(catch_up=False) == [worker]  # the idle worker serves on
    assert "restarted the catch-up worker" not in server.log()
    assert "restarted the task worker" not in server.log()
