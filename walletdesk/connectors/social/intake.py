"""Group commit for webhook pushes: the pushes waiting in one web process share one transaction.

A push is answered only once its rows are committed (a provider that got its answer does not
send again). One commit per push made a burst wait on commits: each web process has one sync
thread, so on PostgreSQL its pushes queued behind one WAL flush each (about 4 ms on the bench
machine), and under a burst of 200 the last ones were answered after a second. So, as ticket
creation does (tickets.intake): the view screens the push on the sync thread
(`inbound.prepare`), hands the rows to this process's writer thread and returns a
`DeferredResponse`; the sync thread goes on to the next push. The writer writes every push
waiting at that moment with `inbound.store` in one transaction (one processing task per
account), then renders each provider's answer. Nothing waits on a timer: a lone push is
written at once; a batch is what piled up during the last commit.

If a batch fails, each push is written again on its own, so an error reaches only the push
that caused it (answered 500, and the provider sends it again).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from django.db import close_old_connections, connection
from django.http import HttpResponse

from walletdesk.connectors.social import inbound
from walletdesk.connectors.social.models import SocialInbound

log = logging.getLogger(__name__)

MAX_BATCH = 64
Answer = Callable[[], HttpResponse]
Item = tuple[list[SocialInbound], Answer, Future[HttpResponse]]


class _Writer:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, rows: list[SocialInbound], answer: Answer) -> Future[HttpResponse]:
        future: Future[HttpResponse] = Future()
        self._queue.put((rows, answer, future))
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="social-intake", daemon=True)
                    self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for (_rows, answer, future), error in zip(batch, _write(batch), strict=True):
                if error is not None:
                    future.set_exception(error)
                    continue
                try:  # after the commit, with database access (the event loop has none)
                    future.set_result(answer())
                except Exception as exc:
                    log.exception("answering a push failed")
                    future.set_exception(exc)


def _write(batch: list[Item]) -> list[BaseException | None]:
    """Store the batch in one transaction, else each push alone: per push, its error or None."""
    try:
        inbound.store([rows for rows, _answer, _future in batch])
        return [None] * len(batch)
    except Exception:
        log.exception("storing %d pushes together failed; storing each alone", len(batch))
        close_old_connections()
    errors: list[BaseException | None] = []
    for rows, _answer, _future in batch:
        for row in rows:  # a rolled-back insert left its id on the instance: get a new one
            row.pk = None
            row._state.adding = True
        try:
            inbound.store([rows])
            errors.append(None)
        except Exception as exc:
            log.exception("storing a push failed")
            close_old_connections()
            errors.append(exc)
    return errors


_writer = _Writer()


def submit(rows: list[SocialInbound], answer: Answer) -> Future[Any] | None:
    """Queue a push's rows for the writer; the future gets `answer()` once they are committed.
    None if the caller must store them itself (inside a transaction, whose connection must see
    and own the rows)."""
    if connection.in_atomic_block:
        return None
    return _writer.submit(rows, answer)
