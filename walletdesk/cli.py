"""The `walletdesk` command.

    walletdesk up [--demo] [--host H] [--port P] [--workers N]

applies migrations, optionally loads demo data, then runs the ASGI server and a task worker
side by side until Ctrl-C, and stops both cleanly. Everything else is `walletdesk manage …`,
which is Django's manage.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
        from walletdesk.tickets.demo import load_demo

        logins = load_demo()

    env = _children_env()
    server = subprocess.Popen(
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
        env=env,
    )
    # The worker runs at the lowest CPU priority: in a burst, requests are answered first and the
    # acknowledgement mails (durable task rows) follow when it eases, instead of both slowing
    # down together. At nice 10 it still took a tenth of the machine from the web under load.
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", "db_worker", "--queue-name", "*", "--verbosity", "0"],
        env=env,
        preexec_fn=_lowest_priority,
    )
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
    code = 0
    try:
        while not stopping:
            for name, proc in (("server", server), ("worker", worker)):
                if proc.poll() is not None:
                    print(f"walletdesk: the {name} exited with {proc.returncode}; stopping.", file=sys.stderr)
                    stopping, code = True, 1
            time.sleep(0.3)
    finally:
        for proc in (server, worker):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in (server, worker):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        pidfile.unlink(missing_ok=True)
        print("walletdesk stopped.", flush=True)
    return code


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
