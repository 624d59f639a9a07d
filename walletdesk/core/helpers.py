"""Helper processes: CPU-bound work handed to the machine's other core(s).

The mail poller is one process; parsing a mail and drafting its ticket (the shield, triage,
segmentation for search, SLA due times) is pure CPU that does not need the write transaction.
While the poller stores one batch, a helper forked from it drafts the next (see
`connectors.email.inbound.ingest_stream`). Python threads would share one core (the GIL).

Forked, not spawned: the child starts with this process's settings, code and caches as they
are (tests' overridden settings included), at no start-up cost. A fork is only made where
that is safe, so `pool()` answers None, and the caller does the work itself, when:

- helpers are switched off (HELPER_PROCESSES = 0, the test default);
- a connection is inside a transaction: a helper could not see its uncommitted rows;
- the database is an in-memory SQLite one, which no other process can open.

The child never touches the parent's database connections: closing a PostgreSQL connection
sends a Terminate message down the socket the parent still uses, and an inherited SQLite
handle or writer-lock descriptor shares locks with the parent. It keeps them, unused, and
opens its own. Like every other process, it sees admin edits through the caches' TTL.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

_pool: ProcessPoolExecutor | None = None
_owner: int | None = None  # the pid that forked the pool (a forked child must not use it)
_inherited: list[Any] = []  # the parent's connections, held so they are never closed here


def _in_child() -> None:
    for conn in connections.all(initialized_only=True):
        _inherited.append(conn.connection)
        conn.connection = None
        conn.in_atomic_block = False
        conn.needs_rollback = False
        conn.savepoint_ids = []
        conn.run_on_commit = []
        if hasattr(conn, "_lock_fd"):  # the SQLite writer lock: open our own if ever needed
            setattr(conn, "_lock_fd", None)  # noqa: B010
            setattr(conn, "_lock_held", False)  # noqa: B010


def _forkable() -> bool:
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            return False
        if conn.vendor == "sqlite" and getattr(conn, "is_in_memory_db")():  # noqa: B009
            return False
    return True


def pool() -> ProcessPoolExecutor | None:
    """This process's helpers, forked on first use; None where the caller must work alone."""
    global _pool, _owner
    if settings.HELPER_PROCESSES <= 0 or not _forkable():
        return None
    if _pool is None or _owner != os.getpid():
        _pool = ProcessPoolExecutor(
            max_workers=settings.HELPER_PROCESSES,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_in_child,
        )
        _owner = os.getpid()
    return _pool


def discard(*, wait: bool = False) -> None:
    """Drop the pool: one that broke (a helper died), or at the end of a test. The next
    `pool()` forks a fresh one. `wait` waits for the helpers to exit (and so to close their
    database connections)."""
    global _pool
    old, _pool = _pool, None
    if old is not None:
        try:
            old.shutdown(wait=wait, cancel_futures=True)
        except Exception:  # already broken; nothing more to free
            logger.debug("shutting down a helper pool failed", exc_info=True)
