"""The `walletdesk` command.

    walletdesk up [--demo] [--host H] [--port P] [--workers N]

applies migrations, optionally loads demo data, then runs the ASGI server and a task worker
side by side until Ctrl-C, and stops both cleanly. A child that crashes or is killed is
restarted (after a pause that grows while it keeps crashing) and the restart is logged on
stderr; the other child serves on meanwhile. Everything else is `walletdesk manage …`,
which is Django's manage.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from walletdesk.core.serve import Backoff, describe_exit, die_with_parent, log

SETTINGS = "walletdesk.settings"


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


def _children_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    return env


def site_url_for(host: str, port: int) -> str:
    """Where `up` serves, for links in mail and API answers when SITE_URL is not set."""
    # Bound to every interface: loopback is the one address we know works.
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (a comparison, not a bind)
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def up(args: argparse.Namespace) -> int:
    # Tracking links in acknowledgements and API answers must point where we serve (set
    # SITE_URL for the public address in production); children inherit it.
    os.environ.setdefault("SITE_URL", site_url_for(args.host, args.port))
    _django()
    from django.conf import settings
    from django.core.management import call_command

    print(f"walletdesk: data in {settings.DATA_DIR}", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    logins: list[tuple[str, str, str]] = []
    if args.demo:
        from walletdesk.demo import load_demo

        logins = load_demo()

    env = _children_env()
    server = Child(
        "web server",
        [
            sys.executable,
            "-m",
            "walletdesk.core.serve",
            "--host",
            args.host,
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
        ],
        env,
    )
    # The worker runs at the lowest CPU priority: in a burst, requests are answered first and the
    # acknowledgement mails (durable task rows) follow when it eases, instead of both slowing
    # down together. At nice 10 it still took a tenth of the machine from the web under load.
    worker = Child(
        "task worker",
        [sys.executable, "-m", "django", "db_worker", "--queue-name", "*", "--verbosity", "0"],
        env,
        _lowest_priority,
    )
    children = (server, worker)
    for child in children:
        child.start()
    pidfile = Path(settings.DATA_DIR) / "walletdesk.pid"
    pidfile.write_text(str(server.pid))

    base = f"http://{args.host}:{args.port}"
    print(f"walletdesk is up (server pid {server.pid}, worker pid {worker.pid}); Ctrl-C stops it.")
    print(f"  Help centre:  {base}/")
    print(f"  Agent desk:   {base}/agent/")
    print(f"  Admin:        {base}/admin/")
    print(f"  API docs:     {base}/api/v1/docs")
    print(f"  Health:       {base}/healthz")
    for role, email, password in logins:
        print(f"  demo {role:<9} {email} / {password}")
    sys.stdout.flush()

    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for child in children:
                # A crashed child is restarted (after a growing pause if it keeps crashing);
                # the other one goes on serving meanwhile. Tasks of a killed worker are handed
                # back by the next worker (core.leases).
                if child.supervise() and child is server:
                    pidfile.write_text(str(server.pid))
            time.sleep(0.3)
    finally:
        for child in children:
            child.terminate()
        deadline = time.monotonic() + 10
        for child in children:
            child.wait_or_kill(deadline)
        pidfile.unlink(missing_ok=True)
        print("walletdesk stopped.", flush=True)
    return 0


class Child:
    """One supervised child process of `walletdesk up`."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], preexec: Callable[[], None] | None = None
    ) -> None:
        self.name, self.argv, self.env, self.preexec = name, argv, env, preexec
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.restart_at: float | None = None
        self.backoff = Backoff()

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def start(self) -> None:
        parent = os.getpid()
        self.proc = subprocess.Popen(self.argv, env=self.env, preexec_fn=lambda: self._in_child(parent))
        self.started = time.monotonic()
        self.restart_at = None

    def _in_child(self, parent: int) -> None:
        # A `walletdesk up` killed with SIGKILL cannot stop its children: they get SIGTERM.
        die_with_parent(parent)
        if self.preexec is not None:
            self.preexec()

    def supervise(self) -> bool:
        """Notice a death and schedule the restart; restart when due. True if it restarted."""
        now = time.monotonic()
        if self.restart_at is None and self.proc is not None and self.proc.poll() is not None:
            pause = self.backoff.after_death(now - self.started)
            log(
                f"the {self.name} (pid {self.proc.pid}) {describe_exit(self.proc.returncode)}; restarting it in {pause:g}s"
            )
            self.restart_at = now + pause
        if self.restart_at is not None and now >= self.restart_at:
            old = self.pid
            self.start()
            log(f"restarted the {self.name} (pid {old} -> {self.pid})")
            return True
        return False

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def manage(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["walletdesk manage", *argv])
    return 0


def _lowest_priority() -> None:
    """The task worker's CPU priority: nice 19 and, on Linux, SCHED_IDLE.

    At nice 19 a worker with a backlog still woke between requests and held a core a web
    process was waiting for; SCHED_IDLE yields to any normal process as soon as it is runnable.
    Measured at PostgreSQL c=32, three interleaved rounds: 470 tickets/s at nice 19, 512 with
    SCHED_IDLE (medians). The worker still runs whenever a core is free, so the
    acknowledgements go out as soon as the burst eases (tests/e2e/test_server_concurrency.py).
    """
    os.nice(19)
    if hasattr(os, "SCHED_IDLE"):  # Linux; no privilege needed to lower one's own class
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["manage"]:
        return manage(argv[1:])
    parser = argparse.ArgumentParser(prog="walletdesk", description="Customer support for crypto wallets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="migrate, then run the web server and a task worker")
    p_up.add_argument("--demo", action="store_true", help="load demo users, tickets and channels")
    p_up.add_argument("--host", default="127.0.0.1")
    p_up.add_argument("--port", type=int, default=8000)
    p_up.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "2")),
        help="web server processes (default 2, or WEB_CONCURRENCY)",
    )
    sub.add_parser("manage", help="Django's manage.py commands, e.g. walletdesk manage createsuperuser")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
