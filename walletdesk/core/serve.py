"""The web server: N uvicorn processes, each with its own SO_REUSEPORT socket.

`uvicorn --workers N` shares one listening socket, and whichever process wakes first accepts
the next connection; with keep-alive clients one process can end up holding nearly all of them
while the other core idles (seen at 8 clients: one worker at 90 % CPU, the other at 2 %). With a
socket per process and SO_REUSEPORT, the kernel spreads incoming connections across the
processes instead.

    python -m walletdesk.core.serve --host 127.0.0.1 --port 8000 --workers 2

The parent only supervises: it forwards SIGINT/SIGTERM to the children and exits when they do.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import time


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


def _run_worker(host: str, port: int, app: str) -> None:
    import uvicorn
    from uvicorn.importer import import_from_string

    from walletdesk.core import warmup

    # Loaded and warmed here, before the event loop runs (warm-up may read the database, which
    # Django refuses inside a running loop), and before this process listens: the kernel gives
    # connections only to processes that are ready (core.warmup).
    application = import_from_string(app)
    warmup.warm_up()
    sock = _listen(host, port)
    config = uvicorn.Config(
        application, fd=sock.fileno(), log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    uvicorn.Server(config).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--app", default="walletdesk.asgi:application")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")
    # Bind once in the parent first so a taken port fails loudly here, not in N children.
    _listen(args.host, args.port).close()

    children: list[int] = []
    for _ in range(max(1, args.workers)):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                _run_worker(args.host, args.port, args.app)
            finally:
                os._exit(0)
        children.append(pid)

    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    code = 0
    alive = set(children)
    while alive:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        alive.discard(pid)
        if not stopping:
            # A worker died on its own: stop the rest rather than serve at half capacity unseen.
            code = 1
            forward(signal.SIGTERM, None)
        elif os.waitstatus_to_exitcode(status) not in (0, -signal.SIGINT, -signal.SIGTERM):
            code = 1
    time.sleep(0)
    return code


if __name__ == "__main__":
    sys.exit(main())
