"""A measuring hook for bench/chat_load.py and bench/load.py --probe: loaded by a web process
at start-up (this directory goes first on its PYTHONPATH), it changes nothing the server does.

When walletdesk.core.asgi is imported, its `_SyncPool` (the process's threads for the ORM) is
wrapped to record, per function, how long a call waited in the queue and how long it
ran, and with CHAT_PROBE_PROFILE=1 each call runs under cProfile (which, on Python 3.12, also
records what the event loop thread runs meanwhile). Every few seconds the figures are written to
$CHAT_PROBE_DIR/probe-<pid>.json and .prof (the web processes end with os._exit: no atexit).
"""

from __future__ import annotations

import cProfile
import importlib.abc
import importlib.machinery
import json
import os
import sys
import threading
import time
from collections import defaultdict
from typing import Any

OUT = os.environ.get("CHAT_PROBE_DIR", "")
PROFILE = os.environ.get("CHAT_PROBE_PROFILE") == "1"
TARGET = "walletdesk.core.asgi"
stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])  # calls, waited, ran, max wait
profile = cProfile.Profile()
lock = threading.Lock()  # the figures
profiling = threading.Lock()  # the profile: one call at a time on the sync thread, or a dump


def _patch(module: Any) -> None:
    cls = module._SyncPool
    run = cls.run

    async def timed_run(self: Any, fn: Any, *args: Any) -> Any:
        _ensure_dumping()
        queued = time.perf_counter()
        name = getattr(fn, "__qualname__", repr(fn))
        started: list[float] = []

        def measured(*a: Any) -> Any:
            started.append(time.perf_counter())
            try:
                if not PROFILE:
                    return fn(*a)
                with profiling:
                    profile.enable()
                    try:
                        return fn(*a)
                    finally:
                        profile.disable()
            finally:
                ended = time.perf_counter()
                with lock:
                    row = stats[f"{getattr(fn, '__module__', '')}.{name}"]
                    row[0] += 1
                    row[1] += started[0] - queued
                    row[2] += ended - started[0]
                    row[3] = max(row[3], started[0] - queued)

        return await run(self, measured, *args)

    cls.run = timed_run


_dumping_in: int | None = None  # the process whose dumping thread runs


def _ensure_dumping() -> None:
    """Start the dumping thread in this process: core.serve forks the web processes from a
    parent that imported this, and a thread does not survive a fork."""
    global _dumping_in
    if _dumping_in != os.getpid():
        _dumping_in = os.getpid()
        threading.Thread(target=_dump_forever, daemon=True).start()


def _dump_forever() -> None:
    while True:
        time.sleep(3)
        with lock:
            rows = {k: v[:] for k, v in stats.items()}
        path = os.path.join(OUT, f"probe-{os.getpid()}")
        with open(path + ".json.tmp", "w") as f:
            json.dump(rows, f)
        os.replace(path + ".json.tmp", path + ".json")
        if PROFILE:
            with profiling:
                profile.dump_stats(path + ".prof")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            _patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if OUT:
    sys.meta_path.insert(0, _Finder())
