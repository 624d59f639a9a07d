"""The web server: N uvicorn processes, each with its own SO_REUSEPORT socket.

`uvicorn --workers N` shares one listening socket, and whichever process wakes first accepts
the next connection; with keep-alive clients one process can end up holding nearly all of them
while the other core idles (seen at 8 clients: one worker at 90 % CPU, the other at 2 %). With a
socket per process and SO_REUSEPORT, the kernel spreads incoming connections across the
processes instead.

    python -m walletdesk.core.serve --host 127.0.0.1 --port 8000 --workers 2

The parent loads and warms the application once, then forks the web processes, which share its
memory copy-on-write; after that it only supervises: it forwards SIGINT/SIGTERM to the children and exits when they do.
A child that dies on its own (killed, crashed) is replaced, after a pause that doubles while
children keep dying young (`Backoff`), and the parent says so on stderr; each child dies with
the parent (PR_SET_PDEATHSIG), so a killed parent leaves no orphan holding the port.

With `--task-worker` (what `walletdesk up` runs) the parent also forks the task worker
(`db_worker`, at idle priority) and, when it falls behind, one catch-up worker: they share the
warmed parent's Django and apps instead of loading their own (~95 MiB each; issue #23).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

KEEP_ALIVE_SECONDS = 75  # how long an idle HTTP connection stays open (see _run_worker)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # Accepted sockets inherit this on Linux; without it, small responses on a keep-alive
    # connection wait ~40 ms for Nagle and delayed ACK (uvicorn sets it only on sockets it binds).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def port_problem(host: str, port: int, *, exclusive: bool = True) -> str | None:
    """Why `host:port` cannot be served, in one line naming the flag to change; None if it can.

    `exclusive` binds without SO_REUSEPORT: our own web processes share a port with it, so a
    second `walletdesk up` on the same port would otherwise bind happily and the kernel would
    split the visitors between two different servers (and data directories).
    """
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if not exclusive:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host.strip("[]"), port))
            sock.listen(1)
    except OverflowError:
        return f"{port} is not a port number (1-65535); choose another with --port."
    except socket.gaierror:
        return f"{host!r} is not an address of this machine; choose another with --host."
    except OSError as exc:
        where = f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            return (
                f"port {port} is already in use on {host} (another walletdesk, or another program); "
                f"choose another with --port, e.g. --port {port + 1 if port < 65535 else 8000}."
            )
        if exc.errno == errno.EACCES:
            return (
                f"not allowed to listen on {where} (ports below 1024 need root); choose another with --port."
            )
        if exc.errno == errno.EADDRNOTAVAIL:
            return f"{host} is not an address of this machine; choose another with --host."
        return f"cannot listen on {where}: {exc.strerror or exc}; check --host and --port."
    return None


class Backoff:
    """Pauses before restarting a child: 0.5 s, doubling up to 30 s while children die within
    `stable` seconds of their start, back to 0.5 s once one has lived that long. Shared by
    `walletdesk up` (web server and task worker) and this parent (web processes)."""

    def __init__(self, first: float = 0.5, most: float = 30.0, stable: float = 30.0) -> None:
        self.first, self.most, self.stable = first, most, stable
        self.failures = 0

    def after_death(self, lived: float) -> float:
        self.failures = 0 if lived >= self.stable else self.failures + 1
        return min(self.most, self.first * 2 ** max(0, self.failures - 1)) if self.failures else self.first


def describe_exit(status: int) -> str:
    """`exited with 1` or `was killed by SIGKILL`, from an exit code as Popen reports it."""
    if status < 0:
        try:
            return f"was killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"was killed by signal {-status}"
    return f"exited with {status}"


def die_with_parent(parent: int) -> None:
    """In a child: receive SIGTERM when the parent dies (Linux), instead of living on as an orphan.

    A `walletdesk up` or web-server parent killed with SIGKILL cannot stop its children; an
    orphaned web process would keep serving beside the ones a restarted parent starts (SO_REUSEPORT).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: nothing to ask the kernel
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} walletdesk: {message}", file=sys.stderr, flush=True)


def _load(app: str) -> Any:
    """Import the application and run the warm-up steps (core.warmup); the application."""
    from uvicorn.importer import import_from_string

    from walletdesk.core import warmup

    # Loaded and warmed before the event loop runs (warm-up may read the database, which
    # Django refuses inside a running loop), and before any process listens: the kernel gives
    # connections only to processes that are ready (core.warmup).
    application = import_from_string(app)
    warmup.warm_up()
    return application


def _run_worker(host: str, port: int, application: Any) -> None:
    import uvicorn

    sock = _listen(host, port)
    # log_config=None: uvicorn's own lines go through Django's LOGGING (one format, JSON in
    # production, with the secret screening and request id filters) instead of its handlers.
    config = uvicorn.Config(
        application,
        fd=sock.fileno(),
        log_level="warning",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        # uvicorn closes an idle keep-alive connection after 5 s. A client that sends its next
        # request as that close happens gets a reset, not an answer (bench/load.py: agents
        # polling every 5-15 s saw "connection reset" errors, more often the busier the
        # process, whose close then lands late). Longer than a client's usual pause and than a
        # proxy's idle timeout (nginx's upstream keepalive_timeout and AWS ALB's are 60 s), so
        # the client side closes first; an idle connection costs a few KiB.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    uvicorn.Server(config).run()


def lowest_priority() -> None:
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


BOOST_PAUSE = 30.0  # seconds between two catch-up workers


class Starvation:
    """Whether the idle-priority worker is starved of CPU: runnable but kept waiting.

    The worker itself asks for help when the task it claims waited too long (SIGUSR1, sent to
    this parent), but a worker that gets no CPU at all (other processes keep both cores busy,
    SCHED_IDLE runs only on an idle core) never claims one to notice. The kernel counts how
    long a process waited on a run queue (/proc/<pid>/schedstat, nanoseconds): more than half
    of a `window` means it wanted a core most of that time and did not get it.
    """

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.since = time.monotonic()
        self.pid = 0
        self.waited = 0
        self.reason = ""

    def check(self, pid: int) -> bool:
        now = time.monotonic()
        if now - self.since < self.window:
            return False
        waited = _run_queue_wait(pid)
        starved = pid == self.pid and waited is not None and waited - self.waited > 0.5e9 * (now - self.since)
        if starved:
            self.reason = f"starved of CPU: {((waited or 0) - self.waited) / 1e9:.1f} s waiting in {now - self.since:.0f} s"
        self.since, self.pid, self.waited = now, pid, waited or 0
        return starved


def _run_queue_wait(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1])
    except (OSError, ValueError, IndexError):  # gone, or not Linux
        return None


def retitle(argv: list[str]) -> None:
    """Show `argv` as this forked process's command line (/proc/PID/cmdline, ps, top).

    A task worker forked from the web server's parent would otherwise read as one more
    `walletdesk.core.serve`; as `… django db_worker …` operators (and the tests) tell it from the
    web processes as before. The kernel reads the command line from the memory the original
    arguments occupy (arg_start..arg_end in /proc/self/stat); the new one is written there,
    cut to fit and padded with NULs, as setproctitle(3) does. Python keeps its own copies of
    the arguments (sys.argv, sys.orig_argv), so nothing reads that memory afterwards.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end: stat fields 48, 49
    except (OSError, ValueError, IndexError):  # not Linux
        return
    if not 0 < start < end:
        return
    text = "\0".join(argv).encode()[: end - start - 1]
    ctypes.memmove(start, text.ljust(end - start, b"\0"), end - start)


def worker_argv(*, catch_up: bool) -> list[str]:
    """The command line a forked task worker shows (see `retitle`): the one it would have run."""
    argv = [sys.executable, "-m", "django", "db_worker", "--queue-name", "*", "--verbosity", "0"]
    return [*argv, "--batch"] if catch_up else argv


def _run_task_worker(parent: int, *, catch_up: bool) -> int:
    """In a forked child: run `db_worker` on the warmed application; its exit status.

    The idle worker runs at the lowest priority and tells this parent (SIGUSR1) when its tasks
    wait too long; a catch-up worker runs at normal priority with `--batch` and exits once the
    queue is fresh or empty (core.worker).
    """
    from django.core.management import call_command

    from walletdesk.core.worker import BOOST_PARENT_ENV, CATCH_UP_ENV

    argv = worker_argv(catch_up=catch_up)
    retitle(argv)
    if catch_up:
        os.environ[CATCH_UP_ENV] = "1"
        os.environ.pop(BOOST_PARENT_ENV, None)
    else:
        os.environ[BOOST_PARENT_ENV] = str(parent)
        os.environ.pop(CATCH_UP_ENV, None)
        lowest_priority()
    try:
        call_command(*argv[3:])
    except SystemExit as exc:  # the stock worker's signal handler exits this way
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    """The flags (also read by tests/startup/test_compose.py, which checks compose.yaml's command)."""
    found = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    found.add_argument("--host", default="127.0.0.1")
    found.add_argument("--port", type=int, default=8000)
    found.add_argument("--workers", type=int, default=2)
    found.add_argument("--app", default="walletdesk.asgi:application")
    found.add_argument(
        "--task-worker",
        action="store_true",
        help="also fork the task worker (idle priority) and, when it lags, a catch-up worker",
    )
    return found


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")
    # Bind once in the parent first so a taken port fails here in one line, not in N children
    # with N tracebacks. Shared (SO_REUSEPORT) on purpose: when `up` restarts this server, the
    # old one's web processes may still be finishing on the port; `up` itself made sure
    # nothing else holds it.
    problem = port_problem(args.host, args.port, exclusive=False)
    if problem is not None:
        log(problem)
        return 2

    # Loaded once here, then forked: the web processes (and with --task-worker the task worker)
    # share the parent's pages (Django, the jieba dictionary, the KB index) copy-on-write
    # instead of each loading its own. warm_up() froze the heap (gc.freeze), so the collector
    # does not write to those pages; it also closed the database connections, which a child
    # must never share.
    application = _load(args.app)
    if threading.active_count() > 1:  # a thread would not survive the fork, nor its locks
        log(f"warm-up left {threading.active_count() - 1} thread(s) running before the fork")
    parent = os.getpid()
    stopping = False
    boost = False
    starving = Starvation()
    last_boost = -1e9
    children: dict[int, tuple[str, float]] = {}  # pid -> (role, when it started)
    backoffs = {"web": Backoff(), "worker": Backoff()}
    pending: list[tuple[float, str, int]] = []  # restarts due: (when, role, pid it replaces)

    def start(role: str) -> int:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
                    signal.signal(signum, signal.SIG_DFL)
                die_with_parent(parent)
                if role == "web":
                    _run_worker(args.host, args.port, application)
                else:
                    code = _run_task_worker(parent, catch_up=role == "catch-up")
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = (role, time.monotonic())
        return pid

    def running(role: str) -> list[int]:
        return [pid for pid, (r, _) in children.items() if r == role]

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    def lagging(_signum: int, _frame: object) -> None:
        nonlocal boost
        boost = True
        starving.reason = "its tasks wait longer than WORKER_BOOST_AFTER_SECONDS"

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGUSR1, lagging)
    for _ in range(max(1, args.workers)):
        start("web")
    if args.task_worker:
        start("worker")
    code = 0
    stop_deadline: float | None = None
    # Until every child has ended; a web process (or the worker) waiting for its restart
    # keeps the loop going even when no other child runs.
    while children or (pending and not stopping):
        pid = status = 0
        try:
            if children:
                pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # none left after all
            children.clear()
            continue
        except InterruptedError:
            continue
        if pid:
            code = max(code, _reaped(pid, status, children, stopping, backoffs, pending))
            continue  # reap everything that is ready before sleeping
        if stopping:
            # The worker finishes the task it runs (SIGTERM ends it after that); past this
            # the supervisor would kill us anyway, and the children must not outlive us.
            stop_deadline = stop_deadline or time.monotonic() + 9
            if time.monotonic() > stop_deadline:
                for child in list(children):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
        else:
            now = time.monotonic()
            for due in [p for p in pending if p[0] <= now]:
                pending.remove(due)
                _, role, old = due
                new = start(role)
                if role == "web":
                    log(f"restarted web process {old} as {new}")
                else:
                    log(f"restarted the task worker (pid {old} -> {new})")
            workers = running("worker")
            if workers and starving.check(workers[0]):
                boost = True
            if boost:
                boost = False
                # At most one, and not again within BOOST_PAUSE of the last start: one that
                # found the queue empty exits at once, and a busy machine keeps the idle worker
                # starved even when it has nothing to do.
                if args.task_worker and not running("catch-up") and now - last_boost > BOOST_PAUSE:
                    last_boost = now
                    why = starving.reason or "its tasks wait too long"
                    log(f"the task worker is behind ({why}); starting a catch-up worker")
                    starving.reason = ""
                    start("catch-up")
        time.sleep(0.2)
    return code


def _reaped(
    pid: int,
    status: int,
    children: dict[int, tuple[str, float]],
    stopping: bool,
    backoffs: dict[str, Backoff],
    pending: list[tuple[float, str, int]],
) -> int:
    """A child ended: schedule its replacement (web process, task worker; never a catch-up
    worker, which ends when the queue is fresh). 1 if a web process failed while stopping."""
    found = children.pop(pid, None)
    if found is None:
        return 0
    role, started = found
    exit_code = os.waitstatus_to_exitcode(status)
    if stopping:
        return 1 if role == "web" and exit_code not in (0, -signal.SIGINT, -signal.SIGTERM) else 0
    if role == "catch-up":
        return 0
    # Died on its own: serve on with the others and start a replacement after a pause.
    pause = backoffs[role].after_death(time.monotonic() - started)
    if role == "web":
        log(f"web process {pid} {describe_exit(exit_code)}; starting another in {pause:g}s")
    else:
        # Its tasks are handed back by the next worker (core.leases).
        log(f"the task worker (pid {pid}) {describe_exit(exit_code)}; restarting it in {pause:g}s")
    pending.append((time.monotonic() + pause, role, pid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
