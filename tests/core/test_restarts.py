"""`walletdesk up` keeps the service running when a child is killed.

Before: a killed task worker or web server stopped the whole service ("the worker exited with
-9; stopping."), and a killed web process made core.serve stop the others. Now each is
restarted after a short pause, the restart is logged, and Ctrl-C still stops everything. The
web processes and the task worker are forked by the web server's parent (core.serve), which
restarts them; `up` restarts the web server.
"""

from __future__ import annotations

import os
import signal
import urllib.request
from pathlib import Path

from tests.servers import Walletdesk, wait_until
from walletdesk.core.serve import Backoff, describe_exit


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_up_restarts_a_killed_child_and_still_stops_cleanly(tmp_path: Path) -> None:
    up_server = Walletdesk(tmp_path, workers=1, env={"HELPER_PROCESSES": "0"}, log_name="up.log")
    up_server.start()
    assert up_server.proc is not None
    up, port = up_server.proc, up_server.port
    log_path = up_server.log_path

    def log() -> str:
        return log_path.read_text(errors="replace")

    def logged(text: str) -> None:
        wait_until(f"{text!r} in the log", lambda: text in log(), 30)

    def child(marker: bytes, parent: int = 0) -> int:
        found = [pid for pid in _children(parent or up.pid) if marker in _cmdline(pid) and _alive(pid)]
        return found[0] if len(found) == 1 else 0

    def web_processes(server: int) -> list[int]:
        return [pid for pid in _children(server) if b"db_worker" not in _cmdline(pid) and _alive(pid)]

    try:
        assert up.poll() is None, log()

        # 1. A web process (a child of core.serve) is killed: core.serve starts another.
        server = wait_until("the web server", lambda: child(b"walletdesk.core.serve"), 10)
        (web,) = wait_until("a web process", lambda: web_processes(server), 10)
        os.kill(web, signal.SIGKILL)
        wait_until(
            "the web process to be replaced", lambda: [p for p in web_processes(server) if p != web], 30
        )
        wait_until("the service to answer again", lambda: _answers(port), 60)
        logged(f"web process {web} was killed by SIGKILL")
        logged(f"restarted web process {web} as ")

        # 2. The task worker (forked by the server's parent) is killed: the parent forks
        # another, at idle priority like the first.
        worker = wait_until("the task worker", lambda: child(b"db_worker", server), 10)
        os.kill(worker, signal.SIGKILL)
        new_worker = wait_until(
            "a new task worker", lambda: (w := child(b"db_worker", server)) != worker and w, 30
        )
        logged(f"the task worker (pid {worker}) was killed by SIGKILL; restarting it in")
        logged(f"restarted the task worker (pid {worker} -> {new_worker})")
        assert os.sched_getscheduler(new_worker) == os.SCHED_IDLE

        # 3. The web server's parent itself is killed: its web process dies with it (no orphan
        # left serving on the port), and `up` starts a new server that answers.
        (web,) = web_processes(server)
        os.kill(server, signal.SIGKILL)
        wait_until("the old web process to die with its parent", lambda: not _alive(web), 30)
        wait_until("the old task worker to die with its parent", lambda: not _alive(new_worker), 30)
        new_server = wait_until(
            "a new web server", lambda: (s := child(b"walletdesk.core.serve")) != server and s, 30
        )
        wait_until("the service to answer again", lambda: _answers(port), 60)
        logged(f"the web server (pid {server}) was killed by SIGKILL; restarting it in")
        logged(f"restarted the web server (pid {server} -> {new_server})")
        assert (tmp_path / "walletdesk.pid").read_text() == str(new_server)
        assert up.poll() is None  # the service never stopped
    finally:
        up_server.stop(timeout=60)
    assert up.returncode == 0, log()
    assert "walletdesk stopped." in log()
    assert not [pid for pid in _children(up.pid) if _alive(pid)]
    assert not up_server.leftovers  # nothing it started outlived it


def test_backoff_grows_while_children_die_young_and_resets_after_a_stable_run() -> None:
    backoff = Backoff(first=0.5, most=30, stable=30)
    assert [backoff.after_death(lived=1) for _ in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff.after_death(lived=120) == 0.5  # it ran fine for two minutes: start over
    assert backoff.after_death(lived=1) == 0.5


def test_exit_descriptions() -> None:
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
    assert describe_exit(1) == "exited with 1"
