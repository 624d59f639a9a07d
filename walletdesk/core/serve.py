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
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import socket
import sys
import threading
import time
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


def parser() -> argparse.ArgumentParser:
    """The flags (also read by tests/startup/test_compose.py, which checks compose.yaml's command)."""
    found = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    found.add_argument("--host", default="127.0.0.1")
    found.add_argument("--port", type=int, default=8000)
    found.add_argument("--workers", type=int, default=2)
    found.add_argument("--app", default="walletdesk.asgi:application")
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

    # Loaded once here, then forked: the web processes share the parent's pages (Django, the
    # jieba dictionary, the KB index, ~180 MiB) copy-on-write instead of each loading its own.
    # warm_up() froze the heap (gc.freeze), so the collector does not write to those pages;
    # it also closed the database connections, which a child must never share.
    application = _load(args.app)
    if threading.active_count() > 1:  # a thread would not survive the fork, nor its locks
        log(f"warm-up left {threading.active_count() - 1} thread(s) running before the fork")
    parent = os.getpid()
    stopping = False
    children: dict[int, float] = {}  # pid -> when it started

    def start() -> int:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            die_with_parent(parent)
            try:
                _run_worker(args.host, args.port, application)
            finally:
                os._exit(0)
        children[pid] = time.monotonic()
        return pid

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    for _ in range(max(1, args.workers)):
        start()
    backoff = Backoff()
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        started = children.pop(pid, None)
        if started is None:
            continue
        exit_code = os.waitstatus_to_exitcode(status)
        if stopping:
            if exit_code not in (0, -signal.SIGINT, -signal.SIGTERM):
                code = 1
            continue
        # A web process died on its own: serve on with the others and start a replacement.
        pause = backoff.after_death(time.monotonic() - started)
        log(f"web process {pid} {describe_exit(exit_code)}; starting another in {pause:g}s")
        deadline = time.monotonic() + pause
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if not stopping:
            log(f"restarted web process {pid} as {start()}")
    return code


if __name__ == "__main__":
    sys.exit(main())
