"""SQLite, with writers queueing on a kernel lock instead of SQLite's busy handler.

SQLite allows one writer. When a second process wants to write, Python's sqlite3 waits in
SQLite's busy handler, which *sleeps* in growing steps (1, 2, 5 … 100 ms) and re-polls: a lock
freed after one millisecond can cost the waiter a hundred. Under concurrent ticket creation
that sleeping, not work, sets the latency. So every write transaction first takes an exclusive
flock() on a file beside the database; the kernel wakes the next writer the moment the
previous one commits. Readers are unaffected (WAL lets them run beside the writer).

Writes outside a transaction (an ORM `save()` of one row in autocommit mode, which the task
worker does after every task) take the same lock around their one statement: otherwise such a
write holds SQLite's lock unseen by the queue, and the next queued writer's BEGIN meets it and
falls back to the sleeping busy handler — a 100 ms-step stall for a request that had already
waited its turn (seen as p99 latencies of a second under load).

Every connection also sets `secure_delete`, so freed pages keep nothing of deleted rows.

Selected by settings for the embedded mode; PostgreSQL needs nothing of the kind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from typing import Any

from django.db.backends.sqlite3 import base

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _is_write(query: str) -> bool:
    return query.lstrip()[:7].upper().startswith(_WRITES)


class QueuedWriterCursor(base.SQLiteCursorWrapper):
    """Takes the writer lock around a write statement run outside a transaction."""

    wrapper: DatabaseWrapper

    def execute(self, query: str, params: Any = None) -> Any:
        if self.connection.in_transaction or not _is_write(query):
            return super().execute(query, params)
        with self.wrapper.writing():
            return super().execute(query, params)

    def executemany(self, query: str, param_list: Any) -> Any:
        if self.connection.in_transaction or not _is_write(query):
            return super().executemany(query, param_list)
        with self.wrapper.writing():
            return super().executemany(query, param_list)


class DatabaseWrapper(base.DatabaseWrapper):
    _lock_fd: int | None = None
    _lock_held: bool = False

    def _writer_lock_fd(self) -> int | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None  # tests' in-memory databases have one connection and no other process
        if self._lock_fd is None:
            self._lock_fd = os.open(name + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        return self._lock_fd

    def _acquire_writer(self) -> None:
        fd = self._writer_lock_fd()
        if fd is not None and not self._lock_held:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_held = True

    def _release_writer(self) -> None:
        if self._lock_held and self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            self._lock_held = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        # Deleted rows are overwritten with zeros, not left in free pages where the raw file (a
        # backup, a copied disk) would still show them: what a retention purge or a redaction
        # removes must be gone. Set here, not in OPTIONS, so no settings can leave it out.
        connection.execute("PRAGMA secure_delete=ON")
        return connection

    def create_cursor(self, name: str | None = None) -> Any:
        cursor = self.connection.cursor(factory=QueuedWriterCursor)
        cursor.wrapper = self
        return cursor

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """The writer lock around one autocommit statement (a no-op if already held)."""
        if self._lock_held:
            yield
            return
        self._acquire_writer()
        try:
            yield
        finally:
            self._release_writer()

    def _start_transaction_under_autocommit(self) -> None:
        self._acquire_writer()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private in django-stubs
        except BaseException:
            self._release_writer()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]  # private in django-stubs
        finally:
            self._release_writer()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]  # private in django-stubs
        finally:
            self._release_writer()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]  # private in django-stubs
        finally:
            self._release_writer()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
