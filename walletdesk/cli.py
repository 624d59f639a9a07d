"""The `walletdesk` command.

    walletdesk up [--demo] [--host H] [--port P] [--workers N]
    walletdesk check-config [--web N] [--workers M] [--machines K]

applies migrations, optionally loads demo data, then runs the ASGI server, whose warmed parent
forks the web processes and a task worker (core.serve), until Ctrl-C, and stops them cleanly.
A process that crashes or is killed is restarted (after a pause that grows while it keeps
crashing) and the restart is logged on stderr; the others serve on meanwhile. Everything else
is `walletdesk manage …`, which is Django's manage.py (`walletdesk manage help` lists our commands first).

A mistake the operator can fix (a taken port, a missing SECRET_KEY, a bad environment value)
is one line on stderr naming what to change, and exit status 1 or 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from walletdesk.core.serve import Backoff, describe_exit, die_with_parent, log, port_problem

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


class Refusal(Exception):
    """A start-up problem the operator fixes: printed as one line, no traceback."""


def prepare(demo: bool) -> dict[str, Any]:
    """Migrate (and load the demo): what `up` does once before its children start.

    Run in a child process of `up` (`python -m walletdesk.cli prepare`), so the supervisor that
    then runs for days never imports Django: it held ~100 MiB of settings, models and migration
    state for nothing. What the banner needs comes back as one JSON line.
    """
    _django()
    from django.conf import settings
    from django.core.management import call_command

    from walletdesk.core import outbox

    call_command("migrate", interactive=False, verbosity=0)
    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    logins = []
    if demo:
        from walletdesk.demo import load_demo

        logins = [login.__dict__ for login in load_demo()]
    return {
        "data_dir": str(settings.DATA_DIR),
        "metrics_dir": str(settings.METRICS_DIR),
        "outbox": str(outbox.directory()) if outbox.enabled() else "",
        "logins": logins,
    }


def _prepared(demo: bool) -> dict[str, Any]:
    env = _children_env()
    proc = subprocess.run(
        [sys.executable, "-m", "walletdesk.cli", "prepare", *(["--demo"] if demo else [])],
        env=env,
        stdout=subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:  # it said why on stderr, in one line for an operator's mistake
        raise SystemExit(proc.returncode)
    lines = proc.stdout.decode().splitlines()
    for line in lines[:-1]:
        print(line)
    return dict(json.loads(lines[-1]))


def up(args: argparse.Namespace) -> int:
    # Before migrations and children: a taken port is the commonest start-up failure, and it
    # should cost one line, not a migrate and a traceback from each web process.
    problem = port_problem(args.host, args.port)
    if problem is not None:
        raise Refusal(problem)
    # Tracking links in acknowledgements and API answers must point where we serve (set
    # SITE_URL for the public address in production); children inherit it.
    os.environ.setdefault("SITE_URL", site_url_for(args.host, args.port))
    ready = _prepared(args.demo)
    data_dir = Path(ready["data_dir"])
    print(f"walletdesk: data in {data_dir}", flush=True)

    # The processes about to start count from zero (walletdesk.core.metrics): files left by
    # the last run's processes would otherwise be added to theirs.
    # The folder is named by the prepared child: this supervisor does not import Django.
    shutil.rmtree(ready["metrics_dir"], ignore_errors=True)
    Path(ready["metrics_dir"]).mkdir(mode=0o700, parents=True, exist_ok=True)

    env = _children_env()
    # One child: the web server's parent loads and warms the application once, then forks the
    # web processes and the task worker from it (`--task-worker`), which share its memory
    # instead of each loading Django (issue #23). The worker runs at the lowest CPU priority:
    # in a burst, requests are answered first and the acknowledgement mails (durable task
    # rows) follow when it eases. When its tasks wait too long the server's parent starts a
    # catch-up worker at normal priority, which exits once the queue is fresh again
    # (core.serve, core.worker): the backlog stays bounded.
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
            "--task-worker",
        ],
        env,
    )
    server.start()
    pidfile = data_dir / "walletdesk.pid"
    pidfile.write_text(str(server.pid))

    base = f"http://{args.host}:{args.port}"
    print(f"walletdesk is up (server pid {server.pid}: web processes and task worker); Ctrl-C stops it.")
    print(f"  Help centre:  {base}/")
    print(f"  Agent desk:   {base}/agent/")
    print(f"  Admin:        {base}/admin/")
    print(f"  API docs:     {base}/api/v1/docs")
    print(f"  Health:       {base}/healthz")
    if ready["outbox"]:
        # Demo and development: no mail leaves the machine; it is kept for agents to read.
        print(f"  Mail outbox:  {base}/agent/outbox/  (agents; files in {ready['outbox']})")
    logins = ready["logins"]
    if logins:
        print("  Demo logins (fresh passwords on every --demo run):")
        width = max(len(login["email"]) + len(login["password"]) for login in logins) + 3
        for login in logins:
            who = f"{login['email']} / {login['password']}"
            print(f"    {login['role']:<9} {who:<{width}} {login['sees']}")
    sys.stdout.flush()

    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            # A crashed server is restarted (after a growing pause if it keeps crashing); its
            # parent restarts a web process or task worker that dies on its own. Tasks of a
            # killed worker are handed back by the next worker (core.leases).
            if server.supervise():
                pidfile.write_text(str(server.pid))
            time.sleep(0.3)
    finally:
        server.terminate()
        server.wait_or_kill(time.monotonic() + 10)
        pidfile.unlink(missing_ok=True)
        print("walletdesk stopped.", flush=True)
    return 0


def check_config(args: argparse.Namespace) -> int:
    from walletdesk.core import checkconfig

    web = args.web if args.web is not None else _workers_default()
    if min(web, args.workers, args.machines) < 1:
        raise Refusal("--web, --workers and --machines must be at least 1.")
    return checkconfig.run(checkconfig.Layout(web=web, workers=args.workers, machines=args.machines))


class Child:
    """One supervised child process of `walletdesk up`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.restart_at: float | None = None
        self.backoff = Backoff()

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def start(self) -> None:
        parent = os.getpid()
        # A `walletdesk up` killed with SIGKILL cannot stop its children: they get SIGTERM.
        self.proc = subprocess.Popen(self.argv, env=self.env, preexec_fn=lambda: die_with_parent(parent))
        self.started = time.monotonic()
        self.restart_at = None

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

    if argv in ([], ["help"], ["--help"], ["-h"]):
        # Our own commands lead, with what they do (walletdesk.clihelp); `help <command>`
        # and everything else is Django's.
        _django()
        from walletdesk import clihelp

        sys.stdout.write(clihelp.render())
        return 0
    execute_from_command_line(["walletdesk manage", *argv])
    return 0


def version() -> str:
    try:
        return metadata.version("walletdesk")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _workers_default() -> int:
    raw = os.environ.get("WEB_CONCURRENCY", "2")
    try:
        return max(1, int(raw))
    except ValueError:
        raise Refusal(f"WEB_CONCURRENCY must be a whole number; got {raw!r}.") from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="walletdesk",
        description="Customer support for crypto wallets: help centre, agent desk, API and task worker.",
        epilog="Configuration comes from the environment (see README.md, 'Configuration').",
    )
    root.add_argument("--version", action="version", version=f"walletdesk {version()}")
    sub = root.add_subparsers(dest="command", metavar="{up,check-config,manage}")
    p_up = sub.add_parser(
        "up",
        help="migrate, then run the web server and a task worker until Ctrl-C",
        description="Apply migrations, then run the web server and a task worker side by side until "
        "Ctrl-C; a crashed process is restarted and logged. Data lives in WALLETDESK_DATA_DIR "
        "(default ./var).",
    )
    p_up.add_argument(
        "--demo",
        action="store_true",
        help="also load demo people (fresh passwords, printed once), official channels and tickets",
    )
    p_up.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default %(default)s); 0.0.0.0 for every interface, then set "
        "ALLOWED_HOSTS and SITE_URL",
    )
    p_up.add_argument("--port", type=int, default=8000, help="TCP port to listen on (default %(default)s)")
    p_up.add_argument(
        "--workers",
        type=int,
        default=_workers_default(),
        help="web server processes (default %(default)s, from WEB_CONCURRENCY if set)",
    )
    p_check = sub.add_parser(
        "check-config",
        help="refuse insecure or inconsistent settings, one line each (exit 1), before starting",
        description="Check the environment's settings as a whole for the deployment described by "
        "the flags: one line per problem and exit status 1, or what was checked and exit 0. "
        "Reads settings only: no database, cache or bucket is contacted.",
    )
    p_check.add_argument(
        "--web",
        type=int,
        default=None,
        help="web processes in total, on every machine (default: WEB_CONCURRENCY, or 2)",
    )
    p_check.add_argument("--workers", type=int, default=1, help="task workers in total (default %(default)s)")
    p_check.add_argument(
        "--machines", type=int, default=1, help="machines sharing this configuration (default %(default)s)"
    )
    sub.add_parser(
        "manage",
        help="Django's manage.py: 'walletdesk manage help' lists walletdesk's commands first",
        add_help=False,
    )
    return root


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["manage"]:
            return manage(argv[1:])
        if argv[:1] == ["prepare"]:  # `up`'s own first step, in a process of its own
            print(json.dumps(prepare("--demo" in argv[1:])), flush=True)
            return 0
        cli = parser()
        args = cli.parse_args(argv)
        if args.command == "up":
            return up(args)
        if args.command == "check-config":
            return check_config(args)
        # No command: say what there is, rather than argparse's "arguments are required".
        cli.print_help()
        return 0
    except Exception as exc:
        # ImproperlyConfigured comes from settings (core.env): its message names the variable.
        # Looked up, not imported: the supervisor never loads Django.
        django_errors = sys.modules.get("django.core.exceptions")
        if not isinstance(exc, Refusal) and not (
            django_errors is not None and isinstance(exc, django_errors.ImproperlyConfigured)
        ):
            raise
        print(f"walletdesk: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
